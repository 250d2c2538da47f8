#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/paas/paas_kind.h"
#include "control/privatedns/private_dns_kinds.h"
#include "control/privatelink/discovery.h"
#include "control/privatelink/register.h"
#include "model/paas_naming.h"
#include "model/private_dns_view.h"
#include "testing/arm_fixture.h"

namespace privlink::control::paas {
namespace {

using nlohmann::json;

class PaasTest : public ::testing::Test {
 protected:
  PaasTest() : arm_(testing::ArmFixtureOptions{.testKinds = false}) {
    pl_ = privatelink::registerPrivateLinkKinds(arm_.service());
    registerPaasKinds(arm_.service(), pl_, builtinPaasCatalog());
    putOk(rg("rg1"), {{"location", "local"}});
    putOk(rg("rg2"), {{"location", "local"}});
  }
  ResourceService& svc() { return arm_.service(); }
  ResourceId rg(const std::string& n) { return ResourceId::resourceGroup(arm_.subscriptionId(), n); }
  ResourceId sql(const std::string& n, const std::string& g = "rg1") {
    return rg(g).child("Microsoft.Sql/servers", n);
  }
  json putOk(const ResourceId& id, json body) {
    auto r = svc().put(arm_.caller(), id, std::move(body));
    EXPECT_TRUE(r.ok()) << id.toString() << ": " << r.status().toString();
    return r.ok() ? r->resource : json();
  }
  Status putErr(const ResourceId& id, json body) {
    auto r = svc().put(arm_.caller(), id, std::move(body));
    EXPECT_FALSE(r.ok()) << id.toString() << " unexpectedly succeeded";
    return r.ok() ? Status::Ok() : r.status();
  }
  json getOk(const ResourceId& id) {
    auto r = svc().get(id);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? *r : json();
  }
  Status del(const ResourceId& id) {
    auto r = svc().remove(arm_.caller(), id);
    return r.ok() ? Status::Ok() : r.status();
  }
  void makeVnet(const std::string& name, const std::string& prefix) {
    putOk(rg("rg1").child("Microsoft.Network/virtualNetworks", name),
          {{"location", "local"},
           {"properties",
            {{"addressSpace", {{"addressPrefixes", {prefix}}}},
             {"subnets", {{{"name", "default"}, {"properties", {{"addressPrefix", prefix}}}}}}}}});
  }
  ResourceId makeEndpoint(const std::string& name, const std::string& vnet, const ResourceId& target) {
    ResourceId id = rg("rg1").child("Microsoft.Network/privateEndpoints", name);
    putOk(id, {{"location", "local"},
               {"properties",
                {{"subnet",
                  {{"id", rg("rg1").child("Microsoft.Network/virtualNetworks", vnet)
                              .child("subnets", "default").toString()}}},
                 {"privateLinkServiceConnections",
                  {{{"name", "c"},
                    {"properties",
                     {{"privateLinkServiceId", target.toString()}, {"groupIds", {"sqlServer"}}}}}}}}}});
    return id;
  }

