// The authorization gate in front of the real ArmRouter and network kinds (in process, no
// sockets): role assignments through the API, inheritance, linked access checks, list filtering,
// the directory and subscription aliases.
#include "api/authorization_gate.h"

#include <gtest/gtest.h>

#include "api/principals.h"
#include "common/guid.h"
#include "testing/arm_fixture.h"

namespace privlink::api {
namespace {

using nlohmann::json;
using testing::ArmFixture;

constexpr const char* kNet = "?api-version=2024-07-01";
constexpr const char* kRes = "?api-version=2021-04-01";
constexpr const char* kAuthz = "?api-version=2022-04-01";
constexpr const char* kReader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
constexpr const char* kContributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
constexpr const char* kOwner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
constexpr const char* kNetworkContributor = "4d97b98b-1d4f-4787-a291-c67834d212e7";

struct Response {
  int status = 0;
  json body;
  std::string raw;
};

class GateTest : public ::testing::Test {
 protected:
  GateTest()
      : directory_(arm_.store()),
        authorizer_(arm_.store()),
        authorization_(arm_.store(), directory_),
        identity_(arm_.store(), directory_),
        gate_(authorizer_, authorization_, identity_,
              [this](const HttpRequest& r, const control::Caller& c) {
                return arm_.router().handle(r, c);
              }) {
    admin_ = arm_.caller();
  }

  Response call(const control::Caller& who, const std::string& method, const std::string& target,
                const json& body = nullptr) {
    HttpRequest request;
    request.method = method;
    request.target = target;
    if (!body.is_null()) request.body = body.dump();
    HttpResponse r = gate_.handle(request, who);
    Response out;
    out.status = r.status;
    out.raw = r.body;
    if (!r.body.empty()) out.body = json::parse(r.body, nullptr, false);
    return out;
  }

  std::string sub() const { return "/subscriptions/" + arm_.subscriptionId(); }
  std::string rg(const std::string& name) const { return sub() + "/resourceGroups/" + name; }
  std::string vnet(const std::string& group, const std::string& name) const {
    return rg(group) + "/providers/Microsoft.Network/virtualNetworks/" + name;
  }

