#!/usr/bin/env bash
# PPv2 upstream leg A/B (issue #6 item 9): the same SpliceProxy build (build/bench/ppv2_tool) with
# its upstream connection to T_pe from the consumer VNet ("tpe": through the consumer's SNAT, the
# backbone and the provider's DNAT/LB/SNAT - the path HAProxy takes) and opened in the provider
# VNet from the NAT IP straight to the backend ("direct": splice_proxy.h DirectUpstream, what
# privlinkd's agent configures), plus HAProxy 2.6 to T_pe, runs alternated (bench/lib.sh), in
# the agent's PPv2 topology (agent_bench topology P ppv2; the agent is frozen, so its own proxy
# is stopped; the two ppv2_tool proxies intercept 10.0.1.98 and 10.0.1.99 with TPROXY).
# Usage (root): bench/ppv2_upstream_ab.sh [BUILD_DIR]; env RUNS=3 SECONDS_PER_RUN=3.
# Prefix bx<pid>; everything is removed on exit (trap).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "${1:-$HERE/../build}")
[ "$(id -u)" = 0 ] || { echo "ppv2_upstream_ab: needs root" >&2; exit 1; }
TOOL=$BUILD/bench/dp_tool
AGENT_BENCH=$BUILD/bench/agent_bench
PPV2_TOOL=$BUILD/bench/ppv2_tool
P=bx$$
BENCH_TMP=$(mktemp -d "/tmp/$P.XXXX"); export BENCH_TMP
source "$HERE/lib.sh"
for f in "$TOOL" "$AGENT_BENCH" "$PPV2_TOOL"; do
  [ -x "$f" ] || { echo "ppv2_upstream_ab: build $f first (cmake --build $BUILD --target dp_tool agent_bench ppv2_tool)" >&2; exit 1; }
done
PIDS=()
TOPO=""
cleanup() {
  local rc=$? p
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "$TOPO" ]; then kill -TERM "$TOPO"; wait "$TOPO"; fi
  [ -x "$BUILD/bin/privlinkd" ] && "$BUILD/bin/privlinkd" --cleanup --name-prefix "${P}t" >/dev/null 2>&1
  cat "$BENCH_TMP"/*.err 2>/dev/null | grep "proxy:"  # ppv2_tool's counters (direct = DirectUpstream)
  rm -rf "$BENCH_TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$AGENT_BENCH" topology "${P}t" ppv2 >"$BENCH_TMP/topo.out" 2>"$BENCH_TMP/topo.log" &
TOPO=$!
for _ in $(seq 900); do grep -qx ready "$BENCH_TMP/topo.out" && break; sleep 0.1; done
grep -qx ready "$BENCH_TMP/topo.out" || { tail -5 "$BENCH_TMP/topo.log" >&2; exit 1; }
eval "$(grep '=' "$BENCH_TMP/topo.out" | sed 's/^/T_/')"
kill -USR1 $TOPO; for _ in $(seq 50); do grep -qx frozen "$BENCH_TMP/topo.out" && break; sleep 0.1; done
FLUSH_NS="$T_client_ns $T_consumer_ns $T_backbone_ns $T_provider_ns $T_backend_ns"
tune_client_ns "$T_client_ns"; tune_client_ns "$T_consumer_ns"; tune_client_ns "$T_provider_ns"
ip netns exec "$T_consumer_ns" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
ip netns exec "$T_backend_ns" "$TOOL" server 10.0.1.4 5201 ppv2 & PIDS+=($!); SRV1=$!
BR=$(ip -n "$T_consumer_ns" -o addr show to 10.0.0.1 | awk '{print $2}')
ip -n "$T_consumer_ns" addr add 10.0.1.98/32 dev "$BR"; ip -n "$T_consumer_ns" addr add 10.0.1.99/32 dev "$BR"
"$PPV2_TOOL" proxy "$T_consumer_ns" 10.0.1.98 "$T_endpoint_transit" 7 >"$BENCH_TMP/a.port" 2>"$BENCH_TMP/a.err" & PIDS+=($!)
PPV2_DIRECT="$T_provider_ns,10.0.1.20,10.0.1.4:5201" "$PPV2_TOOL" proxy "$T_consumer_ns" 10.0.1.99 "$T_endpoint_transit" 7 >"$BENCH_TMP/b.port" 2>"$BENCH_TMP/b.err" & PIDS+=($!)
sleep 1
PA=$(cat $BENCH_TMP/a.port); PB=$(cat $BENCH_TMP/b.port)
ip netns exec "$T_consumer_ns" nft -f - <<NFT
table ip plexp {
  chain pre { type filter hook prerouting priority mangle - 1; policy accept;
    ip daddr 10.0.1.98 meta l4proto tcp meta mark set 0x504c0001 tproxy to :$PA
    ip daddr 10.0.1.99 meta l4proto tcp meta mark set 0x504c0001 tproxy to :$PB
  }
}
NFT
cat >"$BENCH_TMP/h.cfg" <<CFG
global
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 10.0.0.1:9443
  default_backend be
backend be
  server up $T_endpoint_transit:5201 send-proxy-v2
CFG
ip netns exec "$T_consumer_ns" haproxy -db -f "$BENCH_TMP/h.cfg" >"$BENCH_TMP/h.log" 2>&1 & PIDS+=($!)
wait_listen "$T_client_ns" 10.0.0.1 9443
for a in 10.0.1.98 10.0.1.99; do  # one PPv2 round trip each (the backend drops a headerless one)
  ip netns exec "$T_client_ns" "$TOOL" client $a 5201 rr 0.3 >/dev/null ||
    { echo "ppv2_upstream_ab: no PPv2 round trip through $a" >&2; exit 1; }
done
RUNS=${RUNS:-3}
measure_alternating "$T_client_ns" "$SRV1" tpe:10.0.1.98:5201 direct:10.0.1.99:5201 haproxy:10.0.0.1:9443
for k in s1 s4 crr p50 p99; do echo "$k tpe ${R[tpe,$k]} direct ${R[direct,$k]} haproxy ${R[haproxy,$k]} direct/tpe $(ratio ${R[direct,$k]} ${R[tpe,$k]}) direct/haproxy $(ratio ${R[direct,$k]} ${R[haproxy,$k]}) tpe/haproxy $(ratio ${R[tpe,$k]} ${R[haproxy,$k]})"; done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
