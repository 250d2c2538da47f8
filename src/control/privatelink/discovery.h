#pragma once
// Private Link discovery APIs (reference §1.7, §2.1): requests that are not plain resources, so the
// ArmRouter hands them here before its generic routing. Paths (case-insensitive, `{scope}` is
// /subscriptions/{s} or /subscriptions/{s}/resourceGroups/{rg}):
//
//   POST {scope}/providers/Microsoft.Network/locations/{loc}/checkPrivateLinkServiceVisibility
//        body {"privateLinkServiceAlias": "..."} -> 200 {"visible": bool}
//   GET  {scope}/providers/Microsoft.Network/locations/{loc}/autoApprovedPrivateLinkServices
//        -> 200 {"value": [{"privateLinkService": "<pls id>"}]}   (PLSs in {loc} whose
//           autoApproval lists subscription {s})
//   GET  {scope}/providers/Microsoft.Network/locations/{loc}/availablePrivateEndpointTypes
//        -> 200 {"value": [{id, name, type, resourceName, displayName}]}  (the registry)
//   GET  {target id}/privateLinkResources[/{groupId}]   for a target of a registered type
//        -> 200 {"value": [{id, name, type, properties: {groupId, requiredMembers,
//           requiredZoneNames}}]} (or the one item); 404 ResourceNotFound when the target or
//           group does not exist.
//
// Visibility of an alias for subscription {s}: the PLS's visibility has "*" or {s}, or its
// autoApproval has {s}, or the caller may read or approve connections on it.
// Thread-safe (reads the store through snapshots).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "control/caller.h"
#include "control/privatelink/privatelink_kinds.h"

namespace privlink::control::privatelink {

class PrivateLinkDiscovery {
 public:
  explicit PrivateLinkDiscovery(std::shared_ptr<PrivateLinkContext> pl) : pl_(std::move(pl)) {}

  // `segments`: the decoded path segments (ArmRouter::Target::segments), `method` upper case.
  // nullopt when the request is not a discovery request (route it as usual); otherwise the
  // 200 body or an error Status.
  std::optional<Result<nlohmann::json>> handle(std::string_view method,
                                               const std::vector<std::string>& segments,
                                               const nlohmann::json& body,
                                               const Caller& caller) const;

  Result<nlohmann::json> checkVisibility(const Caller& caller, std::string_view subscriptionId,
                                         std::string_view location,
                                         const nlohmann::json& body) const;
  Result<nlohmann::json> autoApprovedServices(std::string_view subscriptionId,
                                              std::string_view location) const;
  nlohmann::json availableTypes(std::string_view subscriptionId) const;
  // groupId empty: the whole list.
  Result<nlohmann::json> privateLinkResources(const ResourceId& target,
                                              std::string_view groupId) const;

 private:
  std::shared_ptr<PrivateLinkContext> pl_;
};

}  // namespace privlink::control::privatelink
