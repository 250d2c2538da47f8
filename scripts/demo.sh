#!/usr/bin/env bash
# The whole privlink story, narrated as it runs: `make demo` (after the build) and the `demo` test
# in `make check` (tests/integration/demo), which fails if any step's expected outcome does not
# happen. docs/quickstart.md is the same story as a tutorial to follow by hand.
#
#   scripts/demo.sh [BUILD_DIR]
#
#   Part 1  networks: two VNets with the same 10.0.0.0/16, traffic inside each and none between
#           them; a peering opens the way for a third VNet.
#   Part 2  Contoso's database: a workload reaches a PaaS PostgreSQL server over its public
#           endpoint; a private endpoint + DNS zone group make the same name resolve privately,
#           public access is switched off, the same connection string still works.
#   Part 3  Contoso publishes its own service (internal load balancer) as a private link service
#           to Fabrikam, another subscription with its own login whose VNet overlaps: manual
#           request (Pending, refused), approval, PROXY protocol v2 shows the consumer and the
#           LinkID, the provider cannot connect back, a rejection cuts a running stream.
#   Part 4  everything is deleted and the host is checked to hold nothing of the demo.
#
# It starts its own privlinkd on a free loopback port with a throwaway state directory and a
# kernel name prefix of its own, drives it only through the `privlink` CLI and ordinary tools run
# inside NICs (curl, dig, psql, python3), and removes everything it created when it ends, also when
# a step fails (trap).
#
# Environment:
#   DEMO_NAME_PREFIX      kernel name prefix of the demo's privlinkd (default dm<pid>; never the
#                         default 'pl' of a privlinkd you run yourself). The demo exports it as
#                         PRIVLINK_NAME_PREFIX for the CLI's `nic exec`/`paas exec`.
#   DEMO_STATE_DIR        where the daemon state, CLI logins and logs go (default: a new
#                         /tmp/privlink-demo.XXXXXX; removed at the end)
#   DEMO_PAAS=1|auto      part 2's database steps: 1 (default) the PaaS backend must be realised;
#                         auto runs them only when privlinkd made a backend namespace
#   DEMO_PPV2=1|auto      PROXY v2 in part 3: 1 (default) the header must arrive with the
#                         consumer's address and the LinkID; auto checks it only when it arrives
set -euo pipefail

BUILD=${1:-build}
cd "$(dirname "$0")/.."
BIN=$(cd "$BUILD/bin" && pwd)
export PATH="$BIN:$PATH"
PREFIX=${DEMO_NAME_PREFIX:-dm$$}
if [[ ! $PREFIX =~ ^[a-z][a-z0-9]{1,8}$ || $PREFIX == pl ]]; then
  echo "demo.sh: DEMO_NAME_PREFIX must be 2-9 lower-case letters/digits and not 'pl'" >&2
  exit 2
fi
export PRIVLINK_NAME_PREFIX=$PREFIX
if [ -n "${DEMO_STATE_DIR:-}" ]; then
  mkdir -p "$DEMO_STATE_DIR"
  STATE=$(cd "$DEMO_STATE_DIR" && pwd)
else
  STATE=$(mktemp -d /tmp/privlink-demo.XXXXXX)
fi
DEMO_PAAS=${DEMO_PAAS:-1}
DEMO_PPV2=${DEMO_PPV2:-1}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CONTOSO_CFG="$STATE/contoso"     # each login keeps its own CLI config directory
FABRIKAM_CFG="$STATE/fabrikam"
export PRIVLINK_CONFIG_DIR=$CONTOSO_CFG
DAEMON_PID=""
BG_PIDS=()                        # process groups of the servers started inside NICs
START=$SECONDS
STEP=0

bold=$'\e[1m'; dim=$'\e[2m'; green=$'\e[32m'; red=$'\e[31m'; cyan=$'\e[36m'; off=$'\e[0m'
[ -t 1 ] || { bold=""; dim=""; green=""; red=""; cyan=""; off=""; }

