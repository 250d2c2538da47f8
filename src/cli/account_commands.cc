// privlink login / logout / account: the saved login (client/client_config.h).

#include <filesystem>

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "common/resource_id.h"

namespace privlink::cli {
namespace {

struct LoginArgs {
  std::string stateDir;
  std::string endpoint;
  std::string tenant;
  std::string clientId;
  std::string clientSecret;
  std::string ca;
};

std::string stringField(const Json& j, const char* name) {
  if (j.is_object() && j.contains(name) && j[name].is_string()) return j[name].get<std::string>();
  return {};
}

// az's account entry: what `az login` and `az account show` print.
Json accountEntry(const Json& subscription, const client::ClientConfig& config, bool isDefault) {
  std::string id = stringField(subscription, "subscriptionId");
  if (id.empty()) id = stringField(subscription, "id");
  std::string tenant = stringField(subscription, "tenantId");
  return Json{{"cloudName", "privlink"},
              {"endpoint", config.endpoint},
              {"id", id},
              {"isDefault", isDefault},
              {"name", stringField(subscription, "displayName")},
              {"state", stringField(subscription, "state")},
              {"tenantId", tenant.empty() ? config.tenantId : tenant},
              {"user", {{"name", config.clientId}, {"type", "servicePrincipal"}}}};
}

std::string subscriptionIdOf(const Json& subscription) {
  std::string id = stringField(subscription, "subscriptionId");
  return id.empty() ? stringField(subscription, "id") : id;
}

Result<CommandOutput> login(CliContext& ctx, const LoginArgs& args) {
  client::ClientConfig config;
  if (!args.stateDir.empty()) {
    ASSIGN_OR_RETURN(config, client::loadAdminConfig(args.stateDir));
  } else {
    std::string missing;
    for (auto [value, flag] : {std::pair{&args.endpoint, "--endpoint"},
                               {&args.tenant, "--tenant"},
                               {&args.clientId, "--client-id"},
                               {&args.clientSecret, "--client-secret"},
                               {&args.ca, "--ca"}}) {
      if (value->empty()) missing += missing.empty() ? flag : std::string(", ") + flag;
    }
    if (!missing.empty()) {
      return usageError("pass --state-dir DIR, or all of --endpoint, --tenant, --client-id, "
                        "--client-secret and --ca (missing: " + missing + ")");
    }
    config.endpoint = args.endpoint;
    config.tenantId = args.tenant;
    config.clientId = args.clientId;
    config.clientSecret = args.clientSecret;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(args.ca, ec)) {
      return usageError("--ca " + args.ca + " is not a readable file");
    }
    config.caCertificate = std::filesystem::absolute(args.ca).string();
  }
  if (!ctx.subscriptionOption.empty()) config.subscriptionId = ctx.subscriptionOption;

