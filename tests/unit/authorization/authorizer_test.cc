// The authorization matrix: roles x actions x scopes, with inheritance downwards and the exact
// AuthorizationFailed error, against a real (in-memory) store.
#include "control/authorization/authorizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "control/authorization/role_assignments.h"
#include "control/authorization/role_definitions.h"

namespace privlink::control::authorization {
namespace {

using nlohmann::json;

constexpr const char* kSub = "11111111-1111-4111-8111-111111111111";
constexpr const char* kOtherSub = "22222222-2222-4222-8222-222222222222";

std::string sub() { return std::string("/subscriptions/") + kSub; }
std::string rg1() { return sub() + "/resourceGroups/rg1"; }
std::string rg2() { return sub() + "/resourceGroups/rg2"; }
std::string vnet1() { return rg1() + "/providers/Microsoft.Network/virtualNetworks/vnet1"; }
std::string subnet1() { return vnet1() + "/subnets/default"; }
std::string vnet2() { return rg2() + "/providers/Microsoft.Network/virtualNetworks/vnet2"; }
std::string otherSub() { return std::string("/subscriptions/") + kOtherSub; }

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::openSqliteStore({":memory:"});
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(*opened);
    Status st = store_->write([&](store::Transaction& txn) -> Status {
      for (const char* s : {kSub, kOtherSub}) {
        RETURN_IF_ERROR(txn.put(std::string("/subscriptions/") + s,
                                "microsoft.resources/subscriptions",
                                {{"subscriptionId", s}, {"state", "Enabled"}})
                            .status());
      }
      for (const auto& g : {rg1(), rg2()}) {
        RETURN_IF_ERROR(
            txn.put(g, "microsoft.resources/resourcegroups", {{"location", "local"}}).status());
      }
      RETURN_IF_ERROR(txn.put(vnet1(), "microsoft.network/virtualnetworks", json::object()).status());
      RETURN_IF_ERROR(txn.put(vnet2(), "microsoft.network/virtualnetworks", json::object()).status());
      RETURN_IF_ERROR(
          txn.put(subnet1(), "microsoft.network/virtualnetworks/subnets", json::object()).status());
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.toString();
    assignments_ = std::make_unique<RoleAssignmentStore>(*store_);
    authorizer_ = std::make_unique<Authorizer>(*store_);
  }

  Caller principal(const std::string& oid, const std::string& name) {
    return Caller{oid, "tenant", name, false};
  }

  void assign(const Caller& who, std::string_view roleId, const std::string& scope,
              std::string name = "") {
    NewRoleAssignment r;
    auto scopeId = ResourceId::parse(scope);
    ASSERT_TRUE(scopeId.ok());
    r.path.scope = *scopeId;
    r.path.name = name.empty() ? newGuidForTest() : name;
    r.roleDefinitionId = std::string(roleId);
    r.principalId = who.principalId;
    r.principalType = "ServicePrincipal";
    auto created = assignments_->create(r);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  std::string newGuidForTest() {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", ++counter_);
    return buf;
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<RoleAssignmentStore> assignments_;
  std::unique_ptr<Authorizer> authorizer_;
  int counter_ = 0;
};

// What each role grants, written out by hand from Azure's built-in role definitions.
const std::vector<std::string> kActions = {
    "Microsoft.Network/virtualNetworks/write",
    "Microsoft.Network/virtualNetworks/read",
    "Microsoft.Network/virtualNetworks/delete",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
    "Microsoft.Network/virtualNetworks/peer/action",
    "Microsoft.Network/privateLinkServices/privateEndpointConnectionsApproval/action",
    "Microsoft.Network/privateDnsZones/write",
    "Microsoft.Resources/subscriptions/resourceGroups/write",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleAssignments/read",
    "Microsoft.Authorization/roleAssignments/delete",
};
// One row per role, one column per kActions entry.
const std::map<std::string, std::vector<bool>> kGrants = {
    {"Owner", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"Contributor", {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0}},
    {"Reader", {0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0}},
    {"Network Contributor", {1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0}},
    {"Private DNS Zone Contributor", {0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0}},
};

// Where the assignment is, and which targets it covers (inheritance downwards only).
struct ScopeCase {
  std::string name;
  std::string (*scope)();
};
const std::vector<ScopeCase> kScopes = {
    {"subscription", sub}, {"rg1", rg1}, {"vnet1", vnet1}, {"subnet1", subnet1}};
const std::vector<ScopeCase> kTargets = {{"subscription", sub}, {"rg1", rg1},   {"rg2", rg2},
                                         {"vnet1", vnet1},     {"subnet1", subnet1},
                                         {"vnet2", vnet2},     {"otherSub", otherSub}};
const std::map<std::string, std::vector<std::string>> kCovers = {
    {"subscription", {"subscription", "rg1", "rg2", "vnet1", "subnet1", "vnet2"}},
    {"rg1", {"rg1", "vnet1", "subnet1"}},
    {"vnet1", {"vnet1", "subnet1"}},
    {"subnet1", {"subnet1"}},
};

TEST_F(AuthorizerTest, RolesTimesActionsTimesScopes) {
  int principalNo = 0;
  int checked = 0;
  for (const auto& [roleName, grants] : kGrants) {
    const RoleDefinition* role = findRoleByName(roleName);
    ASSERT_NE(role, nullptr) << roleName;
    for (const auto& at : kScopes) {
      char oid[40];
      std::snprintf(oid, sizeof oid, "aaaaaaaa-0000-4000-8000-%012d", ++principalNo);
      Caller who = principal(oid, "app-" + std::to_string(principalNo));
      assign(who, role->id, at.scope());
      auto access = authorizer_->accessFor(who);
      ASSERT_TRUE(access.ok());
      const auto& covered = kCovers.at(at.name);
      for (const auto& target : kTargets) {
        bool covers =
            std::find(covered.begin(), covered.end(), target.name) != covered.end();
        auto targetId = ResourceId::parse(target.scope());
        ASSERT_TRUE(targetId.ok());
        for (size_t a = 0; a < kActions.size(); ++a) {
          bool expected = covers && grants[a];
          Status st = authorizer_->check(who, kActions[a], *targetId);
          ++checked;
          SCOPED_TRACE(roleName + " at " + at.name + " -> " + kActions[a] + " on " + target.name);
          EXPECT_EQ(st.ok(), expected);
          EXPECT_EQ(access->allows(kActions[a], *targetId), expected);
          if (!expected) {
            EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
            EXPECT_EQ(st.armCode(), "AuthorizationFailed");
            EXPECT_EQ(st.message(),
                      "The client '" + who.displayName + "' with object id '" + who.principalId +
                          "' does not have authorization to perform action '" + kActions[a] +
                          "' over scope '" + target.scope() +
                          "' or the scope is invalid. If access was recently granted, please "
                          "refresh your credentials.");
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 5 * 4 * 7 * 12);
}

TEST_F(AuthorizerTest, NoRoleDeniesEverythingAndSeesNoSubscription) {
  Caller nobody = principal("bbbbbbbb-0000-4000-8000-000000000001", "nobody");
  auto access = authorizer_->accessFor(nobody);
  ASSERT_TRUE(access.ok());
  EXPECT_FALSE(access->holdsAnyRoleIn(kSub));
  EXPECT_FALSE(access->holdsAnyRoleIn(kOtherSub));
  Status st = authorizer_->check(nobody, "Microsoft.Network/virtualNetworks/read",
                                 *ResourceId::parse(vnet1()));
  EXPECT_EQ(st.armCode(), "AuthorizationFailed");
}

TEST_F(AuthorizerTest, AnyRoleBelowASubscriptionMakesItVisible) {
  Caller reader = principal("bbbbbbbb-0000-4000-8000-000000000002", "reader");
  assign(reader, kReaderRoleId, vnet1());
  auto access = authorizer_->accessFor(reader);
  ASSERT_TRUE(access.ok());
  EXPECT_TRUE(access->holdsAnyRoleIn(kSub));
  EXPECT_TRUE(access->holdsAnyRoleIn("11111111-1111-4111-8111-111111111111"));
  EXPECT_FALSE(access->holdsAnyRoleIn(kOtherSub));
  // The subscription itself is still not readable.
  EXPECT_FALSE(access->allows("Microsoft.Resources/subscriptions/resourceGroups/read",
                              *ResourceId::parse(rg1())));
}

TEST_F(AuthorizerTest, AdminIsOwnerEverywhere) {
  Caller admin{"cccccccc-0000-4000-8000-000000000001", "tenant", "admin", true};
  auto access = authorizer_->accessFor(admin);
  ASSERT_TRUE(access.ok());
  EXPECT_TRUE(access->holdsAnyRoleIn(kOtherSub));
  EXPECT_TRUE(access->holdsAnyRoleIn("99999999-9999-4999-8999-999999999999"));
  EXPECT_TRUE(authorizer_->check(admin, "Microsoft.Authorization/roleAssignments/write",
                                 *ResourceId::parse(otherSub()))
                  .ok());
}

TEST_F(AuthorizerTest, UnionOfRolesAndScopeIsCaseInsensitive) {
  Caller who = principal("DDDDDDDD-0000-4000-8000-000000000001", "mixed");
  assign(who, kReaderRoleId, sub());
  assign(who, kNetworkContributorRoleId, rg1());
  auto upper = ResourceId::parse("/SUBSCRIPTIONS/11111111-1111-4111-8111-111111111111/"
                                 "RESOURCEGROUPS/RG1/providers/microsoft.network/"
                                 "VIRTUALNETWORKS/vnet1");
  ASSERT_TRUE(upper.ok());
  EXPECT_TRUE(authorizer_->check(who, "microsoft.network/virtualnetworks/WRITE", *upper).ok());
  EXPECT_FALSE(authorizer_->check(who, "Microsoft.Network/virtualNetworks/write",
                                  *ResourceId::parse(vnet2()))
                   .ok());
  EXPECT_TRUE(authorizer_->check(who, "Microsoft.Network/virtualNetworks/read",
                                 *ResourceId::parse(vnet2()))
                  .ok());
}

TEST_F(AuthorizerTest, AssignmentsGoAwayWithTheirPrincipal) {
  Caller who = principal("eeeeeeee-0000-4000-8000-000000000001", "gone");
  assign(who, kOwnerRoleId, sub());
  Status st = store_->write([&](store::Transaction& txn) -> Status {
    auto removed = assignments_->removeForPrincipal(txn, who.principalId);
    if (!removed.ok()) return removed.status();
    EXPECT_EQ(*removed, 1u);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(authorizer_->check(who, "Microsoft.Network/virtualNetworks/read",
                                  *ResourceId::parse(vnet1()))
                   .ok());
}

}  // namespace
}  // namespace privlink::control::authorization
