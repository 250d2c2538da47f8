// Microsoft.Network/loadBalancers: Standard internal load balancers only. Frontends take private
// addresses from their subnet through the shared allocator (ip_allocation.h); backend pools are
// filled by NIC ipConfigurations (membership index in network_common.h); probes and rules are
// validated against Azure's ranges and must refer to this load balancer's own parts.

#include <set>
#include <tuple>

#include "common/guid.h"
#include "control/network/ip_allocation.h"
#include "control/network/network_common.h"
#include "control/network/network_kinds.h"
#include "control/resource_service.h"
#include "model/resource_types.h"

namespace privlink::control {
namespace {

using net::badRequest;
using net::Json;

constexpr const char* kFrontends = "frontendIPConfigurations";
constexpr const char* kPools = "backendAddressPools";
constexpr const char* kProbes = "probes";
constexpr const char* kRules = "loadBalancingRules";

std::string partType(const char* collection) {
  return std::string(model::kLoadBalancer) + "/" + collection;
}

// The named parts of one collection, validated for names and uniqueness.
struct Part {
  std::string name;
  ResourceId id;
  Json props;  // the request's properties (object)
};

Result<std::vector<Part>> readParts(const Json& in, const char* collection, const ResourceId& lb) {
  const std::string target = std::string("properties.") + collection;
  ASSIGN_OR_RETURN(const Json* items, net::optArray(in, collection, target));
  std::vector<Part> out;
  if (!items) return out;
  std::set<std::string> names;
  for (const Json& item : *items) {
    if (!item.is_object()) {
      return badRequest("InvalidRequestFormat",
                        target + " must be an array of objects with a name and properties.",
                        target);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> name,
                     net::optString(item, "name", target + ".name"));
    if (!name) {
      return badRequest("InvalidRequestFormat", "Every entry of " + target + " needs a name.",
                        target + ".name");
    }
    RETURN_IF_ERROR(net::validateChildName(*name, target + ".name"));
    if (!names.insert(toLower(*name)).second) {
      return badRequest("InvalidRequestFormat",
                        target + " lists '" + *name + "' twice; give each name once.",
                        target + ".name");
    }
    ASSIGN_OR_RETURN(const Json* props, net::optObject(item, "properties", target + ".properties"));
    out.push_back(Part{*name, lb.child(collection, *name), props ? *props : Json::object()});
  }
  return out;
}

Json emptyPart(const Part& p, const char* collection) {
  return {{"name", p.name},
          {"id", p.id.toString()},
          {"type", partType(collection)},
          {"properties", Json::object()}};
}

// Stored parts of the existing document, by lower-case name.
std::map<std::string, Json> storedParts(const store::Document* existing, const char* collection) {
  std::map<std::string, Json> out;
  if (!existing) return out;
  const Json& props = net::propertiesOf(existing->body);
  auto it = props.find(collection);
  if (it == props.end() || !it->is_array()) return out;
  for (const Json& item : *it) {
    if (item.is_object() && item.contains("name") && item["name"].is_string()) {
      out[toLower(item["name"].get<std::string>())] = item;
    }
  }
  return out;
}

std::optional<ResourceId> storedSubnetOf(const Json& frontend) {
  Result<std::optional<ResourceId>> ref =
      net::optRef(net::propertiesOf(frontend), "subnet", "subnet");
  if (!ref.ok() || !*ref) return std::nullopt;
  return **ref;
}

// Private link services that reference a frontend of this load balancer (PLS documents name their
// frontends in properties.loadBalancerFrontendIpConfigurations[].id).
Result<std::vector<std::pair<std::string, std::string>>> privateLinkServiceUsers(
    store::ReadView& view, const ResourceId& lb) {
  ASSIGN_OR_RETURN(std::vector<store::Document> services,
                   view.listType(toLower(model::kPrivateLinkService)));
  std::vector<std::pair<std::string, std::string>> out;  // (frontend key, pls id)
  const std::string prefix = lb.key() + "/frontendipconfigurations/";
  for (const store::Document& pls : services) {
    const Json& props = net::propertiesOf(pls.body);
    auto fes = props.find("loadBalancerFrontendIpConfigurations");
    if (fes == props.end() || !fes->is_array()) continue;
    for (const Json& fe : *fes) {
      if (!fe.is_object() || !fe.contains("id") || !fe["id"].is_string()) continue;
      std::string key = toLower(fe["id"].get<std::string>());
      if (key.rfind(prefix, 0) == 0) out.emplace_back(key, pls.id);
    }
  }
  return out;
}

class LoadBalancerKind : public ResourceKind {
 public:
  std::string_view type() const override { return model::kLoadBalancer; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, std::move(desired), existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the load balancer: ") + e.what());
    }
  }