  ASSIGN_OR_RETURN(std::unique_ptr<ArmSession> session, ctx.connect(config));
  ASSIGN_OR_RETURN(std::string token, session->tokens->accessToken());
  (void)token;
  ASSIGN_OR_RETURN(std::vector<Json> subscriptions,
                   session->arm->list(withSubscriptionsApi("/subscriptions")));
  if (subscriptions.empty()) {
    return Status::PermissionDenied("NoSubscriptionsFound",
                                    "client " + config.clientId +
                                        " has no role on any subscription; grant it one first");
  }
  if (config.subscriptionId.empty()) {
    config.subscriptionId = subscriptionIdOf(subscriptions.front());
  } else {
    bool found = false;
    std::string available;
    for (const auto& s : subscriptions) {
      found = found || iequals(subscriptionIdOf(s), config.subscriptionId);
      available += (available.empty() ? "" : ", ") + subscriptionIdOf(s);
    }
    if (!found) {
      return Status::NotFound("SubscriptionNotFound",
                              "subscription " + config.subscriptionId + " is not visible to " +
                                  config.clientId + "; available: " + available);
    }
  }
  RETURN_IF_ERROR(client::saveClientConfig(ctx.configDir(), config));
  Json out = Json::array();
  for (const auto& s : subscriptions) {
    out.push_back(accountEntry(s, config, iequals(subscriptionIdOf(s), config.subscriptionId)));
  }
  return CommandOutput(std::move(out), "privlink/account");
}

Result<CommandOutput> logout(CliContext& ctx) {
  std::filesystem::path path = client::configPath(ctx.configDir());
  std::error_code ec;
  if (!std::filesystem::remove(path, ec)) {
    if (ec) return Status::Internal("cannot remove " + path.string() + ": " + ec.message());
    return Status::Unauthenticated("NotLoggedIn", "not logged in (no " + path.string() + ")");
  }
  return CommandOutput();
}

Result<CommandOutput> accountShow(CliContext& ctx) {
  ASSIGN_OR_RETURN(client::ClientConfig config, ctx.config());
  ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  ASSIGN_OR_RETURN(Json s, arm->get(withSubscriptionsApi(subscriptionPath(subscription))));
  return CommandOutput(accountEntry(s, config, iequals(subscription, config.subscriptionId)),
                       "privlink/account");
}

Result<CommandOutput> accountList(CliContext& ctx) {
  ASSIGN_OR_RETURN(client::ClientConfig config, ctx.config());
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  ASSIGN_OR_RETURN(std::vector<Json> subscriptions,
                   arm->list(withSubscriptionsApi("/subscriptions")));
  Json out = Json::array();
  for (const auto& s : subscriptions) {
    out.push_back(accountEntry(s, config, iequals(subscriptionIdOf(s), config.subscriptionId)));
  }
  return CommandOutput(std::move(out), "privlink/account");
}

Result<CommandOutput> accountSet(CliContext& ctx) {
  if (ctx.subscriptionOption.empty()) return usageError("--subscription is required");
  ASSIGN_OR_RETURN(client::ClientConfig config, ctx.config());
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  ASSIGN_OR_RETURN(Json s, arm->get(withSubscriptionsApi(subscriptionPath(ctx.subscriptionOption))));
  config.subscriptionId = subscriptionIdOf(s).empty() ? ctx.subscriptionOption : subscriptionIdOf(s);
  RETURN_IF_ERROR(client::saveClientConfig(ctx.configDir(), config));
  return CommandOutput();
}

void setupAccountCommands(CLI::App& root, CliContext& ctx) {
  ctx.tableColumns().add("privlink/account",
                         {TableColumn::pointer("SubscriptionId", "/id"),
                          TableColumn::pointer("TenantId", "/tenantId"),
                          TableColumn::pointer("State", "/state"),
                          TableColumn::pointer("IsDefault", "/isDefault")});

  auto args = std::make_shared<LoginArgs>();
  CLI::App* loginCmd = root.add_subcommand(
      "login",
      "Log in to privlinkd with a service principal and save the login (mode 0600) in "
      "$PRIVLINK_CONFIG_DIR/config.json or ~/.privlink/config.json.");
  CLI::Option* stateDir = loginCmd->add_option(
      "--state-dir", args->stateDir, "Read the admin login from the daemon's STATE_DIR/admin.json.");
  std::vector<CLI::Option*> explicitOptions = {
      loginCmd->add_option("--endpoint", args->endpoint, "ARM endpoint, e.g. https://localhost:8443"),
      loginCmd->add_option("--tenant", args->tenant, "Tenant id (GUID)."),
      loginCmd->add_option("--client-id", args->clientId, "Service principal application id."),
      loginCmd->add_option("--client-secret", args->clientSecret, "Service principal secret."),
      loginCmd->add_option("--ca", args->ca, "PEM file of the CA that signed privlinkd's certificate."),
  };
  for (CLI::Option* o : explicitOptions) o->excludes(stateDir);
  bindAction(loginCmd, ctx, [&ctx, args]() { return login(ctx, *args); });

  CLI::App* logoutCmd = root.add_subcommand("logout", "Forget the saved login.");
  bindAction(logoutCmd, ctx, [&ctx]() { return logout(ctx); });

  CLI::App* account = subcommand(root, "account", "Show the logged-in account and subscriptions.");
  bindAction(account->add_subcommand("show", "Show the current subscription."), ctx,
             [&ctx]() { return accountShow(ctx); });
  bindAction(account->add_subcommand("list", "List the subscriptions the login can see."), ctx,
             [&ctx]() { return accountList(ctx); });
  bindAction(account->add_subcommand("set", "Make --subscription the default subscription."), ctx,
             [&ctx]() { return accountSet(ctx); });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("account", setupAccountCommands);

}  // namespace privlink::cli
