#include "cli/network_requests.h"

#include <gtest/gtest.h>

namespace privlink::cli {
namespace {

constexpr const char* kSub = "00000000-0000-0000-0000-000000000001";
const std::string kRg = std::string("/subscriptions/") + kSub + "/resourceGroups/rg";
const std::string kNet = kRg + "/providers/Microsoft.Network";

TEST(PathsTest, BuildsArmPaths) {
  EXPECT_EQ(resourceGroupPath(kSub, "rg"), kRg);
  EXPECT_EQ(withNetworkApi(networkPath(kSub, "rg", "virtualNetworks", "v 1")),
            kNet + "/virtualNetworks/v%201?api-version=2024-07-01");
  EXPECT_EQ(withResourcesApi(resourceGroupPath(kSub, "rg")), kRg + "?api-version=2021-04-01");
}

TEST(PathsTest, ResolvesNamesAndIds) {
  EXPECT_EQ(resolveNetworkId("v2", kSub, "rg", "virtualNetworks"), kNet + "/virtualNetworks/v2");
  EXPECT_EQ(resolveNetworkId("/subscriptions/x/resourceGroups/o/providers/Microsoft.Network/"
                             "virtualNetworks/v9",
                             kSub, "rg", "virtualNetworks"),
            "/subscriptions/x/resourceGroups/o/providers/Microsoft.Network/virtualNetworks/v9");
  EXPECT_EQ(*resolveSubnetId("s1", "v1", kSub, "rg"), kNet + "/virtualNetworks/v1/subnets/s1");
  EXPECT_EQ(resolveSubnetId("s1", "", kSub, "rg").status().armCode(), "UsageError");
}

TEST(PathsTest, ParsesTags) {
  auto tags = parseTags({"env=dev", "owner=", "flag", "a=b=c"});
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->dump(), R"({"env":"dev","owner":"","flag":"","a":"b=c"})");
  EXPECT_EQ(parseTags({"=x"}).status().armCode(), "UsageError");
}

TEST(GroupBodyTest, LocationAndTags) {
  EXPECT_EQ(resourceGroupBody("local", Json::object()).dump(), R"({"location":"local"})");
  EXPECT_EQ(resourceGroupBody("local", Json{{"a", "b"}}).dump(),
            R"({"location":"local","tags":{"a":"b"}})");
}

TEST(VnetBodyTest, AzDefaults) {
  VnetCreateArgs args;
  args.name = "v1";
  auto body = vnetCreateBody(args, "local");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->dump(),
            R"({"location":"local","properties":{"addressSpace":{"addressPrefixes":)"
            R"(["10.0.0.0/16"]},"subnets":[]}})");
}

TEST(VnetBodyTest, WithSubnetAndDns) {
  VnetCreateArgs args;
  args.addressPrefixes = {"10.2.0.0/16", "10.3.0.0/16"};
  args.subnetName = "pe-subnet";
  args.subnetPrefixes = {"10.2.1.0/24"};
  args.dnsServers = {"10.2.0.10"};
  args.tags = {"env=test"};
  auto body = vnetCreateBody(args, "westus");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->dump(),
            R"({"location":"westus","tags":{"env":"test"},"properties":{"addressSpace":)"
            R"({"addressPrefixes":["10.2.0.0/16","10.3.0.0/16"]},"dhcpOptions":{"dnsServers":)"
            R"(["10.2.0.10"]},"subnets":[{"name":"pe-subnet","properties":{"addressPrefix":)"
            R"("10.2.1.0/24"}}]}})");
}

TEST(VnetBodyTest, SubnetNameDefaultsItsPrefix) {
  VnetCreateArgs args;
  args.subnetName = "default";
  auto body = vnetCreateBody(args, "local");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["properties"]["subnets"][0]["properties"]["addressPrefix"], "10.0.0.0/24");
}

TEST(VnetBodyTest, SubnetPrefixesNeedSubnetName) {
  VnetCreateArgs args;
  args.subnetPrefixes = {"10.0.1.0/24"};
  EXPECT_EQ(vnetCreateBody(args, "local").status().armCode(), "UsageError");
}

