// privlink's Private Link approval workflow driven by the unmodified @azure/arm-network SDK with
// three principals of privlinkd's directory (issue #4 "done when"):
//   provider  Network Contributor on the provider group in the default subscription: builds a
//             VNet, a Standard internal load balancer and a private link service on it, and
//             approves / rejects connections (privateLinkServices.updatePrivateEndpointConnection);
//   consumer  Network Contributor on a group in a second subscription (created by the admin
//             through Microsoft.Subscription/aliases): discovers the service by alias and makes
//             manual requests (Pending), reads the decision in its endpoint;
//   outsider  Network Contributor on a group the service is not visible to.
// Both views (the service's privateEndpointConnections and the endpoint's
// manualPrivateLinkServiceConnections) are read after each decision; a denied automatic request
// and the principals' missing rights surface as the SDK's normal RestError 403.
//
// Run by run_compat.sh (see sdk_network.mjs). Prints "N passed, M failed".

import assert from "node:assert/strict";

import {
  LOCATION, SUB, adminCall, checkLoopbackOnly, clientOptions, collect, credential,
  expectRestError, finish, grantRole, newPrincipal, poll, principalCredential, sameId, suffix, test,
  usableIn,
} from "./lib/harness.mjs";
import { ResourceManagementClient } from "@azure/arm-resources";
import { NetworkManagementClient } from "@azure/arm-network";

const NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7";
const PROV_RG = `compat-pl-prov-${suffix}`;
const CONS_RG = `compat-pl-cons-${suffix}`;
const OUT_RG = `compat-pl-out-${suffix}`;
const provRgId = `/subscriptions/${SUB}/resourceGroups/${PROV_RG}`;
const provNet = `${provRgId}/providers/Microsoft.Network`;
const plsId = `${provNet}/privateLinkServices/pls`;

const resources = new ResourceManagementClient(credential, SUB, clientOptions);

async function grant(principal, subscription, scope) {
  await grantRole(principal, NETWORK_CONTRIBUTOR, subscription, scope);
}
const networkAs = (p, subscription) =>
  new NetworkManagementClient(principalCredential(p), subscription, clientOptions);

let SUB2;
let provider;
let consumer;
let outsider;
let asProvider;
let asConsumer;
let asOutsider;
let consRgId;
let consNet;

await test("setup: a second subscription, three principals, their groups and roles", async () => {
  const alias = await adminCall("PUT", `/providers/Microsoft.Subscription/aliases/compat-pl-${suffix}`,
    { properties: { displayName: `consumer ${suffix}`, workload: "Production" } });
  SUB2 = alias.properties?.subscriptionId;
  assert.match(SUB2 ?? "", /^[0-9a-f-]{36}$/, JSON.stringify(alias));
  assert.notEqual(SUB2, SUB);
  consRgId = `/subscriptions/${SUB2}/resourceGroups/${CONS_RG}`;
  consNet = `${consRgId}/providers/Microsoft.Network`;

  await resources.resourceGroups.createOrUpdate(PROV_RG, { location: LOCATION });
  await resources.resourceGroups.createOrUpdate(OUT_RG, { location: LOCATION });
  const resources2 = new ResourceManagementClient(credential, SUB2, clientOptions);
  await resources2.resourceGroups.createOrUpdate(CONS_RG, { location: LOCATION });

  [provider, consumer, outsider] = await Promise.all(
    ["provider", "consumer", "outsider"].map(newPrincipal));
  await grant(provider, SUB, provRgId);
  await grant(consumer, SUB2, consRgId);
  await grant(outsider, SUB, `/subscriptions/${SUB}/resourceGroups/${OUT_RG}`);
  asProvider = networkAs(provider, SUB);
  asConsumer = networkAs(consumer, SUB2);
  asOutsider = networkAs(outsider, SUB);
});

