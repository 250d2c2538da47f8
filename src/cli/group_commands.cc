// privlink group: resource groups (Microsoft.Resources/resourceGroups).

#include "cli/command_support.h"
#include "cli/network_requests.h"

namespace privlink::cli {
namespace {

struct GroupArgs {
  std::string name;
  std::string location;
  std::vector<std::string> tags;
  bool noWait = false;
  bool yes = false;
};

Result<std::string> groupPath(CliContext& ctx, const std::string& name) {
  ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
  return withResourcesApi(resourceGroupPath(subscription, name));
}

void setupGroupCommands(CLI::App& root, CliContext& ctx) {
  CLI::App* group = subcommand(root, "group", "Manage resource groups.");

  auto create = std::make_shared<GroupArgs>();
  CLI::App* createCmd = group->add_subcommand("create", "Create or update a resource group.");
  addNameOption(createCmd, create->name, "resource group");
  createCmd->add_option("-l,--location", create->location, "Location.")->required();
  createCmd->add_option("--tags", create->tags, "Tags: key=value ...");
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string path, groupPath(ctx, create->name));
    ASSIGN_OR_RETURN(Json tags, parseTags(create->tags));
    return putResource(ctx, path, resourceGroupBody(create->location, tags), false);
  });

  auto show = std::make_shared<GroupArgs>();
  CLI::App* showCmd = group->add_subcommand("show", "Show a resource group.");
  addNameOption(showCmd, show->name, "resource group");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string path, groupPath(ctx, show->name));
    return showResource(ctx, path);
  });

  CLI::App* listCmd = group->add_subcommand("list", "List resource groups.");
  bindAction(listCmd, ctx, [&ctx]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return listResources(ctx, withResourcesApi(subscriptionPath(subscription) + "/resourcegroups"));
  });

  auto exists = std::make_shared<GroupArgs>();
  CLI::App* existsCmd = group->add_subcommand("exists", "Print true if the resource group exists.");
  addNameOption(existsCmd, exists->name, "resource group");
  bindAction(existsCmd, ctx, [&ctx, exists]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string path, groupPath(ctx, exists->name));
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    Result<Json> found = arm->get(path);
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
    return CommandOutput(Json(found.ok()));
  });

  auto del = std::make_shared<GroupArgs>();
  CLI::App* deleteCmd =
      group->add_subcommand("delete", "Delete a resource group and everything in it.");
  addNameOption(deleteCmd, del->name, "resource group");
  addNoWaitOption(deleteCmd, del->noWait);
  deleteCmd->add_flag("-y,--yes", del->yes, "Do not prompt (accepted for az compatibility).");
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string path, groupPath(ctx, del->name));
    return deleteResource(ctx, path, del->noWait);
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("group", setupGroupCommands);

}  // namespace privlink::cli
