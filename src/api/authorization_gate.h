#pragma once
// AuthorizationGate: Azure RBAC in front of the ARM surface (DESIGN.md §4). It wraps the ARM
// handler the Frontend calls for authenticated requests:
//
//   Frontend -> AuthorizationGate::handle -> {AuthorizationRoutes | IdentityRoutes | next (ArmRouter)}
//
// For every request it
//  1. decodes the path as the router does (a path it cannot decode is refused with 400
//     InvalidRequestUri here, so nothing reaches the router unchecked),
//  2. maps method + path to the required access (control/authorization/request_access.h) and
//     checks it against the caller's role assignments (one store read per request),
//  3. for PUT, also checks the join/peer permissions on the resources the body references
//     (referencedAccess), so a denied request changes nothing,
//  4. routes Microsoft.Authorization and the tenant-level directory/subscription paths to their
//     handlers and everything else to `next`,
//  5. filters list responses: GET /subscriptions shows only subscriptions where the caller holds
//     a role; a collection the caller cannot read as a whole (but holds some role below) shows
//     only the items it may read.
// Denials are 403 {"error":{"code":"AuthorizationFailed","message":...}} (authorizer.h).
// Thread-safe if `next` is.

#include <functional>

#include "api/authorization_routes.h"
#include "api/http_types.h"
#include "api/identity_routes.h"
#include "control/authorization/authorizer.h"
#include "control/caller.h"

namespace privlink::api {

class AuthorizationGate {
 public:
  using Next = std::function<HttpResponse(const HttpRequest&, const control::Caller&)>;

  AuthorizationGate(const control::authorization::Authorizer& authorizer,
                    AuthorizationRoutes& authorization, IdentityRoutes& identity, Next next);

  HttpResponse handle(const HttpRequest& request, const control::Caller& caller) const;

 private:
  const control::authorization::Authorizer& authorizer_;
  AuthorizationRoutes& authorization_;
  IdentityRoutes& identity_;
  Next next_;
};

}  // namespace privlink::api
