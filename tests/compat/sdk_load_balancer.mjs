// privlink against the unmodified @azure/arm-network SDK: a Standard internal load balancer
// (frontend in a subnet, backend pool, TCP probe, rule), a NIC that joins the pool, the pool's
// membership as the SDK reads it, the ARM errors for an unsupported SKU, a clashing rule and a
// load balancer still in use, and the clean-up to 404.
//
// Run by run_compat.sh (see sdk_network.mjs). Prints "N passed, M failed".

import assert from "node:assert/strict";

import {
  LOCATION, SUB, checkLoopbackOnly, clientOptions, collect, credential, expectRestError, finish,
  poll, sameId, suffix, test, usableIn,
} from "./lib/harness.mjs";
import { ResourceManagementClient } from "@azure/arm-resources";
import { NetworkManagementClient } from "@azure/arm-network";

const RG = `compat-lb-${suffix}`;
const rgId = `/subscriptions/${SUB}/resourceGroups/${RG}`;
const vnetId = `${rgId}/providers/Microsoft.Network/virtualNetworks/provider`;
const subnetId = `${vnetId}/subnets/backend`;
const lbId = `${rgId}/providers/Microsoft.Network/loadBalancers/lb1`;
const nicId = `${rgId}/providers/Microsoft.Network/networkInterfaces/web1`;
const poolId = `${lbId}/backendAddressPools/pool`;

const resources = new ResourceManagementClient(credential, SUB, clientOptions);
const network = new NetworkManagementClient(credential, SUB, clientOptions);

function lbBody(extraRules = []) {
  return {
    location: LOCATION,
    sku: { name: "Standard" },
    frontendIPConfigurations: [
      { name: "fe", subnet: { id: subnetId }, privateIPAllocationMethod: "Dynamic" },
    ],
    backendAddressPools: [{ name: "pool" }],
    probes: [{ name: "tcp8080", protocol: "Tcp", port: 8080, intervalInSeconds: 5, numberOfProbes: 2 }],
    loadBalancingRules: [
      {
        name: "http",
        protocol: "Tcp",
        frontendPort: 80,
        backendPort: 8080,
        frontendIPConfiguration: { id: `${lbId}/frontendIPConfigurations/fe` },
        backendAddressPool: { id: poolId },
        probe: { id: `${lbId}/probes/tcp8080` },
      },
      ...extraRules,
    ],
  };
}

function nicBody(pools) {
  return {
    location: LOCATION,
    ipConfigurations: [{
      name: "ipconfig1",
      subnet: { id: subnetId },
      privateIPAllocationMethod: "Dynamic",
      loadBalancerBackendAddressPools: pools.map((id) => ({ id })),
    }],
  };
}

await test("setup: resource group and provider VNet", async () => {
  await resources.resourceGroups.createOrUpdate(RG, { location: LOCATION });
  const vnet = await network.virtualNetworks.beginCreateOrUpdateAndWait(RG, "provider", {
    location: LOCATION,
    addressSpace: { addressPrefixes: ["10.40.0.0/16"] },
    subnets: [{ name: "backend", addressPrefix: "10.40.1.0/24" }],
  }, poll);
  assert.equal(vnet.provisioningState, "Succeeded");
});

let frontendIp;
await test("load balancer: Standard internal LB with frontend, pool, probe and rule", async () => {
  const lb = await network.loadBalancers.beginCreateOrUpdateAndWait(RG, "lb1", lbBody(), poll);
  sameId(lb.id, lbId);
  assert.equal(lb.type, "Microsoft.Network/loadBalancers");
  assert.equal(lb.provisioningState, "Succeeded");
  assert.equal(lb.sku?.name, "Standard");
  const fe = lb.frontendIPConfigurations?.[0];
  sameId(fe?.id, `${lbId}/frontendIPConfigurations/fe`);
  sameId(fe?.subnet?.id, subnetId);
  frontendIp = fe?.privateIPAddress;
  assert.ok(frontendIp && usableIn(frontendIp, "10.40.1.0/24"),
    `frontend address ${frontendIp} is not a usable address of 10.40.1.0/24`);
  sameId(lb.backendAddressPools?.[0]?.id, poolId);
  assert.equal(lb.probes?.[0]?.port, 8080);
  assert.equal(lb.probes?.[0]?.protocol, "Tcp");
  const rule = lb.loadBalancingRules?.[0];
  assert.equal(rule?.frontendPort, 80);
  assert.equal(rule?.backendPort, 8080);
  sameId(rule?.backendAddressPool?.id, poolId);
  sameId(rule?.probe?.id, `${lbId}/probes/tcp8080`);
});

