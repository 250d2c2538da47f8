// privlink against the unmodified Azure SDK for JavaScript (@azure/identity, @azure/arm-resources,
// @azure/arm-network): the real OAuth client-credentials flow against privlinkd's issuer, then
// resource groups, a virtual network with two subnets and network interfaces through their whole
// life cycle (create with long-running operations, read, list with paging, update, delete, 404).
//
// Run by run_compat.sh, which starts privlinkd and sets PRIVLINK_ADMIN (path of admin.json) and
// NODE_EXTRA_CA_CERTS (the daemon's CA). Prints one line per test and a closing
// "N passed, M failed"; exits non-zero when a test failed.

import assert from "node:assert/strict";

import {
  BASE, LOCATION, SUB, checkLoopbackOnly, clientOptions, collect, credential, expectRestError,
  finish, grantRole, makeCredential, newPrincipal, poll, principalCredential, sameId, suffix, test,
  usableIn,
} from "./lib/harness.mjs";
import { ResourceManagementClient } from "@azure/arm-resources";
import { NetworkManagementClient } from "@azure/arm-network";

const RG = `compat-rg-${suffix}`;
const EXTRA_RGS = [1, 2, 3, 4, 5].map((i) => `compat-page-${suffix}-${i}`);
const VNET = "vnet1";
const rgId = `/subscriptions/${SUB}/resourceGroups/${RG}`;
const vnetId = `${rgId}/providers/Microsoft.Network/virtualNetworks/${VNET}`;

const resources = new ResourceManagementClient(credential, SUB, clientOptions);
const network = new NetworkManagementClient(credential, SUB, clientOptions);

// --- Tests -----------------------------------------------------------------------------------
let createdVnet;
let nicDynamic;

await test("identity: client-credentials token from privlinkd's issuer", async () => {
  const token = await credential.getToken(`${BASE}/.default`);
  assert.ok(token?.token, "no token");
  assert.equal(token.token.split(".").length, 3, "access token is not a JWT");
  assert.ok(token.expiresOnTimestamp > Date.now() + 60_000, "token expires too soon");
});

await test("identity: a wrong client secret is refused", async () => {
  const bad = makeCredential("not-the-secret");
  await assert.rejects(bad.getToken(`${BASE}/.default`), (err) => {
    // 400/401 invalid_client surfaces as AuthenticationError or AuthenticationRequiredError.
    assert.match(err.name, /^Authentication(Required)?Error$/, `${err.name}: ${err.message}`);
    assert.match(err.message, /invalid_client|unauthorized_client|invalid_grant/, err.message);
    return true;
  });
});

await test("resource group: create (201) and read back", async () => {
  const rg = await resources.resourceGroups.createOrUpdate(RG, {
    location: LOCATION,
    tags: { suite: "compat" },
  });
  sameId(rg.id, rgId);
  assert.equal(rg.name, RG);
  assert.equal(rg.type, "Microsoft.Resources/resourceGroups");
  assert.equal(rg.location, LOCATION);
  assert.equal(rg.properties?.provisioningState, "Succeeded");
  const got = await resources.resourceGroups.get(RG);
  sameId(got.id, rgId);
  assert.deepEqual(got.tags, { suite: "compat" });
  assert.equal(await resources.resourceGroups.checkExistence(RG).then((r) => r.body), true);
});

await test("resource group: a missing group is 404 ResourceGroupNotFound", async () => {
  await expectRestError(resources.resourceGroups.get(`compat-missing-${suffix}`), 404,
    "ResourceGroupNotFound");
  assert.equal(
    await resources.resourceGroups.checkExistence(`compat-missing-${suffix}`).then((r) => r.body),
    false);
});

