#include "common/resource_id.h"

#include <gtest/gtest.h>

namespace privlink {
namespace {

constexpr char kSubnet[] =
    "/subscriptions/S1/resourceGroups/Rg1/providers/Microsoft.Network/virtualNetworks/VNet1/"
    "subnets/Default";

ResourceId id(std::string_view text) {
  auto r = ResourceId::parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().toString();
  return r.ok() ? r.value() : ResourceId();
}

TEST(ResourceIdTest, ParsesSubscription) {
  ResourceId r = id("/subscriptions/S1");
  EXPECT_TRUE(r.isSubscription());
  EXPECT_FALSE(r.isResourceGroup());
  EXPECT_EQ(r.subscriptionId(), "S1");
  EXPECT_EQ(r.type(), "Microsoft.Resources/subscriptions");
  EXPECT_EQ(r.name(), "S1");
  EXPECT_EQ(r.toString(), "/subscriptions/S1");
  EXPECT_FALSE(r.parent().has_value());
}

TEST(ResourceIdTest, ParsesResourceGroup) {
  ResourceId r = id("/subscriptions/S1/resourcegroups/MyGroup");
  EXPECT_TRUE(r.isResourceGroup());
  EXPECT_EQ(r.resourceGroup(), "MyGroup");
  EXPECT_EQ(r.type(), "Microsoft.Resources/resourceGroups");
  EXPECT_EQ(r.name(), "MyGroup");
  EXPECT_EQ(r.toString(), "/subscriptions/S1/resourceGroups/MyGroup");
  EXPECT_EQ(r.key(), "/subscriptions/s1/resourcegroups/mygroup");
  ASSERT_TRUE(r.parent().has_value());
  EXPECT_EQ(r.parent()->toString(), "/subscriptions/S1");
}

TEST(ResourceIdTest, ParsesNestedResource) {
  ResourceId r = id(kSubnet);
  EXPECT_EQ(r.subscriptionId(), "S1");
  EXPECT_EQ(r.resourceGroup(), "Rg1");
  EXPECT_EQ(r.providerNamespace(), "Microsoft.Network");
  ASSERT_EQ(r.segments().size(), 2u);
  EXPECT_EQ(r.segments()[0].type, "virtualNetworks");
  EXPECT_EQ(r.segments()[0].name, "VNet1");
  EXPECT_EQ(r.type(), "Microsoft.Network/virtualNetworks/subnets");
  EXPECT_EQ(r.name(), "Default");
  EXPECT_EQ(r.scope(), "");
  EXPECT_EQ(r.toString(), kSubnet);
  EXPECT_EQ(r.key(), toLower(kSubnet));
}

TEST(ResourceIdTest, FixedWordsAreCaseInsensitiveAndCanonicalised) {
  ResourceId r =
      id("/SUBSCRIPTIONS/S1/RESOURCEGROUPS/Rg1/Providers/Microsoft.Network/virtualNetworks/VNet1/"
         "subnets/Default");
  EXPECT_EQ(r.toString(), kSubnet);
  EXPECT_EQ(r, id(kSubnet));
}

TEST(ResourceIdTest, CollapsesDoubleSlashesAndTrailingSlash) {
  ResourceId r =
      id("/subscriptions//S1/resourceGroups/Rg1//providers/Microsoft.Network/virtualNetworks/VNet1/"
         "subnets/Default/");
  EXPECT_EQ(r.toString(), kSubnet);
}

TEST(ResourceIdTest, EqualityIgnoresCase) {
  EXPECT_EQ(id("/subscriptions/S1/resourceGroups/RG"), id("/subscriptions/s1/resourcegroups/rg"));
  EXPECT_FALSE(id("/subscriptions/S1/resourceGroups/RG") ==
               id("/subscriptions/S1/resourceGroups/RG2"));
}

TEST(ResourceIdTest, SubscriptionLevelProviderResource) {
  ResourceId r = id("/subscriptions/S/providers/Microsoft.Network/locations/l/operations/o");
  EXPECT_EQ(r.type(), "Microsoft.Network/locations/operations");
  EXPECT_EQ(r.resourceGroup(), "");
  EXPECT_EQ(r.toString(), "/subscriptions/S/providers/Microsoft.Network/locations/l/operations/o");
  ASSERT_TRUE(r.parent().has_value());
  EXPECT_EQ(r.parent()->toString(), "/subscriptions/S/providers/Microsoft.Network/locations/l");
  EXPECT_EQ(r.parent()->parent()->toString(), "/subscriptions/S");
}

TEST(ResourceIdTest, ExtensionResource) {
  const std::string vnet =
      "/subscriptions/S/resourceGroups/R/providers/Microsoft.Network/virtualNetworks/v";
  ResourceId r = id(vnet + "/providers/Microsoft.Authorization/roleAssignments/g");
  EXPECT_EQ(r.scope(), vnet);
  EXPECT_EQ(r.type(), "Microsoft.Authorization/roleAssignments");
  EXPECT_EQ(r.providerNamespace(), "Microsoft.Authorization");
  EXPECT_EQ(r.name(), "g");
  EXPECT_EQ(r.subscriptionId(), "S");
  EXPECT_EQ(r.resourceGroup(), "R");
  EXPECT_EQ(r.toString(), vnet + "/providers/Microsoft.Authorization/roleAssignments/g");
  ASSERT_TRUE(r.parent().has_value());
  EXPECT_EQ(r.parent()->toString(), vnet);
}

TEST(ResourceIdTest, ExtensionScopeIsCanonicalised) {
  ResourceId r =
      id("/subscriptions/S/resourcegroups/R/PROVIDERS/Microsoft.Network/virtualNetworks/v/"
         "providers/Microsoft.Authorization/roleAssignments/g");
  EXPECT_EQ(r.scope(),
            "/subscriptions/S/resourceGroups/R/providers/Microsoft.Network/virtualNetworks/v");
}

TEST(ResourceIdTest, NestedExtensionLastProviderWins) {
  ResourceId r = id("/subscriptions/S/providers/A.B/x/1/providers/C.D/y/2/providers/E.F/z/3");
  EXPECT_EQ(r.scope(), "/subscriptions/S/providers/A.B/x/1/providers/C.D/y/2");
  EXPECT_EQ(r.type(), "E.F/z");
  EXPECT_EQ(r.parent()->type(), "C.D/y");
  EXPECT_EQ(r.parent()->parent()->type(), "A.B/x");
}

TEST(ResourceIdTest, ParentWalksSegmentsThenGroupThenSubscription) {
  ResourceId r = id(kSubnet);
  auto vnet = r.parent();
  ASSERT_TRUE(vnet.has_value());
  EXPECT_EQ(vnet->type(), "Microsoft.Network/virtualNetworks");
  EXPECT_EQ(vnet->name(), "VNet1");
  auto group = vnet->parent();
  ASSERT_TRUE(group.has_value());
  EXPECT_TRUE(group->isResourceGroup());
  auto sub = group->parent();
  ASSERT_TRUE(sub.has_value());
  EXPECT_TRUE(sub->isSubscription());
  EXPECT_FALSE(sub->parent().has_value());
}

TEST(ResourceIdTest, ChildBuildsIds) {
  ResourceId sub = ResourceId::subscription("S1");
  ResourceId rg = sub.child("resourceGroups", "Rg1");
  EXPECT_EQ(rg, ResourceId::resourceGroup("S1", "Rg1"));
  ResourceId subnet =
      rg.child("Microsoft.Network/virtualNetworks", "VNet1").child("subnets", "Default");
  EXPECT_EQ(subnet.toString(), kSubnet);
}

TEST(ResourceIdTest, DefaultIsEmpty) {
  ResourceId r;
  EXPECT_EQ(r.toString(), "");
  EXPECT_FALSE(r.parent().has_value());
  EXPECT_FALSE(r.isSubscription());
}

TEST(CaseHelpersTest, Work) {
  EXPECT_EQ(toLower("MiXeD/Path"), "mixed/path");
  EXPECT_TRUE(iequals("resourceGroups", "RESOURCEGROUPS"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_TRUE(istartsWith("/Subscriptions/x", "/subscriptions/"));
  EXPECT_FALSE(istartsWith("/sub", "/subscriptions/"));
}

void expectInvalid(std::string_view text, std::string_view needle) {
  auto r = ResourceId::parse(text);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().armCode(), "InvalidResourceId");
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(ResourceIdParseTest, RejectsEmpty) { expectInvalid("", "empty"); }
TEST(ResourceIdParseTest, RejectsOnlySlashes) { expectInvalid("///", "empty"); }
TEST(ResourceIdParseTest, RejectsMissingLeadingSlash) {
  expectInvalid("subscriptions/S1", "must start with '/'");
}
TEST(ResourceIdParseTest, RejectsWrongFirstWord) {
  expectInvalid("/subscription/S1", "'subscription' instead of 'subscriptions'");
}
TEST(ResourceIdParseTest, RejectsMissingSubscriptionId) {
  expectInvalid("/subscriptions/", "subscription id is missing");
}
TEST(ResourceIdParseTest, RejectsMissingGroupName) {
  expectInvalid("/subscriptions/S1/resourceGroups", "resource group name is missing");
}
TEST(ResourceIdParseTest, RejectsUnknownSegmentAfterSubscription) {
  expectInvalid("/subscriptions/S1/virtualNetworks/v", "unexpected segment 'virtualNetworks'");
}
TEST(ResourceIdParseTest, RejectsUnknownSegmentAfterGroup) {
  expectInvalid("/subscriptions/S1/resourceGroups/R/foo/bar", "unexpected segment 'foo'");
}
TEST(ResourceIdParseTest, RejectsMissingNamespace) {
  expectInvalid("/subscriptions/S1/resourceGroups/R/providers", "namespace is missing");
}
TEST(ResourceIdParseTest, RejectsNamespaceWithoutType) {
  expectInvalid("/subscriptions/S1/resourceGroups/R/providers/Microsoft.Network",
                "'Microsoft.Network' is not followed by {type}/{name}");
}
TEST(ResourceIdParseTest, RejectsTypeWithoutName) {
  expectInvalid("/subscriptions/S1/resourceGroups/R/providers/Microsoft.Network/virtualNetworks",
                "'virtualNetworks' has no name");
}
TEST(ResourceIdParseTest, RejectsChildTypeWithoutName) {
  expectInvalid(
      "/subscriptions/S1/resourceGroups/R/providers/Microsoft.Network/virtualNetworks/v/subnets",
      "'subnets' has no name");
}
TEST(ResourceIdParseTest, RejectsEmptyExtensionSection) {
  expectInvalid(
      "/subscriptions/S1/resourceGroups/R/providers/Microsoft.Network/virtualNetworks/v/providers",
      "namespace is missing");
}
TEST(ResourceIdParseTest, RejectsControlCharacter) {
  expectInvalid("/subscriptions/S1/resourceGroups/R\n", "control character");
}
TEST(ResourceIdParseTest, MessageNamesExpectedForm) {
  expectInvalid("/nonsense", "Expected /subscriptions/{subscriptionId}");
}

}  // namespace
}  // namespace privlink
