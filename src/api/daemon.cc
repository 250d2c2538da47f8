#include "api/daemon.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "agent/agent.h"
#include "api/arm_error.h"
#include "api/arm_router.h"
#include "api/authenticator.h"
#include "api/authorization_gate.h"
#include "api/authorization_routes.h"
#include "api/frontend.h"
#include "api/https_server.h"
#include "api/identity_routes.h"
#include "api/principals.h"
#include "api/token_issuer.h"
#include "common/resource_id.h"
#include "control/authorization/authorizer.h"
#include "control/network/register.h"
#include "control/paas/paas_kind.h"
#include "control/privatedns/private_dns_kinds.h"
#include "control/privatelink/discovery.h"
#include "control/privatelink/register.h"
#include "control/provisioning.h"
#include "control/resource_service.h"
#include "dataplane/kernel.h"
#include "dns/responder.h"
#include "store/store.h"

namespace privlink::api {

struct Daemon::Parts {
  std::unique_ptr<store::Store> store;
  control::ProvisioningTracker tracker;
  std::unique_ptr<control::ResourceService> service;
  std::shared_ptr<control::privatelink::PrivateLinkContext> privateLink;  // PaaS types extend it
  std::unique_ptr<ArmRouter> router;
  std::unique_ptr<PrincipalDirectory> principals;
  std::unique_ptr<TokenIssuer> issuer;
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<control::authorization::Authorizer> authorizer;
  std::unique_ptr<AuthorizationRoutes> authorizationRoutes;
  std::unique_ptr<IdentityRoutes> identityRoutes;
  std::unique_ptr<AuthorizationGate> gate;
  std::unique_ptr<Frontend> frontend;
  std::atomic<const Frontend*> published{nullptr};
  std::unique_ptr<agent::Agent> agent;  // stops before the store closes (declared after it)
  std::unique_ptr<dns::Responder> dns;  // the 168.63.129.16 resolver of the agent role
  std::unique_ptr<HttpsServer> server;  // stops first
};

Result<DaemonRoles> parseRoles(std::string_view text) {
  DaemonRoles roles{false, false, false};
  size_t start = 0;
  bool any = false;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string role = toLower(text.substr(start, end - start));
    start = end + 1;
    if (role.empty()) continue;
    any = true;
    if (role == "api") {
      roles.api = true;
    } else if (role == "controller") {
      roles.controller = true;
    } else if (role == "agent") {
      roles.agent = true;
    } else if (role == "all") {
      roles = DaemonRoles{};
    } else {
      return Status::InvalidArgument(
          "InvalidRole", "Unknown role '" + role + "'; use api, controller, agent or all");
    }
  }
  if (!any) return Status::InvalidArgument("InvalidRole", "--role needs at least one role");
  return roles;
}

Result<ListenAddress> parseListenAddress(std::string_view text) {
  auto bad = [&](std::string why) {
    return Status::InvalidArgument("InvalidListenAddress",
                                   "--listen '" + std::string(text) + "': " + why +
                                       "; use HOST:PORT such as 127.0.0.1:8443 or [::1]:0");
  };
  ListenAddress out;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("unbalanced [IPv6] address");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("the port is missing");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("put IPv6 addresses in brackets");
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  out.port = static_cast<uint16_t>(value);
  out.host = host.empty() || iequals(host, "localhost") ? "127.0.0.1" : std::string(host);
  return out;
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}

Daemon::~Daemon() {
  stop();
  if (pidFd_ >= 0) ::close(pidFd_);
}

