#include "cli/network_requests.h"

#include "cli/usage_error.h"
#include "client/arm_client.h"
#include "client/url.h"
#include "common/resource_id.h"

namespace privlink::cli {

using client::encodePathSegment;

std::string subscriptionPath(std::string_view subscription) {
  return "/subscriptions/" + encodePathSegment(subscription);
}

std::string resourceGroupPath(std::string_view subscription, std::string_view group) {
  return subscriptionPath(subscription) + "/resourceGroups/" + encodePathSegment(group);
}

std::string networkPath(std::string_view subscription, std::string_view group,
                        std::string_view type, std::string_view name) {
  return resourceGroupPath(subscription, group) + "/providers/Microsoft.Network/" +
         std::string(type) + "/" + encodePathSegment(name);
}

std::string withNetworkApi(std::string_view path) {
  return client::withApiVersion(path, client::kNetworkApiVersion);
}
std::string withResourcesApi(std::string_view path) {
  return client::withApiVersion(path, client::kResourcesApiVersion);
}
std::string withSubscriptionsApi(std::string_view path) {
  return client::withApiVersion(path, client::kSubscriptionsApiVersion);
}

namespace {
bool isId(std::string_view nameOrId) { return !nameOrId.empty() && nameOrId.front() == '/'; }

Json idRef(std::string_view id) { return Json{{"id", std::string(id)}}; }

Json prefixesArray(const std::vector<std::string>& prefixes) {
  Json a = Json::array();
  for (const auto& p : prefixes) a.push_back(p);
  return a;
}

void setPrefixes(Json& properties, const std::vector<std::string>& prefixes) {
  if (prefixes.size() == 1) {
    properties["addressPrefix"] = prefixes.front();
    properties.erase("addressPrefixes");
  } else {
    properties["addressPrefixes"] = prefixesArray(prefixes);
    properties.erase("addressPrefix");
  }
}

Json& propertiesOf(Json& resource) {
  if (!resource.contains("properties") || !resource["properties"].is_object()) {
    resource["properties"] = Json::object();
  }
  return resource["properties"];
}

std::string nameOf(const Json& item) {
  if (item.is_object() && item.contains("name") && item["name"].is_string()) {
    return item["name"].get<std::string>();
  }
  return {};
}

std::string lbName(const Json& lb) {
  std::string name = nameOf(lb);
  return name.empty() ? "the load balancer" : "load balancer " + name;
}

// The named element, or the only one when `name` is empty; usage error otherwise.
Result<std::string> pickChild(const Json& lb, std::string_view collection, std::string_view name,
                              std::string_view option) {
  Json items = lbChildren(lb, collection);
  if (!name.empty()) {
    ASSIGN_OR_RETURN(Json child, findLbChild(lb, collection, name));
    return nameOf(child);
  }
  if (items.size() == 1) return nameOf(items[0]);
  return usageError(std::string(option) + " is required: " + lbName(lb) + " has " +
                          std::to_string(items.size()) + " " + std::string(collection));
}
}  // namespace

std::string resolveNetworkId(std::string_view nameOrId, std::string_view subscription,
                             std::string_view group, std::string_view type) {
  if (isId(nameOrId)) return std::string(nameOrId);
  return networkPath(subscription, group, type, nameOrId);
}

Result<std::string> resolveSubnetId(std::string_view subnet, std::string_view vnetName,
                                    std::string_view subscription, std::string_view group) {
  if (isId(subnet)) return std::string(subnet);
  if (subnet.empty()) return usageError("--subnet is required");
  if (vnetName.empty()) {
    return usageError("--vnet-name is required when --subnet is a name ('" +
                      std::string(subnet) + "'); or pass the subnet's full id");
  }
  return networkPath(subscription, group, "virtualNetworks", vnetName) + "/subnets/" +
         encodePathSegment(subnet);
}

Result<Json> parseTags(const std::vector<std::string>& tags) {
  Json out = Json::object();
  for (const auto& tag : tags) {
    size_t eq = tag.find('=');
    std::string key = tag.substr(0, eq);
    if (key.empty()) return usageError("--tags '" + tag + "': expected key=value");
    out[key] = eq == std::string::npos ? std::string() : tag.substr(eq + 1);
  }
  return out;
}

Json resourceGroupBody(std::string_view location, const Json& tags) {
  Json body = {{"location", std::string(location)}};
  if (tags.is_object() && !tags.empty()) body["tags"] = tags;
  return body;
}

Result<Json> vnetCreateBody(const VnetCreateArgs& args, std::string_view location) {
  std::vector<std::string> prefixes = args.addressPrefixes;
  if (prefixes.empty()) prefixes = {"10.0.0.0/16"};
  Json body = {{"location", std::string(location)}};
  ASSIGN_OR_RETURN(Json tags, parseTags(args.tags));
  if (!tags.empty()) body["tags"] = tags;
  Json properties = {{"addressSpace", {{"addressPrefixes", prefixesArray(prefixes)}}}};
  if (!args.dnsServers.empty()) {
    properties["dhcpOptions"] = {{"dnsServers", prefixesArray(args.dnsServers)}};
  }
  if (!args.subnetPrefixes.empty() && args.subnetName.empty()) {
    return usageError("--subnet-prefixes needs --subnet-name");
  }
  Json subnets = Json::array();
  if (!args.subnetName.empty()) {
    std::vector<std::string> subnetPrefixes = args.subnetPrefixes;
    if (subnetPrefixes.empty()) subnetPrefixes = {"10.0.0.0/24"};
    Json subnetProperties = Json::object();
    setPrefixes(subnetProperties, subnetPrefixes);
    subnets.push_back({{"name", args.subnetName}, {"properties", subnetProperties}});
  }
  properties["subnets"] = subnets;
  body["properties"] = properties;
  return body;
}

Result<Json> applyVnetUpdate(Json vnet, const VnetUpdateArgs& args) {
  if (args.addressPrefixes.empty() && args.dnsServers.empty()) {
    return usageError("nothing to update; pass --address-prefixes and/or --dns-servers");
  }
  Json& properties = propertiesOf(vnet);
  if (!args.addressPrefixes.empty()) {
    properties["addressSpace"]["addressPrefixes"] = prefixesArray(args.addressPrefixes);
  }
  if (!args.dnsServers.empty()) {
    properties["dhcpOptions"]["dnsServers"] = prefixesArray(args.dnsServers);
  }
  return vnet;
}

namespace {
Status checkPolicy(const std::string& value, const std::vector<std::string_view>& allowed,
                   std::string_view option) {
  if (value.empty()) return Status::Ok();
  std::string names;
  for (auto a : allowed) {
    if (iequals(a, value)) return Status::Ok();
    names += names.empty() ? std::string(a) : ", " + std::string(a);
  }
  return usageError(std::string(option) + " '" + value + "': expected one of " + names);
}

// The allowed spelling of a case-insensitively matched value.
std::string canonical(const std::string& value, const std::vector<std::string_view>& allowed) {
  for (auto a : allowed) {
    if (iequals(a, value)) return std::string(a);
  }
  return value;
}

const std::vector<std::string_view> kPePolicies = {
    "Disabled", "Enabled", "NetworkSecurityGroupEnabled", "RouteTableEnabled"};
const std::vector<std::string_view> kPlsPolicies = {"Disabled", "Enabled"};

Status applySubnetFields(Json& properties, const SubnetArgs& args) {
  RETURN_IF_ERROR(checkPolicy(args.privateEndpointNetworkPolicies, kPePolicies,
                              "--private-endpoint-network-policies"));
  RETURN_IF_ERROR(checkPolicy(args.privateLinkServiceNetworkPolicies, kPlsPolicies,
                              "--private-link-service-network-policies"));
  if (!args.addressPrefixes.empty()) setPrefixes(properties, args.addressPrefixes);
  if (!args.privateEndpointNetworkPolicies.empty()) {
    properties["privateEndpointNetworkPolicies"] =
        canonical(args.privateEndpointNetworkPolicies, kPePolicies);
  }
  if (!args.privateLinkServiceNetworkPolicies.empty()) {
    properties["privateLinkServiceNetworkPolicies"] =
        canonical(args.privateLinkServiceNetworkPolicies, kPlsPolicies);
  }
  return Status::Ok();
}
}  // namespace

Result<Json> subnetCreateBody(const SubnetArgs& args) {
  if (args.addressPrefixes.empty()) return usageError("--address-prefixes is required");
  Json properties = Json::object();
  RETURN_IF_ERROR(applySubnetFields(properties, args));
  return Json{{"name", args.name}, {"properties", properties}};
}

Result<Json> applySubnetUpdate(Json subnet, const SubnetArgs& args) {
  if (args.addressPrefixes.empty() && args.privateEndpointNetworkPolicies.empty() &&
      args.privateLinkServiceNetworkPolicies.empty()) {
    return usageError(
        "nothing to update; pass --address-prefixes, --private-endpoint-network-policies or "
        "--private-link-service-network-policies");
  }
  RETURN_IF_ERROR(applySubnetFields(propertiesOf(subnet), args));
  return subnet;
}

Json peeringCreateBody(const PeeringArgs& args, std::string_view subscription) {
  std::string remote =
      resolveNetworkId(args.remoteVnet, subscription, args.group, "virtualNetworks");
  return Json{{"name", args.name},
              {"properties",
               {{"remoteVirtualNetwork", idRef(remote)},
                {"allowVirtualNetworkAccess", args.allowVnetAccess},
                {"allowForwardedTraffic", args.allowForwardedTraffic},
                {"allowGatewayTransit", args.allowGatewayTransit},
                {"useRemoteGateways", args.useRemoteGateways}}}};
}

Result<Json> nicCreateBody(const NicCreateArgs& args, std::string_view subscription,
                           std::string_view location) {
  ASSIGN_OR_RETURN(std::string subnetId,
                   resolveSubnetId(args.subnet, args.vnetName, subscription, args.group));
  Json ipProperties = {{"subnet", idRef(subnetId)}};
  if (args.privateIpAddress.empty()) {
    ipProperties["privateIPAllocationMethod"] = "Dynamic";
  } else {
    ipProperties["privateIPAddress"] = args.privateIpAddress;
    ipProperties["privateIPAllocationMethod"] = "Static";
  }
  if (!args.lbName.empty() && args.lbAddressPools.empty()) {
    return usageError("--lb-name needs --lb-address-pools");
  }
  if (!args.lbAddressPools.empty()) {
    Json pools = Json::array();
    for (const auto& pool : args.lbAddressPools) {
      if (isId(pool)) {
        pools.push_back(idRef(pool));
      } else if (args.lbName.empty()) {
        return usageError("--lb-address-pools '" + pool +
                          "' is a name; pass --lb-name too, or the pool's full id");
      } else {
        pools.push_back(idRef(networkPath(subscription, args.group, "loadBalancers",
                                          args.lbName) +
                              "/backendAddressPools/" + encodePathSegment(pool)));
      }
    }
    ipProperties["loadBalancerBackendAddressPools"] = pools;
  }
  Json body = {{"location", std::string(location)}};
  ASSIGN_OR_RETURN(Json tags, parseTags(args.tags));
  if (!tags.empty()) body["tags"] = tags;
  body["properties"] = {
      {"ipConfigurations",
       Json::array({{{"name", args.ipConfigName}, {"properties", ipProperties}}})}};
  return body;
}

Result<Json> lbCreateBody(const LbCreateArgs& args, std::string_view subscription,
                          std::string_view location) {
  ASSIGN_OR_RETURN(std::string subnetId,
                   resolveSubnetId(args.subnet, args.vnetName, subscription, args.group));
  if (!iequals(args.sku, "Standard")) {
    return usageError("--sku '" + args.sku + "': only Standard internal load balancers exist");
  }
  Json frontend = {{"subnet", idRef(subnetId)}};
  if (args.privateIpAddress.empty()) {
    frontend["privateIPAllocationMethod"] = "Dynamic";
  } else {
    frontend["privateIPAddress"] = args.privateIpAddress;
    frontend["privateIPAllocationMethod"] = "Static";
  }
  std::string feName = args.frontendIpName.empty() ? "LoadBalancerFrontEnd" : args.frontendIpName;
  std::string poolName = args.backendPoolName.empty() ? args.name + "bepool" : args.backendPoolName;
  Json body = {{"location", std::string(location)}};
  ASSIGN_OR_RETURN(Json tags, parseTags(args.tags));
  if (!tags.empty()) body["tags"] = tags;
  body["sku"] = {{"name", "Standard"}};
  body["properties"] = {
      {"frontendIPConfigurations", Json::array({{{"name", feName}, {"properties", frontend}}})},
      {"backendAddressPools", Json::array({{{"name", poolName}}})},
      {"probes", Json::array()},
      {"loadBalancingRules", Json::array()}};
  return body;
}

std::string lbChildType(std::string_view collection) {
  return "Microsoft.Network/loadBalancers/" + std::string(collection);
}

std::string lbChildId(const Json& lb, std::string_view collection, std::string_view name) {
  std::string id;
  if (lb.is_object() && lb.contains("id") && lb["id"].is_string()) id = lb["id"].get<std::string>();
  return id + "/" + std::string(collection) + "/" + encodePathSegment(name);
}

Json lbChildren(const Json& lb, std::string_view collection) {
  std::string key(collection);
  if (lb.is_object() && lb.contains("properties") && lb["properties"].is_object() &&
      lb["properties"].contains(key) && lb["properties"][key].is_array()) {
    return lb["properties"][key];
  }
  return Json::array();
}

Result<Json> findLbChild(const Json& lb, std::string_view collection, std::string_view name) {
  for (const auto& item : lbChildren(lb, collection)) {
    if (iequals(nameOf(item), name)) return item;
  }
  return Status::NotFound("NotFound", std::string(collection) + " '" + std::string(name) +
                                          "' does not exist in " + lbName(lb));
}

Result<Json> removeLbChild(Json lb, std::string_view collection, std::string_view name) {
  Json items = lbChildren(lb, collection);
  Json kept = Json::array();
  bool found = false;
  for (auto& item : items) {
    if (iequals(nameOf(item), name)) {
      found = true;
    } else {
      kept.push_back(std::move(item));
    }
  }
  if (!found) {
    return Status::NotFound("NotFound", std::string(collection) + " '" + std::string(name) +
                                            "' does not exist in " + lbName(lb));
  }
  propertiesOf(lb)[std::string(collection)] = kept;
  return lb;
}

namespace {
Result<Json> appendChild(Json lb, std::string_view collection, Json child) {
  std::string name = nameOf(child);
  if (findLbChild(lb, collection, name).ok()) {
    return Status::AlreadyExists("AlreadyExists",
                                 std::string(collection) + " '" + name + "' already exists in " +
                                     lbName(lb) + "; delete it first or pick another name");
  }
  Json items = lbChildren(lb, collection);
  items.push_back(std::move(child));
  propertiesOf(lb)[std::string(collection)] = items;
  return lb;
}

const std::vector<std::string_view> kProbeProtocols = {"Tcp", "Http", "Https"};
const std::vector<std::string_view> kRuleProtocols = {"Tcp", "Udp", "All"};
const std::vector<std::string_view> kDistributions = {"Default", "SourceIP",
                                                                     "SourceIPProtocol"};
Status checkPort(int port, std::string_view option, int min) {
  if (port < min || port > 65535) {
    return usageError(std::string(option) + " " + std::to_string(port) + ": expected " +
                      std::to_string(min) + "-65535");
  }
  return Status::Ok();
}
}  // namespace

Result<Json> addLbProbe(Json lb, const ProbeArgs& args) {
  RETURN_IF_ERROR(checkPolicy(args.protocol, kProbeProtocols, "--protocol"));
  RETURN_IF_ERROR(checkPort(args.port, "--port", 1));
  std::string protocol = canonical(args.protocol, kProbeProtocols);
  if (protocol != "Tcp" && args.path.empty()) {
    return usageError("--path is required when --protocol is " + protocol);
  }
  if (protocol == "Tcp" && !args.path.empty()) {
    return usageError("--path is only valid with --protocol Http or Https");
  }
  if (args.interval < 5) return usageError("--interval must be at least 5 seconds");
  if (args.threshold < 1) return usageError("--threshold must be at least 1");
  Json properties = {{"protocol", protocol}, {"port", args.port}};
  if (!args.path.empty()) properties["requestPath"] = args.path;
  properties["intervalInSeconds"] = args.interval;
  properties["numberOfProbes"] = args.threshold;
  properties["probeThreshold"] = args.threshold;
  return appendChild(std::move(lb), kLbProbes,
                     Json{{"name", args.name}, {"properties", properties}});
}

Result<Json> addLbRule(Json lb, const RuleArgs& args) {
  RETURN_IF_ERROR(checkPolicy(args.protocol, kRuleProtocols, "--protocol"));
  RETURN_IF_ERROR(checkPolicy(args.loadDistribution, kDistributions, "--load-distribution"));
  std::string protocol = canonical(args.protocol, kRuleProtocols);
  int min = protocol == "All" ? 0 : 1;  // HA ports: All/0/0
  RETURN_IF_ERROR(checkPort(args.frontendPort, "--frontend-port", min));
  RETURN_IF_ERROR(checkPort(args.backendPort, "--backend-port", min));
  ASSIGN_OR_RETURN(std::string frontend,
                   pickChild(lb, kLbFrontends, args.frontendIpName, "--frontend-ip-name"));
  ASSIGN_OR_RETURN(std::string pool,
                   pickChild(lb, kLbPools, args.backendPoolName, "--backend-pool-name"));
  Json properties = {
      {"protocol", protocol},
      {"frontendPort", args.frontendPort},
      {"backendPort", args.backendPort},
      {"frontendIPConfiguration", idRef(lbChildId(lb, kLbFrontends, frontend))},
      {"backendAddressPool", idRef(lbChildId(lb, kLbPools, pool))},
      {"enableFloatingIP", args.floatingIp},
  };
  if (!args.probeName.empty()) {
    ASSIGN_OR_RETURN(Json probe, findLbChild(lb, kLbProbes, args.probeName));
    properties["probe"] = idRef(lbChildId(lb, kLbProbes, nameOf(probe)));
  }
  if (args.idleTimeout > 0) properties["idleTimeoutInMinutes"] = args.idleTimeout;
  if (!args.loadDistribution.empty()) {
    properties["loadDistribution"] = canonical(args.loadDistribution, kDistributions);
  }
  return appendChild(std::move(lb), kLbRules,
                     Json{{"name", args.name}, {"properties", properties}});
}

Result<Json> addLbAddressPool(Json lb, std::string_view name) {
  return appendChild(std::move(lb), kLbPools, Json{{"name", std::string(name)}});
}

Result<Json> addLbFrontendIp(Json lb, const FrontendIpArgs& args, std::string_view subscription,
                             std::string_view group) {
  ASSIGN_OR_RETURN(std::string subnetId,
                   resolveSubnetId(args.subnet, args.vnetName, subscription, group));
  Json properties = {{"subnet", idRef(subnetId)}};
  if (args.privateIpAddress.empty()) {
    properties["privateIPAllocationMethod"] = "Dynamic";
  } else {
    properties["privateIPAddress"] = args.privateIpAddress;
    properties["privateIPAllocationMethod"] = "Static";
  }
  return appendChild(std::move(lb), kLbFrontends,
                     Json{{"name", args.name}, {"properties", properties}});
}

}  // namespace privlink::cli
