#include "cli/cli_context.h"

#include <algorithm>
#include <map>
#include <ostream>

#include "client/https_transport.h"

namespace privlink::cli {

TransportFactory httpsTransportFactory() {
  return [](const client::ClientConfig& config)
             -> Result<std::unique_ptr<client::HttpTransport>> {
    client::HttpsTransportOptions options;
    options.caCertificate = config.caCertificate;
    return client::makeHttpsTransport(options);
  };
}

CliContext::CliContext(std::ostream& out, std::ostream& err, TransportFactory transportFactory,
                       std::filesystem::path configDir)
    : out_(out),
      err_(err),
      transportFactory_(std::move(transportFactory)),
      configDir_(std::move(configDir)) {}

Result<client::ClientConfig> CliContext::config() {
  if (!config_) {
    ASSIGN_OR_RETURN(client::ClientConfig loaded, client::loadClientConfig(configDir_));
    config_ = std::move(loaded);
  }
  return *config_;
}

Result<std::unique_ptr<ArmSession>> CliContext::connect(const client::ClientConfig& config) {
  auto session = std::make_unique<ArmSession>();
  ASSIGN_OR_RETURN(session->transport, transportFactory_(config));
  session->tokens = std::make_unique<client::ClientCredentialsTokenProvider>(
      *session->transport,
      client::ClientCredentials{config.endpoint, config.tenantId, config.clientId,
                                config.clientSecret});
  client::ArmClientOptions options = armOptions_;
  if (verbose && !options.progress) {
    options.progress = [this](std::string_view status) {
      err_ << "waiting: " << (status.empty() ? "InProgress" : status) << "\n";
    };
  }
  session->arm = std::make_unique<client::ArmClient>(*session->transport, *session->tokens,
                                                     config.endpoint, std::move(options));
  return session;
}

Result<client::ArmClient*> CliContext::arm() {
  if (!session_) {
    ASSIGN_OR_RETURN(client::ClientConfig cfg, config());
    ASSIGN_OR_RETURN(session_, connect(cfg));
  }
  return session_->arm.get();
}

Result<std::string> CliContext::subscriptionId() {
  if (!subscriptionOption.empty()) return subscriptionOption;
  ASSIGN_OR_RETURN(client::ClientConfig cfg, config());
  if (cfg.subscriptionId.empty()) {
    return Status::InvalidArgument("SubscriptionNotSet",
                                   "no default subscription in " +
                                       client::configPath(configDir_).string() +
                                       "; pass --subscription S or run privlink account set "
                                       "--subscription S");
  }
  return cfg.subscriptionId;
}

void CliContext::finish(const Result<CommandOutput>& output) {
  if (!output.ok()) {
    const Status& s = output.status();
    if (s.armCode() == kUsageErrorCode) {
      err_ << "usage error: " << s.message() << "\n";
      exitCode_ = 2;
    } else {
      err_ << s.toString() << "\n";
      exitCode_ = 1;
    }
    return;
  }
  Result<OutputFormat> format = parseOutputFormat(outputOption);
  if (!format.ok()) {
    finish(format.status());
    return;
  }
  const CommandOutput& result = output.value();
  std::string type = result.tableType.empty() ? resultType(result.value) : result.tableType;
  switch (*format) {
    case OutputFormat::kJson:
      out_ << formatJson(result.value);
      break;
    case OutputFormat::kTable:
      out_ << formatTable(result.value, tableColumns_.forType(type));
      break;
    case OutputFormat::kTsv:
      out_ << formatTsv(result.value, tableColumns_.forType(type));
      break;
    case OutputFormat::kNone:
      break;
  }
  out_.flush();
}

void bindAction(CLI::App* command, CliContext& ctx, CommandAction action) {
  command->callback([&ctx, action = std::move(action)]() {
    Result<CommandOutput> result = Status::Internal("command did not run");
    try {
      result = action();
    } catch (const std::exception& e) {
      // Library exceptions (JSON access on an unexpected server body) end here, not in main().
      result = Status::Internal(std::string("unexpected failure: ") + e.what());
    }
    ctx.finish(result);
  });
}

CLI::App* subcommand(CLI::App& parent, const std::string& name, const std::string& description) {
  for (CLI::App* existing : parent.get_subcommands([](CLI::App*) { return true; })) {
    if (existing->get_name() == name) return existing;
  }
  CLI::App* created = parent.add_subcommand(name, description);
  created->require_subcommand(1);
  return created;
}

namespace {
std::map<std::string, CommandGroupSetup>& groupRegistry() {
  static std::map<std::string, CommandGroupSetup> registry;
  return registry;
}
}  // namespace

bool registerCommandGroup(const char* name, CommandGroupSetup setup) {
  groupRegistry()[name] = setup;
  return true;
}

int runCli(const std::vector<std::string>& args, CliContext& ctx) {
  CLI::App app("privlink: Private Link for Linux hosts (an az-like client for privlinkd)",
               "privlink");
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("-o,--output", ctx.outputOption, "Output format: json, table, tsv or none.")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "jsonc", "table", "tsv", "none"}, CLI::ignore_case));
  app.add_option("--subscription", ctx.subscriptionOption,
                 "Subscription id (default: the one saved by privlink login).");
  app.add_flag("--verbose", ctx.verbose, "Show long-running operation progress on stderr.");
  for (const auto& [name, setup] : groupRegistry()) setup(app, ctx);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, ctx.out(), ctx.err());
    return code == 0 ? 0 : 2;
  }
  return ctx.exitCode();
}

}  // namespace privlink::cli
