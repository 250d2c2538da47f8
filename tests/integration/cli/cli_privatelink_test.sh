#!/usr/bin/env bash
# cli_privatelink_test.sh PRIVLINKD PRIVLINK: the Private Link command groups of the privlink CLI
# end to end against a real daemon (`--role api,controller`: no agent, so nothing touches the
# kernel and every change is Succeeded at once):
#   private-link-service create/show/list/update/delete and connection list/show/approve/reject/
#   remove/delete; private-endpoint create/show/list/list-types/delete and dns-zone-group
#   create/show/list/add/remove/delete; paas create/show/list/update/delete and connection
#   list/approve; private-dns zone, link vnet and record-set (a, txt, list, soa).
# Each group also checks one bad input: exit code 1 and the ARM error code and message on stderr.
# Starts privlinkd on a fresh state directory and a free loopback port with a unique
# --name-prefix; always stops it and removes its state directory (trap). Prints "N passed, M failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PRIVLINKD=$(realpath "$1")
PRIVLINK=$(realpath "$2")
command -v jq >/dev/null || { echo "FAIL: jq is required"; exit 1; }
# shellcheck source=../../testing/cli_harness.sh
source "$HERE/../../testing/cli_harness.sh"

cli_workdir cli-pl  # WORK, STATE, LOG; the trap stops the daemon and removes WORK
RG=clipl-$$-$RANDOM
STEP_TIMEOUT=${CLI_STEP_TIMEOUT:-60}

# --- daemon and login ---------------------------------------------------------------------------
export PL_NAME_PREFIX=tq$$
PL_EXTRA_ARGS=(--role api,controller)
pl_start "$PRIVLINKD" "$STATE" 0 "$LOG" || exit 1
echo "privlinkd at $PL_BASE"
pl login --state-dir "$STATE"
check "login" ok
SUB=$(jq -r .subscriptionId "$STATE/admin.json")
NET=/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network

pl group create -n "$RG" -l local
check "group create" ok
pl vnet create -g "$RG" -n prov --address-prefixes 10.80.0.0/16 --subnet-name fe \
  --subnet-prefixes 10.80.1.0/24
check "provider vnet" json_is .properties.provisioningState Succeeded
pl vnet subnet create -g "$RG" --vnet-name prov -n nat --address-prefixes 10.80.2.0/24 \
  --private-link-service-network-policies Disabled
check "NAT subnet (network policies Disabled)" ok
pl lb create -g "$RG" -n lb1 --vnet-name prov --subnet fe --frontend-ip-name fe1 \
  --backend-pool-name be
check "internal load balancer" json_is '.properties.frontendIPConfigurations[0].name' fe1
pl vnet create -g "$RG" -n cons --address-prefixes 10.90.0.0/16 --subnet-name pe \
  --subnet-prefixes 10.90.1.0/24
check "consumer vnet" ok

# --- private-link-service ----------------------------------------------------------------------
pl private-link-service create -g "$RG" -n pls1 --lb-name lb1 --lb-frontend-ip-configs fe1 \
  --vnet-name prov --subnet nat --visibility "$SUB" --fqdns svc.contoso.example
check "pls create" json_is .properties.provisioningState Succeeded
ALIAS=$(jq -r .properties.alias <<<"$OUT")
check "pls create: alias name.guid.region.azure.privatelinkservice" \
  bash -c '[[ $0 =~ ^pls1\.[0-9a-f-]{36}\.local\.azure\.privatelinkservice$ ]]' "$ALIAS"
check "pls create: a NAT IP from the NAT subnet" \
  bash -c '[[ $0 == 10.80.2.* ]]' "$(jq -r '.properties.ipConfigurations[0].properties.privateIPAddress' <<<"$OUT")"
pl private-link-service show -g "$RG" -n pls1
check "pls show" json_is .properties.alias "$ALIAS"
pl private-link-service list -g "$RG"
check "pls list" json_is 'map(.name) | join(",")' pls1
pl private-link-service list -g "$RG" -o table
check "pls list -o table shows the alias" out_has "$ALIAS"
pl private-link-service update -g "$RG" -n pls1 --fqdns svc.contoso.example api.contoso.example
check "pls update (fqdns), alias kept" \
  bash -c '[ "$(jq -r ".properties.fqdns | length" <<<"$0")" = 2 ] && [ "$(jq -r .properties.alias <<<"$0")" = "$1" ]' \
  "$OUT" "$ALIAS"
