#pragma once
// Bearer tokens for the ARM client: OAuth2 client_credentials against privlinkd's own issuer,
// found by the same discovery the Azure CLI uses for Azure Stack / AD FS clouds:
//   GET  {endpoint}/metadata/endpoints?api-version=2015-01-01
//          -> authentication.loginEndpoint (".../adfs"), authentication.audiences[0]
//   GET  {loginEndpoint}/.well-known/openid-configuration -> token_endpoint
//   POST {token_endpoint}  grant_type=client_credentials&client_id&client_secret&scope={aud}/.default
//          -> {access_token, expires_in}
// The token is cached until shortly before it expires (the last 5 minutes, or the last half of a
// shorter lifetime). Not thread-safe.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "client/http_transport.h"

namespace privlink::client {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A bearer token valid for at least a little while.
  virtual Result<std::string> accessToken() = 0;
  // Forgets a cached token (the server rejected it with 401).
  virtual void invalidate() = 0;
};

struct ClientCredentials {
  std::string endpoint;  // https://localhost:8443
  std::string tenantId;
  std::string clientId;
  std::string clientSecret;
};

class ClientCredentialsTokenProvider : public TokenSource {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `transport` must outlive the provider.
  ClientCredentialsTokenProvider(HttpTransport& transport, ClientCredentials credentials,
                                 Clock now = &std::chrono::system_clock::now);

  // Fails with Unauthenticated carrying the issuer's OAuth error (e.g. "invalid_client") when the
  // credentials are refused, or with the transport's error when the issuer is unreachable.
  Result<std::string> accessToken() override;
  void invalidate() override { token_.reset(); }

  // After the first successful accessToken(): the discovered token endpoint and scope.
  const std::string& tokenEndpoint() const { return tokenEndpoint_; }
  const std::string& scope() const { return scope_; }

 private:
  Status discover();

  HttpTransport& transport_;
  ClientCredentials credentials_;
  Clock now_;
  std::string tokenEndpoint_;
  std::string scope_;
  struct Cached {
    std::string token;
    std::chrono::system_clock::time_point refreshAt;
  };
  std::optional<Cached> token_;
};

// Builds a Status from an error response body, either ARM ({"error":{"code","message"}}) or
// OAuth ({"error":"invalid_client","error_description":...}); falls back to the HTTP status.
Status statusFromErrorResponse(int httpStatus, const std::string& body, const std::string& what);

}  // namespace privlink::client
