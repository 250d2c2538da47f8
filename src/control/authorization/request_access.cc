#include "control/authorization/request_access.h"

#include <algorithm>

namespace privlink::control::authorization {

using nlohmann::json;
using Mode = RequiredAccess::Mode;

namespace {

constexpr std::string_view kResourceGroupsType = "Microsoft.Resources/subscriptions/resourceGroups";

std::string joinPath(const std::vector<std::string>& segs, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < segs.size(); ++i) out += "/" + segs[i];
  return out;
}

std::string verbFor(std::string_view method) {
  if (method == "PUT" || method == "PATCH" || method == "POST") return "write";
  if (method == "DELETE") return "delete";
  return "read";  // GET, HEAD, and anything the router will refuse anyway
}

RequiredAccess admin(std::string action) {
  RequiredAccess r;
  r.mode = Mode::kAdmin;
  r.action = std::move(action);
  return r;
}

RequiredAccess member(const std::string& subscription) {
  RequiredAccess r;
  r.mode = Mode::kSubscriptionMember;
  r.scope = ResourceId::subscription(subscription);
  return r;
}

std::string actionTypeOf(const ResourceId& id) {
  if (id.isResourceGroup()) return std::string(kResourceGroupsType);
  if (id.isSubscription()) return "Microsoft.Resources/subscriptions";
  return id.type();
}

// A resource path (an even number of segments after the provider namespace).
RequiredAccess resourceAccess(std::string_view method, const std::string& path,
                              const std::string& subscription) {
  auto id = ResourceId::parse(path);
  if (!id.ok()) return member(subscription);  // the router answers 400 InvalidResourceId
  RequiredAccess r;
  r.mode = Mode::kAction;
  r.action = actionTypeOf(*id) + "/" + verbFor(method);
  r.scope = *id;
  return r;
}

bool isRoleDefinitions(const std::vector<std::string>& segs, size_t p) {
  return p + 2 < segs.size() && iequals(segs[p + 1], "Microsoft.Authorization") &&
         iequals(segs[p + 2], "roleDefinitions");
}

}  // namespace

RequiredAccess requiredAccess(std::string_view method, const std::vector<std::string>& segs) {
  if (segs.empty()) return admin("*/read");
  if (segs.size() == 1 && iequals(segs[0], "tenants")) return RequiredAccess{Mode::kNone, {}, {}};
  if (iequals(segs[0], "providers")) {
    if (segs.size() >= 3 && isRoleDefinitions(segs, 0) && (method == "GET" || method == "HEAD")) {
      return RequiredAccess{Mode::kNone, {}, {}};
    }
    std::string type = joinPath(segs, 1, segs.size());
    return admin((type.empty() ? std::string("providers") : type.substr(1)) + "/" +
                 verbFor(method));
  }
  if (!iequals(segs[0], "subscriptions")) return admin(segs[0] + "/" + verbFor(method));
  if (segs.size() == 1) return RequiredAccess{Mode::kSubscriptionList, {}, {}};
  const std::string& subscription = segs[1];
  if (segs.size() == 2) return member(subscription);

  // The last "providers" segment starts the provider part, as in the router.
  size_t p = 0;
  for (size_t i = 2; i + 1 < segs.size(); ++i) {
    if (iequals(segs[i], "providers")) p = i;
  }
  if (p == 0) {
    if (!iequals(segs[2], "resourceGroups")) return member(subscription);
    if (segs.size() == 3) {
      RequiredAccess r;
      r.mode = Mode::kListFiltered;
      r.action = std::string(kResourceGroupsType) + "/read";
      r.scope = ResourceId::subscription(subscription);
      return r;
    }
    return resourceAccess(method, joinPath(segs, 0, 4), subscription);
  }

  size_t tail = segs.size() - (p + 2);
  if (tail == 0) return member(subscription);
  // Operation polling: /subscriptions/S/providers/NS/locations/L/operations|operationResults/ID
  if (p == 2 && tail == 4 && iequals(segs[4], "locations") &&
      (iequals(segs[6], "operations") || iequals(segs[6], "operationResults"))) {
    return member(subscription);
  }
  if (isRoleDefinitions(segs, p) && (method == "GET" || method == "HEAD")) {
    return RequiredAccess{Mode::kNone, {}, {}};
  }
  if (tail % 2 == 0) return resourceAccess(method, joinPath(segs, 0, segs.size()), subscription);
  // Azure Monitor metrics of a resource ({id}/providers/Microsoft.Insights/metrics): read like
  // the resource itself (control/resource_metrics.h).
  if (tail == 1 && p > 2 && iequals(segs[p + 1], "Microsoft.Insights") &&
      iequals(segs.back(), "metrics") && (method == "GET" || method == "HEAD")) {
    auto id = ResourceId::parse(joinPath(segs, 0, p));
    if (!id.ok()) return member(subscription);
    RequiredAccess r;
    r.mode = Mode::kAction;
    r.action = actionTypeOf(*id) + "/read";
    r.scope = *id;
    return r;
  }

  // An odd tail: a POST action on a resource, or a collection.
  if (method == "POST" && tail >= 3) {
    auto id = ResourceId::parse(joinPath(segs, 0, segs.size() - 1));
    if (!id.ok()) return member(subscription);
    RequiredAccess r;
    r.mode = Mode::kAction;
    r.action = actionTypeOf(*id) + "/" + segs.back() + "/action";
    r.scope = *id;
    return r;
  }
  std::string type = segs[p + 1];
  for (size_t i = p + 2; i < segs.size(); i += 2) type += "/" + segs[i];
  std::string scopePath = tail > 1 ? joinPath(segs, 0, segs.size() - 1) : joinPath(segs, 0, p);
  auto scope = ResourceId::parse(scopePath);
  if (!scope.ok()) return member(subscription);
  RequiredAccess r;
  r.mode = method == "GET" || method == "HEAD" ? Mode::kListFiltered : Mode::kAction;
  r.action = type + "/" + verbFor(method);
  r.scope = *scope;
  return r;
}

