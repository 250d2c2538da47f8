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

pl_workdir compat 80  # WORK, STATE, LOG; the trap stops the daemon, removes its objects and WORK

# A unique prefix for the agent's namespaces; the trap removes whatever the test left behind.
export PL_NAME_PREFIX=tc$$
pl_start "$PRIVLINKD" "$STATE" 0 "$LOG"
echo "compat: privlinkd pid $PL_PID at $PL_BASE"
cd "$HERE"
NODE_EXTRA_CA_CERTS=$PL_CA PRIVLINK_ADMIN=$STATE/admin.json node "$SCRIPT"
