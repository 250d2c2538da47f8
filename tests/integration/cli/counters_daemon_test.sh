#!/usr/bin/env bash
# counters_daemon_test.sh PRIVLINKD PRIVLINK: resource counters (issue #6 item 7) through a real
# privlinkd with real traffic.
#
# Starts privlinkd (fresh state directory, free loopback port, unique --name-prefix), builds a
# provider VNet (internal LB -> backend NIC running a Python HTTP server, a private link service)
# and a consumer VNet (same address space) with a client NIC, an auto-approved endpoint and a
# manual (Pending) one. Then:
#   - N curls through the approved endpoint: its GET shows properties.privlink.counters with
#     connections >= N and bytesIn/bytesOut > 0;
#   - refused attempts at the Pending endpoint show as its rejectedPackets;
#   - a TCP connection held open through the endpoint shows NAT ports in use > 0 on the private
#     link service, and 0 once it is closed;
#   - the Azure Monitor metrics read (GET {id}/providers/Microsoft.Insights/metrics) gives
#     PEBytesIn > 0, and so does `az monitor metrics list` (Debian's azure-cli + tools/az-shim).
# Always deletes the resource group, stops the helpers and the daemon and removes the daemon's
# namespaces (trap). Prints the counters it saw and "N passed, M failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PRIVLINKD=$(realpath "$1")
PRIVLINK=$(realpath "$2")
# shellcheck source=../../testing/cli_harness.sh
source "$HERE/../../testing/cli_harness.sh"

cli_workdir counters-it
export PL_NAME_PREFIX=ct$$
export PRIVLINK_NAME_PREFIX=$PL_NAME_PREFIX
RG=counterstest-$$-$RANDOM
STEP_TIMEOUT=${CLI_STEP_TIMEOUT:-120}
N=5
PIDS=()

pl_on_exit() {  # called by the trap while the daemon still runs
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "${PL_PID:-}" ] && [ -s "$PRIVLINK_CONFIG_DIR/config.json" ]; then
    timeout "$STEP_TIMEOUT" "$PRIVLINK" group delete -n "$RG" -y >/dev/null 2>&1 || true
  fi
}

# wait_for DESCRIPTION SECONDS COMMAND...: retries COMMAND every 0.5 s until it succeeds.
wait_for() {
  local what=$1 seconds=$2 i
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    "$@" && return 0
    sleep 0.5
  done
  echo "timed out after ${seconds}s waiting for $what" >&2
  return 1
}

# counters KIND NAME: prints properties.privlink.counters of a private endpoint or PLS ("null").
counters() {
  timeout "$STEP_TIMEOUT" "$PRIVLINK" "$1" show -g "$RG" -n "$2" 2>/dev/null |
    jq -c '.properties.privlink.counters // null'
}
# counter_at_least KIND NAME JQ_EXPR MIN: the counters' JQ_EXPR is >= MIN.
counter_at_least() {
  local value
  value=$(counters "$1" "$2" | jq -r "$3 // -1")
  [ "${value%.*}" -ge "$4" ] 2>/dev/null
}
nat_ports_in_use() { counters private-link-service pls | jq -r '[.natPorts[]?.portsInUse] | add // 0'; }
nat_ports_at_least() { [ "$(nat_ports_in_use)" -ge "$1" ]; }
nat_ports_zero() { [ "$(nat_ports_in_use)" = 0 ]; }

pl_start "$PRIVLINKD" "$STATE" 0 "$LOG" || exit 1
echo "privlinkd at $PL_BASE (name prefix $PL_NAME_PREFIX)"

pl login --state-dir "$STATE"; must "login"
pl group create -n "$RG" -l local; must "group create"

# Provider: VNet, LB (frontend 10.62.2.10, rule 80 -> 8080, TCP probe), backend NIC, PLS.
pl vnet create -g "$RG" -n provider --address-prefixes 10.62.0.0/16 --subnet-name backends \
  --subnet-prefixes 10.62.1.0/24; must "provider vnet"
pl vnet subnet create -g "$RG" --vnet-name provider -n front --address-prefixes 10.62.2.0/24 \
  --private-link-service-network-policies Disabled; must "provider frontend subnet"
pl lb create -g "$RG" -n lb --vnet-name provider --subnet front --private-ip-address 10.62.2.10 \
  --frontend-ip-name fe --backend-pool-name be; must "lb create"
pl lb probe create -g "$RG" --lb-name lb -n p --protocol Tcp --port 8080; must "lb probe"
pl lb rule create -g "$RG" --lb-name lb -n r --protocol Tcp --frontend-port 80 \
  --backend-port 8080 --probe-name p; must "lb rule"
