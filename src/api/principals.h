#pragma once
// Principals (service principals and users) and their secrets, stored as internal documents
// "/privlink/principals/<objectId>" of type "privlink/principal" (store/store.h):
//   {objectId, appId, displayName, kind: "servicePrincipal"|"user", userPrincipalName (users),
//    secretHash, tenantId, isAdmin}
// Secrets are never stored: only a salted PBKDF2-HMAC-SHA256 hash
// ("pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>").
// PrincipalDirectory is thread-safe (the Store is).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace privlink::api {

inline constexpr std::string_view kPrincipalType = "privlink/principal";
inline constexpr std::string_view kTenantType = "privlink/tenant";

std::string principalKey(std::string_view objectId);  // "/privlink/principals/<objectId>"
std::string tenantKey(std::string_view tenantId);     // "/privlink/tenants/<tenantId>"

// Hashes a secret with a fresh random salt.
std::string hashSecret(std::string_view secret, int iterations = 100000);
// Constant-time check of `secret` against a hashSecret() result; false for malformed hashes.
bool verifySecret(std::string_view secret, std::string_view encodedHash);

enum class PrincipalKind { kServicePrincipal, kUser };

struct Principal {
  std::string objectId;
  std::string appId;  // service principals: the client id; users: empty
  std::string displayName;
  PrincipalKind kind = PrincipalKind::kServicePrincipal;
  std::string userPrincipalName;  // users only, e.g. "alice@privlink.local"
  std::string secretHash;
  std::string tenantId;
  bool isAdmin = false;

  nlohmann::json toBody() const;
  static Result<Principal> fromBody(const nlohmann::json& body);
};

// A new principal value (not stored) with a fresh object id (and app id for service principals)
// and the hash of `secret`.
Principal newServicePrincipal(std::string_view tenantId, std::string_view displayName,
                              std::string_view secret, bool isAdmin);
Principal newUser(std::string_view tenantId, std::string_view userPrincipalName,
                  std::string_view displayName, std::string_view password, bool isAdmin);
// Writes the principal document inside a transaction.
Status putPrincipal(store::Transaction& txn, const Principal& principal);

class PrincipalDirectory {
 public:
  explicit PrincipalDirectory(store::Store& store) : store_(store) {}

  Result<std::optional<Principal>> byObjectId(std::string_view objectId);
  // Service principal by client (app) id; case-insensitive.
  Result<std::optional<Principal>> byAppId(std::string_view appId);
  // User by user principal name; case-insensitive.
  Result<std::optional<Principal>> byUserPrincipalName(std::string_view upn);
  // Every principal of `tenantId`, in store order.
  Result<std::vector<Principal>> list(std::string_view tenantId);
  // The bootstrap admin (isAdmin service principal) of `tenantId`, if any.
  Result<std::optional<Principal>> admin(std::string_view tenantId);

  Status put(const Principal& principal);

 private:
  template <typename Pred>
  Result<std::optional<Principal>> findFirst(Pred pred);
  store::Store& store_;
};

}  // namespace privlink::api
