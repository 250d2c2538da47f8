#!/usr/bin/env bash
# crash_test.sh PRIVLINKD: durability of acknowledged writes across kill -9.
#
# Starts privlinkd (all roles; the agent under a unique --name-prefix) on a fresh state directory,
# runs 8 concurrent writers over HTTPS with a real bearer token -- 7 PUT resource groups, 1 PUTs
# virtual networks (long-running operations the agent realises in the kernel) -- and records every
# PUT acknowledged with 2xx, kills the daemon with SIGKILL while the writers are still sending,
# restarts it on the same state directory and port, and checks that
#   - every acknowledged resource of every round so far is there (GET 200),
#   - every acknowledged virtual network reaches provisioningState Succeeded after the restart,
#   - the store's change feed (DIR/privlink.db, table changes) has revisions 1..N with no gap,
#   - the restarted daemon accepts writes again (the next round acknowledges PUTs).
# Two rounds. Traffic goes only to 127.0.0.1; every loop is bounded in count and time. Always stops
# the daemon and the writers and removes the agent's kernel objects (trap). Prints
# "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PRIVLINKD=$(realpath "$1")
# shellcheck source=../../testing/cli_harness.sh
source "$HERE/../../testing/cli_harness.sh"  # check_detail, check_summary and the daemon fixture

WRITERS=${CRASH_WRITERS:-8}
VNET_WRITER=$((WRITERS - 1))  # the last writer PUTs virtual networks
ROUNDS=${CRASH_ROUNDS:-2}
MAX_PUTS_PER_WRITER=${CRASH_MAX_PUTS:-500}  # bound per writer and round
ACKS_BEFORE_KILL=${CRASH_ACKS_BEFORE_KILL:-150}
MAX_VNETS_PER_ROUND=${CRASH_MAX_VNETS:-20}
API=api-version=2025-04-01
NET_API=api-version=2024-07-01

