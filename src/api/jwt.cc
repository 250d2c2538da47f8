#include "api/jwt.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>

#include "api/openssl_util.h"
#include "common/resource_id.h"

namespace privlink::api {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += "=";
  }
  return out;
}

std::optional<std::string> decode(std::string_view in, bool url) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == (url ? '-' : '+'))
      v = 62;
    else if (c == (url ? '_' : '/'))
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

Status invalid(std::string message) {
  return Status::Unauthenticated("InvalidAuthenticationToken", std::move(message));
}

std::string utc(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string bignumParam(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return {};
  ossl::Bignum bn(raw);
  std::string bytes(BN_num_bytes(bn.get()), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return bytes;
}

std::string joinQuoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "'" : ", '") + s + "'";
  return out;
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) { return encode(bytes, kB64Url, false); }
std::optional<std::string> base64UrlDecode(std::string_view text) { return decode(text, true); }
std::string base64Encode(std::string_view bytes) { return encode(bytes, kB64, true); }
std::optional<std::string> base64Decode(std::string_view text) { return decode(text, false); }

Result<SigningKey> SigningKey::generate() {
  EVP_PKEY* raw = EVP_RSA_gen(2048);
  if (!raw) return Status::Internal("Cannot generate an RSA-2048 key: " + ossl::lastError());
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), raw, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    EVP_PKEY_free(raw);
    return Status::Internal("Cannot write the RSA key: " + ossl::lastError());
  }
  EVP_PKEY_free(raw);
  return fromPrivateKeyPem(ossl::bioText(bio.get()));
}

Result<SigningKey> SigningKey::fromPrivateKeyPem(std::string_view pem) {
  auto bio = ossl::memoryBio(pem);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!raw) return Status::Internal("Cannot parse the token-signing key: " + ossl::lastError());
  SigningKey key;
  key.key_ = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
  if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_RSA || EVP_PKEY_get_bits(raw) < 2048) {
    return Status::Internal("The token-signing key must be an RSA key of at least 2048 bits");
  }
  std::string n = base64UrlEncode(bignumParam(raw, OSSL_PKEY_PARAM_RSA_N));
  std::string e = base64UrlEncode(bignumParam(raw, OSSL_PKEY_PARAM_RSA_E));
  if (n.empty() || e.empty()) return Status::Internal("Cannot read the RSA public key parameters");
  // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
  std::string canonical = R"({"e":")" + e + R"(","kty":"RSA","n":")" + n + R"("})";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  key.keyId_ = base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
  key.jwk_ = {{"kty", "RSA"},      {"use", "sig"}, {"alg", "RS256"},
              {"kid", key.keyId_}, {"n", n},       {"e", e}};
  return key;
}

std::string SigningKey::privateKeyPem() const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return ossl::bioText(bio.get());
}

Result<std::string> SigningKey::sign(std::string_view data) const {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return Status::Internal("Cannot sign: " + ossl::lastError());
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Internal("Cannot sign: " + ossl::lastError());
  }
  signature.resize(len);
  return signature;
}

bool SigningKey::verify(std::string_view data, std::string_view signature) const {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  ERR_clear_error();
  return ok;
}

Result<std::string> signJwt(const SigningKey& key, std::string_view typ,
                            const nlohmann::json& claims) {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", std::string(typ)}, {"kid", key.keyId()}};
  std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
  ASSIGN_OR_RETURN(std::string signature, key.sign(input));
  return input + "." + base64UrlEncode(signature);
}

Result<VerifiedJwt> decodeJwtUnverified(std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return invalid(
        "The access token is malformed: a JWT has three base64url parts separated by "
        "'.'. Get a token from the token endpoint and send 'Authorization: Bearer "
        "<token>'.");
  }
  auto header = base64UrlDecode(token.substr(0, first));
  auto claims = base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!header || !claims) return invalid("The access token is malformed: it is not base64url.");
  VerifiedJwt jwt;
  try {
    jwt.header = nlohmann::json::parse(*header);
    jwt.claims = nlohmann::json::parse(*claims);
  } catch (const nlohmann::json::exception&) {
    return invalid("The access token is malformed: its header or payload is not JSON.");
  }
  if (!jwt.header.is_object() || !jwt.claims.is_object()) {
    return invalid("The access token is malformed: its header and payload must be JSON objects.");
  }
  return jwt;
}

