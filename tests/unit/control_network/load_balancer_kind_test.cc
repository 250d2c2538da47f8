#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/network/network_kinds.h"
#include "network_fixture.h"

namespace privlink::control {
namespace {

using ::testing::HasSubstr;

class LoadBalancerKindTest : public NetworkTest {
 protected:
  LoadBalancerKindTest() { makeVnetWithSubnet(); }

  std::string part(const std::string& collection, const std::string& name,
                   const std::string& lbName = "lb1") {
    return lb(lbName).toString() + "/" + collection + "/" + name;
  }
  json frontend(const std::string& name, std::optional<std::string> address = std::nullopt) {
    json props = {{"subnet", {{"id", subnet("v1", "s1").toString()}}}};
    if (address) {
      props["privateIPAllocationMethod"] = "Static";
      props["privateIPAddress"] = *address;
    }
    return {{"name", name}, {"properties", props}};
  }
  json rule(const std::string& name, const std::string& protocol, int frontendPort, int backendPort,
            const std::string& fe = "fe", bool withProbe = true) {
    json props = {{"frontendIPConfiguration", {{"id", part("frontendIPConfigurations", fe)}}},
                  {"backendAddressPool", {{"id", part("backendAddressPools", "pool")}}},
                  {"protocol", protocol},
                  {"frontendPort", frontendPort},
                  {"backendPort", backendPort}};
    if (withProbe) props["probe"] = {{"id", part("probes", "tcp")}};
    return {{"name", name}, {"properties", props}};
  }
  json lbBody(json rules = json::array(), json frontends = json(), json probes = json()) {
    if (frontends.is_null()) frontends = json::array({frontend("fe")});
    if (probes.is_null()) {
      probes =
          json::array({{{"name", "tcp"}, {"properties", {{"protocol", "Tcp"}, {"port", 80}}}}});
    }
    return {{"location", "local"},
            {"sku", {{"name", "Standard"}}},
            {"properties",
             {{"frontendIPConfigurations", frontends},
              {"backendAddressPools", json::array({{{"name", "pool"}}})},
              {"probes", probes},
              {"loadBalancingRules", rules}}}};
  }
  json nicInPool(const std::string& pool = "pool", const std::string& lbName = "lb1") {
    return nicBody(json::array(
        {ipConfig("ipconfig1", subnet("v1", "s1"), std::nullopt,
                  json::array({{{"id", part("backendAddressPools", pool, lbName)}}}))}));
  }
};

TEST_F(LoadBalancerKindTest, CreateAllocatesFrontendAndGivesPartsFullIds) {
  json l = putOk(lb("lb1"), lbBody(json::array({rule("http", "Tcp", 80, 8080)})));
  EXPECT_EQ(l["sku"]["name"], "Standard");
  const json& fe = l["properties"]["frontendIPConfigurations"][0];
  EXPECT_EQ(fe["id"], part("frontendIPConfigurations", "fe"));
  EXPECT_EQ(fe["type"], "Microsoft.Network/loadBalancers/frontendIPConfigurations");
  EXPECT_EQ(fe["properties"]["privateIPAddress"], "10.0.1.4");
  EXPECT_EQ(fe["properties"]["privateIPAllocationMethod"], "Dynamic");
  EXPECT_EQ(fe["properties"]["loadBalancingRules"][0]["id"], part("loadBalancingRules", "http"));
  const json& r = l["properties"]["loadBalancingRules"][0]["properties"];
  EXPECT_EQ(r["idleTimeoutInMinutes"], 4);
  EXPECT_EQ(r["enableFloatingIP"], false);
  EXPECT_EQ(r["loadDistribution"], "Default");
  const json& probe = l["properties"]["probes"][0]["properties"];
  EXPECT_EQ(probe["intervalInSeconds"], 15);
  EXPECT_EQ(probe["numberOfProbes"], 1);
  EXPECT_EQ(probe["probeThreshold"], 1);
  // The frontend holds its address: a NIC gets the next one, the subnet shows the frontend.
  EXPECT_EQ(addressOf(putOk(nic("n1"), nicOn(subnet("v1", "s1")))), "10.0.1.5");
  json s = getOk(subnet("v1", "s1"));
  EXPECT_EQ(s["properties"]["ipConfigurations"][0]["id"], part("frontendIPConfigurations", "fe"));
  // Updates keep the frontend address.
  json again = putOk(lb("lb1"), getOk(lb("lb1")));
  EXPECT_EQ(again["properties"]["frontendIPConfigurations"][0]["properties"]["privateIPAddress"],
            "10.0.1.4");
}

TEST_F(LoadBalancerKindTest, FindLoadBalancerPartResolvesFrontends) {
  putOk(lb("lb1"), lbBody());
  Status st = arm_.store().read([&](store::ReadView& view) -> Status {
    auto fe = findLoadBalancerPart(
        view, ResourceId::parse(part("frontendIPConfigurations", "FE")).value(), nic("x"));
    EXPECT_TRUE(fe.ok()) << fe.status().toString();
    if (fe.ok()) EXPECT_EQ((*fe)["properties"]["privateIPAddress"], "10.0.1.4");
    auto missing = findLoadBalancerPart(
        view, ResourceId::parse(part("frontendIPConfigurations", "nope")).value(), nic("x"));
    EXPECT_EQ(missing.status().armCode(), "InvalidResourceReference");
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());
}

TEST_F(LoadBalancerKindTest, OnlyStandardSku) {
  json basic = lbBody();
  basic["sku"]["name"] = "Basic";
  Status s = putErr(lb("lb1"), basic);
  EXPECT_EQ(s.armCode(), "LoadBalancerSkuNotSupported");
  EXPECT_THAT(s.message(), HasSubstr("privlink supports only Standard load balancers"));
  json none = lbBody();
  none.erase("sku");
  EXPECT_EQ(putErr(lb("lb1"), none).armCode(), "LoadBalancerSkuNotSupported");
}

TEST_F(LoadBalancerKindTest, InternalOnly) {
  json pub =
      lbBody(json::array(), json::array({{{"name", "fe"},
                                          {"properties",
                                           {{"publicIPAddress",
                                             {{"id",
                                               "/subscriptions/x/resourceGroups/rg1/providers/"
                                               "Microsoft.Network/publicIPAddresses/ip"}}}}}}}));
  Status s = putErr(lb("lb1"), pub);
  EXPECT_EQ(s.armCode(), "PublicLoadBalancerNotSupported");
  EXPECT_THAT(s.message(), HasSubstr("internal only"));
}

TEST_F(LoadBalancerKindTest, StaticFrontendUsesTheSharedAllocator) {
  putOk(nic("n1"), nicOn(subnet("v1", "s1"), "10.0.1.10"));
  Status s = putErr(lb("lb1"), lbBody(json::array(), json::array({frontend("fe", "10.0.1.10")})));
  EXPECT_EQ(s.armCode(), "PrivateIPAddressInUse");
  json l = putOk(lb("lb1"), lbBody(json::array(), json::array({frontend("fe", "10.0.1.11")})));
  EXPECT_EQ(
      l["properties"]["frontendIPConfigurations"][0]["properties"]["privateIPAllocationMethod"],
      "Static");
}

TEST_F(LoadBalancerKindTest, FrontendsShareOneVnetInTheLoadBalancersLocation) {
  putOk(vnet("v2"), vnetBody({"10.8.0.0/16"}));
  putOk(subnet("v2", "x"), subnetBody("10.8.1.0/24"));
  json other = frontend("fe2");
  other["properties"]["subnet"]["id"] = subnet("v2", "x").toString();
  EXPECT_EQ(
      putErr(lb("lb1"), lbBody(json::array(), json::array({frontend("fe"), other}))).armCode(),
      "LoadBalancerFrontendIPConfigurationsInDifferentVnets");
  json elsewhere = lbBody();
  elsewhere["location"] = "otherregion";
  EXPECT_EQ(putErr(lb("lb1"), elsewhere).armCode(), "InvalidResourceReference");
  // A NIC in another VNet cannot join the pool.
  putOk(lb("lb1"), lbBody());
  json n = nicBody(
      json::array({ipConfig("ipconfig1", subnet("v2", "x"), std::nullopt,
                            json::array({{{"id", part("backendAddressPools", "pool")}}}))}));
  EXPECT_EQ(putErr(nic("n1"), n).armCode(), "NetworkInterfaceAndLoadBalancerInDifferentVnets");
}

TEST_F(LoadBalancerKindTest, UnsupportedCollectionsAreRefused) {
  json nat = lbBody();
  nat["properties"]["inboundNatRules"] = json::array({{{"name", "ssh"}}});
  EXPECT_EQ(putErr(lb("lb1"), nat).armCode(), "PropertyNotSupported");
  json ipPool = lbBody();
  ipPool["properties"]["backendAddressPools"][0]["properties"] = {
      {"loadBalancerBackendAddresses", json::array({{{"name", "a"}}})}};
  EXPECT_EQ(putErr(lb("lb1"), ipPool).armCode(), "PropertyNotSupported");
}

TEST_F(LoadBalancerKindTest, ProbeValidation) {
  auto withProbe = [&](json probe) {
    return lbBody(json::array(), json(), json::array({{{"name", "p"}, {"properties", probe}}}));
  };
  EXPECT_EQ(putErr(lb("lb1"), withProbe({{"protocol", "Icmp"}, {"port", 80}})).armCode(),
            "InvalidRequestFormat");
  EXPECT_EQ(putErr(lb("lb1"), withProbe({{"protocol", "Tcp"}, {"port", 0}})).armCode(),
            "InvalidRequestFormat");
  EXPECT_EQ(
      putErr(lb("lb1"), withProbe({{"protocol", "Tcp"}, {"port", 80}, {"intervalInSeconds", 4}}))
          .armCode(),
      "InvalidRequestFormat");
  Status path = putErr(lb("lb1"), withProbe({{"protocol", "Http"}, {"port", 80}}));
  EXPECT_THAT(path.message(), HasSubstr("requestPath"));
  json ok = putOk(lb("lb1"),
                  withProbe({{"protocol", "Http"}, {"port", 80}, {"requestPath", "/healthz"}}));
  EXPECT_EQ(ok["properties"]["probes"][0]["properties"]["requestPath"], "/healthz");
}

TEST_F(LoadBalancerKindTest, RuleValidation) {
  EXPECT_EQ(putErr(lb("lb1"), lbBody(json::array({rule("r", "Icmp", 80, 80)}))).armCode(),
            "InvalidRequestFormat");
  EXPECT_EQ(putErr(lb("lb1"), lbBody(json::array({rule("r", "Tcp", 70000, 80)}))).armCode(),
            "InvalidRequestFormat");
  Status zero = putErr(lb("lb1"), lbBody(json::array({rule("r", "Tcp", 0, 0)})));
  EXPECT_THAT(zero.message(), HasSubstr("HA ports"));
  putOk(lb("lb1"), lbBody(json::array({rule("ha", "All", 0, 0)})));
  json idle = lbBody(json::array({rule("r", "Tcp", 80, 80)}));
  idle["properties"]["loadBalancingRules"][0]["properties"]["idleTimeoutInMinutes"] = 3;
  EXPECT_EQ(putErr(lb("lb1"), idle).armCode(), "InvalidRequestFormat");
}

TEST_F(LoadBalancerKindTest, RulesMustReferToThisLoadBalancersParts) {
  json foreign = lbBody(json::array({rule("r", "Tcp", 80, 80)}));
  foreign["properties"]["loadBalancingRules"][0]["properties"]["backendAddressPool"]["id"] =
      part("backendAddressPools", "pool", "otherlb");
  Status s = putErr(lb("lb1"), foreign);
  EXPECT_EQ(s.armCode(), "InvalidResourceReference");
  EXPECT_THAT(s.message(), HasSubstr("otherlb"));
  EXPECT_EQ(putErr(lb("lb1"), lbBody(json::array({rule("r", "Tcp", 80, 80, "nofe")}))).armCode(),
            "InvalidResourceReference");
}

TEST_F(LoadBalancerKindTest, DuplicateFrontendProtocolPortIsRefused) {
  Status s =
      putErr(lb("lb1"), lbBody(json::array({rule("a", "Tcp", 80, 80), rule("b", "Tcp", 80, 81)})));
  EXPECT_EQ(s.armCode(), "LoadBalancingRulesWithSameFrontendPortAndProtocol");
  putOk(lb("lb1"), lbBody(json::array({rule("a", "Tcp", 80, 80), rule("b", "Udp", 80, 80)})));
  EXPECT_EQ(
      putErr(lb("lb1"), lbBody(json::array({rule("a", "Tcp", 80, 80), rule("ha", "All", 0, 0)})))
          .armCode(),
      "LoadBalancingRulesWithSameFrontendPortAndProtocol");
}

TEST_F(LoadBalancerKindTest, BackendPoolMembershipIsRenderedAndProtectsThePool) {
  putOk(lb("lb1"), lbBody(json::array({rule("http", "Tcp", 80, 8080)})));
  putOk(nic("n1"), nicInPool());
  json l = getOk(lb("lb1"));
  const json& members =
      l["properties"]["backendAddressPools"][0]["properties"]["backendIPConfigurations"];
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0]["id"], nic("n1").toString() + "/ipConfigurations/ipconfig1");