await test("virtual network: beginCreateOrUpdateAndWait with two subnets", async () => {
  createdVnet = await network.virtualNetworks.beginCreateOrUpdateAndWait(RG, VNET, {
    location: LOCATION,
    tags: { tier: "test" },
    addressSpace: { addressPrefixes: ["10.20.0.0/16"] },
    subnets: [
      { name: "front", addressPrefix: "10.20.1.0/24" },
      { name: "back", addressPrefix: "10.20.2.0/24" },
    ],
  }, poll);
  sameId(createdVnet.id, vnetId);
  assert.equal(createdVnet.name, VNET);
  assert.equal(createdVnet.type, "Microsoft.Network/virtualNetworks");
  assert.equal(createdVnet.location, LOCATION);
  assert.equal(createdVnet.provisioningState, "Succeeded");
  assert.ok(createdVnet.etag, "no etag");
  assert.deepEqual(createdVnet.addressSpace?.addressPrefixes, ["10.20.0.0/16"]);
  assert.deepEqual(createdVnet.tags, { tier: "test" });
  const subnets = Object.fromEntries((createdVnet.subnets ?? []).map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(subnets).sort(), ["back", "front"]);
  sameId(subnets.front.id, `${vnetId}/subnets/front`);
  sameId(subnets.back.id, `${vnetId}/subnets/back`);
  assert.equal(subnets.front.addressPrefix, "10.20.1.0/24");
  assert.equal(subnets.back.addressPrefix, "10.20.2.0/24");
});

await test("virtual network: get, and subnets get/list", async () => {
  const vnet = await network.virtualNetworks.get(RG, VNET);
  sameId(vnet.id, vnetId);
  assert.equal(vnet.provisioningState, "Succeeded");
  assert.equal(vnet.subnets?.length, 2);
  const front = await network.subnets.get(RG, VNET, "front");
  sameId(front.id, `${vnetId}/subnets/front`);
  assert.equal(front.addressPrefix, "10.20.1.0/24");
  assert.equal(front.provisioningState, "Succeeded");
  const all = await collect(network.subnets.list(RG, VNET));
  assert.deepEqual(all.map((s) => s.name).sort(), ["back", "front"]);
});

await test("network interface: dynamic IP inside the subnet", async () => {
  const subnetId = `${vnetId}/subnets/back`;
  nicDynamic = await network.networkInterfaces.beginCreateOrUpdateAndWait(RG, "nic-dyn", {
    location: LOCATION,
    ipConfigurations: [{
      name: "ipconfig1",
      subnet: { id: subnetId },
      privateIPAllocationMethod: "Dynamic",
    }],
  }, poll);
  sameId(nicDynamic.id, `${rgId}/providers/Microsoft.Network/networkInterfaces/nic-dyn`);
  assert.equal(nicDynamic.type, "Microsoft.Network/networkInterfaces");
  assert.equal(nicDynamic.provisioningState, "Succeeded");
  const ipc = nicDynamic.ipConfigurations?.[0];
  assert.ok(ipc, "no ipConfigurations");
  sameId(ipc.subnet?.id, subnetId);
  assert.equal(ipc.privateIPAllocationMethod, "Dynamic");
  assert.ok(ipc.privateIPAddress && usableIn(ipc.privateIPAddress, "10.20.2.0/24"),
    `privateIPAddress ${ipc.privateIPAddress} is not a usable address of 10.20.2.0/24`);
});

await test("network interface: static IP is kept, and get returns it", async () => {
  const subnetId = `${vnetId}/subnets/front`;
  const nic = await network.networkInterfaces.beginCreateOrUpdateAndWait(RG, "nic-static", {
    location: LOCATION,
    ipConfigurations: [{
      name: "ipconfig1",
      subnet: { id: subnetId },
      privateIPAllocationMethod: "Static",
      privateIPAddress: "10.20.1.10",
    }],
  }, poll);
  assert.equal(nic.provisioningState, "Succeeded");
  const got = await network.networkInterfaces.get(RG, "nic-static");
  assert.equal(got.ipConfigurations?.[0]?.privateIPAddress, "10.20.1.10");
  assert.equal(got.ipConfigurations?.[0]?.privateIPAllocationMethod, "Static");
  sameId(got.ipConfigurations?.[0]?.subnet?.id, subnetId);
});

