#!/usr/bin/env bash
# Runs every test: unit, scenarios, integration (needs root: network namespaces), compat (real
# Azure clients). Called by `make check` after the build.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
cd "$BUILD"
ctest --output-on-failure -j "$(nproc)" --timeout 600
