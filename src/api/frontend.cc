#include "api/frontend.h"

#include <spdlog/spdlog.h>

#include "api/url_form.h"
#include "common/guid.h"

namespace privlink::api {
namespace {

bool hasHeader(const HttpResponse& response, std::string_view name) {
  CaseInsensitiveLess less;
  for (const auto& [k, v] : response.headers) {
    if (!less(k, name) && !less(name, k)) return true;
  }
  return false;
}

}  // namespace

Frontend::Frontend(TokenIssuer& issuer, Authenticator& authenticator, ArmHandler arm,
                   PrincipalDirectory* directory)
    : issuer_(issuer), authenticator_(authenticator), arm_(std::move(arm)) {
  if (directory) graph_ = std::make_unique<GraphRoutes>(issuer.config().baseUrl, *directory);
}

HttpResponse Frontend::handle(const HttpRequest& request) const {
  Target target = splitTarget(request.target);
  target.path = collapseSlashes(target.path);

  HttpResponse response;
  if (TokenIssuer::ownsPath(target.path)) {
    response = issuer_.handle(request, target);
  } else if (graph_ && GraphRoutes::ownsPath(target.path)) {
    auto caller = authenticator_.authenticate(request, Authenticator::Audience::kGraph);
    if (!caller.ok()) {
      response = authenticator_.challenge(caller.status());
    } else {
      HttpRequest routed = request;
      routed.target = target.query.empty() ? target.path : target.path + "?" + target.query;
      response = graph_->handle(routed, *caller);
    }
  } else {
    auto caller = authenticator_.authenticate(request);
    if (!caller.ok()) {
      spdlog::debug("{} {} {}: {}", request.remoteAddress, request.method, target.path,
                    caller.status().toString());
      response = authenticator_.challenge(caller.status());
    } else {
      HttpRequest routed = request;
      routed.target = target.query.empty() ? target.path : target.path + "?" + target.query;
      response = arm_(routed, *caller);
    }
  }
  if (!hasHeader(response, "x-ms-request-id")) response.setHeader("x-ms-request-id", newGuid());
  if (!hasHeader(response, "x-ms-correlation-request-id")) {
    std::string correlation = request.header("x-ms-correlation-request-id");
    response.setHeader("x-ms-correlation-request-id",
                       correlation.empty() ? newGuid() : correlation);
  }
  return response;
}

}  // namespace privlink::api
