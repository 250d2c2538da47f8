// Microsoft.Network/privateLinkServices: LB frontends, append-only NAT ipConfigurations from a
// subnet with privateLinkServiceNetworkPolicies Disabled, visibility / auto-approval lists, fqdns,
// PROXY protocol flag, a stable alias; privateEndpointConnections[] rendered from the connection
// records (connection_record.h).

#include <set>

#include "common/guid.h"
#include "control/network/ip_allocation.h"
#include "control/network/network_common.h"
#include "control/network/network_kinds.h"
#include "control/privatelink/connection_record.h"
#include "control/privatelink/privatelink_kinds.h"
#include "control/resource_counters.h"
#include "model/resource_types.h"

namespace privlink::control::privatelink {
namespace {

using net::badRequest;
using net::Json;

constexpr const char* kIpConfigType = "Microsoft.Network/privateLinkServices/ipConfigurations";
constexpr const char* kAliasSuffix = ".azure.privatelinkservice";

// Reads {"subscriptions": [...]} at props[key]; entries must be subscription GUIDs (or "*" when
// allowStar). Lower-cases GUIDs and drops duplicates.
Result<std::vector<std::string>> subscriptionList(const Json& props, const char* key,
                                                  bool allowStar, size_t limit) {
  const std::string target = std::string("properties.") + key + ".subscriptions";
  ASSIGN_OR_RETURN(const Json* obj, net::optObject(props, key, std::string("properties.") + key));
  std::vector<std::string> out;
  if (!obj) return out;
  ASSIGN_OR_RETURN(const Json* subs, net::optArray(*obj, "subscriptions", target));
  if (!subs) return out;
  std::set<std::string> seen;
  for (const Json& s : *subs) {
    if (!s.is_string()) {
      return badRequest("InvalidRequestFormat",
                        target + " must be an array of subscription ids (strings).", target);
    }
    std::string v = s.get<std::string>();
    if (v == "*") {
      if (!allowStar) {
        return badRequest("InvalidAutoApprovalSubscription",
                          "'*' is not allowed in " + target +
                              ": auto-approving every subscription would approve anyone who "
                              "knows the alias. List the subscriptions to auto-approve.",
                          target);
      }
    } else if (!isGuid(v)) {
      return badRequest("InvalidSubscriptionId",
                        "'" + v + "' in " + target +
                            " is not a subscription id; give GUIDs such as "
                            "00000000-0000-0000-0000-000000000000" +
                            (allowStar ? " or \"*\" for anyone with the alias." : "."),
                        target);
    } else {
      v = toLower(v);
    }
    if (seen.insert(v).second) out.push_back(v);
  }
  if (out.size() > limit) {
    return Status::LimitExceeded("LimitExceeded",
                                 target + " lists " + std::to_string(out.size()) +
                                     " subscriptions; a private link service allows at most " +
                                     std::to_string(limit) + ".")
        .withTarget(target);
  }
  return out;
}

Json stringArray(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const std::string& s : v) out.push_back(s);
  return out;
}

std::vector<std::string> storedList(const Json& props, const char* key) {
  std::vector<std::string> out;
  auto it = props.find(key);
  if (it == props.end() || !it->is_object()) return out;
  auto subs = it->find("subscriptions");
  if (subs == it->end() || !subs->is_array()) return out;
  for (const Json& s : *subs) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

// The frontend ids a stored PLS body names (lower-case keys).
std::vector<std::string> frontendKeys(const Json& body) {
  std::vector<std::string> out;
  const Json& props = net::propertiesOf(body);
  auto fes = props.find("loadBalancerFrontendIpConfigurations");
  if (fes == props.end() || !fes->is_array()) return out;
  for (const Json& fe : *fes) {
    if (fe.is_object() && fe.contains("id") && fe["id"].is_string()) {
      out.push_back(toLower(fe["id"].get<std::string>()));
    }
  }
  return out;
}

struct OldNatIp {
  std::string name;
  std::string id;
  std::string subnetKey;
  std::string address;
  std::string method;
  bool primary = false;
};

std::vector<OldNatIp> oldNatIps(const store::Document* existing) {
  std::vector<OldNatIp> out;
  if (!existing) return out;
  const Json& props = net::propertiesOf(existing->body);
  auto it = props.find("ipConfigurations");
  if (it == props.end() || !it->is_array()) return out;
  for (const Json& ipc : *it) {
    if (!ipc.is_object()) continue;
    OldNatIp o;
    o.name = ipc.value("name", "");
    o.id = ipc.value("id", "");
    const Json& p = net::propertiesOf(ipc);
    o.address = p.value("privateIPAddress", "");
    o.method = p.value("privateIPAllocationMethod", "Dynamic");
    o.primary = p.value("primary", false);
    if (p.contains("subnet") && p["subnet"].is_object() && p["subnet"].contains("id") &&
        p["subnet"]["id"].is_string()) {
      o.subnetKey = toLower(p["subnet"]["id"].get<std::string>());
    }
    out.push_back(std::move(o));
  }
  return out;
}

class PrivateLinkServiceKind : public ResourceKind {
 public:
  explicit PrivateLinkServiceKind(std::shared_ptr<PrivateLinkContext> pl) : pl_(std::move(pl)) {}

  std::string_view type() const override { return model::kPrivateLinkService; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, std::move(desired), existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the private link service: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    ASSIGN_OR_RETURN(std::vector<store::Document> records, connectionRecordsOf(ctx.txn, id, kPlsConnectionType));
    size_t live = 0;
    std::string example;
    for (const store::Document& r : records) {
      ConnectionStatus s = statusOf(r.body);
      if (s == ConnectionStatus::kPending || s == ConnectionStatus::kApproved) {
        ++live;
        if (example.empty()) example = r.body.value("name", r.id);
      }
    }
    if (live > 0) {
      return net::inUse("CannotDeletePrivateLinkServiceWithPrivateEndpointConnections",
                        "Private link service " + id.name() + " has " + std::to_string(live) +
                            " pending or approved private endpoint connection(s) (e.g. " + example +
                            "). Reject or remove them first (privlink private-link-service "
                            "connection reject|remove), then delete the service.");
    }
    for (const store::Document& r : records) {
      RETURN_IF_ERROR(detachFromEndpoint(ctx.txn, ctx.caller, r, "platform",
                                         "The private link service " + id.name() +
                                             " was deleted by its provider"));
      RETURN_IF_ERROR(ctx.txn.erase(r.key));
    }
    for (const OldNatIp& o : oldNatIps(&existing)) {
      Result<ResourceId> subnet = ResourceId::parse(o.subnetKey);
      if (subnet.ok()) RETURN_IF_ERROR(ipam::release(ctx, *subnet, o.id));
    }
    return Status::Ok();
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Result<std::vector<store::Document>> records = connectionRecordsOf(view, id, kPlsConnectionType);
    Json conns = Json::array();
    if (records.ok()) {
      for (const store::Document& r : *records) conns.push_back(pl_->service.render(view, r));
    }
    body["properties"]["privateEndpointConnections"] = std::move(conns);
    renderCounters(view, id.key(), body);
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, Json desired,
                       const store::Document* existing) {
    ASSIGN_OR_RETURN(const Json* propsPtr, net::optObject(desired, "properties", "properties"));
    const Json in = propsPtr ? *propsPtr : Json::object();
    const Json* old = existing ? &net::propertiesOf(existing->body) : nullptr;
    const std::string location = desired.value("location", "");
    const PrivateLinkLimits& limits = pl_->limits;

    if (in.contains("destinationIPAddress") && !in["destinationIPAddress"].is_null() &&
        !(in["destinationIPAddress"].is_string() &&
          in["destinationIPAddress"].get<std::string>().empty())) {
      return badRequest("PropertyNotSupported",
                        "privlink does not implement Direct Connect private link services yet; "
                        "remove properties.destinationIPAddress and give "
                        "loadBalancerFrontendIpConfigurations.",
                        "properties.destinationIPAddress");
    }

    if (!existing) {
      ASSIGN_OR_RETURN(std::vector<store::Document> all,
                       ctx.txn.listType(toLower(model::kPrivateLinkService),
                                        ResourceId::subscription(id.subscriptionId()).key() + "/"));
      if (all.size() >= limits.servicesPerSubscription) {
        return Status::LimitExceeded(
            "LimitExceeded", "Subscription " + id.subscriptionId() + " already has " +
                                 std::to_string(all.size()) +
                                 " private link services, the most allowed (" +
                                 std::to_string(limits.servicesPerSubscription) +
                                 "); delete one or use another subscription.");
      }
    }

    // --- load balancer frontends
    const std::string feTarget = "properties.loadBalancerFrontendIpConfigurations";
    ASSIGN_OR_RETURN(const Json* feRefs,
                     net::optArray(in, "loadBalancerFrontendIpConfigurations", feTarget));
    if (!feRefs || feRefs->empty()) {
      return badRequest("PrivateLinkServiceLoadBalancerFrontendRequired",
                        "Private link service " + id.name() +
                            " needs at least one entry in "
                            "properties.loadBalancerFrontendIpConfigurations: the id of a frontend "
                            "IP configuration of an internal Standard load balancer, e.g. "
                            ".../loadBalancers/lb/frontendIPConfigurations/fe.",
                        feTarget);
    }
    std::optional<ResourceId> providerVnet;
    std::set<std::string> feKeys;
    std::set<std::string> lbKeys;
    Json outFrontends = Json::array();
    for (const Json& ref : *feRefs) {
      Json wrapper = {{"fe", ref}};
      ASSIGN_OR_RETURN(std::optional<ResourceId> fe, net::optRef(wrapper, "fe", feTarget));
      if (!fe) continue;
      if (fe->segments().size() != 2 || !iequals(fe->segments()[0].type, "loadBalancers") ||
          !iequals(fe->segments()[1].type, "frontendIPConfigurations")) {
        return badRequest("InvalidResourceReference",
                          fe->toString() + " referenced by private link service " + id.name() +
                              " is not a load balancer frontend IP configuration; give an id "
                              "like .../loadBalancers/<lb>/frontendIPConfigurations/<fe>.",
                          feTarget);
      }
      if (!feKeys.insert(fe->key()).second) {
        return badRequest("InvalidRequestFormat",
                          feTarget + " lists " + fe->toString() + " twice; give each once.",
                          feTarget);
      }
      ASSIGN_OR_RETURN(Json part, findLoadBalancerPart(ctx.txn, *fe, id));
      const ResourceId lb = *fe->parent();
      ASSIGN_OR_RETURN(std::optional<store::Document> lbDoc, ctx.txn.get(lb.key()));
      if (!lbDoc) return badRequest("InvalidResourceReference", lb.toString() + " not found.");
      std::string sku = "Standard";
      if (lbDoc->body.contains("sku") && lbDoc->body["sku"].is_object()) {
        sku = lbDoc->body["sku"].value("name", "Standard");
      }
      if (!iequals(sku, "Standard")) {
        return badRequest("PrivateLinkServiceRequiresStandardLoadBalancer",
                          "Load balancer " + lb.name() + " has SKU " + sku +
                              "; a private link service needs a Standard load balancer.",
                          feTarget);
      }
      const std::string lbLocation = lbDoc->body.value("location", "");
      if (net::normalizeLocation(lbLocation) != net::normalizeLocation(location)) {
        return badRequest("PrivateLinkServiceAndLoadBalancerInDifferentLocations",
                          "Private link service " + id.name() + " is in location " + location +
                              " but load balancer " + lb.name() + " is in " + lbLocation +
                              "; create the private link service in the load balancer's "
                              "location.",
                          feTarget);
      }
      Result<std::optional<ResourceId>> subnet =
          net::optRef(net::propertiesOf(part), "subnet", "subnet");
      if (!subnet.ok() || !*subnet) {
        return badRequest("PrivateLinkServiceRequiresInternalFrontend",
                          "Frontend " + fe->name() + " of load balancer " + lb.name() +
                              " has no subnet; a private link service needs an internal "
                              "frontend (one with properties.subnet).",
                          feTarget);
      }
      const ResourceId vnet = *(*subnet)->parent();
      if (providerVnet && providerVnet->key() != vnet.key()) {
        return badRequest("PrivateLinkServiceFrontendsInDifferentVnets",
                          "The frontends of private link service " + id.name() +
                              " are in different virtual networks (" + providerVnet->toString() +
                              ", " + vnet.toString() + "); use frontends of one virtual network.",
                          feTarget);
      }
      providerVnet = vnet;
      lbKeys.insert(lb.key());
      outFrontends.push_back({{"id", fe->toString()}});
    }
    if (outFrontends.empty()) {
      return badRequest("PrivateLinkServiceLoadBalancerFrontendRequired",
                        "Private link service " + id.name() +
                            " needs at least one load balancer frontend id in " + feTarget + ".",
                        feTarget);
    }
    // Other services on the same frontends / load balancers.
    {
      ASSIGN_OR_RETURN(std::vector<store::Document> services,
                       ctx.txn.listType(toLower(model::kPrivateLinkService)));
      std::map<std::string, size_t> perLb;
      for (const store::Document& s : services) {
        if (s.key == id.key()) continue;
        std::set<std::string> countedLbs;
        for (const std::string& k : frontendKeys(s.body)) {
          if (feKeys.count(k)) {
            return badRequest("LoadBalancerFrontendIpConfigurationInUseByPrivateLinkService",
                              "Frontend " + k + " is already used by private link service " +
                                  s.id +
                                  "; each frontend serves one private link service. Use another "
                                  "frontend of the load balancer.",
                              feTarget);
          }
          Result<ResourceId> feId = ResourceId::parse(k);
          if (feId.ok() && feId->parent()) countedLbs.insert(feId->parent()->key());
        }
        for (const std::string& lb : countedLbs) ++perLb[lb];
      }
      for (const std::string& lb : lbKeys) {
        if (perLb[lb] >= limits.servicesPerLoadBalancer) {
          return Status::LimitExceeded(
                     "LimitExceeded",
                     "Load balancer " + lb + " already serves " + std::to_string(perLb[lb]) +
                         " private link services, the most allowed (" +
                         std::to_string(limits.servicesPerLoadBalancer) +
                         "); use another load balancer.")
              .withTarget(feTarget);
        }
      }
    }

    // --- NAT ipConfigurations (append-only)
    RETURN_IF_ERROR(validateNatIps(ctx, id, in, existing, *providerVnet));
    ASSIGN_OR_RETURN(Json outIpConfigs, allocateNatIps(ctx, id, in, existing));

    // --- visibility, auto-approval
    ASSIGN_OR_RETURN(std::vector<std::string> visibility,
                     subscriptionList(in, "visibility", true, limits.visibilitySubscriptions));
    ASSIGN_OR_RETURN(std::vector<std::string> autoApproval,
                     subscriptionList(in, "autoApproval", false, limits.autoApprovalSubscriptions));
    const bool visibleToAll =
        std::find(visibility.begin(), visibility.end(), "*") != visibility.end();
    if (!visibleToAll) {
      for (const std::string& s : autoApproval) {
        if (std::find(visibility.begin(), visibility.end(), s) == visibility.end()) {
          return badRequest("AutoApprovalSubscriptionNotInVisibility",
                            "Subscription " + s +
                                " is in properties.autoApproval.subscriptions but not in "
                                "properties.visibility.subscriptions; auto-approval must be a "
                                "subset of visibility. Add it to visibility too.",
                            "properties.autoApproval.subscriptions");
        }
      }
    }

    // --- fqdns, proxy protocol
    Json fqdns = Json::array();
    ASSIGN_OR_RETURN(const Json* fqdnIn, net::optArray(in, "fqdns", "properties.fqdns"));
    if (fqdnIn) {
      for (const Json& f : *fqdnIn) {
        if (!f.is_string() || f.get<std::string>().empty()) {
          return badRequest("InvalidRequestFormat",
                            "properties.fqdns must be an array of non-empty host names.",
                            "properties.fqdns");
        }
        fqdns.push_back(f);
      }
    }
    ASSIGN_OR_RETURN(std::optional<bool> proxy,
                     net::optBool(in, "enableProxyProtocol", "properties.enableProxyProtocol"));

    // --- read-only: alias and the NAT network interface, stable for the service's life
    std::string alias;
    std::string nicGuid;
    if (old) {
      alias = old->value("alias", "");
      if (old->contains("networkInterfaces") && (*old)["networkInterfaces"].is_array() &&
          !(*old)["networkInterfaces"].empty()) {
        nicGuid = (*old)["networkInterfaces"][0].value("id", "");
      }
    }
    if (alias.empty()) {
      alias = id.name() + "." + newGuid() + "." + net::normalizeLocation(location) + kAliasSuffix;
    }
    Json nics = Json::array();
    if (nicGuid.empty()) {
      nicGuid = ResourceId::resourceGroup(id.subscriptionId(), id.resourceGroup())
                    .child("Microsoft.Network/networkInterfaces", id.name() + ".nic." + newGuid())
                    .toString();
    }
    nics.push_back({{"id", nicGuid}});

    Json out = Json::object();
    out["loadBalancerFrontendIpConfigurations"] = std::move(outFrontends);
    out["ipConfigurations"] = std::move(outIpConfigs);
    out["visibility"] = {{"subscriptions", stringArray(visibility)}};
    out["autoApproval"] = {{"subscriptions", stringArray(autoApproval)}};
    out["fqdns"] = std::move(fqdns);
    out["enableProxyProtocol"] = proxy.value_or(false);
    out["alias"] = alias;
    out["networkInterfaces"] = std::move(nics);

    Json result = desired;
    result.erase("id");
    result.erase("etag");
    result.erase("type");
    result["properties"] = std::move(out);
    return result;
  }

  Status validateNatIps(KindContext& ctx, const ResourceId& id, const Json& in,
                        const store::Document* existing, const ResourceId& providerVnet) {
    const std::string target = "properties.ipConfigurations";
    ASSIGN_OR_RETURN(const Json* items, net::optArray(in, "ipConfigurations", target));
    if (!items || items->empty()) {
      return badRequest("PrivateLinkServiceIpConfigurationRequired",
                        "Private link service " + id.name() +
                            " needs 1 to 8 NAT IP configurations in properties.ipConfigurations, "
                            "each with a name and properties.subnet.id (a subnet whose "
                            "privateLinkServiceNetworkPolicies is Disabled).",
                        target);
    }
    if (items->size() > pl_->limits.natIpConfigurationsPerService) {
      return Status::LimitExceeded(
                 "LimitExceeded", "Private link service " + id.name() + " has " +
                                      std::to_string(items->size()) +
                                      " NAT IP configurations; at most " +
                                      std::to_string(pl_->limits.natIpConfigurationsPerService) +
                                      " are allowed.")
          .withTarget(target);
    }
    std::set<std::string> names;
    int primaries = 0;
    for (const Json& item : *items) {
      if (!item.is_object()) {
        return badRequest("InvalidRequestFormat",
                          target + " must be an array of objects with a name and properties.",
                          target);
      }
      ASSIGN_OR_RETURN(std::optional<std::string> name,
                       net::optString(item, "name", target + ".name"));
      if (!name) {
        return badRequest("InvalidRequestFormat",
                          "Every entry of " + target + " needs a name, e.g. \"natip1\".",
                          target + ".name");
      }
      RETURN_IF_ERROR(net::validateChildName(*name, target + ".name"));
      if (!names.insert(toLower(*name)).second) {
        return badRequest("InvalidRequestFormat",
                          target + " lists '" + *name + "' twice; give each name once.",
                          target + ".name");
      }
      const Json& p = net::propertiesOf(item);
      ASSIGN_OR_RETURN(std::optional<bool> primary, net::optBool(p, "primary", target + ".primary"));
      if (primary.value_or(false)) ++primaries;
      ASSIGN_OR_RETURN(std::optional<ResourceId> subnet,
                       net::optRef(p, "subnet", target + "[" + *name + "].properties.subnet"));
      if (!subnet) {
        return badRequest("InvalidRequestFormat",
                          "NAT IP configuration " + *name + " of private link service " +
                              id.name() + " needs properties.subnet.id.",
                          target + "[" + *name + "].properties.subnet.id");
      }
      ASSIGN_OR_RETURN(store::Document subnetDoc,
                       net::requireReferenced(ctx.txn, *subnet, model::kSubnet, id));
      if (subnet->parent()->key() != providerVnet.key()) {
        return badRequest("PrivateLinkServiceIpConfigurationInDifferentVnet",
                          "NAT IP configuration " + *name + " uses subnet " + subnet->toString() +
                              ", which is not in the load balancer's virtual network " +
                              providerVnet.toString() + "; use a subnet of that network.",
                          target + "[" + *name + "].properties.subnet.id");
      }
      const std::string policy =
          net::propertiesOf(subnetDoc.body).value("privateLinkServiceNetworkPolicies", "Enabled");
      if (!iequals(policy, "Disabled")) {
        return badRequest(
            "PrivateLinkServiceNetworkPoliciesCannotBeEnabledOnPrivateLinkServiceSubnet",
            "Subnet " + subnet->toString() + " has privateLinkServiceNetworkPolicies " + policy +
                "; NAT IPs of a private link service need it Disabled. Set the subnet's "
                "properties.privateLinkServiceNetworkPolicies to Disabled (privlink vnet subnet "
                "update --disable-private-link-service-network-policies true) and retry.",
            target + "[" + *name + "].properties.subnet.id");
      }
      ASSIGN_OR_RETURN(std::string version,
                       net::enumValue(p, "privateIPAddressVersion", target + ".privateIPAddressVersion",
                                      {"IPv4", "IPv6"}, "IPv4"));
      if (version != "IPv4") {
        return badRequest("PropertyNotSupported",
                          "NAT IP configuration " + *name +
                              " asks for IPv6; privlink private link services are IPv4 only. Set "
                              "privateIPAddressVersion to IPv4.",
                          target + ".privateIPAddressVersion");
      }
    }
    if (primaries > 1) {
      return badRequest("OnlyOnePrimaryIpConfigurationAllowed",
                        "Private link service " + id.name() + " marks " +
                            std::to_string(primaries) +
                            " NAT IP configurations as primary; mark exactly one.",
                        target);
    }
    // Append-only, as Azure: existing NAT IPs stay, with their subnet, address and primary flag.
    for (const OldNatIp& o : oldNatIps(existing)) {
      const Json* now = nullptr;
      for (const Json& item : *items) {
        if (iequals(item.value("name", ""), o.name)) now = &item;
      }
      if (!now) {
        return badRequest("PrivateLinkServiceIpConfigurationCannotBeDeleted",
                          "NAT IP configuration " + o.name + " (" + o.address +
                              ") of private link service " + id.name() +
                              " cannot be removed: NAT IP configurations are append-only, as in "
                              "Azure. Keep it in properties.ipConfigurations; to drop NAT IPs, "
                              "create a new private link service.",
                          target);
      }
      const Json& p = net::propertiesOf(*now);
      Result<std::optional<ResourceId>> subnet = net::optRef(p, "subnet", "subnet");
      if (subnet.ok() && *subnet && (*subnet)->key() != o.subnetKey) {
        return badRequest("PrivateLinkServiceIpConfigurationCannotBeChanged",
                          "NAT IP configuration " + o.name + " is in subnet " + o.subnetKey +
                              " and cannot move to another subnet; add a new NAT IP "
                              "configuration instead.",
                          target);
      }
      if (p.contains("privateIPAddress") && p["privateIPAddress"].is_string() &&
          !p["privateIPAddress"].get<std::string>().empty() &&
          p["privateIPAddress"].get<std::string>() != o.address) {
        return badRequest("PrivateLinkServiceIpConfigurationCannotBeChanged",
                          "NAT IP configuration " + o.name + " has address " + o.address +
                              ", which cannot change; add a new NAT IP configuration for " +
                              p["privateIPAddress"].get<std::string>() + " instead.",
                          target);
      }
      bool nowPrimary = p.value("primary", false);
      if (p.contains("primary") && nowPrimary != o.primary) {
        return badRequest("PrivateLinkServiceIpConfigurationCannotBeChanged",
                          "The primary NAT IP configuration of private link service " + id.name() +
                              " cannot change (" + o.name + " was " +
                              (o.primary ? "primary" : "not primary") + ").",
                          target);
      }
    }
    return Status::Ok();
  }

  Result<Json> allocateNatIps(KindContext& ctx, const ResourceId& id, const Json& in,
                              const store::Document* existing) {
    const std::vector<OldNatIp> olds = oldNatIps(existing);
    const Json& items = in["ipConfigurations"];
    bool anyPrimary = false;
    for (const Json& item : items) {
      const Json& p = net::propertiesOf(item);
      if (p.value("primary", false)) anyPrimary = true;
      for (const OldNatIp& o : olds) {
        if (o.primary && iequals(o.name, item.value("name", ""))) anyPrimary = true;
      }
    }
    Json out = Json::array();
    bool first = true;
    for (const Json& item : items) {
      const std::string name = item["name"].get<std::string>();
      const Json& p = net::propertiesOf(item);
      const OldNatIp* old = nullptr;
      for (const OldNatIp& o : olds) {
        if (iequals(o.name, name)) old = &o;
      }
      const std::string itemTarget = "properties.ipConfigurations[" + name + "].properties";
      ASSIGN_OR_RETURN(std::optional<ResourceId> subnet, net::optRef(p, "subnet", itemTarget));
      ASSIGN_OR_RETURN(std::optional<std::string> addressText,
                       net::optString(p, "privateIPAddress", itemTarget + ".privateIPAddress"));
      std::string method = old ? old->method : "";
      if (method.empty()) {
        ASSIGN_OR_RETURN(method, net::enumValue(p, "privateIPAllocationMethod",
                                                itemTarget + ".privateIPAllocationMethod",
                                                {"Dynamic", "Static"},
                                                addressText ? "Static" : "Dynamic"));
      }
      std::optional<IpAddress> requested;
      if (old) {
        requested = IpAddress::parse(old->address);
      } else if (method == "Static") {
        if (!addressText) {
          return badRequest("PrivateIPAddressRequiredForStaticAllocation",
                            "NAT IP configuration " + name +
                                " uses Static allocation but gives no privateIPAddress; give the "
                                "address or use Dynamic allocation.",
                            itemTarget + ".privateIPAddress");
        }
        ASSIGN_OR_RETURN(IpAddress a, net::parseAddress(*addressText, itemTarget));
        requested = a;
      }
      const ResourceId ipcId = id.child("ipConfigurations", name);
      ASSIGN_OR_RETURN(IpAddress address,
                       ipam::allocate(ctx, *subnet, ipcId.toString(), requested));
      bool primary = old ? old->primary : (anyPrimary ? p.value("primary", false) : first);
      first = false;
      out.push_back({{"name", name},
                     {"id", ipcId.toString()},
                     {"type", kIpConfigType},
                     {"properties",
                      {{"privateIPAddress", address.toString()},
                       {"privateIPAllocationMethod", method},
                       {"privateIPAddressVersion", "IPv4"},
                       {"subnet", {{"id", subnet->toString()}}},
                       {"primary", primary}}}});
    }
    return out;
  }

  std::shared_ptr<PrivateLinkContext> pl_;
};

}  // namespace

std::unique_ptr<ResourceKind> makePrivateLinkServiceKind(std::shared_ptr<PrivateLinkContext> ctx) {
  return std::make_unique<PrivateLinkServiceKind>(std::move(ctx));
}

PrivateLinkTargetType privateLinkServiceTargetType() {
  PrivateLinkTargetType t;
  t.type = std::string(model::kPrivateLinkService);
  t.displayName = "Microsoft.Network/privateLinkServices";
  t.read = [](store::ReadView&, const store::Document& doc) -> Result<PrivateLinkTarget> {
    ASSIGN_OR_RETURN(ResourceId id, ResourceId::parse(doc.id));
    const Json& props = net::propertiesOf(doc.body);
    PrivateLinkTarget target;
    target.id = id;
    target.location = doc.body.value("location", "");
    target.visibility = storedList(props, "visibility");
    target.autoApproval = storedList(props, "autoApproval");
    auto fqdns = props.find("fqdns");
    if (fqdns != props.end() && fqdns->is_array()) {
      for (const Json& f : *fqdns) {
        if (f.is_string()) target.fqdns.push_back(f.get<std::string>());
      }
    }
    target.alias = props.value("alias", "");
    return target;
  };
  return t;
}

}  // namespace privlink::control::privatelink
