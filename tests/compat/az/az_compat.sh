#!/usr/bin/env bash
# az_compat.sh PRIVLINKD: the unmodified Azure CLI (Debian azure-cli 2.45) against a real privlinkd,
# as docs/azure-cli.md describes: cloud registration from /metadata/endpoints, service-principal and
# user (-u/-p) logins through privlinkd's AD FS-style issuer, account list/show, resource groups,
# VNets with subnets and a peering, NICs, a Standard internal load balancer, role assignments via
# `az role assignment create|list|delete` (names resolved through privlinkd's Graph
# subset), `az ad sp show`, and denied calls that surface as az's normal AuthorizationFailed error.
#
# Starts its own privlinkd (temporary state directory, free loopback port), always stops it, and
# prints one line per check and "N passed, M failed"; exits non-zero when a check failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
PRIVLINKD=$(realpath "$1")
# shellcheck source=../privlinkd_fixture.sh
source "$REPO/tests/compat/privlinkd_fixture.sh"

AZ=${AZ:-/usr/bin/az}
if [ ! -x "$AZ" ]; then
  echo "az_compat: $AZ not found; run scripts/install-deps.sh (Debian package azure-cli)" >&2
  exit 1
fi

pl_workdir az 40  # WORK, STATE, LOG; the trap stops the daemon, removes its objects and WORK

PORT=$(pl_free_port)
# A unique prefix for the agent's kernel objects; the trap removes what the test left behind.
export PL_NAME_PREFIX=ta$$
pl_start "$PRIVLINKD" "$STATE" "$PORT" "$LOG" || exit 1
echo "az_compat: privlinkd pid $PL_PID at $PL_BASE"

export REQUESTS_CA_BUNDLE=$PL_CA
export AZURE_CONFIG_DIR=$WORK/az
export AZURE_CORE_COLLECT_TELEMETRY=no
export AZURE_CORE_SURVEY_MESSAGE=no
export AZURE_CORE_NO_COLOR=yes
export AZURE_CORE_ONLY_SHOW_ERRORS=yes
export PYTHONPATH=$REPO/tools/az-shim

passed=0
failed=0
LAST=""
# ok NAME CMD...: the command succeeds. Its stdout is kept in $LAST ("" after a failure).
# Secrets go as --password=VALUE: a generated secret may start with '-', which az's -p VALUE
# would take for an option.
ok() {
  local name=$1
  shift
  if LAST=$("$@" 2>"$WORK/stderr"); then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name: exit $?"
    LAST=""
    sed 's/^/     /' "$WORK/stderr" | tail -n 15
    failed=$((failed + 1))
  fi
}
# expect NAME 'jq filter' : the last output satisfies the filter.
expect() {
  local name=$1 filter=$2
  if jq -e "$filter" >/dev/null 2>&1 <<<"$LAST"; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name: $filter does not hold for: $(head -c 600 <<<"$LAST")"
    failed=$((failed + 1))
  fi
}
# denied NAME PATTERN CMD...: the command fails and its stderr matches PATTERN (extended regexp).
denied() {
  local name=$1 pattern=$2
  shift 2
  if "$@" >"$WORK/stdout" 2>"$WORK/stderr"; then
    echo "FAIL $name: succeeded but must be refused"
    failed=$((failed + 1))
  elif grep -Eq "$pattern" "$WORK/stderr"; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name: stderr does not match /$pattern/:"
    sed 's/^/     /' "$WORK/stderr" | tail -n 15
    failed=$((failed + 1))
  fi
}

# Directory set-up with the admin token (the privlink directory API is not part of az).
TOKEN=$(pl_token) || { echo "az_compat: no admin token" >&2; exit 1; }
directory() {  # directory METHOD PATH [JSON]
  curl -sS --fail-with-body --cacert "$PL_CA" -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$PL_BASE$2?api-version=2024-01-01"
}
SP_JSON=$(directory POST /providers/Microsoft.Privlink/principals \
  '{"kind":"ServicePrincipal","displayName":"az-netops"}') || exit 1
