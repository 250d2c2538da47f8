#include "api/arm_error.h"

#include <string>

namespace privlink::api {

int httpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kLimitExceeded: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kConflict: return 409;
    case StatusCode::kPreconditionFailed: return 412;
    case StatusCode::kInternal: return 500;
    case StatusCode::kUnavailable: return 503;
  }
  return 500;
}

nlohmann::json armErrorBody(const Status& status) {
  nlohmann::json error = {{"code", status.armCode()}, {"message", status.message()}};
  if (!status.target().empty()) error["target"] = status.target();
  return nlohmann::json{{"error", std::move(error)}};
}

HttpResponse armErrorResponse(const Status& status) {
  int http = httpStatusFor(status.code());
  // Azure's Network RP answers its in-use refusals (InUseSubnetCannotBeDeleted, ...) with 400.
  // Kinds return them as kConflict, which the engine's resource-group delete retries.
  if (status.code() == StatusCode::kConflict && status.armCode().rfind("InUse", 0) == 0) {
    http = 400;
  }
  return HttpResponse::json(http, armErrorBody(status).dump());
}

HttpResponse methodNotAllowedResponse(std::string_view method, std::string_view allowed) {
  nlohmann::json body = {
      {"error",
       {{"code", "MethodNotAllowed"},
        {"message", "The HTTP method '" + std::string(method) +
                        "' is not supported at this path. Supported methods: " +
                        std::string(allowed) + "."}}}};
  HttpResponse response = HttpResponse::json(405, body.dump());
  response.setHeader("Allow", std::string(allowed));
  return response;
}

}  // namespace privlink::api
