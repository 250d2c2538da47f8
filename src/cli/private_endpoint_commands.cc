// privlink private-endpoint: private endpoints, shaped like `az network private-endpoint`
// (create/show/list/delete/list-types).

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "model/resource_types.h"

namespace privlink::cli {
namespace {

struct PeArgs {
  std::string group;
  std::string name;
  std::string location;
  std::string vnetName;
  std::string subnet;
  std::string target;  // --private-connection-resource-id: id or alias
  std::string connectionName;
  std::vector<std::string> groupIds;
  std::string manualRequest;  // "true" | "false" | ""
  CLI::Option* manualFlag = nullptr;
  std::string requestMessage;
  std::string privateIpAddress;
  std::string nicName;
  std::vector<std::string> tags;
  bool noWait = false;
};

std::string pePath(const std::string& sub, const std::string& group, const std::string& name) {
  return networkPath(sub, group, "privateEndpoints", name);
}

Result<Json> peCreateBody(const PeArgs& a, const std::string& sub, const std::string& location) {
  ASSIGN_OR_RETURN(std::string subnet, resolveSubnetId(a.subnet, a.vnetName, sub, a.group));
  bool manual = false;
  if (a.manualFlag && a.manualFlag->count() > 0) {
    // A bare --manual-request means true (as az's three-state flag).
    if (a.manualRequest.empty()) {
      manual = true;
    } else {
      ASSIGN_OR_RETURN(manual, parseBool(a.manualRequest, "--manual-request"));
    }
  }
  Json groupIds = Json::array();
  for (const std::string& g : a.groupIds) groupIds.push_back(g);
  Json connProps = {{"privateLinkServiceId", a.target}, {"groupIds", std::move(groupIds)}};
  if (!a.requestMessage.empty()) connProps["requestMessage"] = a.requestMessage;
  Json conn = {{"name", a.connectionName.empty() ? a.name : a.connectionName},
               {"properties", std::move(connProps)}};
  Json props = {{"subnet", {{"id", subnet}}}};
  props[manual ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections"] =
      Json::array({std::move(conn)});
  if (!a.privateIpAddress.empty()) {
    Json ipProps = {{"privateIPAddress", a.privateIpAddress}};
    if (!a.groupIds.empty()) {
      ipProps["groupId"] = a.groupIds.front();
      ipProps["memberName"] = a.groupIds.front();
    }
    props["ipConfigurations"] =
        Json::array({Json{{"name", a.name + "-ipconfig"}, {"properties", std::move(ipProps)}}});
  }
  if (!a.nicName.empty()) props["customNetworkInterfaceName"] = a.nicName;
  ASSIGN_OR_RETURN(Json tags, parseTags(a.tags));
  return Json{{"location", location}, {"tags", std::move(tags)}, {"properties", std::move(props)}};
}

void setupPeCommands(CLI::App& root, CliContext& ctx) {
  ctx.tableColumns().add(
      model::kPrivateEndpoint,
      {TableColumn::pointer("PrivateIPAddress", "/properties/customDnsConfigs/0/ipAddresses/0"),
       TableColumn::pointer("Subnet", "/properties/subnet/id")});
  CLI::App* pe = subcommand(root, "private-endpoint", "Manage private endpoints.");

  auto create = std::make_shared<PeArgs>();
  CLI::App* createCmd = pe->add_subcommand("create", "Create a private endpoint.");
  addResourceGroupOption(createCmd, create->group);
  addNameOption(createCmd, create->name, "private endpoint");
  addLocationOption(createCmd, create->location);
  createCmd->add_option("--vnet-name", create->vnetName, "Virtual network of the subnet.");
  createCmd->add_option("--subnet", create->subnet, "Subnet name (with --vnet-name) or id.")
      ->required();
  createCmd->add_option("--private-connection-resource-id", create->target,
                        "Target: a private link service id or alias, or a platform resource id.")
      ->required();
  createCmd->add_option("--connection-name", create->connectionName,
                        "Name of the connection (default: the endpoint's name).");
  createCmd->add_option("--group-id,--group-ids", create->groupIds,
                        "Sub-resource of the target (none for a private link service).");
  create->manualFlag =
      createCmd
          ->add_option("--manual-request", create->manualRequest,
                       "Send a request the provider approves (true or bare) instead of an "
                       "automatic connection.")
          ->expected(0, 1);
  createCmd->add_option("--request-message", create->requestMessage,
                        "Message to the provider (at most 140 characters).");
  createCmd->add_option("--private-ip-address", create->privateIpAddress,
                        "Static address in the subnet (never changes for the endpoint's life).");
  createCmd->add_option("--nic-name", create->nicName, "Name of the endpoint's read-only NIC.");
  createCmd->add_option("--tags", create->tags, "Tags: key=value ...");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(std::string location,
                     locationOrGroupDefault(*arm, sub, create->group, create->location));
    ASSIGN_OR_RETURN(Json body, peCreateBody(*create, sub, location));
    return putResource(ctx, withNetworkApi(pePath(sub, create->group, create->name)), body,
                       create->noWait);
  });

  auto show = std::make_shared<PeArgs>();
  CLI::App* showCmd = pe->add_subcommand("show", "Show a private endpoint.");
  addResourceGroupOption(showCmd, show->group);
  addNameOption(showCmd, show->name, "private endpoint");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, withNetworkApi(pePath(sub, show->group, show->name)));
  });

  auto list = std::make_shared<PeArgs>();
  CLI::App* listCmd = pe->add_subcommand("list", "List private endpoints.");
  listCmd->add_option("-g,--resource-group", list->group,
                      "Resource group (default: the whole subscription).");
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    std::string scope =
        list->group.empty() ? subscriptionPath(sub) : resourceGroupPath(sub, list->group);
    return listResources(ctx,
                         withNetworkApi(scope + "/providers/Microsoft.Network/privateEndpoints"));
  });

  auto del = std::make_shared<PeArgs>();
  CLI::App* deleteCmd = pe->add_subcommand(
      "delete", "Delete a private endpoint (its NIC and its connection go with it).");
  addResourceGroupOption(deleteCmd, del->group);
  addNameOption(deleteCmd, del->name, "private endpoint");
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, withNetworkApi(pePath(sub, del->group, del->name)), del->noWait);
  });

  auto types = std::make_shared<PeArgs>();
  CLI::App* typesCmd =
      pe->add_subcommand("list-types", "List the resource types endpoints can connect to.");
  typesCmd->add_option("-l,--location", types->location, "Location.")->required();
  bindAction(typesCmd, ctx, [&ctx, types]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return listResources(ctx, withNetworkApi(subscriptionPath(sub) +
                                             "/providers/Microsoft.Network/locations/" +
                                             types->location + "/availablePrivateEndpointTypes"));
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("private-endpoint", setupPeCommands);

}  // namespace privlink::cli