  testing::ArmFixture arm_;
  std::shared_ptr<privatelink::PrivateLinkContext> pl_;
};

TEST_F(PaasTest, CreateRecordsPublicNameIpAndBackend) {
  json s = putOk(sql("db1"), {{"location", "local"},
                              {"properties", {{"administratorLogin", "admin"}}}});
  EXPECT_EQ(s["type"], "Microsoft.Sql/servers");
  const json& p = s["properties"];
  EXPECT_EQ(p["publicNetworkAccess"], "Enabled");
  EXPECT_EQ(p["fullyQualifiedDomainName"], "db1.database.windows.net");
  EXPECT_EQ(p["administratorLogin"], "admin");
  EXPECT_EQ(p["privateEndpointConnections"], json::array());
  const json& paas = p["privlink"]["paas"];
  EXPECT_EQ(paas["publicIpAddress"], "203.0.113.2");
  EXPECT_EQ(paas["port"], 1433);
  EXPECT_EQ(paas["groupId"], "sqlServer");
  EXPECT_EQ(paas["privateLinkFqdn"], "db1.privatelink.database.windows.net");
  EXPECT_EQ(paas["backend"]["address"], "10.255.0.4");
  EXPECT_EQ(paas["backend"]["namespace"], model::paasBackendNamespace(sql("db1").key()));
  EXPECT_THAT(paas["backend"]["namespace"].get<std::string>(), ::testing::StartsWith("plp-"));

  json s2 = putOk(sql("db2"), {{"location", "local"}});
  EXPECT_EQ(s2["properties"]["privlink"]["paas"]["publicIpAddress"], "203.0.113.3");
  EXPECT_EQ(s2["properties"]["privlink"]["paas"]["backend"]["address"], "10.255.0.5");

  // Update: access switches, addresses stay.
  json u = putOk(sql("db1"), {{"location", "local"}, {"properties", {{"publicNetworkAccess", "disabled"}}}});
  EXPECT_EQ(u["properties"]["publicNetworkAccess"], "Disabled");
  EXPECT_EQ(u["properties"]["privlink"]["paas"]["publicIpAddress"], "203.0.113.2");
  // Omitted on a later PUT: kept.
  u = putOk(sql("db1"), {{"location", "local"}});
  EXPECT_EQ(u["properties"]["publicNetworkAccess"], "Disabled");

  // Delete frees the addresses for the next instance.
  ASSERT_TRUE(del(sql("db1")).ok());
  json s3 = putOk(sql("db3"), {{"location", "local"}});
  EXPECT_EQ(s3["properties"]["privlink"]["paas"]["publicIpAddress"], "203.0.113.2");
  EXPECT_EQ(s3["properties"]["privlink"]["paas"]["backend"]["address"], "10.255.0.4");
}

TEST_F(PaasTest, NamesFollowTheCatalogAndAreGlobal) {
  EXPECT_EQ(putErr(sql("DB1"), {{"location", "local"}}).armCode(), "InvalidResourceName");
  Status st = putErr(rg("rg1").child("Microsoft.Storage/storageAccounts", "st-1"), {{"location", "local"}});
  EXPECT_EQ(st.armCode(), "InvalidResourceName");
  EXPECT_THAT(st.message(), ::testing::HasSubstr("3 to 24 lower-case letters and digits"));
  putOk(sql("db1"), {{"location", "local"}});
  st = putErr(sql("db1", "rg2"), {{"location", "local"}});
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_EQ(st.armCode(), "NameNotAvailable");
  EXPECT_EQ(putErr(sql("db4"), {{"location", "local"}, {"properties", {{"publicNetworkAccess", "Maybe"}}}})
                .code(),
            StatusCode::kInvalidArgument);
  json kv = putOk(rg("rg1").child("Microsoft.KeyVault/vaults", "Kv-One"), {{"location", "local"}});
  EXPECT_EQ(kv["properties"]["fullyQualifiedDomainName"], "kv-one.vault.azure.net");
}

TEST_F(PaasTest, RegisteredAsPrivateLinkTargets) {
  const auto* t = pl_->registry.find("microsoft.dbforpostgresql/flexibleservers");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->groups.size(), 1u);
  EXPECT_EQ(t->groups[0].groupId, "postgresqlServer");
  EXPECT_EQ(t->groups[0].requiredZoneNames,
            std::vector<std::string>{"privatelink.postgres.database.azure.com"});
  EXPECT_EQ(t->approvalAction(),
            "Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action");
  putOk(sql("db1"), {{"location", "local"}});
  privatelink::PrivateLinkDiscovery discovery(pl_);
  auto list = discovery.privateLinkResources(sql("db1"), "");
  ASSERT_TRUE(list.ok()) << list.status().toString();
  EXPECT_EQ((*list)["value"][0]["properties"]["groupId"], "sqlServer");
  EXPECT_EQ((*list)["value"][0]["properties"]["requiredZoneNames"][0],
            "privatelink.database.windows.net");
}

TEST_F(PaasTest, EndpointsConnectAndZoneGroupsDoNotClobber) {
  putOk(sql("db1"), {{"location", "local"}});
  makeVnet("v1", "10.1.0.0/24");
  makeVnet("v2", "10.1.0.0/24");  // overlapping on purpose
  ResourceId pe1 = makeEndpoint("pe1", "v1", sql("db1"));
  ResourceId pe2 = makeEndpoint("pe2", "v2", sql("db1"));
  json server = getOk(sql("db1"));
  ASSERT_EQ(server["properties"]["privateEndpointConnections"].size(), 2u);
  EXPECT_EQ(server["properties"]["privateEndpointConnections"][0]["properties"]
                  ["privateLinkServiceConnectionState"]["status"],
            "Approved");

  ResourceId zone = rg("rg1").child("Microsoft.Network/privateDnsZones",
                                    "privatelink.database.windows.net");
  putOk(zone, {{"location", "global"}});
  json group = {{"properties",
                 {{"privateDnsZoneConfigs",
                   {{{"name", "sql"}, {"properties", {{"privateDnsZoneId", zone.toString()}}}}}}}}};
  putOk(pe1.child("privateDnsZoneGroups", "default"), group);
  putOk(pe2.child("privateDnsZoneGroups", "default"), group);
  json rec = getOk(zone.child("A", "db1"));
  // Both endpoints got 10.1.0.4 in their (overlapping) VNets: one address, two attributions.
  ASSERT_EQ(rec["properties"]["aRecords"].size(), 1u);
  EXPECT_EQ(rec["properties"]["privlink"]["addresses"].size(), 2u);

  // Deleting the first endpoint takes only its own attribution.
  ASSERT_TRUE(del(pe1).ok());
  rec = getOk(zone.child("A", "db1"));
  ASSERT_EQ(rec["properties"]["privlink"]["addresses"].size(), 1u);
  EXPECT_EQ(rec["properties"]["privlink"]["addresses"][0]["privateEndpointId"], pe2.toString());
  EXPECT_EQ(rec["properties"]["aRecords"].size(), 1u);
  ASSERT_TRUE(del(pe2).ok());
  EXPECT_FALSE(svc().get(zone.child("A", "db1")).ok());
}

}  // namespace
}  // namespace privlink::control::paas
