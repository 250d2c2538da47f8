#pragma once
// Frontend: the handler behind HttpsServer. For every request it
//  1. collapses runs of '/' in the path (az sends //metadata/endpoints),
//  2. answers the token issuer and cloud metadata (TokenIssuer::ownsPath) without a token,
//  3. authenticates everything else (Authenticator) and hands it, with the Caller, to the ARM
//     handler (ArmRouter::handle in production), or answers 401 with WWW-Authenticate; paths
//     under /graph/ need a Graph token and go to GraphRoutes (when a directory was given;
//     404 otherwise),
//  4. adds x-ms-request-id and x-ms-correlation-request-id (echoing the client's correlation id)
//     to every response that lacks them.
// Thread-safe if the ARM handler is.

#include <functional>
#include <memory>

#include "api/authenticator.h"
#include "api/graph_routes.h"
#include "api/http_types.h"
#include "api/token_issuer.h"
#include "control/caller.h"

namespace privlink::api {

using ArmHandler = std::function<HttpResponse(const HttpRequest&, const control::Caller&)>;

class Frontend {
 public:
  Frontend(TokenIssuer& issuer, Authenticator& authenticator, ArmHandler arm,
           PrincipalDirectory* directory = nullptr);

  HttpResponse handle(const HttpRequest& request) const;

 private:
  TokenIssuer& issuer_;
  Authenticator& authenticator_;
  ArmHandler arm_;
  std::unique_ptr<GraphRoutes> graph_;  // null: no Graph surface
};

}  // namespace privlink::api
