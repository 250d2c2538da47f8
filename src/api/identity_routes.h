#pragma once
// IdentityRoutes: the tenant-level management surface for the directory and subscriptions. Only
// the admin principal may call it (AuthorizationGate enforces that: these are tenant-level
// operations, like Azure's directory roles).
//
// Why a privlink provider rather than a Graph look-alike: az 2.45 and the SDKs only manage
// service principals through Microsoft Graph's full application/servicePrincipal/password object
// model, which privlink does not have; a small ARM-shaped provider keeps one error format, one
// authentication path and the same `privlink` client code as every other resource.
//
//   GET    /providers/Microsoft.Privlink/principals                   {"value": [principal...]}
//   POST   /providers/Microsoft.Privlink/principals
//          {"kind": "ServicePrincipal", "displayName": "ci"}           -> 201 principal + "secret"
//          {"kind": "User", "userPrincipalName": "alice@privlink.local", "displayName"?,
//           "password"?}                                               -> 201 principal + "password"
//          (a secret or password is generated when not given and is shown only in this response)
//   GET    /providers/Microsoft.Privlink/principals/{ref}             principal | 404
//   DELETE /providers/Microsoft.Privlink/principals/{ref}             200 principal + removed
//          role assignment count | 404; the admin cannot be deleted (409 CannotDeleteAdmin)
//   POST   /providers/Microsoft.Privlink/principals/{ref}/resetSecret [{"password"?}]
//          -> 200 {objectId, appId, userPrincipalName, secret|password}; old secret stops working
//   PUT    /providers/Microsoft.Subscription/aliases/{alias}
//          {"properties": {"displayName"?, "workload"?, "subscriptionId"?}}
//          -> 201 {id, name, type, properties: {subscriptionId, provisioningState}} (200 if the
//          alias exists: aliases make subscription creation idempotent, as in Azure)
//   GET    /providers/Microsoft.Subscription/aliases/{alias}          200 | 404
// {ref} is an object id, an app (client) id, a user principal name or a unique display name.
// A principal is rendered as {objectId, appId?, displayName, principalType: "ServicePrincipal" |
// "User", userPrincipalName?, tenantId, isAdmin}; secrets are stored only as hashes
// (principals.h). Thread-safe.

#include <map>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "api/principals.h"
#include "control/caller.h"
#include "store/store.h"

namespace privlink::api {

inline constexpr std::string_view kSubscriptionAliasType = "privlink/subscriptionalias";

class IdentityRoutes {
 public:
  IdentityRoutes(store::Store& store, PrincipalDirectory& principals);

  // /providers/Microsoft.Privlink/principals... and /providers/Microsoft.Subscription/aliases...
  static bool owns(const std::vector<std::string>& segments);

  HttpResponse handle(const std::string& method, const std::vector<std::string>& segments,
                      const std::string& body, const control::Caller& caller);

 private:
  HttpResponse principals(const std::string& method, const std::vector<std::string>& segs,
                          const std::string& body, const control::Caller& caller);
  HttpResponse aliases(const std::string& method, const std::vector<std::string>& segs,
                       const std::string& body, const control::Caller& caller);
  Result<Principal> resolve(const std::string& ref);

  store::Store& store_;
  PrincipalDirectory& directory_;
};

}  // namespace privlink::api
