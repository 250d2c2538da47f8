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
//   microsoft.network/loadbalancers            properties.{frontendIPConfigurations[].{id,
//                                              properties.{privateIPAddress, subnet.id}},
//                                              probes[].{id, properties.{protocol, port,
//                                              intervalInSeconds, probeThreshold, requestPath}},
//                                              loadBalancingRules[].{id, properties.{protocol,
//                                              frontendPort, backendPort, frontendIPConfiguration
//                                              .id, backendAddressPool.id, probe.id}}}
//   NIC ipConfigurations[].properties.loadBalancerBackendAddressPools[].id  (pool membership)
//   microsoft.network/privatelinkservices      properties.{loadBalancerFrontendIpConfigurations[]
//                                              .id, ipConfigurations[].properties.
//                                              privateIPAddress (NAT IPs)}
//   microsoft.network/privateendpoints         properties.{subnet.id, networkInterfaces[0].id,
//                                              (manual)privateLinkServiceConnections[0].properties
//                                              .privlink.{connectionId, targetId, linkIdentifier}}
//   <target type>/privateendpointconnections   the connection record (control/privatelink/
//                                              connection_record.h): properties.{linkIdentifier,
//                                              privateLinkServiceConnectionState.status}
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
#include "model/paas_naming.h"

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
  // Load balancer backend pools this configuration is a member of (lower-case pool keys,
  // "<lb key>/backendaddresspools/<name>").
  std::vector<std::string> poolKeys;
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

inline constexpr std::string_view kLoadBalancerType = "microsoft.network/loadbalancers";
inline constexpr std::string_view kPrivateLinkServiceType = "microsoft.network/privatelinkservices";
inline constexpr std::string_view kPrivateEndpointType = "microsoft.network/privateendpoints";
inline constexpr std::string_view kPlsConnectionType =
    "microsoft.network/privatelinkservices/privateendpointconnections";

struct LbFrontend {
  std::string key;  // lower-case part id
  IpAddress address;
  std::string subnetKey;
};

struct LbProbe {
  std::string key;
  std::string protocol;  // "Tcp", "Http", "Https" (Https is probed as a TCP connect)
  int port = 0;
  int intervalSeconds = 15;
  int threshold = 1;
  std::string requestPath;
};

struct LbRule {
  std::string key;
  std::string frontendKey;
  std::string poolKey;
  std::string probeKey;  // "" = no probe: every member counts healthy
  std::string protocol;  // "Tcp", "Udp", "All"
  int frontendPort = 0;
  int backendPort = 0;
};

struct LoadBalancer {
  std::string key;
  std::string id;
  std::vector<LbFrontend> frontends;
  std::vector<LbProbe> probes;
  std::vector<LbRule> rules;
};

struct PrivateLinkService {
  std::string key;
  std::string id;
  std::vector<std::string> frontendKeys;  // LB frontend part keys
  std::vector<IpAddress> natAddresses;    // NAT IPs, in document order
  std::vector<std::string> natSubnetKeys;  // the subnet of each NAT IP (same order)
  // properties.enableProxyProtocol: TCP through its endpoints carries a PROXY v2 header.
  bool enableProxyProtocol = false;
};

struct PrivateEndpoint {
  std::string key;
  std::string id;
  std::string subnetKey;
  std::string nicKey;
  std::string targetKey;      // the PLS (or PaaS resource) key
  std::string connectionKey;  // the connection record's key
  uint32_t linkIdentifier = 0;
  // "Approved", "Pending", "Rejected" or "Disconnected" (record absent).
  std::string status = "Disconnected";
  bool approved() const { return status == "Approved"; }
};

struct NetworkSnapshot {
  int64_t revision = 0;
  std::map<std::string, VNet> vnets;         // by key
  std::map<std::string, Nic> nics;           // by key
  std::map<std::string, Peering> peerings;   // by key
  std::map<std::string, IpAddress> transit;  // vnet key -> T_vnet
  std::map<std::string, LoadBalancer> loadBalancers;           // by key
  std::map<std::string, PrivateLinkService> privateLinkServices;  // by key
  std::map<std::string, PrivateEndpoint> privateEndpoints;     // by key (status from records)
  // PaaS instances (documents carrying properties.privlink.paas, model/paas_naming.h), by key.
  std::map<std::string, PaasInstance> paasInstances;
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

Result<LoadBalancer> parseLoadBalancer(const SourceDocument& doc);
Result<PrivateLinkService> parsePrivateLinkService(const SourceDocument& doc);
Result<PrivateEndpoint> parsePrivateEndpoint(const SourceDocument& doc);

// The state a connection record (<target type>/privateendpointconnections) gives its endpoint:
// properties.privateLinkServiceConnectionState.status ("Disconnected" when absent) and
// properties.linkIdentifier (which, when present, overrides the endpoint document's).
struct ConnectionState {
  std::string status = "Disconnected";
  std::optional<uint32_t> linkIdentifier;
};
ConnectionState parseConnectionRecord(const nlohmann::json& body);
// True for the type of a connection record (any target type).
bool isConnectionRecordType(std::string_view type);
// Sets pe.status and pe.linkIdentifier from its record (`record` null: the record is absent, so
// the endpoint is Disconnected and keeps `documentLinkIdentifier`, the one its document carries).
void joinConnectionState(PrivateEndpoint& pe, uint32_t documentLinkIdentifier,
                         const ConnectionState* record);

// Parses every document it knows (others are ignored) and attaches subnets to their VNets.
// Subnets or peerings whose VNet is absent are ignored (the VNet is being deleted).
NetworkSnapshot parseNetwork(const std::vector<SourceDocument>& docs, int64_t revision);

}  // namespace privlink::model
