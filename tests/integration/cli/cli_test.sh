#!/usr/bin/env bash
# cli_test.sh PRIVLINKD PRIVLINK: the privlink CLI end to end against a real daemon.
#
# Starts privlinkd on a fresh state directory and a free loopback port, logs in from its
# admin.json, creates a resource group, a VNet with two subnets, an internal load balancer with a
# probe and a rule, and a NIC in the LB's backend pool; lists them as tables; checks error output
# and exit codes; deletes everything. Always deletes the test's resource group and stops the
# daemon (trap). Resource names carry a unique prefix; VNet addresses live only in the
# namespaces the daemon creates. Prints "N passed, M failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PRIVLINKD=$(realpath "$1")
PRIVLINK=$(realpath "$2")
# shellcheck source=../../testing/cli_harness.sh
source "$HERE/../../testing/cli_harness.sh"

cli_workdir cli-it  # WORK, STATE, LOG; the trap stops the daemon, removes its objects and WORK
RG=clitest-$$-$RANDOM
STEP_TIMEOUT=${CLI_STEP_TIMEOUT:-120}

pl_on_exit() {  # called by the trap while the daemon still runs
  if [ -n "${PL_PID:-}" ] && [ -s "$PRIVLINK_CONFIG_DIR/config.json" ]; then
    # Remove what the test made (the agent tears down its namespaces) before stopping.
    timeout "$STEP_TIMEOUT" "$PRIVLINK" group delete -n "$RG" -y >/dev/null 2>&1 || true
  fi
}

# --- start the daemon --------------------------------------------------------------------------
# The agent works under a prefix of its own: the default "pl" would own (and could remove) the
# namespaces of a privlinkd already running on this host.
export PL_NAME_PREFIX=tl$$
pl_start "$PRIVLINKD" "$STATE" 0 "$LOG" || exit 1
echo "privlinkd at $PL_BASE"

# --- login -------------------------------------------------------------------------------------
pl group list
check "commands before login say so" bash -c "[ $CODE -eq 1 ] && grep -q 'privlink login' <<<\"\$0\"" "$ERR"

pl login --state-dir "$STATE"
check "login --state-dir" ok
check "login saves config with mode 0600" \
  test "$(stat -c %a "$PRIVLINK_CONFIG_DIR/config.json")" = 600
SUB=$(jq -r .subscriptionId "$STATE/admin.json")
check "login prints the default subscription" json_is '.[] | select(.isDefault) | .id' "$SUB"

pl account show
check "account show" json_is .id "$SUB"

# --- create ------------------------------------------------------------------------------------
pl group create -n "$RG" -l local
check "group create" json_is .properties.provisioningState Succeeded

pl vnet create -g "$RG" -n vnet1 --address-prefixes 10.50.0.0/16 --subnet-name default \
  --subnet-prefixes 10.50.1.0/24
check "vnet create (location from the group)" json_is .properties.provisioningState Succeeded
check "vnet create has the subnet" json_is '.properties.subnets[0].name' default
check "vnet location defaults to the group's" json_is .location local

pl vnet subnet create -g "$RG" --vnet-name vnet1 -n lbsubnet --address-prefixes 10.50.2.0/24 \
  --private-link-service-network-policies Disabled
check "subnet create" json_is .properties.provisioningState Succeeded

pl lb create -g "$RG" -n lb1 --vnet-name vnet1 --subnet lbsubnet --private-ip-address 10.50.2.10 \
  --backend-pool-name be
check "lb create" json_is .properties.provisioningState Succeeded
check "lb frontend ip" json_is '.properties.frontendIPConfigurations[0].properties.privateIPAddress' \
  10.50.2.10

pl lb probe create -g "$RG" --lb-name lb1 -n p80 --protocol Tcp --port 8080
check "lb probe create prints the probe" json_is .name p80

pl lb rule create -g "$RG" --lb-name lb1 -n r80 --protocol Tcp --frontend-port 80 \
  --backend-port 8080 --probe-name p80
check "lb rule create prints the rule" json_is .properties.backendPort 8080

pl nic create -g "$RG" -n nic1 --vnet-name vnet1 --subnet default --private-ip-address 10.50.1.20 \
  --lb-name lb1 --lb-address-pools be
check "nic create" json_is .properties.provisioningState Succeeded
check "nic static address" json_is '.properties.ipConfigurations[0].properties.privateIPAddress' \
  10.50.1.20

# --- list as tables ----------------------------------------------------------------------------
pl vnet list -g "$RG" -o table
check "vnet list -o table" bash -c 'grep -q "^Name  *ResourceGroup  *Location  *ProvisioningState" <<<"$0" && grep -q "^vnet1 .*10.50.0.0/16" <<<"$0"' "$OUT"
pl vnet subnet list -g "$RG" --vnet-name vnet1 -o table
check "subnet list -o table" bash -c 'grep -q "^lbsubnet .*10.50.2.0/24" <<<"$0"' "$OUT"
pl nic list -g "$RG" -o table
check "nic list -o table" bash -c 'grep -q "PrivateIPAddress" <<<"$0" && grep -q "^nic1 .*10.50.1.20" <<<"$0"' "$OUT"
pl lb list -g "$RG" -o table
check "lb list -o table" bash -c 'grep -q "^lb1 .*Standard  *10.50.2.10" <<<"$0"' "$OUT"
pl lb rule list -g "$RG" --lb-name lb1 -o tsv
check "lb rule list -o tsv" bash -c 'grep -q "^r80	" <<<"$0"' "$OUT"
pl group list -o table
check "group list -o table" out_has "$RG"

# --- errors ------------------------------------------------------------------------------------
pl vnet show -g "$RG" -n does-not-exist
check "missing resource: exit 1, 'Code: message' on stderr" \
  bash -c "[ $CODE -eq 1 ] && grep -Eq '^[A-Za-z]+: .+' <<<\"\$0\"" "$ERR"
pl vnet create -g "$RG"
check "usage error exits 2" test "$CODE" -eq 2

# --- delete ------------------------------------------------------------------------------------
pl nic delete -g "$RG" -n nic1
check "nic delete" ok
pl lb delete -g "$RG" -n lb1
check "lb delete" ok
pl vnet delete -g "$RG" -n vnet1
check "vnet delete" ok
pl vnet show -g "$RG" -n vnet1
check "deleted vnet is gone" test "$CODE" -eq 1
pl group delete -n "$RG" -y
check "group delete" ok
pl group exists -n "$RG"
check "group no longer exists" test "$OUT" = false

check_summary
