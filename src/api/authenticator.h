#pragma once
// Authenticator: checks the bearer token on every ARM request (DESIGN.md §4).
//
// A request is authenticated when its `Authorization: Bearer <jwt>` header carries an access
// token (typ at+jwt) that this server signed (RS256 only; "none" and HS256 are refused), whose iss
// is one of this server's issuers, whose aud is BASE/ (or BASE), that is within exp/nbf (at most
// 5 minutes of clock skew), and whose principal (oid) still exists in the tenant it names.
// Failures are Unauthenticated statuses: AuthenticationFailed (no or non-Bearer header),
// ExpiredAuthenticationToken, or InvalidAuthenticationToken, each with a message saying what was
// wrong. challenge() renders one as ARM does: 401, WWW-Authenticate and an ARM error body.
// Thread-safe.

#include "api/http_types.h"
#include "api/jwt.h"
#include "api/principals.h"
#include "api/token_issuer.h"
#include "common/status.h"
#include "control/caller.h"

namespace privlink::api {

class Authenticator {
 public:
  Authenticator(IdentityConfig config, const SigningKey& key, PrincipalDirectory& principals);

  // `audience` says which resource the request is for: ARM (aud BASE/) or the Graph subset
  // (aud BASE/graph/); a token for the other one is refused with InvalidAuthenticationToken.
  enum class Audience { kArm, kGraph };
  Result<control::Caller> authenticate(const HttpRequest& request,
                                       Audience audience = Audience::kArm);

  // 401 with `WWW-Authenticate: Bearer authorization_uri="BASE/adfs", error="invalid_token",
  // error_description="..."` and {"error":{"code","message"}}.
  HttpResponse challenge(const Status& failure) const;

 private:
  IdentityConfig config_;
  const SigningKey& key_;
  PrincipalDirectory& principals_;
};

}  // namespace privlink::api
