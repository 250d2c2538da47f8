#include "api/bootstrap.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/certificates.h"
#include "api/principals.h"
#include "common/guid.h"
#include "common/resource_id.h"

namespace privlink::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr unsigned kSecretMode = 0600;
constexpr unsigned kPublicMode = 0644;
constexpr std::string_view kSubscriptionType = "microsoft.resources/subscriptions";

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::string errnoText() { return std::strerror(errno); }

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Loads a (certificate, key) pair, creates it with `make` when both are missing.
template <typename Make>
Result<PemCertificate> loadOrCreatePair(const std::string& certFile, const std::string& keyFile,
                                        const char* what, Make make) {
  bool haveCert = exists(certFile);
  bool haveKey = exists(keyFile);
  if (haveCert != haveKey) {
    return Status::Internal(
        "The state directory is inconsistent: " + (haveCert ? certFile : keyFile) + " exists but " +
        (haveCert ? keyFile : certFile) +
        " is missing. Restore it, or remove "
        "both to create a new " +
        what + ".");
  }
  if (haveCert) {
    PemCertificate pair;
    ASSIGN_OR_RETURN(pair.certificatePem, readFile(certFile));
    ASSIGN_OR_RETURN(pair.privateKeyPem, readFile(keyFile));
    if (!keyMatchesCertificate(pair.certificatePem, pair.privateKeyPem)) {
      return Status::Internal(keyFile + " is not the key of " + certFile +
                              "; restore the matching pair or remove both to create a new " + what +
                              ".");
    }
    return pair;
  }
  ASSIGN_OR_RETURN(PemCertificate pair, make());
  RETURN_IF_ERROR(writeFileAtomic(keyFile, pair.privateKeyPem, kSecretMode));
  RETURN_IF_ERROR(writeFileAtomic(certFile, pair.certificatePem, kPublicMode));
  spdlog::info("created {} {}", what, certFile);
  return pair;
}

Result<std::optional<store::Document>> firstOfType(store::Store& store, std::string_view type) {
  std::optional<store::Document> found;
  RETURN_IF_ERROR(store.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(type));
    if (!docs.empty()) found = std::move(docs.front());
    return Status::Ok();
  }));
  return found;
}

Result<bool> documentExists(store::Store& store, const std::string& key) {
  bool found = false;
  RETURN_IF_ERROR(store.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(key));
    found = doc.has_value();
    return Status::Ok();
  }));
  return found;
}

json readAdminFile(const std::string& path) {
  auto text = readFile(path);
  if (!text.ok()) return json::object();
  try {
    json parsed = json::parse(*text);
    return parsed.is_object() ? parsed : json::object();
  } catch (const json::exception&) {
    spdlog::warn("{} is not valid JSON; writing a new one", path);
    return json::object();
  }
}

}  // namespace

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Internal("Cannot read " + path + ": " + errnoText());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status writeFileAtomic(const std::string& path, const std::string& content, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::Internal("Cannot create " + tmp + ": " + errnoText());
  ::fchmod(fd, mode);  // independent of the umask
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string err = errnoText();
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Internal("Cannot write " + tmp + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("Cannot flush " + tmp + ": " + errnoText());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = errnoText();
    ::unlink(tmp.c_str());
    return Status::Internal("Cannot rename " + tmp + " to " + path + ": " + err);
  }
  int dirfd = ::open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd >= 0) {
    ::fsync(dirfd);
    ::close(dirfd);
  }
  return Status::Ok();
}

Result<StateFiles> prepareStateDir(const std::string& dirArg) {
  std::error_code ec;
  fs::path dir = fs::absolute(dirArg, ec);
  if (ec) return Status::InvalidArgument("InvalidStateDir", "Bad --state-dir " + dirArg);
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      return Status::Internal("Cannot create the state directory " + dir.string() + ": " +
                              ec.message() + "; choose another --state-dir or fix permissions.");
    }
    ::chmod(dir.c_str(), 0700);
  } else if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("InvalidStateDir",
                                   dir.string() + " exists and is not a directory");
  }

  StateFiles files{};
  files.dir = dir.string();
  files.caCertificateFile = (dir / "ca.crt").string();
  files.caKeyFile = (dir / "ca.key").string();
  files.serverCertificateFile = (dir / "server.crt").string();
  files.serverKeyFile = (dir / "server.key").string();
  files.tokenKeyFile = (dir / "token-signing.key").string();
  files.storePath = (dir / "privlink.db").string();
  files.adminFile = (dir / "admin.json").string();
  files.pidFile = (dir / "privlinkd.pid").string();

  ASSIGN_OR_RETURN(PemCertificate ca,
                   loadOrCreatePair(files.caCertificateFile, files.caKeyFile, "CA", [] {
                     return createCertificateAuthority("privlink local CA", 3650);
                   }));

  // The server certificate: re-issued when missing, foreign or about to expire.
  bool reissue = !exists(files.serverCertificateFile) || !exists(files.serverKeyFile);
  if (!reissue) {
    auto cert = readFile(files.serverCertificateFile);
    auto key = readFile(files.serverKeyFile);
    reissue = !cert.ok() || !key.ok() || !keyMatchesCertificate(*cert, *key);
    if (!reissue) {
      Status verified = verifyServerCertificate(ca.certificatePem, *cert, "localhost");
      auto notAfter = certificateNotAfter(*cert);
      reissue = !verified.ok() || !notAfter.ok() || *notAfter < nowSeconds() + 30 * 86400;
      if (reissue)
        spdlog::info("re-issuing {}: it is invalid or expires soon", files.serverCertificateFile);
    }
  }
  if (reissue) {
    ServerCertificateRequest request;
    request.ipAddresses = {"127.0.0.1", "::1"};
    ASSIGN_OR_RETURN(PemCertificate server, issueServerCertificate(ca, request));
    RETURN_IF_ERROR(writeFileAtomic(files.serverKeyFile, server.privateKeyPem, kSecretMode));
    RETURN_IF_ERROR(
        writeFileAtomic(files.serverCertificateFile, server.certificatePem, kPublicMode));
    spdlog::info("issued TLS certificate {}", files.serverCertificateFile);
  }

  if (exists(files.tokenKeyFile)) {
    ASSIGN_OR_RETURN(std::string pem, readFile(files.tokenKeyFile));
    ASSIGN_OR_RETURN(files.tokenKey, SigningKey::fromPrivateKeyPem(pem));
  } else {
    ASSIGN_OR_RETURN(files.tokenKey, SigningKey::generate());
    RETURN_IF_ERROR(
        writeFileAtomic(files.tokenKeyFile, files.tokenKey.privateKeyPem(), kSecretMode));
    spdlog::info("created token-signing key {} (kid {})", files.tokenKeyFile,
                 files.tokenKey.keyId());
  }
  return files;
}

