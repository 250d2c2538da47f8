// Microsoft.Network/networkInterfaces: ipConfigurations with addresses from the shared allocator
// (ip_allocation.h), one primary, all in one VNet of the NIC's location, optional membership of
// load balancer backend pools (recorded in the pool membership index, network_common.h).

#include <set>

#include "common/guid.h"
#include "control/network/ip_allocation.h"
#include "control/network/network_common.h"
#include "control/network/network_kinds.h"
#include "control/resource_service.h"
#include "model/naming.h"
#include "model/resource_types.h"

namespace privlink::control {
namespace {

using net::badRequest;
using net::Json;

constexpr const char* kIpConfigType = "Microsoft.Network/networkInterfaces/ipConfigurations";

// Stable MAC from the NIC's key, in Azure's form: Microsoft's OUI 00-0D-3A plus 24 bits of
// SHA-256(key).
std::string macAddressFor(const ResourceId& nic) {
  std::string hex = model::shortHash(nic.key());
  std::string mac = "00-0D-3A";
  for (size_t i = 0; i < 6; i += 2) {
    mac += "-";
    mac += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    mac += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i + 1])));
  }
  return mac;
}

struct OldIpConfig {
  std::string id;
  std::optional<ResourceId> subnet;
  std::vector<ResourceId> pools;
};

std::map<std::string, OldIpConfig> oldIpConfigs(const store::Document* existing) {
  std::map<std::string, OldIpConfig> out;
  if (!existing) return out;
  const Json& props = net::propertiesOf(existing->body);
  auto it = props.find("ipConfigurations");
  if (it == props.end() || !it->is_array()) return out;
  for (const Json& ipc : *it) {
    if (!ipc.is_object() || !ipc.contains("name") || !ipc["name"].is_string()) continue;
    OldIpConfig old;
    old.id = ipc.value("id", "");
    const Json& p = net::propertiesOf(ipc);
    Result<std::optional<ResourceId>> subnet = net::optRef(p, "subnet", "subnet");
    if (subnet.ok()) old.subnet = *subnet;
    auto pools = p.find("loadBalancerBackendAddressPools");
    if (pools != p.end() && pools->is_array()) {
      for (const Json& pool : *pools) {
        Json wrapper = {{"p", pool}};
        Result<std::optional<ResourceId>> ref = net::optRef(wrapper, "p", "p");
        if (ref.ok() && *ref) old.pools.push_back(**ref);
      }
    }
    out[toLower(ipc["name"].get<std::string>())] = std::move(old);
  }
  return out;
}

// The private endpoint that owns this NIC, if it still exists.
Result<std::optional<std::string>> owningPrivateEndpoint(store::ReadView& view,
                                                         const store::Document& nic) {
  Result<std::optional<ResourceId>> pe =
      net::optRef(net::propertiesOf(nic.body), "privateEndpoint", "privateEndpoint");
  if (!pe.ok() || !*pe) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get((*pe)->key()));
  if (!doc) return std::optional<std::string>();
  return std::optional<std::string>((*pe)->toString());
}

// The VNet of a load balancer (that of its first frontend), if it has frontends.
std::optional<ResourceId> loadBalancerVnet(const Json& lbBody) {
  const Json& props = net::propertiesOf(lbBody);
  auto fes = props.find("frontendIPConfigurations");
  if (fes == props.end() || !fes->is_array()) return std::nullopt;
  for (const Json& fe : *fes) {
    Result<std::optional<ResourceId>> subnet =
        net::optRef(net::propertiesOf(fe), "subnet", "subnet");
    if (subnet.ok() && *subnet) return (*subnet)->parent();
  }
  return std::nullopt;
}

