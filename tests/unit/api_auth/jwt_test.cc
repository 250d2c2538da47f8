#include "api/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace privlink::api {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;

const SigningKey& key() {
  static SigningKey k = SigningKey::generate().value();
  return k;
}

json claims(int64_t exp = kNow + 3600) {
  return {{"iss", "https://localhost:8443/adfs"},
          {"aud", "https://localhost:8443/"},
          {"iat", kNow},
          {"nbf", kNow},
          {"exp", exp},
          {"oid", "o"}};
}

JwtExpectations expectations() {
  JwtExpectations e;
  e.issuers = {"https://localhost:8443/adfs"};
  e.audiences = {"https://localhost:8443/", "https://localhost:8443"};
  e.type = "at+jwt";
  e.now = kNow;
  return e;
}

std::string token(const json& c = claims(), std::string_view typ = "at+jwt") {
  return signJwt(key(), typ, c).value();
}

// Replaces the header of a signed token (keeping payload and signature).
std::string withHeader(const std::string& t, const json& header) {
  return base64UrlEncode(header.dump()) + t.substr(t.find('.'));
}

TEST(Base64, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(base64UrlDecode(base64UrlEncode(data)), data);
    EXPECT_EQ(base64Decode(base64Encode(data)), data);
    data += static_cast<char>(i * 37 + 200);
  }
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64Encode("ab"), "YWI=");
  EXPECT_FALSE(base64UrlDecode("a*b").has_value());
  EXPECT_FALSE(base64UrlDecode("abcde").has_value());
}

TEST(SigningKey, KidIsStableAcrossPemRoundTrip) {
  auto again = SigningKey::fromPrivateKeyPem(key().privateKeyPem());
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_EQ(again->keyId(), key().keyId());
  EXPECT_EQ(again->publicJwk()["n"], key().publicJwk()["n"]);
  EXPECT_EQ(key().publicJwk()["e"], "AQAB");
  EXPECT_EQ(key().publicJwk()["kty"], "RSA");
  EXPECT_EQ(key().keyId().size(), 43u);  // base64url of a SHA-256 digest
}

TEST(SigningKey, RefusesNonRsaKeys) {
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, len);
  BIO_free(bio);
  EVP_PKEY_free(ec);
  EXPECT_FALSE(SigningKey::fromPrivateKeyPem(pem).ok());
  EXPECT_FALSE(SigningKey::fromPrivateKeyPem("not a key").ok());
}

TEST(Jwt, SignedTokenVerifies) {
  auto verified = verifyJwt(token(), key(), expectations());
  ASSERT_TRUE(verified.ok()) << verified.status().toString();
  EXPECT_EQ(verified->claims["oid"], "o");
  EXPECT_EQ(verified->header["alg"], "RS256");
  EXPECT_EQ(verified->header["kid"], key().keyId());
}

TEST(Jwt, AcceptsAudienceWithoutTrailingSlashAndArrays) {
  json c = claims();
  c["aud"] = "https://localhost:8443";
  EXPECT_TRUE(verifyJwt(token(c), key(), expectations()).ok());
  c["aud"] = json::array({"other", "https://localhost:8443/"});
  EXPECT_TRUE(verifyJwt(token(c), key(), expectations()).ok());
}