TEST(VnetUpdateTest, ReplacesPrefixesAndKeepsTheRest) {
  Json vnet = Json::parse(R"({"id":"/x","name":"v1","etag":"W/\"1\"","properties":{
      "provisioningState":"Succeeded","addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
      "subnets":[{"name":"s"}]}})");
  auto updated = applyVnetUpdate(vnet, VnetUpdateArgs{{"10.0.0.0/16", "10.1.0.0/16"}, {}});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)["properties"]["addressSpace"]["addressPrefixes"].dump(),
            R"(["10.0.0.0/16","10.1.0.0/16"])");
  EXPECT_EQ((*updated)["properties"]["subnets"][0]["name"], "s");
  EXPECT_EQ((*updated)["etag"], "W/\"1\"");
  EXPECT_EQ(applyVnetUpdate(vnet, {}).status().armCode(), "UsageError");
}

TEST(SubnetBodyTest, OnePrefixUsesAddressPrefix) {
  SubnetArgs args;
  args.name = "s1";
  args.addressPrefixes = {"10.0.1.0/24"};
  args.privateEndpointNetworkPolicies = "disabled";
  args.privateLinkServiceNetworkPolicies = "DISABLED";
  auto body = subnetCreateBody(args);
  ASSERT_TRUE(body.ok()) << body.status().toString();
  EXPECT_EQ(body->dump(),
            R"({"name":"s1","properties":{"addressPrefix":"10.0.1.0/24",)"
            R"("privateEndpointNetworkPolicies":"Disabled",)"
            R"("privateLinkServiceNetworkPolicies":"Disabled"}})");
}

TEST(SubnetBodyTest, SeveralPrefixesUseAddressPrefixes) {
  SubnetArgs args;
  args.name = "s1";
  args.addressPrefixes = {"10.0.1.0/24", "10.0.2.0/24"};
  auto body = subnetCreateBody(args);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["properties"].dump(), R"({"addressPrefixes":["10.0.1.0/24","10.0.2.0/24"]})");
}

TEST(SubnetBodyTest, RejectsUnknownPolicy) {
  SubnetArgs args;
  args.addressPrefixes = {"10.0.1.0/24"};
  args.privateEndpointNetworkPolicies = "Maybe";
  auto body = subnetCreateBody(args);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().armCode(), "UsageError");
  EXPECT_NE(body.status().message().find("RouteTableEnabled"), std::string::npos);
}

TEST(SubnetUpdateTest, SwitchesSingleToMultiplePrefixes) {
  Json subnet = Json::parse(R"({"name":"s1","properties":{"addressPrefix":"10.0.1.0/24",
      "privateEndpointNetworkPolicies":"Disabled"}})");
  SubnetArgs args;
  args.addressPrefixes = {"10.0.1.0/24", "10.0.3.0/24"};
  args.privateLinkServiceNetworkPolicies = "Enabled";
  auto updated = applySubnetUpdate(subnet, args);
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE((*updated)["properties"].contains("addressPrefix"));
  EXPECT_EQ((*updated)["properties"]["addressPrefixes"].size(), 2u);
  EXPECT_EQ((*updated)["properties"]["privateEndpointNetworkPolicies"], "Disabled");
  EXPECT_EQ((*updated)["properties"]["privateLinkServiceNetworkPolicies"], "Enabled");
  EXPECT_EQ(applySubnetUpdate(subnet, SubnetArgs{}).status().armCode(), "UsageError");
}

TEST(PeeringBodyTest, RemoteByNameOrId) {
  PeeringArgs args;
  args.group = "rg";
  args.name = "p1";
  args.remoteVnet = "v2";
  args.allowVnetAccess = true;
  Json body = peeringCreateBody(args, kSub);
  EXPECT_EQ(body["properties"]["remoteVirtualNetwork"]["id"], kNet + "/virtualNetworks/v2");
  EXPECT_EQ(body["properties"]["allowVirtualNetworkAccess"], true);
  EXPECT_EQ(body["properties"]["allowForwardedTraffic"], false);
  args.remoteVnet = "/subscriptions/o/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/x";
  EXPECT_EQ(peeringCreateBody(args, kSub)["properties"]["remoteVirtualNetwork"]["id"],
            args.remoteVnet);
}

TEST(NicBodyTest, StaticAddressAndPools) {
  NicCreateArgs args;
  args.group = "rg";
  args.vnetName = "v1";
  args.subnet = "s1";
  args.privateIpAddress = "10.0.1.10";
  args.lbName = "lb1";
  args.lbAddressPools = {"pool1", "/full/id/pool2"};
  auto body = nicCreateBody(args, kSub, "local");
  ASSERT_TRUE(body.ok()) << body.status().toString();
  EXPECT_EQ(body->dump(),
            R"({"location":"local","properties":{"ipConfigurations":[{"name":"ipconfig1",)"
            R"("properties":{"subnet":{"id":")" + kNet +
                R"(/virtualNetworks/v1/subnets/s1"},"privateIPAddress":"10.0.1.10",)"
                R"("privateIPAllocationMethod":"Static","loadBalancerBackendAddressPools":[{"id":")" +
                kNet + R"(/loadBalancers/lb1/backendAddressPools/pool1"},{"id":"/full/id/pool2"}]}}]}})");
}

