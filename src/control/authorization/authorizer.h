#pragma once
// Authorizer: Azure RBAC decisions for one caller (DESIGN.md §4).
//
// A caller may perform `action` at `scope` when some role assignment of the caller at `scope` or
// at one of its ancestors (subscription > resource group > resource > child resource) names a
// role that permits the action (role_definitions.h). The bootstrap admin principal
// (Caller::isAdmin) is treated as Owner at the root scope "/": it may do everything in every
// subscription, including subscriptions created later, and cannot lock itself out.
//
// Denials are PermissionDenied statuses with code AuthorizationFailed and Azure's message:
//   The client '<name>' with object id '<oid>' does not have authorization to perform action
//   '<action>' over scope '<scope>' or the scope is invalid. If access was recently granted,
//   please refresh your credentials.
// Store failures deny (fail closed) with the store's status.
// Thread-safe; an Access is an immutable snapshot of one caller's assignments.

#include <string>
#include <string_view>
#include <vector>

#include "common/resource_id.h"
#include "common/status.h"
#include "control/authorization/role_definitions.h"
#include "control/caller.h"
#include "store/store.h"

namespace privlink::control::authorization {

// The AuthorizationFailed status above; `scope` is printed as given.
Status authorizationFailed(const Caller& caller, std::string_view action, std::string_view scope);

class Access {
 public:
  Access(Caller caller, std::vector<std::pair<std::string, const RoleDefinition*>> grants)
      : caller_(std::move(caller)), grants_(std::move(grants)) {}

  bool allows(std::string_view action, const ResourceId& scope) const;
  // Ok or AuthorizationFailed naming scope.toString().
  Status check(std::string_view action, const ResourceId& scope) const;
  // True when the caller holds any role at the subscription or anywhere below it (this is what
  // makes a subscription visible in GET /subscriptions).
  bool holdsAnyRoleIn(std::string_view subscriptionId) const;
  // True when some assignment strictly below `scope` permits `action` (a list at `scope` then
  // shows the items the caller may read instead of failing).
  bool holdsAnyRoleBelow(std::string_view action, const ResourceId& scope) const;
  const Caller& caller() const { return caller_; }

 private:
  Caller caller_;
  // (scope key, role) for each of the caller's assignments.
  std::vector<std::pair<std::string, const RoleDefinition*>> grants_;
};

class Authorizer {
 public:
  explicit Authorizer(store::Store& store) : store_(store) {}

  // One store read: the caller's assignments. Assignments naming unknown roles grant nothing.
  Result<Access> accessFor(const Caller& caller) const;
  // The same from inside a transaction (for kinds, through KindContext).
  Result<Access> accessFor(store::ReadView& view, const Caller& caller) const;

  // accessFor(caller) + Access::check.
  Status check(const Caller& caller, std::string_view action, const ResourceId& scope) const;
  Status check(store::ReadView& view, const Caller& caller, std::string_view action,
               const ResourceId& scope) const;

 private:
  store::Store& store_;
};

}  // namespace privlink::control::authorization