part() { printf '\n%s######## %s%s\n' "$bold$cyan" "$*" "$off"; }
say() {
  STEP=$((STEP + 1))
  printf '\n%s== %d. %s%s %s[%ds]%s\n' "$bold" "$STEP" "$*" "$off" "$dim" $((SECONDS - START)) "$off"
}
note() { printf '%s   %s%s\n' "$dim" "$*" "$off"; }
ok()   { printf '%s   ✔ %s%s\n' "$green" "$*" "$off"; }
fail() {
  printf '%s   ✘ FAILED at step %d: %s%s\n' "$red" "$STEP" "$*" "$off" >&2
  exit 1
}
show_cmd() {  # show_cmd WHO ARGS...: prints the command as the reader would type it
  local who=$1 arg line=""; shift
  for arg in "$@"; do
    [ "$arg" = "$PY" ] && arg=python3
    if [[ $arg =~ ^[][A-Za-z0-9_./:=@,+*%-]+$ || $arg == "&" || $arg == "|" ]]; then
      line+=" $arg"
    else
      line+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  printf '%s%s$%s%s\n' "$bold" "$who" "$line" "$off"
}
# contoso|fabrikam ARGS...: runs the CLI as that login, prints command and output; a failing
# command fails the demo (with the CLI's own error message above).
contoso() {
  show_cmd contoso privlink "$@"
  PRIVLINK_CONFIG_DIR=$CONTOSO_CFG privlink "$@" || fail "privlink $* exited with $?"
}
fabrikam() {
  show_cmd fabrikam privlink "$@"
  PRIVLINK_CONFIG_DIR=$FABRIKAM_CFG privlink "$@" || fail "privlink $* exited with $?"
}
# Quiet queries for the checks (JSON), not printed.
q_contoso()  { PRIVLINK_CONFIG_DIR=$CONTOSO_CFG privlink "$@"; }
q_fabrikam() { PRIVLINK_CONFIG_DIR=$FABRIKAM_CFG privlink "$@"; }
# in_nic WHO GROUP NIC CMD...: runs CMD inside a NIC, printing it; returns CMD's status.
in_nic() {
  local who=$1 group=$2 nic=$3; shift 3
  local cfg=$CONTOSO_CFG; [ "$who" = fabrikam ] && cfg=$FABRIKAM_CFG
  show_cmd "$who" privlink nic exec -g "$group" -n "$nic" -- "$@"
  PRIVLINK_CONFIG_DIR=$cfg timeout 30 privlink nic exec -g "$group" -n "$nic" -- "$@"
}
# bg_in_nic WHO GROUP NIC LOG CMD...: starts CMD inside a NIC in the background, printing it.
bg_in_nic() {
  local who=$1 group=$2 nic=$3 log=$4; shift 4
  local cfg=$CONTOSO_CFG; [ "$who" = fabrikam ] && cfg=$FABRIKAM_CFG
  show_cmd "$who" privlink nic exec -g "$group" -n "$nic" -- "$@" "&"
  PRIVLINK_CONFIG_DIR=$cfg background "$log" privlink nic exec -g "$group" -n "$nic" -- "$@"
}
# background LOG CMD...: starts CMD in its own process group (so cleanup can stop it and every
# child), output to LOG.
background() {
  local log=$1; shift
  setsid "$@" >"$log" 2>&1 &
  BG_PIDS+=($!)
}
stop_background() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${BG_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  BG_PIDS=()
}
# wait_for SECONDS CMD...: retries CMD (quietly) every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
# The namespaces a privlinkd with this prefix makes (model/host_naming.h): VNets, NICs, PaaS
# backends, the backbone, the internet, the PaaS platform router.
# (/run/netns rather than `ip netns list`, which can print "Peer netns reference is invalid" and
# skip names while another program removes a namespace.)
demo_namespaces() {
  ls /run/netns 2>/dev/null |
    grep -E "^${PREFIX}([vnp]-[0-9a-f]{8}|bb|inet|paas)\$" || true
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_background
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    if [ "$rc" -ne 0 ]; then
      printf '\n%s(cleaning up after the failure: resource groups, privlinkd, kernel objects)%s\n' \
        "$dim" "$off"
      for g in fabrikam-apps; do
        PRIVLINK_CONFIG_DIR=$FABRIKAM_CFG timeout 60 privlink group delete -n "$g" -y >/dev/null 2>&1
      done
      for g in demo-contoso; do
        PRIVLINK_CONFIG_DIR=$CONTOSO_CFG timeout 60 privlink group delete -n "$g" -y >/dev/null 2>&1
      done
      echo "--- privlinkd log (last 40 lines) ---"
      tail -n 40 "$STATE/privlinkd.log"
    fi
    kill -TERM "$DAEMON_PID"
    for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  privlinkd --state-dir "$STATE/daemon" --name-prefix "$PREFIX" --cleanup >/dev/null 2>&1
  rm -rf "$STATE"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


chmod 711 "$STATE"  # the postgres user needs to reach $STATE/pg

# A static web page per VNet for part 1 (python3 -m http.server serves the directory).
mkdir -p "$STATE/www-a" "$STATE/www-b"
echo "hello from a-db, 10.0.2.10 in vnet-a" >"$STATE/www-a/index.html"
echo "hello from b-db, 10.0.2.20 in vnet-b" >"$STATE/www-b/index.html"

###################################################################################################
part "privlink: Azure Private Link on one Linux host"
note "privlink speaks Azure's resource API (ARM) over HTTPS and builds what it describes in the"
note "Linux kernel: a virtual network is a network namespace, a NIC is a namespace with eth0,"
note "a private endpoint is an address that leads, through NAT, to someone else's service."
note "Every step below prints the command, its output and a check (✔) of what must happen."

say "Starting privlinkd (HTTPS on a free loopback port; kernel objects named ${PREFIX}*)"
privlinkd --state-dir "$STATE/daemon" --listen 127.0.0.1:0 --name-prefix "$PREFIX" \
  >"$STATE/privlinkd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 200); do
  grep -q "listening on" "$STATE/privlinkd.log" 2>/dev/null && [ -s "$STATE/daemon/admin.json" ] &&
    break
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$STATE/privlinkd.log"; fail "privlinkd exited"; }
  sleep 0.1
done
grep -q "listening on" "$STATE/privlinkd.log" || fail "privlinkd did not start within 20 s"
note "$(grep -o 'privlinkd listening on .*' "$STATE/privlinkd.log")"
note "On first start privlinkd made a CA, a TLS certificate, a token-signing key, a tenant, a"
note "subscription and an admin service principal, whose credentials are in admin.json."

say "Contoso's administrator logs in (OAuth2 client credentials against privlinkd's own issuer)"
contoso login --state-dir "$STATE/daemon" -o table
CONTOSO_SUB=$(jq -r .subscriptionId "$STATE/daemon/admin.json")

###################################################################################################
part "Part 1: virtual networks are isolated, even with the same addresses"

say "A resource group, then two virtual networks that use the very same 10.0.0.0/16"
note "In Azure, every customer may pick any private range; networks never see each other."
contoso group create -n demo-contoso -l local -o table
for v in a b; do
  contoso vnet create -g demo-contoso -n vnet-$v --address-prefixes 10.0.0.0/16 \
    --subnet-name apps --subnet-prefixes 10.0.1.0/24 -o table
  contoso vnet subnet create -g demo-contoso --vnet-name vnet-$v -n data \
    --address-prefixes 10.0.2.0/24 -o table
done

say "Workloads: each NIC is a network namespace with eth0 in its subnet"
contoso nic create -g demo-contoso -n a-web --vnet-name vnet-a --subnet apps -o table
contoso nic create -g demo-contoso -n a-db --vnet-name vnet-a --subnet data \
  --private-ip-address 10.0.2.10 -o table
contoso nic create -g demo-contoso -n b-web --vnet-name vnet-b --subnet apps -o table
contoso nic create -g demo-contoso -n b-db --vnet-name vnet-b --subnet data \
  --private-ip-address 10.0.2.20 -o table
A_WEB_IP=$(q_contoso nic show -g demo-contoso -n a-web |
  jq -r '.properties.ipConfigurations[0].properties.privateIPAddress')
B_WEB_IP=$(q_contoso nic show -g demo-contoso -n b-web |
  jq -r '.properties.ipConfigurations[0].properties.privateIPAddress')
[ "$A_WEB_IP" = 10.0.1.4 ] && [ "$B_WEB_IP" = 10.0.1.4 ] ||
  fail "expected a-web and b-web both at 10.0.1.4, got $A_WEB_IP and $B_WEB_IP"
ok "a-web and b-web both got 10.0.1.4 (the first free address), each in its own VNet"
note "In the kernel: a namespace per VNet (${PREFIX}v-*: the VNet's router, a bridge per subnet),"
note "one per NIC (${PREFIX}n-*), the backbone (${PREFIX}bb) and the internet (${PREFIX}inet)."
note "'Succeeded' means the kernel already has them."
show_cmd root ip netns list "|" grep "$PREFIX"
demo_namespaces | sort | sed 's/^/   /'
in_nic contoso demo-contoso a-web ip -brief -4 addr show eth0 || fail "nic exec into a-web failed"

say "Web servers: a-db (10.0.2.10) in vnet-a, b-db (10.0.2.20) in vnet-b"
note "Programs run inside a NIC with 'privlink nic exec', the way a VM runs its workload."
bg_in_nic contoso demo-contoso a-db "$STATE/http-a.log" "$PY" -m http.server 80 \
  --directory "$STATE/www-a"
bg_in_nic contoso demo-contoso b-db "$STATE/http-b.log" "$PY" -m http.server 80 \
  --directory "$STATE/www-b"

# fetch_from NIC IP VNET: NIC (demo-contoso) fetches http://IP/ once it answers, shows the page,
# and fails unless the page says "in VNET".
fetch_from() {
  local nic=$1 ip=$2 vnet=$3 out
  wait_for 10 privlink nic exec -g demo-contoso -n "$nic" -- curl -sf -m 1 "http://$ip/" ||
    fail "$nic could not reach $ip inside $vnet"
  out=$(in_nic contoso demo-contoso "$nic" curl -sS -m 3 "http://$ip/") || { echo "$out"; fail "curl failed"; }
  echo "$out"
  [[ $out == *"in $vnet"* ]] || fail "$nic got an unexpected answer: $out"
}

say "Traffic inside vnet-a: a-web (subnet apps) -> a-db (subnet data)"
fetch_from a-web 10.0.2.10 vnet-a
ok "a-web reaches a-db across subnets: the VNet routes between its subnets"

say "Traffic inside vnet-b: b-web (subnet apps) -> b-db (subnet data)"
fetch_from b-web 10.0.2.20 vnet-b
ok "b-web reaches b-db: vnet-b works the same way, with the same address space"

say "Isolation: nothing crosses between vnet-a and vnet-b"
if in_nic contoso demo-contoso a-web curl -sS -m 1 http://10.0.2.20/; then
  fail "a-web reached b-db in vnet-b: isolation is broken"
fi
ok "a-web cannot reach 10.0.2.20: in vnet-a that address does not exist"
if in_nic contoso demo-contoso b-web curl -sS -m 1 http://10.0.2.10/; then
  fail "b-web reached a-db in vnet-a: isolation is broken"
fi
ok "b-web cannot reach 10.0.2.10: in vnet-b that address does not exist"

say "Peering joins two VNets, but only when their address spaces do not overlap"
show_cmd contoso privlink vnet peering create -g demo-contoso -n a-to-b --vnet-name vnet-a \
  --remote-vnet vnet-b
if out=$(q_contoso vnet peering create -g demo-contoso -n a-to-b --vnet-name vnet-a \
  --remote-vnet vnet-b 2>&1); then
  fail "vnet-a and vnet-b (both 10.0.0.0/16) were peered"
fi
sed 's/: Cannot create .*\. Overlapping/: ... Overlapping/' <<<"$out"
[[ $out == VnetAddressSpacesOverlap* ]] || fail "expected VnetAddressSpacesOverlap, got: $out"
ok "refused: an address would mean two different machines"

say "Peering opens the way for a third VNet, vnet-c (10.1.0.0/16)"
contoso vnet create -g demo-contoso -n vnet-c --address-prefixes 10.1.0.0/16 \
  --subnet-name apps --subnet-prefixes 10.1.1.0/24 -o table
contoso nic create -g demo-contoso -n c-app --vnet-name vnet-c --subnet apps -o table
if in_nic contoso demo-contoso c-app curl -sS -m 1 http://10.0.2.10/; then
  fail "c-app reached vnet-a before any peering"
fi
ok "before peering: c-app cannot reach a-db"
contoso vnet peering create -g demo-contoso -n a-to-c --vnet-name vnet-a --remote-vnet vnet-c \
  -o table
note "One side alone is 'Initiated' and carries nothing; the other side makes it 'Connected'."
contoso vnet peering create -g demo-contoso -n c-to-a --vnet-name vnet-c --remote-vnet vnet-a \
  -o table
state=$(q_contoso vnet peering show -g demo-contoso --vnet-name vnet-a -n a-to-c |
  jq -r .properties.peeringState)
[ "$state" = Connected ] || fail "peering a-to-c is '$state', expected Connected"
ok "both sides exist: the peering is Connected"
out=$(in_nic contoso demo-contoso c-app curl -sS -m 3 http://10.0.2.10/) ||
  { echo "$out"; fail "c-app could not reach a-db through the peering"; }
echo "$out"
ok "after peering: c-app (vnet-c) reaches a-db (vnet-a); vnet-b is still out of reach"
if in_nic contoso demo-contoso c-app curl -sS -m 1 http://10.0.2.20/; then
  fail "c-app reached vnet-b, which is not peered"
fi
ok "c-app cannot reach b-db: peering is not transitive and vnet-b has none"
stop_background

###################################################################################################
part "Part 2: a PaaS database, first over the internet, then privately"
PG_TYPE=Microsoft.DBforPostgreSQL/flexibleServers
PG=contoso-pg
PG_FQDN=$PG.postgres.database.azure.com
PG_ZONE=privatelink.postgres.database.azure.com
PG_PE_IP=10.0.2.50
PG_CONN="host=$PG_FQDN user=app dbname=orders sslmode=disable connect_timeout=3"
PG_QUERY='\conninfo'  # psql prints the database, the user and the address it connected to

say "Contoso creates an Azure Database for PostgreSQL flexible server (a platform resource)"
note "A PaaS resource lives on the platform, not in any customer VNet. It gets a public name,"
note "a public IP (in privlink's internet namespace) and private link support."
contoso paas create --type "$PG_TYPE" -g demo-contoso -n "$PG" -o table
PG_JSON=$(q_contoso paas show --type "$PG_TYPE" -g demo-contoso -n "$PG")
PG_ID=$(jq -r .id <<<"$PG_JSON")
PG_PUBLIC_IP=$(jq -r .properties.privlink.paas.publicIpAddress <<<"$PG_JSON")
[ "$(jq -r .properties.fullyQualifiedDomainName <<<"$PG_JSON")" = "$PG_FQDN" ] ||
  fail "the server's name is not $PG_FQDN"
ok "public name $PG_FQDN, public IP $PG_PUBLIC_IP"

# The database steps need the PaaS backend namespace <prefix>p-<hash> (`privlink paas exec`
# runs the server in it); DNS and endpoints do not.
have_db=0
if demo_namespaces | grep -q "^${PREFIX}p-"; then
  have_db=1
  note "In the kernel: the platform's router ${PREFIX}paas (hidden, 10.255.0.0/16) and the"
  note "server's backend namespace; the public IP lives in the internet namespace ${PREFIX}inet."
  show_cmd root ip netns list "|" grep -E "${PREFIX}(paas|p-)"
  demo_namespaces | grep -E "^${PREFIX}(paas|p-)" | sed 's/^/   /'
elif [ "$DEMO_PAAS" = 1 ]; then
  fail "privlinkd created no backend namespace (${PREFIX}p-*) for $PG"
else
  note "(this build of privlinkd does not realise PaaS backends: the psql steps are skipped)"
fi

if [ "$have_db" = 1 ]; then
  say "The platform operator runs a real PostgreSQL server as the resource's backend"
  note "'privlink paas exec' runs a program in the resource's hidden backend namespace."
  show_cmd operator privlink paas exec --type "$PG_TYPE" -g demo-contoso -n "$PG" -- \
    bash scripts/demo_postgres.sh "$STATE/pg" "&"
  background "$STATE/postgres.log" privlink paas exec --type "$PG_TYPE" -g demo-contoso -n "$PG" \
    -- bash scripts/demo_postgres.sh "$STATE/pg"
  wait_for 30 grep -q "ready to accept connections" "$STATE/postgres.log" ||
    { cat "$STATE/postgres.log"; fail "PostgreSQL did not start in the backend namespace"; }
  ok "PostgreSQL is up (database 'orders', user 'app')"
fi

say "Without private link: a-web finds the database by its public name..."
note "Every NIC asks the resolver at 168.63.129.16, which answers each VNet on its own."
out=$(in_nic contoso demo-contoso a-web dig +short "$PG_FQDN") || { echo "$out"; fail "dig failed"; }
echo "$out"
[ "$(tail -n1 <<<"$out")" = "$PG_PUBLIC_IP" ] ||
  fail "$PG_FQDN should resolve to the public IP $PG_PUBLIC_IP"
ok "the name is a CNAME to $PG.$PG_ZONE, which resolves to the public IP"
if [ "$have_db" = 1 ]; then
  say "...and connects over the public endpoint"
  out=$(in_nic contoso demo-contoso a-web psql "$PG_CONN" -c "$PG_QUERY") ||
    { echo "$out"; fail "psql over the public endpoint failed"; }
  echo "$out"
  [[ $out == *"(address \"$PG_PUBLIC_IP\")"* ]] || fail "psql did not connect to $PG_PUBLIC_IP"
  ok "it works, but the traffic leaves Contoso's network and the database is open to all:"
  out=$(in_nic contoso demo-contoso b-web psql "$PG_CONN" -c "$PG_QUERY") || {
    echo "$out"
    in_nic contoso demo-contoso b-web dig +time=1 +tries=1 "$PG_FQDN" || true  # DNS now?
    fail "b-web could not reach the public endpoint"
  }
  echo "$out"
  ok "b-web in vnet-b (or anyone on the internet) gets in the same way"
fi

say "A private endpoint for the database in vnet-a's data subnet"
note "The endpoint is an address in Contoso's own subnet ($PG_PE_IP) that leads to this one"
note "database and nowhere else. Contoso owns the database: the connection is approved at once."
contoso private-endpoint create -g demo-contoso -n pg-pe --vnet-name vnet-a --subnet data \
  --private-connection-resource-id "$PG_ID" --group-id postgresqlServer --connection-name pg \
  --private-ip-address "$PG_PE_IP" -o table
status=$(q_contoso private-endpoint show -g demo-contoso -n pg-pe | jq -r \
  '.properties.privateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status')
[ "$status" = Approved ] || fail "the endpoint's connection is '$status', expected Approved"
ok "pg-pe is Approved"

say "Private DNS: the zone $PG_ZONE, linked to vnet-a, filled by a zone group"
note "Applications keep their connection strings. A VNet linked to the zone gets the record"
note "$PG.$PG_ZONE from it:"
note "the endpoint's address, which the endpoint's zone group writes (and removes with it)."
contoso private-dns zone create -g demo-contoso -n "$PG_ZONE" -o table
contoso private-dns link vnet create -g demo-contoso -z "$PG_ZONE" -n vnet-a-link \
  -v vnet-a -e false -o table
contoso private-endpoint dns-zone-group create -g demo-contoso --endpoint-name pg-pe \
  -n default --private-dns-zone "$PG_ZONE" --zone-name postgres -o table
show_cmd contoso privlink private-dns record-set a show -g demo-contoso -z "$PG_ZONE" -n "$PG" \
  "|" jq ...
q_contoso private-dns record-set a show -g demo-contoso -z "$PG_ZONE" -n "$PG" |
  jq -c '{fqdn: .properties.fqdn, ttl: .properties.ttl, aRecords: .properties.aRecords,
          creator: .properties.metadata.creator}' || fail "the zone group wrote no record"
PRIVLINK_CONFIG_DIR=$CONTOSO_CFG wait_for 5 bash -c "privlink nic exec -g demo-contoso -n a-web \
  -- dig +short $PG_FQDN | tail -n1 | grep -qx '$PG_PE_IP'" ||
  fail "$PG_FQDN did not start resolving to $PG_PE_IP in vnet-a"
out=$(in_nic contoso demo-contoso a-web dig +short "$PG_FQDN") || { echo "$out"; fail "dig failed"; }
echo "$out"
[ "$(tail -n1 <<<"$out")" = "$PG_PE_IP" ] || fail "expected $PG_PE_IP"
ok "in vnet-a the same name now resolves to the private endpoint $PG_PE_IP"
out=$(in_nic contoso demo-contoso b-web dig +short "$PG_FQDN") || { echo "$out"; fail "dig failed"; }
echo "$out"
[ "$(tail -n1 <<<"$out")" = "$PG_PUBLIC_IP" ] || fail "expected the public IP in vnet-b"
ok "vnet-b is not linked to the zone: there the name still means the public IP"

say "Public network access is switched off"
contoso paas update --type "$PG_TYPE" -g demo-contoso -n "$PG" --public-network-access Disabled \
  -o table
access=$(q_contoso paas show --type "$PG_TYPE" -g demo-contoso -n "$PG" |
  jq -r .properties.publicNetworkAccess)
[ "$access" = Disabled ] || fail "publicNetworkAccess is '$access'"
ok "publicNetworkAccess: Disabled"

if [ "$have_db" = 1 ]; then
  say "The same connection string still works from a-web, now through the private endpoint"
  out=$(in_nic contoso demo-contoso a-web psql "$PG_CONN" -c "$PG_QUERY") ||
    { echo "$out"; fail "psql through the private endpoint failed"; }
  echo "$out"
  [[ $out == *"(address \"$PG_PE_IP\")"* ]] || fail "psql did not connect to $PG_PE_IP"
  ok "same name, same connection string, private path (address $PG_PE_IP)"
  if err=$(in_nic contoso demo-contoso b-web psql "$PG_CONN" -c "$PG_QUERY" 2>&1); then
    echo "$err"
    fail "b-web still reaches the database over the public endpoint"
  fi
  echo "$err"
  # It must be the public endpoint that refuses, not a failed name lookup.
  [[ $err == *"($PG_PUBLIC_IP), port 5432 failed: Connection refused"* ]] ||
    fail "expected the public endpoint $PG_PUBLIC_IP to refuse the connection"
  ok "b-web, with no endpoint, is refused at the public endpoint"
fi
stop_background

###################################################################################################
part "Part 3: Contoso offers its own service to a partner, Fabrikam, with a private link service"

say "Contoso's 'orders' service: two backends behind an internal load balancer in vnet-a"
note "A private link service publishes a service that sits behind a Standard internal load"
note "balancer. First the service itself, reachable inside vnet-a on the frontend 10.0.3.100."
contoso vnet subnet create -g demo-contoso --vnet-name vnet-a -n services \
  --address-prefixes 10.0.3.0/24 -o table
contoso lb create -g demo-contoso -n orders-lb --vnet-name vnet-a --subnet services \
  --frontend-ip-name fe --private-ip-address 10.0.3.100 --backend-pool-name orders -o table
contoso lb probe create -g demo-contoso --lb-name orders-lb -n tcp8080 --protocol Tcp --port 8080 \
  -o table
contoso lb rule create -g demo-contoso --lb-name orders-lb -n http --protocol Tcp \
  --frontend-port 80 --backend-port 8080 --frontend-ip-name fe --backend-pool-name orders \
  --probe-name tcp8080 -o table
for i in 1 2; do
  contoso nic create -g demo-contoso -n orders-$i --vnet-name vnet-a --subnet services \
    --private-ip-address 10.0.3.1$i --lb-name orders-lb --lb-address-pools orders -o table
done
for i in 1 2; do
  bg_in_nic contoso demo-contoso orders-$i "$STATE/orders-$i.log" \
    "$PY" scripts/demo_orders.py serve 8080 orders-$i
done
wait_for 10 privlink nic exec -g demo-contoso -n a-web -- curl -sf -m 1 http://10.0.3.100/ ||
  fail "a-web could not reach the load balancer frontend 10.0.3.100"
in_nic contoso demo-contoso a-web curl -sS -m 3 http://10.0.3.100/ || fail "curl to the LB failed"
ok "inside vnet-a the service answers on the load balancer's frontend 10.0.3.100"

say "Fabrikam: another subscription, with its own service principal and its own login"
note "Fabrikam is a separate customer: its own subscription, and a principal that is Owner"
note "there and has no rights at all on Contoso's resources."
contoso subscription create -n fabrikam -o none
contoso account list -o table
FABRIKAM_SUB=$(q_contoso account list | jq -r '.[] | select(.name == "fabrikam") | .id')
[ -n "$FABRIKAM_SUB" ] || fail "the fabrikam subscription is not listed"
show_cmd contoso privlink principal create -n fabrikam-ops
SP=$(q_contoso principal create -n fabrikam-ops) || fail "principal create failed"
jq '{appId, displayName, tenantId, secret: "(printed once; used for the login below)"}' <<<"$SP"
contoso role assignment create --assignee "$(jq -r .appId <<<"$SP")" --role Owner \
  --scope "/subscriptions/$FABRIKAM_SUB" -o none
ENDPOINT=$(jq -r .endpoint "$STATE/daemon/admin.json")
mkdir -p "$FABRIKAM_CFG"
note "Each login keeps its own CLI configuration (PRIVLINK_CONFIG_DIR); 'fabrikam\$' below"
note "means the command runs with Fabrikam's login."
show_cmd fabrikam privlink login --endpoint "$ENDPOINT" --tenant "$(jq -r .tenantId <<<"$SP")" \
  --client-id "$(jq -r .appId <<<"$SP")" --client-secret '<the secret above>' \
  --ca "$STATE/daemon/ca.crt" -o table
q_fabrikam login --endpoint "$ENDPOINT" --tenant "$(jq -r .tenantId <<<"$SP")" \
  --client-id "$(jq -r .appId <<<"$SP")" --client-secret "$(jq -r .secret <<<"$SP")" \
  --ca "$STATE/daemon/ca.crt" -o table || fail "fabrikam's login failed"
show_cmd fabrikam privlink vnet list -g demo-contoso --subscription "$CONTOSO_SUB"
if q_fabrikam vnet list -g demo-contoso --subscription "$CONTOSO_SUB"; then
  fail "fabrikam can read Contoso's networks"
fi
ok "Fabrikam cannot see Contoso's resources"

say "Fabrikam's own network overlaps Contoso's: 10.0.0.0/16 again"
fabrikam group create -n fabrikam-apps -l local -o table
fabrikam vnet create -g fabrikam-apps -n vnet-f --address-prefixes 10.0.0.0/16 \
  --subnet-name apps --subnet-prefixes 10.0.1.0/24 -o table
fabrikam nic create -g fabrikam-apps -n f-app --vnet-name vnet-f --subnet apps -o table
F_APP_IP=$(q_fabrikam nic show -g fabrikam-apps -n f-app |
  jq -r '.properties.ipConfigurations[0].properties.privateIPAddress')
[ "$F_APP_IP" = 10.0.1.4 ] || fail "f-app got $F_APP_IP, expected 10.0.1.4"
ok "f-app is 10.0.1.4, exactly like Contoso's a-web"
note "A peering could never join these two networks (peers may not overlap); an endpoint can."

say "Contoso publishes the service as a private link service, visible to Fabrikam only"
note "Consumers' connections reach Contoso from a NAT address of its own (10.0.4.5 in a subnet"
note "set aside for it), so overlapping addresses never meet. 'visibility' lists who may ask"
note "for a connection; nobody is approved automatically. PROXY protocol v2 gives the backend"
note "the consumer's real address and the connection's LinkID in a header."
contoso vnet subnet create -g demo-contoso --vnet-name vnet-a -n pls-nat \
  --address-prefixes 10.0.4.0/24 --private-link-service-network-policies Disabled -o table
contoso private-link-service create -g demo-contoso -n orders-pls --lb-name orders-lb \
  --lb-frontend-ip-configs fe --vnet-name vnet-a --subnet pls-nat --private-ip-address 10.0.4.5 \
  --visibility "$FABRIKAM_SUB" --enable-proxy-protocol true -o table
ALIAS=$(q_contoso private-link-service show -g demo-contoso -n orders-pls | jq -r .properties.alias)
[ -n "$ALIAS" ] && [ "$ALIAS" != null ] || fail "the private link service has no alias"
ok "alias: $ALIAS"
note "Contoso sends this alias to Fabrikam (it names the service without revealing its id)."

say "Fabrikam asks for a private endpoint to the alias (a manual request)"
note "A private endpoint is an address in Fabrikam's own subnet (10.0.1.50) that leads to"
note "Contoso's service and nowhere else. Fabrikam has no rights on the service, so it sends a"
note "request, with a message, that Contoso must approve."
fabrikam private-endpoint create -g fabrikam-apps -n orders-pe --vnet-name vnet-f --subnet apps \
  --private-connection-resource-id "$ALIAS" --manual-request true --private-ip-address 10.0.1.50 \
  --request-message "Fabrikam purchasing needs the orders API" -o table
pe_status() {
  q_fabrikam private-endpoint show -g fabrikam-apps -n orders-pe | jq -r \
    '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status'
}
[ "$(pe_status)" = Pending ] || fail "the endpoint's connection is '$(pe_status)', expected Pending"
ok "Fabrikam sees its request: Pending"
if in_nic fabrikam fabrikam-apps f-app curl -sS -m 3 http://10.0.1.50/; then
  fail "traffic flowed through a Pending endpoint"
fi
ok "while Pending, the endpoint refuses connections at once (no timeout)"

say "Contoso sees the request and approves it"
note "The connection is one record: Contoso sees it under its service, Fabrikam under its"
note "endpoint. Its LinkIdentifier is the number PROXY v2 headers carry."
contoso private-link-service connection list -g demo-contoso --service-name orders-pls -o table
CONN=$(q_contoso private-link-service connection list -g demo-contoso --service-name orders-pls |
  jq -r '.[0].name')
LINK_ID=$(q_contoso private-link-service connection show -g demo-contoso \
  --service-name orders-pls -n "$CONN" | jq -r .properties.linkIdentifier)
note "request message: $(q_contoso private-link-service connection show -g demo-contoso \
  --service-name orders-pls -n "$CONN" | jq -r '.properties.requestMessage // empty')"
contoso private-link-service connection approve -g demo-contoso --service-name orders-pls \
  -n "$CONN" --description "Welcome, Fabrikam" -o table
[ "$(pe_status)" = Approved ] || fail "Fabrikam's view says '$(pe_status)', expected Approved"
ok "both views agree: Approved (one connection record, two views)"

say "Traffic flows: f-app -> 10.0.1.50 (its endpoint) -> Contoso's load balancer -> a backend"
note "privlink translates the endpoint's address on the way: Fabrikam's VNet hands the"
note "connection to the backbone, and Contoso's VNet receives it from its NAT address 10.0.4.5."
PRIVLINK_CONFIG_DIR=$FABRIKAM_CFG wait_for 5 privlink nic exec -g fabrikam-apps -n f-app -- \
  curl -sf -m 1 http://10.0.1.50/ || fail "f-app could not reach the service after approval"
out=$(in_nic fabrikam fabrikam-apps f-app curl -sS -m 3 http://10.0.1.50/) ||
  { echo "$out"; fail "curl through the endpoint failed"; }
echo "$out"
[[ $out == *"TCP source seen here: 10.0.4.5:"* ]] ||
  fail "the backend should see the connection from the NAT address 10.0.4.5"
ok "the backend sees the NAT address 10.0.4.5, never Fabrikam's overlapping 10.0.1.4"
if [[ $out == *"client=10.0.1.4:"*"endpoint=10.0.1.50:80 linkid=$LINK_ID"* ]]; then
  ok "PROXY v2 tells the backend the real client 10.0.1.4, the endpoint 10.0.1.50 and LinkID $LINK_ID"
elif [ "$DEMO_PPV2" = 1 ] || [[ $out != *"PROXY v2 header: none"* ]]; then
  fail "expected a PROXY v2 header with client 10.0.1.4, endpoint 10.0.1.50:80, LinkID $LINK_ID"
else
  note "(this build of privlinkd does not send PROXY v2 headers yet: the check is skipped)"
fi

say "The provider cannot connect back into Fabrikam's network"
note "An endpoint carries connections from the consumer to the provider, never the other way."
note "Fabrikam listens on port 9000 in f-app; Contoso's backend tries every address it knows."
bg_in_nic fabrikam fabrikam-apps f-app "$STATE/f-listen.log" "$PY" scripts/demo_orders.py listen 9000
wait_for 5 grep -q listening "$STATE/f-listen.log" || fail "the listener in f-app did not start"
for target in 10.0.1.4 10.0.1.50 10.0.4.5; do
  if in_nic contoso demo-contoso orders-1 curl -sS -m 1 -o /dev/null "http://$target:9000/"; then
    fail "orders-1 connected to $target:9000"
  fi
done
if grep -q ACCEPTED "$STATE/f-listen.log"; then
  fail "a connection from the provider reached f-app: $(grep ACCEPTED "$STATE/f-listen.log")"
fi
ok "nothing reached f-app (in vnet-a, 10.0.1.4 is Contoso's own a-web; 10.0.1.50 is nothing)"

say "A rejection cuts a running stream"
note "Approval is not only checked when a connection starts: f-app keeps one connection busy"
note "(ping/pong every 0.2 s), then Contoso rejects, and privlink ends the running flows."
bg_in_nic fabrikam fabrikam-apps f-app "$STATE/stream.log" \
  "$PY" scripts/demo_orders.py stream 10.0.1.50 80
STREAM_PID=${BG_PIDS[-1]}
wait_for 5 grep -q "pong 3" "$STATE/stream.log" ||
  { cat "$STATE/stream.log"; fail "the stream did not start"; }
shown=$(wc -l <"$STATE/stream.log")
head -n "$shown" "$STATE/stream.log" | sed 's/^/   /'
contoso private-link-service connection reject -g demo-contoso --service-name orders-pls \
  -n "$CONN" --description "Contract ended" -o table
wait_for 8 grep -q "stream cut" "$STATE/stream.log" ||
  { tail -n 3 "$STATE/stream.log"; fail "the stream kept running after the rejection"; }
wait "$STREAM_PID" 2>/dev/null || true
tail -n "+$((shown + 1))" "$STATE/stream.log" | sed 's/^/   /'
ok "the established connection was cut the moment Contoso rejected it"
[ "$(pe_status)" = Rejected ] || fail "Fabrikam's view says '$(pe_status)', expected Rejected"
ok "Fabrikam sees: Rejected ($(q_fabrikam private-endpoint show -g fabrikam-apps -n orders-pe |
  jq -r '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.description'))"
