// privlink lb: standard internal load balancers and their sub-parts. A sub-part change is
// GET load balancer -> modify -> PUT load balancer, exactly as az does.

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "model/resource_types.h"

namespace privlink::cli {
namespace {

struct LbCommandArgs {
  LbCreateArgs lb;
  bool noWait = false;
};

// Options every sub-part command shares: -g, --lb-name, -n.
struct LbChildArgs {
  std::string group;
  std::string lbName;
  std::string name;
  bool noWait = false;
  ProbeArgs probe;
  RuleArgs rule;
  FrontendIpArgs frontend;
};

std::string lbPath(const std::string& subscription, const std::string& group,
                   const std::string& name) {
  return withNetworkApi(networkPath(subscription, group, "loadBalancers", name));
}

using LbChange = std::function<Result<Json>(Json lb, const std::string& subscription)>;

// GET lb -> change -> PUT lb; prints the sub-part `childName` of the result.
Result<CommandOutput> changeLb(CliContext& ctx, const LbChildArgs& a, std::string_view collection,
                               const LbChange& change) {
  ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
  ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
  std::string path = lbPath(subscription, a.group, a.lbName);
  ASSIGN_OR_RETURN(Json lb, arm->get(path));
  ASSIGN_OR_RETURN(Json changed, change(std::move(lb), subscription));
  ASSIGN_OR_RETURN(CommandOutput result, putResource(ctx, path, changed, a.noWait));
  Result<Json> child = findLbChild(result.value, collection, a.name);
  if (!child.ok()) return CommandOutput();  // deleted, or --no-wait body without it
  return CommandOutput(std::move(child).value(), lbChildType(collection));
}

void addChildIdentity(CLI::App* cmd, LbChildArgs& a, const std::string& what, bool withName) {
  addResourceGroupOption(cmd, a.group);
  cmd->add_option("--lb-name", a.lbName, "Name of the load balancer.")->required();
  if (withName) addNameOption(cmd, a.name, what);
}

// show / list / delete for one kind of sub-part.
void setupChildReadDelete(CLI::App* parent, CliContext& ctx, std::string_view collection,
                          const std::string& what) {
  std::string type = lbChildType(collection);
  std::string coll(collection);

  auto show = std::make_shared<LbChildArgs>();
  CLI::App* showCmd = parent->add_subcommand("show", "Show a " + what + ".");
  addChildIdentity(showCmd, *show, what, true);
  bindAction(showCmd, ctx, [&ctx, show, coll, type]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json lb, arm->get(lbPath(subscription, show->group, show->lbName)));
    ASSIGN_OR_RETURN(Json child, findLbChild(lb, coll, show->name));
    return CommandOutput(std::move(child), type);
  });

  auto list = std::make_shared<LbChildArgs>();
  CLI::App* listCmd = parent->add_subcommand("list", "List the " + what + "s.");
  addChildIdentity(listCmd, *list, what, false);
  bindAction(listCmd, ctx, [&ctx, list, coll, type]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json lb, arm->get(lbPath(subscription, list->group, list->lbName)));
    return CommandOutput(lbChildren(lb, coll), type);
  });

  auto del = std::make_shared<LbChildArgs>();
  CLI::App* deleteCmd = parent->add_subcommand("delete", "Delete a " + what + ".");
  addChildIdentity(deleteCmd, *del, what, true);
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del, coll]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(CommandOutput ignored,
                     changeLb(ctx, *del, coll, [&](Json lb, const std::string&) {
                       return removeLbChild(std::move(lb), coll, del->name);
                     }));
    (void)ignored;
    return CommandOutput();
  });
}