pl_workdir crash  # WORK, STATE, LOG; the trap stops the daemon, removes its objects and WORK
WRITER_PIDS=()
pl_on_exit() {  # called by the trap before it stops the daemon: stop the writers
  touch "$WORK/stop" 2>/dev/null || true
  local p
  for p in "${WRITER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${WRITER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

feed_complete() {  # feed_complete COUNT MIN MAX [AT-LEAST]
  [ "$2" -eq 1 ] && [ "$1" -eq "$3" ] && [ "$1" -ge "${4:-0}" ]
}

rg_url() { echo "$PL_BASE/subscriptions/$PL_SUB/resourceGroups/$1?$API"; }
vnet_url() {
  echo "$PL_BASE/subscriptions/$PL_SUB/resourceGroups/crash-vnets/providers/Microsoft.Network/virtualNetworks/$1?$NET_API"
}

# writer ROUND W KIND: PUTs resources crash-rROUND-wW-I (KIND rg: resource groups; vnet: virtual
# networks with one subnet, a long-running operation that the agent realises in the kernel) for
# I = 0.. until told to stop, the bound is reached or the daemon has been unreachable 20 times in a
# row. Appends the URL of each acknowledged PUT to acked.ROUND.W only after its 2xx arrived; logs
# interrupted requests in lost.ROUND.W.
writer() {
  local round=$1 w=$2 kind=$3 i code url body misses=0 max=$MAX_PUTS_PER_WRITER
  local acked=$WORK/acked.$round.$w lost=$WORK/lost.$round.$w
  : >"$acked"; : >"$lost"
  [ "$kind" = vnet ] && max=$MAX_VNETS_PER_ROUND
  for ((i = 0; i < max; i++)); do
    [ -f "$WORK/stop" ] && break
    local name=crash-r$round-w$w-$i
    if [ "$kind" = vnet ]; then
      url=$(vnet_url "$name")
      body="{\"location\":\"local\",\"tags\":{\"seq\":\"$i\"},\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.77.0.0/16\"]},\"subnets\":[{\"name\":\"s\",\"properties\":{\"addressPrefix\":\"10.77.1.0/24\"}}]}}"
    else
      url=$(rg_url "$name")
      body="{\"location\":\"local\",\"tags\":{\"writer\":\"$w\",\"seq\":\"$i\"}}"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$PL_CA" \
      -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      --data "$body" "$url" || true)
    if [[ $code == 2?? ]]; then
      echo "$url" >>"$acked"
      misses=0
      [ "$kind" = vnet ] && sleep 0.1  # spread the virtual networks over the stream
    else
      echo "$url $code" >>"$lost"
      misses=$((misses + 1))
      ((misses >= 20)) && break
      sleep 0.05
    fi
  done
}

# vnets_not_succeeded: prints "state url" for every acknowledged virtual network whose
# provisioningState is not Succeeded.
vnets_not_succeeded() {
  local url state
  while read -r url; do
    state=$(curl -s --max-time 10 --cacert "$PL_CA" -H "Authorization: Bearer $TOKEN" "$url" |
      jq -r '.properties.provisioningState // "missing"' 2>/dev/null || echo unreadable)
    [ "$state" = Succeeded ] || echo "$state $url"
  done < <(cat "$WORK"/acked.*."$VNET_WRITER" 2>/dev/null)
}

acked_count() { cat "$WORK"/acked."$1".* 2>/dev/null | wc -l; }

# Prints "count min max" of the change feed revisions.
change_feed() {
  [ -f "$STATE/privlink.db" ] || { echo "0 -1 -1"; return; }
  sqlite3 -readonly "$STATE/privlink.db" \
    'SELECT COUNT(*), COALESCE(MIN(revision), 0), COALESCE(MAX(revision), 0) FROM changes;' |
    tr '|' ' '
}

# verify_acked: GETs every name acknowledged so far (one curl, reused connections); prints the
# names that did not answer 200.
verify_acked() {
  local cfg=$WORK/get.cfg
  : >"$cfg"
  local name
  while read -r name; do
    printf 'url = "%s"\noutput = "/dev/null"\n' "$name" >>"$cfg"
  done < <(cat "$WORK"/acked.* 2>/dev/null)
  [ -s "$cfg" ] || return 0
  curl -s --max-time 120 --cacert "$PL_CA" -H "Authorization: Bearer $TOKEN" \
    -w '%{http_code} %{url_effective}\n' -K "$cfg" | awk '$1 != "200" { print }' || true
}

export PL_NAME_PREFIX=tk$$  # the agent's kernel objects, removed by the trap
pl_start "$PRIVLINKD" "$STATE" 0 "$LOG"
PORT=$PL_PORT
echo "crash: privlinkd pid $PL_PID at $PL_BASE, $WRITERS writers, $ROUNDS rounds"

TOKEN=$(pl_token)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$PL_CA" -X PUT \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data '{"location":"local"}' "$(rg_url crash-vnets)")
check_detail "setup: resource group for the virtual networks" "HTTP $code" [ "$code" = 201 ]

for ((round = 1; round <= ROUNDS; round++)); do
  TOKEN=$(pl_token)
  rm -f "$WORK/stop"
  WRITER_PIDS=()
  for ((w = 0; w < WRITERS; w++)); do
    kind=rg
    [ "$w" -eq "$VNET_WRITER" ] && kind=vnet
    writer "$round" "$w" "$kind" &
    WRITER_PIDS+=($!)
  done
  # Kill once enough writes were acknowledged (or after 60 s), while the writers still run.
  for ((t = 0; t < 600; t++)); do
    (($(acked_count "$round") >= ACKS_BEFORE_KILL)) && break
    sleep 0.1
  done
  sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
  acked_before_kill=$(acked_count "$round")
  pl_kill9
  touch "$WORK/stop"
  for p in "${WRITER_PIDS[@]}"; do wait "$p" || true; done
  WRITER_PIDS=()
  acked=$(acked_count "$round")
  lost=$(cat "$WORK"/lost."$round".* | wc -l)
  echo "crash: round $round killed privlinkd after $acked_before_kill acknowledged PUTs" \
    "($acked acknowledged in all, $lost interrupted or refused)"
  check_detail "round $round: writes were acknowledged before the kill" "$acked" [ "$acked" -ge 1 ]

  # Restart on the same state directory and port (the port may need a moment to be free again).
  started=1
  for ((try = 0; try < 5; try++)); do
    if pl_start "$PRIVLINKD" "$STATE" "$PORT" "$LOG.$round"; then started=0; break; fi
    sleep 1
  done
  check_detail "round $round: privlinkd restarts on the same state directory" "" \
    [ "$started" -eq 0 ]
  [ "$started" -eq 0 ] || break
  TOKEN=$(pl_token)

  missing=$(verify_acked)
  total=$(cat "$WORK"/acked.* | wc -l)
  vnets=$(cat "$WORK"/acked.*."$VNET_WRITER" | wc -l)
  check_detail \
    "round $round: all $total acknowledged PUTs ($vnets virtual networks) survive kill -9" \
    "$(echo "$missing" | wc -l) missing, e.g. $(echo "$missing" | head -3 | tr '\n' ';')" \
    [ -z "$missing" ]

  # The operations the kill interrupted must finish after the restart (bounded: 90 s).
  pending=""
  for ((t = 0; t < 45; t++)); do
    pending=$(vnets_not_succeeded)
    [ -z "$pending" ] && break
    sleep 2
  done
  check_detail \
    "round $round: all $vnets acknowledged virtual networks reach Succeeded after the restart" \
    "$(echo "$pending" | wc -l) not, e.g. $(echo "$pending" | head -3 | tr '\n' ';')" \
    [ -z "$pending" ]

  read -r count min max < <(change_feed) || true
  check_detail "round $round: change feed revisions 1..$max have no gap" \
    "count=$count min=$min max=$max acknowledged=$total" feed_complete "$count" "$min" "$max" "$total"
done

pl_stop
read -r count min max < <(change_feed) || true
check_detail "after a clean stop: change feed revisions 1..$max have no gap" \
  "count=$count min=$min max=$max" feed_complete "$count" "$min" "$max"

check_summary
