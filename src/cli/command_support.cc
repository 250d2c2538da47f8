#include "cli/command_support.h"

#include "cli/network_requests.h"

namespace privlink::cli {

CLI::Option* addResourceGroupOption(CLI::App* command, std::string& group) {
  return command->add_option("-g,--resource-group", group, "Name of the resource group.")
      ->required();
}

CLI::Option* addNameOption(CLI::App* command, std::string& name, const std::string& what) {
  return command->add_option("-n,--name", name, "Name of the " + what + ".")->required();
}

CLI::Option* addLocationOption(CLI::App* command, std::string& location) {
  return command->add_option("-l,--location", location,
                             "Location (default: the resource group's location).");
}

CLI::Option* addNoWaitOption(CLI::App* command, bool& noWait) {
  return command->add_flag("--no-wait", noWait,
                           "Do not wait for the long-running operation to finish.");
}

Result<std::string> locationOrGroupDefault(client::ArmClient& arm, const std::string& subscription,
                                           const std::string& group, const std::string& given) {
  if (!given.empty()) return given;
  ASSIGN_OR_RETURN(Json rg, arm.get(withResourcesApi(resourceGroupPath(subscription, group))));
  if (rg.is_object() && rg.contains("location") && rg["location"].is_string()) {
    return rg["location"].get<std::string>();
  }
  return usageError("resource group " + group + " has no location; pass --location");
}

Result<CommandOutput> showResource(CliContext& ctx, const std::string& path) {
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  ASSIGN_OR_RETURN(Json resource, arm->get(path));
  return CommandOutput(std::move(resource));
}

Result<CommandOutput> listResources(CliContext& ctx, const std::string& path) {
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  ASSIGN_OR_RETURN(std::vector<Json> items, arm->list(path));
  Json array = Json::array();
  for (auto& item : items) array.push_back(std::move(item));
  return CommandOutput(std::move(array));
}

Result<CommandOutput> putResource(CliContext& ctx, const std::string& path, const Json& body,
                                  bool noWait) {
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  if (noWait) {
    ASSIGN_OR_RETURN(client::ArmResponse initial, arm->request("PUT", path, &body));
    return CommandOutput(std::move(initial.json));
  }
  ASSIGN_OR_RETURN(Json resource, arm->putAndWait(path, body));
  return CommandOutput(std::move(resource));
}

Result<CommandOutput> deleteResource(CliContext& ctx, const std::string& path, bool noWait) {
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  if (noWait) {
    ASSIGN_OR_RETURN(client::ArmResponse initial, arm->request("DELETE", path));
    (void)initial;
    return CommandOutput();
  }
  RETURN_IF_ERROR(arm->deleteAndWait(path));
  return CommandOutput();
}

}  // namespace privlink::cli