void registerColumns(TableColumns& columns) {
  columns.add(model::kLoadBalancer,
              {TableColumn::pointer("Sku", "/sku/name"),
               TableColumn{"PrivateIPAddresses",
                           [](const Json& lb) {
                             std::string out;
                             for (const auto& fe : lbChildren(lb, kLbFrontends)) {
                               std::string ip = TableColumn::pointer(
                                                    "", "/properties/privateIPAddress")
                                                    .value(fe);
                               if (ip.empty()) continue;
                               out += out.empty() ? ip : ", " + ip;
                             }
                             return out;
                           }},
               TableColumn::pointer("BackendPools", "/properties/backendAddressPools"),
               TableColumn::pointer("Rules", "/properties/loadBalancingRules"),
               TableColumn::pointer("Probes", "/properties/probes")});
  columns.add(lbChildType(kLbFrontends),
              {TableColumn::pointer("PrivateIPAddress", "/properties/privateIPAddress"),
               TableColumn::pointer("PrivateIPAllocationMethod",
                                    "/properties/privateIPAllocationMethod"),
               TableColumn::pointer("Subnet", "/properties/subnet")});
  columns.add(lbChildType(kLbPools),
              {TableColumn::pointer("BackendIPConfigurations",
                                    "/properties/backendIPConfigurations")});
  columns.add(lbChildType(kLbProbes),
              {TableColumn::pointer("Protocol", "/properties/protocol"),
               TableColumn::pointer("Port", "/properties/port"),
               TableColumn::pointer("RequestPath", "/properties/requestPath"),
               TableColumn::pointer("IntervalInSeconds", "/properties/intervalInSeconds"),
               TableColumn::pointer("NumberOfProbes", "/properties/numberOfProbes")});
  columns.add(lbChildType(kLbRules),
              {TableColumn::pointer("Protocol", "/properties/protocol"),
               TableColumn::pointer("FrontendPort", "/properties/frontendPort"),
               TableColumn::pointer("BackendPort", "/properties/backendPort"),
               TableColumn::pointer("FrontendIPConfiguration",
                                    "/properties/frontendIPConfiguration"),
               TableColumn::pointer("BackendAddressPool", "/properties/backendAddressPool"),
               TableColumn::pointer("Probe", "/properties/probe")});
}

void setupLbCore(CLI::App* lb, CliContext& ctx) {
  auto create = std::make_shared<LbCommandArgs>();
  CLI::App* createCmd = lb->add_subcommand("create", "Create a standard internal load balancer.");
  LbCreateArgs& c = create->lb;
  addResourceGroupOption(createCmd, c.group);
  addNameOption(createCmd, c.name, "load balancer");
  addLocationOption(createCmd, c.location);
  createCmd->add_option("--vnet-name", c.vnetName, "Virtual network of the frontend subnet.");
  createCmd->add_option("--subnet", c.subnet, "Frontend subnet: name (with --vnet-name) or id.")
      ->required();
  createCmd->add_option("--frontend-ip-name", c.frontendIpName, "Name of the frontend IP.");
  createCmd->add_option("--private-ip-address", c.privateIpAddress,
                        "Static frontend IP (default: the next free address).");
  createCmd->add_option("--backend-pool-name", c.backendPoolName,
                        "Name of the backend pool (default: <name>bepool).");
  createCmd->add_option("--sku", c.sku, "Standard (the only SKU).")->capture_default_str();
  createCmd->add_option("--tags", c.tags, "Tags: key=value ...");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    const LbCreateArgs& a = create->lb;
    ASSIGN_OR_RETURN(std::string location,
                     locationOrGroupDefault(*arm, subscription, a.group, a.location));
    ASSIGN_OR_RETURN(Json body, lbCreateBody(a, subscription, location));
    return putResource(ctx, lbPath(subscription, a.group, a.name), body, create->noWait);
  });

  auto show = std::make_shared<LbCommandArgs>();
  CLI::App* showCmd = lb->add_subcommand("show", "Show a load balancer.");
  addResourceGroupOption(showCmd, show->lb.group);
  addNameOption(showCmd, show->lb.name, "load balancer");
  bindAction(showCmd, ctx, [&ctx, show]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return showResource(ctx, lbPath(subscription, show->lb.group, show->lb.name));
  });

  auto list = std::make_shared<LbCommandArgs>();
  CLI::App* listCmd = lb->add_subcommand("list", "List load balancers.");
  listCmd->add_option("-g,--resource-group", list->lb.group,
                      "Resource group (default: the whole subscription).");
  bindAction(listCmd, ctx, [&ctx, list]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    std::string scope = list->lb.group.empty() ? subscriptionPath(subscription)
                                               : resourceGroupPath(subscription, list->lb.group);
    return listResources(ctx, withNetworkApi(scope + "/providers/Microsoft.Network/loadBalancers"));
  });

  auto del = std::make_shared<LbCommandArgs>();
  CLI::App* deleteCmd = lb->add_subcommand("delete", "Delete a load balancer.");
  addResourceGroupOption(deleteCmd, del->lb.group);
  addNameOption(deleteCmd, del->lb.name, "load balancer");
  addNoWaitOption(deleteCmd, del->noWait);
  bindAction(deleteCmd, ctx, [&ctx, del]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string subscription, ctx.subscriptionId());
    return deleteResource(ctx, lbPath(subscription, del->lb.group, del->lb.name), del->noWait);
  });
}

