#include "control/privatelink/discovery.h"

#include "control/network/network_common.h"
#include "model/resource_types.h"

namespace privlink::control::privatelink {
namespace {

using Json = nlohmann::json;

bool listed(const Json& props, const char* key, std::string_view value) {
  auto it = props.find(key);
  if (it == props.end() || !it->is_object()) return false;
  auto subs = it->find("subscriptions");
  if (subs == it->end() || !subs->is_array()) return false;
  for (const Json& s : *subs) {
    if (s.is_string() && iequals(s.get<std::string>(), value)) return true;
  }
  return false;
}

// The discovery shape of a location path: index of "locations" after
// providers/Microsoft.Network, or npos.
size_t locationsIndex(const std::vector<std::string>& s) {
  if (s.size() < 6 || !iequals(s[0], "subscriptions")) return std::string::npos;
  size_t i = 2;
  if (iequals(s[i], "resourceGroups")) i += 2;
  if (s.size() != i + 5) return std::string::npos;
  if (!iequals(s[i], "providers") || !iequals(s[i + 1], "Microsoft.Network") ||
      !iequals(s[i + 2], "locations")) {
    return std::string::npos;
  }
  return i + 2;
}

}  // namespace

std::optional<Result<Json>> PrivateLinkDiscovery::handle(std::string_view method,
                                                         const std::vector<std::string>& segments,
                                                         const Json& body,
                                                         const Caller& caller) const {
  size_t loc = locationsIndex(segments);
  if (loc != std::string::npos) {
    const std::string& sub = segments[1];
    const std::string& location = segments[loc + 1];
    const std::string& verb = segments[loc + 2];
    if (method == "POST" && iequals(verb, "checkPrivateLinkServiceVisibility")) {
      return checkVisibility(caller, sub, location, body);
    }
    if (method == "GET" && iequals(verb, "autoApprovedPrivateLinkServices")) {
      return autoApprovedServices(sub, location);
    }
    if (method == "GET" && iequals(verb, "availablePrivateEndpointTypes")) {
      return Result<Json>(availableTypes(sub));
    }
    return std::nullopt;
  }
  // {target}/privateLinkResources[/{groupId}]
  if (method != "GET" || segments.size() < 8) return std::nullopt;
  size_t plr = std::string::npos;
  for (size_t i = segments.size() >= 2 ? segments.size() - 2 : 0; i < segments.size(); ++i) {
    if (iequals(segments[i], "privateLinkResources")) plr = i;
  }
  if (plr == std::string::npos) return std::nullopt;
  std::string path;
  for (size_t i = 0; i < plr; ++i) path += "/" + segments[i];
  Result<ResourceId> target = ResourceId::parse(path);
  if (!target.ok() || !pl_->registry.find(target->type())) return std::nullopt;
  const std::string group = plr + 1 < segments.size() ? segments[plr + 1] : std::string();
  return privateLinkResources(*target, group);
}

Result<Json> PrivateLinkDiscovery::checkVisibility(const Caller& caller,
                                                   std::string_view subscriptionId,
                                                   std::string_view location,
                                                   const Json& body) const {
  (void)location;  // an alias names one service wherever it is; the consumer's location is moot
  if (!body.is_object() || !body.contains("privateLinkServiceAlias") ||
      !body["privateLinkServiceAlias"].is_string()) {
    return Status::InvalidArgument("InvalidRequestFormat",
                                   "Give the alias to check: {\"privateLinkServiceAlias\": "
                                   "\"<name>.<guid>.<region>.azure.privatelinkservice\"}.")
        .withTarget("privateLinkServiceAlias");
  }
  const std::string alias = body["privateLinkServiceAlias"].get<std::string>();
  bool visible = false;
  Status st = pl_->service.store().read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::vector<store::Document> services,
                     view.listType(toLower(model::kPrivateLinkService)));
    for (const store::Document& s : services) {
      const Json& props = net::propertiesOf(s.body);
      if (!iequals(props.value("alias", ""), alias)) continue;
      if (listed(props, "visibility", "*") || listed(props, "visibility", subscriptionId) ||
          listed(props, "autoApproval", subscriptionId)) {
        visible = true;
        break;
      }
      ASSIGN_OR_RETURN(authorization::Access access, pl_->authorizer.accessFor(view, caller));
      ASSIGN_OR_RETURN(ResourceId id, ResourceId::parse(s.id));
      std::string readAction = std::string(model::kPrivateLinkService) + "/read";
      visible = access.allows(readAction, id) || access.allows(kPlsApprovalAction, id);
      break;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return Json{{"visible", visible}};
}

Result<Json> PrivateLinkDiscovery::autoApprovedServices(std::string_view subscriptionId,
                                                        std::string_view location) const {
  Json value = Json::array();
  Status st = pl_->service.store().read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::vector<store::Document> services,
                     view.listType(toLower(model::kPrivateLinkService)));
    for (const store::Document& s : services) {
      if (net::normalizeLocation(s.body.value("location", "")) !=
          net::normalizeLocation(location)) {
        continue;
      }
      if (listed(net::propertiesOf(s.body), "autoApproval", subscriptionId)) {
        value.push_back({{"privateLinkService", s.id}});
      }
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return Json{{"value", std::move(value)}};
}

Json PrivateLinkDiscovery::availableTypes(std::string_view subscriptionId) const {
  Json value = Json::array();
  for (const PrivateLinkTargetType& t : pl_->registry.all()) {
    std::string dotted = t.type;
    for (char& c : dotted) {
      if (c == '/') c = '.';
    }
    value.push_back({{"id", "/subscriptions/" + std::string(subscriptionId) +
                                "/providers/Microsoft.Network/availablePrivateEndpointTypes/" +
                                dotted},
                     {"name", dotted},
                     {"type", "Microsoft.Network/availablePrivateEndpointTypes"},
                     {"resourceName", t.type},
                     {"displayName", t.displayName.empty() ? t.type : t.displayName}});
  }
  return Json{{"value", std::move(value)}};
}

Result<Json> PrivateLinkDiscovery::privateLinkResources(const ResourceId& target,
                                                        std::string_view groupId) const {
  const PrivateLinkTargetType* type = pl_->registry.find(target.type());
  if (!type) {
    return Status::InvalidArgument("InvalidResourceType",
                                   target.type() + " is not a private link target type.");
  }
  bool exists = false;
  Status st = pl_->service.store().read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(target.key()));
    exists = doc.has_value();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!exists) {
    return Status::NotFound("ResourceNotFound",
                            "The Resource '" + target.type() + "/" + target.name() +
                                "' under resource group '" + target.resourceGroup() +
                                "' was not found.");
  }
  Json value = Json::array();
  for (const PrivateLinkGroup& g : type->groups) {
    if (!groupId.empty() && !iequals(g.groupId, groupId)) continue;
    Json members = Json::array();
    for (const std::string& m : g.requiredMembers) members.push_back(m);
    Json zones = Json::array();
    for (const std::string& z : g.requiredZoneNames) zones.push_back(z);
    Json item = {{"id", target.child("privateLinkResources", g.groupId).toString()},
                 {"name", g.groupId},
                 {"type", type->type + "/privateLinkResources"},
                 {"properties",
                  {{"groupId", g.groupId},
                   {"requiredMembers", std::move(members)},
                   {"requiredZoneNames", std::move(zones)}}}};
    if (!groupId.empty()) return item;
    value.push_back(std::move(item));
  }
  if (!groupId.empty()) {
    return Status::NotFound("ResourceNotFound",
                            target.toString() + " has no private link resource '" +
                                std::string(groupId) + "'.");
  }
  return Json{{"value", std::move(value)}};
}

}  // namespace privlink::control::privatelink
