#pragma once
// ArmRouter: the ARM surface for authenticated requests (DESIGN.md §4; reference/arm-clients.md).
// Maps method + path onto control::ResourceService: case-insensitive paths, `//` collapsed,
// api-version required, the resource envelope, ARM error bodies with the right HTTP status
// (api/arm_error.h), long-running operations (201/200 + Azure-AsyncOperation + Retry-After;
// DELETE 202 + Location; operation status polling), If-Match / If-None-Match, list paging with
// an absolute nextLink, PATCH for tags, subscriptions and tenants.
//
// Requests that are not plain resources, answered before the generic routing (after the
// api-version check):
// - Private Link discovery (control/privatelink/discovery.h: checkPrivateLinkServiceVisibility,
//   autoApprovedPrivateLinkServices, availablePrivateEndpointTypes, {target}/privateLinkResources)
//   when ArmRouterOptions::privateLink is set (privlinkd sets it);
// - Azure Monitor metrics of private endpoints and private link services:
//   GET {id}/providers/Microsoft.Insights/metrics (control/resource_metrics.h), always;
// - Private DNS record-set views (control/privatedns/record_set_views.h: {zone}/ALL, and the
//   auto-registered NIC records in {zone}/A lists and GETs), always.
// A PUT of Microsoft.Network/privateLinkServices/{pls}/privateEndpointConnections/{name} (the
// provider's approve/reject) is synchronous in Azure's spec: 200 with the connection and no
// Azure-AsyncOperation header.
// Thread-safe; handle() is a pure function of its inputs plus the store.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "control/caller.h"
#include "control/privatedns/record_set_views.h"
#include "control/privatelink/discovery.h"
#include "control/resource_metrics.h"
#include "control/resource_service.h"

namespace privlink::api {

struct ArmRouterOptions {
  std::string baseUrl;        // "https://localhost:8443", no trailing slash; all absolute URLs use it
  int retryAfterSeconds = 1;  // Retry-After on long-running operations
  size_t pageSize = 100;      // list page size unless $top says less
  // Private Link discovery APIs; null: those paths are routed as resources (and mostly 404).
  std::shared_ptr<control::privatelink::PrivateLinkDiscovery> privateLink;
};

class ArmRouter {
 public:
  ArmRouter(control::ResourceService& service, ArmRouterOptions options);
  // `request.target` is the raw path+query. The caller was authenticated by the frontend.
  // Every response carries x-ms-request-id, x-ms-correlation-request-id (the client's
  // x-ms-correlation-request-id, else its x-ms-client-request-id, else a new GUID), the echoed
  // x-ms-client-request-id, and Content-Type: application/json; charset=utf-8.
  HttpResponse handle(const HttpRequest& request, const control::Caller& caller);

  // One parsed request target: `//` collapsed, trailing `/` dropped, each segment
  // percent-decoded; query keys and values percent-decoded.
  struct Target {
    std::vector<std::string> segments;
    std::map<std::string, std::string, CaseInsensitiveLess> query;
    std::string path() const;         // "/" + decoded segments joined by "/"
    std::string encodedPath() const;  // the same, percent-encoded again (for absolute URLs)
  };

 private:
  HttpResponse dispatch(const HttpRequest& request, const control::Caller& caller);
  HttpResponse subscriptionRoute(const HttpRequest& request, const control::Caller& caller,
                                 const Target& target, const std::string& apiVersion);
  HttpResponse providerRoute(const HttpRequest& request, const control::Caller& caller,
                             const Target& target, size_t providersIndex,
                             const std::string& apiVersion);
  HttpResponse resourceRoute(const HttpRequest& request, const control::Caller& caller,
                             const Target& target, const std::string& apiVersion);
  HttpResponse collectionRoute(const HttpRequest& request, const Target& target,
                               const std::string& type, const std::string& scopePath,
                               std::optional<std::string> parentPath,
                               const std::string& apiVersion);
  HttpResponse operationRoute(const HttpRequest& request, const Target& target,
                              const std::string& apiVersion);
  HttpResponse pageResponse(const Target& target, const std::string& apiVersion,
                            Result<control::Page> page, std::optional<size_t> top,
                            const std::string& extraQuery = "");
  // Azure Monitor metrics of a private endpoint or private link service; nullopt for other paths.
  std::optional<HttpResponse> metricsRoute(const HttpRequest& request, const Target& target);
  // The computed (non-document) routes above; nullopt when the request is not one of them.
  std::optional<HttpResponse> computedRoute(const HttpRequest& request,
                                            const control::Caller& caller, const Target& target,
                                            const std::string& apiVersion);
  std::string operationUrl(const std::string& subscription, const std::string& ns,
                           const std::string& location, const std::string& opId,
                           bool results, const std::string& apiVersion) const;

  control::ResourceService& service_;
  ArmRouterOptions options_;
  control::privatedns::RecordSetViews recordSets_;
};

}  // namespace privlink::api