void setupProbeCommands(CLI::App* lb, CliContext& ctx) {
  CLI::App* probe = subcommand(*lb, "probe", "Manage load balancer health probes.");
  auto create = std::make_shared<LbChildArgs>();
  CLI::App* createCmd = probe->add_subcommand("create", "Add a health probe.");
  addChildIdentity(createCmd, *create, "probe", true);
  createCmd->add_option("--protocol", create->probe.protocol, "Tcp, Http or Https.")->required();
  createCmd->add_option("--port", create->probe.port, "Port to probe.")->required();
  createCmd->add_option("--path", create->probe.path, "HTTP request path (Http/Https).");
  createCmd->add_option("--interval", create->probe.interval, "Seconds between probes.")
      ->capture_default_str();
  createCmd->add_option("--threshold", create->probe.threshold,
                        "Consecutive failures before a backend is taken out.")
      ->capture_default_str();
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() {
    create->probe.name = create->name;
    return changeLb(ctx, *create, kLbProbes, [create](Json lb, const std::string&) {
      return addLbProbe(std::move(lb), create->probe);
    });
  });
  setupChildReadDelete(probe, ctx, kLbProbes, "probe");
}

void setupRuleCommands(CLI::App* lb, CliContext& ctx) {
  CLI::App* rule = subcommand(*lb, "rule", "Manage load balancing rules.");
  auto create = std::make_shared<LbChildArgs>();
  CLI::App* createCmd = rule->add_subcommand("create", "Add a load balancing rule.");
  addChildIdentity(createCmd, *create, "rule", true);
  RuleArgs& r = create->rule;
  createCmd->add_option("--protocol", r.protocol, "Tcp, Udp or All.")->required();
  createCmd->add_option("--frontend-port", r.frontendPort, "Frontend port.")->required();
  createCmd->add_option("--backend-port", r.backendPort, "Backend port.")->required();
  createCmd->add_option("--frontend-ip-name", r.frontendIpName,
                        "Frontend IP (default: the only one).");
  createCmd->add_option("--backend-pool-name", r.backendPoolName,
                        "Backend pool (default: the only one).");
  createCmd->add_option("--probe-name", r.probeName, "Health probe of the rule.");
  createCmd->add_option("--idle-timeout", r.idleTimeout, "Idle timeout in minutes.");
  createCmd->add_flag("--floating-ip", r.floatingIp, "Enable floating IP.");
  createCmd->add_option("--load-distribution", r.loadDistribution,
                        "Default, SourceIP or SourceIPProtocol.");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() {
    create->rule.name = create->name;
    return changeLb(ctx, *create, kLbRules, [create](Json lb, const std::string&) {
      return addLbRule(std::move(lb), create->rule);
    });
  });
  setupChildReadDelete(rule, ctx, kLbRules, "rule");
}

void setupPoolCommands(CLI::App* lb, CliContext& ctx) {
  CLI::App* pool = subcommand(*lb, "address-pool", "Manage load balancer backend pools.");
  auto create = std::make_shared<LbChildArgs>();
  CLI::App* createCmd = pool->add_subcommand("create", "Add a backend address pool.");
  addChildIdentity(createCmd, *create, "backend pool", true);
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() {
    return changeLb(ctx, *create, kLbPools, [create](Json lb, const std::string&) {
      return addLbAddressPool(std::move(lb), create->name);
    });
  });
  setupChildReadDelete(pool, ctx, kLbPools, "backend pool");
}

void setupFrontendCommands(CLI::App* lb, CliContext& ctx) {
  CLI::App* frontend = subcommand(*lb, "frontend-ip", "Manage load balancer frontend IPs.");
  auto create = std::make_shared<LbChildArgs>();
  CLI::App* createCmd = frontend->add_subcommand("create", "Add a frontend IP.");
  addChildIdentity(createCmd, *create, "frontend IP", true);
  createCmd->add_option("--vnet-name", create->frontend.vnetName, "Virtual network of the subnet.");
  createCmd->add_option("--subnet", create->frontend.subnet, "Subnet name (with --vnet-name) or id.")
      ->required();
  createCmd->add_option("--private-ip-address", create->frontend.privateIpAddress,
                        "Static private IP (default: the next free address).");
  addNoWaitOption(createCmd, create->noWait);
  bindAction(createCmd, ctx, [&ctx, create]() {
    create->frontend.name = create->name;
    return changeLb(ctx, *create, kLbFrontends,
                    [create](Json lb, const std::string& subscription) {
                      return addLbFrontendIp(std::move(lb), create->frontend, subscription,
                                             create->group);
                    });
  });
  setupChildReadDelete(frontend, ctx, kLbFrontends, "frontend IP");
}

void setupLbCommands(CLI::App& root, CliContext& ctx) {
  registerColumns(ctx.tableColumns());
  CLI::App* lb = subcommand(root, "lb", "Manage standard internal load balancers.");
  setupLbCore(lb, ctx);
  setupProbeCommands(lb, ctx);
  setupRuleCommands(lb, ctx);
  setupPoolCommands(lb, ctx);
  setupFrontendCommands(lb, ctx);
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("lb", setupLbCommands);

}  // namespace privlink::cli