let alias;
await test("provider: VNet, Standard internal load balancer and a private link service on its frontend", async () => {
  const vnet = await asProvider.virtualNetworks.beginCreateOrUpdateAndWait(PROV_RG, "provider", {
    location: LOCATION,
    addressSpace: { addressPrefixes: ["10.60.0.0/16"] },
    subnets: [
      { name: "frontend", addressPrefix: "10.60.1.0/24" },
      { name: "nat", addressPrefix: "10.60.2.0/24", privateLinkServiceNetworkPolicies: "Disabled" },
    ],
  }, poll);
  assert.equal(vnet.provisioningState, "Succeeded");
  const lb = await asProvider.loadBalancers.beginCreateOrUpdateAndWait(PROV_RG, "lb", {
    location: LOCATION,
    sku: { name: "Standard" },
    frontendIPConfigurations: [{
      name: "fe", subnet: { id: `${provNet}/virtualNetworks/provider/subnets/frontend` },
    }],
    backendAddressPools: [{ name: "pool" }],
  }, poll);
  assert.equal(lb.provisioningState, "Succeeded");

  const pls = await asProvider.privateLinkServices.beginCreateOrUpdateAndWait(PROV_RG, "pls", {
    location: LOCATION,
    loadBalancerFrontendIpConfigurations: [{ id: `${provNet}/loadBalancers/lb/frontendIPConfigurations/fe` }],
    ipConfigurations: [{
      name: "nat1",
      subnet: { id: `${provNet}/virtualNetworks/provider/subnets/nat` },
      privateIPAllocationMethod: "Dynamic",
      primary: true,
    }],
    visibility: { subscriptions: [SUB2] },
    autoApproval: { subscriptions: [] },
    fqdns: [`svc-${suffix}.contoso.example`],
  }, poll);
  sameId(pls.id, plsId);
  assert.equal(pls.provisioningState, "Succeeded");
  alias = pls.alias;
  assert.match(alias ?? "", /^pls\.[0-9a-f-]{36}\.local\.azure\.privatelinkservice$/, `alias ${alias}`);
  const nat = pls.ipConfigurations?.[0];
  assert.ok(nat?.privateIPAddress && usableIn(nat.privateIPAddress, "10.60.2.0/24"),
    `NAT address ${nat?.privateIPAddress}`);
  assert.deepEqual(pls.visibility?.subscriptions, [SUB2]);
  assert.deepEqual(pls.privateEndpointConnections ?? [], []);
});

await test("discovery: the consumer sees the alias, the outsider does not, RBAC counts for the provider", async () => {
  const mine = await asConsumer.privateLinkServices.beginCheckPrivateLinkServiceVisibilityByResourceGroupAndWait(
    LOCATION, CONS_RG, { privateLinkServiceAlias: alias }, poll);
  assert.equal(mine.visible, true, "visible to the subscription in the visibility list");
  const theirs = await asOutsider.privateLinkServices.beginCheckPrivateLinkServiceVisibilityByResourceGroupAndWait(
    LOCATION, OUT_RG, { privateLinkServiceAlias: alias }, poll);
  assert.equal(theirs.visible, false, "the outsider's subscription is not listed and it may not read the PLS");
  const own = await asProvider.privateLinkServices.beginCheckPrivateLinkServiceVisibilityByResourceGroupAndWait(
    LOCATION, PROV_RG, { privateLinkServiceAlias: alias }, poll);
  assert.equal(own.visible, true, "the provider may read its own PLS");
  // The consumer holds its role on its group only: the subscription-wide check is not its to make.
  await expectRestError(asConsumer.privateLinkServices.beginCheckPrivateLinkServiceVisibilityAndWait(
    LOCATION, { privateLinkServiceAlias: alias }, poll), 403, "AuthorizationFailed");
  const auto = await collect(asConsumer.privateLinkServices
    .listAutoApprovedPrivateLinkServicesByResourceGroup(LOCATION, CONS_RG));
  assert.deepEqual(auto, [], "nothing is auto-approved for the consumer's subscription");
  const types = await collect(asConsumer.availablePrivateEndpointTypes.listByResourceGroup(LOCATION, CONS_RG));
  assert.ok(types.some((t) => t.resourceName === "Microsoft.Network/privateLinkServices"),
    JSON.stringify(types));
});

