#include "client/client_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace privlink::client {
namespace fs = std::filesystem;

std::string ClientConfig::missingFields() const {
  std::string out;
  auto need = [&](const std::string& value, const char* name) {
    if (value.empty()) out += out.empty() ? name : std::string(", ") + name;
  };
  need(endpoint, "endpoint");
  need(tenantId, "tenantId");
  need(clientId, "clientId");
  need(clientSecret, "clientSecret");
  need(caCertificate, "caCertificate");
  return out;
}

fs::path defaultConfigDir() {
  if (const char* dir = std::getenv("PRIVLINK_CONFIG_DIR"); dir && *dir) return fs::path(dir);
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".privlink";
}

fs::path configPath(const fs::path& configDir) { return configDir / "config.json"; }

Result<ClientConfig> parseClientConfig(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("InvalidConfig", origin + " is not valid JSON: " + e.what());
  }
  if (!j.is_object()) {
    return Status::InvalidArgument("InvalidConfig", origin + " must hold a JSON object");
  }
  ClientConfig c;
  auto field = [&](const char* name, std::string& out) -> Status {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) {
      return Status::InvalidArgument("InvalidConfig",
                                     origin + ": '" + name + "' must be a string");
    }
    out = it->get<std::string>();
    return Status::Ok();
  };
  RETURN_IF_ERROR(field("endpoint", c.endpoint));
  RETURN_IF_ERROR(field("tenantId", c.tenantId));
  RETURN_IF_ERROR(field("subscriptionId", c.subscriptionId));
  RETURN_IF_ERROR(field("clientId", c.clientId));
  RETURN_IF_ERROR(field("clientSecret", c.clientSecret));
  RETURN_IF_ERROR(field("caCertificate", c.caCertificate));
  return c;
}

std::string serializeClientConfig(const ClientConfig& c) {
  nlohmann::ordered_json j;
  j["endpoint"] = c.endpoint;
  j["tenantId"] = c.tenantId;
  j["subscriptionId"] = c.subscriptionId;
  j["clientId"] = c.clientId;
  j["clientSecret"] = c.clientSecret;
  j["caCertificate"] = c.caCertificate;
  return j.dump(2) + "\n";
}

namespace {
Result<std::string> readFile(const fs::path& path, bool& missing) {
  std::ifstream in(path, std::ios::binary);
  missing = false;
  if (!in) {
    missing = errno == ENOENT;
    return Status::InvalidArgument("InvalidConfig", "cannot read " + path.string() + ": " +
                                                        std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

Result<ClientConfig> loadClientConfig(const fs::path& configDir) {
  fs::path path = configPath(configDir);
  bool missing = false;
  Result<std::string> text = readFile(path, missing);
  if (!text.ok()) {
    if (missing) {
      return Status::Unauthenticated(
          "NotLoggedIn", "not logged in (no " + path.string() +
                             "); run privlink login --state-dir DIR or privlink login --endpoint "
                             "URL --tenant T --client-id ID --client-secret S --ca FILE");
    }
    return text.status();
  }
  ASSIGN_OR_RETURN(ClientConfig config, parseClientConfig(*text, path.string()));
  if (std::string missingFields = config.missingFields(); !missingFields.empty()) {
    return Status::Unauthenticated("NotLoggedIn", path.string() + " lacks " + missingFields +
                                                      "; run privlink login again");
  }
  return config;
}

Status saveClientConfig(const fs::path& configDir, const ClientConfig& config) {
  std::error_code ec;
  fs::create_directories(configDir, ec);
  if (ec) {
    return Status::Internal("cannot create " + configDir.string() + ": " + ec.message());
  }
  ::chmod(configDir.c_str(), 0700);
  fs::path path = configPath(configDir);
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Internal("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  ::fchmod(fd, 0600);  // O_CREAT honours the umask; an existing file keeps its old mode
  std::string text = serializeClientConfig(config);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Internal("cannot write " + tmp.string() + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::Internal("cannot rename " + tmp.string() + " to " + path.string() + ": " + err);
  }
  return Status::Ok();
}

Result<ClientConfig> loadAdminConfig(const fs::path& stateDir) {
  fs::path path = stateDir / "admin.json";
  bool missing = false;
  Result<std::string> text = readFile(path, missing);
  if (!text.ok()) {
    if (missing) {
      return Status::NotFound("AdminConfigNotFound",
                              path.string() +
                                  " does not exist; start privlinkd with --state-dir " +
                                  stateDir.string() + " first (it writes admin.json on first start)");
    }
    return text.status();
  }
  ASSIGN_OR_RETURN(ClientConfig config, parseClientConfig(*text, path.string()));
  if (!config.caCertificate.empty() &&
      config.caCertificate.find("-----BEGIN") == std::string::npos &&
      fs::path(config.caCertificate).is_relative()) {
    config.caCertificate = fs::absolute(stateDir / config.caCertificate).string();
  }
  if (std::string missingFields = config.missingFields(); !missingFields.empty()) {
    return Status::InvalidArgument("InvalidConfig", path.string() + " lacks " + missingFields);
  }
  return config;
}

}  // namespace privlink::client