class NetworkInterfaceKind : public ResourceKind {
 public:
  std::string_view type() const override { return model::kNetworkInterface; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, std::move(desired), existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the network interface: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    ASSIGN_OR_RETURN(std::optional<std::string> pe, owningPrivateEndpoint(ctx.txn, existing));
    if (pe) {
      return net::inUse("InUseNetworkInterfaceCannotBeDeleted",
                        "Network interface " + id.name() + " is used by private endpoint " + *pe +
                            " and cannot be deleted; delete the private endpoint instead.");
    }
    for (const auto& [name, old] : oldIpConfigs(&existing)) {
      if (old.subnet) RETURN_IF_ERROR(ipam::release(ctx, *old.subnet, old.id));
      for (const ResourceId& pool : old.pools) {
        RETURN_IF_ERROR(net::removePoolMember(ctx.txn, pool, old.id));
      }
    }
    return Status::Ok();
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, Json desired,
                       const store::Document* existing) {
    if (existing) {
      ASSIGN_OR_RETURN(std::optional<std::string> pe, owningPrivateEndpoint(ctx.txn, *existing));
      if (pe) {
        return badRequest("NetworkInterfaceOwnedByPrivateEndpoint",
                          "Network interface " + id.name() + " belongs to private endpoint " + *pe +
                              " and is read-only; change the private endpoint instead.");
      }
    }
    ASSIGN_OR_RETURN(const Json* propsPtr, net::optObject(desired, "properties", "properties"));
    const Json in = propsPtr ? *propsPtr : Json::object();
    const Json* old = existing ? &net::propertiesOf(existing->body) : nullptr;

    if (in.contains("networkSecurityGroup") && !in["networkSecurityGroup"].is_null()) {
      return badRequest("PropertyNotSupported",
                        "privlink does not implement network security groups yet; remove "
                        "properties.networkSecurityGroup.",
                        "properties.networkSecurityGroup");
    }

    // --- ipConfigurations: shape, names, primary
    ASSIGN_OR_RETURN(const Json* items,
                     net::optArray(in, "ipConfigurations", "properties.ipConfigurations"));
    if (!items || items->empty()) {
      return badRequest("NicMustHaveIpConfiguration",
                        "Network interface " + id.name() +
                            " needs at least one entry in properties.ipConfigurations, each with "
                            "a name and properties.subnet.id.",
                        "properties.ipConfigurations");
    }
    struct Wanted {
      std::string name;
      ResourceId id;
      Json props;
      bool primary = false;
    };
    std::vector<Wanted> wanted;
    std::set<std::string> names;
    int primaries = 0;
    for (const Json& item : *items) {
      const std::string target = "properties.ipConfigurations";
      if (!item.is_object()) {
        return badRequest("InvalidRequestFormat",
                          target + " must be an array of objects with a name and properties.",
                          target);
      }
      ASSIGN_OR_RETURN(std::optional<std::string> name,
                       net::optString(item, "name", target + ".name"));
      if (!name) {
        return badRequest("InvalidRequestFormat",
                          "Every entry of " + target + " needs a name, for example \"ipconfig1\".",
                          target + ".name");
      }
      RETURN_IF_ERROR(net::validateChildName(*name, target + ".name"));
      if (!names.insert(toLower(*name)).second) {
        return badRequest("InvalidRequestFormat",
                          target + " lists '" + *name + "' twice; give each name once.",
                          target + ".name");
      }
      ASSIGN_OR_RETURN(const Json* props,
                       net::optObject(item, "properties", target + "[" + *name + "].properties"));
      Wanted w{*name, id.child("ipConfigurations", *name), props ? *props : Json::object()};
      ASSIGN_OR_RETURN(std::optional<bool> primary,
                       net::optBool(w.props, "primary", target + "[" + *name + "].primary"));
      w.primary = primary.value_or(false);
      if (w.primary) ++primaries;
      wanted.push_back(std::move(w));
    }
    if (primaries > 1) {
      return badRequest("OnlyOnePrimaryIpConfigurationAllowed",
                        "Network interface " + id.name() + " marks " + std::to_string(primaries) +
                            " ipConfigurations as primary; mark exactly one (or none, and the "
                            "first one is primary).",
                        "properties.ipConfigurations");
    }
    if (primaries == 0) wanted.front().primary = true;

    // --- release what moves or goes away, before allocating anything
    const auto olds = oldIpConfigs(existing);
    for (const auto& [name, o] : olds) {
      if (!o.subnet) continue;
      bool keep = false;
      for (const Wanted& w : wanted) {
        if (toLower(w.name) != name) continue;
        Result<std::optional<ResourceId>> ref = net::optRef(w.props, "subnet", "subnet");
        keep = ref.ok() && *ref && (*ref)->key() == o.subnet->key();
      }
      if (!keep) RETURN_IF_ERROR(ipam::release(ctx, *o.subnet, o.id));
    }

    std::optional<ResourceId> nicVnet;
    std::set<std::pair<std::string, std::string>> newMemberships;  // (pool key, ipconfig id)
    std::vector<std::pair<ResourceId, std::string>> membershipList;
    Json outIpConfigs = Json::array();
    for (const Wanted& w : wanted) {
      const std::string target = "properties.ipConfigurations[" + w.name + "].properties";
      ASSIGN_OR_RETURN(std::optional<ResourceId> subnet,
                       net::optRef(w.props, "subnet", target + ".subnet"));
      if (!subnet) {
        return badRequest("InvalidRequestFormat",
                          "ipConfiguration " + w.name + " of network interface " + id.name() +
                              " needs properties.subnet.id: the subnet its private IP comes from.",
                          target + ".subnet.id");
      }
      ASSIGN_OR_RETURN(store::Document subnetDoc,
                       net::requireReferenced(ctx.txn, *subnet, model::kSubnet, id));
      (void)subnetDoc;
      const ResourceId vnet = *subnet->parent();
      if (nicVnet && nicVnet->key() != vnet.key()) {
        return badRequest("IpConfigurationsOfNicMustBeInSameVnet",
                          "All ipConfigurations of network interface " + id.name() +
                              " must be in one virtual network, but " + w.name + " uses " +
                              vnet.toString() + " and another uses " + nicVnet->toString() +
                              "; use subnets of one virtual network.",
                          target + ".subnet.id");
      }
      nicVnet = vnet;
      RETURN_IF_ERROR(checkLocation(ctx, id, desired, vnet));

      ASSIGN_OR_RETURN(std::string version, net::enumValue(w.props, "privateIPAddressVersion",
                                                           target + ".privateIPAddressVersion",
                                                           {"IPv4", "IPv6"}, "IPv4"));
      if (version != "IPv4") {
        return badRequest(
            "PropertyNotSupported",
            "ipConfiguration " + w.name +
                " asks for an IPv6 address; privlink "
                "network interfaces are IPv4 only for now. Set privateIPAddressVersion "
                "to IPv4.",
            target + ".privateIPAddressVersion");
      }
      ASSIGN_OR_RETURN(std::optional<std::string> addressText,
                       net::optString(w.props, "privateIPAddress", target + ".privateIPAddress"));
      ASSIGN_OR_RETURN(std::string method,
                       net::enumValue(w.props, "privateIPAllocationMethod",
                                      target + ".privateIPAllocationMethod", {"Dynamic", "Static"},
                                      addressText ? "Static" : "Dynamic"));
      std::optional<IpAddress> requested;
      if (method == "Static") {
        if (!addressText) {
          return badRequest("PrivateIPAddressRequiredForStaticAllocation",
                            "ipConfiguration " + w.name +
                                " uses Static allocation but gives no "
                                "privateIPAddress; give the address or use Dynamic allocation.",
                            target + ".privateIPAddress");
        }
        ASSIGN_OR_RETURN(IpAddress a,
                         net::parseAddress(*addressText, target + ".privateIPAddress"));
        requested = a;
      }
      // Dynamic keeps the address this ipConfiguration already holds in the subnet.
      ASSIGN_OR_RETURN(IpAddress address, ipam::allocate(ctx, *subnet, w.id.toString(), requested));

      // Backend pools of load balancers in the same VNet.
      Json pools = Json::array();
      ASSIGN_OR_RETURN(const Json* poolRefs,
                       net::optArray(w.props, "loadBalancerBackendAddressPools",
                                     target + ".loadBalancerBackendAddressPools"));
      if (poolRefs) {
        for (const Json& ref : *poolRefs) {
          Json wrapper = {{"pool", ref}};
          ASSIGN_OR_RETURN(
              std::optional<ResourceId> pool,
              net::optRef(wrapper, "pool", target + ".loadBalancerBackendAddressPools"));
          if (!pool) continue;
          if (pool->segments().empty() ||
              !iequals(pool->segments().back().type, "backendAddressPools")) {
            return badRequest("InvalidResourceReference",
                              pool->toString() + " referenced by " + w.id.toString() +
                                  " is not a load balancer backend address pool; give an id "
                                  "like .../loadBalancers/<lb>/backendAddressPools/<pool>.",
                              target + ".loadBalancerBackendAddressPools");
          }
          ASSIGN_OR_RETURN(Json part, findLoadBalancerPart(ctx.txn, *pool, w.id));
          (void)part;
          ASSIGN_OR_RETURN(std::optional<store::Document> lbDoc,
                           ctx.txn.get(pool->parent()->key()));
          if (lbDoc) {
            std::optional<ResourceId> lbVnet = loadBalancerVnet(lbDoc->body);
            if (lbVnet && lbVnet->key() != vnet.key()) {
              return badRequest("NetworkInterfaceAndLoadBalancerInDifferentVnets",
                                "ipConfiguration " + w.name + " is in virtual network " +
                                    vnet.toString() + " but load balancer " +
                                    pool->parent()->name() + " serves " + lbVnet->toString() +
                                    "; a backend must be in its internal load balancer's "
                                    "virtual network.",
                                target + ".loadBalancerBackendAddressPools");
            }
          }
          if (newMemberships.insert({pool->key(), toLower(w.id.toString())}).second) {
            membershipList.emplace_back(*pool, w.id.toString());
            pools.push_back({{"id", pool->toString()}});
          }
        }
      }

      Json ipc = {{"name", w.name}, {"id", w.id.toString()}, {"type", kIpConfigType}};
      ipc["properties"] = {{"privateIPAddress", address.toString()},
                           {"privateIPAllocationMethod", method},
                           {"privateIPAddressVersion", "IPv4"},
                           {"subnet", {{"id", subnet->toString()}}},
                           {"primary", w.primary},
                           {"loadBalancerBackendAddressPools", std::move(pools)}};
      outIpConfigs.push_back(std::move(ipc));
    }

    // --- pool membership index: drop old memberships that went away, add new ones
    for (const auto& [name, o] : olds) {
      for (const ResourceId& pool : o.pools) {
        if (newMemberships.count({pool.key(), toLower(o.id)})) continue;
        RETURN_IF_ERROR(net::removePoolMember(ctx.txn, pool, o.id));
      }
    }
    for (const auto& [pool, ipConfigId] : membershipList) {
      RETURN_IF_ERROR(net::addPoolMember(ctx.txn, pool, ipConfigId));
    }

    // --- the rest
    Json out = Json::object();
    out["ipConfigurations"] = std::move(outIpConfigs);
    Json dnsServers = Json::array();
    ASSIGN_OR_RETURN(const Json* dns, net::optObject(in, "dnsSettings", "properties.dnsSettings"));
    Json dnsSettings = Json::object();
    if (dns) {
      ASSIGN_OR_RETURN(const Json* servers,
                       net::optArray(*dns, "dnsServers", "properties.dnsSettings.dnsServers"));
      if (servers) {
        for (const Json& s : *servers) {
          if (!s.is_string()) {
            return badRequest("InvalidRequestFormat",
                              "properties.dnsSettings.dnsServers must be an array of IP address "
                              "strings.",
                              "properties.dnsSettings.dnsServers");
          }
          ASSIGN_OR_RETURN(IpAddress a, net::parseAddress(s.get<std::string>(),
                                                          "properties.dnsSettings.dnsServers"));
          dnsServers.push_back(a.toString());
        }
      }
      ASSIGN_OR_RETURN(std::optional<std::string> label,
                       net::optString(*dns, "internalDnsNameLabel",
                                      "properties.dnsSettings.internalDnsNameLabel"));
      if (label) dnsSettings["internalDnsNameLabel"] = *label;
    }
    dnsSettings["appliedDnsServers"] = dnsServers;
    dnsSettings["dnsServers"] = std::move(dnsServers);
    out["dnsSettings"] = std::move(dnsSettings);
    for (const char* flag : {"enableIPForwarding", "enableAcceleratedNetworking"}) {
      ASSIGN_OR_RETURN(std::optional<bool> v,
                       net::optBool(in, flag, std::string("properties.") + flag));
      out[flag] = v.value_or(false);
    }
    out["macAddress"] = macAddressFor(id);
    out["nicType"] = "Standard";
    out["vnetEncryptionSupported"] = false;
    out["hostedWorkloads"] = Json::array();
    out["tapConfigurations"] = Json::array();
    if (old && old->contains("resourceGuid") && (*old)["resourceGuid"].is_string()) {
      out["resourceGuid"] = (*old)["resourceGuid"];
    } else {
      out["resourceGuid"] = newGuid();
    }

    Json result = desired;
    result.erase("id");
    result.erase("etag");
    result.erase("type");
    result["properties"] = std::move(out);
    return result;
  }

  Status checkLocation(KindContext& ctx, const ResourceId& nic, const Json& desired,
                       const ResourceId& vnet) {
    if (!desired.contains("location") || !desired["location"].is_string()) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::Document> vnetDoc, ctx.txn.get(vnet.key()));
    if (!vnetDoc || !vnetDoc->body.contains("location") || !vnetDoc->body["location"].is_string()) {
      return Status::Ok();
    }
    const std::string nicLocation = desired["location"].get<std::string>();
    const std::string vnetLocation = vnetDoc->body["location"].get<std::string>();
    if (net::normalizeLocation(nicLocation) == net::normalizeLocation(vnetLocation)) {
      return Status::Ok();
    }
    return badRequest("InvalidResourceReference",
                      "Resource " + vnet.toString() + " referenced by resource " + nic.toString() +
                          " is in location " + vnetLocation + ", but the network interface is in " +
                          nicLocation +
                          "; create the network interface in the virtual network's location.");
  }
};

}  // namespace

std::unique_ptr<ResourceKind> makeNetworkInterfaceKind() {
  return std::make_unique<NetworkInterfaceKind>();
}

}  // namespace privlink::control