  // Azure refuses to delete a load balancer whose backend pool is referenced by NIC
  // ipConfigurations, so privlink does too: remove the NICs from the pool first.
  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    ASSIGN_OR_RETURN(auto members, net::poolMembers(ctx.txn, id));
    for (const auto& [pool, ids] : members) {
      if (ids.empty()) continue;
      return net::inUse("InUseLoadBalancerCannotBeDeleted",
                        "Load balancer " + id.name() +
                            " cannot be deleted because its backend "
                            "address pool " +
                            pool + " is used by " + ids.front() +
                            "; remove the pool from the network interface's "
                            "ipConfigurations[].properties.loadBalancerBackendAddressPools first.");
    }
    ASSIGN_OR_RETURN(auto plsUsers, privateLinkServiceUsers(ctx.txn, id));
    if (!plsUsers.empty()) {
      return net::inUse("InUseLoadBalancerCannotBeDeleted",
                        "Load balancer " + id.name() +
                            " cannot be deleted because private link "
                            "service " +
                            plsUsers.front().second + " uses its frontend " +
                            plsUsers.front().first + "; delete the private link service first.");
    }
    for (const auto& [name, fe] : storedParts(&existing, kFrontends)) {
      std::optional<ResourceId> subnet = storedSubnetOf(fe);
      if (subnet) RETURN_IF_ERROR(ipam::release(ctx, *subnet, fe.value("id", "")));
    }
    return Status::Ok();
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Json& props = body["properties"];
    if (!props.is_object() || !props.contains(kPools) || !props[kPools].is_array()) return;
    Result<std::map<std::string, std::vector<std::string>>> members = net::poolMembers(view, id);
    for (Json& pool : props[kPools]) {
      Json list = Json::array();
      if (members.ok() && pool.contains("name") && pool["name"].is_string()) {
        auto it = members->find(toLower(pool["name"].get<std::string>()));
        if (it != members->end()) {
          for (const std::string& ipConfig : it->second) list.push_back({{"id", ipConfig}});
        }
      }
      pool["properties"]["backendIPConfigurations"] = std::move(list);
    }
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, Json desired,
                       const store::Document* existing) {
    ASSIGN_OR_RETURN(const Json* propsPtr, net::optObject(desired, "properties", "properties"));
    const Json in = propsPtr ? *propsPtr : Json::object();

    // --- sku
    ASSIGN_OR_RETURN(const Json* sku, net::optObject(desired, "sku", "sku"));
    std::optional<std::string> skuName;
    std::string tier = "Regional";
    if (sku) {
      ASSIGN_OR_RETURN(skuName, net::optString(*sku, "name", "sku.name"));
      ASSIGN_OR_RETURN(std::optional<std::string> skuTier,
                       net::optString(*sku, "tier", "sku.tier"));
      if (skuTier && !iequals(*skuTier, "Regional")) {
        return badRequest("LoadBalancerSkuNotSupported",
                          "privlink supports only Regional load balancers; set sku.tier to "
                          "Regional or leave it out (not '" +
                              *skuTier + "').",
                          "sku.tier");
      }
    }
    if (!skuName || !iequals(*skuName, "Standard")) {
      return badRequest("LoadBalancerSkuNotSupported",
                        "privlink supports only Standard load balancers; set sku.name to "
                        "Standard" +
                            (skuName ? " (not '" + *skuName + "')"
                                     : std::string(" (a load balancer without a sku is Basic)")) +
                            ".",
                        "sku.name");
    }

    for (const char* unsupported : {"inboundNatRules", "inboundNatPools", "outboundRules"}) {
      ASSIGN_OR_RETURN(const Json* items,
                       net::optArray(in, unsupported, std::string("properties.") + unsupported));
      if (items && !items->empty()) {
        return badRequest("PropertyNotSupported",
                          std::string("privlink load balancers do not implement ") + unsupported +
                              " yet; remove properties." + unsupported + ".",
                          std::string("properties.") + unsupported);
      }
    }

    ASSIGN_OR_RETURN(std::vector<Part> frontends, readParts(in, kFrontends, id));
    ASSIGN_OR_RETURN(std::vector<Part> pools, readParts(in, kPools, id));
    ASSIGN_OR_RETURN(std::vector<Part> probes, readParts(in, kProbes, id));
    ASSIGN_OR_RETURN(std::vector<Part> rules, readParts(in, kRules, id));

    // --- removed parts that something else still uses
    std::set<std::string> keptFrontends, keptPools;
    for (const Part& p : frontends) keptFrontends.insert(p.id.key());
    for (const Part& p : pools) keptPools.insert(p.id.key());
    ASSIGN_OR_RETURN(auto members, net::poolMembers(ctx.txn, id));
    for (const auto& [pool, ids] : members) {
      if (ids.empty() || keptPools.count(id.child(kPools, pool).key())) continue;
      return net::inUse("InUseBackendAddressPoolCannotBeDeleted",
                        "Backend address pool " + pool + " of load balancer " + id.name() +
                            " is used by " + ids.front() +
                            " and cannot be removed; remove it from the network interface's "
                            "loadBalancerBackendAddressPools first.",
                        "properties.backendAddressPools");
    }
    ASSIGN_OR_RETURN(auto plsUsers, privateLinkServiceUsers(ctx.txn, id));
    for (const auto& [feKey, pls] : plsUsers) {
      if (keptFrontends.count(feKey)) continue;
      return net::inUse("InUseLoadBalancerFrontendIPConfigurationCannotBeDeleted",
                        "Frontend IP configuration " + feKey + " is used by private link service " +
                            pls +
                            " and cannot be removed; delete the private link service or "
                            "point it at another frontend first.",
                        "properties.frontendIPConfigurations");
    }

    // --- frontends: release addresses of removed (or moved) frontends first, then allocate
    const auto oldFrontends = storedParts(existing, kFrontends);
    for (const auto& [name, fe] : oldFrontends) {
      std::optional<ResourceId> oldSubnet = storedSubnetOf(fe);
      if (!oldSubnet) continue;
      bool keep = false;
      for (const Part& p : frontends) {
        if (toLower(p.name) != name) continue;
        Result<std::optional<ResourceId>> ref = net::optRef(p.props, "subnet", "subnet");
        keep = ref.ok() && *ref && (*ref)->key() == oldSubnet->key();
      }
      if (!keep) RETURN_IF_ERROR(ipam::release(ctx, *oldSubnet, fe.value("id", "")));
    }
    Json outFrontends = Json::array();
    std::optional<ResourceId> lbVnet;
    for (const Part& p : frontends) {
      ASSIGN_OR_RETURN(Json fe, frontend(ctx, id, desired, p, lbVnet));
      outFrontends.push_back(std::move(fe));
    }

    Json outPools = Json::array();
    for (const Part& p : pools) {
      const std::string target = "properties.backendAddressPools[" + p.name + "]";
      ASSIGN_OR_RETURN(const Json* addresses,
                       net::optArray(p.props, "loadBalancerBackendAddresses",
                                     target + ".properties.loadBalancerBackendAddresses"));
      if (addresses && !addresses->empty()) {
        return badRequest("PropertyNotSupported",
                          "privlink backend pools are filled by network interfaces, not by IP "
                          "address (loadBalancerBackendAddresses); leave them out and reference "
                          "the pool " +
                              p.name +
                              " from each NIC ipConfiguration's loadBalancerBackendAddressPools.",
                          target + ".properties.loadBalancerBackendAddresses");
      }
      outPools.push_back(emptyPart(p, kPools));
    }

    Json outProbes = Json::array();
    for (const Part& p : probes) {
      ASSIGN_OR_RETURN(Json probe, this->probe(p));
      outProbes.push_back(std::move(probe));
    }

    Json outRules = Json::array();
    std::vector<std::tuple<std::string, std::string, int64_t, std::string>> used;
    for (const Part& p : rules) {
      ASSIGN_OR_RETURN(Json rule, this->rule(id, p, frontends, pools, probes, used));
      outRules.push_back(std::move(rule));
    }
    // Read-only back references from frontends, pools and probes to the rules using them.
    auto backRef = [&](Json& parts, const char* property) {
      for (Json& part : parts) part["properties"]["loadBalancingRules"] = Json::array();
      for (const Json& r : outRules) {
        const Json& rp = r["properties"];
        if (!rp.contains(property)) continue;
        const std::string key = toLower(rp[property]["id"].get<std::string>());
        for (Json& part : parts) {
          if (toLower(part["id"].get<std::string>()) == key) {
            part["properties"]["loadBalancingRules"].push_back({{"id", r["id"]}});
          }
        }
      }
    };
    backRef(outFrontends, "frontendIPConfiguration");
    backRef(outPools, "backendAddressPool");
    backRef(outProbes, "probe");

    Json out = Json::object();
    out[kFrontends] = std::move(outFrontends);
    out[kPools] = std::move(outPools);
    out[kProbes] = std::move(outProbes);
    out[kRules] = std::move(outRules);
    out["inboundNatRules"] = Json::array();
    out["inboundNatPools"] = Json::array();
    out["outboundRules"] = Json::array();
    const Json* old = existing ? &net::propertiesOf(existing->body) : nullptr;
    if (old && old->contains("resourceGuid") && (*old)["resourceGuid"].is_string()) {
      out["resourceGuid"] = (*old)["resourceGuid"];
    } else {
      out["resourceGuid"] = newGuid();
    }

    Json result = desired;
    result.erase("id");
    result.erase("etag");
    result.erase("type");
    result["sku"] = {{"name", "Standard"}, {"tier", "Regional"}};
    result["properties"] = std::move(out);
    return result;
  }