pl private-link-service create -g "$RG" -n pls-bad --lb-name lb1 --lb-frontend-ip-configs fe1 \
  --vnet-name prov --subnet nat
check "pls bad input: a frontend another service uses" \
  arm_error LoadBalancerFrontendIpConfigurationInUseByPrivateLinkService "each frontend serves one"

# --- private-endpoint --------------------------------------------------------------------------
pl private-endpoint create -g "$RG" -n pe1 --vnet-name cons --subnet pe \
  --private-connection-resource-id "$NET/privateLinkServices/pls1" --connection-name c1 \
  --manual-request --request-message "please approve pe1"
check "pe create (manual, by id): Pending" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' Pending
PE1_IP=$(jq -r '.properties.customDnsConfigs[0].ipAddresses[0]' <<<"$OUT")
check "pe create: customDnsConfigs from the service's fqdns" \
  json_is '.properties.customDnsConfigs[0].fqdn' svc.contoso.example
pl private-endpoint create -g "$RG" -n pe2 --vnet-name cons --subnet pe \
  --private-connection-resource-id "$ALIAS" --manual-request --private-ip-address 10.90.1.40
check "pe create (manual, by alias, static address): Pending" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' Pending
check "pe create: the static address" json_is '.properties.customDnsConfigs[0].ipAddresses[0]' 10.90.1.40
pl private-endpoint show -g "$RG" -n pe1
check "pe show" json_is '.properties.customDnsConfigs[0].ipAddresses[0]' "$PE1_IP"
pl private-endpoint list -g "$RG"
check "pe list" json_is 'map(.name) | sort | join(",")' pe1,pe2
pl private-endpoint list-types -l local
check "pe list-types (availablePrivateEndpointTypes)" \
  json_is 'map(select(.resourceName == "Microsoft.Network/privateLinkServices")) | length' 1
pl private-endpoint create -g "$RG" -n pe-bad --vnet-name cons --subnet pe \
  --private-connection-resource-id "$NET/privateLinkServices/pls1" --manual-request \
  --request-message "$(printf 'x%.0s' {1..141})"
check "pe bad input: request message longer than 140 characters" arm_error RequestMessageTooLong 140
pl private-endpoint create -g "$RG" -n pe-auto --vnet-name cons --subnet pe \
  --private-connection-resource-id "$ALIAS"
check "pe bad input: automatic request by alias" arm_error PrivateEndpointAliasRequiresManualConnection manual

# --- private-link-service connection -----------------------------------------------------------
pl private-link-service connection list -g "$RG" --service-name pls1
check "connection list: two Pending requests" \
  json_is 'map(.properties.privateLinkServiceConnectionState.status) | join(",")' Pending,Pending
C1=$(jq -r --arg pe "$NET/privateEndpoints/pe1" \
  'map(select((.properties.privateEndpoint.id | ascii_downcase) == ($pe | ascii_downcase))) | .[0].name' <<<"$OUT")
C2=$(jq -r --arg pe "$NET/privateEndpoints/pe2" \
  'map(select((.properties.privateEndpoint.id | ascii_downcase) == ($pe | ascii_downcase))) | .[0].name' <<<"$OUT")
check "connection names" bash -c '[ -n "$0" ] && [ "$0" != null ] && [ -n "$1" ] && [ "$1" != null ]' "$C1" "$C2"
pl private-link-service connection list -g "$RG" --service-name pls1 -o table
check "connection list -o table" bash -c 'grep -q "Status" <<<"$0" && grep -q "Pending" <<<"$0"' "$OUT"
pl private-link-service connection approve -g "$RG" --service-name pls1 -n "$C1" \
  --description "welcome"
check "connection approve" json_is .properties.privateLinkServiceConnectionState.status Approved
pl private-endpoint show -g "$RG" -n pe1
check "approve: the consumer's view reads Approved" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.description' welcome
pl private-link-service delete -g "$RG" -n pls1
check "pls bad input: delete while a connection is approved" \
  arm_error CannotDeletePrivateLinkServiceWithPrivateEndpointConnections "Reject or remove them first"
pl private-link-service connection reject -g "$RG" --service-name pls1 -n "$C2" --description "no"
check "connection reject" json_is .properties.privateLinkServiceConnectionState.status Rejected
pl private-endpoint show -g "$RG" -n pe2
check "reject: the consumer's view reads Rejected" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' Rejected
pl private-link-service connection show -g "$RG" --service-name pls1 -n "$C2"
check "connection show" json_is .properties.privateLinkServiceConnectionState.description no
pl private-link-service connection remove -g "$RG" --service-name pls1 -n "$C1"
check "connection remove" ok
pl private-endpoint show -g "$RG" -n pe1
check "remove: the consumer sees Disconnected" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' Disconnected
pl private-link-service connection approve -g "$RG" --service-name pls1 -n "$C1"
check "connection bad input: approving a Disconnected connection" \
  arm_error PrivateEndpointConnectionDisconnected final

