#include "control/authorization/request_access.h"

#include <gtest/gtest.h>

namespace privlink::control::authorization {
namespace {

using Mode = RequiredAccess::Mode;
using nlohmann::json;

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t next = path.find('/', i);
    if (next == std::string_view::npos) next = path.size();
    if (next > i) out.emplace_back(path.substr(i, next - i));
    i = next + 1;
  }
  return out;
}

RequiredAccess req(std::string_view method, std::string_view path) {
  return requiredAccess(method, split(path));
}

const std::string kVnet = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/"
                          "virtualNetworks/vnet1";

TEST(RequiredAccessTest, ResourceVerbs) {
  auto put = req("PUT", kVnet);
  EXPECT_EQ(put.mode, Mode::kAction);
  EXPECT_EQ(put.action, "Microsoft.Network/virtualNetworks/write");
  EXPECT_EQ(put.scope.toString(), kVnet);
  EXPECT_EQ(req("GET", kVnet).action, "Microsoft.Network/virtualNetworks/read");
  EXPECT_EQ(req("HEAD", kVnet).action, "Microsoft.Network/virtualNetworks/read");
  EXPECT_EQ(req("PATCH", kVnet).action, "Microsoft.Network/virtualNetworks/write");
  EXPECT_EQ(req("DELETE", kVnet).action, "Microsoft.Network/virtualNetworks/delete");
  EXPECT_EQ(req("DELETE", kVnet + "/subnets/default").action,
            "Microsoft.Network/virtualNetworks/subnets/delete");
}

TEST(RequiredAccessTest, PostActionOnResource) {
  auto r = req("POST", "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/"
                       "privateLinkServices/pls1/privateEndpointConnectionsApproval");
  EXPECT_EQ(r.mode, Mode::kAction);
  EXPECT_EQ(r.action,
            "Microsoft.Network/privateLinkServices/privateEndpointConnectionsApproval/action");
  EXPECT_EQ(r.scope.name(), "pls1");
}

TEST(RequiredAccessTest, ResourceGroups) {
  auto put = req("PUT", "/subscriptions/s1/resourcegroups/rg1");
  EXPECT_EQ(put.mode, Mode::kAction);
  EXPECT_EQ(put.action, "Microsoft.Resources/subscriptions/resourceGroups/write");
  EXPECT_TRUE(put.scope.isResourceGroup());
  EXPECT_EQ(req("DELETE", "/subscriptions/s1/resourceGroups/rg1").action,
            "Microsoft.Resources/subscriptions/resourceGroups/delete");
  auto list = req("GET", "/subscriptions/s1/resourceGroups");
  EXPECT_EQ(list.mode, Mode::kListFiltered);
  EXPECT_EQ(list.action, "Microsoft.Resources/subscriptions/resourceGroups/read");
  EXPECT_TRUE(list.scope.isSubscription());
}

TEST(RequiredAccessTest, Collections) {
  auto rgList = req("GET", "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/"
                           "virtualNetworks");
  EXPECT_EQ(rgList.mode, Mode::kListFiltered);
  EXPECT_EQ(rgList.action, "Microsoft.Network/virtualNetworks/read");
  EXPECT_TRUE(rgList.scope.isResourceGroup());
  auto subList = req("GET", "/subscriptions/s1/providers/Microsoft.Network/virtualNetworks");
  EXPECT_EQ(subList.mode, Mode::kListFiltered);
  EXPECT_TRUE(subList.scope.isSubscription());
  auto subnets = req("GET", kVnet + "/subnets");
  EXPECT_EQ(subnets.mode, Mode::kListFiltered);
  EXPECT_EQ(subnets.action, "Microsoft.Network/virtualNetworks/subnets/read");
  EXPECT_EQ(subnets.scope.toString(), kVnet);
}

TEST(RequiredAccessTest, RoleAssignmentsAtEveryScope) {
  const std::string name = "/providers/Microsoft.Authorization/roleAssignments/"
                           "10000000-0000-4000-8000-000000000001";
  auto atVnet = req("PUT", kVnet + name);
  EXPECT_EQ(atVnet.mode, Mode::kAction);
  EXPECT_EQ(atVnet.action, "Microsoft.Authorization/roleAssignments/write");
  EXPECT_EQ(atVnet.scope.toString(), kVnet + name);
  auto atSub = req("DELETE", "/subscriptions/s1" + name);
  EXPECT_EQ(atSub.action, "Microsoft.Authorization/roleAssignments/delete");
  auto list = req("GET", kVnet + "/providers/Microsoft.Authorization/roleAssignments");
  EXPECT_EQ(list.mode, Mode::kListFiltered);
  EXPECT_EQ(list.action, "Microsoft.Authorization/roleAssignments/read");
  EXPECT_EQ(list.scope.toString(), kVnet);
}

