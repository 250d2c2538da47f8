#!/usr/bin/env bash
# paas_test.sh PRIVLINKD PRIVLINK: a real PostgreSQL as a PaaS instance
# (Microsoft.DBforPostgreSQL/flexibleServers), end to end through a real privlinkd and the
# privlink CLI (DESIGN.md §1, PaaS row; issue 6 items 5 and 8).
#
# Starts privlinkd (unique --name-prefix, fresh state directory, free loopback port), logs in,
# creates a consumer VNet with a client NIC and a flexible server; initdb + postgres run as user
# postgres inside the instance's backend namespace through `privlink paas exec` (listening on the
# backend address:5432). Then, with psql from the client NIC:
#   - an approved private endpoint works; the server sees the platform NAT address (10.255.0.2),
#     not the client;
#   - the public endpoint (public IP, through the VNet's default outbound) works while
#     publicNetworkAccess is Enabled (server sees the internet namespace's address), is refused
#     (connection refused, at once) after `paas update --public-network-access Disabled`, and works
#     again after re-enabling; an open private endpoint session survives both toggles;
#   - a pending endpoint is refused; approving it makes it work;
#   - rejecting an endpoint cuts an established psql session.
# Always (trap): stops postgres, deletes the resource group, stops the daemon and removes every
# kernel object under the prefix (`privlinkd --cleanup`). Prints "N passed, M failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PRIVLINKD=$(realpath "$1")
PRIVLINK=$(realpath "$2")
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# shellcheck source=../../testing/cli_harness.sh
source "$HERE/../../testing/cli_harness.sh"

# WORK, STATE, LOG; the trap calls pl_on_exit, stops the daemon, removes every kernel object of
# this prefix (whatever the agent left) and WORK.
cli_workdir paas-it
chmod 755 "$WORK"  # the postgres user reaches its data directory below it
PGDATA=$WORK/pgdata
PGSOCK=$WORK/pgrun  # socket and server log (owned by postgres)
export PL_NAME_PREFIX=tpg$$
export PRIVLINK_NAME_PREFIX=$PL_NAME_PREFIX
RG=paastest-$$-$RANDOM
PG=pg$$r$RANDOM
STEP_TIMEOUT=${PAAS_STEP_TIMEOUT:-120}
PG_STARTED=0

stop_postgres() {
  [ "$PG_STARTED" = 1 ] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" stop -m immediate -w >/dev/null 2>&1 || true
  if [ -s "$PGDATA/postmaster.pid" ]; then
    local pgpid
    pgpid=$(head -n 1 "$PGDATA/postmaster.pid")
    [ -n "$pgpid" ] && kill -KILL "$pgpid" 2>/dev/null || true
  fi
  PG_STARTED=0
}

pl_on_exit() {  # called by the trap while the daemon still runs
  exec 7>&- 2>/dev/null || true
  [ -n "${SESSION_PID:-}" ] && kill "$SESSION_PID" 2>/dev/null
  [ -n "${SESSION2_PID:-}" ] && kill "$SESSION2_PID" 2>/dev/null
  stop_postgres
  if [ -n "${PL_PID:-}" ] && [ -s "$PRIVLINK_CONFIG_DIR/config.json" ]; then
    timeout "$STEP_TIMEOUT" "$PRIVLINK" group delete -n "$RG" -y >/dev/null 2>&1 || true
  fi
}

