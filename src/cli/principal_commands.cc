// privlink principal / user / secret / subscription: the directory and subscriptions
// (api/identity_routes.h). Admin only on the server side.

#include <cctype>

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "common/resource_id.h"

namespace privlink::cli {
namespace {

constexpr const char* kDirectoryApi = "?api-version=2024-01-01";
constexpr const char* kAliasApi = "?api-version=2021-10-01";
const std::string kPrincipals = "/providers/Microsoft.Privlink/principals";

struct PrincipalArgs {
  std::string name;
  std::string ref;
  std::string upn;
  std::string displayName;
  std::string password;
  std::string subscriptionId;
};

std::string encodeSegment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<CommandOutput> call(CliContext& ctx, std::string_view method, const std::string& path,
                           const Json* body = nullptr) {
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  ASSIGN_OR_RETURN(client::ArmResponse response, arm->request(method, path, body));
  return CommandOutput(response.json);
}

Result<CommandOutput> listKind(CliContext& ctx, std::string_view principalType) {
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  ASSIGN_OR_RETURN(std::vector<Json> all, arm->list(kPrincipals + kDirectoryApi));
  Json out = Json::array();
  for (auto& p : all) {
    if (p.is_object() && p.value("principalType", "") == principalType) out.push_back(std::move(p));
  }
  return CommandOutput(out);
}

void setupPrincipalCommands(CLI::App& root, CliContext& ctx) {
  CLI::App* principal =
      subcommand(root, "principal", "Manage service principals (admin only).");

  auto create = std::make_shared<PrincipalArgs>();
  CLI::App* createCmd = principal->add_subcommand(
      "create", "Create a service principal; prints its appId and secret (shown only once).");
  createCmd->add_option("-n,--name,--display-name", create->name, "Display name.")->required();
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    Json body = {{"kind", "ServicePrincipal"}, {"displayName", create->name}};
    return call(ctx, "POST", kPrincipals + kDirectoryApi, &body);
  });

  CLI::App* listCmd = principal->add_subcommand("list", "List service principals.");
  bindAction(listCmd, ctx, [&ctx]() { return listKind(ctx, "ServicePrincipal"); });

  auto show = std::make_shared<PrincipalArgs>();
  CLI::App* showCmd = principal->add_subcommand("show", "Show a service principal.");
  showCmd->add_option("--id", show->ref, "Object id, app id or display name.")->required();
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    return call(ctx, "GET", kPrincipals + "/" + encodeSegment(show->ref) + kDirectoryApi);
  });

  auto del = std::make_shared<PrincipalArgs>();
  CLI::App* deleteCmd = principal->add_subcommand(
      "delete", "Delete a service principal and its role assignments.");
  deleteCmd->add_option("--id", del->ref, "Object id, app id or display name.")->required();
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    return call(ctx, "DELETE", kPrincipals + "/" + encodeSegment(del->ref) + kDirectoryApi);
  });

  CLI::App* user = subcommand(root, "user", "Manage users (admin only).");
  auto userCreate = std::make_shared<PrincipalArgs>();
  CLI::App* userCreateCmd = user->add_subcommand(
      "create", "Create a user; without --password a generated one is printed once.");
  userCreateCmd
      ->add_option("--upn,--user-principal-name", userCreate->upn, "e.g. alice@privlink.local")
      ->required();
  userCreateCmd->add_option("--display-name", userCreate->displayName, "Display name.");
  userCreateCmd->add_option("--password", userCreate->password, "At least 8 characters.");
  bindAction(userCreateCmd, ctx, [&ctx, userCreate]() -> Result<CommandOutput> {
    Json body = {{"kind", "User"}, {"userPrincipalName", userCreate->upn}};
    if (!userCreate->displayName.empty()) body["displayName"] = userCreate->displayName;
    if (!userCreate->password.empty()) body["password"] = userCreate->password;
    return call(ctx, "POST", kPrincipals + kDirectoryApi, &body);
  });

  CLI::App* userList = user->add_subcommand("list", "List users.");
  bindAction(userList, ctx, [&ctx]() { return listKind(ctx, "User"); });

  auto userDelete = std::make_shared<PrincipalArgs>();
  CLI::App* userDeleteCmd =
      user->add_subcommand("delete", "Delete a user and its role assignments.");
  userDeleteCmd->add_option("--upn,--id", userDelete->ref, "User principal name or object id.")
      ->required();
  bindAction(userDeleteCmd, ctx, [&ctx, userDelete]() -> Result<CommandOutput> {
    return call(ctx, "DELETE", kPrincipals + "/" + encodeSegment(userDelete->ref) + kDirectoryApi);
  });

  CLI::App* secret = subcommand(root, "secret", "Reset secrets and passwords (admin only).");
  auto reset = std::make_shared<PrincipalArgs>();
  CLI::App* resetCmd = secret->add_subcommand(
      "reset", "Give a principal a new secret (or a user a new password); prints it once.");
  resetCmd->add_option("--id", reset->ref, "Object id, app id, user principal name or name.")
      ->required();
  resetCmd->add_option("--password", reset->password, "Use this password instead of a new one.");
  bindAction(resetCmd, ctx, [&ctx, reset]() -> Result<CommandOutput> {
    Json body = Json::object();
    if (!reset->password.empty()) body["password"] = reset->password;
    return call(ctx, "POST",
                kPrincipals + "/" + encodeSegment(reset->ref) + "/resetSecret" + kDirectoryApi,
                &body);
  });

  CLI::App* subscription =
      subcommand(root, "subscription", "Create subscriptions (admin only).");
  auto subCreate = std::make_shared<PrincipalArgs>();
  CLI::App* subCreateCmd = subscription->add_subcommand(
      "create", "Create a subscription (Microsoft.Subscription alias; idempotent per name).");
  subCreateCmd->add_option("-n,--name", subCreate->name, "Alias name.")->required();
  subCreateCmd->add_option("--display-name", subCreate->displayName,
                           "Display name (default: the alias name).");
  subCreateCmd->add_option("--subscription-id", subCreate->subscriptionId,
                           "Use this GUID instead of a new one.");
  bindAction(subCreateCmd, ctx, [&ctx, subCreate]() -> Result<CommandOutput> {
    Json props = {{"workload", "Production"}};
    if (!subCreate->displayName.empty()) props["displayName"] = subCreate->displayName;
    if (!subCreate->subscriptionId.empty()) props["subscriptionId"] = subCreate->subscriptionId;
    Json body = {{"properties", props}};
    ASSIGN_OR_RETURN(CommandOutput alias,
                     call(ctx, "PUT",
                          "/providers/Microsoft.Subscription/aliases/" +
                              encodeSegment(subCreate->name) + kAliasApi,
                          &body));
    std::string id = alias.value["properties"].value("subscriptionId", "");
    return call(ctx, "GET", withSubscriptionsApi(subscriptionPath(id)));
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("principal", setupPrincipalCommands);

}  // namespace privlink::cli