TEST(RequiredAccessTest, SubscriptionsTenantsOperations) {
  EXPECT_EQ(req("GET", "/subscriptions").mode, Mode::kSubscriptionList);
  auto one = req("GET", "/subscriptions/s1");
  EXPECT_EQ(one.mode, Mode::kSubscriptionMember);
  EXPECT_EQ(one.scope.subscriptionId(), "s1");
  EXPECT_EQ(req("GET", "/tenants").mode, Mode::kNone);
  EXPECT_EQ(req("GET", "/subscriptions/s1/providers/Microsoft.Network/locations/local/"
                       "operations/abc")
                .mode,
            Mode::kSubscriptionMember);
  EXPECT_EQ(req("GET", "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions")
                .mode,
            Mode::kNone);
  EXPECT_EQ(req("GET", "/providers/Microsoft.Authorization/roleDefinitions/x").mode, Mode::kNone);
}

TEST(RequiredAccessTest, TenantLevelAndUnknownNeedTheAdmin) {
  EXPECT_EQ(req("GET", "/providers/Microsoft.Privlink/principals").mode, Mode::kAdmin);
  EXPECT_EQ(req("PUT", "/providers/Microsoft.Subscription/aliases/a1").mode, Mode::kAdmin);
  EXPECT_EQ(req("GET", "/").mode, Mode::kAdmin);
  EXPECT_EQ(req("GET", "/whatever/x").mode, Mode::kAdmin);
  EXPECT_EQ(req("PUT", "/providers/Microsoft.Authorization/roleDefinitions/x").mode,
            Mode::kAdmin);
}

TEST(ReferencedAccessTest, NicSubnetAndPool) {
  auto nic = *ResourceId::parse(
      "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/nic1");
  json body = {{"properties",
                {{"ipConfigurations",
                  {{{"name", "ip1"},
                    {"properties",
                     {{"subnet", {{"id", kVnet + "/subnets/default"}}},
                      {"loadBalancerBackendAddressPools",
                       {{{"id", "/subscriptions/s1/resourceGroups/rg1/providers/"
                                "Microsoft.Network/loadBalancers/lb1/backendAddressPools/p"}}}}}}},
                   {{"name", "ip2"},
                    {"properties", {{"subnet", {{"id", kVnet + "/subnets/default"}}}}}}}}}}};
  auto checks = referencedAccess(nic, body);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].action, "Microsoft.Network/virtualNetworks/subnets/join/action");
  EXPECT_EQ(checks[0].target.toString(), kVnet + "/subnets/default");
  EXPECT_EQ(checks[1].action, "Microsoft.Network/loadBalancers/backendAddressPools/join/action");
}

TEST(ReferencedAccessTest, PeeringRemoteVnet) {
  auto peering = *ResourceId::parse(kVnet + "/virtualNetworkPeerings/to2");
  json body = {{"properties",
                {{"remoteVirtualNetwork",
                  {{"id", "/subscriptions/s2/resourceGroups/rg2/providers/Microsoft.Network/"
                          "virtualNetworks/vnet2"}}}}}};
  auto checks = referencedAccess(peering, body);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].action, "Microsoft.Network/virtualNetworks/peer/action");
  EXPECT_EQ(checks[0].target.subscriptionId(), "s2");
}

TEST(ReferencedAccessTest, LbPrivateEndpointAndDnsLink) {
  auto lb = *ResourceId::parse(
      "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb1");
  json lbBody = {{"properties",
                  {{"frontendIPConfigurations",
                    {{{"properties", {{"subnet", {{"id", kVnet + "/subnets/a"}}}}}}}}}}};
  ASSERT_EQ(referencedAccess(lb, lbBody).size(), 1u);
  auto pe = *ResourceId::parse(
      "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/privateEndpoints/pe1");
  json peBody = {{"properties", {{"subnet", {{"id", kVnet + "/subnets/a"}}}}}};
  ASSERT_EQ(referencedAccess(pe, peBody).size(), 1u);
  auto link = *ResourceId::parse("/subscriptions/s1/resourceGroups/rg1/providers/"
                                 "Microsoft.Network/privateDnsZones/z.local/virtualNetworkLinks/l");
  json linkBody = {{"properties", {{"virtualNetwork", {{"id", kVnet}}}}}};
  auto checks = referencedAccess(link, linkBody);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].action, "Microsoft.Network/virtualNetworks/join/action");
}

TEST(ReferencedAccessTest, MalformedBodiesAndIdsAreSkipped) {
  auto nic = *ResourceId::parse(
      "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/nic1");
  EXPECT_TRUE(referencedAccess(nic, json::array()).empty());
  EXPECT_TRUE(referencedAccess(nic, {{"properties", 3}}).empty());
  EXPECT_TRUE(referencedAccess(nic, {{"properties", {{"ipConfigurations", "x"}}}}).empty());
  json badId = {{"properties",
                 {{"ipConfigurations",
                   {{{"properties", {{"subnet", {{"id", "not-an-id"}}}}}}}}}}};
  EXPECT_TRUE(referencedAccess(nic, badId).empty());
  auto vnet = *ResourceId::parse(kVnet);
  EXPECT_TRUE(referencedAccess(vnet, {{"properties", {{"subnets", json::array()}}}}).empty());
}

}  // namespace
}  // namespace privlink::control::authorization
