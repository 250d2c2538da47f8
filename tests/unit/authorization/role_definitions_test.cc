#include "control/authorization/role_definitions.h"

#include <gtest/gtest.h>

namespace privlink::control::authorization {
namespace {

TEST(ActionMatchTest, ExactIsCaseInsensitive) {
  EXPECT_TRUE(actionMatches("Microsoft.Network/virtualNetworks/write",
                            "microsoft.network/VIRTUALNETWORKS/write"));
  EXPECT_FALSE(actionMatches("Microsoft.Network/virtualNetworks/write",
                             "Microsoft.Network/virtualNetworks/read"));
  EXPECT_FALSE(actionMatches("Microsoft.Network/virtualNetworks/write",
                             "Microsoft.Network/virtualNetworks/writes"));
}

TEST(ActionMatchTest, StarMatchesEverything) {
  EXPECT_TRUE(actionMatches("*", "Microsoft.Network/virtualNetworks/subnets/join/action"));
  EXPECT_TRUE(actionMatches("*", ""));
}

TEST(ActionMatchTest, StarSpansSlashes) {
  EXPECT_TRUE(actionMatches("*/read", "Microsoft.Network/virtualNetworks/subnets/read"));
  EXPECT_FALSE(actionMatches("*/read", "Microsoft.Network/virtualNetworks/subnets/write"));
  EXPECT_FALSE(actionMatches("*/read", "Microsoft.Network/virtualNetworks/subnets/join/action"));
  EXPECT_TRUE(actionMatches("Microsoft.Network/*", "microsoft.network/privateEndpoints/delete"));
  EXPECT_FALSE(actionMatches("Microsoft.Network/*", "Microsoft.Networking/x/read"));
  EXPECT_TRUE(actionMatches("Microsoft.Authorization/*/Write",
                            "Microsoft.Authorization/roleAssignments/write"));
  EXPECT_FALSE(actionMatches("Microsoft.Authorization/*/Write",
                             "Microsoft.Authorization/roleAssignments/read"));
}

TEST(ActionMatchTest, SeveralStarsBacktrack) {
  EXPECT_TRUE(actionMatches("Microsoft.*/*/join/action",
                            "Microsoft.Network/virtualNetworks/subnets/join/action"));
  EXPECT_FALSE(actionMatches("Microsoft.*/*/join/action", "Microsoft.Network/join/actions"));
  EXPECT_TRUE(actionMatches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(actionMatches("a*b*c", "aXbYbZ"));
}

TEST(RoleDefinitionsTest, BuiltInsHaveAzureGuidsAndNames) {
  ASSERT_EQ(builtInRoles().size(), 5u);
  EXPECT_EQ(findRoleByName("owner")->id, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635");
  EXPECT_EQ(findRoleByName("Contributor")->id, "b24988ac-6180-42a0-ab88-20f7382dd24c");
  EXPECT_EQ(findRoleByName("Reader")->id, "acdd72a7-3385-48ef-bd42-f606fba81ae7");
  EXPECT_EQ(findRoleByName("network contributor")->id, "4d97b98b-1d4f-4787-a291-c67834d212e7");
  EXPECT_EQ(findRoleByName("Private DNS Zone Contributor")->id,
            "b12aa53e-6015-4669-85d0-8515ebb3ae7f");
  EXPECT_EQ(findRoleById("B24988AC-6180-42A0-AB88-20F7382DD24C")->name, "Contributor");
  EXPECT_EQ(findRoleById("00000000-0000-0000-0000-000000000000"), nullptr);
  EXPECT_EQ(findRoleByName("Storage Blob Data Reader"), nullptr);
}

TEST(RoleDefinitionsTest, ContributorCannotManageAccess) {
  const RoleDefinition& c = *findRoleById(kContributorRoleId);
  EXPECT_TRUE(c.permits("Microsoft.Network/virtualNetworks/write"));
  EXPECT_TRUE(c.permits("Microsoft.Authorization/roleAssignments/read"));
  EXPECT_FALSE(c.permits("Microsoft.Authorization/roleAssignments/write"));
  EXPECT_FALSE(c.permits("Microsoft.Authorization/roleAssignments/delete"));
  EXPECT_FALSE(c.permits("Microsoft.Authorization/elevateAccess/action"));
  const RoleDefinition& o = *findRoleById(kOwnerRoleId);
  EXPECT_TRUE(o.permits("Microsoft.Authorization/roleAssignments/write"));
}

TEST(RoleDefinitionsTest, NetworkContributorAndPrivateDns) {
  const RoleDefinition& n = *findRoleById(kNetworkContributorRoleId);
  EXPECT_TRUE(n.permits(
      "Microsoft.Network/privateLinkServices/privateEndpointConnectionsApproval/action"));
  EXPECT_TRUE(n.permits("Microsoft.Network/virtualNetworks/subnets/join/action"));
  EXPECT_TRUE(n.permits("Microsoft.Resources/subscriptions/resourceGroups/read"));
  EXPECT_FALSE(n.permits("Microsoft.Resources/subscriptions/resourceGroups/write"));
  EXPECT_FALSE(n.permits("Microsoft.Authorization/roleAssignments/write"));
  const RoleDefinition& d = *findRoleById(kPrivateDnsZoneContributorRoleId);
  EXPECT_TRUE(d.permits("Microsoft.Network/privateDnsZones/virtualNetworkLinks/write"));
  EXPECT_TRUE(d.permits("Microsoft.Network/virtualNetworks/join/action"));
  EXPECT_TRUE(d.permits("Microsoft.Network/virtualNetworks/read"));
  EXPECT_FALSE(d.permits("Microsoft.Network/virtualNetworks/write"));
  EXPECT_FALSE(d.permits("Microsoft.Network/virtualNetworks/subnets/join/action"));
}

TEST(RoleDefinitionsTest, RoleGuidOfAcceptsAzureForms) {
  const std::string g = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
  EXPECT_EQ(roleGuidOf(g), g);
  EXPECT_EQ(roleGuidOf("ACDD72A7-3385-48EF-BD42-F606FBA81AE7"), g);
  EXPECT_EQ(roleGuidOf("/providers/Microsoft.Authorization/roleDefinitions/" + g), g);
  EXPECT_EQ(roleGuidOf("/subscriptions/s1/providers/microsoft.authorization/roledefinitions/" + g),
            g);
  EXPECT_EQ(roleGuidOf("/subscriptions/s1/resourceGroups/rg/providers/"
                       "Microsoft.Authorization/roleDefinitions/" + g),
            std::nullopt);
  EXPECT_EQ(roleGuidOf("Reader"), std::nullopt);
  EXPECT_EQ(roleGuidOf("/providers/Microsoft.Authorization/roleDefinitions/not-a-guid"),
            std::nullopt);
  EXPECT_EQ(roleGuidOf(""), std::nullopt);
}

TEST(RoleDefinitionsTest, RenderLooksLikeAzure) {
  auto body = renderRoleDefinition(*findRoleById(kReaderRoleId), "s1");
  EXPECT_EQ(body["id"],
            "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/"
            "acdd72a7-3385-48ef-bd42-f606fba81ae7");
  EXPECT_EQ(body["type"], "Microsoft.Authorization/roleDefinitions");
  EXPECT_EQ(body["properties"]["roleName"], "Reader");
  EXPECT_EQ(body["properties"]["type"], "BuiltInRole");
  EXPECT_EQ(body["properties"]["permissions"][0]["actions"][0], "*/read");
  EXPECT_EQ(body["properties"]["assignableScopes"][0], "/");
}

}  // namespace
}  // namespace privlink::control::authorization
