#pragma once
// PrivateLinkTargetRegistry: the resource types a private endpoint may connect to (DESIGN.md §1,
// reference §1.6-1.7). Microsoft.Network/privateLinkServices is registered by
// registerPrivateLinkKinds(); platform ("PaaS") types such as Microsoft.Sql/servers add
// themselves with add() at start-up, together with a connection kind for their
// `{target}/privateEndpointConnections` collection (makePrivateEndpointConnectionKind in
// privatelink_kinds.h), and then share the whole approval workflow:
//
//   - a private endpoint names the target by resource id (any registered type) or, for types with
//     aliases (PLS), by alias;
//   - groupIds are validated against `groups` (a type without groups accepts none);
//   - auto-approval: the caller holds approvalAction() on the target, or the consumer
//     subscription is in the instance's autoApproval list;
//   - visibility (manual requests): "*" or the consumer subscription in the instance's visibility
//     list, or the caller may read the target (`<type>/read`) or approve (above);
//   - the connection record lives at `{target}/privateEndpointConnections/{name}`
//     (connection_record.h) and customDnsConfigs come from the instance's fqdns.
//
// Thread-safety: fill the registry before the server handles requests; afterwards it is only read
// (const methods), from any thread.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"
#include "common/status.h"
#include "store/store.h"

namespace privlink::control::privatelink {

// One private-link sub-resource (ARM "privateLinkResources" item).
struct PrivateLinkGroup {
  std::string groupId;                         // "sqlServer"
  std::vector<std::string> requiredMembers;    // ["sqlServer"]
  std::vector<std::string> requiredZoneNames;  // ["privatelink.database.windows.net"]
};

// What the workflow needs to know about one target instance, read from its stored document.
struct PrivateLinkTarget {
  ResourceId id;                   // with the stored casing
  std::string location;
  std::vector<std::string> visibility;    // subscription ids; "*" = anyone with the alias/id
  std::vector<std::string> autoApproval;  // subscription ids
  std::vector<std::string> fqdns;         // customDnsConfigs of endpoints to it
  std::string alias;                      // empty when the type has no aliases
};

struct PrivateLinkTargetType {
  std::string type;         // canonical, e.g. "Microsoft.Sql/servers"
  std::string displayName;  // for availablePrivateEndpointTypes, e.g. "Microsoft.Sql/servers"
  std::vector<PrivateLinkGroup> groups;  // empty: the endpoint gives no groupIds (PLS)
  // Reads an instance. Called inside the endpoint's transaction with the target's document.
  std::function<Result<PrivateLinkTarget>(store::ReadView&, const store::Document&)> read;

  // "<type>/privateEndpointConnectionsApproval/action"
  std::string approvalAction() const;
  // "<type>/privateEndpointConnections"
  std::string connectionType() const;
};

class PrivateLinkTargetRegistry {
 public:
  // Replaces a type registered under the same name (compared case-insensitively).
  void add(PrivateLinkTargetType type);
  const PrivateLinkTargetType* find(std::string_view type) const;
  const std::vector<PrivateLinkTargetType>& all() const { return types_; }

 private:
  std::vector<PrivateLinkTargetType> types_;
};

// Action strings of Microsoft.Network/privateLinkServices.
inline constexpr std::string_view kPlsApprovalAction =
    "Microsoft.Network/privateLinkServices/privateEndpointConnectionsApproval/action";
inline constexpr std::string_view kPlsConnectionType =
    "Microsoft.Network/privateLinkServices/privateEndpointConnections";

}  // namespace privlink::control::privatelink
