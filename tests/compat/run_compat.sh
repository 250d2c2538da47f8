#!/usr/bin/env bash
# run_compat.sh PRIVLINKD SCRIPT.mjs: starts a real privlinkd in a temporary state directory on a
# loopback port it picks, runs the node test script against it with the daemon's CA trusted
# (NODE_EXTRA_CA_CERTS) and PRIVLINK_ADMIN pointing at its admin.json, and always stops the daemon.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PRIVLINKD=$(realpath "$1")
SCRIPT=$(realpath "$2")
# shellcheck source=privlinkd_fixture.sh
source "$HERE/privlinkd_fixture.sh"

bash "$HERE/ensure_node_modules.sh"

WORK=$(mktemp -d /tmp/privlink-compat.XXXXXX)
cleanup() {
  local rc=$?
  pl_stop
  pl_cleanup_kernel
  if [ "$rc" -ne 0 ] && [ -f "$WORK/privlinkd.log" ]; then
    echo "--- privlinkd log (last 80 lines) ---"
    tail -n 80 "$WORK/privlinkd.log"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A unique prefix for the agent's namespaces; the trap removes whatever the test left behind.
export PL_NAME_PREFIX=tc$$
pl_start "$PRIVLINKD" "$WORK/state" 0 "$WORK/privlinkd.log"
echo "compat: privlinkd pid $PL_PID at $PL_BASE"
cd "$HERE"
NODE_EXTRA_CA_CERTS=$PL_CA PRIVLINK_ADMIN=$WORK/state/admin.json node "$SCRIPT"
