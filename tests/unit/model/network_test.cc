#include "model/network.h"

#include <gtest/gtest.h>

#include "testing/network_documents.h"

namespace privlink::model {
namespace {

using namespace privlink::testing;

const std::string kVnet = vnetId("rg", "v");

TEST(NormaliseKey, LowerCasesAndCollapsesSlashes) {
  EXPECT_EQ(normaliseKey("/Subscriptions/X//resourceGroups/RG/"),
            "/subscriptions/x/resourcegroups/rg");
}

TEST(ParseNetwork, AttachesSubnetsAndKeepsIpv4Only) {
  auto vnet = vnetDocument(kVnet, {"10.0.0.0/16", "fd00::/48"});
  auto subnet = subnetDocument(subnetId(kVnet, "S1"), "10.0.1.0/24");
  subnet.body["properties"]["addressPrefixes"] = {"10.0.2.0/24", "fd00::/64"};
  auto snap = parseNetwork({vnet, subnet}, 5);
  EXPECT_EQ(snap.revision, 5);
  ASSERT_EQ(snap.vnets.size(), 1u);
  const VNet& v = snap.vnets.begin()->second;
  ASSERT_EQ(v.addressPrefixes.size(), 1u);
  ASSERT_EQ(v.subnets.size(), 1u);
  EXPECT_EQ(v.subnets[0].name, "s1");
  EXPECT_EQ(v.subnets[0].prefixes.size(), 2u);
  EXPECT_TRUE(snap.failures.empty());
}

TEST(ParseNetwork, OrphanSubnetsAndPeeringsAreIgnored) {
  auto snap = parseNetwork({subnetDocument(subnetId(kVnet, "s"), "10.0.1.0/24"),
                            peeringDocument(peeringId(kVnet, "p"), vnetId("rg", "w"), "Connected")},
                           1);
  EXPECT_TRUE(snap.vnets.empty());
  EXPECT_TRUE(snap.peerings.empty());
  EXPECT_TRUE(snap.failures.empty());
}

TEST(ParseNetwork, NicFields) {
  auto snap =
      parseNetwork({nicDocument(nicId("rg", "NIC"), subnetId(kVnet, "Default"), "10.0.1.4")}, 1);
  ASSERT_EQ(snap.nics.size(), 1u);
  const Nic& nic = snap.nics.begin()->second;
  ASSERT_EQ(nic.ipConfigurations.size(), 1u);
  EXPECT_EQ(nic.ipConfigurations[0].subnetKey, normaliseKey(subnetId(kVnet, "default")));
  EXPECT_EQ(nic.ipConfigurations[0].address->toString(), "10.0.1.4");
  EXPECT_TRUE(nic.ipConfigurations[0].primary);
}

TEST(ParseNetwork, PeeringStateIsCaseInsensitive) {
  auto snap = parseNetwork({vnetDocument(kVnet, {"10.0.0.0/16"}),
                            peeringDocument(peeringId(kVnet, "p"), vnetId("rg", "W"), "connected")},
                           1);
  ASSERT_EQ(snap.peerings.size(), 1u);
  const Peering& p = snap.peerings.begin()->second;
  EXPECT_TRUE(p.connected());
  EXPECT_EQ(p.vnetKey, normaliseKey(kVnet));
  EXPECT_EQ(p.remoteVnetKey, normaliseKey(vnetId("rg", "w")));
}

// One named test per malformed input: each becomes a per-key failure, never a crash.
void expectFailure(SourceDocument doc, const std::string& fragment) {
  auto snap = parseNetwork({doc}, 1);
  ASSERT_EQ(snap.failures.count(doc.key), 1u) << doc.body.dump();
  EXPECT_EQ(snap.failures.at(doc.key).armCode(), "InvalidResourceDocument");
  EXPECT_NE(snap.failures.at(doc.key).message().find(fragment), std::string::npos)
      << snap.failures.at(doc.key).message();
  EXPECT_TRUE(snap.vnets.empty() && snap.nics.empty());
}

TEST(ParseNetworkMalformed, VnetBodyNotAnObject) {
  auto doc = vnetDocument(kVnet, {"10.0.0.0/16"});
  doc.body = nlohmann::json::array({1, 2});
  expectFailure(doc, "addressPrefixes is missing");
}
TEST(ParseNetworkMalformed, VnetPrefixNotAString) {
  auto doc = vnetDocument(kVnet, {"10.0.0.0/16"});
  doc.body["properties"]["addressSpace"]["addressPrefixes"] = {42};
  expectFailure(doc, "must be a string");
}
TEST(ParseNetworkMalformed, VnetPrefixWithHostBits) {
  expectFailure(vnetDocument(kVnet, {"10.0.0.1/16"}), "addressPrefixes");
}
TEST(ParseNetworkMalformed, SubnetWithoutPrefix) {
  auto doc = subnetDocument(subnetId(kVnet, "s"), "10.0.1.0/24");
  doc.body["properties"].erase("addressPrefix");
  expectFailure(doc, "addressPrefix is missing");
}
TEST(ParseNetworkMalformed, NicConfigurationsNotAnArray) {
  auto doc = nicDocument(nicId("rg", "n"), subnetId(kVnet, "s"), "10.0.1.4");
  doc.body["properties"]["ipConfigurations"] = "x";
  expectFailure(doc, "must be an array");
}
TEST(ParseNetworkMalformed, NicWithoutSubnet) {
  auto doc = nicDocument(nicId("rg", "n"), subnetId(kVnet, "s"), "10.0.1.4");
  doc.body["properties"]["ipConfigurations"][0]["properties"].erase("subnet");
  expectFailure(doc, "subnet.id is missing");
}
TEST(ParseNetworkMalformed, NicBadAddress) {
  expectFailure(nicDocument(nicId("rg", "n"), subnetId(kVnet, "s"), "10.0.1.400"),
                "is not an IP address");
}
TEST(ParseNetworkMalformed, NicAddressNotAString) {
  auto doc = nicDocument(nicId("rg", "n"), subnetId(kVnet, "s"), "10.0.1.4");
  doc.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] = 7;
  expectFailure(doc, "privateIPAddress");
}
TEST(ParseNetworkMalformed, PeeringWithoutRemote) {
  auto doc = peeringDocument(peeringId(kVnet, "p"), vnetId("rg", "w"), "Connected");
  doc.body["properties"].erase("remoteVirtualNetwork");
  expectFailure(doc, "remoteVirtualNetwork.id is missing");
}
TEST(ParseNetworkMalformed, TransitWithIpv6Address) {
  auto doc = transitDocument(kVnet, "fd00::1");
  expectFailure(doc, "not an IPv4 address");
}

}  // namespace
}  // namespace privlink::model
