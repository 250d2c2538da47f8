#!/usr/bin/env bash
# PPv2 path benchmark (issue #6 item 9, PPv2 part): privlink's splice proxy (TPROXY in the
# consumer VNet namespace, PPv2 header to the upstream) against HAProxy 2.6 `mode tcp` with
# `send-proxy-v2` on the same topology, plus the plain routed hop (no proxy) as the limit:
#
#   client ns 10.0.1.5 --veth-- VNet ns (10.0.1.1, PE 10.0.1.4) --veth-- upstream ns 100.64.0.2
#
# The upstream server and the load client are build/bench/ppv2_tool (server strips the PPv2
# header; client measures). Medians of RUNS runs of SECONDS each; prints ratios splice/haproxy.
# Usage (root): bench/ppv2_bench.sh [BUILD_DIR] ; env RUNS=3 SECONDS_PER_RUN=3 PIPE_BYTES=<proxy
# pipe/buffer size per direction, default SpliceProxyOptions::pipeCapacity> PPV2_MODE=splice|copy
set -euo pipefail
BUILD=${1:-build}
TOOL=$BUILD/bench/ppv2_tool
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-3}
[ "$(id -u)" = 0 ] || { echo "ppv2_bench: needs root" >&2; exit 1; }
[ -x "$TOOL" ] || { echo "ppv2_bench: build ppv2_tool first (cmake --build $BUILD --target ppv2_tool)" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "ppv2_bench: install haproxy (scripts/install-deps.sh)" >&2; exit 1; }

P=plppb$$-
C=${P}c V=${P}v U=${P}u
TMP=$(mktemp -d /tmp/${P}XXXX)
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
ip -n "$V" addr add 100.64.0.1/30 dev v1
ip -n "$U" addr add 100.64.0.2/30 dev u0
ip -n "$C" route add 100.64.0.0/30 via 10.0.1.1
ip -n "$U" route add 10.0.1.0/24 via 100.64.0.1
ip netns exec "$V" sysctl -qw net.ipv4.ip_forward=1
# Connection-rate runs open tens of thousands of connections: reuse TIME_WAIT ports.
for ns in $C $V; do
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65000"
done

# Upstream: a PPv2 server (8443) and a plain one (8444, for the routed baseline).
"$TOOL" server "$U" 100.64.0.2 8443 header & PIDS+=($!); SRV1=$!
"$TOOL" server "$U" 100.64.0.2 8444 plain & PIDS+=($!); SRV2=$!

# privlink splice proxy behind TPROXY of 10.0.1.4:8443.
"$TOOL" proxy "$V" 10.0.1.4 100.64.0.2 0x11223344 ${PIPE_BYTES:-} > "$TMP/port" & PIDS+=($!)
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port")
ip netns exec "$V" nft -f - <<NFT
table ip plppb {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr 10.0.1.4 tcp dport 8443 meta mark set 1 tproxy to :$PORT
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

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# run IP PORT TEST THREADS: RUNS client runs; prints the median of each output column.
run() {
  local f="$TMP/runs"
  : > "$f"
  for _ in $(seq "$RUNS"); do
    ip netns exec "$V" conntrack -F >/dev/null 2>&1 || true
    $PIN "$TOOL" client "$C" "$1" "$2" "$3" "$SECS" "$4" >> "$f" || echo 0 0 >> "$f"
  done
  local cols; cols=$(head -1 "$f" | wc -w)
  for c in $(seq "$cols"); do awk -v c="$c" '{print $c}' "$f" | median; done | paste -sd' '
}

declare -A R
PIN=""
for path in routed splice haproxy; do
  case $path in
    routed) ip=100.64.0.2 port=8444 ;;
    splice) ip=10.0.1.4 port=8443 ;;
    haproxy) ip=10.0.1.4 port=9443 ;;
  esac
  R[$path,s1]=$(run $ip $port stream 1)
  R[$path,s4]=$(run $ip $port stream 4)
  R[$path,crr]=$(run $ip $port crr 4)
  # Latency pinned (linux-host.md): client on CPU0, servers on CPU1; the proxy is not pinned.
  for p in $SRV1 $SRV2; do taskset -a -p -c 1 "$p" >/dev/null; done
  PIN="taskset -c 0"
  read -r R[$path,p50] R[$path,p99] < <(run $ip $port rr 1)
  PIN=""
  for p in $SRV1 $SRV2; do taskset -a -p -c "0-$(($(nproc) - 1))" "$p" >/dev/null; done
done

printf '%-28s %10s %10s %10s %16s %16s\n' "path (median of $RUNS x ${SECS}s)" "routed" "splice" "haproxy" "splice/haproxy" "splice/routed"
for k in s1:"1-stream Gbit/s" s4:"4-stream Gbit/s" crr:"new conn/s (4 loops)" p50:"64B RTT p50 us" p99:"64B RTT p99 us"; do
  key=${k%%:*}; label=${k#*:}
  printf '%-28s %10s %10s %10s %16s %16s\n' "$label" "${R[routed,$key]}" "${R[splice,$key]}" "${R[haproxy,$key]}" \
    "$(awk -v a="${R[splice,$key]}" -v b="${R[haproxy,$key]}" 'BEGIN{printf "%.2fx", (b>0?a/b:0)}')" \
    "$(awk -v a="${R[splice,$key]}" -v b="${R[routed,$key]}" 'BEGIN{printf "%.2fx", (b>0?a/b:0)}')"
done
echo "(throughput and conn/s: higher is better; RTT: lower is better. Splice proxy: 1 event-loop thread; HAProxy: its default, one thread per CPU.)"
