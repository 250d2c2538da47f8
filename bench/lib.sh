# Shared functions of bench/network_bench.sh and bench/privatelink_bench.sh (sourced, not run).
#
# Method (../shared/reference/linux-host.md): medians of RUNS runs of SECS seconds; throughput and
# connection rate unpinned; 64-byte round trips pinned (client CPU0, server CPU1); conntrack
# flushed in FLUSH_NS before every run. Traffic by build/bench/dp_tool: `stream` (Gbit/s sent,
# 128 KiB writes), `rr` (64-byte ping-pong, p50/p99 µs), `crr` (connect + 64 B each way + close,
# per second, 4 loops); iperf3 single stream as a cross-check where the server is plain TCP.
#
# Globals the caller sets: TOOL (dp_tool), RUNS, SECS, FLUSH_NS (namespaces to flush, may be empty).

RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-3}
FLUSH_NS=${FLUSH_NS:-}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

flush_conntrack() {
  local ns
  for ns in $FLUSH_NS; do ip netns exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
}

# Client namespaces open tens of thousands of connections in crr runs: reuse TIME_WAIT ports.
tune_client_ns() {
  ip netns exec "$1" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65000"
}

# client_runs NS IP PORT TEST THREADS [PIN]: RUNS runs of dp_tool client; prints the median of
# each output column on one line ("0" columns when every run failed).
client_runs() {
  local ns=$1 ip=$2 port=$3 test=$4 threads=$5 pin=${6:-}
  local f; f=$(mktemp "${BENCH_TMP:-/tmp}/runs.XXXX")
  local _
  for _ in $(seq "$RUNS"); do
    flush_conntrack
    # shellcheck disable=SC2086
    if ! ip netns exec "$ns" $pin "$TOOL" client "$ip" "$port" "$test" "$SECS" "$threads" >>"$f" 2>>"${BENCH_TMP:-/tmp}/client.err"; then
      echo "bench: $test to $ip:$port from $ns failed (see client.err)" >&2
    fi
  done
  if [ ! -s "$f" ]; then
    echo "0 0"
  else
    local cols c; cols=$(head -1 "$f" | wc -w)
    for c in $(seq "$cols"); do awk -v c="$c" '{print $c}' "$f" | median; done | paste -sd' '
  fi
  rm -f "$f"
}

# iperf3_runs CLIENT_NS SERVER_NS IP [PARALLEL]: median Gbit/s of RUNS iperf3 runs (-t SECS -O 1)
# to IP:5299 (the server's address, or one that leads to it) against a one-off iperf3 server
# listening on every address of SERVER_NS.
iperf3_runs() {
  local cns=$1 sns=$2 ip=$3 par=${4:-1}
  command -v iperf3 >/dev/null || { echo 0; return; }
  ip netns exec "$sns" iperf3 -s -p 5299 -D --pidfile "${BENCH_TMP:-/tmp}/iperf3.pid" >/dev/null 2>&1
  sleep 0.3
  local _ out=()
  for _ in $(seq "$RUNS"); do
    flush_conntrack
    out+=("$(ip netns exec "$cns" iperf3 -c "$ip" -p 5299 -t "$SECS" -O 1 -P "$par" -J 2>/dev/null |
      jq -r '.end.sum_received.bits_per_second // 0' | awk '{printf "%.2f\n", $1/1e9}')")
  done
  kill "$(cat "${BENCH_TMP:-/tmp}/iperf3.pid")" 2>/dev/null || true
  rm -f "${BENCH_TMP:-/tmp}/iperf3.pid"
  printf '%s\n' "${out[@]}" | median
}

