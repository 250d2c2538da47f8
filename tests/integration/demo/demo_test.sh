#!/usr/bin/env bash
# demo_test.sh SOURCE_DIR BUILD_DIR: the `demo` test. Runs scripts/demo.sh (which checks every
# step and exits non-zero on the first unexpected outcome) with a unique kernel name prefix and
# state directory, then checks that the demo left nothing behind: no namespace with its prefix,
# no state directory, no process of it.
set -uo pipefail
SOURCE=$(cd "$1" && pwd)
BUILD=$(cd "$2" && pwd)
PREFIX=dmt$$
STATE=$(mktemp -d /tmp/privlink-demo-test.XXXXXX)
rmdir "$STATE"  # demo.sh creates it and removes it at the end

export DEMO_NAME_PREFIX=$PREFIX DEMO_STATE_DIR=$STATE
# Every step must run: the PaaS database steps and the PROXY v2 check are required.
export DEMO_PAAS=1 DEMO_PPV2=1
started=$SECONDS
bash "$SOURCE/scripts/demo.sh" "$BUILD"
rc=$?
echo "demo.sh exited with $rc after $((SECONDS - started)) s"

leftovers=$(ls /run/netns 2>/dev/null | grep -E "^${PREFIX}([vnp]-[0-9a-f]{8}|bb|inet|paas)\$" || true)
if [ -n "$leftovers" ]; then
  echo "FAIL: namespaces left behind: $leftovers"
  for ns in $leftovers; do ip netns delete "$ns" 2>/dev/null; done
  rc=1
fi
if [ -e "$STATE" ]; then
  echo "FAIL: the demo's state directory $STATE is still there"
  rm -rf "$STATE"
  rc=1
fi
if pgrep -f -- "--state-dir $STATE/daemon" >/dev/null; then
  echo "FAIL: a privlinkd of the demo is still running"
  rc=1
fi
exit $rc
