#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_fixture.h"

namespace privlink::control {
namespace {

using ::testing::HasSubstr;

class PeeringKindTest : public NetworkTest {
 protected:
  PeeringKindTest() {
    putOk(vnet("a"), vnetBody({"10.1.0.0/16"}));
    putOk(vnet("b"), vnetBody({"10.2.0.0/16"}));
  }
  static json peeringTo(const ResourceId& remote, json extra = json::object()) {
    json props = extra;
    props["remoteVirtualNetwork"] = {{"id", remote.toString()}};
    return {{"properties", props}};
  }
  std::string stateOf(const ResourceId& id) {
    return getOk(id)["properties"]["peeringState"].get<std::string>();
  }
};

TEST_F(PeeringKindTest, OneSideIsInitiatedBothSidesConnected) {
  json ab = putOk(peering("a", "ab"), peeringTo(vnet("b")));
  EXPECT_EQ(ab["properties"]["peeringState"], "Initiated");
  EXPECT_EQ(ab["properties"]["peeringSyncLevel"], "FullyInSync");
  EXPECT_EQ(ab["properties"]["allowVirtualNetworkAccess"], true);
  EXPECT_EQ(ab["properties"]["useRemoteGateways"], false);
  EXPECT_EQ(ab["properties"]["remoteAddressSpace"]["addressPrefixes"],
            json::array({"10.2.0.0/16"}));
  json ba = putOk(peering("b", "ba"), peeringTo(vnet("a")));
  EXPECT_EQ(ba["properties"]["peeringState"], "Connected");
  EXPECT_EQ(stateOf(peering("a", "ab")), "Connected");
  json a = getOk(vnet("a"));
  ASSERT_EQ(a["properties"]["virtualNetworkPeerings"].size(), 1u);
  EXPECT_EQ(a["properties"]["virtualNetworkPeerings"][0]["properties"]["peeringState"],
            "Connected");
}

TEST_F(PeeringKindTest, DeletingOneSideDisconnectsTheOther) {
  putOk(peering("a", "ab"), peeringTo(vnet("b")));
  putOk(peering("b", "ba"), peeringTo(vnet("a")));
  ASSERT_TRUE(del(peering("b", "ba")).ok());
  EXPECT_EQ(stateOf(peering("a", "ab")), "Disconnected");
  // Re-creating the other side connects both again.
  putOk(peering("b", "ba"), peeringTo(vnet("a")));
  EXPECT_EQ(stateOf(peering("a", "ab")), "Connected");
}

TEST_F(PeeringKindTest, DeletingARemoteVnetDisconnectsPeeringsToIt) {
  putOk(peering("a", "ab"), peeringTo(vnet("b")));
  putOk(peering("b", "ba"), peeringTo(vnet("a")));
  ASSERT_TRUE(del(vnet("b")).ok());
  EXPECT_EQ(stateOf(peering("a", "ab")), "Disconnected");
}

TEST_F(PeeringKindTest, RemoteInAnotherResourceGroupWorks) {
  makeGroup("rg2");
  putOk(vnet("c", "rg2"), vnetBody({"10.3.0.0/16"}));
  putOk(peering("a", "ac"), peeringTo(vnet("c", "rg2")));
  json ca = putOk(peering("c", "ca", "rg2"), peeringTo(vnet("a")));
  EXPECT_EQ(ca["properties"]["peeringState"], "Connected");
}

TEST_F(PeeringKindTest, RemoteMustExistAndNotBeSelf) {
  Status s = putErr(peering("a", "ax"), peeringTo(vnet("missing")));
  EXPECT_EQ(s.armCode(), "InvalidResourceReference");
  EXPECT_EQ(putErr(peering("a", "aa"), peeringTo(vnet("a"))).armCode(), "VnetCannotPeerWithItself");
  EXPECT_EQ(putErr(peering("a", "an"), {{"properties", json::object()}}).armCode(),
            "InvalidRequestFormat");
}

TEST_F(PeeringKindTest, OverlappingSpacesCannotPeer) {
  putOk(vnet("c"), vnetBody({"10.1.128.0/17", "10.9.0.0/16"}));
  Status s = putErr(peering("a", "ac"), peeringTo(vnet("c")));
  EXPECT_EQ(s.armCode(), "VnetAddressSpacesOverlap");
  EXPECT_THAT(s.message(), HasSubstr("10.1.128.0/17"));
}

TEST_F(PeeringKindTest, SpaceMayNotOverlapAVnetAlreadyPeeredWithTheRemote) {
  putOk(vnet("c"), vnetBody({"10.1.0.0/24"}));  // overlaps a, not b
  putOk(peering("b", "ba"), peeringTo(vnet("a")));
  Status s = putErr(peering("c", "cb"), peeringTo(vnet("b")));
  EXPECT_EQ(s.armCode(), "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet");
}

TEST_F(PeeringKindTest, PeeredVnetSpaceMayNotGrowIntoThePeer) {
  putOk(peering("a", "ab"), peeringTo(vnet("b")));
  Status s = putErr(vnet("a"), vnetBody({"10.1.0.0/16", "10.2.5.0/24"}));
  EXPECT_EQ(s.armCode(), "VnetAddressSpacesOverlap");
  putOk(vnet("a"), vnetBody({"10.1.0.0/16", "10.4.0.0/16"}));
  // The peering renders the remote's current space.
  putOk(vnet("b"), vnetBody({"10.2.0.0/16", "10.5.0.0/16"}));
  json ab = getOk(peering("a", "ab"));
  EXPECT_EQ(ab["properties"]["remoteAddressSpace"]["addressPrefixes"].size(), 2u);
}

TEST_F(PeeringKindTest, RemoteCannotChangeAndNoSecondPeeringToTheSameVnet) {
  putOk(vnet("c"), vnetBody({"10.3.0.0/16"}));
  putOk(peering("a", "ab"), peeringTo(vnet("b")));
  EXPECT_EQ(putErr(peering("a", "ab"), peeringTo(vnet("c"))).armCode(),
            "RemoteVirtualNetworkCannotBeChanged");
  EXPECT_EQ(putErr(peering("a", "ab2"), peeringTo(vnet("b"))).armCode(),
            "VnetPeeringToRemoteVnetAlreadyExists");
}

TEST_F(PeeringKindTest, InlinePeeringsInAVnetPut) {
  json body = vnetBody(
      {"10.1.0.0/16"},
      {{"virtualNetworkPeerings",
        json::array(
            {{{"name", "ab"},
              {"properties", {{"remoteVirtualNetwork", {{"id", vnet("b").toString()}}}}}}})}});
  json a = putOk(vnet("a"), body);
  ASSERT_EQ(a["properties"]["virtualNetworkPeerings"].size(), 1u);
  EXPECT_EQ(a["properties"]["virtualNetworkPeerings"][0]["properties"]["peeringState"],
            "Initiated");
  // An echoed GET body keeps a peering whose remote VNet is gone.
  ASSERT_TRUE(del(vnet("b")).ok());
  json again = putOk(vnet("a"), getOk(vnet("a")));
  EXPECT_EQ(again["properties"]["virtualNetworkPeerings"][0]["properties"]["peeringState"],
            "Disconnected");
  // An explicit empty array deletes it.
  putOk(vnet("a"), vnetBody({"10.1.0.0/16"}, {{"virtualNetworkPeerings", json::array()}}));
  EXPECT_FALSE(exists(peering("a", "ab")));
}

TEST_F(PeeringKindTest, UseRemoteGatewaysIsRefused) {
  Status s = putErr(peering("a", "ab"), peeringTo(vnet("b"), {{"useRemoteGateways", true}}));
  EXPECT_EQ(s.armCode(), "RemoteVnetHasNoGateways");
}

}  // namespace
}  // namespace privlink::control
