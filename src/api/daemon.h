#pragma once
// Daemon: privlinkd's process wiring (DESIGN.md §3). start() does, in order:
//   1. prepareStateDir(stateDir): CA, TLS certificate, token-signing key (bootstrap.h);
//      takes an exclusive lock on DIR/privlinkd.pid (one daemon per state directory) and writes
//      the pid into it;
//   2. opens the store DIR/privlink.db and builds the control plane (ResourceService with every
//      registered kind, ProvisioningTracker);
//   3. role agent: starts the data-plane agent (agent::Agent on the real kernel) on the store,
//      registered as a realiser with the ProvisioningTracker; needs root;
//   4. role api: starts the HTTPS server on `listen`, bootstraps the identity for the bound port
//      (bootstrapIdentity: tenant, default subscription, admin, admin.json) and serves
//      Frontend -> {TokenIssuer | Authenticator -> AuthorizationGate -> ArmRouter}.
// stop() is graceful (server first, then the agent, then the store) and idempotent.
// The controller role currently has no separate loop (the API applies changes synchronously);
// it is accepted for forward compatibility.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "api/bootstrap.h"
#include "common/status.h"

namespace privlink::api {

struct DaemonRoles {
  bool api = true;
  bool controller = true;
  bool agent = true;
};

// "api,controller,agent" (any subset, any order; "all" = every role).
Result<DaemonRoles> parseRoles(std::string_view text);

struct ListenAddress {
  std::string host;  // numeric address
  uint16_t port = 0;
};
// "127.0.0.1:8443", "[::1]:0", "localhost:8443" (-> 127.0.0.1), ":8443" (-> 127.0.0.1).
Result<ListenAddress> parseListenAddress(std::string_view text);

struct DaemonOptions {
  std::string stateDir = "/var/lib/privlink";
  std::string listen = "127.0.0.1:8443";
  DaemonRoles roles;
  int threads = 0;  // I/O threads; 0 = hardware concurrency
  // Prefix of every kernel object the agent owns (agent::AgentOptions::namePrefix). Tests that
  // run a daemon with the agent role use a unique one so they never touch another's objects.
  std::string namePrefix = "pl";
  // Serve /msi/token (tokens for the admin principal to loopback clients that send
  // `Metadata: true`), for `az login --identity` with MSI_ENDPOINT=BASE/msi/token. Off by default.
  bool managedIdentity = false;
};

// `privlinkd --cleanup`: removes every kernel object (namespaces and what is in them) whose name
// starts with the agent's prefix, whatever the store says. Needs root.
Status cleanupKernel(const std::string& namePrefix);

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();  // stops
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Status start();
  void stop();
  void wait();  // until stop() has finished (from any thread)

  // After start(): "https://localhost:PORT" (empty without the api role), and the bound port.
  const std::string& baseUrl() const { return baseUrl_; }
  uint16_t port() const { return port_; }
  const Identity& identity() const { return identity_; }
  const StateFiles& stateFiles() const { return files_; }

 private:
  struct Parts;
  Status startAgent();  // the agent role's hook (see daemon.cc)
  Status lockPidFile();

  DaemonOptions options_;
  StateFiles files_;
  Identity identity_;
  std::string baseUrl_;
  uint16_t port_ = 0;
  int pidFd_ = -1;
  std::unique_ptr<Parts> parts_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool stopped_ = false;   // guarded by mu_: stop() has finished
  bool started_ = false;
};

}  // namespace privlink::api
