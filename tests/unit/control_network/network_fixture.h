#pragma once
// NetworkTest: a ResourceService with the network kinds over an in-memory store (ArmFixture),
// plus builders for the bodies the network kind tests PUT.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control/resource_service.h"
#include "testing/arm_fixture.h"

namespace privlink::control {

using nlohmann::json;

class NetworkTest : public ::testing::Test {
 protected:
  NetworkTest() : arm_(testing::ArmFixtureOptions{.testKinds = false}) { makeGroup("rg1"); }

  ResourceService& svc() { return arm_.service(); }

  void makeGroup(const std::string& name) {
    auto r = svc().put(arm_.caller(), rg(name), json{{"location", "local"}});
    ASSERT_TRUE(r.ok()) << r.status().toString();
  }
  ResourceId rg(const std::string& name = "rg1") {
    return ResourceId::resourceGroup(arm_.subscriptionId(), name);
  }
  ResourceId vnet(const std::string& name, const std::string& group = "rg1") {
    return rg(group).child("Microsoft.Network/virtualNetworks", name);
  }
  ResourceId subnet(const std::string& vnetName, const std::string& name,
                    const std::string& group = "rg1") {
    return vnet(vnetName, group).child("subnets", name);
  }
  ResourceId peering(const std::string& vnetName, const std::string& name,
                     const std::string& group = "rg1") {
    return vnet(vnetName, group).child("virtualNetworkPeerings", name);
  }
  ResourceId nic(const std::string& name, const std::string& group = "rg1") {
    return rg(group).child("Microsoft.Network/networkInterfaces", name);
  }
  ResourceId lb(const std::string& name, const std::string& group = "rg1") {
    return rg(group).child("Microsoft.Network/loadBalancers", name);
  }

  Result<PutOutcome> put(const ResourceId& id, json body) {
    return svc().put(arm_.caller(), id, std::move(body));
  }
  // PUT that must succeed; returns the rendered resource.
  json putOk(const ResourceId& id, json body) {
    auto r = put(id, std::move(body));
    EXPECT_TRUE(r.ok()) << id.toString() << ": " << r.status().toString();
    return r.ok() ? r->resource : json();
  }
  // PUT that must fail; returns the error.
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
  std::optional<store::Document> stored(const std::string& key) {
    std::optional<store::Document> out;
    Status st = arm_.store().read([&](store::ReadView& view) -> Status {
      auto doc = view.get(key);
      if (!doc.ok()) return doc.status();
      out = *doc;
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.toString();
    return out;
  }

  static json vnetBody(std::vector<std::string> prefixes, json extra = json::object()) {
    json props = extra;
    props["addressSpace"] = {{"addressPrefixes", prefixes}};
    return {{"location", "local"}, {"properties", props}};
  }
  static json subnetBody(const std::string& prefix, json extra = json::object()) {
    json props = extra;
    props["addressPrefix"] = prefix;
    return {{"properties", props}};
  }
  static json ipConfig(const std::string& name, const ResourceId& subnetId,
                       std::optional<std::string> address = std::nullopt, json pools = json()) {
    json props = {{"subnet", {{"id", subnetId.toString()}}}};
    if (address) {
      props["privateIPAllocationMethod"] = "Static";
      props["privateIPAddress"] = *address;
    }
    if (!pools.is_null()) props["loadBalancerBackendAddressPools"] = pools;
    return {{"name", name}, {"properties", props}};
  }
  static json nicBody(json ipConfigs) {
    return {{"location", "local"}, {"properties", {{"ipConfigurations", ipConfigs}}}};
  }
  json nicOn(const ResourceId& subnetId, std::optional<std::string> address = std::nullopt) {
    return nicBody(json::array({ipConfig("ipconfig1", subnetId, address)}));
  }
  // A VNet "v1" 10.0.0.0/16 with subnet "s1" 10.0.1.0/24.
  void makeVnetWithSubnet() {
    putOk(vnet("v1"), vnetBody({"10.0.0.0/16"}));
    putOk(subnet("v1", "s1"), subnetBody("10.0.1.0/24"));
  }
  static std::string addressOf(const json& nicResource, size_t index = 0) {
    return nicResource["properties"]["ipConfigurations"][index]["properties"]["privateIPAddress"]
        .get<std::string>();
  }

  testing::ArmFixture arm_;
};

}  // namespace privlink::control