# --- private-dns zone / link / record-set ------------------------------------------------------
ZONE=privatelink.contoso.example
pl private-dns zone create -g "$RG" -n "$ZONE"
check "zone create" json_is .properties.provisioningState Succeeded
pl private-dns zone show -g "$RG" -n "$ZONE"
check "zone show: the SOA counts" json_is .properties.numberOfRecordSets 1
pl private-dns zone list -g "$RG"
check "zone list" json_is 'map(.name) | join(",")' "$ZONE"
pl private-dns zone create -g "$RG" -n single
check "zone bad input: a one-label name" arm_error InvalidResourceName "2 to 34 labels"
pl private-dns link vnet create -g "$RG" -n cons-link -z "$ZONE" -v cons -e false
check "link vnet create" json_is .properties.virtualNetworkLinkState Completed
pl private-dns link vnet show -g "$RG" -n cons-link -z "$ZONE"
check "link vnet show" json_is .properties.registrationEnabled false
pl private-dns link vnet list -g "$RG" -z "$ZONE"
check "link vnet list" json_is 'length' 1
pl private-dns link vnet create -g "$RG" -n again -z "$ZONE" -v cons -e false
check "link bad input: a second link for the same VNet" arm_error VirtualNetworkAlreadyLinked cons
pl private-dns record-set a add-record -g "$RG" -z "$ZONE" -n www -a 10.90.1.50
check "record-set a add-record" json_is '.properties.aRecords[0].ipv4Address' 10.90.1.50
pl private-dns record-set txt add-record -g "$RG" -z "$ZONE" -n info -v hello
check "record-set txt add-record" json_is '.properties.txtRecords[0].value[0]' hello
pl private-dns record-set a show -g "$RG" -z "$ZONE" -n www
check "record-set a show" json_is .properties.fqdn "www.$ZONE."
pl private-dns record-set cname set-record -g "$RG" -z "$ZONE" -n www -c elsewhere.example
check "record-set bad input: a CNAME where an A record set is" arm_error RecordSetConflictsWithCname www
pl private-dns zone delete -g "$RG" -n "$ZONE" -y
check "zone bad input: delete while links exist" arm_error CannotDeleteZoneWithVirtualNetworkLinks link

# Auto-registration: a registration-enabled link makes a NIC's name a record of the zone.
pl private-dns link vnet update -g "$RG" -n cons-link -z "$ZONE" -e true
check "link vnet update (registration)" json_is .properties.registrationEnabled true
pl nic create -g "$RG" -n VM1 --vnet-name cons --subnet pe --private-ip-address 10.90.1.60
check "nic create" ok
pl private-dns record-set a show -g "$RG" -z "$ZONE" -n vm1
check "record-set a show: the auto-registered NIC record" \
  bash -c '[ "$(jq -r .properties.isAutoRegistered <<<"$0")" = true ] && [ "$(jq -r ".properties.aRecords[0].ipv4Address" <<<"$0")" = 10.90.1.60 ]' "$OUT"
pl private-dns record-set a list -g "$RG" -z "$ZONE"
check "record-set a list: stored and auto-registered" json_is 'map(.name) | sort | join(",")' vm1,www
pl private-dns record-set list -g "$RG" -z "$ZONE"
check "record-set list: every type" json_is 'map(.name) | sort | join(",")' "@,info,vm1,www"
pl nic delete -g "$RG" -n VM1
check "nic delete" ok
pl private-dns record-set a list -g "$RG" -z "$ZONE"
check "record-set a list: the NIC's record went with it" json_is 'map(.name) | join(",")' www

# --- private-endpoint dns-zone-group -----------------------------------------------------------
pl private-endpoint dns-zone-group create -g "$RG" --endpoint-name pe2 -n default \
  --private-dns-zone "$ZONE" --zone-name z1
check "dns-zone-group create: the endpoint's A record" \
  json_is '.properties.privateDnsZoneConfigs[0].properties.recordSets[0].ipAddresses[0]' 10.90.1.40