if in_nic fabrikam fabrikam-apps f-app curl -sS -m 3 http://10.0.1.50/; then
  fail "a new connection flowed through a Rejected endpoint"
fi
ok "and new connections are refused"
stop_background

###################################################################################################
part "Part 4: removing everything"

say "Fabrikam deletes its resource group (the endpoint and its NIC go with it)"
fabrikam group delete -n fabrikam-apps -y
say "Contoso deletes its resource group (networks, NICs, load balancer, link service, DNS, database)"
contoso group delete -n demo-contoso -y
contoso principal delete --id fabrikam-ops -o none

say "Checking that the host holds nothing of the demo"
note "privlinkd is still running: its agent removes what the deleted resources had built."
no_namespaces_left() { [ -z "$(demo_namespaces)" ]; }
wait_for 10 no_namespaces_left ||
  fail "namespaces left behind after the deletions: $(demo_namespaces | tr '\n' ' ')"
show_cmd root ip netns list "|" grep "$PREFIX"
demo_namespaces | sed 's/^/   /'
ok "no namespace of the demo is left (VNets, NICs, PaaS backends, backbone, internet)"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
show_cmd root privlinkd --name-prefix "$PREFIX" --cleanup
privlinkd --state-dir "$STATE/daemon" --name-prefix "$PREFIX" --cleanup | sed 's/^/   /'
echo
left=$(demo_namespaces)
[ -z "$left" ] || fail "namespaces left after privlinkd --cleanup: $left"
ok "ip netns list shows no ${PREFIX}* namespace; privlinkd is stopped"

part "Done in $((SECONDS - START)) s"
note "What you saw:"
note " - VNets are isolated, even with the same addresses; a peering joins two that do not overlap."
note " - A private endpoint is an address in your own VNet that leads to one service, across"
note "   overlapping networks, through NAT, in one direction only."
note " - Private DNS: a zone linked to your VNet makes the service's usual name resolve to the"
note "   endpoint, so connection strings do not change; public access can then be switched off."
note " - A private link service publishes your own load-balanced service; consumers ask, the"
note "   provider approves or rejects (a rejection cuts live connections too); PROXY v2 tells"
note "   the backend who connected and through which LinkID."
note "docs/quickstart.md walks through the same story by hand."
