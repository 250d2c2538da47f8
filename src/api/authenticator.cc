#include "api/authenticator.h"

#include <spdlog/spdlog.h>

#include "api/arm_error.h"
#include "common/resource_id.h"

namespace privlink::api {

Authenticator::Authenticator(IdentityConfig config, const SigningKey& key,
                             PrincipalDirectory& principals)
    : config_(std::move(config)), key_(key), principals_(principals) {}

Result<control::Caller> Authenticator::authenticate(const HttpRequest& request,
                                                    Audience audience) {
  std::string header = request.header("Authorization");
  if (header.empty()) {
    return Status::Unauthenticated(
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing. Get a token from " +
            config_.baseUrl + "/adfs/oauth2/token and send 'Authorization: Bearer <token>'.");
  }
  if (!istartsWith(header, "Bearer ")) {
    return Status::Unauthenticated(
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is provided in an invalid format; "
        "expected 'Bearer <token>'.");
  }
  std::string_view token(header);
  token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);

  JwtExpectations expect;
  expect.issuers = config_.issuers();
  expect.audiences =
      audience == Audience::kGraph ? config_.graphAudiences() : config_.armAudiences();
  expect.type = std::string(kAccessTokenType);
  expect.now = config_.now();
  expect.leewaySeconds = 300;
  ASSIGN_OR_RETURN(VerifiedJwt jwt, verifyJwt(token, key_, expect));

  const auto& claims = jwt.claims;
  auto text = [&](const char* name) {
    auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string oid = text("oid");
  std::string tid = text("tid");
  if (oid.empty() || tid.empty()) {
    return Status::Unauthenticated("InvalidAuthenticationToken",
                                   "The access token has no oid or tid claim.");
  }
  auto principal = principals_.byObjectId(oid);
  if (!principal.ok()) return principal.status();
  if (!*principal) {
    return Status::Unauthenticated(
        "InvalidAuthenticationToken",
        "The principal " + oid + " of this access token no longer exists; sign in again.");
  }
  const Principal& p = **principal;
  if (!iequals(p.tenantId, tid)) {
    return Status::Unauthenticated("InvalidAuthenticationTokenTenant",
                                   "The access token is from tenant '" + tid +
                                       "', but its principal belongs to tenant '" + p.tenantId +
                                       "'.");
  }
  control::Caller caller;
  caller.principalId = p.objectId;
  caller.tenantId = p.tenantId;
  caller.displayName = p.kind == PrincipalKind::kUser ? p.userPrincipalName : p.appId;
  caller.isAdmin = p.isAdmin;
  return caller;
}

HttpResponse Authenticator::challenge(const Status& failure) const {
  std::string description = failure.message();
  for (char& c : description) {
    if (c == '"' || c == '\\' || c == '\r' || c == '\n') c = '\'';
  }
  HttpResponse response;
  if (failure.code() == StatusCode::kUnauthenticated) {
    response = armErrorResponse(failure);
    response.status = 401;
  } else {
    response = armErrorResponse(failure);  // e.g. the store failed: 500/503
    return response;
  }
  response.setHeader("WWW-Authenticate", "Bearer authorization_uri=\"" + config_.baseUrl +
                                             "/adfs\", error=\"invalid_token\", "
                                             "error_description=\"" +
                                             description + "\"");
  return response;
}

}  // namespace privlink::api