namespace {

const json* path(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

void addRef(std::vector<ReferenceCheck>& out, const json* idHolder, std::string_view action) {
  if (!idHolder || !idHolder->is_object()) return;
  auto it = idHolder->find("id");
  if (it == idHolder->end() || !it->is_string()) return;
  auto target = ResourceId::parse(it->get<std::string>());
  if (!target.ok()) return;
  ReferenceCheck check{std::string(action), *target};
  if (std::find(out.begin(), out.end(), check) == out.end()) out.push_back(std::move(check));
}

template <typename Fn>
void forEach(const json* array, Fn fn) {
  if (!array || !array->is_array()) return;
  for (const auto& item : *array) {
    if (item.is_object()) fn(item);
  }
}

constexpr std::string_view kSubnetJoin = "Microsoft.Network/virtualNetworks/subnets/join/action";
constexpr std::string_view kPoolJoin =
    "Microsoft.Network/loadBalancers/backendAddressPools/join/action";
constexpr std::string_view kFrontendJoin =
    "Microsoft.Network/loadBalancers/frontendIPConfigurations/join/action";
constexpr std::string_view kNsgJoin = "Microsoft.Network/networkSecurityGroups/join/action";
constexpr std::string_view kVnetPeer = "Microsoft.Network/virtualNetworks/peer/action";
constexpr std::string_view kVnetJoin = "Microsoft.Network/virtualNetworks/join/action";

void nicIpConfiguration(std::vector<ReferenceCheck>& out, const json& ipc) {
  addRef(out, path(ipc, {"properties", "subnet"}), kSubnetJoin);
  forEach(path(ipc, {"properties", "loadBalancerBackendAddressPools"}),
          [&](const json& pool) { addRef(out, &pool, kPoolJoin); });
}

}  // namespace

std::vector<ReferenceCheck> referencedAccess(const ResourceId& id, const json& body) {
  std::vector<ReferenceCheck> out;
  if (!body.is_object()) return out;
  std::string type = toLower(id.type());
  if (type == "microsoft.network/networkinterfaces") {
    forEach(path(body, {"properties", "ipConfigurations"}),
            [&](const json& ipc) { nicIpConfiguration(out, ipc); });
    addRef(out, path(body, {"properties", "networkSecurityGroup"}), kNsgJoin);
  } else if (type == "microsoft.network/networkinterfaces/ipconfigurations") {
    nicIpConfiguration(out, body);
  } else if (type == "microsoft.network/loadbalancers") {
    forEach(path(body, {"properties", "frontendIPConfigurations"}),
            [&](const json& f) { addRef(out, path(f, {"properties", "subnet"}), kSubnetJoin); });
  } else if (type == "microsoft.network/loadbalancers/frontendipconfigurations") {
    addRef(out, path(body, {"properties", "subnet"}), kSubnetJoin);
  } else if (type == "microsoft.network/privateendpoints") {
    addRef(out, path(body, {"properties", "subnet"}), kSubnetJoin);
  } else if (type == "microsoft.network/privatelinkservices") {
    forEach(path(body, {"properties", "ipConfigurations"}),
            [&](const json& c) { addRef(out, path(c, {"properties", "subnet"}), kSubnetJoin); });
    forEach(path(body, {"properties", "loadBalancerFrontendIpConfigurations"}),
            [&](const json& f) { addRef(out, &f, kFrontendJoin); });
  } else if (type == "microsoft.network/virtualnetworks/virtualnetworkpeerings") {
    addRef(out, path(body, {"properties", "remoteVirtualNetwork"}), kVnetPeer);
  } else if (type == "microsoft.network/virtualnetworks") {
    forEach(path(body, {"properties", "virtualNetworkPeerings"}), [&](const json& peering) {
      addRef(out, path(peering, {"properties", "remoteVirtualNetwork"}), kVnetPeer);
    });
  } else if (type == "microsoft.network/privatednszones/virtualnetworklinks") {
    addRef(out, path(body, {"properties", "virtualNetwork"}), kVnetJoin);
  }
  return out;
}

}  // namespace privlink::control::authorization
