#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: runs every benchmark program built into BUILD_DIR/bench and prints its
# results (called by `make bench`). Benchmarks start their own privlinkd on a loopback port.
set -euo pipefail
BUILD=$(realpath "${1:-build}")
status=0
shopt -s nullglob
for prog in "$BUILD"/bench/*; do
  [ -f "$prog" ] && [ -x "$prog" ] || continue
  name=$(basename "$prog")
  echo "== $name"
  case "$name" in
    api_bench) args=(--privlinkd "$BUILD/bin/privlinkd") ;;
    *) args=() ;;
  esac
  "$prog" "${args[@]}" || { echo "$name failed"; status=1; }
done
exit "$status"
