#pragma once
// The CLI's saved login: where privlinkd is and which service principal to use.
//
// Location: $PRIVLINK_CONFIG_DIR/config.json, else ~/.privlink/config.json. Saved with mode
// 0600 (it holds the client secret), its directory with 0700. The same JSON keys appear in the
// daemon's STATE_DIR/admin.json, which `privlink login --state-dir` reads.

#include <filesystem>
#include <string>

#include "common/status.h"

namespace privlink::client {

struct ClientConfig {
  std::string endpoint;        // https://localhost:8443
  std::string tenantId;
  std::string subscriptionId;  // default subscription for commands
  std::string clientId;
  std::string clientSecret;
  std::string caCertificate;   // PEM text or absolute path of a PEM file

  // "endpoint, clientId, ..." missing fields; empty when complete. subscriptionId is optional.
  std::string missingFields() const;
};

// $PRIVLINK_CONFIG_DIR, else $HOME/.privlink.
std::filesystem::path defaultConfigDir();
std::filesystem::path configPath(const std::filesystem::path& configDir);

// Parses the JSON keys above (unknown keys ignored). Fails with InvalidConfig naming the file.
Result<ClientConfig> parseClientConfig(const std::string& text, const std::string& origin);
std::string serializeClientConfig(const ClientConfig& config);  // pretty JSON

// Fails with NotLoggedIn ("run privlink login") when the file does not exist.
Result<ClientConfig> loadClientConfig(const std::filesystem::path& configDir);
// Writes atomically (temp file + rename) with mode 0600; creates the directory with 0700.
Status saveClientConfig(const std::filesystem::path& configDir, const ClientConfig& config);
// Reads a daemon's STATE_DIR/admin.json. A relative caCertificate path is made absolute
// against the state directory.
Result<ClientConfig> loadAdminConfig(const std::filesystem::path& stateDir);

}  // namespace privlink::client