TEST(NicBodyTest, DynamicByDefault) {
  NicCreateArgs args;
  args.group = "rg";
  args.subnet = kNet + "/virtualNetworks/v1/subnets/s1";
  auto body = nicCreateBody(args, kSub, "local");
  ASSERT_TRUE(body.ok());
  auto& ip = (*body)["properties"]["ipConfigurations"][0]["properties"];
  EXPECT_EQ(ip["privateIPAllocationMethod"], "Dynamic");
  EXPECT_FALSE(ip.contains("privateIPAddress"));
}

TEST(NicBodyTest, UsageErrors) {
  NicCreateArgs args;
  args.group = "rg";
  args.subnet = "s1";
  EXPECT_EQ(nicCreateBody(args, kSub, "l").status().armCode(), "UsageError");  // no vnet
  args.vnetName = "v1";
  args.lbAddressPools = {"pool1"};
  EXPECT_EQ(nicCreateBody(args, kSub, "l").status().armCode(), "UsageError");  // no lb name
  args.lbAddressPools.clear();
  args.lbName = "lb1";
  EXPECT_EQ(nicCreateBody(args, kSub, "l").status().armCode(), "UsageError");  // no pools
}

Json sampleLb() {
  LbCreateArgs args;
  args.group = "rg";
  args.name = "lb1";
  args.vnetName = "v1";
  args.subnet = "s1";
  auto body = lbCreateBody(args, kSub, "local");
  EXPECT_TRUE(body.ok());
  Json lb = *body;
  lb["id"] = kNet + "/loadBalancers/lb1";
  lb["name"] = "lb1";
  return lb;
}

TEST(LbBodyTest, AzDefaults) {
  Json lb = sampleLb();
  EXPECT_EQ(lb["sku"]["name"], "Standard");
  EXPECT_EQ(lb["properties"]["frontendIPConfigurations"][0]["name"], "LoadBalancerFrontEnd");
  EXPECT_EQ(lb["properties"]["frontendIPConfigurations"][0]["properties"]["subnet"]["id"],
            kNet + "/virtualNetworks/v1/subnets/s1");
  EXPECT_EQ(lb["properties"]["backendAddressPools"][0]["name"], "lb1bepool");
}

TEST(LbBodyTest, CustomNamesAndStaticIp) {
  LbCreateArgs args;
  args.group = "rg";
  args.name = "lb1";
  args.vnetName = "v1";
  args.subnet = "s1";
  args.frontendIpName = "fe";
  args.backendPoolName = "be";
  args.privateIpAddress = "10.0.1.100";
  auto body = lbCreateBody(args, kSub, "local");
  ASSERT_TRUE(body.ok());
  auto& fe = (*body)["properties"]["frontendIPConfigurations"][0];
  EXPECT_EQ(fe["name"], "fe");
  EXPECT_EQ(fe["properties"]["privateIPAddress"], "10.0.1.100");
  EXPECT_EQ(fe["properties"]["privateIPAllocationMethod"], "Static");
  EXPECT_EQ((*body)["properties"]["backendAddressPools"][0]["name"], "be");
  args.sku = "Basic";
  EXPECT_EQ(lbCreateBody(args, kSub, "local").status().armCode(), "UsageError");
}

TEST(LbProbeTest, AddsHttpProbe) {
  ProbeArgs probe{"hp", "http", 8080, "/healthz", 5, 3};
  auto lb = addLbProbe(sampleLb(), probe);
  ASSERT_TRUE(lb.ok()) << lb.status().toString();
  EXPECT_EQ((*lb)["properties"]["probes"][0].dump(),
            R"({"name":"hp","properties":{"protocol":"Http","port":8080,"requestPath":"/healthz",)"
            R"("intervalInSeconds":5,"numberOfProbes":3,"probeThreshold":3}})");
}