  Result<Json> frontend(KindContext& ctx, const ResourceId& lb, const Json& desired, const Part& p,
                        std::optional<ResourceId>& lbVnet) {
    const std::string target = "properties.frontendIPConfigurations[" + p.name + "].properties";
    for (const char* publicRef : {"publicIPAddress", "publicIPPrefix"}) {
      if (p.props.contains(publicRef) && !p.props[publicRef].is_null()) {
        return badRequest("PublicLoadBalancerNotSupported",
                          "Frontend " + p.name + " references a " + publicRef +
                              ", but privlink load balancers are internal only for now; give the "
                              "frontend a subnet.id and a private IP instead.",
                          target + "." + publicRef);
      }
    }
    ASSIGN_OR_RETURN(std::optional<ResourceId> subnet,
                     net::optRef(p.props, "subnet", target + ".subnet"));
    if (!subnet) {
      return badRequest("InvalidRequestFormat",
                        "Frontend " + p.name +
                            " needs properties.subnet.id: privlink load "
                            "balancers are internal, so every frontend takes a private IP from a "
                            "subnet.",
                        target + ".subnet.id");
    }
    ASSIGN_OR_RETURN(store::Document subnetDoc,
                     net::requireReferenced(ctx.txn, *subnet, model::kSubnet, p.id));
    (void)subnetDoc;
    const ResourceId vnet = *subnet->parent();
    if (lbVnet && lbVnet->key() != vnet.key()) {
      return badRequest("LoadBalancerFrontendIPConfigurationsInDifferentVnets",
                        "Frontends of internal load balancer " + lb.name() +
                            " must all be in one virtual network, but " + p.name + " uses " +
                            vnet.toString() + " and another frontend uses " + lbVnet->toString() +
                            "; put every frontend in the same virtual network.",
                        target + ".subnet.id");
    }
    lbVnet = vnet;
    RETURN_IF_ERROR(checkLocation(ctx, lb, desired, vnet, p.id));

    ASSIGN_OR_RETURN(std::string version,
                     net::enumValue(p.props, "privateIPAddressVersion",
                                    target + ".privateIPAddressVersion", {"IPv4", "IPv6"}, "IPv4"));
    if (version != "IPv4") {
      return badRequest("PropertyNotSupported",
                        "Frontend " + p.name +
                            " asks for an IPv6 address; privlink load "
                            "balancer frontends are IPv4 only for now. Set privateIPAddressVersion "
                            "to IPv4.",
                        target + ".privateIPAddressVersion");
    }
    ASSIGN_OR_RETURN(std::optional<std::string> addressText,
                     net::optString(p.props, "privateIPAddress", target + ".privateIPAddress"));
    ASSIGN_OR_RETURN(
        std::string method,
        net::enumValue(p.props, "privateIPAllocationMethod", target + ".privateIPAllocationMethod",
                       {"Dynamic", "Static"}, addressText ? "Static" : "Dynamic"));
    std::optional<IpAddress> requested;
    if (method == "Static") {
      if (!addressText) {
        return badRequest("PrivateIPAddressRequiredForStaticAllocation",
                          "Frontend " + p.name +
                              " uses Static allocation but gives no "
                              "privateIPAddress; give the address or use Dynamic allocation.",
                          target + ".privateIPAddress");
      }
      ASSIGN_OR_RETURN(IpAddress a, net::parseAddress(*addressText, target + ".privateIPAddress"));
      requested = a;
    }
    ASSIGN_OR_RETURN(IpAddress address, ipam::allocate(ctx, *subnet, p.id.toString(), requested));
    Json fe = emptyPart(p, kFrontends);
    fe["properties"] = {{"privateIPAddress", address.toString()},
                        {"privateIPAllocationMethod", method},
                        {"privateIPAddressVersion", "IPv4"},
                        {"subnet", {{"id", subnet->toString()}}}};
    return fe;
  }

