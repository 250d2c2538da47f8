#pragma once
// Role assignments (Microsoft.Authorization/roleAssignments), an extension resource at
// subscription, resource-group or resource scope:
//   {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}
// Each is a store document keyed by that id (type kRoleAssignmentType), so it lives under its
// scope's key prefix and is deleted together with its scope (a resource group's or a resource's
// documents go with it). Body:
//   {"properties": {roleDefinitionId, principalId, principalType, scope, createdOn, updatedOn,
//                   createdBy, updatedBy, description?}}
// with principalId lower-cased. Only built-in role definitions (role_definitions.h) may be
// assigned. RoleAssignmentStore is thread-safe (the Store is).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"
#include "common/status.h"
#include "store/store.h"

namespace privlink::control::authorization {

inline constexpr std::string_view kRoleAssignmentType = "microsoft.authorization/roleassignments";

struct RoleAssignment {
  std::string id;                // full ARM id, with the caller's casing
  std::string name;              // the assignment GUID
  std::string scope;             // e.g. "/subscriptions/S/resourceGroups/rg"
  std::string roleDefinitionId;  // "/subscriptions/S/providers/Microsoft.Authorization/roleDefinitions/G"
  std::string roleGuid;          // G, lower case
  std::string principalId;       // lower case
  std::string principalType;     // "ServicePrincipal" | "User"
  std::string description;
  std::string createdOn;
  std::string updatedOn;
  std::string createdBy;

  // The ARM body: {id, name, type: "Microsoft.Authorization/roleAssignments", properties}.
  nlohmann::json render() const;
  static Result<RoleAssignment> fromDocument(const store::Document& doc);
};

// "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}" split at its LAST
// Microsoft.Authorization provider section. Fails with 400 InvalidResourceId when the scope is not
// a subscription, resource group or resource id, and 400 InvalidRoleAssignmentId when the name is
// not a GUID.
struct RoleAssignmentPath {
  ResourceId scope;
  std::string name;
  std::string id() const;
};
Result<RoleAssignmentPath> parseRoleAssignmentId(std::string_view id);

// True when `scopeKey` is `targetKey` or one of its ancestors (segment-wise on store keys, i.e.
// lower case); this is how assignments inherit downwards.
bool scopeCovers(std::string_view scopeKey, std::string_view targetKey);

struct RoleAssignmentFilter {
  bool atScope = false;                    // atScope(): only at the scope or above it
  std::optional<std::string> principalId;  // principalId eq '...' / assignedTo('...')
  std::optional<std::string> roleGuid;     // roleDefinitionId eq '...' (privlink extension)
};
// Parses ARM's $filter for role assignment lists: "atScope()", "principalId eq '{id}'",
// "assignedTo('{id}')" and "roleDefinitionId eq '{id}'", joined by " and " (case-insensitive).
// Anything else fails with 400 InvalidFilterInQueryString (naming the supported forms).
Result<RoleAssignmentFilter> parseRoleAssignmentFilter(std::string_view filter);

struct NewRoleAssignment {
  RoleAssignmentPath path;
  std::string roleDefinitionId;  // any form roleGuidOf() accepts
  std::string principalId;
  std::string principalType;     // resolved by the caller from the directory (required)
  std::string description;
  std::string createdBy;         // object id of the caller
};

class RoleAssignmentStore {
 public:
  explicit RoleAssignmentStore(store::Store& store) : store_(store) {}

  // Creates the assignment. Errors (Azure's codes):
  //   400 RoleDefinitionDoesNotExist   the role is not a built-in role
  //   404 SubscriptionNotFound / ResourceGroupNotFound / ResourceNotFound   the scope is missing
  //   409 RoleAssignmentExists         the same principal already has that role at that scope
  //   409 RoleAssignmentUpdateNotPermitted   the name exists with another role/principal
  // Re-sending an identical assignment returns it with created = false.
  struct Created {
    RoleAssignment assignment;
    bool created = false;
  };
  Result<Created> create(const NewRoleAssignment& request);
  // 404 RoleAssignmentNotFound when absent.
  Result<RoleAssignment> get(const RoleAssignmentPath& path);
  // The removed assignment, or nullopt when there was none.
  Result<std::optional<RoleAssignment>> remove(const RoleAssignmentPath& path);
  // Assignments that apply at `scope` (at it or above it) and, unless filter.atScope, also those
  // below it; narrowed by the filter. Sorted by id key.
  Result<std::vector<RoleAssignment>> list(const ResourceId& scope,
                                           const RoleAssignmentFilter& filter);
  // Every assignment of one principal (any scope).
  Result<std::vector<RoleAssignment>> forPrincipal(std::string_view principalId);
  // Every assignment in the store (tenant-level listing for the admin).
  Result<std::vector<RoleAssignment>> all();
  // Deletes every assignment of a principal (when the principal is deleted); returns how many.
  Result<size_t> removeForPrincipal(store::Transaction& txn, std::string_view principalId);

 private:
  store::Store& store_;
};

// Reads every assignment of `principalId` through a view (for Authorizer and transactions).
Result<std::vector<RoleAssignment>> assignmentsOf(store::ReadView& view,
                                                  std::string_view principalId);

}  // namespace privlink::control::authorization