refused() { [ "$CODE" -ne 0 ] && grep -qi "refused" <<<"$ERR"; }
fatal() { echo "FATAL: $*"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

AUTO_STATE='.properties.privateLinkServiceConnections[0].properties'
AUTO_STATE+='.privateLinkServiceConnectionState.status'
MANUAL_STATE='.properties.manualPrivateLinkServiceConnections[0].properties'
MANUAL_STATE+='.privateLinkServiceConnectionState.status'
# conn_of PE: jq program printing the name of endpoint PE's connection in a connection list.
conn_of() {
  echo ".[] | select(.properties.privateEndpoint.id | ascii_downcase | endswith(\"/$1\")) | .name"
}

# sql HOST QUERY: psql from the client NIC; sets OUT/ERR/CODE (connect timeout 5 s).
sql() {
  pl nic exec -g "$RG" -n client -- psql \
    "host=$1 port=5432 user=postgres dbname=postgres connect_timeout=5" -XAtqc "$2"
}

# sql_until HOST QUERY EXPECT: sql until it prints EXPECT (10 s at most). Connection approvals
# and rejections return before the agent realised them (unlike instance updates), so the tests
# that follow one wait for the data plane this way.
sql_until() {
  local i
  for ((i = 0; i < 20; i++)); do
    sql "$1" "$2"
    [ "$CODE" -eq 0 ] && [ "$OUT" = "$3" ] && return 0
    sleep 0.5
  done
  return 0
}

# start_daemon: starts privlinkd on the state directory (a fresh port each time) and logs in.
start_daemon() {
  pl_start "$PRIVLINKD" "$STATE" 0 "$LOG" || fatal "privlinkd did not start"
  echo "privlinkd at $PL_BASE (prefix $PL_NAME_PREFIX)"
  pl login --state-dir "$STATE"
  ok || fatal "login: $ERR"
}

# --- start the daemon --------------------------------------------------------------------------
start_daemon
pl group create -n "$RG" -l local
ok || fatal "group create: $ERR"

# --- consumer network and the PaaS instance ----------------------------------------------------
pl vnet create -g "$RG" -n consumer --address-prefixes 10.70.0.0/16 --subnet-name default \
  --subnet-prefixes 10.70.1.0/24
check "consumer vnet" json_is .properties.provisioningState Succeeded
pl nic create -g "$RG" -n client --vnet-name consumer --subnet default \
  --private-ip-address 10.70.1.10
check "client nic" json_is .properties.provisioningState Succeeded

pl paas create --type flexibleServers -g "$RG" -n "$PG"
check "paas create (short type name)" json_is .properties.provisioningState Succeeded
check "paas create: full type" json_is .type Microsoft.DBforPostgreSQL/flexibleServers
PG_ID=$(jq -r .id <<<"$OUT")
PUBLIC_IP=$(jq -r .properties.privlink.paas.publicIpAddress <<<"$OUT")
BACKEND=$(jq -r .properties.privlink.paas.backend.address <<<"$OUT")
[ -n "$PUBLIC_IP" ] && [ "$PUBLIC_IP" != null ] || fatal "no public IP in $OUT"
echo "instance $PG_ID: public $PUBLIC_IP, backend $BACKEND"

pl paas exec --type Microsoft.DBforPostgreSQL/flexibleServers -g "$RG" -n "$PG" -- sh -c 'exit 7'
check "paas exec passes the exit status through" test "$CODE" -eq 7
pl paas exec --type flexibleServers -g "$RG" -n "$PG" --name-prefix "x$PRIVLINK_NAME_PREFIX" -- true
check "paas exec under another daemon's prefix: 127 and a reason" \
  bash -c '[ "$0" -eq 127 ] && grep -q "backend namespace" <<<"$1"' "$CODE" "$ERR"
pl paas exec --type flexibleServers -g "$RG" -n "$PG" -- ip -4 -o addr show dev eth0
check "paas exec runs in the backend namespace (eth0 has the backend address)" \
  grep -q "inet $BACKEND/16" <<<"$OUT"

# --- PostgreSQL in the backend namespace -------------------------------------------------------
mkdir -p "$PGDATA" "$PGSOCK"
chown postgres "$PGDATA" "$PGSOCK"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" --auth=trust -U postgres \
  >"$WORK/initdb.log" 2>&1 ||
  fatal "initdb failed: $(tail -n 5 "$WORK/initdb.log")"
echo "host all all 0.0.0.0/0 trust" >>"$PGDATA/pg_hba.conf"
PG_STARTED=1
pl paas exec --type flexibleServers -g "$RG" -n "$PG" -- runuser -u postgres -- \
  "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGSOCK/postgres.log" -w -t 60 \
  -o "-c listen_addresses=$BACKEND -p 5432 -k $PGSOCK" start
check "postgres started through paas exec" ok
[ "$CODE" -eq 0 ] || fatal "postgres did not start: $(tail -n 5 "$PGSOCK/postgres.log" 2>/dev/null)"

# --- private endpoint (auto-approved: the caller owns the instance) -----------------------------
pl private-endpoint create -g "$RG" -n pe1 --vnet-name consumer --subnet default \
  --private-connection-resource-id "$PG_ID" --group-id postgresqlServer --connection-name c1 \
  --private-ip-address 10.70.1.50
check "private endpoint create" json_is .properties.provisioningState Succeeded
check "private endpoint approved" \
  json_is "$AUTO_STATE" Approved

sql 10.70.1.50 "select 1"
check "psql through the approved private endpoint" test "$OUT" = 1
sql 10.70.1.50 "select host(inet_client_addr())"
check "the server sees the platform NAT address, not the client" test "$OUT" = 10.255.0.2

# --- public endpoint ---------------------------------------------------------------------------
sql "$PUBLIC_IP" "select 2"
check "psql through the public endpoint while Enabled" test "$OUT" = 2
sql "$PUBLIC_IP" "select host(inet_client_addr())"
check "public endpoint: the server sees the internet namespace's address" \
  bash -c '[[ $0 == 100.* ]] && [ "$0" != 10.70.1.10 ]' "$OUT"

# Only the service's port is exposed, through either endpoint: other ports are refused.
pl nic exec -g "$RG" -n client -- timeout 5 bash -c 'exec 3<>/dev/tcp/10.70.1.50/22'
check "private endpoint: another port is refused" refused
pl nic exec -g "$RG" -n client -- timeout 5 bash -c "exec 3<>/dev/tcp/$PUBLIC_IP/22"
check "public endpoint: another port is refused" refused

# An open private endpoint session: psql reading queries from a FIFO.
mkfifo "$WORK/q1"
exec 7<>"$WORK/q1"
"$PRIVLINK" nic exec -g "$RG" -n client -- psql \
  "host=10.70.1.50 port=5432 user=postgres dbname=postgres connect_timeout=5" -XAtq \
  <"$WORK/q1" >"$WORK/s1.out" 2>"$WORK/s1.err" &
SESSION_PID=$!
# ask SESSION_OUT FILE QUERY EXPECT: sends a query and waits (10 s) for EXPECT in FILE.
ask() {
  echo "$2" >&7
  local i
  for ((i = 0; i < 100; i++)); do
    grep -qx -- "$3" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
CODE=0; OUT=""; ERR=""
check "private endpoint session open" ask "$WORK/s1.out" "select 'open';" open

pl paas update --type flexibleServers -g "$RG" -n "$PG" --public-network-access Disabled
check "paas update: Disabled" json_is .properties.publicNetworkAccess Disabled
START=$(date +%s%N)
sql "$PUBLIC_IP" "select 3"
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
check "public endpoint refused while Disabled" refused
check "refused at once, not a timeout (${ELAPSED_MS} ms)" test "$ELAPSED_MS" -lt 4000
sql 10.70.1.50 "select 4"
check "private endpoint unaffected by Disabled" test "$OUT" = 4
CODE=0; OUT=""; ERR=""
check "open private endpoint session survives the toggle" \
  ask "$WORK/s1.out" "select 'still';" still

pl paas update --type flexibleServers -g "$RG" -n "$PG" --public-network-access Enabled
check "paas update: Enabled" json_is .properties.publicNetworkAccess Enabled
sql "$PUBLIC_IP" "select 5"
check "public endpoint works again when re-Enabled" test "$OUT" = 5
CODE=0; OUT=""; ERR=""
check "open private endpoint session survives re-enabling" \
  ask "$WORK/s1.out" "select 'again';" again

# --- crash safety: kill -9 and restart keep the established session and the endpoints --------
pl_kill9
start_daemon
CODE=0; OUT=""; ERR=""
check "open private endpoint session survives kill -9 and restart of privlinkd" \
  ask "$WORK/s1.out" "select 'restarted';" restarted
sql 10.70.1.50 "select 10"
check "private endpoint after the restart" test "$OUT" = 10
sql "$PUBLIC_IP" "select 11"
check "public endpoint after the restart" test "$OUT" = 11

# --- pending endpoint --------------------------------------------------------------------------
pl private-endpoint create -g "$RG" -n pe2 --vnet-name consumer --subnet default \
  --private-connection-resource-id "$PG_ID" --group-id postgresqlServer --connection-name c2 \
  --private-ip-address 10.70.1.51 --manual-request true
check "manual private endpoint create" ok
check "manual endpoint is Pending" \
  json_is "$MANUAL_STATE" Pending
sql 10.70.1.51 "select 6"
check "pending endpoint refused" refused

pl paas connection list --type flexibleServers -g "$RG" --resource-name "$PG"
CONN2=$(jq -r "$(conn_of pe2)" <<<"$OUT")
check "connection of pe2 listed on the instance" test -n "$CONN2"
pl paas connection approve --type flexibleServers -g "$RG" --resource-name "$PG" -n "$CONN2"
check "approve pe2" json_is .properties.privateLinkServiceConnectionState.status Approved
sql_until 10.70.1.51 "select 7" 7
check "approved endpoint works" test "$OUT" = 7

# --- reject cuts an established session --------------------------------------------------------
pl paas connection list --type flexibleServers -g "$RG" --resource-name "$PG"
CONN1=$(jq -r "$(conn_of pe1)" <<<"$OUT")
pl paas connection reject --type flexibleServers -g "$RG" --resource-name "$PG" -n "$CONN1"
check "reject pe1" json_is .properties.privateLinkServiceConnectionState.status Rejected
# The session keeps querying (the rejection takes effect when the agent applied it); without
# the conntrack deletion its established flow would keep its NAT binding and go on answering.
SESSION_RC=""
for ((i = 0; i < 150; i++)); do
  if ! kill -0 "$SESSION_PID" 2>/dev/null; then
    wait "$SESSION_PID"
    SESSION_RC=$?
    break
  fi
  ((i % 5 == 0)) && { echo "select 'after-reject $i';" >&7 || true; }
  sleep 0.1
done
CODE=${SESSION_RC:-timeout}; OUT=$(tail -n 3 "$WORK/s1.out"); ERR=$(cat "$WORK/s1.err")
check "reject cuts the established psql session (psql fails within 15 s)" \
  bash -c '[ -n "$0" ] && [ "$0" != 0 ]' "$SESSION_RC"
SESSION_PID=""
exec 7>&-
sql 10.70.1.50 "select 8"
check "rejected endpoint refused" refused
sql 10.70.1.51 "select 9"
check "the other endpoint still works after the reject" test "$OUT" = 9

# --- delete ------------------------------------------------------------------------------------
stop_postgres
pl private-endpoint delete -g "$RG" -n pe1
check "private endpoint delete" ok
pl private-endpoint delete -g "$RG" -n pe2
check "private endpoint delete (2)" ok
pl paas delete --type flexibleServers -g "$RG" -n "$PG" -y
check "paas delete" ok
NS_LEFT=$(ip netns list 2>/dev/null | awk '{print $1}' |
  grep -cE "^${PRIVLINK_NAME_PREFIX}(p-|paas$)" || true)
check "backend namespace and platform router removed with the last instance" test "$NS_LEFT" = 0
INET_TABLES=$(ip netns exec "${PRIVLINK_NAME_PREFIX}inet" nft list tables 2>&1)
INET_ADDRS=$(ip netns exec "${PRIVLINK_NAME_PREFIX}inet" ip -4 -o addr show dev lo 2>&1)
check "public endpoint removed from the internet namespace" \
  bash -c '! grep -q plpub <<<"$0" && ! grep -q "$1" <<<"$2"' \
  "$INET_TABLES" "$PUBLIC_IP/32" "$INET_ADDRS"

check_summary