pl nic create -g "$RG" -n web --vnet-name provider --subnet backends \
  --private-ip-address 10.62.1.5 --lb-name lb --lb-address-pools be; must "backend nic"
pl private-link-service create -g "$RG" -n pls --vnet-name provider --subnet front \
  --lb-name lb --lb-frontend-ip-configs fe; must "pls create"
PLS_ID=$(jq -r .id <<<"$OUT")

# Consumer: the same address space, the client at 10.62.1.4, an approved and a Pending endpoint.
pl vnet create -g "$RG" -n consumer --address-prefixes 10.62.0.0/16 --subnet-name default \
  --subnet-prefixes 10.62.1.0/24; must "consumer vnet"
pl nic create -g "$RG" -n client --vnet-name consumer --subnet default \
  --private-ip-address 10.62.1.4; must "client nic"
pl private-endpoint create -g "$RG" -n pe --vnet-name consumer --subnet default \
  --private-connection-resource-id "$PLS_ID" --connection-name c --private-ip-address 10.62.1.9
must "private-endpoint create"
PE_ID=$(jq -r .id <<<"$OUT")
check "endpoint auto-approved" \
  json_is '.properties.privateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' \
  Approved
pl private-endpoint create -g "$RG" -n pending --vnet-name consumer --subnet default \
  --private-connection-resource-id "$PLS_ID" --connection-name m --manual-request true \
  --private-ip-address 10.62.1.10
must "manual private-endpoint create"
check "manual endpoint is Pending" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' \
  Pending

# The backend: a small HTTP server in the backend NIC.
mkdir -p "$WORK/www" && head -c 20000 /dev/urandom | base64 >"$WORK/www/index.html"
setsid "$PRIVLINK" nic exec -g "$RG" -n web -- \
  python3 -m http.server 8080 --bind 0.0.0.0 --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
PIDS+=($!)

fetch() {
  timeout 10 "$PRIVLINK" nic exec -g "$RG" -n client -- \
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$1/" 2>/dev/null
}
backend_answers() { [ "$(fetch 10.62.1.9)" = 200 ]; }
check "the backend answers through the approved endpoint" \
  wait_for "the backend through the endpoint" 90 backend_answers
# The fetch that found the backend answering is one more connection.
BEFORE=1
ok_fetches=0
for ((i = 0; i < N; i++)); do
  [ "$(fetch 10.62.1.9)" = 200 ] && ok_fetches=$((ok_fetches + 1))
done
check_detail "$N curls through the approved endpoint" "$ok_fetches of $N answered" \
  test "$ok_fetches" -eq "$N"

check_detail "the endpoint's GET shows connections >= $((BEFORE + N))" \
  "$(counters private-endpoint pe)" \
  wait_for "endpoint connections" 30 counter_at_least private-endpoint pe .connections $((BEFORE + N))
PE_COUNTERS=$(counters private-endpoint pe)
echo "private endpoint counters: $PE_COUNTERS"
check_detail "bytesIn > 0 (service -> client)" "$PE_COUNTERS" \
  test "$(jq -r .bytesIn <<<"$PE_COUNTERS")" -gt 0
check_detail "bytesOut > 0 (client -> service)" "$PE_COUNTERS" \
  test "$(jq -r .bytesOut <<<"$PE_COUNTERS")" -gt 0
check_detail "bytesIn carries the ~27 kB page $((BEFORE + N)) times" "$PE_COUNTERS" \
  wait_for "endpoint bytes" 30 counter_at_least private-endpoint pe .bytesIn $(((BEFORE + N) * 20000))
echo "private endpoint counters (all responses in): $(counters private-endpoint pe)"
check_detail "observedAt is RFC 3339" "$PE_COUNTERS" \
  bash -c '[[ $0 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]]' "$(jq -r .observedAt <<<"$PE_COUNTERS")"

# Refused attempts at the Pending endpoint.
for ((i = 0; i < 3; i++)); do fetch 10.62.1.10 >/dev/null; done
check_detail "the Pending endpoint counts rejects" "$(counters private-endpoint pending)" \
  wait_for "pending rejects" 30 counter_at_least private-endpoint pending .rejectedPackets 1
PENDING_COUNTERS=$(counters private-endpoint pending)
echo "pending endpoint counters: $PENDING_COUNTERS"
check_detail "the Pending endpoint made no connections" "$PENDING_COUNTERS" \
  test "$(jq -r .connections <<<"$PENDING_COUNTERS")" -eq 0

