#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns_fixture.h"

namespace privlink::control {
namespace {

TEST_F(DnsTest, ZoneIsGlobalWithSoaAndCounters) {
  json z = putOk(zone("Contoso.Internal"), {{"location", "Global"}});
  EXPECT_EQ(z["location"], "global");
  EXPECT_EQ(z["type"], "Microsoft.Network/privateDnsZones");
  EXPECT_EQ(z["properties"]["numberOfRecordSets"], 1);  // the SOA
  EXPECT_EQ(z["properties"]["maxNumberOfRecordSets"], 25000);
  EXPECT_EQ(z["properties"]["numberOfVirtualNetworkLinks"], 0);
  EXPECT_EQ(z["properties"]["maxNumberOfVirtualNetworkLinksWithRegistration"], 100);
  EXPECT_FALSE(z["properties"].value("internalId", "").empty());
  json soa = getOk(record("contoso.internal", "SOA", "@"));
  EXPECT_EQ(soa["properties"]["soaRecord"]["host"], "azureprivatedns.net");
  EXPECT_EQ(soa["properties"]["fqdn"], "contoso.internal.");
}

TEST_F(DnsTest, ZoneNameNeedsTwoLabelsAndGlobalLocation) {
  Status st = putErr(zone("internal"), {{"location", "global"}});
  EXPECT_EQ(st.armCode(), "InvalidResourceName");
  EXPECT_THAT(st.message(), ::testing::HasSubstr("2 to 34 labels"));
  st = putErr(zone("bad-.example.com"), {{"location", "global"}});
  EXPECT_EQ(st.armCode(), "InvalidResourceName");
  st = putErr(zone("contoso.internal"), {{"location", "local"}});
  EXPECT_EQ(st.armCode(), "InvalidLocation");
}

TEST_F(DnsTest, SoaCannotBeDeletedOrCreatedButCanBeUpdated) {
  makeZone("contoso.internal");
  Status st = del(record("contoso.internal", "SOA", "@"));
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_EQ(st.armCode(), "SoaRecordSetCannotBeDeleted");
  st = putErr(record("contoso.internal", "SOA", "other"), {{"properties", json::object()}});
  EXPECT_EQ(st.armCode(), "InvalidRecordSetName");
  json soa = putOk(record("contoso.internal", "SOA", "@"),
                   {{"properties",
                     {{"ttl", 60}, {"soaRecord", {{"host", "evil.example"}, {"minimumTtl", 30}}}}}});
  EXPECT_EQ(soa["properties"]["ttl"], 60);
  EXPECT_EQ(soa["properties"]["soaRecord"]["host"], "azureprivatedns.net");
  EXPECT_EQ(soa["properties"]["soaRecord"]["minimumTtl"], 30);
}

TEST_F(DnsTest, ZoneDeleteRemovesSoaAndRecordSets) {
  makeZone("contoso.internal");
  putOk(record("contoso.internal", "A", "www"),
        {{"properties", {{"aRecords", {{{"ipv4Address", "10.0.0.4"}}}}}}});
  ASSERT_TRUE(del(zone("contoso.internal")).ok());
  EXPECT_FALSE(exists(record("contoso.internal", "SOA", "@")));
  EXPECT_FALSE(exists(record("contoso.internal", "A", "www")));
}

TEST_F(DnsTest, RecordSetNamesAreLowerCasedWithFqdn) {
  makeZone("privatezone1.com");
  json r = putOk(record("privatezone1.com", "a", "recordA"),
                 {{"properties",
                   {{"ttl", 3600},
                    {"metadata", {{"key1", "value1"}}},
                    {"aRecords", {{{"ipv4Address", "1.2.3.4"}}}}}}});
  EXPECT_EQ(r["name"], "recorda");
  EXPECT_EQ(r["id"], rg().toString() +
                         "/providers/Microsoft.Network/privateDnsZones/privatezone1.com/A/recorda");
  EXPECT_EQ(r["type"], "Microsoft.Network/privateDnsZones/A");
  EXPECT_EQ(r["properties"]["fqdn"], "recorda.privatezone1.com.");
  EXPECT_EQ(r["properties"]["isAutoRegistered"], false);
  EXPECT_EQ(r["properties"]["metadata"]["key1"], "value1");
  json apex = putOk(record("privatezone1.com", "TXT", "@"),
                    {{"properties", {{"txtRecords", {{{"value", {"v=spf1 -all"}}}}}}}});
  EXPECT_EQ(apex["properties"]["fqdn"], "privatezone1.com.");
}

TEST_F(DnsTest, RecordSetValidation) {
  makeZone("z.example");
  EXPECT_EQ(putErr(record("z.example", "A", "x"),
                   {{"properties", {{"aRecords", {{{"ipv4Address", "::1"}}}}}}})
                .armCode(),
            "InvalidRecordSet");
  EXPECT_EQ(putErr(record("z.example", "A", "x"),
                   {{"properties", {{"aaaaRecords", {{{"ipv6Address", "::1"}}}}}}})
                .armCode(),
            "InvalidRecordSet");
  json many = json::array();
  for (int i = 1; i <= 21; ++i) many.push_back({{"ipv4Address", "10.0.0." + std::to_string(i)}});
  EXPECT_EQ(putErr(record("z.example", "A", "x"), {{"properties", {{"aRecords", many}}}}).armCode(),
            "RecordsPerRecordSetLimitReached");
  EXPECT_EQ(putErr(record("z.example", "CNAME", "@"),
                   {{"properties", {{"cnameRecord", {{"cname", "a.b"}}}}}})
                .armCode(),
            "InvalidRecordSetName");
  EXPECT_EQ(putErr(record("z.example", "A", "bad_name-"), {{"properties", json::object()}}).armCode(),
            "InvalidResourceName");
  EXPECT_EQ(putErr(record("z.example", "MX", "m"),
                   {{"properties", {{"mxRecords", {{{"preference", 70000}, {"exchange", "mx"}}}}}}})
                .armCode(),
            "InvalidRecordSet");
  putOk(record("z.example", "SRV", "_sip._tcp"),
        {{"properties",
          {{"srvRecords", {{{"priority", 1}, {"weight", 2}, {"port", 5060}, {"target", "sip"}}}}}}});
  putOk(record("z.example", "PTR", "4"), {{"properties", {{"ptrRecords", {{{"ptrdname", "h.z"}}}}}}});
  putOk(record("z.example", "AAAA", "six"),
        {{"properties", {{"aaaaRecords", {{{"ipv6Address", "fd00::1"}}}}}}});
}

TEST_F(DnsTest, CnameStandsAlone) {
  makeZone("z.example");
  putOk(record("z.example", "A", "www"), {{"properties", {{"aRecords", {{{"ipv4Address", "10.0.0.4"}}}}}}});
  Status st = putErr(record("z.example", "CNAME", "www"),
                     {{"properties", {{"cnameRecord", {{"cname", "other.example"}}}}}});
  EXPECT_EQ(st.armCode(), "RecordSetConflictsWithCname");
  putOk(record("z.example", "CNAME", "alias"),
        {{"properties", {{"cnameRecord", {{"cname", "www.z.example"}}}}}});
  st = putErr(record("z.example", "TXT", "alias"),
              {{"properties", {{"txtRecords", {{{"value", {"x"}}}}}}}});
  EXPECT_EQ(st.armCode(), "RecordSetConflictsWithCname");
}

TEST_F(DnsTest, RecordSetPreconditions) {
  makeZone("z.example");
  ResourceId id = record("z.example", "A", "www");
  json body = {{"properties", {{"aRecords", {{{"ipv4Address", "10.0.0.4"}}}}}}};
  auto created = svc().put(arm_.caller(), id, body, Preconditions{std::nullopt, true});
  ASSERT_TRUE(created.ok());
  auto again = svc().put(arm_.caller(), id, body, Preconditions{std::nullopt, true});
  EXPECT_EQ(again.status().code(), StatusCode::kPreconditionFailed);
  auto stale = svc().put(arm_.caller(), id, body, Preconditions{std::string("W/\"nope\""), false});
  EXPECT_EQ(stale.status().code(), StatusCode::kPreconditionFailed);
  auto fresh = svc().put(arm_.caller(), id, body,
                         Preconditions{created->resource["etag"].get<std::string>(), false});
  EXPECT_TRUE(fresh.ok()) << fresh.status().toString();
}

TEST_F(DnsTest, LinkRules) {
  makeZone("a.example");
  makeZone("b.example");
  makeVnet("v1", "10.1.0.0/16");
  Status st = putErr(link("a.example", "l"),
                     {{"location", "global"},
                      {"properties", {{"virtualNetwork", {{"id", vnet("missing").toString()}}}}}});
  EXPECT_EQ(st.armCode(), "InvalidResourceReference");
  st = putErr(link("a.example", "l"), {{"location", "global"}, {"properties", json::object()}});
  EXPECT_EQ(st.armCode(), "InvalidVirtualNetworkLink");
  makeLink("a.example", "l1", "v1", true);
  json l = getOk(link("a.example", "l1"));
  EXPECT_EQ(l["properties"]["virtualNetworkLinkState"], "Completed");
  EXPECT_EQ(l["location"], "global");
  EXPECT_EQ(l["type"], "Microsoft.Network/privateDnsZones/virtualNetworkLinks");
  // Same VNet twice in one zone.
  st = putErr(link("a.example", "l2"),
              {{"location", "global"},
               {"properties", {{"virtualNetwork", {{"id", vnet("v1").toString()}}}}}});
  EXPECT_EQ(st.armCode(), "VirtualNetworkAlreadyLinked");
  // A second registration zone for the VNet.
  st = putErr(link("b.example", "l1"),
              {{"location", "global"},
               {"properties",
                {{"virtualNetwork", {{"id", vnet("v1").toString()}}}, {"registrationEnabled", true}}}});
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_EQ(st.armCode(), "VirtualNetworkAlreadyLinkedForRegistration");
  EXPECT_THAT(st.message(), ::testing::HasSubstr("a.example"));
  // Resolution-only is fine.
  makeLink("b.example", "l1", "v1", false);
  // The VNet of a link cannot change.
  makeVnet("v2", "10.2.0.0/16");
  st = putErr(link("b.example", "l1"),
              {{"location", "global"},
               {"properties", {{"virtualNetwork", {{"id", vnet("v2").toString()}}}}}});
  EXPECT_EQ(st.armCode(), "VirtualNetworkLinkVirtualNetworkCannotChange");
  json z = getOk(zone("a.example"));
  EXPECT_EQ(z["properties"]["numberOfVirtualNetworkLinks"], 1);
  EXPECT_EQ(z["properties"]["numberOfVirtualNetworkLinksWithRegistration"], 1);
}

TEST_F(DnsTest, ZoneDeleteRefusedWhileLinked) {
  makeZone("a.example");
  makeVnet("v1", "10.1.0.0/16");
  makeLink("a.example", "l1", "v1", false);
  Status st = del(zone("a.example"));
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_EQ(st.armCode(), "CannotDeleteZoneWithVirtualNetworkLinks");
  EXPECT_THAT(st.message(), ::testing::HasSubstr("l1"));
  EXPECT_TRUE(exists(record("a.example", "SOA", "@")));
  ASSERT_TRUE(del(link("a.example", "l1")).ok());
  EXPECT_TRUE(del(zone("a.example")).ok());
}

TEST_F(DnsTest, ResourceGroupDeleteTakesZonesLinksAndSoa) {
  makeZone("a.example");
  makeVnet("v1", "10.1.0.0/16");
  makeLink("a.example", "l1", "v1", true);
  auto r = svc().remove(arm_.caller(), rg());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_FALSE(exists(zone("a.example")));
}

TEST_F(DnsTest, AutoRegisteredNicsAreCounted) {
  makeZone("a.example");
  makeVnet("v1", "10.1.0.0/16");
  makeLink("a.example", "l1", "v1", true);
  putOk(rg().child("Microsoft.Network/networkInterfaces", "VM1"),
        {{"location", "local"},
         {"properties",
          {{"ipConfigurations",
            {{{"name", "ipconfig1"},
              {"properties", {{"subnet", {{"id", vnet("v1").child("subnets", "default").toString()}}}}}}}}}}});
  json z = getOk(zone("a.example"));
  EXPECT_EQ(z["properties"]["numberOfRecordSets"], 2);  // SOA + vm1
}

// ---- zone groups

TEST_F(DnsTest, ZoneGroupWritesAttributedRecords) {
  makeZone("privatelink.database.windows.net");
  makeVnet("v1", "10.1.0.0/16");
  makeVnet("v2", "10.2.0.0/16");
  std::string target = rg().child("Microsoft.Sql/servers", "DB1").toString();
  writeEndpoint("pe1", "v1", "10.1.0.4", target);
  writeEndpoint("pe2", "v2", "10.2.0.4", target);
  json g = putOk(group("pe1", "default"), zoneGroupBody({"privatelink.database.windows.net"}));
  auto sets = g["properties"]["privateDnsZoneConfigs"][0]["properties"]["recordSets"];
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0]["recordSetName"], "db1");
  EXPECT_EQ(sets[0]["fqdn"], "db1.privatelink.database.windows.net.");
  EXPECT_EQ(sets[0]["ttl"], 10);
  EXPECT_EQ(sets[0]["ipAddresses"], json::array({"10.1.0.4"}));

