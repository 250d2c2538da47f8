// privlink role assignment / role definition: Microsoft.Authorization (api/authorization_routes.h).

#include <cctype>

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "common/guid.h"
#include "common/resource_id.h"

namespace privlink::cli {
namespace {

constexpr const char* kAuthzApi = "api-version=2022-04-01";

struct RoleArgs {
  std::string assignee;
  std::string assigneeObjectId;
  std::string role;
  std::string scope;
  std::string group;
  std::string name;
  std::string ids;
};

std::string queryEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// --scope, else -g's resource group, else the subscription.
Result<std::string> scopeOf(CliContext& ctx, const RoleArgs& args) {
  if (!args.scope.empty()) {
    ASSIGN_OR_RETURN(ResourceId id, ResourceId::parse(args.scope));
    return id.toString();
  }
  ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
  if (!args.group.empty()) return resourceGroupPath(subscription, args.group);
  return subscriptionPath(subscription);
}

// A role name ("Network Contributor") or GUID -> the role definition GUID.
Result<std::string> roleGuid(client::ArmClient& arm, const std::string& scope,
                             const std::string& role) {
  if (isGuid(role)) return role;
  std::string sub = "/subscriptions/" + ResourceId::parse(scope)->subscriptionId();
  ASSIGN_OR_RETURN(std::vector<Json> found,
                   arm.list(sub + "/providers/Microsoft.Authorization/roleDefinitions?" +
                            kAuthzApi + "&$filter=" + queryEncode("roleName eq '" + role + "'")));
  if (found.empty()) {
    return usageError("no role named '" + role +
                      "'; use Owner, Contributor, Reader, Network Contributor or Private DNS Zone "
                      "Contributor");
  }
  return found.front().value("name", "");
}

// --assignee-object-id as given, else --assignee resolved through the directory (admin only).
Result<std::string> assigneeId(client::ArmClient& arm, const RoleArgs& args) {
  if (!args.assigneeObjectId.empty()) return args.assigneeObjectId;
  if (args.assignee.empty()) return usageError("pass --assignee or --assignee-object-id");
  ASSIGN_OR_RETURN(client::ArmResponse principal,
                   arm.request("GET", "/providers/Microsoft.Privlink/principals/" +
                                          queryEncode(args.assignee) + "?api-version=2024-01-01"));
  return principal.json.value("objectId", "");
}

void setupRoleCommands(CLI::App& root, CliContext& ctx) {
  CLI::App* role = subcommand(root, "role", "Manage role assignments and view role definitions.");
  CLI::App* assignment = subcommand(*role, "assignment", "Manage role assignments.");

  auto create = std::make_shared<RoleArgs>();
  CLI::App* createCmd = assignment->add_subcommand("create", "Assign a role at a scope.");
  createCmd->add_option("--assignee", create->assignee,
                        "App id, object id, user principal name or display name (resolving it "
                        "needs the admin).");
  createCmd->add_option("--assignee-object-id", create->assigneeObjectId,
                        "Object id of the principal (no directory lookup).");
  createCmd->add_option("--role", create->role, "Role name or GUID.")->required();
  createCmd->add_option("--scope", create->scope, "Scope id (default: the subscription).");
  createCmd->add_option("-g,--resource-group", create->group, "Resource group scope.");
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(std::string scope, scopeOf(ctx, *create));
    ASSIGN_OR_RETURN(std::string guid, roleGuid(*arm, scope, create->role));
    ASSIGN_OR_RETURN(std::string principal, assigneeId(*arm, *create));
    std::string sub = "/subscriptions/" + ResourceId::parse(scope)->subscriptionId();
    Json body = {{"properties",
                  {{"roleDefinitionId",
                    sub + "/providers/Microsoft.Authorization/roleDefinitions/" + guid},
                   {"principalId", principal}}}};
    ASSIGN_OR_RETURN(client::ArmResponse r,
                     arm->request("PUT",
                                  scope + "/providers/Microsoft.Authorization/roleAssignments/" +
                                      newGuid() + "?" + kAuthzApi,
                                  &body));
    return CommandOutput(r.json);
  });

  auto list = std::make_shared<RoleArgs>();
  CLI::App* listCmd = assignment->add_subcommand(
      "list", "List role assignments at, above and below a scope.");
  listCmd->add_option("--scope", list->scope, "Scope id (default: the subscription).");
  listCmd->add_option("-g,--resource-group", list->group, "Resource group scope.");
  listCmd->add_option("--assignee-object-id", list->assigneeObjectId, "Only this principal.");
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string scope, scopeOf(ctx, *list));
    std::string path = scope + "/providers/Microsoft.Authorization/roleAssignments?" + kAuthzApi;
    if (!list->assigneeObjectId.empty()) {
      path += "&$filter=" + queryEncode("principalId eq '" + list->assigneeObjectId + "'");
    }
    return listResources(ctx, path);
  });

  auto del = std::make_shared<RoleArgs>();
  CLI::App* deleteCmd = assignment->add_subcommand("delete", "Delete a role assignment.");
  deleteCmd->add_option("--ids", del->ids, "Full role assignment id.");
  deleteCmd->add_option("-n,--name", del->name, "Role assignment GUID (with --scope or -g).");
  deleteCmd->add_option("--scope", del->scope, "Scope id (default: the subscription).");
  deleteCmd->add_option("-g,--resource-group", del->group, "Resource group scope.");
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    std::string id = del->ids;
    if (id.empty()) {
      if (del->name.empty()) return usageError("pass --ids, or --name with --scope / -g");
      ASSIGN_OR_RETURN(std::string scope, scopeOf(ctx, *del));
      id = scope + "/providers/Microsoft.Authorization/roleAssignments/" + del->name;
    }
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(client::ArmResponse r, arm->request("DELETE", id + "?" + kAuthzApi));
    return CommandOutput(r.json);
  });

  CLI::App* definition = subcommand(*role, "definition", "View role definitions.");
  CLI::App* defList = definition->add_subcommand("list", "List the built-in role definitions.");
  bindAction(defList, ctx, [&ctx]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return listResources(ctx, subscriptionPath(subscription) +
                                  "/providers/Microsoft.Authorization/roleDefinitions?" +
                                  kAuthzApi);
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("role", setupRoleCommands);

}  // namespace privlink::cli
