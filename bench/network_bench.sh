#!/usr/bin/env bash
# Data plane I benchmark (issue #5 item 7), through a real privlinkd (unique --name-prefix,
# --state-dir in a temp dir, driven over its HTTPS API with curl and an admin token):
#   (a) time from the PUT of a NIC to the first packet that NIC answers (a TCP connect from
#       another NIC in the same subnet, retried tightly; an RST from a closed port counts), and to
#       provisioningState Succeeded; median over NICS NICs;
#   (b) the agent's time to converge VNETS (default "100 1000") VNets from empty (store filled
#       with the agent off: --role api,controller; then privlinkd with every role, timed from its
#       start until every VNet reads Succeeded and its namespace exists) and after kill -9 +
#       restart with nothing changed; plus the same in-process (build/bench/agent_bench
#       converge: one agent pass, kernel calls timed by kind);
#   (c) NIC-to-NIC TCP (client NIC eth0 -> veth -> subnet bridge -> veth -> server NIC) next to
#       a plain veth pair between two namespaces, measured in this run; ratios printed.
# Usage (root): bench/network_bench.sh [BUILD_DIR]; env RUNS=3 SECONDS_PER_RUN=3 NICS=5
#   VNETS="100 1000" PARTS="a b c". Everything it creates carries the prefix bn<pid> and is
#   removed on exit, also on failure (trap).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "${1:-$HERE/../build}")
TOOL=$BUILD/bench/dp_tool
AGENT_BENCH=$BUILD/bench/agent_bench
PRIVLINKD=$BUILD/bin/privlinkd
NICS=${NICS:-5}
VNETS=${VNETS:-100 1000}
PARTS=${PARTS:-a b c}
[ "$(id -u)" = 0 ] || { echo "network_bench: needs root" >&2; exit 1; }
for f in "$TOOL" "$AGENT_BENCH" "$PRIVLINKD"; do
  [ -x "$f" ] || { echo "network_bench: build $f first (cmake --build $BUILD --target dp_tool agent_bench privlinkd)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "network_bench: needs jq" >&2; exit 1; }

P=bn$$
BENCH_TMP=$(mktemp -d "/tmp/$P.XXXX")
export BENCH_TMP
source "$HERE/lib.sh"
source "$HERE/../tests/compat/privlinkd_fixture.sh"
PL_NAME_PREFIX=$P
VA=${P}xa VB=${P}xb  # the plain veth pair (not a privlink name: privlinkd --cleanup ignores it)
SERVER_PIDS=()

cleanup() {
  local rc=$?
  set +e
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  pl_stop
  "$PRIVLINKD" --cleanup --name-prefix "$P" >/dev/null 2>&1
  "$PRIVLINKD" --cleanup --name-prefix "${P}c" >/dev/null 2>&1  # agent_bench's, if it was killed
  for ns in $VA $VB; do ip netns del "$ns" 2>/dev/null; done
  if [ "$rc" -ne 0 ] && [ -f "$BENCH_TMP/privlinkd.log" ]; then
    echo "--- privlinkd log (last 30 lines) ---" >&2
    tail -n 30 "$BENCH_TMP/privlinkd.log" >&2
  fi
  rm -rf "$BENCH_TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NET_API=api-version=2024-07-01
RG_API=api-version=2021-04-01
now_ns() { date +%s%N; }
# The kernel frees deleted namespaces asynchronously, and that slows down creating new ones for
# a while: after removing many, wait SETTLE seconds (default 10) before the next timing.
settle() { sleep "${SETTLE:-10}"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", (b-a)/1e6}'; }

# start_daemon STATE ROLES: privlinkd with a unique prefix (the fixture's pl_start); sets PL_*
# and TOKEN.
start_daemon() {
  PL_EXTRA_ARGS=(--role "$2")
  pl_start "$PRIVLINKD" "$1" 0 "$BENCH_TMP/privlinkd.log" || return 1
  TOKEN=$(pl_token)
}

api() {  # api METHOD PATH [BODY]: prints the response body
  local m=$1 path=$2 body=${3:-}
  curl -sS --max-time 60 --cacert "$PL_CA" -X "$m" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' ${body:+--data "$body"} "$PL_BASE$path"
}
rg_path() { echo "/subscriptions/$PL_SUB/resourceGroups/$1?$RG_API"; }
net_path() { echo "/subscriptions/$PL_SUB/resourceGroups/$1/providers/Microsoft.Network/$2?$NET_API"; }
state_of() { api GET "$1" | jq -r '.properties.provisioningState // "missing"'; }
wait_succeeded() {  # wait_succeeded PATH [TIMEOUT_S]
  local i s
  for ((i = 0; i < ${2:-120} * 50; i++)); do
    s=$(state_of "$1")
    [ "$s" = Succeeded ] && return 0
    [ "$s" = Failed ] && { echo "bench: $1 Failed" >&2; api GET "$1" >&2; return 1; }
    sleep 0.02
  done
  echo "bench: $1 not Succeeded in time (last: $s)" >&2
  return 1
}
vnet_body() {
  echo "{\"location\":\"local\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"$1\"]},\"subnets\":[{\"name\":\"default\",\"properties\":{\"addressPrefix\":\"$2\"}}]}}"
}
nic_body() {
  echo "{\"location\":\"local\",\"properties\":{\"ipConfigurations\":[{\"name\":\"ipconfig1\",\"properties\":{\"subnet\":{\"id\":\"$1\"},\"privateIPAddress\":\"$2\",\"privateIPAllocationMethod\":\"Static\"}}]}}"
}
nic_ns() {  # the NIC namespace that appeared since ns.before was listed
  { ls /run/netns | grep "^${P}n-" || true; } | sort >"$BENCH_TMP/ns.after"
  comm -13 "$BENCH_TMP/ns.before" "$BENCH_TMP/ns.after" | head -1
}

echo "network_bench: prefix $P, $(nproc) CPUs, kernel $(uname -r), RUNS=$RUNS x ${SECS}s, load average $(cut -d" " -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------------------------
# (a) + (c): one VNet 10.0.0.0/16, subnet 10.0.1.0/24; NIC "prober" 10.0.1.4; NICS more NICs.
if [[ $PARTS == *a* || $PARTS == *c* ]]; then
  start_daemon "$BENCH_TMP/state-a" api,controller,agent
  RG=$P-a
  api PUT "$(rg_path "$RG")" '{"location":"local"}' >/dev/null
  VNET=$(net_path "$RG" virtualNetworks/vnet)
  api PUT "$VNET" "$(vnet_body 10.0.0.0/16 10.0.1.0/24)" >/dev/null
  wait_succeeded "$VNET"
  SUBNET_ID="/subscriptions/$PL_SUB/resourceGroups/$RG/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"
  { ls /run/netns | grep "^${P}n-" || true; } | sort >"$BENCH_TMP/ns.before"
  api PUT "$(net_path "$RG" networkInterfaces/prober)" "$(nic_body "$SUBNET_ID" 10.0.1.4)" >/dev/null
  wait_succeeded "$(net_path "$RG" networkInterfaces/prober)"
  PROBER=$(nic_ns)
  [ -n "$PROBER" ] || { echo "network_bench: prober namespace not found" >&2; exit 1; }
  # ARP: retry every 10 ms instead of 1 s, so that the figure is the NIC's, not ARP's backoff.
  ip netns exec "$PROBER" sysctl -qw net.ipv4.neigh.eth0.retrans_time_ms=10
  tune_client_ns "$PROBER"
  put_ms=() succ_ms=() pkt_ms=()
  for i in $(seq "$NICS"); do
    addr=10.0.1.$((10 + i))
    nic=$(net_path "$RG" "networkInterfaces/nic$i")
    { ls /run/netns | grep "^${P}n-" || true; } | sort >"$BENCH_TMP/ns.before"
    ip netns exec "$PROBER" "$TOOL" probe "$addr" 9 60 >"$BENCH_TMP/probe.$i" &
    probe=$!
    sleep 0.3
    t0=$(now_ns)
    api PUT "$nic" "$(nic_body "$SUBNET_ID" "$addr")" >/dev/null
    t1=$(now_ns)
    wait_succeeded "$nic"
    t2=$(now_ns)
    wait "$probe" || { echo "network_bench: nic$i never answered" >&2; exit 1; }
    t3=$(cat "$BENCH_TMP/probe.$i")
    put_ms+=("$(ms "$t0" "$t1")") succ_ms+=("$(ms "$t0" "$t2")") pkt_ms+=("$(ms "$t0" "$t3")")
    [ "$i" = 1 ] && NIC1=$(nic_ns)
  done
  A_PUT=$(printf '%s\n' "${put_ms[@]}" | median)
  A_SUCC=$(printf '%s\n' "${succ_ms[@]}" | median)
  A_PKT=$(printf '%s\n' "${pkt_ms[@]}" | median)
  A_ALL="${pkt_ms[*]}"

  if [[ $PARTS == *c* ]]; then
    # NIC to NIC: server in nic1 (10.0.1.11), client in the prober (10.0.1.4).
    ip netns exec "$NIC1" "$TOOL" server 10.0.1.11 5201 & SERVER_PIDS+=($!); SRV_NIC=$!
    wait_listen "$PROBER" 10.0.1.11 5201
    # The plain veth pair: the limit.
    ip netns add "$VA"; ip netns add "$VB"
    ip link add xa netns "$VA" type veth peer name xb netns "$VB"
    ip -n "$VA" addr add 10.9.0.1/24 dev xa; ip -n "$VB" addr add 10.9.0.2/24 dev xb
    for ns in $VA $VB; do ip -n "$ns" link set lo up; done
    ip -n "$VA" link set xa up; ip -n "$VB" link set xb up
    tune_client_ns "$VA"
    ip netns exec "$VB" "$TOOL" server 10.9.0.2 5201 & SERVER_PIDS+=($!); SRV_VETH=$!
    wait_listen "$VA" 10.9.0.2 5201
    VNET_NS=$(ls /run/netns | grep "^${P}v-" | head -1)
    FLUSH_NS="$VA $VB"
    measure_path veth "$VA" 10.9.0.2 5201 "$SRV_VETH" "$VB"
    FLUSH_NS="$PROBER $NIC1 $VNET_NS"
    measure_path nic "$PROBER" 10.0.1.11 5201 "$SRV_NIC" "$NIC1"
    # Diagnosis: what keeping bridged frames out of the VNet's inet hooks buys. The agent turns
    # net.bridge.bridge-nf-call-iptables off in VNet namespaces (a728a23); the namespace default
    # is 1, which sends every NIC-to-NIC frame through conntrack and the VNet's nat/filter chains.
    BRNF_NOW=$(ip netns exec "$VNET_NS" sysctl -n net.bridge.bridge-nf-call-iptables 2>/dev/null || echo '?')
    if [ "${DIAG:-1}" = 1 ]; then
      BRNF_DIAG=$((1 - ${BRNF_NOW//\?/1}))
      ip netns exec "$VNET_NS" sysctl -qw net.bridge.bridge-nf-call-iptables=$BRNF_DIAG
      measure_path nic_diag "$PROBER" 10.0.1.11 5201 "$SRV_NIC" "$NIC1"
      ip netns exec "$VNET_NS" sysctl -qw net.bridge.bridge-nf-call-iptables="$BRNF_NOW"
    fi
    for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    SERVER_PIDS=()
  fi
  pl_stop
  "$PRIVLINKD" --cleanup --name-prefix "$P" >/dev/null 2>&1 || true
  settle
fi

# ---------------------------------------------------------------------------------------------
# (b) convergence through privlinkd, and in-process.
declare -A B
if [[ $PARTS == *b* ]]; then
  for n in $VNETS; do
    state=$BENCH_TMP/state-b$n
    start_daemon "$state" api,controller
    RG=$P-b
    api PUT "$(rg_path "$RG")" '{"location":"local"}' >/dev/null
    body=$(vnet_body 10.0.0.0/16 10.0.1.0/24)
    : >"$BENCH_TMP/curl.cfg"
    for i in $(seq 0 $((n - 1))); do
      printf 'url = "%s%s"\n' "$PL_BASE" "$(net_path "$RG" "virtualNetworks/v$i")" >>"$BENCH_TMP/curl.cfg"
      printf 'output = "/dev/null"\n' >>"$BENCH_TMP/curl.cfg"
    done
    curl -sS --no-progress-meter --parallel --parallel-max 8 --cacert "$PL_CA" -X PUT -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' --data "$body" -w '%{http_code}\n' -K "$BENCH_TMP/curl.cfg" |
      sort | uniq -c | awk '$2 !~ /^2/ {bad=1; print "bench: PUT status " $2 " x" $1 > "/dev/stderr"} END {exit bad}'
    LAST=$(net_path "$RG" "virtualNetworks/v$((n - 1))")
    LIST="/subscriptions/$PL_SUB/resourceGroups/$RG/providers/Microsoft.Network/virtualNetworks?$NET_API"
    pl_stop
    # converged: the last VNet written reads Succeeded (the agent applied every revision up to
    # it), no VNet is Failed, and there are n VNet namespaces.
    converge_wait() {
      local t0=$1 i s
      for ((i = 0; i < 30000; i++)); do
        if ! kill -0 "$PL_PID" 2>/dev/null; then
          echo "crashed 0 $(tail -n 1 "$BENCH_TMP/privlinkd.log" | tr ' ' '_')"
          return
        fi
        s=$(state_of "$LAST" 2>/dev/null || echo down)
        [ "$s" = Succeeded ] && break
        sleep 0.02
      done
      local t1; t1=$(now_ns)
      local nns; nns=$(ls /run/netns | grep -c "^${P}v-" || true)
      local failed; failed=$(api GET "$LIST" | jq '[.value[] | select(.properties.provisioningState != "Succeeded")] | length')
      echo "$(ms "$t0" "$t1") $nns $failed"
    }
    t0=$(now_ns)
    start_daemon "$state" api,controller,agent
    read -r B[$n,empty] B[$n,ns] B[$n,notok] < <(converge_wait "$t0")
    B[$n,fds]=$({ ls "/proc/$PL_PID/fd" 2>/dev/null || true; } | wc -l)
    if [ "${B[$n,empty]}" = crashed ]; then
      # privlinkd died while converging: report its last log line, skip the restart figure.
      B[$n,restart]="n/a (privlinkd crashed: ${B[$n,notok]//_/ })"
      B[$n,empty]="n/a (privlinkd crashed: ${B[$n,notok]//_/ })"
      B[$n,ns]=$(ls /run/netns | grep -c "^${P}v-" || true)
      B[$n,changes]="-"
      B[$n,notok]="-"
      pl_kill9
    else
      pl_kill9
      t0=$(now_ns)
      start_daemon "$state" api,controller,agent
      read -r B[$n,restart] _ B[$n,notok2] < <(converge_wait "$t0")
      if [ "${B[$n,restart]}" = crashed ]; then
        B[$n,restart]="n/a (privlinkd crashed: ${B[$n,notok2]//_/ })"
      else
        B[$n,restart]="${B[$n,restart]} ms"
      fi
      B[$n,empty]="${B[$n,empty]} ms"
      B[$n,changes]=$(grep -c 'kernel changes' "$BENCH_TMP/privlinkd.log" || true)
      pl_stop
    fi
    t0=$(now_ns)
    "$PRIVLINKD" --cleanup --name-prefix "$P" >/dev/null 2>&1 || true
    B[$n,cleanup]=$(ms "$t0" "$(now_ns)")
    settle
    echo "  privlinkd $n VNets: from empty ${B[$n,empty]} (${B[$n,ns]} namespaces, ${B[$n,notok]} not Succeeded), after kill -9 ${B[$n,restart]} (restart passes with kernel changes: ${B[$n,changes]}), cleanup ${B[$n,cleanup]} ms" >&2
    "$AGENT_BENCH" converge "${P}c" "$n" >"$BENCH_TMP/inproc.$n" || echo "bench: agent_bench converge $n reported failures" >&2
    B[$n,inproc]=$(cat "$BENCH_TMP/inproc.$n")
    settle
  done
fi

# ---------------------------------------------------------------------------------------------
echo
echo "== network_bench results (prefix $P; $(nproc) vCPUs; medians)"
if [[ $PARTS == *a* ]]; then
  echo "(a) NIC PUT -> first packet answered by the NIC: median ${A_PKT} ms over $NICS NICs (each: ${A_ALL} ms)"
  echo "    NIC PUT -> response ${A_PUT} ms; PUT -> provisioningState Succeeded ${A_SUCC} ms (polled every ~20 ms)"
fi
if [[ $PARTS == *b* ]]; then
  for n in $VNETS; do
    echo "(b) $n VNets through privlinkd: from empty ${B[$n,empty]} (start -> all Succeeded; ${B[$n,ns]} namespaces; privlinkd then holds ${B[$n,fds]} fds), after kill -9 + restart ${B[$n,restart]} (restart passes with kernel changes: ${B[$n,changes]}), privlinkd --cleanup ${B[$n,cleanup]} ms"
    sed 's/^/    in-process: /' <<<"${B[$n,inproc]}"
  done
fi
if [[ $PARTS == *c* ]]; then
  printf '(c) %-26s %12s %12s %10s | %16s %10s\n' "NIC-to-NIC vs veth pair" "veth pair" "privlink" "ratio" "diag: brnf=${BRNF_DIAG:-}" "ratio"
  for k in s1:"1-stream Gbit/s" s4:"4-stream Gbit/s" iperf:"iperf3 1-stream Gbit/s" crr:"new conn/s (4 loops)" p50:"64B RTT p50 us" p99:"64B RTT p99 us"; do
    key=${k%%:*}; label=${k#*:}
    printf '    %-26s %12s %12s %10s | %16s %10s\n' "$label" "${R[veth,$key]}" "${R[nic,$key]}" "$(ratio "${R[nic,$key]}" "${R[veth,$key]}")" \
      "${R[nic_diag,$key]:--}" "$(ratio "${R[nic_diag,$key]:-0}" "${R[veth,$key]}")"
  done
  echo "    (privlink as realised: net.bridge.bridge-nf-call-iptables=${BRNF_NOW:-} in the VNet namespace; diag: the same NICs with it set to ${BRNF_DIAG:-} by the bench)"
  echo "    (throughput, conn/s: higher is better; RTT: lower is better; RTT pinned client CPU0 / server CPU1)"
fi