  // Creates a service principal through the directory API and returns it as a Caller.
  control::Caller newPrincipal(const std::string& name) {
    auto r = call(admin_, "POST", "/providers/Microsoft.Privlink/principals?api-version=2024-01-01",
                  {{"kind", "ServicePrincipal"}, {"displayName", name}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return control::Caller{r.body["objectId"], arm_.tenantId(), r.body["appId"], false};
  }

  Response assign(const control::Caller& by, const std::string& scope, const std::string& role,
                  const control::Caller& to) {
    return call(by, "PUT",
                scope + "/providers/Microsoft.Authorization/roleAssignments/" + newGuid() + kAuthz,
                {{"properties",
                  {{"roleDefinitionId",
                    sub() + "/providers/Microsoft.Authorization/roleDefinitions/" + role},
                   {"principalId", to.principalId}}}});
  }

  void makeGroup(const std::string& name) {
    auto r = call(admin_, "PUT", rg(name) + kRes, {{"location", "local"}});
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.raw;
  }

  json vnetBody(const std::string& prefix) {
    return {{"location", "local"},
            {"properties",
             {{"addressSpace", {{"addressPrefixes", {prefix + ".0.0/16"}}}},
              {"subnets", {{{"name", "default"}, {"properties", {{"addressPrefix", prefix + ".1.0/24"}}}}}}}}};
  }

  std::string denial(const control::Caller& who, const std::string& action,
                     const std::string& scope) {
    return "The client '" + who.displayName + "' with object id '" + who.principalId +
           "' does not have authorization to perform action '" + action + "' over scope '" +
           scope + "' or the scope is invalid. If access was recently granted, please refresh "
                   "your credentials.";
  }

  ArmFixture arm_;
  PrincipalDirectory directory_;
  control::authorization::Authorizer authorizer_;
  AuthorizationRoutes authorization_;
  IdentityRoutes identity_;
  AuthorizationGate gate_;
  control::Caller admin_;
};

TEST_F(GateTest, PrincipalWithoutRolesSeesNoSubscriptionAndIsDenied) {
  auto nobody = newPrincipal("nobody");
  auto subs = call(nobody, "GET", "/subscriptions?api-version=2019-11-01");
  ASSERT_EQ(subs.status, 200) << subs.raw;
  EXPECT_TRUE(subs.body["value"].empty());
  auto asAdmin = call(admin_, "GET", "/subscriptions?api-version=2019-11-01");
  EXPECT_EQ(asAdmin.body["value"].size(), 1u);

  auto put = call(nobody, "PUT", rg("rg1") + kRes, {{"location", "local"}});
  EXPECT_EQ(put.status, 403);
  EXPECT_EQ(put.body["error"]["code"], "AuthorizationFailed");
  EXPECT_EQ(put.body["error"]["message"],
            denial(nobody, "Microsoft.Resources/subscriptions/resourceGroups/write",
                   rg("rg1")));
  // The denied request changed nothing.
  EXPECT_EQ(call(admin_, "GET", rg("rg1") + kRes).status, 404);
  auto one = call(nobody, "GET", sub() + "?api-version=2019-11-01");
  EXPECT_EQ(one.status, 403);
  EXPECT_EQ(one.body["error"]["message"],
            denial(nobody, "Microsoft.Resources/subscriptions/read", sub()));
}

TEST_F(GateTest, ReaderAtSubscriptionInheritsDownwards) {
  makeGroup("rg1");
  ASSERT_EQ(call(admin_, "PUT", vnet("rg1", "vnet1") + kNet, vnetBody("10.1")).status, 201);
  auto reader = newPrincipal("reader");
  ASSERT_EQ(assign(admin_, sub(), kReader, reader).status, 201);

  EXPECT_EQ(call(reader, "GET", "/subscriptions?api-version=2019-11-01").body["value"].size(),
            1u);
  EXPECT_EQ(call(reader, "GET", rg("rg1") + kRes).status, 200);
  EXPECT_EQ(call(reader, "GET", vnet("rg1", "vnet1") + kNet).status, 200);
  EXPECT_EQ(call(reader, "GET", vnet("rg1", "vnet1") + "/subnets/default" + kNet).status, 200);
  auto put = call(reader, "PUT", vnet("rg1", "vnet2") + kNet, vnetBody("10.2"));
  EXPECT_EQ(put.status, 403);
  EXPECT_EQ(put.body["error"]["message"],
            denial(reader, "Microsoft.Network/virtualNetworks/write", vnet("rg1", "vnet2")));
  auto del = call(reader, "DELETE", vnet("rg1", "vnet1") + kNet);
  EXPECT_EQ(del.status, 403);
  EXPECT_EQ(call(admin_, "GET", vnet("rg1", "vnet1") + kNet).status, 200);
}

TEST_F(GateTest, ResourceGroupScopeDoesNotReachSiblings) {
  makeGroup("rg1");
  makeGroup("rg2");
  auto net = newPrincipal("net");
  ASSERT_EQ(assign(admin_, rg("rg1"), kNetworkContributor, net).status, 201);
  EXPECT_EQ(call(net, "PUT", vnet("rg1", "vnet1") + kNet, vnetBody("10.1")).status, 201);
  auto other = call(net, "PUT", vnet("rg2", "vnet2") + kNet, vnetBody("10.2"));
  EXPECT_EQ(other.status, 403);
  // Network Contributor may read but not create resource groups.
  EXPECT_EQ(call(net, "GET", rg("rg1") + kRes).status, 200);
  EXPECT_EQ(call(net, "PUT", rg("rg3") + kRes, {{"location", "local"}}).status, 403);
  // The subscription is visible, its group list shows only rg1.
  EXPECT_EQ(call(net, "GET", "/subscriptions?api-version=2019-11-01").body["value"].size(), 1u);
  auto groups = call(net, "GET", sub() + "/resourcegroups" + kRes);
  ASSERT_EQ(groups.status, 200) << groups.raw;
  ASSERT_EQ(groups.body["value"].size(), 1u);
  EXPECT_EQ(groups.body["value"][0]["name"], "rg1");
  // Subscription-wide VNet list: only what it may read.
  ASSERT_EQ(call(admin_, "PUT", vnet("rg2", "vnet2") + kNet, vnetBody("10.2")).status, 201);
  auto vnets = call(net, "GET", sub() + "/providers/Microsoft.Network/virtualNetworks" + kNet);
  ASSERT_EQ(vnets.status, 200) << vnets.raw;
  ASSERT_EQ(vnets.body["value"].size(), 1u);
  EXPECT_EQ(vnets.body["value"][0]["name"], "vnet1");
  // Listing a group it holds nothing in is denied.
  auto rg2List = call(net, "GET", rg("rg2") + "/providers/Microsoft.Network/virtualNetworks" + kNet);
  EXPECT_EQ(rg2List.status, 403);
  EXPECT_EQ(rg2List.body["error"]["message"],
            denial(net, "Microsoft.Network/virtualNetworks/read", rg("rg2")));
}

TEST_F(GateTest, NicInAnotherGroupsSubnetNeedsJoin) {
  makeGroup("app");
  makeGroup("netops");
  ASSERT_EQ(call(admin_, "PUT", vnet("netops", "hub") + kNet, vnetBody("10.9")).status, 201);
  auto dev = newPrincipal("dev");
  ASSERT_EQ(assign(admin_, rg("app"), kContributor, dev).status, 201);
  const std::string subnet = vnet("netops", "hub") + "/subnets/default";
  json nic = {{"location", "local"},
              {"properties",
               {{"ipConfigurations",
                 {{{"name", "ipconfig1"}, {"properties", {{"subnet", {{"id", subnet}}}}}}}}}}};
  const std::string nicId = rg("app") + "/providers/Microsoft.Network/networkInterfaces/nic1";
  auto r = call(dev, "PUT", nicId + kNet, nic);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"]["message"],
            denial(dev, "Microsoft.Network/virtualNetworks/subnets/join/action", subnet));
  EXPECT_EQ(call(admin_, "GET", nicId + kNet).status, 404);
  // Reader on the hub does not grant join; Network Contributor on the VNet does.
  ASSERT_EQ(assign(admin_, vnet("netops", "hub"), kReader, dev).status, 201);
  EXPECT_EQ(call(dev, "PUT", nicId + kNet, nic).status, 403);
  ASSERT_EQ(assign(admin_, vnet("netops", "hub"), kNetworkContributor, dev).status, 201);
  auto ok = call(dev, "PUT", nicId + kNet, nic);
  EXPECT_EQ(ok.status, 201) << ok.raw;
}

TEST_F(GateTest, PeeringNeedsPeerOnTheRemoteVnet) {
  makeGroup("a");
  makeGroup("b");
  ASSERT_EQ(call(admin_, "PUT", vnet("a", "va") + kNet, vnetBody("10.1")).status, 201);
  ASSERT_EQ(call(admin_, "PUT", vnet("b", "vb") + kNet, vnetBody("10.2")).status, 201);
  auto netA = newPrincipal("net-a");
  ASSERT_EQ(assign(admin_, rg("a"), kNetworkContributor, netA).status, 201);
  json peering = {{"properties",
                   {{"remoteVirtualNetwork", {{"id", vnet("b", "vb")}}},
                    {"allowVirtualNetworkAccess", true}}}};
  const std::string id = vnet("a", "va") + "/virtualNetworkPeerings/a-to-b";
  auto r = call(netA, "PUT", id + kNet, peering);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"]["message"],
            denial(netA, "Microsoft.Network/virtualNetworks/peer/action", vnet("b", "vb")));
  ASSERT_EQ(assign(admin_, vnet("b", "vb"), kNetworkContributor, netA).status, 201);
  auto ok = call(netA, "PUT", id + kNet, peering);
  EXPECT_TRUE(ok.status == 201 || ok.status == 200) << ok.raw;
}

TEST_F(GateTest, OnlyOwnersAssignRolesAndOnlyWithinTheirScope) {
  makeGroup("rg1");
  auto owner = newPrincipal("owner");
  auto contributor = newPrincipal("contrib");
  auto target = newPrincipal("target");
  ASSERT_EQ(assign(admin_, rg("rg1"), kOwner, owner).status, 201);
  ASSERT_EQ(assign(admin_, rg("rg1"), kContributor, contributor).status, 201);

  EXPECT_EQ(assign(owner, rg("rg1"), kReader, target).status, 201);
  auto atSub = assign(owner, sub(), kReader, target);
  EXPECT_EQ(atSub.status, 403);
  EXPECT_EQ(atSub.body["error"]["code"], "AuthorizationFailed");
  auto byContributor = assign(contributor, rg("rg1"), kNetworkContributor, target);
  EXPECT_EQ(byContributor.status, 403);
  EXPECT_NE(byContributor.body["error"]["message"].get<std::string>().find(
                "'Microsoft.Authorization/roleAssignments/write'"),
            std::string::npos);

  // Contributors can read assignments; $filter works as az uses it.
  auto list = call(contributor, "GET",
                   rg("rg1") + "/providers/Microsoft.Authorization/roleAssignments" + kAuthz +
                       "&$filter=principalId%20eq%20'" + target.principalId + "'");
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body["value"].size(), 1u);
  EXPECT_EQ(list.body["value"][0]["properties"]["roleDefinitionId"],
            sub() + "/providers/Microsoft.Authorization/roleDefinitions/" + kReader);
  EXPECT_EQ(list.body["value"][0]["properties"]["principalType"], "ServicePrincipal");
}

TEST_F(GateTest, RoleAssignmentErrors) {
  auto p = newPrincipal("p");
  const std::string base = sub() + "/providers/Microsoft.Authorization/roleAssignments/";
  auto badName = call(admin_, "PUT", base + "not-a-guid" + kAuthz,
                      {{"properties", {{"roleDefinitionId", kReader}, {"principalId", p.principalId}}}});
  EXPECT_EQ(badName.status, 400);
  EXPECT_EQ(badName.body["error"]["code"], "InvalidRoleAssignmentId");
  auto noPrincipal = call(admin_, "PUT", base + newGuid() + kAuthz,
                          {{"properties",
                            {{"roleDefinitionId", kReader},
                             {"principalId", "00000000-0000-4000-8000-000000000000"}}}});
  EXPECT_EQ(noPrincipal.status, 400);
  EXPECT_EQ(noPrincipal.body["error"]["code"], "PrincipalNotFound");
  auto badRole = call(admin_, "PUT", base + newGuid() + kAuthz,
                      {{"properties",
                        {{"roleDefinitionId", "11111111-2222-4333-8444-555555555555"},
                         {"principalId", p.principalId}}}});
  EXPECT_EQ(badRole.status, 400);
  EXPECT_EQ(badRole.body["error"]["code"], "RoleDefinitionDoesNotExist");
  auto wrongType = call(admin_, "PUT", base + newGuid() + kAuthz,
                        {{"properties",
                          {{"roleDefinitionId", kReader},
                           {"principalId", p.principalId},
                           {"principalType", "User"}}}});
  EXPECT_EQ(wrongType.status, 400);
  EXPECT_EQ(wrongType.body["error"]["code"], "UnmatchedPrincipalType");
  auto noVersion = call(admin_, "GET", base + newGuid());
  EXPECT_EQ(noVersion.status, 400);

  const std::string name = newGuid();
  ASSERT_EQ(call(admin_, "PUT", base + name + kAuthz,
                 {{"properties", {{"roleDefinitionId", kReader}, {"principalId", p.principalId}}}})
                .status,
            201);
  auto get = call(admin_, "GET", base + name + kAuthz);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body["name"], name);
  auto del = call(admin_, "DELETE", base + name + kAuthz);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(call(admin_, "DELETE", base + name + kAuthz).status, 204);
  EXPECT_EQ(call(admin_, "GET", base + name + kAuthz).status, 404);
}

