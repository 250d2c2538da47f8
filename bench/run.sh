#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: runs every benchmark and prints its results (called by `make bench`):
#   api_bench                  the ARM API under load (starts its own privlinkd on loopback)
#   network_bench.sh           data plane I (issue #5): NIC PUT -> first packet, convergence of
#                              100/1,000 VNets, NIC-to-NIC vs a veth pair       (root)
#   privatelink_bench.sh       data plane II (issue #6): NAT path, PPv2 path, HAProxy vs a veth
#                              pair; adding the 10th vs the 10,000th endpoint     (root)
#   ppv2_bench.sh              the splice proxy standalone vs HAProxy            (root)
# Each is also runnable alone (see its header). The data-plane ones need root and create only
# namespaces with their own prefix, removed on exit. Benchmarks are not tests (not in ctest).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "${1:-build}")
status=0
run() {
  local name=$1
  shift
  echo "== $name"
  "$@" || { echo "$name failed"; status=1; }
}
if [ -x "$BUILD/bench/api_bench" ]; then
  run api_bench "$BUILD/bench/api_bench" --privlinkd "$BUILD/bin/privlinkd"
fi
if [ "$(id -u)" = 0 ]; then
  run network_bench bash "$HERE/network_bench.sh" "$BUILD"
  run privatelink_bench bash "$HERE/privatelink_bench.sh" "$BUILD"
  if [ -x "$BUILD/bench/ppv2_tool" ]; then
    run ppv2_bench bash "$HERE/ppv2_bench.sh" "$BUILD"
  fi
else
  echo "== data-plane benchmarks skipped: they need root (network namespaces)"
fi
exit "$status"
