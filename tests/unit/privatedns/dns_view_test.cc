#include <gtest/gtest.h>

#include "model/private_dns_view.h"

namespace privlink::model {
namespace {

using nlohmann::json;

const std::string kRg = "/subscriptions/s/resourcegroups/rg/providers/microsoft.network";

SourceDocument doc(const std::string& key, const std::string& type, json body) {
  return SourceDocument{key, key, type, std::move(body)};
}
SourceDocument zone(const std::string& name) {
  return doc(kRg + "/privatednszones/" + name, "microsoft.network/privatednszones",
             {{"location", "global"}});
}
SourceDocument link(const std::string& z, const std::string& n, const std::string& vnet, bool reg) {
  return doc(kRg + "/privatednszones/" + z + "/virtualnetworklinks/" + n,
             "microsoft.network/privatednszones/virtualnetworklinks",
             {{"properties",
               {{"virtualNetwork", {{"id", kRg + "/virtualNetworks/" + vnet}}},
                {"registrationEnabled", reg}}}});
}
SourceDocument aRecord(const std::string& z, const std::string& n, json records,
                       json attributions = nullptr) {
  json p = {{"ttl", 10}, {"aRecords", records}};
  if (!attributions.is_null()) p["privlink"] = {{"addresses", attributions}};
  return doc(kRg + "/privatednszones/" + z + "/a/" + n, "microsoft.network/privatednszones/a",
             {{"properties", p}});
}
SourceDocument nic(const std::string& name, const std::string& vnet, const std::string& ip,
                   bool privateEndpoint = false) {
  json p = {{"ipConfigurations",
             {{{"name", "ipconfig1"},
               {"properties",
                {{"privateIPAddress", ip},
                 {"primary", true},
                 {"subnet", {{"id", kRg + "/virtualNetworks/" + vnet + "/subnets/default"}}}}}}}}};
  if (privateEndpoint) p["privateEndpoint"] = {{"id", kRg + "/privateEndpoints/pe"}};
  return doc(kRg + "/networkinterfaces/" + name, "microsoft.network/networkinterfaces",
             {{"properties", p}});
}
std::string vnetKey(const std::string& v) { return kRg + "/virtualnetworks/" + v; }

std::vector<std::string> addressesOf(const DnsView& view, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& z : view.zones) {
    for (const auto& rs : z.recordSets) {
      if (rs.name == name && rs.type == "A") {
        for (const auto& ip : rs.addresses) out.push_back(ip.toString());
      }
    }
  }
  return out;
}

TEST(DnsViewTest, OnlyLinkedZonesAreVisible) {
  std::vector<SourceDocument> docs = {zone("a.example"), zone("b.example"),
                                      link("a.example", "l", "v1", false),
                                      aRecord("a.example", "www", {{{"ipv4Address", "10.0.0.4"}}}),
                                      aRecord("b.example", "www", {{{"ipv4Address", "10.0.0.5"}}})};
  DnsView v1 = dnsView(docs, vnetKey("V1"));  // case-insensitive
  ASSERT_EQ(v1.zones.size(), 1u);
  EXPECT_EQ(v1.zones[0].name, "a.example");
  ASSERT_EQ(v1.zones[0].recordSets.size(), 1u);
  EXPECT_EQ(v1.zones[0].recordSets[0].fqdn, "www.a.example.");
  EXPECT_EQ(v1.zones[0].recordSets[0].ttl, 10u);
  EXPECT_TRUE(dnsView(docs, vnetKey("v2")).zones.empty());
}

TEST(DnsViewTest, EachVnetGetsItsOwnEndpointAddress) {
  json attributions = {
      {{"ipv4Address", "10.1.0.4"}, {"virtualNetworkId", kRg + "/virtualNetworks/v1"}},
      {{"ipv4Address", "10.2.0.4"}, {"virtualNetworkId", kRg + "/virtualNetworks/v2"}}};
  std::string z = "privatelink.database.windows.net";
  std::vector<SourceDocument> docs = {
      zone(z), link(z, "l1", "v1", false), link(z, "l2", "v2", false), link(z, "l3", "hub", false),
      aRecord(z, "db1", {{{"ipv4Address", "10.1.0.4"}}, {{"ipv4Address", "10.2.0.4"}}},
              attributions)};
  EXPECT_EQ(addressesOf(dnsView(docs, vnetKey("v1")), "db1"), std::vector<std::string>{"10.1.0.4"});
  EXPECT_EQ(addressesOf(dnsView(docs, vnetKey("v2")), "db1"), std::vector<std::string>{"10.2.0.4"});
  EXPECT_EQ(addressesOf(dnsView(docs, vnetKey("hub")), "db1"),
            (std::vector<std::string>{"10.1.0.4", "10.2.0.4"}));
}

TEST(DnsViewTest, UnattributedAddressesGoToEveryVnet) {
  auto ip = [](const char* s) { return *IpAddress::parse(s); };
  std::vector<IpAddress> all = {ip("10.1.0.4"), ip("192.0.2.1")};
  std::vector<std::pair<IpAddress, std::string>> attr = {{ip("10.1.0.4"), vnetKey("v1")}};
  EXPECT_EQ(attributedAddresses(all, attr, vnetKey("v1")).size(), 2u);
  EXPECT_EQ(attributedAddresses(all, attr, vnetKey("v9")).size(), 2u);
  std::vector<std::pair<IpAddress, std::string>> two = {{ip("10.1.0.4"), vnetKey("v1")},
                                                        {ip("192.0.2.1"), vnetKey("v2")}};
  auto v1 = attributedAddresses(all, two, vnetKey("v1"));
  ASSERT_EQ(v1.size(), 1u);
  EXPECT_EQ(v1[0].toString(), "10.1.0.4");
}

TEST(DnsViewTest, AutoRegistrationFromRegistrationLinks) {
  std::vector<SourceDocument> docs = {
      zone("corp.example"), link("corp.example", "reg", "v1", true),
      link("corp.example", "res", "v2", false), nic("VM1", "v1", "10.1.0.5"),
      nic("vm2", "v2", "10.2.0.5"), nic("pe.nic", "v1", "10.1.0.6", true),
      aRecord("corp.example", "manual", {{{"ipv4Address", "10.9.9.9"}}})};
  for (const char* viewer : {"v1", "v2"}) {
    DnsView v = dnsView(docs, vnetKey(viewer));
    ASSERT_EQ(v.zones.size(), 1u) << viewer;
    EXPECT_EQ(addressesOf(v, "vm1"), std::vector<std::string>{"10.1.0.5"}) << viewer;
    EXPECT_TRUE(addressesOf(v, "vm2").empty()) << viewer;      // v2 only resolves
    EXPECT_TRUE(addressesOf(v, "pe.nic").empty()) << viewer;   // endpoint NICs never register
    for (const auto& rs : v.zones[0].recordSets) {
      if (rs.name == "vm1") {
        EXPECT_TRUE(rs.autoRegistered);
        EXPECT_EQ(rs.ttl, kAutoRegisteredTtl);
      }
    }
  }
  EXPECT_TRUE(dnsView(docs, vnetKey("v1")).zones[0].registrationEnabled);
  EXPECT_FALSE(dnsView(docs, vnetKey("v2")).zones[0].registrationEnabled);
  // A stored record set of the same name wins.
  docs.push_back(aRecord("corp.example", "vm1", {{{"ipv4Address", "10.7.7.7"}}}));
  EXPECT_EQ(addressesOf(dnsView(docs, vnetKey("v1")), "vm1"), std::vector<std::string>{"10.7.7.7"});
}

TEST(DnsViewTest, PublicPaasNamesAndMalformedDocuments) {
  std::vector<SourceDocument> docs = {
      doc("/subscriptions/s/resourcegroups/rg/providers/microsoft.sql/servers/db1",
          "microsoft.sql/servers",
          {{"properties",
            {{"privlink",
              {{"paas",
                {{"publicFqdn", "db1.database.windows.net"},
                 {"privateLinkFqdn", "db1.privatelink.database.windows.net"},
                 {"publicIpAddress", "203.0.113.2"}}}}}}}}),
      zone("a.example"), link("a.example", "l", "v1", false),
      aRecord("a.example", "bad", {{{"ipv4Address", "not-an-ip"}}})};
  DnsView v = dnsView(docs, vnetKey("v1"));
  ASSERT_EQ(v.publicNames.size(), 1u);
  EXPECT_EQ(v.publicNames[0].fqdn, "db1.database.windows.net.");
  EXPECT_EQ(v.publicNames[0].cname, "db1.privatelink.database.windows.net.");
  EXPECT_EQ(v.publicNames[0].publicAddress->toString(), "203.0.113.2");
  ASSERT_EQ(v.skipped.size(), 1u);
  EXPECT_TRUE(v.zones[0].recordSets.empty());
}

TEST(DnsViewTest, OtherRecordTypes) {
  std::vector<SourceDocument> docs = {
      zone("a.example"), link("a.example", "l", "v1", false),
      doc(kRg + "/privatednszones/a.example/soa/@", "microsoft.network/privatednszones/soa",
          {{"properties", {{"ttl", 3600}, {"soaRecord", {{"host", "azureprivatedns.net"}, {"minimumTtl", 10}}}}}}),
      doc(kRg + "/privatednszones/a.example/cname/www", "microsoft.network/privatednszones/cname",
          {{"properties", {{"ttl", 60}, {"cnameRecord", {{"cname", "Web.A.Example"}}}}}}),
      doc(kRg + "/privatednszones/a.example/txt/@", "microsoft.network/privatednszones/txt",
          {{"properties", {{"txtRecords", {{{"value", {"hello", "world"}}}}}}}})};
  DnsView v = dnsView(docs, vnetKey("v1"));
  ASSERT_EQ(v.zones[0].recordSets.size(), 3u);
  const auto& sets = v.zones[0].recordSets;
  EXPECT_EQ(sets[0].type, "SOA");
  EXPECT_EQ(sets[0].fqdn, "a.example.");
  EXPECT_EQ(sets[0].soa->host, "azureprivatedns.net");
  EXPECT_EQ(sets[1].type, "TXT");
  EXPECT_EQ(sets[1].txt[0], (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(sets[2].cname, "web.a.example");
}

}  // namespace
}  // namespace privlink::model
