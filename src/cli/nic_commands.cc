// privlink nic: network interfaces (a NIC is a workload namespace on the host).

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "model/resource_types.h"

namespace privlink::cli {
namespace {

struct NicCommandArgs {
  NicCreateArgs nic;
  bool noWait = false;
};

std::string nicPath(const std::string& subscription, const std::string& group,
                    const std::string& name) {
  return withNetworkApi(networkPath(subscription, group, "networkInterfaces", name));
}

void setupNicCommands(CLI::App& root, CliContext& ctx) {
  ctx.tableColumns().add(
      model::kNetworkInterface,
      {TableColumn::pointer("PrivateIPAddress",
                            "/properties/ipConfigurations/0/properties/privateIPAddress"),
       TableColumn::pointer("Subnet", "/properties/ipConfigurations/0/properties/subnet")});
  CLI::App* nic = subcommand(root, "nic", "Manage network interfaces (workload namespaces).");

  auto create = std::make_shared<NicCommandArgs>();
  CLI::App* createCmd = nic->add_subcommand("create", "Create a network interface.");
  NicCreateArgs& c = create->nic;
  addResourceGroupOption(createCmd, c.group);
  addNameOption(createCmd, c.name, "network interface");
  addLocationOption(createCmd, c.location);
  createCmd->add_option("--vnet-name", c.vnetName, "Virtual network of the subnet.");
  createCmd->add_option("--subnet", c.subnet, "Subnet name (with --vnet-name) or id.")
      ->required();
  createCmd->add_option("--private-ip-address", c.privateIpAddress,
                        "Static private IP (default: the next free address).");
  createCmd->add_option("--lb-name", c.lbName, "Load balancer of --lb-address-pools.");
  createCmd->add_option("--lb-address-pools", c.lbAddressPools,
                        "Backend pools to join: names (with --lb-name) or ids.");
  createCmd->add_option("--ip-config-name", c.ipConfigName, "Name of the IP configuration.");
  createCmd->add_option("--tags", c.tags, "Tags: key=value ...");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    const NicCreateArgs& a = create->nic;
    ASSIGN_OR_RETURN(std::string location,
                     locationOrGroupDefault(*arm, subscription, a.group, a.location));
    ASSIGN_OR_RETURN(Json body, nicCreateBody(a, subscription, location));
    return putResource(ctx, nicPath(subscription, a.group, a.name), body, create->noWait);
  });

  auto show = std::make_shared<NicCommandArgs>();
  CLI::App* showCmd = nic->add_subcommand("show", "Show a network interface.");
  addResourceGroupOption(showCmd, show->nic.group);
  addNameOption(showCmd, show->nic.name, "network interface");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return showResource(ctx, nicPath(subscription, show->nic.group, show->nic.name));
  });

  auto list = std::make_shared<NicCommandArgs>();
  CLI::App* listCmd = nic->add_subcommand("list", "List network interfaces.");
  listCmd->add_option("-g,--resource-group", list->nic.group,
                      "Resource group (default: the whole subscription).");
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    std::string scope = list->nic.group.empty() ? subscriptionPath(subscription)
                                                : resourceGroupPath(subscription, list->nic.group);
    return listResources(ctx,
                         withNetworkApi(scope + "/providers/Microsoft.Network/networkInterfaces"));
  });

  auto del = std::make_shared<NicCommandArgs>();
  CLI::App* deleteCmd = nic->add_subcommand("delete", "Delete a network interface.");
  addResourceGroupOption(deleteCmd, del->nic.group);
  addNameOption(deleteCmd, del->nic.name, "network interface");
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return deleteResource(ctx, nicPath(subscription, del->nic.group, del->nic.name), del->noWait);
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("nic", setupNicCommands);

}  // namespace privlink::cli
