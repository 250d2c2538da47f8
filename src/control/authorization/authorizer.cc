#include "control/authorization/authorizer.h"

#include "control/authorization/role_assignments.h"

namespace privlink::control::authorization {

Status authorizationFailed(const Caller& caller, std::string_view action, std::string_view scope) {
  return Status::PermissionDenied(
      "AuthorizationFailed",
      "The client '" + caller.displayName + "' with object id '" + caller.principalId +
          "' does not have authorization to perform action '" + std::string(action) +
          "' over scope '" + std::string(scope) +
          "' or the scope is invalid. If access was recently granted, please refresh your "
          "credentials.");
}

bool Access::allows(std::string_view action, const ResourceId& scope) const {
  if (caller_.isAdmin) return true;
  std::string target = scope.key();
  for (const auto& [scopeKey, role] : grants_) {
    if (scopeCovers(scopeKey, target) && role->permits(action)) return true;
  }
  return false;
}

Status Access::check(std::string_view action, const ResourceId& scope) const {
  if (allows(action, scope)) return Status::Ok();
  return authorizationFailed(caller_, action, scope.toString());
}

bool Access::holdsAnyRoleIn(std::string_view subscriptionId) const {
  if (caller_.isAdmin) return true;
  std::string subKey = ResourceId::subscription(subscriptionId).key();
  for (const auto& [scopeKey, role] : grants_) {
    if (scopeCovers(subKey, scopeKey)) return true;
  }
  return false;
}

bool Access::holdsAnyRoleBelow(std::string_view action, const ResourceId& scope) const {
  if (caller_.isAdmin) return true;
  std::string key = scope.key();
  for (const auto& [scopeKey, role] : grants_) {
    if (scopeKey != key && scopeCovers(key, scopeKey) && role->permits(action)) return true;
  }
  return false;
}

Result<Access> Authorizer::accessFor(store::ReadView& view, const Caller& caller) const {
  std::vector<std::pair<std::string, const RoleDefinition*>> grants;
  if (!caller.isAdmin) {
    ASSIGN_OR_RETURN(std::vector<RoleAssignment> mine, assignmentsOf(view, caller.principalId));
    for (const auto& a : mine) {
      const RoleDefinition* role = findRoleById(a.roleGuid);
      if (!role) continue;
      auto scope = ResourceId::parse(a.scope);
      if (!scope.ok()) continue;
      grants.emplace_back(scope->key(), role);
    }
  }
  return Access(caller, std::move(grants));
}

Result<Access> Authorizer::accessFor(const Caller& caller) const {
  std::optional<Access> out;
  Status st = store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(Access access, accessFor(view, caller));
    out.emplace(std::move(access));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return std::move(*out);
}

Status Authorizer::check(const Caller& caller, std::string_view action,
                         const ResourceId& scope) const {
  ASSIGN_OR_RETURN(Access access, accessFor(caller));
  return access.check(action, scope);
}

Status Authorizer::check(store::ReadView& view, const Caller& caller, std::string_view action,
                         const ResourceId& scope) const {
  ASSIGN_OR_RETURN(Access access, accessFor(view, caller));
  return access.check(action, scope);
}

}  // namespace privlink::control::authorization