Result<Identity> bootstrapIdentity(store::Store& store, const StateFiles& files,
                                   const std::string& endpoint) {
  Identity identity;
  PrincipalDirectory principals(store);
  std::string adminSecret;

  ASSIGN_OR_RETURN(std::optional<store::Document> tenantDoc, firstOfType(store, kTenantType));
  if (!tenantDoc) {
    identity.created = true;
    identity.tenantId = newGuid();
    identity.subscriptionId = newGuid();
    adminSecret = randomBase64Url(32);
    Principal admin = newServicePrincipal(identity.tenantId, "privlink admin", adminSecret, true);
    identity.adminObjectId = admin.objectId;
    identity.adminClientId = admin.appId;
    RETURN_IF_ERROR(store.write([&](store::Transaction& txn) -> Status {
      auto tenant = txn.put(tenantKey(identity.tenantId), kTenantType,
                            {{"tenantId", identity.tenantId}, {"displayName", "privlink"}});
      if (!tenant.ok()) return tenant.status();
      auto subscription = txn.put("/subscriptions/" + identity.subscriptionId, kSubscriptionType,
                                  {{"subscriptionId", identity.subscriptionId},
                                   {"tenantId", identity.tenantId},
                                   {"displayName", "privlink default"},
                                   {"state", "Enabled"}});
      if (!subscription.ok()) return subscription.status();
      return putPrincipal(txn, admin);
    }));
    spdlog::info("bootstrapped tenant {}, subscription {}, admin client {}", identity.tenantId,
                 identity.subscriptionId, identity.adminClientId);
  } else {
    identity.tenantId = tenantDoc->body.value("tenantId", "");
    if (identity.tenantId.empty()) {
      return Status::Internal("The tenant document " + tenantDoc->key + " has no tenantId");
    }
  }

  json adminFile = readAdminFile(files.adminFile);
  if (!identity.created) {
    ASSIGN_OR_RETURN(std::optional<store::Document> sub, firstOfType(store, kSubscriptionType));
    std::string fromFile = adminFile.value("subscriptionId", "");
    identity.subscriptionId = sub ? sub->body.value("subscriptionId", "") : "";
    if (!fromFile.empty()) {
      ASSIGN_OR_RETURN(bool still, documentExists(store, "/subscriptions/" + toLower(fromFile)));
      if (still) identity.subscriptionId = fromFile;
    }

    ASSIGN_OR_RETURN(std::optional<Principal> admin, principals.admin(identity.tenantId));
    std::string fileSecret = adminFile.value("clientSecret", "");
    if (!admin) {
      adminSecret = randomBase64Url(32);
      Principal created =
          newServicePrincipal(identity.tenantId, "privlink admin", adminSecret, true);
      RETURN_IF_ERROR(principals.put(created));
      admin = created;
      spdlog::warn("the admin service principal was missing; created a new one (client {})",
                   created.appId);
    } else if (iequals(adminFile.value("clientId", ""), admin->appId) && !fileSecret.empty() &&
               verifySecret(fileSecret, admin->secretHash)) {
      adminSecret = fileSecret;
    } else {
      adminSecret = randomBase64Url(32);
      admin->secretHash = hashSecret(adminSecret);
      RETURN_IF_ERROR(principals.put(*admin));
      spdlog::warn("{} was missing or stale; rotated the admin secret", files.adminFile);
    }
    identity.adminObjectId = admin->objectId;
    identity.adminClientId = admin->appId;
  }

  json out = {
      {"endpoint", endpoint},
      {"tenantId", identity.tenantId},
      {"subscriptionId", identity.subscriptionId},
      {"clientId", identity.adminClientId},
      {"clientSecret", adminSecret},
      {"caCertificate", files.caCertificateFile},
  };
  RETURN_IF_ERROR(writeFileAtomic(files.adminFile, out.dump(2) + "\n", kSecretMode));
  return identity;
}

}  // namespace privlink::api
