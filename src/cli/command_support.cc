#include "cli/command_support.h"

#include <cstdio>
#include <cstdlib>

#include "agent/nic_exec.h"
#include "cli/network_requests.h"
#include "cli/usage_error.h"
#include "common/resource_id.h"

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

Result<bool> parseBool(const std::string& text, const std::string& option) {
  if (iequals(text, "true") || text == "1" || iequals(text, "yes")) return true;
  if (iequals(text, "false") || text == "0" || iequals(text, "no")) return false;
  return usageError(option + " takes true or false, not '" + text + "'");
}

Json connectionDecisionBody(const Json& current, const std::string& fallbackName,
                            const std::string& status, const std::string& description) {
  Json state = {{"status", status}};
  if (!description.empty()) state["description"] = description;
  Json privateEndpoint = Json::object();
  if (current.contains("properties") && current["properties"].is_object()) {
    privateEndpoint = current["properties"].value("privateEndpoint", Json::object());
  }
  return Json{{"name", current.value("name", fallbackName)},
              {"properties",
               {{"privateEndpoint", std::move(privateEndpoint)},
                {"privateLinkServiceConnectionState", std::move(state)}}}};
}

std::string defaultNamePrefix() {
  const char* env = std::getenv("PRIVLINK_NAME_PREFIX");
  return env != nullptr && *env != '\0' ? env : "pl";
}

void execInNamespaceAndExit(const std::string& ns, const std::vector<std::string>& command) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::exit(agent::execInNamespace(ns, command));
}

}  // namespace privlink::cli