await test("list: virtual networks and NICs at resource-group and subscription scope", async () => {
  const inRg = await collect(network.virtualNetworks.list(RG));
  assert.deepEqual(inRg.map((v) => v.name), [VNET]);
  const inSub = await collect(network.virtualNetworks.listAll());
  assert.ok(inSub.some((v) => v.id.toLowerCase() === vnetId.toLowerCase()), "VNet not in listAll");
  const nics = await collect(network.networkInterfaces.list(RG));
  assert.deepEqual(nics.map((n) => n.name).sort(), ["nic-dyn", "nic-static"]);
  const nicsSub = await collect(network.networkInterfaces.listAll());
  assert.ok(nicsSub.filter((n) => n.id.toLowerCase().startsWith(rgId.toLowerCase() + "/")).length
    === 2, "NICs missing from the subscription-scope list");
});

await test("list: resource groups page through nextLink (top=2)", async () => {
  for (const name of EXTRA_RGS) {
    await resources.resourceGroups.createOrUpdate(name, { location: LOCATION });
  }
  let pages = 0;
  const names = [];
  for await (const page of resources.resourceGroups.list({ top: 2 }).byPage()) {
    pages++;
    assert.ok(page.length <= 2, `page of ${page.length} items despite top=2`);
    names.push(...page.map((g) => g.name));
    assert.ok(pages < 1000, "paging does not end");
  }
  assert.ok(pages >= 3, `expected at least 3 pages, got ${pages}`);
  for (const name of [RG, ...EXTRA_RGS]) assert.ok(names.includes(name), `${name} not listed`);
  assert.equal(new Set(names).size, names.length, "a group was listed twice");
  const flat = await collect(resources.resourceGroups.list());
  for (const name of [RG, ...EXTRA_RGS]) assert.ok(flat.some((g) => g.name === name));
});

await test("virtual network: PUT update (200) changes tags and etag", async () => {
  const before = await network.virtualNetworks.get(RG, VNET);
  const updated = await network.virtualNetworks.beginCreateOrUpdateAndWait(RG, VNET, {
    ...before,
    tags: { tier: "test", round: "2" },
  }, poll);
  assert.deepEqual(updated.tags, { tier: "test", round: "2" });
  assert.equal(updated.provisioningState, "Succeeded");
  assert.notEqual(updated.etag, before.etag, "etag did not change on update");
  assert.equal(updated.subnets?.length, 2);
});

await test("virtual network: PATCH updateTags", async () => {
  const patched = await network.virtualNetworks.updateTags(RG, VNET, { tags: { patched: "yes" } });
  assert.deepEqual(patched.tags, { patched: "yes" });
  const got = await network.virtualNetworks.get(RG, VNET);
  assert.deepEqual(got.tags, { patched: "yes" });
  assert.equal(got.subnets?.length, 2, "PATCH of tags lost the subnets");
});

await test("errors: a subnet outside the address space is a RestError with the ARM code", async () => {
  const err = await expectRestError(
    network.virtualNetworks.beginCreateOrUpdateAndWait(RG, "vnet-bad", {
      location: LOCATION,
      addressSpace: { addressPrefixes: ["10.30.0.0/16"] },
      subnets: [{ name: "outside", addressPrefix: "10.99.1.0/24" }],
    }, poll),
    400, "NetcfgSubnetRangeOutsideVnet");
  assert.match(err.message, /10\.99\.1\.0\/24/, "message does not name the offending prefix");
  await expectRestError(network.virtualNetworks.get(RG, "vnet-bad"), 404, "ResourceNotFound");
});

await test("errors: a missing virtual network is 404 ResourceNotFound", async () => {
  await expectRestError(network.virtualNetworks.get(RG, "vnet-missing"), 404, "ResourceNotFound");
});

