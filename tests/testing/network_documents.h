#pragma once
// Builders for the ARM documents the control plane stores for VNets, subnets, NICs and peerings
// (as model/network.h parses them), for agent tests that fill a store or a snapshot directly.
// Owned by the agent helper; header-only.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/network.h"

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

}  // namespace privlink::testing