TEST_F(GateTest, RoleDefinitionsAreReadableByAnyone) {
  auto nobody = newPrincipal("nobody");
  auto list = call(nobody, "GET", sub() + "/providers/Microsoft.Authorization/roleDefinitions" +
                                      kAuthz + "&$filter=roleName%20eq%20'Network%20Contributor'");
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body["value"].size(), 1u);
  EXPECT_EQ(list.body["value"][0]["name"], kNetworkContributor);
  auto one = call(nobody, "GET", std::string("/providers/Microsoft.Authorization/roleDefinitions/") +
                                     kOwner + kAuthz);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body["properties"]["roleName"], "Owner");
}

TEST_F(GateTest, DirectoryIsAdminOnlyAndSecretsAreShownOnce) {
  auto p = newPrincipal("ci");
  auto denied = call(p, "GET", "/providers/Microsoft.Privlink/principals?api-version=2024-01-01");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body["error"]["code"], "AuthorizationFailed");

  auto user = call(admin_, "POST", "/providers/Microsoft.Privlink/principals?api-version=2024-01-01",
                   {{"kind", "User"}, {"userPrincipalName", "alice@privlink.local"},
                    {"password", "correct horse"}});
  ASSERT_EQ(user.status, 201) << user.raw;
  EXPECT_FALSE(user.body.contains("password"));  // chosen by the caller: not echoed
  auto dup = call(admin_, "POST", "/providers/Microsoft.Privlink/principals?api-version=2024-01-01",
                  {{"kind", "User"}, {"userPrincipalName", "ALICE@privlink.local"}});
  EXPECT_EQ(dup.status, 409);

  auto list = call(admin_, "GET", "/providers/Microsoft.Privlink/principals?api-version=2024-01-01");
  ASSERT_EQ(list.status, 200);
  for (const auto& item : list.body["value"]) {
    EXPECT_FALSE(item.contains("secret"));
    EXPECT_FALSE(item.contains("secretHash"));
  }
  EXPECT_EQ(list.body["value"].size(), 2u);  // ci and alice (the fixture admin is not stored)

  auto stored = directory_.byUserPrincipalName("alice@privlink.local");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_TRUE(verifySecret("correct horse", (*stored)->secretHash));

  auto reset = call(admin_, "POST", "/providers/Microsoft.Privlink/principals/" + p.displayName +
                                        "/resetSecret?api-version=2024-01-01");
  ASSERT_EQ(reset.status, 200) << reset.raw;
  std::string secret = reset.body["secret"];
  auto sp = directory_.byAppId(p.displayName);
  ASSERT_TRUE(sp.ok() && sp->has_value());
  EXPECT_TRUE(verifySecret(secret, (*sp)->secretHash));

  ASSERT_EQ(assign(admin_, sub(), kReader, p).status, 201);
  auto del = call(admin_, "DELETE", "/providers/Microsoft.Privlink/principals/ci?api-version=2024-01-01");
  ASSERT_EQ(del.status, 200) << del.raw;
  EXPECT_EQ(del.body["removedRoleAssignments"], 1);
  EXPECT_EQ(call(admin_, "GET", "/providers/Microsoft.Privlink/principals/ci?api-version=2024-01-01")
                .status,
            404);
}