Result<VerifiedJwt> verifyJwt(std::string_view token, const SigningKey& key,
                              const JwtExpectations& expect) {
  ASSIGN_OR_RETURN(VerifiedJwt jwt, decodeJwtUnverified(token));
  const auto& header = jwt.header;
  const auto& claims = jwt.claims;

  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "RS256") {
    std::string shown = alg != header.end() && alg->is_string() ? alg->get<std::string>() : "?";
    return invalid("The access token uses algorithm '" + shown +
                   "'; privlinkd only accepts RS256 tokens that it issued.");
  }
  auto kid = header.find("kid");
  if (kid != header.end() && (!kid->is_string() || kid->get<std::string>() != key.keyId())) {
    return invalid("The access token was signed by an unknown key (kid " + kid->dump() +
                   "); get a new token from this server's token endpoint.");
  }
  if (!expect.type.empty()) {
    auto typ = header.find("typ");
    if (typ == header.end() || !typ->is_string() ||
        !iequals(typ->get<std::string>(), expect.type)) {
      return invalid("The token is not an access token (typ " +
                     (typ == header.end() ? std::string("missing") : typ->dump()) +
                     "); send the access_token from the token response.");
    }
  }
  size_t lastDot = token.rfind('.');
  auto signature = base64UrlDecode(token.substr(lastDot + 1));
  if (!signature || !key.verify(token.substr(0, lastDot), *signature)) {
    return invalid("The access token signature is invalid.");
  }

  auto iss = claims.find("iss");
  std::string issuer = iss != claims.end() && iss->is_string() ? iss->get<std::string>() : "";
  if (std::find(expect.issuers.begin(), expect.issuers.end(), issuer) == expect.issuers.end()) {
    return invalid("The access token is from issuer '" + issuer +
                   "', which this server does not "
                   "trust; it accepts " +
                   joinQuoted(expect.issuers) + ".");
  }

  auto aud = claims.find("aud");
  std::vector<std::string> audiences;
  if (aud != claims.end() && aud->is_string()) audiences.push_back(aud->get<std::string>());
  if (aud != claims.end() && aud->is_array()) {
    for (const auto& a : *aud) {
      if (a.is_string()) audiences.push_back(a.get<std::string>());
    }
  }
  bool audienceOk = std::any_of(audiences.begin(), audiences.end(), [&](const std::string& a) {
    return std::find(expect.audiences.begin(), expect.audiences.end(), a) != expect.audiences.end();
  });
  if (!audienceOk) {
    std::string got = audiences.empty() ? std::string("(none)") : audiences.front();
    return invalid("The access token has been obtained for wrong audience or resource '" + got +
                   "'. It should exactly match one of the allowed audiences " +
                   joinQuoted(expect.audiences) + "; request the scope '" +
                   (expect.audiences.empty() ? std::string() : expect.audiences.front()) +
                   ".default'.");
  }

  int64_t leeway = std::clamp<int64_t>(expect.leewaySeconds, 0, 300);
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) {
    return invalid("The access token has no expiry (exp).");
  }
  int64_t expiry = exp->get<int64_t>();
  if (expiry + leeway <= expect.now) {
    return Status::Unauthenticated("ExpiredAuthenticationToken",
                                   "The access token expiry UTC time '" + utc(expiry) +
                                       "' is earlier than current UTC time '" + utc(expect.now) +
                                       "'; get a new token.");
  }
  auto nbf = claims.find("nbf");
  if (nbf != claims.end()) {
    if (!nbf->is_number()) return invalid("The access token's nbf is not a number.");
    if (nbf->get<int64_t>() - leeway > expect.now) {
      return invalid("The access token is not valid before UTC time '" + utc(nbf->get<int64_t>()) +
                     "'; current UTC time is '" + utc(expect.now) + "'. Check the clocks.");
    }
  }
  return jwt;
}

}  // namespace privlink::api