  Result<Json> probe(const Part& p) {
    const std::string target = "properties.probes[" + p.name + "].properties";
    ASSIGN_OR_RETURN(std::optional<std::string> protocolText,
                     net::optString(p.props, "protocol", target + ".protocol"));
    if (!protocolText) {
      return badRequest("InvalidRequestFormat",
                        "Probe " + p.name + " needs a protocol: Tcp, Http or Https.",
                        target + ".protocol");
    }
    ASSIGN_OR_RETURN(std::string protocol, net::enumValue(p.props, "protocol", target + ".protocol",
                                                          {"Tcp", "Http", "Https"}, "Tcp"));
    ASSIGN_OR_RETURN(std::optional<int64_t> port, net::optInt(p.props, "port", target + ".port"));
    if (!port || *port < 1 || *port > 65535) {
      return badRequest("InvalidRequestFormat",
                        "Probe " + p.name + " needs a port from 1 to 65535" +
                            (port ? " (not " + std::to_string(*port) + ")" : std::string()) + ".",
                        target + ".port");
    }
    ASSIGN_OR_RETURN(std::optional<int64_t> interval,
                     net::optInt(p.props, "intervalInSeconds", target + ".intervalInSeconds"));
    if (interval && *interval < 5) {
      return badRequest("InvalidRequestFormat",
                        "Probe " + p.name + " has intervalInSeconds " + std::to_string(*interval) +
                            "; the minimum is 5 seconds.",
                        target + ".intervalInSeconds");
    }
    ASSIGN_OR_RETURN(std::optional<int64_t> count,
                     net::optInt(p.props, "numberOfProbes", target + ".numberOfProbes"));
    ASSIGN_OR_RETURN(std::optional<int64_t> threshold,
                     net::optInt(p.props, "probeThreshold", target + ".probeThreshold"));
    for (auto [value, name] :
         {std::pair{count, "numberOfProbes"}, std::pair{threshold, "probeThreshold"}}) {
      if (value && *value < 1) {
        return badRequest("InvalidRequestFormat",
                          "Probe " + p.name + " has " + name + " " + std::to_string(*value) +
                              "; it must be at least 1.",
                          target + "." + name);
      }
    }
    ASSIGN_OR_RETURN(std::optional<std::string> path,
                     net::optString(p.props, "requestPath", target + ".requestPath"));
    if (protocol == "Tcp" && path) {
      return badRequest("InvalidRequestFormat",
                        "Probe " + p.name +
                            " is a Tcp probe and cannot have a requestPath; remove "
                            "it or use protocol Http or Https.",
                        target + ".requestPath");
    }
    if (protocol != "Tcp" && (!path || path->empty() || (*path)[0] != '/')) {
      return badRequest("InvalidRequestFormat",
                        "Probe " + p.name + " uses " + protocol +
                            " and needs a requestPath starting with '/', for example \"/healthz\".",
                        target + ".requestPath");
    }
    Json probe = emptyPart(p, kProbes);
    probe["properties"] = {{"protocol", protocol},
                           {"port", *port},
                           {"intervalInSeconds", interval.value_or(15)},
                           {"numberOfProbes", count.value_or(1)},
                           {"probeThreshold", threshold.value_or(1)}};
    if (path) probe["properties"]["requestPath"] = *path;
    return probe;
  }