# A held-open connection holds a NAT port; closing it frees it.
setsid "$PRIVLINK" nic exec -g "$RG" -n client -- python3 -c '
import socket, time
s = socket.create_connection(("10.62.1.9", 80), timeout=5)
time.sleep(120)
' >"$WORK/hold.log" 2>&1 &
HOLD_PID=$!
PIDS+=("$HOLD_PID")
check_detail "a held-open connection shows NAT ports in use > 0 on the PLS" \
  "$(counters private-link-service pls)" \
  wait_for "NAT ports in use" 30 nat_ports_at_least 1
PLS_COUNTERS=$(counters private-link-service pls)
echo "private link service counters (connection open): $PLS_COUNTERS"
kill -TERM -- "-$HOLD_PID" 2>/dev/null || kill -TERM "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null
check_detail "NAT ports in use return to 0 once it closes" "$(counters private-link-service pls)" \
  wait_for "NAT ports released" 30 nat_ports_zero
echo "private link service counters (closed): $(counters private-link-service pls)"
check_detail "the PLS sums its endpoints' connections" "$(counters private-link-service pls)" \
  counter_at_least private-link-service pls .connections $((BEFORE + N))

# PUT of the endpoint with the extension carried back (forged) changes nothing.
pl private-endpoint show -g "$RG" -n pe; must "private-endpoint show"
SENT=$(jq -c '.properties.privlink.counters.bytesIn = 1' <<<"$OUT")
TOKEN=$(pl_token)
PUT_CODE=$(curl -sS --cacert "$PL_CA" -o "$WORK/put.json" -w '%{http_code}' -X PUT \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data "$SENT" "$PL_BASE$PE_ID?api-version=2024-07-01")
check_detail "PUT with properties.privlink carried back is accepted" "$PUT_CODE" \
  test "$PUT_CODE" = 200
check_detail "the forged counters were ignored" "$(cat "$WORK/put.json")" \
  test "$(jq -r '.properties.privlink.counters.bytesIn' "$WORK/put.json")" != 1

# Azure Monitor metrics.
METRICS=$(curl -sS --cacert "$PL_CA" -H "Authorization: Bearer $TOKEN" \
  "$PL_BASE$PE_ID/providers/Microsoft.Insights/metrics?metricnames=PEBytesIn,PEBytesOut&api-version=2018-01-01")
echo "metrics: $(jq -c '[.value[] | {name: .name.value, data: .timeseries[0].data}]' <<<"$METRICS")"
check_detail "PEBytesIn metric > 0" "$METRICS" \
  test "$(jq -r '.value[0].timeseries[0].data[0].total // 0 | floor' <<<"$METRICS")" -gt 0
NAT_METRIC=$(curl -sS --cacert "$PL_CA" -H "Authorization: Bearer $TOKEN" \
  "$PL_BASE$PLS_ID/providers/Microsoft.Insights/metrics?metricnames=PLSNatPortsUsage&api-version=2018-01-01")
check_detail "PLSNatPortsUsage answers" "$NAT_METRIC" \
  test "$(jq -r '.value[0].name.value' <<<"$NAT_METRIC")" = PLSNatPortsUsage

# az CLI: `az monitor metrics list` through tools/az-shim (Debian's azure-cli).
export AZURE_CONFIG_DIR=$WORK/az PYTHONPATH=$ROOT/tools/az-shim REQUESTS_CA_BUNDLE=$PL_CA
export AZURE_CORE_COLLECT_TELEMETRY=no AZURE_CORE_SURVEY_MESSAGE=no AZURE_CORE_ONLY_SHOW_ERRORS=yes
az_step() { timeout 180 az "$@" >"$WORK/az.out" 2>"$WORK/az.err"; }
if ! command -v az >/dev/null; then
  check_detail "az CLI installed (scripts/install-deps.sh: azure-cli)" "az not found" false
elif az_step cloud register -n Privlink --cloud-config \
  "{\"endpoints\":{\"resourceManager\":\"$PL_BASE/\",\"microsoftGraphResourceId\":\"$PL_BASE/graph/\"}}" &&
  az_step cloud set -n Privlink &&
  az_step login --service-principal -u "$PL_CLIENT" --password="$PL_SECRET" --tenant "$PL_TENANT"; then
  az_step monitor metrics list --resource "$PE_ID" --metric PEBytesIn -o json
  echo "az monitor metrics list: $(jq -c '.value[0].timeseries[0].data' "$WORK/az.out" 2>/dev/null)"
  check_detail "az monitor metrics list --metric PEBytesIn > 0" "$(cat "$WORK/az.err" "$WORK/az.out")" \
    test "$(jq -r '.value[0].timeseries[0].data[0].total // 0 | floor' "$WORK/az.out" 2>/dev/null)" -gt 0
else
  check_detail "az login against privlinkd" "$(tail -5 "$WORK/az.err")" false
fi

check_summary