Status Daemon::lockPidFile() {
  pidFd_ = ::open(files_.pidFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (pidFd_ < 0) {
    return Status::Internal("Cannot open " + files_.pidFile + ": " + std::strerror(errno));
  }
  if (::flock(pidFd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(pidFd_, buf, sizeof(buf) - 1, 0);
    std::string other = n > 0 ? std::string(buf, n) : "?";
    while (!other.empty() && (other.back() == '\n' || other.back() == ' ')) other.pop_back();
    ::close(pidFd_);
    pidFd_ = -1;
    return Status::Conflict("StateDirInUse", "Another privlinkd (pid " + other + ") uses " +
                                                 files_.dir +
                                                 "; stop it or choose another --state-dir.");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(pidFd_, 0) != 0 || ::pwrite(pidFd_, pid.data(), pid.size(), 0) < 0) {
    return Status::Internal("Cannot write " + files_.pidFile + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

// The agent role's hook: the data-plane agent (src/agent) starts here, after the store is open
// and before the API accepts writes, so that it registers as a realiser with parts_->tracker
// first (from then on a change is Succeeded only once the kernel has it). It needs root.
Status Daemon::startAgent() {
  if (::geteuid() != 0) {
    return Status::PermissionDenied(
        "AgentNeedsRoot",
        "The agent role programs network namespaces, links and nftables and needs root "
        "(CAP_NET_ADMIN, CAP_SYS_ADMIN); run privlinkd as root or without it "
        "(--role api,controller).");
  }
  agent::AgentOptions agentOptions;
  agentOptions.namePrefix = options_.namePrefix;
  parts_->agent = std::make_unique<agent::Agent>(*parts_->store, parts_->tracker,
                                                 dataplane::makeLinuxKernel(), agentOptions);
  parts_->agent->start();
  spdlog::info("role agent: realising the store in the kernel (name prefix '{}')",
               options_.namePrefix);
  dns::ResponderOptions dnsOptions;
  dnsOptions.namePrefix = options_.namePrefix;
  parts_->dns = std::make_unique<dns::Responder>(*parts_->store, dnsOptions);
  RETURN_IF_ERROR(parts_->dns->start());
  return Status::Ok();
}

Status cleanupKernel(const std::string& namePrefix) {
  if (::geteuid() != 0) {
    return Status::PermissionDenied("AgentNeedsRoot", "--cleanup needs root");
  }
  auto kernel = dataplane::makeLinuxKernel();
  return agent::Agent::cleanupAll(*kernel, namePrefix);
}

Status Daemon::start() {
  if (started_) return Status::Ok();
  ASSIGN_OR_RETURN(files_, prepareStateDir(options_.stateDir));
  RETURN_IF_ERROR(lockPidFile());
  parts_ = std::make_unique<Parts>();

  store::SqliteOptions storeOptions;
  storeOptions.path = files_.storePath;
  ASSIGN_OR_RETURN(parts_->store, store::openSqliteStore(storeOptions));
  control::ControlConfig controlConfig;
  parts_->service =
      std::make_unique<control::ResourceService>(*parts_->store, parts_->tracker, controlConfig);
  control::registerNetworkKinds(*parts_->service);
  control::privatedns::registerPrivateDnsKinds(*parts_->service);
  parts_->privateLink = control::privatelink::registerPrivateLinkKinds(*parts_->service);
  // PaaS types: the built-in catalog plus the operator's file named by PRIVLINK_PAAS_CATALOG.
  ASSIGN_OR_RETURN(control::paas::PaasCatalog paasCatalog,
                   control::paas::paasCatalogFromEnvironment());
  control::paas::registerPaasKinds(*parts_->service, parts_->privateLink, paasCatalog);

  if (options_.roles.agent) RETURN_IF_ERROR(startAgent());

  if (options_.roles.api) {
    ASSIGN_OR_RETURN(ListenAddress listen, parseListenAddress(options_.listen));
    HttpsServerOptions serverOptions;
    serverOptions.host = listen.host;
    serverOptions.port = listen.port;
    serverOptions.certificateChainFile = files_.serverCertificateFile;
    serverOptions.privateKeyFile = files_.serverKeyFile;
    serverOptions.threads = options_.threads;
    Parts* parts = parts_.get();
    parts_->server = std::make_unique<HttpsServer>(serverOptions, [parts](const HttpRequest& r) {
      const Frontend* frontend = parts->published.load(std::memory_order_acquire);
      if (!frontend) {
        auto response = armErrorResponse(Status::Unavailable("privlinkd is starting; retry."));
        response.setHeader("Retry-After", "1");
        return response;
      }
      return frontend->handle(r);
    });
    RETURN_IF_ERROR(parts_->server->start());
    port_ = parts_->server->port();
    baseUrl_ = "https://localhost:" + std::to_string(port_);

    ASSIGN_OR_RETURN(identity_, bootstrapIdentity(*parts_->store, files_, baseUrl_));
    IdentityConfig identity;
    identity.baseUrl = baseUrl_;
    identity.tenantId = identity_.tenantId;
    if (options_.managedIdentity) identity.managedIdentityObjectId = identity_.adminObjectId;
    parts_->principals = std::make_unique<PrincipalDirectory>(*parts_->store);
    parts_->issuer = std::make_unique<TokenIssuer>(identity, files_.tokenKey, *parts_->principals);
    parts_->authenticator =
        std::make_unique<Authenticator>(identity, files_.tokenKey, *parts_->principals);
    ArmRouterOptions routerOptions;
    routerOptions.baseUrl = baseUrl_;
    routerOptions.privateLink =
        std::make_shared<control::privatelink::PrivateLinkDiscovery>(parts_->privateLink);
    parts_->router = std::make_unique<ArmRouter>(*parts_->service, routerOptions);
    ArmRouter* router = parts_->router.get();
    parts_->authorizer = std::make_unique<control::authorization::Authorizer>(*parts_->store);
    parts_->service->setAuthorizer(parts_->authorizer.get());  // KindContext::authorizer
    parts_->authorizationRoutes =
        std::make_unique<AuthorizationRoutes>(*parts_->store, *parts_->principals);
    parts_->identityRoutes = std::make_unique<IdentityRoutes>(*parts_->store, *parts_->principals);
    parts_->gate = std::make_unique<AuthorizationGate>(
        *parts_->authorizer, *parts_->authorizationRoutes, *parts_->identityRoutes,
        [router](const HttpRequest& request, const control::Caller& caller) {
          return router->handle(request, caller);
        });
    AuthorizationGate* gate = parts_->gate.get();
    // Frontend (authentication) -> AuthorizationGate (RBAC) -> ArmRouter.
    parts_->frontend = std::make_unique<Frontend>(
        *parts_->issuer, *parts_->authenticator,
        [gate](const HttpRequest& request, const control::Caller& caller) {
          return gate->handle(request, caller);
        },
        parts_->principals.get());
    parts_->published.store(parts_->frontend.get(), std::memory_order_release);
  }
  started_ = true;
  return Status::Ok();
}

void Daemon::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (parts_ && parts_->server) {
    parts_->server->stop();
  }
  if (parts_ && parts_->dns) parts_->dns->stop();
  if (parts_ && parts_->agent) {
    parts_->agent->stop();  // after the API, before the store closes
  }
  if (pidFd_ >= 0 && started_) {
    ::unlink(files_.pidFile.c_str());
  }
  parts_.reset();
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

void Daemon::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopped_; });
}

}  // namespace privlink::api
