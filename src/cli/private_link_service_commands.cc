// privlink private-link-service: private link services and their connections, shaped like
// `az network private-link-service` (create/show/list/update/delete and
// `connection approve|reject|remove|update|list|show|delete`).

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "model/resource_types.h"

namespace privlink::cli {
namespace {

struct PlsArgs {
  std::string group;
  std::string name;
  std::string location;
  std::string lbName;
  std::vector<std::string> frontends;
  std::string vnetName;
  std::string subnet;
  std::string privateIpAddress;
  std::string allocationMethod;
  std::vector<std::string> visibility;
  std::vector<std::string> autoApproval;
  std::vector<std::string> fqdns;
  std::string proxyProtocol;  // "true" | "false" | "" (unchanged)
  CLI::Option* proxyFlag = nullptr;
  std::vector<std::string> tags;
  bool noWait = false;
};

struct ConnectionArgs {
  std::string group;
  std::string service;
  std::string name;
  std::string description;
  std::string status;
};

std::string plsPath(const std::string& sub, const std::string& group, const std::string& name) {
  return networkPath(sub, group, "privateLinkServices", name);
}

std::string connectionPath(const std::string& sub, const ConnectionArgs& a) {
  return plsPath(sub, a.group, a.service) + "/privateEndpointConnections/" + a.name;
}

Result<Json> frontendRefs(const PlsArgs& a, const std::string& sub) {
  Json out = Json::array();
  for (const std::string& fe : a.frontends) {
    if (!fe.empty() && fe.front() == '/') {
      out.push_back({{"id", fe}});
      continue;
    }
    if (a.lbName.empty()) {
      return usageError("--lb-frontend-ip-configs " + fe +
                        " is a name; give --lb-name too, or pass frontend ids");
    }
    out.push_back({{"id", networkPath(sub, a.group, "loadBalancers", a.lbName) +
                              "/frontendIPConfigurations/" + fe}});
  }
  return out;
}

Json subscriptions(const std::vector<std::string>& subs) {
  Json list = Json::array();
  for (const std::string& s : subs) list.push_back(s);
  return Json{{"subscriptions", std::move(list)}};
}

Result<Json> plsCreateBody(const PlsArgs& a, const std::string& sub, const std::string& location) {
  ASSIGN_OR_RETURN(Json frontends, frontendRefs(a, sub));
  ASSIGN_OR_RETURN(std::string subnet, resolveSubnetId(a.subnet, a.vnetName, sub, a.group));
  Json ipProps = {{"subnet", {{"id", subnet}}}, {"primary", true}};
  if (!a.privateIpAddress.empty()) {
    ipProps["privateIPAddress"] = a.privateIpAddress;
    ipProps["privateIPAllocationMethod"] = "Static";
  }
  if (!a.allocationMethod.empty()) ipProps["privateIPAllocationMethod"] = a.allocationMethod;
  Json props = {{"loadBalancerFrontendIpConfigurations", std::move(frontends)},
                {"ipConfigurations",
                 Json::array({Json{{"name", a.name + "_ipconfig_0"}, {"properties", ipProps}}})},
                {"visibility", subscriptions(a.visibility)},
                {"autoApproval", subscriptions(a.autoApproval)}};
  Json fqdns = Json::array();
  for (const std::string& f : a.fqdns) fqdns.push_back(f);
  props["fqdns"] = std::move(fqdns);
  if (!a.proxyProtocol.empty()) {
    ASSIGN_OR_RETURN(bool proxy, parseBool(a.proxyProtocol, "--enable-proxy-protocol"));
    props["enableProxyProtocol"] = proxy;
  }
  ASSIGN_OR_RETURN(Json tags, parseTags(a.tags));
  return Json{{"location", location}, {"tags", std::move(tags)}, {"properties", std::move(props)}};
}

Result<Json> applyPlsUpdate(Json pls, const PlsArgs& a, const std::string& sub) {
  Json& props = pls["properties"];
  if (!a.frontends.empty()) {
    ASSIGN_OR_RETURN(props["loadBalancerFrontendIpConfigurations"], frontendRefs(a, sub));
  }
  if (!a.visibility.empty()) props["visibility"] = subscriptions(a.visibility);
  if (!a.autoApproval.empty()) props["autoApproval"] = subscriptions(a.autoApproval);
  if (!a.fqdns.empty()) {
    Json fqdns = Json::array();
    for (const std::string& f : a.fqdns) fqdns.push_back(f);
    props["fqdns"] = std::move(fqdns);
  }
  if (!a.proxyProtocol.empty()) {
    ASSIGN_OR_RETURN(bool proxy, parseBool(a.proxyProtocol, "--enable-proxy-protocol"));
    props["enableProxyProtocol"] = proxy;
  }
  if (!a.tags.empty()) {
    ASSIGN_OR_RETURN(pls["tags"], parseTags(a.tags));
  }
  // Read-only parts the server computes.
  props.erase("privateEndpointConnections");
  props.erase("provisioningState");
  return pls;
}

// Sets the connection's status and PUTs it (the provider's decision; synchronous in ARM).
Result<CommandOutput> decide(CliContext& ctx, const ConnectionArgs& a, const std::string& status) {
  ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  const std::string path = withNetworkApi(connectionPath(sub, a));
  ASSIGN_OR_RETURN(Json conn, arm->get(path));
  return putResource(ctx, path, connectionDecisionBody(conn, a.name, status, a.description),
                     false);
}

void addConnectionIdentity(CLI::App* cmd, ConnectionArgs& a, bool needName) {
  addResourceGroupOption(cmd, a.group);
  cmd->add_option("--service-name", a.service, "Name of the private link service.")->required();
  if (needName) addNameOption(cmd, a.name, "private endpoint connection");
}

void setupPlsCommands(CLI::App& root, CliContext& ctx) {
  ctx.tableColumns().add(model::kPrivateLinkService,
                         {TableColumn::pointer("Alias", "/properties/alias"),
                          TableColumn::pointer("ProxyProtocol", "/properties/enableProxyProtocol")});
  ctx.tableColumns().add(
      "Microsoft.Network/privateLinkServices/privateEndpointConnections",
      {TableColumn::pointer("Status", "/properties/privateLinkServiceConnectionState/status"),
       TableColumn::pointer("Description",
                            "/properties/privateLinkServiceConnectionState/description"),
       TableColumn::pointer("LinkIdentifier", "/properties/linkIdentifier"),
       TableColumn::pointer("PrivateEndpoint", "/properties/privateEndpoint/id")});
  CLI::App* pls = subcommand(root, "private-link-service", "Manage private link services.");

  auto create = std::make_shared<PlsArgs>();
  CLI::App* createCmd = pls->add_subcommand("create", "Create a private link service.");
  addResourceGroupOption(createCmd, create->group);
  addNameOption(createCmd, create->name, "private link service");
  addLocationOption(createCmd, create->location);
  createCmd->add_option("--lb-name", create->lbName, "Load balancer of --lb-frontend-ip-configs.");
  createCmd->add_option("--lb-frontend-ip-configs", create->frontends,
                        "Frontend IP configurations: names (with --lb-name) or ids.")
      ->required();
  createCmd->add_option("--vnet-name", create->vnetName, "Virtual network of the NAT subnet.");
  createCmd->add_option("--subnet", create->subnet,
                        "NAT subnet name (with --vnet-name) or id; its "
                        "privateLinkServiceNetworkPolicies must be Disabled.")
      ->required();
  createCmd->add_option("--private-ip-address", create->privateIpAddress, "Static NAT IP.");
  createCmd->add_option("--private-ip-allocation-method", create->allocationMethod,
                        "Static or Dynamic.");
  createCmd->add_option("--visibility", create->visibility,
                        "Subscriptions that may see the service ('*' = anyone with the alias).");
  createCmd->add_option("--auto-approval", create->autoApproval,
                        "Subscriptions whose connections are approved automatically.");
  createCmd->add_option("--fqdns", create->fqdns, "FQDNs for the endpoints' customDnsConfigs.");
  create->proxyFlag =
      createCmd
          ->add_option("--enable-proxy-protocol", create->proxyProtocol,
                       "true (or bare): send PROXY protocol v2 headers with the LinkID TLV.")
          ->expected(0, 1);
  createCmd->add_option("--tags", create->tags, "Tags: key=value ...");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(std::string location,
                     locationOrGroupDefault(*arm, sub, create->group, create->location));
    PlsArgs a = *create;
    // A bare --enable-proxy-protocol means true (as az's three-state flag).
    if (a.proxyFlag && a.proxyFlag->count() > 0 && a.proxyProtocol.empty()) {
      a.proxyProtocol = "true";
    }
    ASSIGN_OR_RETURN(Json body, plsCreateBody(a, sub, location));
    return putResource(ctx, withNetworkApi(plsPath(sub, a.group, a.name)), body, a.noWait);
  });

