#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_fixture.h"

namespace privlink::control {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class NetworkInterfaceKindTest : public NetworkTest {
 protected:
  NetworkInterfaceKindTest() { makeVnetWithSubnet(); }
};

TEST_F(NetworkInterfaceKindTest, DynamicGetsTheLowestUsableAddress) {
  json n1 = putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  EXPECT_EQ(addressOf(n1), "10.0.1.4");
  const json& ipc = n1["properties"]["ipConfigurations"][0];
  EXPECT_EQ(ipc["id"], nic("n1").toString() + "/ipConfigurations/ipconfig1");
  EXPECT_EQ(ipc["type"], "Microsoft.Network/networkInterfaces/ipConfigurations");
  EXPECT_EQ(ipc["properties"]["privateIPAllocationMethod"], "Dynamic");
  EXPECT_EQ(ipc["properties"]["privateIPAddressVersion"], "IPv4");
  EXPECT_EQ(ipc["properties"]["primary"], true);
  EXPECT_EQ(addressOf(putOk(nic("n2"), nicOn(subnet("v1", "s1")))), "10.0.1.5");
}

TEST_F(NetworkInterfaceKindTest, ReadOnlyPropertiesAndDefaults) {
  json n = putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  const json& p = n["properties"];
  EXPECT_THAT(p["macAddress"].get<std::string>(),
              MatchesRegex("00-0D-3A-[0-9A-F][0-9A-F]-[0-9A-F][0-9A-F]-[0-9A-F][0-9A-F]"));
  EXPECT_EQ(p["enableIPForwarding"], false);
  EXPECT_EQ(p["resourceGuid"].get<std::string>().size(), 36u);
  json again = putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  EXPECT_EQ(again["properties"]["macAddress"], p["macAddress"]);
  EXPECT_EQ(again["properties"]["resourceGuid"], p["resourceGuid"]);
}

TEST_F(NetworkInterfaceKindTest, AddressNeverChangesAcrossUpdates) {
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));            // .4
  json n2 = putOk(nic("n2"), nicOn(subnet("v1", "s1")));  // .5
  ASSERT_TRUE(del(nic("n1")).ok());                       // .4 is free again
  json echoed = getOk(nic("n2"));
  EXPECT_EQ(addressOf(putOk(nic("n2"), echoed)), "10.0.1.5");
  EXPECT_EQ(addressOf(putOk(nic("n2"), nicOn(subnet("v1", "s1")))), "10.0.1.5");
  // Static -> Dynamic keeps the address too.
  putOk(nic("n3"), nicOn(subnet("v1", "s1"), "10.0.1.50"));
  EXPECT_EQ(addressOf(putOk(nic("n3"), nicOn(subnet("v1", "s1")))), "10.0.1.50");
}