  // A reference from a rule to one of this load balancer's parts of `collection`, as the
  // part's canonical id.
  Result<ResourceId> resolveOwn(const ResourceId& lb, const std::string& ruleName,
                                const ResourceId& ref, const char* collection,
                                const std::vector<Part>& parts, const std::string& target) {
    std::optional<ResourceId> parent = ref.parent();
    bool ok = parent && parent->key() == lb.key() && !ref.segments().empty() &&
              iequals(ref.segments().back().type, collection);
    if (ok) {
      ok = false;
      for (const Part& p : parts) ok = ok || iequals(p.name, ref.name());
    }
    if (!ok) {
      return badRequest("InvalidResourceReference",
                        "Load balancing rule " + ruleName + " refers to " + ref.toString() +
                            ", which is not one of the " + collection + " of load balancer " +
                            lb.name() + "; refer to " + lb.toString() + "/" + collection +
                            "/<name> with a name defined in this request.",
                        target);
    }
    for (const Part& p : parts) {
      if (iequals(p.name, ref.name())) return p.id;
    }
    return ref;
  }

  Result<Json> rule(const ResourceId& lb, const Part& p, const std::vector<Part>& frontends,
                    const std::vector<Part>& pools, const std::vector<Part>& probes,
                    std::vector<std::tuple<std::string, std::string, int64_t, std::string>>& used) {
    const std::string target = "properties.loadBalancingRules[" + p.name + "].properties";
    Json props = Json::object();

    ASSIGN_OR_RETURN(
        std::optional<ResourceId> feRef,
        net::optRef(p.props, "frontendIPConfiguration", target + ".frontendIPConfiguration"));
    if (!feRef) {
      return badRequest("InvalidRequestFormat",
                        "Load balancing rule " + p.name + " needs frontendIPConfiguration.id.",
                        target + ".frontendIPConfiguration.id");
    }
    ASSIGN_OR_RETURN(ResourceId fe, resolveOwn(lb, p.name, *feRef, kFrontends, frontends,
                                               target + ".frontendIPConfiguration.id"));
    props["frontendIPConfiguration"] = {{"id", fe.toString()}};

    ASSIGN_OR_RETURN(std::optional<ResourceId> poolRef,
                     net::optRef(p.props, "backendAddressPool", target + ".backendAddressPool"));
    if (!poolRef) {
      // Newer api-versions may send backendAddressPools[] instead (one pool for internal LBs).
      ASSIGN_OR_RETURN(const Json* poolList, net::optArray(p.props, "backendAddressPools",
                                                           target + ".backendAddressPools"));
      if (poolList && poolList->size() > 1) {
        return badRequest("InvalidRequestFormat",
                          "Load balancing rule " + p.name + " lists " +
                              std::to_string(poolList->size()) +
                              " backend pools; a Standard internal load balancer rule takes "
                              "exactly one.",
                          target + ".backendAddressPools");
      }
      if (poolList && poolList->size() == 1) {
        Json wrapper = {{"pool", (*poolList)[0]}};
        ASSIGN_OR_RETURN(poolRef, net::optRef(wrapper, "pool", target + ".backendAddressPools[0]"));
      }
    }
    if (!poolRef) {
      return badRequest("InvalidRequestFormat",
                        "Load balancing rule " + p.name +
                            " needs backendAddressPool.id: the pool "
                            "whose members receive the traffic.",
                        target + ".backendAddressPool.id");
    }
    ASSIGN_OR_RETURN(ResourceId pool, resolveOwn(lb, p.name, *poolRef, kPools, pools,
                                                 target + ".backendAddressPool.id"));
    props["backendAddressPool"] = {{"id", pool.toString()}};
    props["backendAddressPools"] = Json::array({{{"id", pool.toString()}}});

    ASSIGN_OR_RETURN(std::optional<ResourceId> probeRef,
                     net::optRef(p.props, "probe", target + ".probe"));
    if (probeRef) {
      ASSIGN_OR_RETURN(ResourceId probe,
                       resolveOwn(lb, p.name, *probeRef, kProbes, probes, target + ".probe.id"));
      props["probe"] = {{"id", probe.toString()}};
    }

    ASSIGN_OR_RETURN(std::optional<std::string> protocolText,
                     net::optString(p.props, "protocol", target + ".protocol"));
    if (!protocolText) {
      return badRequest("InvalidRequestFormat",
                        "Load balancing rule " + p.name + " needs a protocol: Tcp, Udp or All.",
                        target + ".protocol");
    }
    ASSIGN_OR_RETURN(std::string protocol, net::enumValue(p.props, "protocol", target + ".protocol",
                                                          {"Tcp", "Udp", "All"}, "Tcp"));
    props["protocol"] = protocol;
    for (const char* portName : {"frontendPort", "backendPort"}) {
      ASSIGN_OR_RETURN(std::optional<int64_t> port,
                       net::optInt(p.props, portName, target + "." + portName));
      if (!port || *port < 0 || *port > 65535) {
        return badRequest("InvalidRequestFormat",
                          "Load balancing rule " + p.name + " needs " + portName +
                              " from 0 to 65535" +
                              (port ? " (not " + std::to_string(*port) + ")" : std::string()) + ".",
                          target + "." + portName);
      }
      if ((*port == 0) != (protocol == "All")) {
        return badRequest("InvalidRequestFormat",
                          "Load balancing rule " + p.name + ": " + portName + " " +
                              std::to_string(*port) + " with protocol " + protocol +
                              " is not valid; port 0 (every port) goes only with protocol All "
                              "(HA ports), and protocol All needs frontendPort and backendPort 0.",
                          target + "." + portName);
      }
      props[portName] = *port;
    }
    // One rule per frontend, protocol and port; an All rule claims every port of its frontend.
    const int64_t frontendPort = props["frontendPort"].get<int64_t>();
    for (const auto& [usedFe, usedProtocol, usedPort, usedRule] : used) {
      if (usedFe != fe.key()) continue;
      bool clash = protocol == "All" || usedProtocol == "All" ||
                   (usedProtocol == protocol && usedPort == frontendPort);
      if (clash) {
        return badRequest("LoadBalancingRulesWithSameFrontendPortAndProtocol",
                          "Load balancing rules " + usedRule + " and " + p.name +
                              " both use frontend " + fe.name() + " with protocol " + protocol +
                              " and port " + std::to_string(frontendPort) +
                              "; give each rule its own frontend port or frontend.",
                          target + ".frontendPort");
      }
    }
    used.emplace_back(fe.key(), protocol, frontendPort, p.name);

    ASSIGN_OR_RETURN(std::optional<int64_t> idle, net::optInt(p.props, "idleTimeoutInMinutes",
                                                              target + ".idleTimeoutInMinutes"));
    if (idle && (*idle < 4 || *idle > 100)) {
      return badRequest("InvalidRequestFormat",
                        "Load balancing rule " + p.name + " has idleTimeoutInMinutes " +
                            std::to_string(*idle) + "; use 4 to 100.",
                        target + ".idleTimeoutInMinutes");
    }
    props["idleTimeoutInMinutes"] = idle.value_or(4);
    for (const char* flag : {"enableFloatingIP", "enableTcpReset", "disableOutboundSnat"}) {
      ASSIGN_OR_RETURN(std::optional<bool> v, net::optBool(p.props, flag, target + "." + flag));
      props[flag] = v.value_or(false);
    }
    ASSIGN_OR_RETURN(props["loadDistribution"],
                     net::enumValue(p.props, "loadDistribution", target + ".loadDistribution",
                                    {"Default", "SourceIP", "SourceIPProtocol"}, "Default"));
    Json rule = emptyPart(p, kRules);
    rule["properties"] = std::move(props);
    return rule;
  }