  auto update = std::make_shared<PlsArgs>();
  CLI::App* updateCmd = pls->add_subcommand("update", "Update a private link service.");
  addResourceGroupOption(updateCmd, update->group);
  addNameOption(updateCmd, update->name, "private link service");
  updateCmd->add_option("--lb-name", update->lbName, "Load balancer of --lb-frontend-ip-configs.");
  updateCmd->add_option("--lb-frontend-ip-configs", update->frontends,
                        "New frontend IP configurations: names (with --lb-name) or ids.");
  updateCmd->add_option("--visibility", update->visibility, "Subscriptions that may see it.");
  updateCmd->add_option("--auto-approval", update->autoApproval,
                        "Subscriptions approved automatically.");
  updateCmd->add_option("--fqdns", update->fqdns, "FQDNs.");
  updateCmd->add_option("--enable-proxy-protocol", update->proxyProtocol, "true or false.");
  updateCmd->add_option("--tags", update->tags, "Tags: key=value ...");
  addNoWaitOption(updateCmd, update->noWait);
  bindAction(updateCmd, ctx, [&ctx, update]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    const std::string path = withNetworkApi(plsPath(sub, update->group, update->name));
    ASSIGN_OR_RETURN(Json current, arm->get(path));
    ASSIGN_OR_RETURN(Json body, applyPlsUpdate(std::move(current), *update, sub));
    return putResource(ctx, path, body, update->noWait);
  });

  auto show = std::make_shared<PlsArgs>();
  CLI::App* showCmd = pls->add_subcommand("show", "Show a private link service.");
  addResourceGroupOption(showCmd, show->group);
  addNameOption(showCmd, show->name, "private link service");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, withNetworkApi(plsPath(sub, show->group, show->name)));
  });

  auto list = std::make_shared<PlsArgs>();
  CLI::App* listCmd = pls->add_subcommand("list", "List private link services.");
  listCmd->add_option("-g,--resource-group", list->group,
                      "Resource group (default: the whole subscription).");
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    std::string scope =
        list->group.empty() ? subscriptionPath(sub) : resourceGroupPath(sub, list->group);
    return listResources(ctx,
                         withNetworkApi(scope + "/providers/Microsoft.Network/privateLinkServices"));
  });

  auto del = std::make_shared<PlsArgs>();
  CLI::App* deleteCmd = pls->add_subcommand(
      "delete", "Delete a private link service (reject or remove its connections first).");
  addResourceGroupOption(deleteCmd, del->group);
  addNameOption(deleteCmd, del->name, "private link service");
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, withNetworkApi(plsPath(sub, del->group, del->name)), del->noWait);
  });

  // --- connections
  CLI::App* conn = subcommand(*pls, "connection",
                              "Approve, reject, remove and list private endpoint connections.");
  struct Decision {
    const char* verb;
    const char* status;
    const char* help;
  };
  for (const Decision& d : {Decision{"approve", "Approved", "Approve a connection."},
                            Decision{"reject", "Rejected", "Reject a connection."},
                            Decision{"remove", "Removed",
                                     "Remove a connection (the consumer sees Disconnected; final)."}}) {
    auto args = std::make_shared<ConnectionArgs>();
    CLI::App* cmd = conn->add_subcommand(d.verb, d.help);
    addConnectionIdentity(cmd, *args, true);
    cmd->add_option("--description", args->description, "Reason, shown to the consumer.");
    const std::string status = d.status;
    bindAction(cmd, ctx, [&ctx, args, status]() -> Result<CommandOutput> {
      return decide(ctx, *args, status);
    });
  }
  auto upd = std::make_shared<ConnectionArgs>();
  CLI::App* updCmd = conn->add_subcommand("update", "Set a connection's status (as az).");
  addConnectionIdentity(updCmd, *upd, true);
  updCmd->add_option("--connection-status", upd->status, "Approved, Rejected or Removed.")
      ->required();
  updCmd->add_option("--description", upd->description, "Reason, shown to the consumer.");
  bindAction(updCmd, ctx, [&ctx, upd]() -> Result<CommandOutput> {
    return decide(ctx, *upd, upd->status);
  });

  auto connShow = std::make_shared<ConnectionArgs>();
  CLI::App* connShowCmd = conn->add_subcommand("show", "Show a connection.");
  addConnectionIdentity(connShowCmd, *connShow, true);
  bindAction(connShowCmd, ctx, [&ctx, connShow]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, withNetworkApi(connectionPath(sub, *connShow)));
  });

  auto connList = std::make_shared<ConnectionArgs>();
  CLI::App* connListCmd = conn->add_subcommand("list", "List a service's connections.");
  addConnectionIdentity(connListCmd, *connList, false);
  bindAction(connListCmd, ctx, [&ctx, connList]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(CommandOutput out,
                     listResources(ctx, withNetworkApi(plsPath(sub, connList->group,
                                                               connList->service) +
                                                       "/privateEndpointConnections")));
    out.tableType = "Microsoft.Network/privateLinkServices/privateEndpointConnections";
    return out;
  });

  auto connDelete = std::make_shared<ConnectionArgs>();
  CLI::App* connDeleteCmd =
      conn->add_subcommand("delete", "Delete a connection (the consumer sees Disconnected).");
  addConnectionIdentity(connDeleteCmd, *connDelete, true);
  bindAction(connDeleteCmd, ctx, [&ctx, connDelete]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, withNetworkApi(connectionPath(sub, *connDelete)), false);
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("private-link-service", setupPlsCommands);

}  // namespace privlink::cli
