#pragma once
// TokenIssuer: privlinkd's own OAuth2/OIDC issuer and cloud metadata (reference/arm-clients.md).
// None of these paths need a token. `BASE` is IdentityConfig::baseUrl ("https://localhost:PORT").
//
//   GET  /metadata/endpoints?api-version=2015-01-01    object form (az cloud register)
//   GET  /metadata/endpoints?api-version>=2019-05-01   list form (one cloud "Local")
//   GET  /adfs/.well-known/openid-configuration        AD FS authority, issuer BASE/adfs
//   GET  /{tenant}/v2.0/.well-known/openid-configuration   AAD v2, issuer BASE/{tenant}/v2.0
//   GET  /{tenant}/.well-known/openid-configuration    AAD v1, issuer BASE/{tenant}/
//   GET  /adfs/discovery/keys, /{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys   JWKS
//   POST /adfs/oauth2/token, /{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token
//        grant_type client_credentials (secret in the form or HTTP Basic), password (users;
//        adds refresh_token and id_token), refresh_token.
//   GET  /common/userrealm/{user}                      "Managed" (MSAL realm discovery)
//   POST /msi/token (form resource=BASE/, header Metadata: true; GET with ?resource= too)
//        only when IdentityConfig::managedIdentityObjectId is set (privlinkd --managed-identity)
//        and only for loopback clients: v1 JSON {token_type, access_token, expires_in,
//        expires_on, resource} for that principal (az login --identity with MSI_ENDPOINT).
// {tenant} must be this server's tenant GUID. Errors use the OAuth shape
// {"error":"invalid_client","error_description":"..."} with 400 or 401.
//
// Tokens (all RS256, kid = SigningKey::keyId()):
//   access  header typ "at+jwt"; aud = BASE/ (armAudience), or BASE/graph/ (graphAudience) when
//           the scope or resource asked for is BASE/graph/; iss = the flavour's issuer; tid, oid,
//           sub, appid, idtyp ("app"|"user"), iat, nbf, exp (accessTokenLifetime), upn for users.
//   refresh header typ "rt+jwt"; aud = kRefreshAudience; expires after refreshTokenLifetime.
//           Its typ and aud make it useless as an access token.
//   id      header typ "JWT"; aud = the request's client_id (never verified by this server).
// Thread-safe.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "api/jwt.h"
#include "api/principals.h"
#include "api/url_form.h"

namespace privlink::api {

struct IdentityConfig {
  std::string baseUrl;   // "https://localhost:8443": no trailing slash
  std::string tenantId;  // the one tenant (GUID)
  int64_t accessTokenLifetimeSeconds = 3600;
  int64_t refreshTokenLifetimeSeconds = 24 * 3600;
  std::function<int64_t()> clock;  // seconds since the epoch; empty = system clock
  // Object id of the principal /msi/token issues tokens for; empty = the endpoint is off.
  std::string managedIdentityObjectId;

  int64_t now() const;
  std::string armAudience() const { return baseUrl + "/"; }
  std::string adfsIssuer() const { return baseUrl + "/adfs"; }
  std::string v2Issuer() const { return baseUrl + "/" + tenantId + "/v2.0"; }
  std::string v1Issuer() const { return baseUrl + "/" + tenantId + "/"; }
  std::vector<std::string> issuers() const { return {adfsIssuer(), v2Issuer(), v1Issuer()}; }
  // audiences accepted on ARM requests: BASE/ and BASE
  std::vector<std::string> armAudiences() const { return {baseUrl + "/", baseUrl}; }
  // The Microsoft Graph subset (graph_routes.h) is its own resource, as in Azure: BASE/graph/
  // (advertised as microsoftGraphResourceId in /metadata/endpoints). Its tokens are not ARM
  // tokens and ARM tokens are not accepted there.
  std::string graphAudience() const { return baseUrl + "/graph/"; }
  std::vector<std::string> graphAudiences() const { return {baseUrl + "/graph/", baseUrl + "/graph"}; }
};

inline constexpr std::string_view kAccessTokenType = "at+jwt";
inline constexpr std::string_view kRefreshTokenType = "rt+jwt";
inline constexpr std::string_view kRefreshAudience = "urn:privlink:refresh-token";

class TokenIssuer {
 public:
  TokenIssuer(IdentityConfig config, const SigningKey& key, PrincipalDirectory& principals);

  // True when `path` (slashes collapsed, no query) belongs to the issuer and metadata surface:
  // its first segment is metadata, adfs, msi, common, organizations, or a GUID (a tenant).
  static bool ownsPath(std::string_view path);

  // Answers a request whose path ownsPath(); `target` has the collapsed path and the query.
  HttpResponse handle(const HttpRequest& request, const Target& target);

  const IdentityConfig& config() const { return config_; }

 private:
  enum class Flavour { kAdfs, kV2, kV1 };
  HttpResponse metadataEndpoints(const Target& target) const;
  HttpResponse openidConfiguration(Flavour flavour) const;
  HttpResponse jwks() const;
  HttpResponse token(const HttpRequest& request, Flavour flavour);
  HttpResponse managedIdentityToken(const HttpRequest& request, const Target& target);
  Result<std::string> accessTokenFor(const Principal& principal, const std::string& appId,
                                     Flavour flavour, int64_t now,
                                     const std::string& audience) const;
  // The audience for a requested resource (scope without "/.default", or resource=): ARM's
  // or Graph's; nullopt for anything else.
  std::optional<std::string> audienceFor(const std::string& resource) const;
  std::string issuerFor(Flavour flavour) const;

  IdentityConfig config_;
  const SigningKey& key_;
  PrincipalDirectory& principals_;
};

}  // namespace privlink::api
