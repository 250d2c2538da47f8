// privlink vnet, vnet subnet, vnet peering: virtual networks and their children.

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "client/url.h"
#include "model/resource_types.h"

namespace privlink::cli {
namespace {

struct VnetCommandArgs {
  VnetCreateArgs create;
  VnetUpdateArgs update;
  bool noWait = false;
};

struct SubnetCommandArgs {
  SubnetArgs subnet;
  bool noWait = false;
};

struct PeeringCommandArgs {
  PeeringArgs peering;
  bool noWait = false;
};

std::string vnetPath(const std::string& subscription, const std::string& group,
                     const std::string& vnet) {
  return networkPath(subscription, group, "virtualNetworks", vnet);
}

std::string subnetPath(const std::string& subscription, const SubnetArgs& a) {
  return vnetPath(subscription, a.group, a.vnetName) + "/subnets/" +
         client::encodePathSegment(a.name);
}

std::string peeringPath(const std::string& subscription, const PeeringArgs& a) {
  return vnetPath(subscription, a.group, a.vnetName) + "/virtualNetworkPeerings/" +
         client::encodePathSegment(a.name);
}

void registerColumns(TableColumns& columns) {
  columns.add(model::kVirtualNetwork,
              {TableColumn::pointer("AddressPrefixes", "/properties/addressSpace/addressPrefixes"),
               TableColumn::pointer("Subnets", "/properties/subnets")});
  columns.add(model::kSubnet,
              {TableColumn{"AddressPrefixes",
                           [](const Json& item) -> std::string {
                             std::string one = TableColumn::pointer("", "/properties/addressPrefix")
                                                   .value(item);
                             return one.empty() ? TableColumn::pointer(
                                                      "", "/properties/addressPrefixes")
                                                      .value(item)
                                                : one;
                           }},
               TableColumn::pointer("PrivateEndpointNetworkPolicies",
                                    "/properties/privateEndpointNetworkPolicies"),
               TableColumn::pointer("PrivateLinkServiceNetworkPolicies",
                                    "/properties/privateLinkServiceNetworkPolicies")});
  columns.add(model::kVirtualNetworkPeering,
              {TableColumn::pointer("PeeringState", "/properties/peeringState"),
               TableColumn::pointer("RemoteVirtualNetwork", "/properties/remoteVirtualNetwork"),
               TableColumn::pointer("AllowVirtualNetworkAccess",
                                    "/properties/allowVirtualNetworkAccess")});
}

void setupVnetCore(CLI::App* vnet, CliContext& ctx) {
  auto create = std::make_shared<VnetCommandArgs>();
  CLI::App* createCmd = vnet->add_subcommand("create", "Create a virtual network.");
  addResourceGroupOption(createCmd, create->create.group);
  addNameOption(createCmd, create->create.name, "virtual network");
  addLocationOption(createCmd, create->create.location);
  createCmd->add_option("--address-prefixes", create->create.addressPrefixes,
                        "Address prefixes in CIDR form (default 10.0.0.0/16).");
  createCmd->add_option("--subnet-name", create->create.subnetName, "Name of a first subnet.");
  createCmd->add_option("--subnet-prefixes", create->create.subnetPrefixes,
                        "Prefixes of the first subnet (default 10.0.0.0/24).");
  createCmd->add_option("--dns-servers", create->create.dnsServers, "Custom DNS servers.");
  createCmd->add_option("--tags", create->create.tags, "Tags: key=value ...");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    const VnetCreateArgs& a = create->create;
    ASSIGN_OR_RETURN(std::string location,
                     locationOrGroupDefault(*arm, subscription, a.group, a.location));
    ASSIGN_OR_RETURN(Json body, vnetCreateBody(a, location));
    return putResource(ctx, withNetworkApi(vnetPath(subscription, a.group, a.name)), body,
                       create->noWait);
  });

