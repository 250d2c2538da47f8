#pragma once
// Builders for the ARM documents the control plane stores for VNets, subnets, NICs and peerings
// (as model/network.h parses them), for agent tests that fill a store or a snapshot directly.
// Owned by the agent helper; header-only.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/ip.h"
#include "model/network.h"
#include "model/transit.h"

namespace privlink::testing {

inline std::string vnetId(
    const std::string& group, const std::string& name,
    const std::string& subscription = "00000000-0000-0000-0000-000000000001") {
  return "/subscriptions/" + subscription + "/resourceGroups/" + group +
         "/providers/Microsoft.Network/virtualNetworks/" + name;
}
inline std::string subnetId(const std::string& vnet, const std::string& name) {
  return vnet + "/subnets/" + name;
}
inline std::string nicId(const std::string& group, const std::string& name,
                         const std::string& subscription = "00000000-0000-0000-0000-000000000001") {
  return "/subscriptions/" + subscription + "/resourceGroups/" + group +
         "/providers/Microsoft.Network/networkInterfaces/" + name;
}
inline std::string peeringId(const std::string& vnet, const std::string& name) {
  return vnet + "/virtualNetworkPeerings/" + name;
}

inline model::SourceDocument vnetDocument(const std::string& id,
                                          const std::vector<std::string>& prefixes) {
  nlohmann::json body = {{"location", "westeurope"},
                         {"properties", {{"addressSpace", {{"addressPrefixes", prefixes}}}}}};
  return {model::normaliseKey(id), id, std::string(model::kVirtualNetworkType), body};
}
inline model::SourceDocument subnetDocument(const std::string& id, const std::string& prefix) {
  nlohmann::json body = {{"properties", {{"addressPrefix", prefix}}}};
  return {model::normaliseKey(id), id, std::string(model::kSubnetType), body};
}
inline model::SourceDocument nicDocument(const std::string& id, const std::string& subnet,
                                         const std::string& address) {
  nlohmann::json config = {{"name", "ipconfig1"},
                           {"properties",
                            {{"privateIPAddress", address},
                             {"privateIPAllocationMethod", "Static"},
                             {"primary", true},
                             {"subnet", {{"id", subnet}}}}}};
  nlohmann::json body = {{"location", "westeurope"},
                         {"properties", {{"ipConfigurations", nlohmann::json::array({config})}}}};
  return {model::normaliseKey(id), id, std::string(model::kNetworkInterfaceType), body};
}
inline model::SourceDocument peeringDocument(const std::string& id, const std::string& remoteVnet,
                                             const std::string& state) {
  nlohmann::json body = {{"properties",
                          {{"remoteVirtualNetwork", {{"id", remoteVnet}}},
                           {"peeringState", state},
                           {"allowVirtualNetworkAccess", true}}}};
  return {model::normaliseKey(id), id, std::string(model::kPeeringType), body};
}
inline model::SourceDocument transitDocument(const std::string& vnetKey,
                                             const std::string& address) {
  const std::string id = std::string(model::kTransitKeyPrefix) + model::normaliseKey(vnetKey);
  nlohmann::json body = {{"vnetKey", model::normaliseKey(vnetKey)}, {"address", address}};
  return {id, id, std::string(model::kTransitAddressType), body};
}
// `docs` plus a transit record for every VNet among them, allocated from `range` the way the agent
// allocates them (model::allocateTransit).
inline std::vector<model::SourceDocument> withTransit(std::vector<model::SourceDocument> docs,
                                                      std::string_view range = "100.64.0.0/10") {
  std::vector<std::string> vnets;
  for (const auto& d : docs) {
    if (d.type == model::kVirtualNetworkType) vnets.push_back(d.key);
  }
  for (const auto& [key, address] :
       model::allocateTransit(vnets, {}, IpPrefix::parse(range).value())) {
    docs.push_back(transitDocument(key, address.value().toString()));
  }
  return docs;
}


// ---- Load balancers and Private Link (documents as control/network and control/privatelink
// store them; model/network.h lists the fields the agent reads). ----

inline std::string resourceId(const std::string& group, const std::string& type,
                              const std::string& name,
                              const std::string& subscription =
                                  "00000000-0000-0000-0000-000000000001") {
  return "/subscriptions/" + subscription + "/resourceGroups/" + group + "/providers/" + type +
         "/" + name;
}

struct LbRuleSpec {
  std::string name;
  std::string protocol;  // "Tcp" | "Udp"
  int frontendPort;
  int backendPort;
  bool probed = true;  // uses the load balancer's probe "probe"
};

// One frontend "fe" at `frontendAddress` in `subnet`, one pool "pool", one probe "probe"
// (`probeProtocol` "Tcp"/"Http" on `probePort`, threshold 1), and `rules`.
inline model::SourceDocument lbDocument(const std::string& id, const std::string& subnet,
                                        const std::string& frontendAddress,
                                        const std::vector<LbRuleSpec>& rules,
                                        const std::string& probeProtocol = "Tcp",
                                        int probePort = 80) {
  nlohmann::json probe = {{"id", id + "/probes/probe"},
                          {"name", "probe"},
                          {"properties",
                           {{"protocol", probeProtocol},
                            {"port", probePort},
                            {"intervalInSeconds", 5},
                            {"numberOfProbes", 1},
                            {"probeThreshold", 1}}}};
  if (probeProtocol == "Http") probe["properties"]["requestPath"] = "/";
  nlohmann::json ruleList = nlohmann::json::array();
  for (const LbRuleSpec& r : rules) {
    nlohmann::json props = {{"protocol", r.protocol},
                            {"frontendPort", r.frontendPort},
                            {"backendPort", r.backendPort},
                            {"frontendIPConfiguration", {{"id", id + "/frontendIPConfigurations/fe"}}},
                            {"backendAddressPool", {{"id", id + "/backendAddressPools/pool"}}}};
    if (r.probed) props["probe"] = {{"id", id + "/probes/probe"}};
    ruleList.push_back({{"id", id + "/loadBalancingRules/" + r.name},
                        {"name", r.name},
                        {"properties", props}});
  }
  nlohmann::json body = {
      {"location", "westeurope"},
      {"properties",
       {{"frontendIPConfigurations",
         nlohmann::json::array({{{"id", id + "/frontendIPConfigurations/fe"},
                                 {"name", "fe"},
                                 {"properties",
                                  {{"privateIPAddress", frontendAddress},
                                   {"subnet", {{"id", subnet}}}}}}})},
        {"backendAddressPools",
         nlohmann::json::array({{{"id", id + "/backendAddressPools/pool"}, {"name", "pool"}}})},
        {"probes", nlohmann::json::array({probe})},
        {"loadBalancingRules", ruleList}}}};
  return {model::normaliseKey(id), id, "microsoft.network/loadbalancers", body};
}

// A NIC whose configuration is a member of backend pool `pool` (a full pool id).
inline model::SourceDocument nicInPoolDocument(const std::string& id, const std::string& subnet,
                                               const std::string& address,
                                               const std::string& pool) {
  model::SourceDocument doc = nicDocument(id, subnet, address);
  doc.body["properties"]["ipConfigurations"][0]["properties"]["loadBalancerBackendAddressPools"] =
      nlohmann::json::array({{{"id", pool}}});
  return doc;
}

inline model::SourceDocument plsDocument(const std::string& id, const std::string& frontend,
                                         const std::string& natSubnet,
                                         const std::vector<std::string>& natAddresses) {
  nlohmann::json configs = nlohmann::json::array();
  for (size_t i = 0; i < natAddresses.size(); ++i) {
    configs.push_back({{"id", id + "/ipConfigurations/nat" + std::to_string(i)},
                       {"name", "nat" + std::to_string(i)},
                       {"properties",
                        {{"privateIPAddress", natAddresses[i]},
                         {"subnet", {{"id", natSubnet}}},
                         {"primary", i == 0}}}});
  }
  nlohmann::json body = {
      {"location", "westeurope"},
      {"properties",
       {{"loadBalancerFrontendIpConfigurations", nlohmann::json::array({{{"id", frontend}}})},
        {"ipConfigurations", configs}}}};
  return {model::normaliseKey(id), id, "microsoft.network/privatelinkservices", body};
}

// The endpoint, its read-only NIC (address `address` in `subnet`) and the connection record
// under `target` with `status` ("Approved", "Pending", "Rejected"); linkIdentifier `link`.
struct EndpointDocuments {
  model::SourceDocument endpoint;
  model::SourceDocument nic;
  model::SourceDocument record;
};
inline EndpointDocuments endpointDocuments(const std::string& id, const std::string& subnet,
                                           const std::string& address, const std::string& target,
                                           uint32_t link, const std::string& status) {
  const std::string nic = id + "-nic";
  const std::string nicIdText = nic.substr(0, nic.find("/providers/")) +
                                "/providers/Microsoft.Network/networkInterfaces/" +
                                nic.substr(nic.rfind('/') + 1);
  const std::string record = target + "/privateEndpointConnections/" +
                             id.substr(id.rfind('/') + 1) + ".conn";
  nlohmann::json connection = {
      {"name", "conn"},
      {"properties",
       {{"privateLinkServiceId", target},
        {"privlink",
         {{"connectionId", record}, {"targetId", target},
          {"linkIdentifier", std::to_string(link)}}}}}};
  nlohmann::json body = {
      {"location", "westeurope"},
      {"properties",
       {{"subnet", {{"id", subnet}}},
        {"networkInterfaces", nlohmann::json::array({{{"id", nicIdText}}})},
        {"privateLinkServiceConnections", nlohmann::json::array({connection})}}}};
  model::SourceDocument nicDoc = nicDocument(nicIdText, subnet, address);
  nicDoc.body["properties"]["privateEndpoint"] = {{"id", id}};
  nlohmann::json recordBody = {
      {"id", record},
      {"properties",
       {{"privateEndpoint", {{"id", id}}},
        {"privateLinkServiceConnectionState",
         {{"status", status}, {"description", ""}, {"actionsRequired", "None"}}},
        {"linkIdentifier", std::to_string(link)}}}};
  return {{model::normaliseKey(id), id, "microsoft.network/privateendpoints", body},
          nicDoc,
          {model::normaliseKey(record), record,
           "microsoft.network/privatelinkservices/privateendpointconnections", recordBody}};
}

}  // namespace privlink::testing