pl private-dns record-set a show -g "$RG" -z "$ZONE" -n pls1
check "dns-zone-group: A record pls1 -> the endpoint (ttl 10)" \
  bash -c '[ "$(jq -r ".properties.aRecords[0].ipv4Address" <<<"$0")" = 10.90.1.40 ] && [ "$(jq -r .properties.ttl <<<"$0")" = 10 ]' "$OUT"
pl private-endpoint dns-zone-group show -g "$RG" --endpoint-name pe2 -n default
check "dns-zone-group show" json_is '.properties.privateDnsZoneConfigs | length' 1
pl private-endpoint dns-zone-group list -g "$RG" --endpoint-name pe2
check "dns-zone-group list" json_is 'map(.name) | join(",")' default
pl private-dns zone create -g "$RG" -n second.contoso.example
pl private-endpoint dns-zone-group add -g "$RG" --endpoint-name pe2 -n default \
  --private-dns-zone second.contoso.example --zone-name z2
check "dns-zone-group add" json_is '.properties.privateDnsZoneConfigs | length' 2
pl private-endpoint dns-zone-group remove -g "$RG" --endpoint-name pe2 -n default --zone-name z2
check "dns-zone-group remove" json_is '.properties.privateDnsZoneConfigs | length' 1
pl private-endpoint dns-zone-group create -g "$RG" --endpoint-name pe1 -n default \
  --private-dns-zone missing.contoso.example --zone-name z1
check "dns-zone-group bad input: a zone that does not exist" arm_error "" missing.contoso.example
pl private-endpoint dns-zone-group delete -g "$RG" --endpoint-name pe2 -n default
check "dns-zone-group delete" ok
pl private-dns record-set a show -g "$RG" -z "$ZONE" -n pls1
check "dns-zone-group delete removed its record" test "$CODE" -eq 1

# --- paas --------------------------------------------------------------------------------------
DB=db$$x$RANDOM
pl paas create -g "$RG" -n "$DB" --type Microsoft.Sql/servers
check "paas create" json_is .properties.fullyQualifiedDomainName "$DB.database.windows.net"
pl paas show -g "$RG" -n "$DB" --type Microsoft.Sql/servers
check "paas show" json_is .properties.publicNetworkAccess Enabled
pl paas list -g "$RG" --type Microsoft.Sql/servers
check "paas list" json_is 'map(.name) | join(",")' "$DB"
pl paas update -g "$RG" -n "$DB" --type Microsoft.Sql/servers --public-network-access Disabled
check "paas update" json_is .properties.publicNetworkAccess Disabled
pl group create -n "$RG-2" -l local
pl paas create -g "$RG-2" -n "$DB" --type Microsoft.Sql/servers
check "paas bad input: the name is taken (global DNS name)" arm_error NameNotAvailable "$DB"
pl group delete -n "$RG-2" -y
pl private-endpoint create -g "$RG" -n pe-sql --vnet-name cons --subnet pe \
  --private-connection-resource-id "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Sql/servers/$DB" \
  --group-id sqlServer --manual-request
check "pe to the PaaS resource: Pending" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' Pending
pl paas connection list -g "$RG" --type Microsoft.Sql/servers --resource-name "$DB"
check "paas connection list" json_is 'length' 1
SQLC=$(jq -r '.[0].name' <<<"$OUT")
pl paas connection approve -g "$RG" --type Microsoft.Sql/servers --resource-name "$DB" -n "$SQLC"
check "paas connection approve" json_is .properties.privateLinkServiceConnectionState.status Approved
pl private-endpoint show -g "$RG" -n pe-sql
check "paas approve: the consumer's view" \
  json_is '.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status' Approved

# --- delete ------------------------------------------------------------------------------------
for pe in pe1 pe2 pe-sql; do
  pl private-endpoint delete -g "$RG" -n "$pe"
  check "pe delete $pe" ok
done
pl private-endpoint show -g "$RG" -n pe1
check "deleted pe is gone" arm_error ResourceNotFound pe1
pl private-link-service delete -g "$RG" -n pls1
check "pls delete" ok
pl private-link-service show -g "$RG" -n pls1
check "deleted pls is gone" test "$CODE" -eq 1
pl paas delete -g "$RG" -n "$DB" --type Microsoft.Sql/servers -y
check "paas delete" ok
pl private-dns link vnet delete -g "$RG" -n cons-link -z "$ZONE" -y
check "link vnet delete" ok
pl private-dns zone delete -g "$RG" -n "$ZONE" -y
check "zone delete" ok
pl group delete -n "$RG" -y
check "group delete" ok

check_summary