  auto update = std::make_shared<VnetCommandArgs>();
  CLI::App* updateCmd = vnet->add_subcommand("update", "Update a virtual network.");
  addResourceGroupOption(updateCmd, update->create.group);
  addNameOption(updateCmd, update->create.name, "virtual network");
  updateCmd->add_option("--address-prefixes", update->update.addressPrefixes,
                        "New address prefixes (replace the old ones).");
  updateCmd->add_option("--dns-servers", update->update.dnsServers, "New DNS servers.");
  addNoWaitOption(updateCmd, update->noWait);
  bindAction(updateCmd, ctx, [&ctx, update]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    std::string path =
        withNetworkApi(vnetPath(subscription, update->create.group, update->create.name));
    ASSIGN_OR_RETURN(Json current, arm->get(path));
    ASSIGN_OR_RETURN(Json body, applyVnetUpdate(std::move(current), update->update));
    return putResource(ctx, path, body, update->noWait);
  });

  auto show = std::make_shared<VnetCommandArgs>();
  CLI::App* showCmd = vnet->add_subcommand("show", "Show a virtual network.");
  addResourceGroupOption(showCmd, show->create.group);
  addNameOption(showCmd, show->create.name, "virtual network");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return showResource(ctx,
                        withNetworkApi(vnetPath(subscription, show->create.group, show->create.name)));
  });

  auto list = std::make_shared<VnetCommandArgs>();
  CLI::App* listCmd = vnet->add_subcommand("list", "List virtual networks.");
  listCmd->add_option("-g,--resource-group", list->create.group,
                      "Resource group (default: the whole subscription).");
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    std::string path = list->create.group.empty()
                           ? subscriptionPath(subscription) + "/providers/Microsoft.Network/virtualNetworks"
                           : resourceGroupPath(subscription, list->create.group) +
                                 "/providers/Microsoft.Network/virtualNetworks";
    return listResources(ctx, withNetworkApi(path));
  });

  auto del = std::make_shared<VnetCommandArgs>();
  CLI::App* deleteCmd = vnet->add_subcommand("delete", "Delete a virtual network.");
  addResourceGroupOption(deleteCmd, del->create.group);
  addNameOption(deleteCmd, del->create.name, "virtual network");
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return deleteResource(
        ctx, withNetworkApi(vnetPath(subscription, del->create.group, del->create.name)),
        del->noWait);
  });
}

// -g, --vnet-name and -n, shared by subnet and peering commands.
void addChildOptions(CLI::App* cmd, std::string& group, std::string& vnet, std::string& name,
                     const std::string& what) {
  addResourceGroupOption(cmd, group);
  cmd->add_option("--vnet-name", vnet, "Name of the virtual network.")->required();
  addNameOption(cmd, name, what);
}

void setupSubnetCommands(CLI::App* vnet, CliContext& ctx) {
  CLI::App* subnet = subcommand(*vnet, "subnet", "Manage subnets of a virtual network.");
  auto addPolicyOptions = [](CLI::App* cmd, SubnetArgs& a) {
    cmd->add_option("--private-endpoint-network-policies", a.privateEndpointNetworkPolicies,
                    "Disabled, Enabled, NetworkSecurityGroupEnabled or RouteTableEnabled.");
    cmd->add_option("--private-link-service-network-policies",
                    a.privateLinkServiceNetworkPolicies, "Disabled or Enabled.");
  };

  auto create = std::make_shared<SubnetCommandArgs>();
  CLI::App* createCmd = subnet->add_subcommand("create", "Create a subnet.");
  addChildOptions(createCmd, create->subnet.group, create->subnet.vnetName, create->subnet.name,
                  "subnet");
  createCmd->add_option("--address-prefixes", create->subnet.addressPrefixes,
                        "Address prefixes in CIDR form.")
      ->required();
  addPolicyOptions(createCmd, create->subnet);
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(Json body, subnetCreateBody(create->subnet));
    return putResource(ctx, withNetworkApi(subnetPath(subscription, create->subnet)), body,
                       create->noWait);
  });

  auto update = std::make_shared<SubnetCommandArgs>();
  CLI::App* updateCmd = subnet->add_subcommand("update", "Update a subnet.");
  addChildOptions(updateCmd, update->subnet.group, update->subnet.vnetName, update->subnet.name,
                  "subnet");
  updateCmd->add_option("--address-prefixes", update->subnet.addressPrefixes,
                        "New address prefixes.");
  addPolicyOptions(updateCmd, update->subnet);
  addNoWaitOption(updateCmd, update->noWait);
  bindAction(updateCmd, ctx, [&ctx, update]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    std::string path = withNetworkApi(subnetPath(subscription, update->subnet));
    ASSIGN_OR_RETURN(Json current, arm->get(path));
    ASSIGN_OR_RETURN(Json body, applySubnetUpdate(std::move(current), update->subnet));
    return putResource(ctx, path, body, update->noWait);
  });

  auto show = std::make_shared<SubnetCommandArgs>();
  CLI::App* showCmd = subnet->add_subcommand("show", "Show a subnet.");
  addChildOptions(showCmd, show->subnet.group, show->subnet.vnetName, show->subnet.name, "subnet");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return showResource(ctx, withNetworkApi(subnetPath(subscription, show->subnet)));
  });

  auto list = std::make_shared<SubnetCommandArgs>();
  CLI::App* listCmd = subnet->add_subcommand("list", "List the subnets of a virtual network.");
  addResourceGroupOption(listCmd, list->subnet.group);
  listCmd->add_option("--vnet-name", list->subnet.vnetName, "Name of the virtual network.")
      ->required();
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return listResources(
        ctx, withNetworkApi(vnetPath(subscription, list->subnet.group, list->subnet.vnetName) +
                            "/subnets"));
  });

  auto del = std::make_shared<SubnetCommandArgs>();
  CLI::App* deleteCmd = subnet->add_subcommand("delete", "Delete a subnet.");
  addChildOptions(deleteCmd, del->subnet.group, del->subnet.vnetName, del->subnet.name, "subnet");
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return deleteResource(ctx, withNetworkApi(subnetPath(subscription, del->subnet)),
                          del->noWait);
  });
}

