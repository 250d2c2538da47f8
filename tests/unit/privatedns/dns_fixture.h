#pragma once
// DnsTest: ArmFixture (network + private DNS kinds) with builders for zones, links, record sets
// and the documents of a private endpoint (written directly, so zone-group tests do not depend
// on the private endpoint kind).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "control/resource_service.h"
#include "testing/arm_fixture.h"

namespace privlink::control {

using nlohmann::json;

class DnsTest : public ::testing::Test {
 protected:
  DnsTest() : arm_(testing::ArmFixtureOptions{.testKinds = false}) {
    putOk(rg(), {{"location", "local"}});
  }

  ResourceService& svc() { return arm_.service(); }
  ResourceId rg() { return ResourceId::resourceGroup(arm_.subscriptionId(), "rg1"); }
  ResourceId vnet(const std::string& n) { return rg().child("Microsoft.Network/virtualNetworks", n); }
  ResourceId zone(const std::string& n) { return rg().child("Microsoft.Network/privateDnsZones", n); }
  ResourceId link(const std::string& z, const std::string& n) {
    return zone(z).child("virtualNetworkLinks", n);
  }
  ResourceId record(const std::string& z, const std::string& type, const std::string& n) {
    return zone(z).child(type, n);
  }
  ResourceId pe(const std::string& n) { return rg().child("Microsoft.Network/privateEndpoints", n); }
  ResourceId group(const std::string& p, const std::string& n) {
    return pe(p).child("privateDnsZoneGroups", n);
  }

  Result<PutOutcome> put(const ResourceId& id, json body) {
    return svc().put(arm_.caller(), id, std::move(body));
  }
  json putOk(const ResourceId& id, json body) {
    auto r = put(id, std::move(body));
    EXPECT_TRUE(r.ok()) << id.toString() << ": " << r.status().toString();
    return r.ok() ? r->resource : json();
  }
  Status putErr(const ResourceId& id, json body) {
    auto r = put(id, std::move(body));
    EXPECT_FALSE(r.ok()) << id.toString() << " unexpectedly succeeded: " << r->resource.dump();
    return r.ok() ? Status::Ok() : r.status();
  }
  json getOk(const ResourceId& id) {
    auto r = svc().get(id);
    EXPECT_TRUE(r.ok()) << id.toString() << ": " << r.status().toString();
    return r.ok() ? *r : json();
  }
  bool exists(const ResourceId& id) { return svc().get(id).ok(); }
  Status del(const ResourceId& id) {
    auto r = svc().remove(arm_.caller(), id);
    return r.ok() ? Status::Ok() : r.status();
  }

  void makeVnet(const std::string& name, const std::string& prefix) {
    putOk(vnet(name), {{"location", "local"},
                       {"properties",
                        {{"addressSpace", {{"addressPrefixes", {prefix}}}},
                         {"subnets", {{{"name", "default"}, {"properties", {{"addressPrefix", prefix}}}}}}}}});
  }
  void makeZone(const std::string& name) { putOk(zone(name), {{"location", "global"}}); }
  void makeLink(const std::string& z, const std::string& n, const std::string& v, bool reg) {
    putOk(link(z, n), {{"location", "global"},
                       {"properties",
                        {{"virtualNetwork", {{"id", vnet(v).toString()}}},
                         {"registrationEnabled", reg}}}});
  }
  // A private endpoint `name` in vnet `v` (subnet default) with address `ip` to `targetId`,
  // as the private endpoint kind stores it (privatelink_kinds.h), written directly.
  void writeEndpoint(const std::string& name, const std::string& v, const std::string& ip,
                     const std::string& targetId) {
    std::string peId = pe(name).toString();
    std::string nicId = rg().child("Microsoft.Network/networkInterfaces", name + ".nic").toString();
    std::string subnetId = vnet(v).child("subnets", "default").toString();
    Status st = arm_.store().write([&](store::Transaction& txn) -> Status {
      auto a = txn.put(peId, "microsoft.network/privateendpoints",
                       {{"id", peId}, {"name", name}, {"location", "local"},
                        {"properties",
                         {{"subnet", {{"id", subnetId}}},
                          {"resourceGuid", "0000-" + name},
                          {"networkInterfaces", {{{"id", nicId}}}},
                          {"privateLinkServiceConnections",
                           {{{"name", "c"},
                             {"properties",
                              {{"privateLinkServiceId", targetId},
                               {"privlink", {{"targetId", targetId}}}}}}}}}}});
      if (!a.ok()) return a.status();
      auto b = txn.put(nicId, "microsoft.network/networkinterfaces",
                       {{"id", nicId}, {"name", name + ".nic"}, {"location", "local"},
                        {"properties",
                         {{"privateEndpoint", {{"id", peId}}},
                          {"ipConfigurations",
                           {{{"name", "ipconfig1"},
                             {"properties",
                              {{"privateIPAddress", ip}, {"subnet", {{"id", subnetId}}}, {"primary", true}}}}}}}}});
      return b.ok() ? Status::Ok() : b.status();
    });
    ASSERT_TRUE(st.ok()) << st.toString();
  }
  json zoneGroupBody(std::initializer_list<std::string> zones) {
    json configs = json::array();
    for (const auto& z : zones) {
      configs.push_back({{"name", z}, {"properties", {{"privateDnsZoneId", zone(z).toString()}}}});
    }
    return {{"properties", {{"privateDnsZoneConfigs", configs}}}};
  }

  testing::ArmFixture arm_;
};

}  // namespace privlink::control