  Status checkLocation(KindContext& ctx, const ResourceId& lb, const Json& desired,
                       const ResourceId& vnet, const ResourceId& part) {
    if (!desired.contains("location") || !desired["location"].is_string()) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::Document> vnetDoc, ctx.txn.get(vnet.key()));
    if (!vnetDoc || !vnetDoc->body.contains("location") || !vnetDoc->body["location"].is_string()) {
      return Status::Ok();
    }
    const std::string lbLocation = desired["location"].get<std::string>();
    const std::string vnetLocation = vnetDoc->body["location"].get<std::string>();
    if (net::normalizeLocation(lbLocation) == net::normalizeLocation(vnetLocation)) {
      return Status::Ok();
    }
    return badRequest("InvalidResourceReference",
                      "Resource " + vnet.toString() + " referenced by resource " + part.toString() +
                          " is in location " + vnetLocation + ", but load balancer " + lb.name() +
                          " is in " + lbLocation +
                          "; create the load balancer in the virtual network's location.");
  }
};

}  // namespace

std::unique_ptr<ResourceKind> makeLoadBalancerKind() {
  return std::make_unique<LoadBalancerKind>();
}

Result<nlohmann::json> findLoadBalancerPart(store::ReadView& view, const ResourceId& partId,
                                            const ResourceId& referrer) {
  std::optional<ResourceId> lb = partId.parent();
  auto missing = [&] {
    return badRequest("InvalidResourceReference",
                      "Resource " + partId.toString() + " referenced by resource " +
                          referrer.toString() +
                          " was not found. Please make sure that the referenced resource exists, "
                          "and that both resources are in the same region.");
  };
  if (!lb || partId.segments().size() != 2 || !iequals(lb->type(), model::kLoadBalancer)) {
    return missing();
  }
  ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(lb->key()));
  if (!doc) return missing();
  const Json& props = net::propertiesOf(doc->body);
  for (const char* collection : {kFrontends, kPools, kProbes, kRules}) {
    if (!iequals(partId.segments().back().type, collection)) continue;
    auto it = props.find(collection);
    if (it == props.end() || !it->is_array()) return missing();
    for (const Json& part : *it) {
      if (part.is_object() && part.contains("name") && part["name"].is_string() &&
          iequals(part["name"].get<std::string>(), partId.name())) {
        return part;
      }
    }
  }
  return missing();
}

}  // namespace privlink::control