TEST(Jwt, RefusesExpiredToken) {
  auto verified = verifyJwt(token(claims(kNow - 301)), key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(verified.status().armCode(), "ExpiredAuthenticationToken");
  EXPECT_NE(verified.status().message().find("expiry"), std::string::npos);
}

TEST(Jwt, AllowsFiveMinutesOfSkewButNoMore) {
  EXPECT_TRUE(verifyJwt(token(claims(kNow - 299)), key(), expectations()).ok());
  JwtExpectations lax = expectations();
  lax.leewaySeconds = 3600;  // clamped to 300
  EXPECT_FALSE(verifyJwt(token(claims(kNow - 400)), key(), lax).ok());
}

TEST(Jwt, RefusesTokenNotYetValid) {
  json c = claims();
  c["nbf"] = kNow + 301;
  auto verified = verifyJwt(token(c), key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().armCode(), "InvalidAuthenticationToken");
  EXPECT_NE(verified.status().message().find("not valid before"), std::string::npos);
}

TEST(Jwt, RefusesMissingExpiry) {
  json c = claims();
  c.erase("exp");
  EXPECT_FALSE(verifyJwt(token(c), key(), expectations()).ok());
}

TEST(Jwt, RefusesWrongAudience) {
  json c = claims();
  c["aud"] = "https://management.core.windows.net/";
  auto verified = verifyJwt(token(c), key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().armCode(), "InvalidAuthenticationToken");
  EXPECT_NE(verified.status().message().find("wrong audience"), std::string::npos);
  EXPECT_NE(verified.status().message().find("https://management.core.windows.net/"),
            std::string::npos);
}

TEST(Jwt, RefusesWrongIssuer) {
  json c = claims();
  c["iss"] = "https://sts.windows.net/x/";
  auto verified = verifyJwt(token(c), key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.status().message().find("issuer"), std::string::npos);
}

TEST(Jwt, RefusesTamperedSignature) {
  std::string t = token();
  // A character inside the signature: the last one also carries 2 padding bits, so flipping
  // only those ('A' -> 'B') would decode to the very same signature (1 run in 16).
  size_t at = t.rfind('.') + 10;
  t[at] = t[at] == 'A' ? 'B' : 'A';
  auto verified = verifyJwt(t, key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.status().message().find("signature"), std::string::npos);
}

TEST(Jwt, RefusesTamperedPayload) {
  std::string t = token();
  size_t first = t.find('.');
  size_t second = t.find('.', first + 1);
  json c = claims();
  c["oid"] = "admin";
  std::string forged = t.substr(0, first + 1) + base64UrlEncode(c.dump()) + t.substr(second);
  EXPECT_FALSE(verifyJwt(forged, key(), expectations()).ok());
}

TEST(Jwt, RefusesAlgNone) {
  json header = {{"alg", "none"}, {"typ", "at+jwt"}};
  std::string unsigned_ =
      base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims().dump()) + ".";
  auto verified = verifyJwt(unsigned_, key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.status().message().find("'none'"), std::string::npos);
  // Also with the real signature left in place.
  EXPECT_FALSE(verifyJwt(withHeader(token(), header), key(), expectations()).ok());
}

TEST(Jwt, RefusesHs256SignedWithThePublicKey) {
  json header = {{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", key().keyId()}};
  std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims().dump());
  std::string secret = key().publicJwk()["n"].get<std::string>();
  unsigned char mac[32];
  unsigned int macLen = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &macLen);
  std::string forged =
      input + "." + base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), macLen));
  auto verified = verifyJwt(forged, key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.status().message().find("HS256"), std::string::npos);
}

TEST(Jwt, RefusesTokenFromAnotherKey) {
  SigningKey other = SigningKey::generate().value();
  std::string t = signJwt(other, "at+jwt", claims()).value();
  EXPECT_FALSE(verifyJwt(t, key(), expectations()).ok());
  // Even when the attacker copies our kid into the header.
  json header = {{"alg", "RS256"}, {"typ", "at+jwt"}, {"kid", key().keyId()}};
  std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims().dump());
  std::string forged = input + "." + base64UrlEncode(other.sign(input).value());
  EXPECT_FALSE(verifyJwt(forged, key(), expectations()).ok());
}

TEST(Jwt, RefusesOtherTokenTypes) {
  auto verified = verifyJwt(token(claims(), "rt+jwt"), key(), expectations());
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.status().message().find("not an access token"), std::string::npos);
  EXPECT_FALSE(verifyJwt(token(claims(), "JWT"), key(), expectations()).ok());
}

TEST(Jwt, RefusesMalformedTokens) {
  for (std::string bad : {"", "abc", "a.b", "a.b.c.d", "!!.??.**", "e30.e30", "e30.e30.",
                          "WzFd.e30.", "bm90IGpzb24.e30."}) {
    auto verified = verifyJwt(bad, key(), expectations());
    ASSERT_FALSE(verified.ok()) << bad;
    EXPECT_EQ(verified.status().armCode(), "InvalidAuthenticationToken") << bad;
  }
}

}  // namespace
}  // namespace privlink::api
