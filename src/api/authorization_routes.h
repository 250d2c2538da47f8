#pragma once
// AuthorizationRoutes: the Microsoft.Authorization surface (reference/arm-clients.md; Azure's
// "Role Assignments" and "Role Definitions" REST APIs, any api-version):
//
//   PUT    {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}
//          body {"properties": {roleDefinitionId, principalId, principalType?, description?}}
//          -> 201 (200 when an identical assignment exists) with the assignment
//   GET    {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}      -> 200 | 404
//   DELETE {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}      -> 200 body | 204
//   GET    {scope}/providers/Microsoft.Authorization/roleAssignments[?$filter=atScope() |
//          principalId eq '{id}' | assignedTo('{id}')]                           -> {"value": [...]}
//   GET    /providers/Microsoft.Authorization/roleAssignments   (tenant level: every assignment)
//   GET    [{/subscriptions/{s}[/...]}]/providers/Microsoft.Authorization/roleDefinitions
//          [?$filter=roleName eq '{name}' | type eq 'BuiltInRole']               -> {"value": [...]}
//   GET    [{scope}]/providers/Microsoft.Authorization/roleDefinitions/{guid}    -> 200 | 404
// {scope} is a subscription, resource group or resource id. The principal must exist in the
// directory: 400 PrincipalNotFound otherwise; a principalType that contradicts the directory is
// 400 UnmatchedPrincipalType. Authorization of the caller happens before (AuthorizationGate).
// Thread-safe.

#include <map>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "api/principals.h"
#include "control/authorization/role_assignments.h"
#include "control/caller.h"
#include "store/store.h"

namespace privlink::api {

class AuthorizationRoutes {
 public:
  AuthorizationRoutes(store::Store& store, PrincipalDirectory& principals);

  // True when the path's last provider section is Microsoft.Authorization/roleAssignments or
  // Microsoft.Authorization/roleDefinitions. `segments` are decoded, without empty ones.
  static bool owns(const std::vector<std::string>& segments);

  // `query` holds the decoded query parameters (keys compared case-insensitively).
  HttpResponse handle(const std::string& method, const std::vector<std::string>& segments,
                      const std::map<std::string, std::string, CaseInsensitiveLess>& query,
                      const std::string& body, const control::Caller& caller);

 private:
  HttpResponse roleAssignments(const std::string& method, const std::vector<std::string>& segs,
                               size_t providers,
                               const std::map<std::string, std::string, CaseInsensitiveLess>& query,
                               const std::string& body, const control::Caller& caller);
  HttpResponse roleDefinitions(const std::string& method, const std::vector<std::string>& segs,
                               size_t providers,
                               const std::map<std::string, std::string, CaseInsensitiveLess>& query);

  store::Store& store_;
  PrincipalDirectory& principals_;
  control::authorization::RoleAssignmentStore assignments_;
};

}  // namespace privlink::api