await test("load balancer: get, list at resource-group and subscription scope", async () => {
  const lb = await network.loadBalancers.get(RG, "lb1");
  assert.equal(lb.frontendIPConfigurations?.[0]?.privateIPAddress, frontendIp);
  const inRg = await collect(network.loadBalancers.list(RG));
  assert.deepEqual(inRg.map((l) => l.name), ["lb1"]);
  const inSub = await collect(network.loadBalancers.listAll());
  assert.ok(inSub.some((l) => l.id.toLowerCase() === lbId.toLowerCase()), "LB not in listAll");
});

await test("network interface: joins the backend pool", async () => {
  const nic = await network.networkInterfaces.beginCreateOrUpdateAndWait(RG, "web1",
    nicBody([poolId]), poll);
  assert.equal(nic.provisioningState, "Succeeded");
  const ipc = nic.ipConfigurations?.[0];
  sameId(ipc?.loadBalancerBackendAddressPools?.[0]?.id, poolId);
  assert.ok(usableIn(ipc.privateIPAddress, "10.40.1.0/24"));
  assert.notEqual(ipc.privateIPAddress, frontendIp, "the NIC got the frontend's address");
});

await test("backend pool: lists the NIC's ipConfiguration", async () => {
  const lb = await network.loadBalancers.get(RG, "lb1");
  const members = (lb.backendAddressPools?.[0]?.backendIPConfigurations ?? []).map((c) => c.id);
  assert.equal(members.length, 1, `pool members: ${JSON.stringify(members)}`);
  sameId(members[0], `${nicId}/ipConfigurations/ipconfig1`);
});

await test("errors: a Basic load balancer is 400 LoadBalancerSkuNotSupported", async () => {
  const body = { ...lbBody(), sku: { name: "Basic" } };
  await expectRestError(network.loadBalancers.beginCreateOrUpdateAndWait(RG, "lb-basic", body, poll),
    400, "LoadBalancerSkuNotSupported");
  await expectRestError(network.loadBalancers.get(RG, "lb-basic"), 404, "ResourceNotFound");
});

await test("errors: two rules on the same frontend port and protocol are refused", async () => {
  const clash = {
    name: "http2",
    protocol: "Tcp",
    frontendPort: 80,
    backendPort: 9090,
    frontendIPConfiguration: { id: `${lbId}/frontendIPConfigurations/fe` },
    backendAddressPool: { id: poolId },
  };
  await expectRestError(
    network.loadBalancers.beginCreateOrUpdateAndWait(RG, "lb1", lbBody([clash]), poll),
    400, "LoadBalancingRulesWithSameFrontendPortAndProtocol");
  const lb = await network.loadBalancers.get(RG, "lb1");
  assert.equal(lb.loadBalancingRules?.length, 1, "the refused update changed the LB");
});

await test("errors: a load balancer whose pool has members cannot be deleted", async () => {
  // Azure answers 400 for InUse* errors; 409 is accepted as the other conflict status.
  await expectRestError(network.loadBalancers.beginDeleteAndWait(RG, "lb1", poll), [400, 409],
    "InUseLoadBalancerCannotBeDeleted");
  const lb = await network.loadBalancers.get(RG, "lb1");
  assert.equal(lb.provisioningState, "Succeeded");
});

await test("network interface: leaving the pool empties it", async () => {
  await network.networkInterfaces.beginCreateOrUpdateAndWait(RG, "web1", nicBody([]), poll);
  const lb = await network.loadBalancers.get(RG, "lb1");
  assert.equal((lb.backendAddressPools?.[0]?.backendIPConfigurations ?? []).length, 0);
});

await test("delete: load balancer, NIC, VNet and group, then 404", async () => {
  await network.loadBalancers.beginDeleteAndWait(RG, "lb1", poll);
  await expectRestError(network.loadBalancers.get(RG, "lb1"), 404, "ResourceNotFound");
  await network.networkInterfaces.beginDeleteAndWait(RG, "web1", poll);
  await expectRestError(network.networkInterfaces.get(RG, "web1"), 404, "ResourceNotFound");
  await network.virtualNetworks.beginDeleteAndWait(RG, "provider", poll);
  await expectRestError(network.virtualNetworks.get(RG, "provider"), 404, "ResourceNotFound");
  await resources.resourceGroups.beginDeleteAndWait(RG, poll);
  await expectRestError(resources.resourceGroups.get(RG), 404, "ResourceGroupNotFound");
});

await test("network: every connection went to this machine only", async () => {
  checkLoopbackOnly();
});

await finish([
  () => network.networkInterfaces.beginCreateOrUpdateAndWait(RG, "web1", nicBody([]), poll),
  () => network.loadBalancers.beginDeleteAndWait(RG, "lb1", poll),
  () => network.networkInterfaces.beginDeleteAndWait(RG, "web1", poll),
  () => network.virtualNetworks.beginDeleteAndWait(RG, "provider", poll),
  () => resources.resourceGroups.beginDeleteAndWait(RG, poll),
]);
