#include "control/authorization/role_assignments.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "control/authorization/role_definitions.h"

namespace privlink::control::authorization {
namespace {

using nlohmann::json;

constexpr const char* kSub = "11111111-1111-4111-8111-111111111111";
constexpr const char* kAlice = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kBob = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr const char* kName1 = "10000000-0000-4000-8000-000000000001";
constexpr const char* kName2 = "10000000-0000-4000-8000-000000000002";
constexpr const char* kName3 = "10000000-0000-4000-8000-000000000003";

std::string sub() { return std::string("/subscriptions/") + kSub; }
std::string rg1() { return sub() + "/resourceGroups/rg1"; }
std::string vnet1() { return rg1() + "/providers/Microsoft.Network/virtualNetworks/vnet1"; }

class RoleAssignmentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::openSqliteStore({":memory:"});
    ASSERT_TRUE(opened.ok());
    store_ = std::move(*opened);
    ASSERT_TRUE(store_
                    ->write([&](store::Transaction& txn) -> Status {
                      RETURN_IF_ERROR(
                          txn.put(sub(), "microsoft.resources/subscriptions", json::object())
                              .status());
                      RETURN_IF_ERROR(
                          txn.put(rg1(), "microsoft.resources/resourcegroups", json::object())
                              .status());
                      return txn.put(vnet1(), "microsoft.network/virtualnetworks", json::object())
                          .status();
                    })
                    .ok());
    roles_ = std::make_unique<RoleAssignmentStore>(*store_);
  }

  Result<RoleAssignmentStore::Created> create(const std::string& scope, const std::string& name,
                                              std::string_view role, const std::string& who) {
    NewRoleAssignment r;
    auto path = parseRoleAssignmentId(scope + "/providers/Microsoft.Authorization/roleAssignments/" +
                                      name);
    if (!path.ok()) return path.status();
    r.path = *path;
    r.roleDefinitionId = std::string(role);
    r.principalId = who;
    r.principalType = "User";
    r.createdBy = kAlice;
    return roles_->create(r);
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<RoleAssignmentStore> roles_;
};

TEST(RoleAssignmentIdTest, SplitsScopeAndName) {
  auto p = parseRoleAssignmentId(vnet1() + "/providers/Microsoft.Authorization/roleAssignments/" +
                                 "10000000-0000-4000-8000-00000000000A");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_EQ(p->scope.toString(), vnet1());
  EXPECT_EQ(p->name, "10000000-0000-4000-8000-00000000000a");
  auto atSub = parseRoleAssignmentId(sub() + "/providers/microsoft.authorization/roleassignments/" +
                                     kName1);
  ASSERT_TRUE(atSub.ok());
  EXPECT_TRUE(atSub->scope.isSubscription());
}

TEST(RoleAssignmentIdTest, NameMustBeAGuid) {
  auto p = parseRoleAssignmentId(sub() + "/providers/Microsoft.Authorization/roleAssignments/x1");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().armCode(), "InvalidRoleAssignmentId");
  EXPECT_EQ(p.status().message(),
            "The role assignment ID 'x1' is not valid. The role assignment ID must be a GUID.");
}

TEST(RoleAssignmentIdTest, ScopeMustBeAnArmId) {
  auto p = parseRoleAssignmentId(std::string("/foo/providers/Microsoft.Authorization/roleAssignments/") +
                                 kName1);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().armCode(), "InvalidResourceId");
}

TEST(ScopeCoversTest, SegmentBoundaries) {
  EXPECT_TRUE(scopeCovers("/subscriptions/s", "/subscriptions/s"));
  EXPECT_TRUE(scopeCovers("/subscriptions/s", "/subscriptions/s/resourcegroups/rg"));
  EXPECT_FALSE(scopeCovers("/subscriptions/s", "/subscriptions/s2"));
  EXPECT_FALSE(scopeCovers("/subscriptions/s/resourcegroups/rg",
                           "/subscriptions/s/resourcegroups/rg2"));
  EXPECT_FALSE(scopeCovers("/subscriptions/s/resourcegroups/rg", "/subscriptions/s"));
}

TEST(RoleAssignmentFilterTest, AzureForms) {
  auto f = parseRoleAssignmentFilter("atScope()");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->atScope);
  f = parseRoleAssignmentFilter("principalId eq 'AAAAAAAA-0000-4000-8000-000000000001'");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->principalId, kAlice);
  f = parseRoleAssignmentFilter("atScope() and assignedTo('x')");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->atScope);
  EXPECT_EQ(f->principalId, "x");
  f = parseRoleAssignmentFilter("");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->atScope);
  EXPECT_FALSE(f->principalId);
}

TEST(RoleAssignmentFilterTest, RejectsUnknownFilters) {
  for (const char* bad : {"principalName eq 'x'", "principalId eq x", "atScope", "assignedTo(x)",
                          "roleDefinitionId eq 'Reader'"}) {
    auto f = parseRoleAssignmentFilter(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.status().armCode(), "InvalidFilterInQueryString") << bad;
    EXPECT_EQ(f.status().target(), "$filter");
  }
}