  json noPool = lbBody();
  noPool["properties"]["backendAddressPools"] = json::array();
  EXPECT_EQ(putErr(lb("lb1"), noPool).armCode(), "InUseBackendAddressPoolCannotBeDeleted");
  Status d = del(lb("lb1"));
  EXPECT_EQ(d.armCode(), "InUseLoadBalancerCannotBeDeleted");
  EXPECT_EQ(d.code(), StatusCode::kConflict);

  // Leaving the pool frees it.
  putOk(nic("n1"), nicOn(subnet("v1", "s1")));
  EXPECT_EQ(
      getOk(lb(
          "lb1"))["properties"]["backendAddressPools"][0]["properties"]["backendIPConfigurations"],
      json::array());
  ASSERT_TRUE(del(lb("lb1")).ok());
  // Its frontend address is free again.
  EXPECT_EQ(addressOf(putOk(nic("n2"), nicOn(subnet("v1", "s1"), "10.0.1.4"))), "10.0.1.4");
}

TEST_F(LoadBalancerKindTest, NicPoolReferenceMustExist) {
  putOk(lb("lb1"), lbBody());
  EXPECT_EQ(putErr(nic("n1"), nicInPool("nopool")).armCode(), "InvalidResourceReference");
  EXPECT_EQ(putErr(nic("n1"), nicInPool("pool", "nolb")).armCode(), "InvalidResourceReference");
}

TEST_F(LoadBalancerKindTest, DeletingTheNicLeavesThePool) {
  putOk(lb("lb1"), lbBody());
  putOk(nic("n1"), nicInPool());
  ASSERT_TRUE(del(nic("n1")).ok());
  EXPECT_TRUE(del(lb("lb1")).ok());
}

TEST_F(LoadBalancerKindTest, SubnetWithAFrontendIsInUse) {
  putOk(lb("lb1"), lbBody());
  Status s = del(subnet("v1", "s1"));
  EXPECT_EQ(s.armCode(), "InUseSubnetCannotBeDeleted");
  EXPECT_THAT(s.message(), HasSubstr("frontendIPConfigurations/fe"));
}

TEST_F(LoadBalancerKindTest, FrontendReferencedByAPrivateLinkServiceIsProtected) {
  putOk(lb("lb1"), lbBody());
  Status st = arm_.store().write([&](store::Transaction& txn) -> Status {
    auto r = txn.put(rg().child("Microsoft.Network/privateLinkServices", "pls").toString(),
                     "microsoft.network/privatelinkservices",
                     json{{"location", "local"},
                          {"properties",
                           {{"loadBalancerFrontendIpConfigurations",
                             json::array({{{"id", part("frontendIPConfigurations", "fe")}}})}}}});
    return r.ok() ? Status::Ok() : r.status();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(del(lb("lb1")).armCode(), "InUseLoadBalancerCannotBeDeleted");
  EXPECT_EQ(putErr(lb("lb1"), lbBody(json::array(), json::array({frontend("fe2")}))).armCode(),
            "InUseLoadBalancerFrontendIPConfigurationCannotBeDeleted");
}

}  // namespace
}  // namespace privlink::control
