#!/usr/bin/env bash
# The main scenario, narrated. Called by `make demo` after the build.
set -euo pipefail
echo "demo: not written yet"
