#pragma once
// JSON Web Tokens as privlinkd issues and accepts them: compact JWS, RS256 only.
//
// verifyJwt() is the single gate for bearer tokens. It refuses every algorithm but RS256
// (so "none" and HS256-with-the-public-key tricks fail), tokens signed by another key, and
// tokens whose typ, iss, aud, exp or nbf do not match the expectations. Its errors are
// Unauthenticated statuses with ARM's codes: "ExpiredAuthenticationToken" when only the expiry is
// wrong, "InvalidAuthenticationToken" otherwise, and a message that says what was wrong.

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace privlink::api {

std::string base64UrlEncode(std::string_view bytes);
// nullopt on characters outside the base64url alphabet (padding '=' is tolerated).
std::optional<std::string> base64UrlDecode(std::string_view text);
std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

// The RSA-2048 key privlinkd signs tokens with. Immutable after construction; thread-safe.
class SigningKey {
 public:
  static Result<SigningKey> generate();
  // From a PEM private key (PKCS#8 or traditional); must be RSA.
  static Result<SigningKey> fromPrivateKeyPem(std::string_view pem);

  std::string privateKeyPem() const;
  // RFC 7638 JWK thumbprint (SHA-256, base64url): the `kid` of every token and of the JWKS entry.
  const std::string& keyId() const { return keyId_; }
  // The public key as a JWK: {"kty":"RSA","use":"sig","alg":"RS256","kid","n","e"}.
  const nlohmann::json& publicJwk() const { return jwk_; }

  // RSASSA-PKCS1-v1_5 with SHA-256.
  Result<std::string> sign(std::string_view data) const;
  bool verify(std::string_view data, std::string_view signature) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::string keyId_;
  nlohmann::json jwk_;
};

// header.payload.signature with header {"alg":"RS256","typ":typ,"kid":key.keyId()}.
Result<std::string> signJwt(const SigningKey& key, std::string_view typ,
                            const nlohmann::json& claims);

struct JwtExpectations {
  std::vector<std::string> issuers;    // iss must equal one of these exactly
  std::vector<std::string> audiences;  // aud (string or array) must contain one of these
  std::string type;                    // header typ, compared case-insensitively; "" = any
  int64_t now = 0;                     // seconds since the epoch
  int64_t leewaySeconds = 300;         // allowed clock skew for exp and nbf (at most 5 min)
};

struct VerifiedJwt {
  nlohmann::json header;
  nlohmann::json claims;
};

Result<VerifiedJwt> verifyJwt(std::string_view token, const SigningKey& key,
                              const JwtExpectations& expect);

// Splits and decodes a token without any verification (tests, diagnostics).
Result<VerifiedJwt> decodeJwtUnverified(std::string_view token);

}  // namespace privlink::api
