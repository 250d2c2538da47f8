#pragma once
// Typed views of the network resources the agent realises, parsed from the ARM bodies the control
// plane stores (store/store.h Document). Parsing is tolerant: a malformed document becomes a
// per-key failure in NetworkSnapshot::failures and is left out of the views; it never throws or
// crashes. Only IPv4 prefixes and addresses are realised; IPv6 ones are parsed and ignored.
//
// Documents (types lower-case):
//   microsoft.network/virtualnetworks          properties.addressSpace.addressPrefixes[]
//   microsoft.network/virtualnetworks/subnets  key "<vnet key>/subnets/<name>";
//                                              properties.addressPrefix | addressPrefixes[]
//   microsoft.network/virtualnetworks/virtualnetworkpeerings
//                                              key "<vnet key>/virtualnetworkpeerings/<name>";
//                                              properties.{remoteVirtualNetwork.id, peeringState}
//   microsoft.network/networkinterfaces        properties.ipConfigurations[].properties.
//                                              {privateIPAddress, subnet.id, primary}
//   privlink/transitaddress                    key "/privlink/transit<vnet key>";
//                                              body {"vnetKey": "...", "address": "100.64.x.y"}
// Pure data; thread-compatible.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/status.h"

namespace privlink::model {

inline constexpr std::string_view kVirtualNetworkType = "microsoft.network/virtualnetworks";
inline constexpr std::string_view kSubnetType = "microsoft.network/virtualnetworks/subnets";
inline constexpr std::string_view kPeeringType =
    "microsoft.network/virtualnetworks/virtualnetworkpeerings";
inline constexpr std::string_view kNetworkInterfaceType = "microsoft.network/networkinterfaces";
inline constexpr std::string_view kTransitAddressType = "privlink/transitaddress";
// Key of the transit record of a VNet: kTransitKeyPrefix + vnet key (which starts with '/').
inline constexpr std::string_view kTransitKeyPrefix = "/privlink/transit";

// The fields of store::Document the model needs (model/ must not depend on store/).
struct SourceDocument {
  std::string key;
  std::string id;
  std::string type;
  nlohmann::json body;
};

struct Subnet {
  std::string key;
  std::string vnetKey;
  std::string name;
  std::vector<IpPrefix> prefixes;  // IPv4 only
};

struct VNet {
  std::string key;
  std::string id;
  std::vector<IpPrefix> addressPrefixes;  // IPv4 only
  std::vector<Subnet> subnets;            // in key order
};

struct IpConfiguration {
  std::string name;
  std::string subnetKey;  // lower-case key of the subnet
  std::optional<IpAddress> address;
  bool primary = false;
};

struct Nic {
  std::string key;
  std::string id;
  std::vector<IpConfiguration> ipConfigurations;
  // Set for the read-only NIC of a private endpoint (properties.privateEndpoint.id): realised by
  // the endpoint's translation, never as a workload namespace.
  std::string privateEndpointKey;
};

struct Peering {
  std::string key;
  std::string vnetKey;
  std::string remoteVnetKey;
  std::string state;  // "Initiated", "Connected", "Disconnected" (as stored)
  bool connected() const;
};

struct NetworkSnapshot {
  int64_t revision = 0;
  std::map<std::string, VNet> vnets;         // by key
  std::map<std::string, Nic> nics;           // by key
  std::map<std::string, Peering> peerings;   // by key
  std::map<std::string, IpAddress> transit;  // vnet key -> T_vnet
  // Documents that could not be parsed, by key, with an error that says what is wrong.
  std::map<std::string, Status> failures;
};

// Normalises an ARM id or key for lookups: lower case, no trailing '/', `//` collapsed.
std::string normaliseKey(std::string_view id);

// Each parser returns InvalidArgument("InvalidResourceDocument", ...) on a malformed body.
Result<VNet> parseVNet(const SourceDocument& doc);
Result<Subnet> parseSubnet(const SourceDocument& doc);
Result<Nic> parseNic(const SourceDocument& doc);
Result<Peering> parsePeering(const SourceDocument& doc);
// Returns {vnet key, address}.
Result<std::pair<std::string, IpAddress>> parseTransit(const SourceDocument& doc);

// Parses every document it knows (others are ignored) and attaches subnets to their VNets.
// Subnets or peerings whose VNet is absent are ignored (the VNet is being deleted).
NetworkSnapshot parseNetwork(const std::vector<SourceDocument>& docs, int64_t revision);

}  // namespace privlink::model
