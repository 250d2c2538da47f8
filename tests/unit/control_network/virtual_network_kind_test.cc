#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_fixture.h"

namespace privlink::control {
namespace {

using ::testing::HasSubstr;

class VirtualNetworkKindTest : public NetworkTest {};

TEST_F(VirtualNetworkKindTest, CreateFillsDefaultsAndReadOnlyProperties) {
  json v = putOk(vnet("v1"), vnetBody({"10.0.0.0/16"}));
  const json& p = v["properties"];
  EXPECT_EQ(p["addressSpace"]["addressPrefixes"], json::array({"10.0.0.0/16"}));
  EXPECT_EQ(p["privateEndpointVNetPolicies"], "Disabled");
  EXPECT_EQ(p["enableDdosProtection"], false);
  EXPECT_EQ(p["dhcpOptions"]["dnsServers"], json::array());
  EXPECT_EQ(p["subnets"], json::array());
  EXPECT_EQ(p["virtualNetworkPeerings"], json::array());
  EXPECT_EQ(p["resourceGuid"].get<std::string>().size(), 36u);
  EXPECT_EQ(v["type"], "Microsoft.Network/virtualNetworks");
}

TEST_F(VirtualNetworkKindTest, ResourceGuidSurvivesUpdates) {
  json a = putOk(vnet("v1"), vnetBody({"10.0.0.0/16"}));
  json b = putOk(vnet("v1"), vnetBody({"10.0.0.0/16", "10.1.0.0/16"}));
  EXPECT_EQ(a["properties"]["resourceGuid"], b["properties"]["resourceGuid"]);
  EXPECT_EQ(b["properties"]["addressSpace"]["addressPrefixes"].size(), 2u);
}

TEST_F(VirtualNetworkKindTest, AddressSpaceIsRequired) {
  Status s = putErr(vnet("v1"), {{"location", "local"}, {"properties", json::object()}});
  EXPECT_EQ(s.armCode(), "InvalidAddressSpace");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = putErr(vnet("v1"), vnetBody({}));
  EXPECT_EQ(s.armCode(), "InvalidAddressSpace");
}

TEST_F(VirtualNetworkKindTest, RejectsMalformedPrefix) {
  Status s = putErr(vnet("v1"), vnetBody({"10.0.0.1/16"}));
  EXPECT_EQ(s.armCode(), "InvalidAddressPrefixFormat");
  EXPECT_THAT(s.message(), HasSubstr("10.0.0.0/16"));
  EXPECT_EQ(putErr(vnet("v1"), vnetBody({"banana"})).armCode(), "InvalidAddressPrefixFormat");
}

TEST_F(VirtualNetworkKindTest, RejectsOverlappingPrefixesWithinTheVnet) {
  Status s = putErr(vnet("v1"), vnetBody({"10.0.0.0/16", "10.0.128.0/17"}));
  EXPECT_EQ(s.armCode(), "InvalidAddressSpace");
  EXPECT_THAT(s.message(), HasSubstr("overlap"));
}

TEST_F(VirtualNetworkKindTest, RejectsTheTransitRange) {
  Status s = putErr(vnet("v1"), vnetBody({"100.64.0.0/16"}));
  EXPECT_EQ(s.armCode(), "AddressSpaceReservedForBackbone");
  EXPECT_THAT(s.message(), HasSubstr("reserved for the privlink backbone"));
  EXPECT_THAT(s.message(), HasSubstr("100.64.0.0/10"));
  // A space that merely contains the transit range is refused too.
  EXPECT_EQ(putErr(vnet("v1"), vnetBody({"64.0.0.0/2"})).armCode(),
            "AddressSpaceReservedForBackbone");
}

TEST_F(VirtualNetworkKindTest, RejectsAzureReservedRanges) {
  Status s = putErr(vnet("v1"), vnetBody({"169.254.0.0/16"}));
  EXPECT_EQ(s.armCode(), "InvalidAddressSpace");
  EXPECT_THAT(s.message(), HasSubstr("link-local"));
  EXPECT_EQ(putErr(vnet("v1"), vnetBody({"224.0.0.0/8"})).armCode(), "InvalidAddressSpace");
}

TEST_F(VirtualNetworkKindTest, ValidatesDnsServersAndPolicies) {
  json ok =
      putOk(vnet("v1"), vnetBody({"10.0.0.0/16"}, {{"dhcpOptions", {{"dnsServers", {"10.0.0.10"}}}},
                                                   {"privateEndpointVNetPolicies", "basic"}}));
  EXPECT_EQ(ok["properties"]["dhcpOptions"]["dnsServers"], json::array({"10.0.0.10"}));
  EXPECT_EQ(ok["properties"]["privateEndpointVNetPolicies"], "Basic");
  EXPECT_EQ(
      putErr(vnet("v2"), vnetBody({"10.0.0.0/16"}, {{"dhcpOptions", {{"dnsServers", {"10.0.0"}}}}}))
          .armCode(),
      "InvalidRequestFormat");
  EXPECT_EQ(putErr(vnet("v2"), vnetBody({"10.0.0.0/16"}, {{"privateEndpointVNetPolicies", "On"}}))
                .armCode(),
            "InvalidRequestFormat");
  EXPECT_EQ(
      putErr(vnet("v2"), vnetBody({"10.0.0.0/16"}, {{"enableDdosProtection", true}})).armCode(),
      "PropertyNotSupported");
}

TEST_F(VirtualNetworkKindTest, InlineSubnetsAreCreatedAsChildResources) {
  json body = vnetBody(
      {"10.0.0.0/16"},
      {{"subnets",
        json::array({{{"name", "a"}, {"properties", {{"addressPrefix", "10.0.1.0/24"}}}},
                     {{"name", "b"}, {"properties", {{"addressPrefix", "10.0.2.0/24"}}}}})}});
  json v = putOk(vnet("v1"), body);
  ASSERT_EQ(v["properties"]["subnets"].size(), 2u);
  EXPECT_EQ(v["properties"]["subnets"][0]["id"], subnet("v1", "a").toString());
  EXPECT_EQ(v["properties"]["subnets"][0]["properties"]["privateEndpointNetworkPolicies"],
            "Disabled");
  json a = getOk(subnet("v1", "a"));
  EXPECT_EQ(a["properties"]["addressPrefix"], "10.0.1.0/24");
}

TEST_F(VirtualNetworkKindTest, InlineSubnetsAreValidatedAgainstTheNewAddressSpace) {
  json body = vnetBody(
      {"10.0.0.0/16"},
      {{"subnets",
        json::array({{{"name", "a"}, {"properties", {{"addressPrefix", "10.9.1.0/24"}}}}})}});
  Status s = putErr(vnet("v1"), body);
  EXPECT_EQ(s.armCode(), "NetcfgSubnetRangeOutsideVnet");
  EXPECT_FALSE(exists(vnet("v1")));  // the whole PUT rolled back
}

TEST_F(VirtualNetworkKindTest, MissingSubnetsKeyKeepsSubnetsEmptyArrayDeletesThem) {
  makeVnetWithSubnet();
  putOk(vnet("v1"), vnetBody({"10.0.0.0/16", "10.1.0.0/16"}));
  EXPECT_TRUE(exists(subnet("v1", "s1")));
  json v = putOk(vnet("v1"), vnetBody({"10.0.0.0/16"}, {{"subnets", json::array()}}));
  EXPECT_EQ(v["properties"]["subnets"], json::array());
  EXPECT_FALSE(exists(subnet("v1", "s1")));
}

TEST_F(VirtualNetworkKindTest, OmittingASubnetInUseIsRefused) {
  makeVnetWithSubnet();
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  Status s = putErr(vnet("v1"), vnetBody({"10.0.0.0/16"}, {{"subnets", json::array()}}));
  EXPECT_EQ(s.armCode(), "InUseSubnetCannotBeDeleted");
  EXPECT_THAT(s.message(), HasSubstr("networkInterfaces/n1/ipConfigurations/ipconfig1"));
  EXPECT_TRUE(exists(subnet("v1", "s1")));
}

TEST_F(VirtualNetworkKindTest, EchoedGetBodyIsAcceptedUnchanged) {
  makeVnetWithSubnet();
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  json v = getOk(vnet("v1"));
  json again = putOk(vnet("v1"), v);
  EXPECT_EQ(again["properties"]["subnets"].size(), 1u);
  EXPECT_EQ(again["properties"]["subnets"][0]["properties"]["ipConfigurations"].size(), 1u);
}

TEST_F(VirtualNetworkKindTest, ShrinkingTheSpaceMayNotOrphanASubnet) {
  putOk(vnet("v1"), vnetBody({"10.0.0.0/16", "10.1.0.0/16"}));
  putOk(subnet("v1", "s2"), subnetBody("10.1.5.0/24"));
  Status s = putErr(vnet("v1"), vnetBody({"10.0.0.0/16"}));
  EXPECT_EQ(s.armCode(), "NetcfgSubnetRangeOutsideVnet");
  EXPECT_THAT(s.message(), HasSubstr("'s2'"));
}

TEST_F(VirtualNetworkKindTest, DeleteRemovesSubnetsAndIpamButNotWhileInUse) {
  makeVnetWithSubnet();
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  Status s = del(vnet("v1"));
  EXPECT_EQ(s.armCode(), "InUseSubnetCannotBeDeleted");
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  ASSERT_TRUE(del(nic("n1")).ok());
  ASSERT_TRUE(del(vnet("v1")).ok());
  EXPECT_FALSE(exists(subnet("v1", "s1")));
  EXPECT_FALSE(stored("/privlink/ipam" + subnet("v1", "s1").key()).has_value());
}

TEST_F(VirtualNetworkKindTest, ResourceGroupDeleteRemovesNicsBeforeTheirVnet) {
  makeVnetWithSubnet();
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  auto r = svc().remove(arm_.caller(), rg("rg1"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_FALSE(exists(vnet("v1")));
  EXPECT_FALSE(exists(nic("n1")));
}

}  // namespace
}  // namespace privlink::control
