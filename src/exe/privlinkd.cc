// privlinkd: the privlink daemon (API, controller and agent roles; see api/daemon.h).
//
//   privlinkd [--state-dir DIR] [--listen HOST:PORT] [--role api,controller,agent]
//             [--threads N] [--log-level debug|info|warn|error] [--cleanup]
//
// On start it prints one line "privlinkd listening on https://localhost:PORT (state DIR)" to
// stdout and runs until SIGTERM or SIGINT, which stop it gracefully.
#include <signal.h>

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/daemon.h"

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
  app.add_flag("--cleanup", cleanup,
               "Remove every kernel object privlink owns (namespaces, links, nft tables) and exit");
  CLI11_PARSE(app, argc, argv);

  auto stderrLogger = spdlog::stderr_color_mt("privlinkd");
  spdlog::set_default_logger(stderrLogger);
  spdlog::set_level(spdlog::level::from_str(logLevel));

  auto parsedRoles = privlink::api::parseRoles(roles);
  if (!parsedRoles.ok()) {
    std::fprintf(stderr, "privlinkd: %s\n", parsedRoles.status().toString().c_str());
    return 2;
  }
  options.roles = *parsedRoles;

  if (cleanup) {
    // The agent (src/agent) owns kernel objects; this build has none to remove.
    std::printf("privlinkd --cleanup: the data-plane agent is not part of this build, so "
                "privlinkd owns no kernel objects; nothing to remove\n");
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
