#pragma once
// ARM error responses: the ONE place that maps a privlink Status to an HTTP status code and to
// the ARM error body {"error":{"code","message","target"?}} (STYLE.md "Errors").

#include <string_view>

#include <nlohmann/json.hpp>

#include "api/http_types.h"
#include "common/status.h"

namespace privlink::api {

// kInvalidArgument/kLimitExceeded -> 400, kUnauthenticated -> 401, kPermissionDenied -> 403,
// kNotFound -> 404, kAlreadyExists/kConflict -> 409, kPreconditionFailed -> 412,
// kInternal -> 500, kUnavailable -> 503 (kOk -> 200).
int httpStatusFor(StatusCode code);

// {"error":{"code","message"[,"target"]}}
nlohmann::json armErrorBody(const Status& status);

// A JSON error response with the mapped status (no request-id headers; the router adds those);
// kConflict with an ARM code starting "InUse" is 400, as Azure answers in-use refusals.
HttpResponse armErrorResponse(const Status& status);

// 405 MethodNotAllowed, the only ARM error that has no StatusCode of its own.
HttpResponse methodNotAllowedResponse(std::string_view method, std::string_view allowed);

}  // namespace privlink::api