// --- Authorization: a second principal with its own client secret -----------------------------
// The admin creates it through privlinkd's directory API and gives it Reader on the group; its
// writes surface as the SDK's normal RestError 403 AuthorizationFailed, and a principal without
// any role sees no subscription at all.
const READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
let reader;

await test("authorization: a Reader on the group reads but cannot write (403 AuthorizationFailed)", async () => {
  reader = await newPrincipal("reader");
  await grantRole(reader, READER, SUB, rgId);
  const asReader = new NetworkManagementClient(principalCredential(reader), SUB, clientOptions);
  const got = await asReader.virtualNetworks.get(RG, VNET);
  sameId(got.id, vnetId);
  const err = await expectRestError(asReader.virtualNetworks.beginCreateOrUpdateAndWait(RG, "vnet-denied", {
    location: LOCATION,
    addressSpace: { addressPrefixes: ["10.9.0.0/16"] },
  }, poll), 403, "AuthorizationFailed");
  assert.match(err.message, /does not have authorization to perform action 'Microsoft\.Network\/virtualNetworks\/write'/,
    err.message);
  assert.ok(err.message.includes(reader.objectId) || err.message.includes(reader.appId), err.message);
  await expectRestError(network.virtualNetworks.get(RG, "vnet-denied"), 404, "ResourceNotFound");
});

await test("authorization: a principal without any role sees an empty subscription list", async () => {
  const lonely = await newPrincipal("lonely");
  const token = await principalCredential(lonely).getToken(`${BASE}/.default`);
  const res = await fetch(`${BASE}/subscriptions?api-version=2022-12-01`,
    { headers: { authorization: `Bearer ${token.token}` } });
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).value, []);
  const asLonely = new ResourceManagementClient(principalCredential(lonely), SUB, clientOptions);
  await expectRestError(asLonely.resourceGroups.get(RG), 403, "AuthorizationFailed");
});

await test("delete: NICs (beginDeleteAndWait), then 404", async () => {
  for (const name of ["nic-dyn", "nic-static"]) {
    await network.networkInterfaces.beginDeleteAndWait(RG, name, poll);
    await expectRestError(network.networkInterfaces.get(RG, name), 404, "ResourceNotFound");
  }
});

await test("delete: virtual network, then 404", async () => {
  await network.virtualNetworks.beginDeleteAndWait(RG, VNET, poll);
  await expectRestError(network.virtualNetworks.get(RG, VNET), 404, "ResourceNotFound");
  await expectRestError(network.subnets.get(RG, VNET, "front"), 404, ["ResourceNotFound", "NotFound"]);
  const inRg = await collect(network.virtualNetworks.list(RG));
  assert.equal(inRg.length, 0);
});

await test("delete: resource groups, then 404 ResourceGroupNotFound", async () => {
  for (const name of [RG, ...EXTRA_RGS]) {
    await resources.resourceGroups.beginDeleteAndWait(name, poll);
    await expectRestError(resources.resourceGroups.get(name), 404, "ResourceGroupNotFound");
  }
  const flat = await collect(resources.resourceGroups.list());
  assert.ok(!flat.some((g) => g.name === RG || EXTRA_RGS.includes(g.name)), "a deleted group is listed");
});

await test("network: every connection went to this machine only", async () => {
  checkLoopbackOnly();
});

// Best-effort clean-up when a test failed half-way, so the daemon's kernel state goes too.
await finish([
  () => network.networkInterfaces.beginDeleteAndWait(RG, "nic-dyn", poll),
  () => network.networkInterfaces.beginDeleteAndWait(RG, "nic-static", poll),
  () => network.virtualNetworks.beginDeleteAndWait(RG, VNET, poll),
  ...[RG, ...EXTRA_RGS].map((n) => () => resources.resourceGroups.beginDeleteAndWait(n, poll)),
]);
