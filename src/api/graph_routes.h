#pragma once
// GraphRoutes: the read-only subset of Microsoft Graph that Azure clients call to turn a name
// into a directory object, served at BASE/graph/ (the microsoftGraphResourceId privlinkd
// advertises; tokens for it have aud BASE/graph/, see IdentityConfig::graphAudience).
//
// Why: `az role assignment create --assignee <appId|upn|objectId>`, `list` and `delete` resolve
// principals through Graph (reference/arm-clients.md); without these routes they fail before
// sending anything to ARM. Writing the directory stays on the ARM-shaped
// /providers/Microsoft.Privlink/principals (identity_routes.h).
//
//   GET  /graph/{v1.0|beta}/servicePrincipals[?$filter=F]    {"@odata.context", "value": [sp...]}
//   GET  /graph/{v1.0|beta}/servicePrincipals/{objectId}     sp | 404
//   GET  /graph/{v1.0|beta}/users[?$filter=F]                {"value": [user...]}
//   GET  /graph/{v1.0|beta}/users/{objectId|upn}             user | 404
//   GET  /graph/{v1.0|beta}/groups[?$filter=F]               {"value": []}: privlink has no groups
//   GET  /graph/{v1.0|beta}/me                               the calling user | 404 for apps
//   POST /graph/{v1.0|beta}/directoryObjects/getByIds {"ids": [...], "types"?: [...]}
// F is one of: servicePrincipalNames/any(c:c eq 'X'), appId eq 'X', displayName eq 'X',
// userPrincipalName eq 'X', id eq 'X' (case-insensitive values, as Graph compares them);
// anything else is 400 Request_UnsupportedQuery. Objects:
//   sp   {"@odata.type": "#microsoft.graph.servicePrincipal", id, appId, displayName,
//         servicePrincipalNames: [appId], servicePrincipalType: "Application", accountEnabled,
//         appOwnerOrganizationId}
//   user {"@odata.type": "#microsoft.graph.user", id, displayName, userPrincipalName, mail: null,
//         accountEnabled}
// Any authenticated principal of the tenant may read it (Azure's default for member users and
// for apps with Directory.Read). Only principals of the caller's tenant are visible.
// Errors use Graph's shape {"error": {"code", "message"}}. Thread-safe.

#include <string>

#include "api/http_types.h"
#include "api/principals.h"
#include "control/caller.h"

namespace privlink::api {

class GraphRoutes {
 public:
  GraphRoutes(std::string baseUrl, PrincipalDirectory& principals)
      : baseUrl_(std::move(baseUrl)), principals_(principals) {}

  // True for paths under /graph/ (slashes already collapsed).
  static bool ownsPath(std::string_view path);

  HttpResponse handle(const HttpRequest& request, const control::Caller& caller);

 private:
  std::string baseUrl_;
  PrincipalDirectory& principals_;
};

}  // namespace privlink::api