await test("consumer: VNet and two manual requests (by alias and by id) land Pending", async () => {
  const vnet = await asConsumer.virtualNetworks.beginCreateOrUpdateAndWait(CONS_RG, "consumer", {
    location: LOCATION,
    addressSpace: { addressPrefixes: ["10.60.0.0/16"] },  // overlaps the provider's on purpose
    subnets: [{ name: "endpoints", addressPrefix: "10.60.5.0/24" }],
  }, poll);
  assert.equal(vnet.provisioningState, "Succeeded");
  for (const [name, target] of [["pe-alias", () => alias], ["pe-id", () => plsId]]) {
    const pe = await asConsumer.privateEndpoints.beginCreateOrUpdateAndWait(CONS_RG, name, {
      location: LOCATION,
      subnet: { id: `${consNet}/virtualNetworks/consumer/subnets/endpoints` },
      manualPrivateLinkServiceConnections: [{
        name: `${name}-conn`, privateLinkServiceId: target(), requestMessage: `please let ${name} in`,
      }],
    }, poll);
    assert.equal(pe.provisioningState, "Succeeded");
    assert.deepEqual(pe.privateLinkServiceConnections ?? [], []);
    const conn = pe.manualPrivateLinkServiceConnections?.[0];
    assert.equal(conn?.privateLinkServiceConnectionState?.status, "Pending", JSON.stringify(conn));
    assert.equal(conn?.requestMessage, `please let ${name} in`);
    const address = pe.customDnsConfigs?.[0]?.ipAddresses?.[0];
    assert.ok(address && usableIn(address, "10.60.5.0/24"), `endpoint address ${address}`);
    assert.equal(pe.customDnsConfigs?.[0]?.fqdn, `svc-${suffix}.contoso.example`);
    assert.equal(pe.networkInterfaces?.length, 1);
  }
});

async function providerConnection(peName) {
  const all = await collect(asProvider.privateLinkServices.listPrivateEndpointConnections(PROV_RG, "pls"));
  const found = all.find((c) => c.privateEndpoint?.id?.toLowerCase() ===
    `${consNet}/privateEndpoints/${peName}`.toLowerCase());
  assert.ok(found, `no connection of ${peName} in ${JSON.stringify(all.map((c) => c.privateEndpoint?.id))}`);
  return found;
}
async function bothViews(peName) {
  const pls = await asProvider.privateLinkServices.get(PROV_RG, "pls");
  const fromPls = pls.privateEndpointConnections?.find((c) => c.privateEndpoint?.id?.toLowerCase() ===
    `${consNet}/privateEndpoints/${peName}`.toLowerCase());
  const pe = await asConsumer.privateEndpoints.get(CONS_RG, peName);
  const fromPe = pe.manualPrivateLinkServiceConnections?.[0];
  return { provider: fromPls?.privateLinkServiceConnectionState, consumer: fromPe?.privateLinkServiceConnectionState, fromPls };
}

await test("provider: sees both requests Pending with request message and link identifier", async () => {
  for (const peName of ["pe-alias", "pe-id"]) {
    const conn = await providerConnection(peName);
    assert.equal(conn.privateLinkServiceConnectionState?.status, "Pending");
    assert.equal(conn.privateLinkServiceConnectionState?.description, "Awaiting approval");
    assert.match(conn.linkIdentifier ?? "", /^\d+$/, `linkIdentifier ${conn.linkIdentifier}`);
    assert.equal(conn.privateEndpointLocation, LOCATION);
    const one = await asProvider.privateLinkServices.getPrivateEndpointConnection(PROV_RG, "pls", conn.name);
    assert.equal(one.id.toLowerCase(), conn.id.toLowerCase());
  }
});

await test("authorization: the consumer cannot approve its own request; the provider cannot read the endpoint", async () => {
  const conn = await providerConnection("pe-alias");
  await expectRestError(asConsumer.privateLinkServices.updatePrivateEndpointConnection(PROV_RG, "pls",
    conn.name, { privateLinkServiceConnectionState: { status: "Approved", description: "self" } }),
  403, "AuthorizationFailed");
  const provider2 = networkAs(provider, SUB2);
  await expectRestError(provider2.privateEndpoints.get(CONS_RG, "pe-alias"), 403, "AuthorizationFailed");
});

await test("approve: privateLinkServices.updatePrivateEndpointConnection; both views read Approved", async () => {
  const conn = await providerConnection("pe-alias");
  const updated = await asProvider.privateLinkServices.updatePrivateEndpointConnection(PROV_RG, "pls",
    conn.name, {
      name: conn.name,
      privateLinkServiceConnectionState: { status: "Approved", description: "approved by the provider" },
    });
  assert.equal(updated.privateLinkServiceConnectionState?.status, "Approved");
  assert.equal(updated.linkIdentifier, conn.linkIdentifier, "the link identifier never changes");
  const views = await bothViews("pe-alias");
  assert.equal(views.provider?.status, "Approved");
  assert.equal(views.consumer?.status, "Approved");
  assert.equal(views.consumer?.description, "approved by the provider");
});

