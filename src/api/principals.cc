#include "api/principals.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <vector>

#include "api/jwt.h"
#include "common/guid.h"
#include "common/resource_id.h"

namespace privlink::api {
namespace {

constexpr std::string_view kHashScheme = "pbkdf2-sha256";
constexpr size_t kHashBytes = 32;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

bool pbkdf2(std::string_view secret, std::string_view salt, int iterations, size_t length,
            std::string& out) {
  out.assign(length, '\0');
  return PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           static_cast<int>(length),
                           reinterpret_cast<unsigned char*>(out.data())) == 1;
}

std::string str(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string principalKey(std::string_view objectId) {
  return "/privlink/principals/" + toLower(objectId);
}

std::string tenantKey(std::string_view tenantId) {
  return "/privlink/tenants/" + toLower(tenantId);
}

std::string hashSecret(std::string_view secret, int iterations) {
  unsigned char salt[16];
  RAND_bytes(salt, sizeof(salt));
  std::string saltBytes(reinterpret_cast<char*>(salt), sizeof(salt));
  std::string hash;
  pbkdf2(secret, saltBytes, iterations, kHashBytes, hash);
  return std::string(kHashScheme) + "$" + std::to_string(iterations) + "$" +
         base64Encode(saltBytes) + "$" + base64Encode(hash);
}

bool verifySecret(std::string_view secret, std::string_view encodedHash) {
  auto parts = split(encodedHash, '$');
  if (parts.size() != 4 || parts[0] != kHashScheme) return false;
  int iterations = 0;
  auto [ptr, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || ptr != parts[1].data() + parts[1].size() || iterations < 1 ||
      iterations > 10'000'000) {
    return false;
  }
  auto salt = base64Decode(parts[2]);
  auto expected = base64Decode(parts[3]);
  if (!salt || !expected || expected->empty()) return false;
  std::string actual;
  if (!pbkdf2(secret, *salt, iterations, expected->size(), actual)) return false;
  return CRYPTO_memcmp(actual.data(), expected->data(), actual.size()) == 0;
}

nlohmann::json Principal::toBody() const {
  nlohmann::json body = {
      {"objectId", objectId},
      {"appId", appId},
      {"displayName", displayName},
      {"kind", kind == PrincipalKind::kUser ? "user" : "servicePrincipal"},
      {"secretHash", secretHash},
      {"tenantId", tenantId},
      {"isAdmin", isAdmin},
  };
  if (kind == PrincipalKind::kUser) body["userPrincipalName"] = userPrincipalName;
  return body;
}

Result<Principal> Principal::fromBody(const nlohmann::json& body) {
  if (!body.is_object()) return Status::Internal("principal document is not an object");
  Principal p;
  p.objectId = str(body, "objectId");
  p.appId = str(body, "appId");
  p.displayName = str(body, "displayName");
  std::string kind = str(body, "kind");
  if (kind == "user") {
    p.kind = PrincipalKind::kUser;
  } else if (kind == "servicePrincipal") {
    p.kind = PrincipalKind::kServicePrincipal;
  } else {
    return Status::Internal("principal " + p.objectId + " has unknown kind '" + kind + "'");
  }
  p.userPrincipalName = str(body, "userPrincipalName");
  p.secretHash = str(body, "secretHash");
  p.tenantId = str(body, "tenantId");
  auto admin = body.find("isAdmin");
  p.isAdmin = admin != body.end() && admin->is_boolean() && admin->get<bool>();
  if (p.objectId.empty() || p.tenantId.empty()) {
    return Status::Internal("principal document lacks objectId or tenantId");
  }
  return p;
}

Principal newServicePrincipal(std::string_view tenantId, std::string_view displayName,
                              std::string_view secret, bool isAdmin) {
  Principal p;
  p.objectId = newGuid();
  p.appId = newGuid();
  p.displayName = std::string(displayName);
  p.kind = PrincipalKind::kServicePrincipal;
  p.secretHash = hashSecret(secret);
  p.tenantId = std::string(tenantId);
  p.isAdmin = isAdmin;
  return p;
}

Principal newUser(std::string_view tenantId, std::string_view userPrincipalName,
                  std::string_view displayName, std::string_view password, bool isAdmin) {
  Principal p;
  p.objectId = newGuid();
  p.displayName = std::string(displayName);
  p.kind = PrincipalKind::kUser;
  p.userPrincipalName = std::string(userPrincipalName);
  p.secretHash = hashSecret(password);
  p.tenantId = std::string(tenantId);
  p.isAdmin = isAdmin;
  return p;
}

Status putPrincipal(store::Transaction& txn, const Principal& principal) {
  auto stored = txn.put(principalKey(principal.objectId), kPrincipalType, principal.toBody());
  return stored.status();
}

Result<std::optional<Principal>> PrincipalDirectory::byObjectId(std::string_view objectId) {
  std::optional<Principal> found;
  RETURN_IF_ERROR(store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(principalKey(objectId)));
    if (!doc) return Status::Ok();
    ASSIGN_OR_RETURN(Principal p, Principal::fromBody(doc->body));
    found = std::move(p);
    return Status::Ok();
  }));
  return found;
}

template <typename Pred>
Result<std::optional<Principal>> PrincipalDirectory::findFirst(Pred pred) {
  std::optional<Principal> found;
  RETURN_IF_ERROR(store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(kPrincipalType));
    for (const auto& doc : docs) {
      auto p = Principal::fromBody(doc.body);
      if (p.ok() && pred(*p)) {
        found = std::move(p).value();
        break;
      }
    }
    return Status::Ok();
  }));
  return found;
}

Result<std::optional<Principal>> PrincipalDirectory::byAppId(std::string_view appId) {
  return findFirst([&](const Principal& p) {
    return p.kind == PrincipalKind::kServicePrincipal && iequals(p.appId, appId);
  });
}

Result<std::optional<Principal>> PrincipalDirectory::byUserPrincipalName(std::string_view upn) {
  return findFirst([&](const Principal& p) {
    return p.kind == PrincipalKind::kUser && iequals(p.userPrincipalName, upn);
  });
}

Result<std::optional<Principal>> PrincipalDirectory::admin(std::string_view tenantId) {
  return findFirst([&](const Principal& p) {
    return p.kind == PrincipalKind::kServicePrincipal && p.isAdmin && iequals(p.tenantId, tenantId);
  });
}

Result<std::vector<Principal>> PrincipalDirectory::list(std::string_view tenantId) {
  std::vector<Principal> out;
  RETURN_IF_ERROR(store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(kPrincipalType));
    for (const auto& doc : docs) {
      auto p = Principal::fromBody(doc.body);
      if (p.ok() && iequals(p->tenantId, tenantId)) out.push_back(std::move(p).value());
    }
    return Status::Ok();
  }));
  return out;
}

Status PrincipalDirectory::put(const Principal& principal) {
  return store_.write([&](store::Transaction& txn) { return putPrincipal(txn, principal); });
}

}  // namespace privlink::api