  ResourceId a = record("privatelink.database.windows.net", "A", "db1");
  json r = getOk(a);
  EXPECT_EQ(r["properties"]["ttl"], 10);
  EXPECT_EQ(r["properties"]["metadata"]["creator"],
            "created by private endpoint pe1 with resource guid 0000-pe1");

  // The second endpoint adds its address; it does not clobber the first.
  putOk(group("pe2", "default"), zoneGroupBody({"privatelink.database.windows.net"}));
  r = getOk(a);
  EXPECT_EQ(r["properties"]["aRecords"].size(), 2u);
  auto attributions = r["properties"]["privlink"]["addresses"];
  ASSERT_EQ(attributions.size(), 2u);
  EXPECT_EQ(attributions[0]["virtualNetworkId"], vnet("v1").toString());
  EXPECT_EQ(attributions[1]["virtualNetworkId"], vnet("v2").toString());

  // Deleting the first group leaves the second endpoint's record.
  ASSERT_TRUE(del(group("pe1", "default")).ok());
  r = getOk(a);
  EXPECT_EQ(r["properties"]["aRecords"], json::array({json{{"ipv4Address", "10.2.0.4"}}}));
  // Deleting the last group removes the record set it created.
  ASSERT_TRUE(del(group("pe2", "default")).ok());
  EXPECT_FALSE(exists(a));
}