TEST(LbProbeTest, Validation) {
  EXPECT_EQ(addLbProbe(sampleLb(), ProbeArgs{"p", "Http", 80, "", 15, 2}).status().armCode(),
            "UsageError");
  EXPECT_EQ(addLbProbe(sampleLb(), ProbeArgs{"p", "Tcp", 80, "/x", 15, 2}).status().armCode(),
            "UsageError");
  EXPECT_EQ(addLbProbe(sampleLb(), ProbeArgs{"p", "Icmp", 80, "", 15, 2}).status().armCode(),
            "UsageError");
  EXPECT_EQ(addLbProbe(sampleLb(), ProbeArgs{"p", "Tcp", 0, "", 15, 2}).status().armCode(),
            "UsageError");
  auto once = addLbProbe(sampleLb(), ProbeArgs{"p", "Tcp", 80, "", 15, 2});
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(addLbProbe(*once, ProbeArgs{"P", "Tcp", 81, "", 15, 2}).status().armCode(),
            "AlreadyExists");
}

TEST(LbRuleTest, DefaultsToTheOnlyFrontendAndPool) {
  auto lb = addLbProbe(sampleLb(), ProbeArgs{"tcp80", "Tcp", 80, "", 15, 2});
  ASSERT_TRUE(lb.ok());
  RuleArgs rule;
  rule.name = "r1";
  rule.protocol = "tcp";
  rule.frontendPort = 80;
  rule.backendPort = 8080;
  rule.probeName = "TCP80";
  auto withRule = addLbRule(*lb, rule);
  ASSERT_TRUE(withRule.ok()) << withRule.status().toString();
  std::string lbId = kNet + "/loadBalancers/lb1";
  EXPECT_EQ((*withRule)["properties"]["loadBalancingRules"][0].dump(),
            R"({"name":"r1","properties":{"protocol":"Tcp","frontendPort":80,"backendPort":8080,)"
            R"("frontendIPConfiguration":{"id":")" + lbId +
                R"(/frontendIPConfigurations/LoadBalancerFrontEnd"},"backendAddressPool":{"id":")" +
                lbId + R"(/backendAddressPools/lb1bepool"},"enableFloatingIP":false,)"
                R"("probe":{"id":")" + lbId + R"(/probes/tcp80"}}})");
}

TEST(LbRuleTest, Errors) {
  RuleArgs rule;
  rule.name = "r1";
  rule.protocol = "Tcp";
  rule.frontendPort = 80;
  rule.backendPort = 80;
  rule.probeName = "missing";
  EXPECT_EQ(addLbRule(sampleLb(), rule).status().code(), StatusCode::kNotFound);
  rule.probeName.clear();
  rule.frontendIpName = "nope";
  EXPECT_EQ(addLbRule(sampleLb(), rule).status().code(), StatusCode::kNotFound);
  rule.frontendIpName.clear();
  auto twoPools = addLbAddressPool(sampleLb(), "second");
  ASSERT_TRUE(twoPools.ok());
  auto ambiguous = addLbRule(*twoPools, rule);
  EXPECT_EQ(ambiguous.status().armCode(), "UsageError");
  EXPECT_NE(ambiguous.status().message().find("--backend-pool-name"), std::string::npos);
  rule.protocol = "Udp";
  rule.backendPoolName = "second";
  rule.frontendPort = 70000;
  EXPECT_EQ(addLbRule(*twoPools, rule).status().armCode(), "UsageError");
}

TEST(LbRuleTest, HaPortsAllowZero) {
  RuleArgs rule;
  rule.name = "ha";
  rule.protocol = "All";
  auto lb = addLbRule(sampleLb(), rule);
  ASSERT_TRUE(lb.ok()) << lb.status().toString();
  EXPECT_EQ((*lb)["properties"]["loadBalancingRules"][0]["properties"]["frontendPort"], 0);
}

TEST(LbChildTest, FrontendAddFindRemove) {
  FrontendIpArgs fe{"fe2", "v1", "s2", "10.0.2.5"};
  auto lb = addLbFrontendIp(sampleLb(), fe, kSub, "rg");
  ASSERT_TRUE(lb.ok()) << lb.status().toString();
  EXPECT_EQ(lbChildren(*lb, kLbFrontends).size(), 2u);
  auto found = findLbChild(*lb, kLbFrontends, "FE2");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)["properties"]["subnet"]["id"], kNet + "/virtualNetworks/v1/subnets/s2");
  auto removed = removeLbChild(*lb, kLbFrontends, "fe2");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(lbChildren(*removed, kLbFrontends).size(), 1u);
  EXPECT_EQ(removeLbChild(*removed, kLbFrontends, "fe2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(lbChildType(kLbProbes), "Microsoft.Network/loadBalancers/probes");
}

}  // namespace
}  // namespace privlink::cli
