#!/usr/bin/env bash
# ppv2_daemon_test.sh PRIVLINKD PRIVLINK: PROXY protocol v2 through a private endpoint, realised
# by a real privlinkd (its agent runs the splice proxy), driven by the privlink CLI.
#
# Starts privlinkd (fresh state directory, free loopback port, unique --name-prefix), creates a
# consumer VNet with a client NIC and a provider VNet (same 10.61.0.0/16 address space) with an
# internal load balancer whose backend NIC runs HAProxy with `accept-proxy`, a private link
# service created with --enable-proxy-protocol, and a private endpoint to it (auto-approved: the
# admin holds the approval permission). curl from the client NIC through the endpoint must get
# HAProxy's answer naming the client's own address (10.61.1.4), not the PLS NAT IP. Always
# deletes the resource group, stops HAProxy and the daemon and removes the daemon's namespaces
# (trap). Prints "N passed, M failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PRIVLINKD=$(realpath "$1")
PRIVLINK=$(realpath "$2")
# shellcheck source=../../testing/cli_harness.sh
source "$HERE/../../testing/cli_harness.sh"

# WORK, STATE, LOG; the trap calls pl_on_exit, stops the daemon, removes every namespace of this
# prefix (whatever the agent left) and WORK.
cli_workdir ppv2-it
export PL_NAME_PREFIX=pp$$
export PRIVLINK_NAME_PREFIX=$PL_NAME_PREFIX
RG=ppv2test-$$-$RANDOM
STEP_TIMEOUT=${CLI_STEP_TIMEOUT:-120}
HAPROXY_PID=""

pl_on_exit() {  # called by the trap while the daemon still runs
  if [ -n "$HAPROXY_PID" ]; then
    kill -TERM -- "-$HAPROXY_PID" 2>/dev/null || kill -TERM "$HAPROXY_PID" 2>/dev/null || true
    wait "$HAPROXY_PID" 2>/dev/null || true
  fi
  if [ -n "${PL_PID:-}" ] && [ -s "$PRIVLINK_CONFIG_DIR/config.json" ]; then
    timeout "$STEP_TIMEOUT" "$PRIVLINK" group delete -n "$RG" -y >/dev/null 2>&1 || true
  fi
}

command -v haproxy >/dev/null || { echo "install haproxy (scripts/install-deps.sh)"; exit 1; }

pl_start "$PRIVLINKD" "$STATE" 0 "$LOG" || exit 1
echo "privlinkd at $PL_BASE (name prefix $PL_NAME_PREFIX)"

pl login --state-dir "$STATE"; must "login"
pl group create -n "$RG" -l local; must "group create"

# Provider: VNet, LB (frontend 10.61.2.10, rule 80 -> 8080, TCP probe), backend NIC, PLS.
pl vnet create -g "$RG" -n provider --address-prefixes 10.61.0.0/16 --subnet-name backends \
  --subnet-prefixes 10.61.1.0/24; must "provider vnet"
pl vnet subnet create -g "$RG" --vnet-name provider -n front --address-prefixes 10.61.2.0/24 \
  --private-link-service-network-policies Disabled; must "provider frontend subnet"
pl lb create -g "$RG" -n lb --vnet-name provider --subnet front --private-ip-address 10.61.2.10 \
  --frontend-ip-name fe --backend-pool-name be; must "lb create"
pl lb probe create -g "$RG" --lb-name lb -n p --protocol Tcp --port 8080; must "lb probe"
pl lb rule create -g "$RG" --lb-name lb -n r --protocol Tcp --frontend-port 80 \
  --backend-port 8080 --probe-name p; must "lb rule"
pl nic create -g "$RG" -n web --vnet-name provider --subnet backends \
  --private-ip-address 10.61.1.5 --lb-name lb --lb-address-pools be; must "backend nic"
pl private-link-service create -g "$RG" -n pls --vnet-name provider --subnet front \
  --lb-name lb --lb-frontend-ip-configs fe --enable-proxy-protocol true
must "pls create --enable-proxy-protocol"
check "pls has enableProxyProtocol" json_is .properties.enableProxyProtocol true
NAT_IP=$(jq -r '.properties.ipConfigurations[0].properties.privateIPAddress' <<<"$OUT")
PLS_ID=$(jq -r .id <<<"$OUT")

# Consumer: the same address space, the client at 10.61.1.4, the endpoint.
pl vnet create -g "$RG" -n consumer --address-prefixes 10.61.0.0/16 --subnet-name default \
  --subnet-prefixes 10.61.1.0/24; must "consumer vnet"
pl nic create -g "$RG" -n client --vnet-name consumer --subnet default \
  --private-ip-address 10.61.1.4; must "client nic"
pl private-endpoint create -g "$RG" -n pe --vnet-name consumer --subnet default \
  --private-connection-resource-id "$PLS_ID" --connection-name c --private-ip-address 10.61.1.9
must "private-endpoint create"
check "endpoint auto-approved" \
  json_is '.properties.privateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' \
  Approved

# HAProxy with accept-proxy in the backend NIC answers with what the header says.
cat >"$WORK/haproxy.cfg" <<CFG
global
  maxconn 100
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend fe
  bind 0.0.0.0:8080 accept-proxy
  http-request return status 200 content-type text/plain lf-string "client=%[src] endpoint=%[dst]:%[dst_port] peer=%[fc_src]\n"
CFG
setsid "$PRIVLINK" nic exec -g "$RG" -n web -- haproxy -db -f "$WORK/haproxy.cfg" \
  >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!

BODY=""
for ((i = 0; i < 60; i++)); do
  BODY=$(timeout 10 "$PRIVLINK" nic exec -g "$RG" -n client -- \
    curl -s --max-time 2 http://10.61.1.9/ 2>/dev/null || true)
  [ -n "$BODY" ] && break
  sleep 0.5
done
# peer: the TCP source the backend sees (fc_src, not rewritten by the header): the NAT IP, also
# now that the proxy opens the connection in the provider VNet (splice_proxy.h DirectUpstream).
check "haproxy behind the daemon's proxy sees the client's address, from the NAT IP" \
  test "$BODY" = "client=10.61.1.4 endpoint=10.61.1.9:80 peer=$NAT_IP"
check "the NAT IP ($NAT_IP) is not what the backend was told" \
  bash -c '! grep -q "$0" <<<"$1"' "client=$NAT_IP" "$BODY"

check_summary