TEST_F(DnsTest, ZoneGroupUpdateMovesRecords) {
  makeZone("privatelink.blob.core.windows.net");
  makeZone("zone2.example");
  makeVnet("v1", "10.1.0.0/16");
  writeEndpoint("pe1", "v1", "10.1.0.4", rg().child("Microsoft.Storage/storageAccounts", "st1").toString());
  putOk(group("pe1", "g"), zoneGroupBody({"privatelink.blob.core.windows.net"}));
  putOk(group("pe1", "g"), zoneGroupBody({"zone2.example"}));
  EXPECT_FALSE(exists(record("privatelink.blob.core.windows.net", "A", "st1")));
  EXPECT_TRUE(exists(record("zone2.example", "A", "st1")));
}

TEST_F(DnsTest, ZoneGroupLimits) {
  for (int i = 0; i < 6; ++i) makeZone("z" + std::to_string(i) + ".example");
  makeVnet("v1", "10.1.0.0/16");
  writeEndpoint("pe1", "v1", "10.1.0.4", rg().child("Microsoft.Sql/servers", "db1").toString());
  Status st = putErr(group("pe1", "g"),
                     zoneGroupBody({"z0.example", "z1.example", "z2.example", "z3.example",
                                    "z4.example", "z5.example"}));
  EXPECT_EQ(st.armCode(), "PrivateDnsZoneConfigsPerZoneGroupLimitReached");
  putOk(group("pe1", "g"), zoneGroupBody({"z0.example", "z1.example", "z2.example", "z3.example",
                                          "z4.example"}));
  st = putErr(group("pe1", "other"), zoneGroupBody({"z5.example"}));
  EXPECT_EQ(st.armCode(), "PrivateDnsZoneGroupsPerPrivateEndpointLimitReached");
  st = putErr(group("pe1", "g"), zoneGroupBody({"z0.example", "z0.example"}));
  EXPECT_EQ(st.armCode(), "DuplicatePrivateDnsZoneInZoneGroup");
  st = putErr(group("pe1", "g"), zoneGroupBody({"missing.example"}));
  EXPECT_EQ(st.armCode(), "InvalidResourceReference");
  st = putErr(group("pe1", "g"), {{"properties", {{"privateDnsZoneConfigs", json::array()}}}});
  EXPECT_EQ(st.armCode(), "InvalidPrivateDnsZoneGroup");
  st = putErr(group("nope", "g"), zoneGroupBody({"z0.example"}));
  EXPECT_EQ(st.armCode(), "ParentResourceNotFound");
}

TEST_F(DnsTest, ManualEditKeepsAttributionOfRemainingAddresses) {
  makeZone("z.example");
  makeVnet("v1", "10.1.0.0/16");
  writeEndpoint("pe1", "v1", "10.1.0.4", rg().child("Microsoft.Sql/servers", "db1").toString());
  putOk(group("pe1", "g"), zoneGroupBody({"z.example"}));
  json r = putOk(record("z.example", "A", "db1"),
                 {{"properties",
                   {{"ttl", 10},
                    {"aRecords", {{{"ipv4Address", "10.1.0.4"}}, {{"ipv4Address", "192.0.2.1"}}}}}}});
  EXPECT_EQ(r["properties"]["privlink"]["addresses"].size(), 1u);
  ASSERT_TRUE(del(group("pe1", "g")).ok());
  r = getOk(record("z.example", "A", "db1"));
  EXPECT_EQ(r["properties"]["aRecords"], json::array({json{{"ipv4Address", "192.0.2.1"}}}));
}

}  // namespace
}  // namespace privlink::control
