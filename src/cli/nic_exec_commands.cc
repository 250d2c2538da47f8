// privlink nic exec: runs a program inside a NIC's workload namespace, the way users run their
// workloads (`privlink nic exec -g RG -n NIC -- CMD ARGS...`). The program's exit status is
// passed through. Runs on the host that realises the NIC, as root.

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "common/resource_id.h"
#include "model/host_naming.h"

namespace privlink::cli {
namespace {

struct NicExecArgs {
  std::string group;
  std::string name;
  std::string namePrefix;
  std::vector<std::string> command;
};

void setupNicExecCommand(CLI::App& root, CliContext& ctx) {
  CLI::App* nic = subcommand(root, "nic", "Manage network interfaces (workload namespaces).");
  auto args = std::make_shared<NicExecArgs>();
  CLI::App* execCmd = nic->add_subcommand(
      "exec", "Run a program inside a network interface: privlink nic exec -g RG -n NIC -- CMD...");
  addResourceGroupOption(execCmd, args->group);
  addNameOption(execCmd, args->name, "network interface");
  args->namePrefix = defaultNamePrefix();
  execCmd->add_option("--name-prefix", args->namePrefix,
                      "Kernel name prefix of the privlinkd realising the NIC (default "
                      "$PRIVLINK_NAME_PREFIX or pl).");
  execCmd->add_option("command", args->command, "The program and its arguments, after --.")
      ->required()
      ->expected(-1);
  bindAction(execCmd, ctx, [&ctx, args]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    // Ask the API first: the NIC must exist and be visible to the caller, and its id gives the
    // canonical key the agent named the namespace after.
    ASSIGN_OR_RETURN(Json nicJson,
                     arm->get(withNetworkApi(networkPath(subscription, args->group,
                                                         "networkInterfaces", args->name))));
    if (nicJson.contains("properties") && nicJson["properties"].contains("privateEndpoint")) {
      return Status::InvalidArgument(
          "NetworkInterfaceOwnedByPrivateEndpoint",
          "network interface " + args->name +
              " belongs to a private endpoint and runs no workload; exec into a NIC you created");
    }
    ASSIGN_OR_RETURN(ResourceId id, ResourceId::parse(nicJson.value("id", std::string())));
    const std::string ns = model::HostNaming(args->namePrefix).nicNamespace(id.key());
    execInNamespaceAndExit(ns, args->command);
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("nic-exec", setupNicExecCommand);

}  // namespace privlink::cli