SP_APP=$(jq -r .appId <<<"$SP_JSON")
SP_OID=$(jq -r .objectId <<<"$SP_JSON")
SP_SECRET=$(jq -r .secret <<<"$SP_JSON")
USER_UPN=reader@privlink.local
USER_PASSWORD='Reader-pass-1'
USER_JSON=$(directory POST /providers/Microsoft.Privlink/principals \
  "{\"kind\":\"User\",\"userPrincipalName\":\"$USER_UPN\",\"password\":\"$USER_PASSWORD\"}") || exit 1
USER_OID=$(jq -r .objectId <<<"$USER_JSON")
LONELY_JSON=$(directory POST /providers/Microsoft.Privlink/principals \
  '{"kind":"ServicePrincipal","displayName":"az-no-roles"}') || exit 1

SUB=$PL_SUB
RG=az-rg
OTHER_RG=az-other
ROLE_API=api-version=2022-04-01
role_id() { echo "/subscriptions/$SUB/providers/Microsoft.Authorization/roleDefinitions/$1"; }
NETWORK_CONTRIBUTOR=4d97b98b-1d4f-4787-a291-c67834d212e7
READER=acdd72a7-3385-48ef-bd42-f606fba81ae7

# --- cloud and admin login ---------------------------------------------------------------------
# The Graph endpoint (for `az role assignment --assignee` and `az ad sp show`) is not in the
# 2015-01-01 metadata az reads, so the registration names it; everything else comes from
# /metadata/endpoints.
ok "cloud register from /metadata/endpoints (+ microsoftGraphResourceId)" \
  "$AZ" cloud register -n Privlink \
  --cloud-config "{\"endpoints\":{\"resourceManager\":\"$PL_BASE/\",\"microsoftGraphResourceId\":\"$PL_BASE/graph/\"}}"
ok "cloud set" "$AZ" cloud set -n Privlink
ok "login --service-principal (admin)" \
  "$AZ" login --service-principal -u "$PL_CLIENT" --password="$PL_SECRET" --tenant "$PL_TENANT" -o json
expect "login lists the default subscription" \
  "map(select(.id == \"$SUB\" and .tenantId == \"$PL_TENANT\")) | length == 1"
ok "account show" "$AZ" account show -o json
expect "account show is the default subscription" ".id == \"$SUB\" and .state == \"Enabled\""
ok "account get-access-token" "$AZ" account get-access-token -o json
expect "token is a JWT" '.accessToken | split(".") | length == 3'

ok "group create" "$AZ" group create -n "$RG" -l local -o json
expect "group create output" ".name == \"$RG\" and .properties.provisioningState == \"Succeeded\""
ok "group create (second)" "$AZ" group create -n "$OTHER_RG" -l local -o json
ok "group list" "$AZ" group list -o json
expect "group list has both" "[.[].name] | contains([\"$RG\", \"$OTHER_RG\"])"

# --- role assignments: az resolves --assignee through privlinkd's Graph subset ---------------------
ok "role assignment create --assignee <appId> (Network Contributor on $RG)" \
  "$AZ" role assignment create --assignee "$SP_APP" --role "Network Contributor" -g "$RG" -o json
expect "assignment names the role and principal" \
  ".principalId == \"$SP_OID\" and .principalType == \"ServicePrincipal\" and (.roleDefinitionId | endswith(\"$NETWORK_CONTRIBUTOR\"))"
ok "role assignment create --assignee <upn> (Reader on the subscription)" \
  "$AZ" role assignment create --assignee "$USER_UPN" --role Reader --scope "/subscriptions/$SUB" -o json
expect "user assignment" ".principalId == \"$USER_OID\" and .principalType == \"User\""
ok "role assignment list -g (names resolved through Graph)" \
  "$AZ" role assignment list -g "$RG" -o json
expect "list shows the service principal's role by name" \
  "map(select(.principalName == \"$SP_APP\" and .roleDefinitionName == \"Network Contributor\")) | length == 1"
