#!/usr/bin/env bash
# The main scenario, narrated as it runs. Called by `make demo` (after the build) and by the
# `demo` test in `make check`, which fails if any step's expected outcome does not happen.
#
# It starts its own privlinkd on a free loopback port with a throwaway state directory, drives it
# only through the `privlink` CLI and ordinary tools run inside NICs, and removes everything it
# created when it ends, also when a step fails.
set -euo pipefail

BUILD=${1:-build}
cd "$(dirname "$0")/.."
BIN=$(cd "$BUILD/bin" && pwd)
PRIVLINK="$BIN/privlink"
STATE=$(mktemp -d /tmp/privlink-demo.XXXXXX)
export PRIVLINK_CONFIG_DIR="$STATE/cli"
DAEMON_PID=""
SERVER_PID=""

bold=$'\e[1m'; dim=$'\e[2m'; green=$'\e[32m'; red=$'\e[31m'; off=$'\e[0m'
[ -t 1 ] || { bold=""; dim=""; green=""; red=""; off=""; }

say()  { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
note() { printf '%s   %s%s\n' "$dim" "$*" "$off"; }
run()  { printf '%s$ %s%s\n' "$bold" "$*" "$off"; "$@"; }
ok()   { printf '%s   ✔ %s%s\n' "$green" "$*" "$off"; }
fail() { printf '%s   ✘ %s%s\n' "$red" "$*" "$off"; exit 1; }

cleanup() {
  local rc=$?
  set +e
  if [ -n "$SERVER_PID" ]; then
    pkill -P "$SERVER_PID" 2>/dev/null; kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
  fi
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    say "Cleaning up: deleting the resource groups, then stopping privlinkd"
    for g in demo-contoso demo-fabrikam; do "$PRIVLINK" group delete -n "$g" >/dev/null 2>&1; done
    kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
  fi
  "$BIN/privlinkd" --state-dir "$STATE/daemon" --cleanup >/dev/null 2>&1
  rm -rf "$STATE"
  exit $rc
}
trap cleanup EXIT INT TERM

say "Starting privlinkd (HTTPS on a free loopback port, state in $STATE/daemon)"
"$BIN/privlinkd" --state-dir "$STATE/daemon" --listen 127.0.0.1:0 >"$STATE/privlinkd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
  grep -q "listening on" "$STATE/privlinkd.log" 2>/dev/null && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$STATE/privlinkd.log"; fail "privlinkd exited"; }
  sleep 0.1
done
note "$(grep 'listening on' "$STATE/privlinkd.log")"
note "On first start privlinkd made a CA, a server certificate, a token-signing key, a tenant,"
note "a subscription and an admin service principal; admin.json holds the credentials."

say "Logging in with the CLI (OAuth2 client credentials against privlinkd's own issuer)"
run "$PRIVLINK" login --state-dir "$STATE/daemon"

say "A resource group, then two virtual networks that use the very same 10.0.0.0/16"
run "$PRIVLINK" group create -n demo-contoso -l local -o table
run "$PRIVLINK" vnet create -g demo-contoso -n vnet-a --address-prefixes 10.0.0.0/16 \
  --subnet-name apps --subnet-prefixes 10.0.1.0/24 -o table
run "$PRIVLINK" vnet create -g demo-contoso -n vnet-b --address-prefixes 10.0.0.0/16 \
  --subnet-name apps --subnet-prefixes 10.0.1.0/24 -o table
run "$PRIVLINK" vnet subnet create -g demo-contoso --vnet-name vnet-a -n data --address-prefixes 10.0.2.0/24 -o table

say "Workloads: a NIC is a network namespace with eth0 in its subnet"
run "$PRIVLINK" nic create -g demo-contoso -n a-web --vnet-name vnet-a --subnet apps -o table
run "$PRIVLINK" nic create -g demo-contoso -n a-db --vnet-name vnet-a --subnet data --private-ip-address 10.0.2.10 -o table
run "$PRIVLINK" nic create -g demo-contoso -n b-web --vnet-name vnet-b --subnet apps -o table
note "a-web and b-web got the same address, 10.0.1.4, each in its own VNet."

say "An internal Standard load balancer in vnet-a"
run "$PRIVLINK" lb create -g demo-contoso -n web-lb --vnet-name vnet-a --subnet apps \
  --frontend-ip-name fe --private-ip-address 10.0.1.100 --backend-pool-name web -o table
run "$PRIVLINK" lb probe create -g demo-contoso --lb-name web-lb -n http --protocol Tcp --port 80 -o table
run "$PRIVLINK" lb rule create -g demo-contoso --lb-name web-lb -n http --protocol Tcp \
  --frontend-port 80 --backend-port 8080 --frontend-ip-name fe --backend-pool-name web --probe-name http -o table

say "Everything, as a table"
run "$PRIVLINK" vnet list -g demo-contoso -o table
run "$PRIVLINK" nic list -g demo-contoso -o table
run "$PRIVLINK" lb list -g demo-contoso -o table

if [ "${PRIVLINK_DEMO_DATAPLANE:-1}" = 1 ]; then
  say "Traffic: a web server in a-db (10.0.2.10), a client in a-web (another subnet of vnet-a)"
  "$PRIVLINK" nic exec -g demo-contoso -n a-db -- python3 -m http.server 80 --bind 10.0.2.10 \
    >"$STATE/http-a.log" 2>&1 &
  SERVER_PID=$!
  sleep 1
  if run "$PRIVLINK" nic exec -g demo-contoso -n a-web -- curl -sS -m 3 -o /dev/null -w '%{http_code}\n' http://10.0.2.10/; then
    ok "a-web reaches a-db across subnets inside vnet-a"
  else
    fail "a-web could not reach a-db"
  fi

  say "Isolation: b-web lives in vnet-b, which has the same address space and no peering"
  if "$PRIVLINK" nic exec -g demo-contoso -n b-web -- curl -sS -m 2 -o /dev/null http://10.0.2.10/ 2>/dev/null; then
    fail "b-web reached vnet-a: isolation is broken"
  else
    ok "b-web cannot reach 10.0.2.10: in vnet-b that address does not exist"
  fi

  say "Peering opens the way for a third VNet (10.1.0.0/16; peered spaces may not overlap)"
  run "$PRIVLINK" vnet create -g demo-contoso -n vnet-c --address-prefixes 10.1.0.0/16 \
    --subnet-name apps --subnet-prefixes 10.1.1.0/24 -o table
  run "$PRIVLINK" nic create -g demo-contoso -n c-app --vnet-name vnet-c --subnet apps -o table
  if "$PRIVLINK" nic exec -g demo-contoso -n c-app -- curl -sS -m 2 -o /dev/null http://10.0.2.10/ 2>/dev/null; then
    fail "c-app reached vnet-a before any peering"
  else
    ok "before peering: c-app cannot reach vnet-a"
  fi
  run "$PRIVLINK" vnet peering create -g demo-contoso -n a-to-c --vnet-name vnet-a --remote-vnet vnet-c -o table
  note "One side alone is 'Initiated' and carries nothing; the other side makes it 'Connected'."
  run "$PRIVLINK" vnet peering create -g demo-contoso -n c-to-a --vnet-name vnet-c --remote-vnet vnet-a -o table
  if run "$PRIVLINK" nic exec -g demo-contoso -n c-app -- curl -sS -m 3 -o /dev/null -w '%{http_code}\n' http://10.0.2.10/; then
    ok "after peering: c-app reaches a-db"
  else
    fail "c-app could not reach a-db through the peering"
  fi
fi

say "Done. Removing everything the demo created."