void setupPeeringCommands(CLI::App* vnet, CliContext& ctx) {
  CLI::App* peering = subcommand(*vnet, "peering", "Manage virtual network peerings.");

  auto create = std::make_shared<PeeringCommandArgs>();
  CLI::App* createCmd = peering->add_subcommand("create", "Create a peering to another VNet.");
  PeeringArgs& c = create->peering;
  addChildOptions(createCmd, c.group, c.vnetName, c.name, "peering");
  createCmd->add_option("--remote-vnet", c.remoteVnet,
                        "Name (same resource group) or id of the remote virtual network.")
      ->required();
  createCmd->add_flag("--allow-vnet-access", c.allowVnetAccess,
                      "Allow access from the local VNet to the remote VNet.");
  createCmd->add_flag("--allow-forwarded-traffic", c.allowForwardedTraffic,
                      "Allow forwarded traffic from the remote VNet.");
  createCmd->add_flag("--allow-gateway-transit", c.allowGatewayTransit,
                      "Allow gateway transit (accepted; privlink has no gateways).");
  createCmd->add_flag("--use-remote-gateways", c.useRemoteGateways,
                      "Use remote gateways (accepted; privlink has no gateways).");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return putResource(ctx, withNetworkApi(peeringPath(subscription, create->peering)),
                       peeringCreateBody(create->peering, subscription), create->noWait);
  });

  auto show = std::make_shared<PeeringCommandArgs>();
  CLI::App* showCmd = peering->add_subcommand("show", "Show a peering.");
  addChildOptions(showCmd, show->peering.group, show->peering.vnetName, show->peering.name,
                  "peering");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return showResource(ctx, withNetworkApi(peeringPath(subscription, show->peering)));
  });

  auto list = std::make_shared<PeeringCommandArgs>();
  CLI::App* listCmd = peering->add_subcommand("list", "List the peerings of a virtual network.");
  addResourceGroupOption(listCmd, list->peering.group);
  listCmd->add_option("--vnet-name", list->peering.vnetName, "Name of the virtual network.")
      ->required();
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return listResources(
        ctx, withNetworkApi(vnetPath(subscription, list->peering.group, list->peering.vnetName) +
                            "/virtualNetworkPeerings"));
  });

  auto del = std::make_shared<PeeringCommandArgs>();
  CLI::App* deleteCmd = peering->add_subcommand("delete", "Delete a peering.");
  addChildOptions(deleteCmd, del->peering.group, del->peering.vnetName, del->peering.name,
                  "peering");
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return deleteResource(ctx, withNetworkApi(peeringPath(subscription, del->peering)),
                          del->noWait);
  });
}

void setupVnetCommands(CLI::App& root, CliContext& ctx) {
  registerColumns(ctx.tableColumns());
  CLI::App* vnet = subcommand(root, "vnet", "Manage virtual networks.");
  setupVnetCore(vnet, ctx);
  setupSubnetCommands(vnet, ctx);
  setupPeeringCommands(vnet, ctx);
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("vnet", setupVnetCommands);

}  // namespace privlink::cli