ok "ad sp show --id <appId>" "$AZ" ad sp show --id "$SP_APP" -o json
expect "sp object" ".id == \"$SP_OID\" and .appId == \"$SP_APP\""
ok "az rest GET roleAssignments with \$filter" \
  "$AZ" rest --method get \
  --url "$PL_BASE/subscriptions/$SUB/providers/Microsoft.Authorization/roleAssignments?$ROLE_API&\$filter=principalId%20eq%20'$SP_OID'"
expect "filtered list shows the resource-group assignment" \
  ".value | length == 1 and (.[0].properties.scope | ascii_downcase | endswith(\"/resourcegroups/$RG\"))"

# --- a principal without any role ---------------------------------------------------------------
denied "login of a principal without roles finds no subscription" "[Nn]o subscriptions" \
  "$AZ" login --service-principal -u "$(jq -r .appId <<<"$LONELY_JSON")" \
  --password="$(jq -r .secret <<<"$LONELY_JSON")" --tenant "$PL_TENANT"

# --- the Network Contributor service principal ----------------------------------------------------
ok "login --service-principal (Network Contributor)" \
  "$AZ" login --service-principal -u "$SP_APP" --password="$SP_SECRET" --tenant "$PL_TENANT" -o json
expect "it sees the subscription" "map(select(.id == \"$SUB\")) | length == 1"
ok "network vnet create with a subnet" \
  "$AZ" network vnet create -g "$RG" -n vnet1 --address-prefixes 10.20.0.0/16 \
  --subnet-name default --subnet-prefixes 10.20.1.0/24 -o json
expect "vnet create output" '.newVNet.provisioningState == "Succeeded" or .newVNet.name == "vnet1"'
ok "network vnet subnet create" \
  "$AZ" network vnet subnet create -g "$RG" --vnet-name vnet1 -n backend \
  --address-prefixes 10.20.2.0/24 -o json
expect "subnet output" '.name == "backend" and .addressPrefix == "10.20.2.0/24"'
ok "network vnet show" "$AZ" network vnet show -g "$RG" -n vnet1 -o json
expect "vnet has both subnets" '[.subnets[].name] | sort == ["backend", "default"]'
ok "network vnet subnet list" "$AZ" network vnet subnet list -g "$RG" --vnet-name vnet1 -o json
expect "subnet list" 'length == 2'
ok "network vnet create (second, for peering)" \
  "$AZ" network vnet create -g "$RG" -n vnet2 --address-prefixes 10.21.0.0/16 -o json
ok "network vnet peering create" \
  "$AZ" network vnet peering create -g "$RG" -n one-to-two --vnet-name vnet1 \
  --remote-vnet vnet2 --allow-vnet-access -o json
expect "peering output" '.name == "one-to-two"'
ok "network nic create" \
  "$AZ" network nic create -g "$RG" -n nic1 --vnet-name vnet1 --subnet default -o json
expect "nic has a private IP in the subnet" \
  '[.. | objects | (.privateIPAddress // .privateIpAddress) | strings] | any(startswith("10.20.1."))'
ok "network nic show" "$AZ" network nic show -g "$RG" -n nic1 -o json
ok "network nic list" "$AZ" network nic list -g "$RG" -o json
expect "nic list" 'length == 1'
# `az network lb create` deploys an ARM template (Microsoft.Resources/deployments), which privlink
# does not implement; the load balancer itself is created with az rest, the rest is az network lb.
LB_ID=/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network/loadBalancers/lb1
ok "az rest PUT a Standard internal load balancer" \
  "$AZ" rest --method put --url "$PL_BASE$LB_ID?api-version=2022-01-01" \
  --body "{\"location\":\"local\",\"sku\":{\"name\":\"Standard\"},\"properties\":{\"frontendIPConfigurations\":[{\"name\":\"fe1\",\"properties\":{\"subnet\":{\"id\":\"/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/backend\"}}}],\"backendAddressPools\":[{\"name\":\"pool1\"}]}}"
expect "lb output" '.properties.frontendIPConfigurations[0].name == "fe1"'
ok "network lb wait --created" "$AZ" network lb wait -g "$RG" -n lb1 --created
ok "network lb probe create" \
  "$AZ" network lb probe create -g "$RG" --lb-name lb1 -n probe1 --protocol tcp --port 80 -o json
