#pragma once
// Pure request builders for the core commands: arguments in, ARM paths and JSON bodies out,
// shaped like the Azure CLI's requests (api-version 2024-07-01 for Microsoft.Network). Load
// balancer sub-parts (probes, rules, pools, frontends) are edited the way az does it: GET the
// load balancer, change it with a function below, PUT it back.
// No I/O here, so every argument -> request mapping is unit-tested.

#include <string>
#include <string_view>
#include <vector>

#include "cli/output_format.h"
#include "common/status.h"

namespace privlink::cli {

// ---- paths -------------------------------------------------------------------------------
std::string subscriptionPath(std::string_view subscription);
std::string resourceGroupPath(std::string_view subscription, std::string_view group);
// /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/{type}/{name}
std::string networkPath(std::string_view subscription, std::string_view group,
                        std::string_view type, std::string_view name);
// Appends ?api-version=... (Microsoft.Network / Microsoft.Resources / subscriptions).
std::string withNetworkApi(std::string_view path);
std::string withResourcesApi(std::string_view path);
std::string withSubscriptionsApi(std::string_view path);
// `nameOrId` when it is already an id ("/subscriptions/..."), else the id of the resource of
// `type` with that name in the group: resolveNetworkId("vnet2", S, G, "virtualNetworks").
std::string resolveNetworkId(std::string_view nameOrId, std::string_view subscription,
                             std::string_view group, std::string_view type);
// Subnet id from --subnet (name or id) and --vnet-name; usage error when a name lacks the vnet.
Result<std::string> resolveSubnetId(std::string_view subnet, std::string_view vnetName,
                                    std::string_view subscription, std::string_view group);
// --tags "k=v" "k2=" "k3" -> {"k":"v","k2":"","k3":""}.
Result<Json> parseTags(const std::vector<std::string>& tags);

// ---- resource groups ---------------------------------------------------------------------
Json resourceGroupBody(std::string_view location, const Json& tags);

// ---- virtual networks --------------------------------------------------------------------
struct VnetCreateArgs {
  std::string group;
  std::string name;
  std::string location;  // empty: the group's location
  std::vector<std::string> addressPrefixes;  // default 10.0.0.0/16 as in az
  std::string subnetName;
  std::vector<std::string> subnetPrefixes;  // default 10.0.0.0/24 when subnetName is set
  std::vector<std::string> dnsServers;
  std::vector<std::string> tags;
};
Result<Json> vnetCreateBody(const VnetCreateArgs& args, std::string_view location);

struct VnetUpdateArgs {
  std::vector<std::string> addressPrefixes;  // empty: unchanged
  std::vector<std::string> dnsServers;       // empty: unchanged
};
// Applies the update to a GET body; usage error when nothing would change.
Result<Json> applyVnetUpdate(Json vnet, const VnetUpdateArgs& args);

// ---- subnets -----------------------------------------------------------------------------
struct SubnetArgs {
  std::string group;
  std::string vnetName;
  std::string name;
  std::vector<std::string> addressPrefixes;
  std::string privateEndpointNetworkPolicies;     // Disabled|Enabled|NetworkSecurityGroupEnabled|
                                                  // RouteTableEnabled; empty: server default
  std::string privateLinkServiceNetworkPolicies;  // Disabled|Enabled
};
// One prefix goes to properties.addressPrefix, several to properties.addressPrefixes (as az).
Result<Json> subnetCreateBody(const SubnetArgs& args);
Result<Json> applySubnetUpdate(Json subnet, const SubnetArgs& args);

// ---- peerings ----------------------------------------------------------------------------
struct PeeringArgs {
  std::string group;
  std::string vnetName;
  std::string name;
  std::string remoteVnet;  // name (same group) or id
  bool allowVnetAccess = false;
  bool allowForwardedTraffic = false;
  bool allowGatewayTransit = false;
  bool useRemoteGateways = false;
};
Json peeringCreateBody(const PeeringArgs& args, std::string_view subscription);

// ---- network interfaces ------------------------------------------------------------------
struct NicCreateArgs {
  std::string group;
  std::string name;
  std::string location;
  std::string vnetName;
  std::string subnet;  // name (with vnetName) or id
  std::string privateIpAddress;  // empty: Dynamic
  std::string lbName;
  std::vector<std::string> lbAddressPools;  // names (with lbName) or ids
  std::string ipConfigName = "ipconfig1";
  std::vector<std::string> tags;
};
Result<Json> nicCreateBody(const NicCreateArgs& args, std::string_view subscription,
                           std::string_view location);

// ---- load balancers ----------------------------------------------------------------------
struct LbCreateArgs {
  std::string group;
  std::string name;
  std::string location;
  std::string vnetName;
  std::string subnet;
  std::string frontendIpName = "LoadBalancerFrontEnd";  // az's default
  std::string privateIpAddress;                         // empty: Dynamic
  std::string backendPoolName;                          // empty: "<name>bepool" (az)
  std::string sku = "Standard";
  std::vector<std::string> tags;
};
Result<Json> lbCreateBody(const LbCreateArgs& args, std::string_view subscription,
                          std::string_view location);

// Collections inside a load balancer's properties.
inline constexpr std::string_view kLbFrontends = "frontendIPConfigurations";
inline constexpr std::string_view kLbPools = "backendAddressPools";
inline constexpr std::string_view kLbProbes = "probes";
inline constexpr std::string_view kLbRules = "loadBalancingRules";
// "Microsoft.Network/loadBalancers/<child type>" for table output of a sub-part.
std::string lbChildType(std::string_view collection);
// Id of a sub-part: {lb id}/{collection}/{name}.
std::string lbChildId(const Json& lb, std::string_view collection, std::string_view name);

struct ProbeArgs {
  std::string name;
  std::string protocol;  // Tcp|Http|Https
  int port = 0;
  std::string path;      // required for Http(s)
  int interval = 15;     // az defaults
  int threshold = 2;
};
Result<Json> addLbProbe(Json lb, const ProbeArgs& args);

struct RuleArgs {
  std::string name;
  std::string protocol;  // Tcp|Udp|All
  int frontendPort = 0;
  int backendPort = 0;
  std::string frontendIpName;   // empty: the only frontend
  std::string backendPoolName;  // empty: the only pool
  std::string probeName;        // empty: none
  int idleTimeout = 0;          // 0: server default
  bool floatingIp = false;
  std::string loadDistribution;  // Default|SourceIP|SourceIPProtocol; empty: server default
};
Result<Json> addLbRule(Json lb, const RuleArgs& args);

Result<Json> addLbAddressPool(Json lb, std::string_view name);

struct FrontendIpArgs {
  std::string name;
  std::string vnetName;
  std::string subnet;
  std::string privateIpAddress;
};
Result<Json> addLbFrontendIp(Json lb, const FrontendIpArgs& args, std::string_view subscription,
                             std::string_view group);

// Removes / finds the sub-part `name` (case-insensitive); NotFound naming the load balancer.
Result<Json> removeLbChild(Json lb, std::string_view collection, std::string_view name);
Result<Json> findLbChild(const Json& lb, std::string_view collection, std::string_view name);
// The collection's array (empty array when absent).
Json lbChildren(const Json& lb, std::string_view collection);

}  // namespace privlink::cli