TEST_F(RoleAssignmentStoreTest, CreateGetRenderDelete) {
  auto c = create(rg1(), kName1, "/subscriptions/" + std::string(kSub) +
                                     "/providers/Microsoft.Authorization/roleDefinitions/" +
                                     std::string(kReaderRoleId),
                  kBob);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_TRUE(c->created);
  auto path = parseRoleAssignmentId(rg1() + "/providers/Microsoft.Authorization/roleAssignments/" +
                                    kName1);
  auto got = roles_->get(*path);
  ASSERT_TRUE(got.ok());
  json body = got->render();
  EXPECT_EQ(body["id"], rg1() + "/providers/Microsoft.Authorization/roleAssignments/" + kName1);
  EXPECT_EQ(body["name"], kName1);
  EXPECT_EQ(body["type"], "Microsoft.Authorization/roleAssignments");
  EXPECT_EQ(body["properties"]["principalId"], kBob);
  EXPECT_EQ(body["properties"]["principalType"], "User");
  EXPECT_EQ(body["properties"]["scope"], rg1());
  EXPECT_EQ(body["properties"]["roleDefinitionId"],
            "/subscriptions/" + std::string(kSub) +
                "/providers/Microsoft.Authorization/roleDefinitions/" + std::string(kReaderRoleId));
  EXPECT_EQ(body["properties"]["createdBy"], kAlice);
  auto removed = roles_->remove(*path);
  ASSERT_TRUE(removed.ok());
  ASSERT_TRUE(removed->has_value());
  auto again = roles_->remove(*path);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  auto gone = roles_->get(*path);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().armCode(), "RoleAssignmentNotFound");
}

TEST_F(RoleAssignmentStoreTest, IdenticalPutIsIdempotent) {
  ASSERT_TRUE(create(sub(), kName1, kOwnerRoleId, kBob).ok());
  auto again = create(sub(), kName1, kOwnerRoleId, kBob);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
}

TEST_F(RoleAssignmentStoreTest, ConflictsUseAzureCodes) {
  ASSERT_TRUE(create(sub(), kName1, kOwnerRoleId, kBob).ok());
  auto changed = create(sub(), kName1, kReaderRoleId, kBob);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().armCode(), "RoleAssignmentUpdateNotPermitted");
  EXPECT_EQ(changed.status().code(), StatusCode::kConflict);
  auto duplicate = create(sub(), kName2, kOwnerRoleId, kBob);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().armCode(), "RoleAssignmentExists");
  EXPECT_NE(duplicate.status().message().find(kName1), std::string::npos);
}

TEST_F(RoleAssignmentStoreTest, UnknownRoleAndMissingScope) {
  auto role = create(sub(), kName1, "00000000-0000-4000-8000-000000000000", kBob);
  ASSERT_FALSE(role.ok());
  EXPECT_EQ(role.status().armCode(), "RoleDefinitionDoesNotExist");
  EXPECT_EQ(role.status().code(), StatusCode::kInvalidArgument);
  auto group = create(sub() + "/resourceGroups/nope", kName1, kOwnerRoleId, kBob);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().armCode(), "ResourceGroupNotFound");
  auto resource =
      create(rg1() + "/providers/Microsoft.Network/virtualNetworks/nope", kName1, kOwnerRoleId, kBob);
  ASSERT_FALSE(resource.ok());
  EXPECT_EQ(resource.status().armCode(), "ResourceNotFound");
  auto subscription =
      create("/subscriptions/99999999-9999-4999-8999-999999999999", kName1, kOwnerRoleId, kBob);
  ASSERT_FALSE(subscription.ok());
  EXPECT_EQ(subscription.status().armCode(), "SubscriptionNotFound");
}

TEST_F(RoleAssignmentStoreTest, ListAboveBelowAndFilters) {
  ASSERT_TRUE(create(sub(), kName1, kReaderRoleId, kAlice).ok());
  ASSERT_TRUE(create(rg1(), kName2, kContributorRoleId, kBob).ok());
  ASSERT_TRUE(create(vnet1(), kName3, kNetworkContributorRoleId, kAlice).ok());
  auto names = [](const std::vector<RoleAssignment>& v) {
    std::vector<std::string> out;
    for (const auto& a : v) out.push_back(a.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto rgScope = *ResourceId::parse(rg1());
  auto all = roles_->list(rgScope, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(names(*all), (std::vector<std::string>{kName1, kName2, kName3}));
  RoleAssignmentFilter atScope;
  atScope.atScope = true;
  auto at = roles_->list(rgScope, atScope);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(names(*at), (std::vector<std::string>{kName1, kName2}));
  RoleAssignmentFilter alice;
  alice.principalId = kAlice;
  auto mine = roles_->list(rgScope, alice);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(names(*mine), (std::vector<std::string>{kName1, kName3}));
  auto forAlice = roles_->forPrincipal("AAAAAAAA-0000-4000-8000-000000000001");
  ASSERT_TRUE(forAlice.ok());
  EXPECT_EQ(forAlice->size(), 2u);
  auto everything = roles_->all();
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->size(), 3u);
}

}  // namespace
}  // namespace privlink::control::authorization
