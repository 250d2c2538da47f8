#!/usr/bin/env bash
# run_python_compat.sh PRIVLINKD: runs sdk_compat.py (Debian python3-azure under /usr/bin/python3)
# against its own privlinkd (temporary state directory, free loopback port) and always stops it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
PRIVLINKD=$(realpath "$1")
# shellcheck source=../privlinkd_fixture.sh
source "$REPO/tests/compat/privlinkd_fixture.sh"

if ! /usr/bin/python3 -c 'import azure.mgmt.network, azure.identity' 2>/dev/null; then
  echo "run_python_compat: Debian python3-azure is missing; run scripts/install-deps.sh" >&2
  exit 1
fi

pl_workdir py 40  # WORK, STATE, LOG; the trap stops the daemon, removes its objects and WORK

PORT=$(pl_free_port)
# A unique prefix for the agent's kernel objects; the trap removes what the test left behind.
export PL_NAME_PREFIX=tp$$
pl_start "$PRIVLINKD" "$STATE" "$PORT" "$LOG"
echo "python compat: privlinkd pid $PL_PID at $PL_BASE"
REQUESTS_CA_BUNDLE=$PL_CA PRIVLINK_ADMIN=$STATE/admin.json /usr/bin/python3 "$HERE/sdk_compat.py"
