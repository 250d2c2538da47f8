// privlinkd: the privlink daemon (API, controller and agent roles; see api/daemon.h).
//
//   privlinkd [--state-dir DIR] [--listen HOST:PORT] [--role api,controller,agent]
//             [--threads N] [--log-level debug|info|warn|error] [--name-prefix P]
//             [--managed-identity] [--cleanup]
//
// On start it prints one line "privlinkd listening on https://localhost:PORT (state DIR)" to
// stdout and runs until SIGTERM or SIGINT, which stop it gracefully.
#include <signal.h>
#include <sys/resource.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "api/daemon.h"

namespace {

// The agent and the resolver hold sockets per VNet, moved above FD_SETSIZE
// (dataplane::moveAboveSelectRange) so that libnftables' select() never sees a high descriptor;
// that needs a soft RLIMIT_NOFILE above 1024 (often the default), so take the hard limit.
void raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("could not raise the open-file limit to {}", limit.rlim_max);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using privlink::api::Daemon;
  using privlink::api::DaemonOptions;

  CLI::App app{"privlinkd: Private Link for Linux hosts, with an ARM-compatible HTTPS API"};
  DaemonOptions options;
  std::string roles = "api,controller,agent";
  std::string logLevel = "info";
  bool cleanup = false;
  app.add_option("--state-dir", options.stateDir,
                 "State directory: store, keys, certificates, admin.json")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "HOST:PORT to serve HTTPS on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--role", roles, "Comma-separated roles: api, controller, agent (or all)")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "I/O threads (0: one per CPU)")
      ->capture_default_str();
  app.add_option("--log-level", logLevel, "debug, info, warn or error")->capture_default_str();
  app.add_option("--name-prefix", options.namePrefix,
                 "Prefix of the kernel objects the agent owns (tests use a unique one)")
      ->capture_default_str();
  app.add_flag("--managed-identity", options.managedIdentity,
               "Serve /msi/token (admin tokens for local clients; az login --identity)");
  app.add_flag("--cleanup", cleanup,
               "Remove every kernel object privlink owns (namespaces, links, nft tables) and exit");
  CLI11_PARSE(app, argc, argv);

  auto stderrLogger = spdlog::stderr_color_mt("privlinkd");
  spdlog::set_default_logger(stderrLogger);
  spdlog::set_level(spdlog::level::from_str(logLevel));

  raiseOpenFileLimit();

  auto parsedRoles = privlink::api::parseRoles(roles);
  if (!parsedRoles.ok()) {
    std::fprintf(stderr, "privlinkd: %s\n", parsedRoles.status().toString().c_str());
    return 2;
  }
  options.roles = *parsedRoles;

  if (cleanup) {
    auto cleaned = privlink::api::cleanupKernel(options.namePrefix);
    if (!cleaned.ok()) {
      std::fprintf(stderr, "privlinkd --cleanup: %s\n", cleaned.toString().c_str());
      return 1;
    }
    std::printf("privlinkd --cleanup: removed every kernel object with prefix '%s'\n",
                options.namePrefix.c_str());
    return 0;
  }

  // Block the stop signals in every thread; the main thread waits for them with sigwait.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Daemon daemon(options);
  auto started = daemon.start();
  if (!started.ok()) {
    spdlog::error("cannot start: {}", started.toString());
    return 1;
  }
  if (options.roles.api) {
    std::printf("privlinkd listening on %s (state %s)\n", daemon.baseUrl().c_str(),
                daemon.stateFiles().dir.c_str());
  } else {
    std::printf("privlinkd running without the api role (state %s)\n",
                daemon.stateFiles().dir.c_str());
  }
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stopSignals, &signal);
  spdlog::info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  daemon.stop();
  spdlog::info("stopped");
  return 0;
}
