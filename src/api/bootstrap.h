#pragma once
// Bootstrap of privlinkd's state directory (`privlinkd --state-dir DIR`).
//
// First start creates, with OpenSSL's APIs:
//   DIR/ca.crt, DIR/ca.key            private CA (EC P-256, CA:TRUE)           key mode 0600
//   DIR/server.crt, DIR/server.key    TLS certificate for localhost/127.0.0.1/::1, signed by the CA
//   DIR/token-signing.key             RSA-2048 token-signing key (kid = its JWK thumbprint)
// and, in the store (DIR/privlink.db), in one transaction:
//   /privlink/tenants/<tenantId>            privlink/tenant     {tenantId, displayName}
//   /subscriptions/<subscriptionId>         microsoft.resources/subscriptions
//                                           {subscriptionId, tenantId, displayName, state}
//   /privlink/principals/<objectId>         privlink/principal  the admin service principal
// and DIR/admin.json (mode 0600):
//   {endpoint, tenantId, subscriptionId, clientId, clientSecret, caCertificate: "DIR/ca.crt"}
//
// Later starts reuse all of it. The server certificate is re-issued when it is missing, no longer
// verifies against the CA, or expires within 30 days. admin.json's endpoint is rewritten with the
// current port; if admin.json is missing or its secret no longer matches, the admin's secret is
// rotated and a new admin.json written (so deleting admin.json is how to reset the secret). If
// the admin principal was deleted, a new one is created.
// A CA key without its certificate (or the reverse) is an error: nothing is overwritten.

#include <string>

#include "api/jwt.h"
#include "common/status.h"
#include "store/store.h"

namespace privlink::api {

struct StateFiles {
  std::string dir;
  std::string caCertificateFile;
  std::string caKeyFile;
  std::string serverCertificateFile;
  std::string serverKeyFile;
  std::string tokenKeyFile;
  std::string storePath;  // DIR/privlink.db
  std::string adminFile;  // DIR/admin.json
  std::string pidFile;    // DIR/privlinkd.pid
  SigningKey tokenKey;
};

// Creates DIR (mode 0700) if needed and the key material described above.
Result<StateFiles> prepareStateDir(const std::string& dir);

struct Identity {
  std::string tenantId;
  std::string subscriptionId;  // the default subscription ("" if it was deleted later)
  std::string adminObjectId;
  std::string adminClientId;
  bool created = false;  // true on the first start
};

// Tenant, default subscription, admin principal and admin.json, as described above.
// `endpoint` is the base URL written to admin.json ("https://localhost:PORT").
Result<Identity> bootstrapIdentity(store::Store& store, const StateFiles& files,
                                   const std::string& endpoint);

// Writes `content` to `path` atomically (temp file + fsync + rename) with the given mode.
Status writeFileAtomic(const std::string& path, const std::string& content, unsigned mode);
Result<std::string> readFile(const std::string& path);

}  // namespace privlink::api