ok "network lb rule create" \
  "$AZ" network lb rule create -g "$RG" --lb-name lb1 -n rule1 --protocol tcp \
  --frontend-port 80 --backend-port 8080 --frontend-ip-name fe1 --backend-pool-name pool1 \
  --probe-name probe1 -o json
ok "network lb show" "$AZ" network lb show -g "$RG" -n lb1 -o json
expect "lb has the rule and a private frontend IP" \
  '.loadBalancingRules[0].name == "rule1" and (.frontendIPConfigurations[0].privateIPAddress | startswith("10.20.2."))'
ok "network lb list" "$AZ" network lb list -g "$RG" -o json
expect "lb list" 'length == 1'

denied "group create is refused (Network Contributor cannot write resource groups)" \
  "AuthorizationFailed.*Microsoft.Resources/subscriptions/resourceGroups/write" \
  "$AZ" group create -n az-denied -l local
denied "vnet create in another resource group is refused" \
  "AuthorizationFailed.*does not have authorization to perform action 'Microsoft.Network/virtualNetworks/write'" \
  "$AZ" network vnet create -g "$OTHER_RG" -n vnet9 -l local --address-prefixes 10.29.0.0/16
denied "role assignment create is refused (no Microsoft.Authorization/roleAssignments/write)" \
  "AuthorizationFailed.*Microsoft.Authorization/roleAssignments/write" \
  "$AZ" role assignment create --assignee "$SP_APP" --role Reader -g "$RG"
denied "role assignment through az rest is refused too" "AuthorizationFailed" \
  "$AZ" rest --method put \
  --url "$PL_BASE/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Authorization/roleAssignments/$(cat /proc/sys/kernel/random/uuid)?$ROLE_API" \
  --body "{\"properties\":{\"roleDefinitionId\":\"$(role_id $READER)\",\"principalId\":\"$SP_OID\"}}"

# --- a user with -u/-p (Reader on the subscription) -----------------------------------------------
ok "login -u/-p (user, password grant)" \
  "$AZ" login -u "$USER_UPN" --password="$USER_PASSWORD" --tenant "$PL_TENANT" -o json
expect "user login lists the subscription as a user" \
  "map(select(.id == \"$SUB\" and .user.type == \"user\")) | length == 1"
ok "reader: network vnet list" "$AZ" network vnet list -g "$RG" -o json
expect "reader sees both vnets" 'length == 2'
ok "reader: group list" "$AZ" group list -o json
denied "reader: nic delete is refused" \
  "AuthorizationFailed.*Microsoft.Network/networkInterfaces/delete" \
  "$AZ" network nic delete -g "$RG" -n nic1

# --- clean-up as the admin ----------------------------------------------------------------------
ok "login back as the admin" \
  "$AZ" login --service-principal -u "$PL_CLIENT" --password="$PL_SECRET" --tenant "$PL_TENANT" -o none
ok "role assignment delete --assignee <upn> --role Reader" \
  "$AZ" role assignment delete --assignee "$USER_UPN" --role Reader --scope "/subscriptions/$SUB"
ok "role assignment list --assignee <upn> after delete" \
  "$AZ" role assignment list --assignee "$USER_UPN" --scope "/subscriptions/$SUB" -o json
expect "the user has no assignment left" 'length == 0'
denied "the user's login now finds no subscription" "[Nn]o subscriptions" \
  "$AZ" login -u "$USER_UPN" --password="$USER_PASSWORD" --tenant "$PL_TENANT"
ok "login back as the admin (again)" \
  "$AZ" login --service-principal -u "$PL_CLIENT" --password="$PL_SECRET" --tenant "$PL_TENANT" -o none
ok "network nic delete" "$AZ" network nic delete -g "$RG" -n nic1
ok "network lb delete" "$AZ" network lb delete -g "$RG" -n lb1
ok "group delete" "$AZ" group delete -n "$RG" --yes
ok "group exists after delete" "$AZ" group exists -n "$RG"
expect "group is gone" '. == false'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
