#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_fixture.h"

namespace privlink::control {
namespace {

using ::testing::HasSubstr;

class SubnetKindTest : public NetworkTest {
 protected:
  SubnetKindTest() { putOk(vnet("v1"), vnetBody({"10.0.0.0/16"})); }
};

TEST_F(SubnetKindTest, CreateFillsPolicyDefaults) {
  json s = putOk(subnet("v1", "s1"), subnetBody("10.0.1.0/24"));
  EXPECT_EQ(s["type"], "Microsoft.Network/virtualNetworks/subnets");
  EXPECT_EQ(s["properties"]["privateEndpointNetworkPolicies"], "Disabled");
  EXPECT_EQ(s["properties"]["privateLinkServiceNetworkPolicies"], "Enabled");
  EXPECT_FALSE(s.contains("location"));
  EXPECT_FALSE(s["properties"].contains("ipConfigurations"));
}

TEST_F(SubnetKindTest, AcceptsPolicyValuesCaseInsensitively) {
  json s = putOk(subnet("v1", "s1"),
                 subnetBody("10.0.1.0/24", {{"privateEndpointNetworkPolicies", "routetableenabled"},
                                            {"privateLinkServiceNetworkPolicies", "Disabled"}}));
  EXPECT_EQ(s["properties"]["privateEndpointNetworkPolicies"], "RouteTableEnabled");
  EXPECT_EQ(s["properties"]["privateLinkServiceNetworkPolicies"], "Disabled");
  Status bad = putErr(subnet("v1", "s2"),
                      subnetBody("10.0.2.0/24", {{"privateLinkServiceNetworkPolicies", "Maybe"}}));
  EXPECT_EQ(bad.armCode(), "InvalidRequestFormat");
  EXPECT_THAT(bad.message(), HasSubstr("Enabled, Disabled"));
}

TEST_F(SubnetKindTest, PrefixIsRequired) {
  Status s = putErr(subnet("v1", "s1"), {{"properties", json::object()}});
  EXPECT_EQ(s.armCode(), "NoAddressPrefixOrPoolProvided");
}

TEST_F(SubnetKindTest, AddressPrefixesFormIsAccepted) {
  json s = putOk(subnet("v1", "s1"),
                 {{"properties", {{"addressPrefixes", {"10.0.1.0/24", "10.0.2.0/24"}}}}});
  EXPECT_EQ(s["properties"]["addressPrefixes"].size(), 2u);
  EXPECT_FALSE(s["properties"].contains("addressPrefix"));
}

TEST_F(SubnetKindTest, MustLieInsideTheVnet) {
  Status s = putErr(subnet("v1", "s1"), subnetBody("10.1.0.0/24"));
  EXPECT_EQ(s.armCode(), "NetcfgSubnetRangeOutsideVnet");
  EXPECT_THAT(s.message(), HasSubstr("10.0.0.0/16"));
}

TEST_F(SubnetKindTest, MustNotOverlapSiblings) {
  putOk(subnet("v1", "s1"), subnetBody("10.0.1.0/24"));
  Status s = putErr(subnet("v1", "s2"), subnetBody("10.0.1.128/25"));
  EXPECT_EQ(s.armCode(), "NetcfgSubnetRangesOverlap");
  EXPECT_THAT(s.message(), HasSubstr("'s1'"));
  // Updating a subnet does not collide with itself.
  putOk(subnet("v1", "s1"), subnetBody("10.0.0.0/23"));
}

TEST_F(SubnetKindTest, MinimumSizeIsSlash29) {
  putOk(subnet("v1", "s1"), subnetBody("10.0.1.0/29"));
  Status s = putErr(subnet("v1", "s2"), subnetBody("10.0.2.0/30"));
  EXPECT_EQ(s.armCode(), "NetcfgInvalidSubnet");
  EXPECT_THAT(s.message(), HasSubstr("/29"));
}

TEST_F(SubnetKindTest, DualStackSubnetsUseSlash64ForIpv6) {
  putOk(vnet("v6"), vnetBody({"10.6.0.0/16", "fd00:6::/48"}));
  json s = putOk(subnet("v6", "s1"),
                 {{"properties", {{"addressPrefixes", {"10.6.1.0/24", "fd00:6:0:1::/64"}}}}});
  EXPECT_EQ(s["properties"]["addressPrefixes"][1], "fd00:6:0:1::/64");
  Status bad = putErr(subnet("v6", "s2"),
                      {{"properties", {{"addressPrefixes", {"10.6.2.0/24", "fd00:6:0:2::/80"}}}}});
  EXPECT_EQ(bad.armCode(), "NetcfgInvalidSubnet");
  EXPECT_THAT(bad.message(), HasSubstr("/64"));
  // An IPv4-only NIC still gets an IPv4 address from the dual-stack subnet.
  EXPECT_EQ(addressOf(putOk(nic("n1"), nicOn(subnet("v6", "s1")))), "10.6.1.4");
}

TEST_F(SubnetKindTest, UnsupportedReferencesAreRefused) {
  Status s = putErr(subnet("v1", "s1"),
                    subnetBody("10.0.1.0/24", {{"networkSecurityGroup", {{"id", "/x"}}}}));
  EXPECT_EQ(s.armCode(), "PropertyNotSupported");
}

TEST_F(SubnetKindTest, MissingVnetIsParentResourceNotFound) {
  auto r = put(subnet("nope", "s1"), subnetBody("10.0.1.0/24"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(SubnetKindTest, RendersIpConfigurationsInUse) {
  putOk(subnet("v1", "s1"), subnetBody("10.0.1.0/24"));
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  json s = getOk(subnet("v1", "s1"));
  ASSERT_EQ(s["properties"]["ipConfigurations"].size(), 1u);
  EXPECT_EQ(s["properties"]["ipConfigurations"][0]["id"],
            nic("n1").toString() + "/ipConfigurations/ipconfig1");
}

TEST_F(SubnetKindTest, InUseSubnetCannotBeDeleted) {
  putOk(subnet("v1", "s1"), subnetBody("10.0.1.0/24"));
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  Status s = del(subnet("v1", "s1"));
  EXPECT_EQ(s.armCode(), "InUseSubnetCannotBeDeleted");
  EXPECT_THAT(s.message(), HasSubstr("/networkInterfaces/n1/ipConfigurations/ipconfig1"));
  ASSERT_TRUE(del(nic("n1")).ok());
  EXPECT_TRUE(del(subnet("v1", "s1")).ok());
}

TEST_F(SubnetKindTest, PrefixChangeMayNotStrandAnAddressInUse) {
  putOk(subnet("v1", "s1"), subnetBody("10.0.1.0/24"));
  putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.200"));
  Status s = putErr(subnet("v1", "s1"), subnetBody("10.0.1.0/25"));
  EXPECT_EQ(s.armCode(), "InUseSubnetCannotBeUpdated");
  EXPECT_THAT(s.message(), HasSubstr("10.0.1.200"));
  EXPECT_THAT(s.message(), HasSubstr("/networkInterfaces/n1"));
  // Growing it is fine.
  putOk(subnet("v1", "s1"), subnetBody("10.0.0.0/23"));
}

}  // namespace
}  // namespace privlink::control