TEST_F(NetworkInterfaceKindTest, StaticAddressRules) {
  EXPECT_EQ(addressOf(putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.10"))), "10.0.1.10");

  Status outside = putErr(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.2.10"));
  EXPECT_EQ(outside.armCode(), "PrivateIPAddressNotInSubnet");
  EXPECT_THAT(outside.message(), HasSubstr("10.0.1.0/24"));

  Status reserved = putErr(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.1.2"));
  EXPECT_EQ(reserved.armCode(), "InvalidPrivateIPAddress");
  EXPECT_EQ(reserved.message(),
            "10.0.1.2 is reserved in subnet s1 (10.0.1.0/24); the first usable address is "
            "10.0.1.4");
  EXPECT_EQ(putErr(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.1.255")).armCode(),
            "InvalidPrivateIPAddress");

  Status taken = putErr(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.1.10"));
  EXPECT_EQ(taken.armCode(), "PrivateIPAddressInUse");
  EXPECT_THAT(taken.message(), HasSubstr("/networkInterfaces/n1/ipConfigurations/ipconfig1"));

  json noAddress = nicOn(subnet("v1", "s1"));
  noAddress["properties"]["ipConfigurations"][0]["properties"]["privateIPAllocationMethod"] =
      "Static";
  EXPECT_EQ(putErr(nic("n2"), noAddress).armCode(), "PrivateIPAddressRequiredForStaticAllocation");
}

TEST_F(NetworkInterfaceKindTest, DynamicSkipsStaticallyTakenAddresses) {
  putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.4"));
  EXPECT_EQ(addressOf(putOk(nic("n2"), nicOn(subnet("v1", "s1")))), "10.0.1.5");
}

TEST_F(NetworkInterfaceKindTest, SubnetIsFull) {
  putOk(subnet("v1", "tiny"), subnetBody("10.0.9.0/29"));  // .4 .5 .6 usable
  for (const char* name : {"a", "b", "c"}) putOk(nic(name), nicOn(subnet("v1", "tiny")));
  Status s = putErr(nic("d"), nicOn(subnet("v1", "tiny")));
  EXPECT_EQ(s.armCode(), "SubnetIsFull");
  EXPECT_THAT(s.message(), HasSubstr("10.0.9.0/29"));
}

TEST_F(NetworkInterfaceKindTest, StaticChangeMovesTheAddress) {
  putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.10"));
  putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.11"));
  EXPECT_EQ(addressOf(putOk(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.1.10"))), "10.0.1.10");
}

TEST_F(NetworkInterfaceKindTest, DeleteReleasesAddresses) {
  putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.10"));
  ASSERT_TRUE(del(nic("n1")).ok());
  putOk(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.1.10"));
}

TEST_F(NetworkInterfaceKindTest, MovingToAnotherSubnetReleasesTheOldAddress) {
  putOk(subnet("v1", "s2"), subnetBody("10.0.2.0/24"));
  putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.10"));
  EXPECT_EQ(addressOf(putOk(nic("n1"), nicOn(subnet("v1", "s2")))), "10.0.2.4");
  EXPECT_FALSE(getOk(subnet("v1", "s1"))["properties"].contains("ipConfigurations"));
  ASSERT_TRUE(del(subnet("v1", "s1")).ok());
}

TEST_F(NetworkInterfaceKindTest, PrimaryRules) {
  putOk(subnet("v1", "s2"), subnetBody("10.0.2.0/24"));
  json two =
      nicBody(json::array({ipConfig("a", subnet("v1", "s1")), ipConfig("b", subnet("v1", "s2"))}));
  json n = putOk(nic("n1"), two);
  EXPECT_EQ(n["properties"]["ipConfigurations"][0]["properties"]["primary"], true);
  EXPECT_EQ(n["properties"]["ipConfigurations"][1]["properties"]["primary"], false);
  two["properties"]["ipConfigurations"][0]["properties"]["primary"] = true;
  two["properties"]["ipConfigurations"][1]["properties"]["primary"] = true;
  EXPECT_EQ(putErr(nic("n1"), two).armCode(), "OnlyOnePrimaryIpConfigurationAllowed");
}

TEST_F(NetworkInterfaceKindTest, RemovedIpConfigurationReleasesItsAddress) {
  json two = nicBody(json::array({ipConfig("a", subnet("v1", "s1"), "10.0.1.20"),
                                  ipConfig("b", subnet("v1", "s1"), "10.0.1.21")}));
  putOk(nic("n1"), two);
  putOk(nic("n1"), nicBody(json::array({ipConfig("a", subnet("v1", "s1"), "10.0.1.20")})));
  putOk(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.1.21"));
}

TEST_F(NetworkInterfaceKindTest, ValidationErrors) {
  EXPECT_EQ(putErr(nic("n1"), nicBody(json::array())).armCode(), "NicMustHaveIpConfiguration");
  EXPECT_EQ(putErr(nic("n1"), nicOn(subnet("v1", "missing"))).armCode(),
            "InvalidResourceReference");
  putOk(vnet("v2"), vnetBody({"10.8.0.0/16"}));
  putOk(subnet("v2", "x"), subnetBody("10.8.1.0/24"));
  json split =
      nicBody(json::array({ipConfig("a", subnet("v1", "s1")), ipConfig("b", subnet("v2", "x"))}));
  EXPECT_EQ(putErr(nic("n1"), split).armCode(), "IpConfigurationsOfNicMustBeInSameVnet");
  json elsewhere = nicOn(subnet("v1", "s1"));
  elsewhere["location"] = "otherregion";
  Status s = putErr(nic("n1"), elsewhere);
  EXPECT_EQ(s.armCode(), "InvalidResourceReference");
  EXPECT_THAT(s.message(), HasSubstr("location"));
  json dup =
      nicBody(json::array({ipConfig("a", subnet("v1", "s1")), ipConfig("A", subnet("v1", "s1"))}));
  EXPECT_EQ(putErr(nic("n1"), dup).armCode(), "InvalidRequestFormat");
}

TEST_F(NetworkInterfaceKindTest, DnsSettingsAreValidated) {
  json body = nicOn(subnet("v1", "s1"));
  body["properties"]["dnsSettings"] = {{"dnsServers", {"10.0.0.53", "168.63.129.16"}}};
  json n = putOk(nic("n1"), body);
  EXPECT_EQ(n["properties"]["dnsSettings"]["dnsServers"],
            json::array({"10.0.0.53", "168.63.129.16"}));
  EXPECT_EQ(n["properties"]["dnsSettings"]["appliedDnsServers"],
            n["properties"]["dnsSettings"]["dnsServers"]);
  body["properties"]["dnsSettings"] = {{"dnsServers", {"ns1.example"}}};
  Status s = putErr(nic("n1"), body);
  EXPECT_EQ(s.armCode(), "InvalidRequestFormat");
  EXPECT_EQ(s.target(), "properties.dnsSettings.dnsServers");
}

TEST_F(NetworkInterfaceKindTest, NicOfAPrivateEndpointIsReadOnly) {
  putOk(nic("pe.nic"), nicOn(subnet("v1", "s1")));
  // Simulate the private endpoint kind: a PE document and a NIC that names it.
  const ResourceId pe = rg().child("Microsoft.Network/privateEndpoints", "pe1");
  Status st = arm_.store().write([&](store::Transaction& txn) -> Status {
    auto doc = txn.get(nic("pe.nic").key());
    if (!doc.ok()) return doc.status();
    json body = (*doc)->body;
    body["properties"]["privateEndpoint"] = {{"id", pe.toString()}};
    auto a = txn.put((*doc)->id, (*doc)->type, body);
    if (!a.ok()) return a.status();
    auto b = txn.put(pe.toString(), "microsoft.network/privateendpoints",
                     json{{"location", "local"}, {"properties", json::object()}});
    return b.ok() ? Status::Ok() : b.status();
  });
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(putErr(nic("pe.nic"), nicOn(subnet("v1", "s1"))).armCode(),
            "NetworkInterfaceOwnedByPrivateEndpoint");
  Status d = del(nic("pe.nic"));
  EXPECT_EQ(d.armCode(), "InUseNetworkInterfaceCannotBeDeleted");
  EXPECT_THAT(d.message(), HasSubstr("privateEndpoints/pe1"));
}

}  // namespace
}  // namespace privlink::control
