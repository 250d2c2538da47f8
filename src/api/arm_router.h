#pragma once
// ArmRouter: the ARM surface for authenticated requests (DESIGN.md §4; reference/arm-clients.md).
// Maps method + path onto control::ResourceService: case-insensitive paths, `//` collapsed,
// api-version required, the resource envelope, ARM error bodies with the right HTTP status
// (api/arm_error.h), long-running operations (201/200 + Azure-AsyncOperation + Retry-After;
// DELETE 202 + Location; operation status polling), If-Match / If-None-Match, list paging with
// an absolute nextLink, PATCH for tags, subscriptions and tenants.
// Thread-safe; handle() is a pure function of its inputs plus the store.

#include <string>

#include "api/http_types.h"
#include "control/caller.h"
#include "control/resource_service.h"

namespace privlink::api {

struct ArmRouterOptions {
  std::string baseUrl;        // "https://localhost:8443", no trailing slash; all absolute URLs use it
  int retryAfterSeconds = 1;  // Retry-After on long-running operations
  size_t pageSize = 100;      // list page size unless $top says less
};

class ArmRouter {
 public:
  ArmRouter(control::ResourceService& service, ArmRouterOptions options);
  // `request.target` is the raw path+query. The caller was authenticated by the frontend.
  HttpResponse handle(const HttpRequest& request, const control::Caller& caller);

 private:
  control::ResourceService& service_;
  ArmRouterOptions options_;
};

}  // namespace privlink::api