TEST_F(GateTest, SubscriptionAliasCreatesASubscriptionVisibleAfterAnAssignment) {
  auto p = newPrincipal("tenant-b");
  const std::string alias = "/providers/Microsoft.Subscription/aliases/team-b?api-version=2021-10-01";
  EXPECT_EQ(call(p, "PUT", alias, {{"properties", {{"displayName", "Team B"}}}}).status, 403);
  auto created = call(admin_, "PUT", alias, {{"properties", {{"displayName", "Team B"}}}});
  ASSERT_EQ(created.status, 201) << created.raw;
  std::string subId = created.body["properties"]["subscriptionId"];
  auto again = call(admin_, "PUT", alias, {{"properties", {{"displayName", "Team B"}}}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["properties"]["subscriptionId"], subId);

  EXPECT_TRUE(call(p, "GET", "/subscriptions?api-version=2019-11-01").body["value"].empty());
  ASSERT_EQ(assign(admin_, "/subscriptions/" + subId, kContributor, p).status, 201);
  auto subs = call(p, "GET", "/subscriptions?api-version=2019-11-01");
  ASSERT_EQ(subs.body["value"].size(), 1u);
  EXPECT_EQ(subs.body["value"][0]["subscriptionId"], subId);
  EXPECT_EQ(subs.body["value"][0]["displayName"], "Team B");
  EXPECT_EQ(call(p, "PUT", "/subscriptions/" + subId + "/resourceGroups/rg1" + kRes,
                 {{"location", "local"}})
                .status,
            201);
  // ...and not the default subscription.
  EXPECT_EQ(call(p, "PUT", rg("rg1") + kRes, {{"location", "local"}}).status, 403);
}

TEST_F(GateTest, UndecodablePathsAreRefusedBeforeRouting) {
  auto p = newPrincipal("p");
  auto r = call(p, "PUT", sub() + "/resourceGroups/a%2Fb" + kRes, {{"location", "local"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["code"], "InvalidRequestUri");
  auto bad = call(p, "GET", sub() + "/resourceGroups/a%zz" + kRes);
  EXPECT_EQ(bad.status, 400);
}

}  // namespace
}  // namespace privlink::api