# measure_path NAME CLIENT_NS IP PORT SERVER_PIDS [IPERF_SERVER_NS]: fills R[NAME,s1|s4|crr|p50|p99]
# (and R[NAME,iperf] when IPERF_SERVER_NS is given). SERVER_PIDS: processes to pin to CPU1 for
# the round-trip runs (space separated).
declare -A R
measure_path() {
  local name=$1 ns=$2 ip=$3 port=$4 pids=$5 iperf_ns=${6:-}
  R[$name,s1]=$(client_runs "$ns" "$ip" "$port" stream 1)
  R[$name,s4]=$(client_runs "$ns" "$ip" "$port" stream 4)
  R[$name,crr]=$(client_runs "$ns" "$ip" "$port" crr 4)
  local p
  for p in $pids; do taskset -a -p -c 1 "$p" >/dev/null 2>&1 || true; done
  read -r R[$name,p50] R[$name,p99] < <(client_runs "$ns" "$ip" "$port" rr 1 "taskset -c 0")
  for p in $pids; do taskset -a -p -c "0-$(($(nproc) - 1))" "$p" >/dev/null 2>&1 || true; done
  if [ -n "$iperf_ns" ]; then R[$name,iperf]=$(iperf3_runs "$ns" "$iperf_ns" "$ip" 1); fi
  echo "  measured $name: 1-stream ${R[$name,s1]} Gbit/s, 4-stream ${R[$name,s4]} Gbit/s," \
    "${R[$name,crr]} conn/s, RTT p50/p99 ${R[$name,p50]}/${R[$name,p99]} us${R[$name,iperf]:+, iperf3 ${R[$name,iperf]} Gbit/s}" >&2
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else printf "n/a" }'; }

# verdict RATIO TARGET higher|lower: "ok" or "MISS".
verdict() {
  awk -v r="${1%x}" -v t="$2" -v d="$3" 'BEGIN{ if (r=="n/a") {print "n/a"; exit}
    ok = (d=="higher") ? (r+0 >= t) : (r+0 <= t); print (ok ? "ok" : "MISS") }'
}

# wait_for_pid_listen NS IP PORT: waits (5 s) until something accepts TCP on IP:PORT from NS.
wait_listen() {
  local ns=$1 ip=$2 port=$3 i
  for i in $(seq 50); do
    ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listens on $ip:$port (from $ns)" >&2
  return 1
}

# measure_alternating CLIENT_NS SERVER_PIDS NAME:IP:PORT...: measure_path for several paths whose
# runs alternate (run 1 of every path, then run 2, ...), so that a load change on this shared
# machine hits every path alike; fills R[NAME,s1|s4|crr|p50|p99] with the medians of RUNS runs.
measure_alternating() {
  local ns=$1 pids=$2 spec name ip port key test threads pin run p
  shift 2
  local -A vals=()
  for key in s1 s4 crr rr; do
    case $key in
      s1) test=stream threads=1 ;; s4) test=stream threads=4 ;;
      crr) test=crr threads=4 ;; rr) test=rr threads=1 ;;
    esac
    pin=""
    if [ "$key" = rr ]; then
      pin="taskset -c 0"
      for p in $pids; do taskset -a -p -c 1 "$p" >/dev/null 2>&1 || true; done
    fi
    for run in $(seq "$RUNS"); do
      for spec in "$@"; do
        IFS=: read -r name ip port <<<"$spec"
        vals[$name,$key]+="$(RUNS=1 client_runs "$ns" "$ip" "$port" "$test" "$threads" "$pin")"$'\n'
      done
    done
    if [ "$key" = rr ]; then
      for p in $pids; do taskset -a -p -c "0-$(($(nproc) - 1))" "$p" >/dev/null 2>&1 || true; done
    fi
  done
  for spec in "$@"; do
    IFS=: read -r name ip port <<<"$spec"
    for key in s1 s4 crr; do
      R[$name,$key]=$(printf '%s' "${vals[$name,$key]}" | awk 'NF {print $1}' | median)
    done
    R[$name,p50]=$(printf '%s' "${vals[$name,rr]}" | awk 'NF {print $1}' | median)
    R[$name,p99]=$(printf '%s' "${vals[$name,rr]}" | awk 'NF {print $2}' | median)
    echo "  measured $name: 1-stream ${R[$name,s1]} Gbit/s, 4-stream ${R[$name,s4]} Gbit/s," \
      "${R[$name,crr]} conn/s, RTT p50/p99 ${R[$name,p50]}/${R[$name,p99]} us (runs alternated)" >&2
  done
}
