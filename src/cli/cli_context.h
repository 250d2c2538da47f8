#pragma once
// The privlink CLI's shared state and the contract every command group follows.
//
// A command group lives in one file (src/cli/<group>_commands.cc) and registers itself:
//
//   void setupVnetCommands(CLI::App& root, CliContext& ctx) {
//     CLI::App* vnet = subcommand(root, "vnet", "Manage virtual networks.");
//     auto args = std::make_shared<VnetCreateArgs>();
//     CLI::App* create = vnet->add_subcommand("create", "Create a virtual network.");
//     create->add_option("-n,--name", args->name)->required();
//     bindAction(create, ctx, [&ctx, args]() -> Result<CommandOutput> { ... });
//   }
//   PRIVLINK_CLI_COMMAND_GROUP("vnet", setupVnetCommands);
//
// privlink_cli is linked whole-archive (src/cli/CMakeLists.txt), so adding a file is enough.
// Actions return the JSON to print (null prints nothing) or a Status: "UsageError" statuses exit
// 2 ("usage error: ..."), others print "Code: message" on stderr and exit 1.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/output_format.h"
#include "cli/usage_error.h"
#include "client/arm_client.h"
#include "client/client_config.h"
#include "client/http_transport.h"
#include "client/token_provider.h"
#include "common/status.h"

namespace privlink::cli {

// Creates the transport for a config; production uses HTTPS, tests inject fakes.
using TransportFactory = std::function<Result<std::unique_ptr<client::HttpTransport>>(
    const client::ClientConfig& config)>;
TransportFactory httpsTransportFactory();

// A connected client: transport, token provider and ArmClient, owned together.
struct ArmSession {
  std::unique_ptr<client::HttpTransport> transport;
  std::unique_ptr<client::ClientCredentialsTokenProvider> tokens;
  std::unique_ptr<client::ArmClient> arm;
};

// What an action prints. `tableType` overrides the resource type used to pick table columns
// (for sub-resources the server may return without "type").
struct CommandOutput {
  CommandOutput() = default;
  CommandOutput(Json v) : value(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  CommandOutput(Json v, std::string type) : value(std::move(v)), tableType(std::move(type)) {}
  Json value;
  std::string tableType;
};

class CliContext {
 public:
  CliContext(std::ostream& out, std::ostream& err, TransportFactory transportFactory,
             std::filesystem::path configDir);

  // Global options (bound by runCli before parsing).
  std::string outputOption = "json";
  std::string subscriptionOption;
  bool verbose = false;

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  const std::filesystem::path& configDir() const { return configDir_; }
  TableColumns& tableColumns() { return tableColumns_; }
  // Applied to every ArmClient this context creates (tests shorten sleeps here).
  client::ArmClientOptions& armOptions() { return armOptions_; }

  // The saved login, loaded once; NotLoggedIn ("run privlink login") when there is none.
  Result<client::ClientConfig> config();
  // The client for the saved login, created once.
  Result<client::ArmClient*> arm();
  // A client for `config` (login uses this before saving).
  Result<std::unique_ptr<ArmSession>> connect(const client::ClientConfig& config);
  // --subscription, else the saved default; fails when neither is set.
  Result<std::string> subscriptionId();

  // Prints `output` in the selected format, or the error; records the exit code.
  void finish(const Result<CommandOutput>& output);
  int exitCode() const { return exitCode_; }
  void setExitCode(int code) { exitCode_ = code; }

 private:
  std::ostream& out_;
  std::ostream& err_;
  TransportFactory transportFactory_;
  std::filesystem::path configDir_;
  TableColumns tableColumns_;
  client::ArmClientOptions armOptions_;
  std::optional<client::ClientConfig> config_;
  std::unique_ptr<ArmSession> session_;
  int exitCode_ = 0;
};

using CommandAction = std::function<Result<CommandOutput>()>;
// Runs `action` when `command` is the parsed leaf and prints its result through ctx.finish().
void bindAction(CLI::App* command, CliContext& ctx, CommandAction action);

// The subcommand `name` of `parent`, created when missing, so groups may extend each other
// (e.g. a later file adding `nic exec`).
CLI::App* subcommand(CLI::App& parent, const std::string& name, const std::string& description);

using CommandGroupSetup = void (*)(CLI::App& root, CliContext& ctx);
// Called from static initialisers (PRIVLINK_CLI_COMMAND_GROUP); setups run in name order.
bool registerCommandGroup(const char* name, CommandGroupSetup setup);

// Builds the app (global options + every registered group), parses `args` (without argv[0])
// and runs the selected command. Returns the process exit code: 0 ok, 1 API error, 2 usage.
int runCli(const std::vector<std::string>& args, CliContext& ctx);

}  // namespace privlink::cli

#define PRIVLINK_CLI_CONCAT_INNER(a, b) a##b
#define PRIVLINK_CLI_CONCAT(a, b) PRIVLINK_CLI_CONCAT_INNER(a, b)
#define PRIVLINK_CLI_COMMAND_GROUP(name, setup)                                     \
  static const bool PRIVLINK_CLI_CONCAT(kPrivlinkCommandGroup_, __LINE__) [[maybe_unused]] = \
      ::privlink::cli::registerCommandGroup(name, setup)