await test("reject: the provider rejects the other request; the consumer sees Rejected", async () => {
  const conn = await providerConnection("pe-id");
  const updated = await asProvider.privateLinkServices.updatePrivateEndpointConnection(PROV_RG, "pls",
    conn.name, { privateLinkServiceConnectionState: { status: "Rejected", description: "not this one" } });
  assert.equal(updated.privateLinkServiceConnectionState?.status, "Rejected");
  const views = await bothViews("pe-id");
  assert.equal(views.provider?.status, "Rejected");
  assert.equal(views.consumer?.status, "Rejected");
  assert.equal(views.consumer?.description, "not this one");
  // The approved one is untouched.
  assert.equal((await bothViews("pe-alias")).consumer?.status, "Approved");
});

await test("errors: an automatic request without approval rights is the SDK's 403; the provider cannot create a connection", async () => {
  const err = await expectRestError(asConsumer.privateEndpoints.beginCreateOrUpdateAndWait(CONS_RG, "pe-auto", {
    location: LOCATION,
    subnet: { id: `${consNet}/virtualNetworks/consumer/subnets/endpoints` },
    privateLinkServiceConnections: [{ name: "auto", privateLinkServiceId: plsId }],
  }, poll), 403, "LinkedAuthorizationFailed");
  assert.match(err.message, /manual/i, `the message should point to a manual request: ${err.message}`);
  await expectRestError(asConsumer.privateEndpoints.get(CONS_RG, "pe-auto"), 404, "ResourceNotFound");
  await expectRestError(asProvider.privateLinkServices.updatePrivateEndpointConnection(PROV_RG, "pls",
    "made-up", { privateLinkServiceConnectionState: { status: "Approved" } }),
  400, "PrivateEndpointConnectionCannotBeCreatedByServiceProvider");
});

await test("remove: the provider deletes the approved connection; the consumer sees Disconnected", async () => {
  const conn = await providerConnection("pe-alias");
  await asProvider.privateLinkServices.beginDeletePrivateEndpointConnectionAndWait(PROV_RG, "pls", conn.name, poll);
  const pe = await asConsumer.privateEndpoints.get(CONS_RG, "pe-alias");
  assert.equal(pe.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status,
    "Disconnected");
  const left = await collect(asProvider.privateLinkServices.listPrivateEndpointConnections(PROV_RG, "pls"));
  assert.equal(left.length, 1, "only the rejected request is left");
});

await test("delete: endpoints, then the service, load balancer and VNets; then 404", async () => {
  for (const name of ["pe-alias", "pe-id"]) {
    await asConsumer.privateEndpoints.beginDeleteAndWait(CONS_RG, name, poll);
    await expectRestError(asConsumer.privateEndpoints.get(CONS_RG, name), 404, "ResourceNotFound");
  }
  await asProvider.privateLinkServices.beginDeleteAndWait(PROV_RG, "pls", poll);
  await expectRestError(asProvider.privateLinkServices.get(PROV_RG, "pls"), 404, "ResourceNotFound");
  await asProvider.loadBalancers.beginDeleteAndWait(PROV_RG, "lb", poll);
  await asProvider.virtualNetworks.beginDeleteAndWait(PROV_RG, "provider", poll);
  await asConsumer.virtualNetworks.beginDeleteAndWait(CONS_RG, "consumer", poll);
});

await test("delete: resource groups", async () => {
  const resources2 = new ResourceManagementClient(credential, SUB2, clientOptions);
  await resources2.resourceGroups.beginDeleteAndWait(CONS_RG, poll);
  for (const name of [PROV_RG, OUT_RG]) await resources.resourceGroups.beginDeleteAndWait(name, poll);
  await expectRestError(resources.resourceGroups.get(PROV_RG), 404, "ResourceGroupNotFound");
});

await test("network: every connection went to this machine only", async () => {
  checkLoopbackOnly();
});

// Best-effort clean-up when a test failed half-way, so the daemon's kernel state goes too.
await finish([
  () => asConsumer.privateEndpoints.beginDeleteAndWait(CONS_RG, "pe-alias", poll),
  () => asConsumer.privateEndpoints.beginDeleteAndWait(CONS_RG, "pe-id", poll),
  () => new ResourceManagementClient(credential, SUB2, clientOptions).resourceGroups.beginDeleteAndWait(CONS_RG, poll),
  ...[PROV_RG, OUT_RG].map((n) => () => resources.resourceGroups.beginDeleteAndWait(n, poll)),
]);
