#!/usr/bin/env bash
# PPv2 path benchmark (issue #6 item 9, PPv2 part): privlink's splice proxy (TPROXY in the
# consumer VNet namespace, PPv2 header to the upstream) against HAProxy 2.6 `mode tcp` with
# `send-proxy-v2` on the same topology, plus the plain routed hop (no proxy) as the limit:
#
#   client ns 10.0.1.5 --veth-- VNet ns (10.0.1.1, PE 10.0.1.4) --veth-- upstream ns 100.64.0.2
#
# The upstream server and the load client are build/bench/dp_tool (the server strips the PPv2
# header; method and figures: bench/lib.sh); build/bench/ppv2_tool runs the splice proxy.
# Medians of RUNS runs of SECONDS each, the paths' runs alternating (bench/lib.sh
# measure_alternating); prints ratios splice/haproxy.
# Usage (root): bench/ppv2_bench.sh [BUILD_DIR] ; env RUNS=3 SECONDS_PER_RUN=3 PIPE_BYTES=<proxy
# pipe/buffer size per direction, default SpliceProxyOptions::pipeCapacity> PPV2_MODE=splice|copy|hybrid
# PPV2_THREADS=<event loops, default one per CPU> BASELINE_BUILD=<another build dir: its ppv2_tool
# runs too, behind TPROXY of 10.0.1.6:8443, measured in the same run as column "baseline">
# BASELINE_THREADS=<PPV2_THREADS for the baseline proxy only>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "${1:-$HERE/../build}")
TOOL=$BUILD/bench/dp_tool
PROXY_TOOL=$BUILD/bench/ppv2_tool
[ "$(id -u)" = 0 ] || { echo "ppv2_bench: needs root" >&2; exit 1; }
for f in "$TOOL" "$PROXY_TOOL"; do
  [ -x "$f" ] || { echo "ppv2_bench: build $f first (cmake --build $BUILD --target dp_tool ppv2_tool)" >&2; exit 1; }
done
command -v haproxy >/dev/null || { echo "ppv2_bench: install haproxy (scripts/install-deps.sh)" >&2; exit 1; }

P=plppb$$-
C=${P}c V=${P}v U=${P}u
TMP=$(mktemp -d /tmp/${P}XXXX)
BENCH_TMP=$TMP
source "$HERE/lib.sh"
FLUSH_NS=$V
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for ns in $C $V $U; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for ns in $C $V $U; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add c0 netns "$C" type veth peer name v0 netns "$V"
ip link add v1 netns "$V" type veth peer name u0 netns "$U"
ip -n "$C" link set c0 up; ip -n "$V" link set v0 up; ip -n "$V" link set v1 up; ip -n "$U" link set u0 up
ip -n "$C" addr add 10.0.1.5/24 dev c0
ip -n "$V" addr add 10.0.1.1/24 dev v0
ip -n "$V" addr add 10.0.1.4/32 dev v0
ip -n "$V" addr add 10.0.1.6/32 dev v0
ip -n "$V" addr add 100.64.0.1/30 dev v1
ip -n "$U" addr add 100.64.0.2/30 dev u0
ip -n "$C" route add 100.64.0.0/30 via 10.0.1.1
ip -n "$U" route add 10.0.1.0/24 via 100.64.0.1
ip netns exec "$V" sysctl -qw net.ipv4.ip_forward=1
# Connection-rate runs open tens of thousands of connections: reuse TIME_WAIT ports.
for ns in $C $V; do tune_client_ns "$ns"; done

# Upstream: a PPv2 server (8443) and a plain one (8444, for the routed baseline).
ip netns exec "$U" "$TOOL" server 100.64.0.2 8443 ppv2 & PIDS+=($!); SRV1=$!
ip netns exec "$U" "$TOOL" server 100.64.0.2 8444 plain & PIDS+=($!); SRV2=$!

# privlink splice proxy behind TPROXY of 10.0.1.4:8443.
"$PROXY_TOOL" proxy "$V" 10.0.1.4 100.64.0.2 0x11223344 ${PIPE_BYTES:-} > "$TMP/port" & PIDS+=($!)
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port")
PATHS="routed:100.64.0.2:8444 splice:10.0.1.4:8443"
BASELINE_RULE=""
if [ -n "${BASELINE_BUILD:-}" ]; then
  PPV2_THREADS=${BASELINE_THREADS:-${PPV2_THREADS:-}} "$BASELINE_BUILD/bench/ppv2_tool" proxy "$V" 10.0.1.6 100.64.0.2 0x11223344 ${PIPE_BYTES:-} > "$TMP/port2" & PIDS+=($!)
  for _ in $(seq 50); do [ -s "$TMP/port2" ] && break; sleep 0.1; done
  BASELINE_RULE="ip daddr 10.0.1.6 tcp dport 8443 meta mark set 1 tproxy to :$(cat "$TMP/port2")"
  PATHS="$PATHS baseline:10.0.1.6:8443"
fi
PATHS="$PATHS haproxy:10.0.1.4:9443"
ip netns exec "$V" nft -f - <<NFT
table ip plppb {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr 10.0.1.4 tcp dport 8443 meta mark set 1 tproxy to :$PORT
    $BASELINE_RULE
  }
}
NFT
ip -n "$V" rule add fwmark 1 lookup 100 priority 100
ip -n "$V" route add local 0.0.0.0/0 dev lo table 100

# HAProxy on the endpoint address, port 9443, to the same upstream with send-proxy-v2.
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 10.0.1.4:9443
  default_backend be
backend be
  server up 100.64.0.2:8443 send-proxy-v2
CFG
ip netns exec "$V" haproxy -db -f "$TMP/haproxy.cfg" & PIDS+=($!)
sleep 1

echo "ppv2_bench: $(nproc) CPUs, kernel $(uname -r), RUNS=$RUNS x ${SECS}s, load average $(cut -d" " -f1-3 /proc/loadavg)"
# Latency runs pinned (linux-host.md): client on CPU0, servers on CPU1; the proxies are not pinned.
# shellcheck disable=SC2086
measure_alternating "$C" "$SRV1 $SRV2" $PATHS

printf '%-28s %10s %10s %10s %10s %16s %16s\n' "path (median of $RUNS x ${SECS}s)" "routed" "splice" "baseline" "haproxy" "splice/haproxy" "splice/routed"
for k in s1:"1-stream Gbit/s" s4:"4-stream Gbit/s" crr:"new conn/s (4 loops)" p50:"64B RTT p50 us" p99:"64B RTT p99 us"; do
  key=${k%%:*}; label=${k#*:}
  printf '%-28s %10s %10s %10s %10s %16s %16s\n' "$label" "${R[routed,$key]}" "${R[splice,$key]}" "${R[baseline,$key]:--}" "${R[haproxy,$key]}" \
    "$(ratio "${R[splice,$key]}" "${R[haproxy,$key]}")" "$(ratio "${R[splice,$key]}" "${R[routed,$key]}")"
done
echo "(throughput and conn/s: higher is better; RTT: lower is better. Splice proxy: ${PPV2_THREADS:-one per CPU} event loop(s); HAProxy: its default, one thread per CPU.)"
echo "(load average at the end: $(cut -d" " -f1-3 /proc/loadavg))"
