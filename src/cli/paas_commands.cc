// privlink paas: platform resources (DESIGN.md §1, PaaS row) of any catalog type, shaped like
// `az sql server` / `az network private-endpoint-connection`:
//
//   privlink paas create --type Microsoft.Sql/servers -g RG -n db1
//       [--public-network-access Disabled]
//   privlink paas show|delete --type T -g RG -n NAME;  privlink paas list --type T [-g RG]
//   privlink paas update --type T -g RG -n NAME --public-network-access Enabled|Disabled
//   privlink paas connection list|show|approve|reject|delete --type T -g RG --resource-name NAME
//       [-n CONNECTION] [--description TEXT]
//   privlink paas exec --type T -g RG -n NAME [--name-prefix P] -- CMD ARGS...   (runs in the
//       instance's backend namespace <P>p-<8hex>, model/paas_naming.h, on the host that realises
//       it, as root; the program's exit status is passed through)
// --type T: a catalog type, full ("Microsoft.DBforPostgreSQL/flexibleServers") or short
// ("flexibleServers" / "postgresqlServer"), case-insensitive.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "common/resource_id.h"
#include "control/paas/paas_catalog.h"
#include "model/paas_naming.h"

namespace privlink::cli {
namespace {

struct PaasArgs {
  std::string type = "Microsoft.Sql/servers";
  std::string group;
  std::string name;
  std::string location;
  std::string access;
  std::vector<std::string> tags;
  bool noWait = false;
  std::string resourceName;
  std::string connection;
  std::string description;
  std::string namePrefix;
  std::vector<std::string> command;
};

// An api-version the provider's own clients use; privlinkd accepts any valid date.
std::string apiVersionFor(const std::string& type) {
  std::string ns = toLower(type.substr(0, type.find('/')));
  if (ns == "microsoft.sql") return "2021-11-01";
  if (ns == "microsoft.dbforpostgresql") return "2022-12-01";
  if (ns == "microsoft.storage") return "2023-01-01";
  if (ns == "microsoft.keyvault") return "2023-07-01";
  return "2023-01-01";
}

// --type accepts the full type ("Microsoft.DBforPostgreSQL/flexibleServers") or, for a type of the
// catalog (built-in plus $PRIVLINK_PAAS_CATALOG), its short name — the last segment
// ("flexibleServers") or the private link group id ("postgresqlServer") — in any casing.
// Rewrites `type` to the catalog's spelling of the full type.
Status resolveType(std::string& type) {
  auto catalog = control::paas::paasCatalogFromEnvironment();
  const control::paas::PaasCatalog& types =
      catalog.ok() ? *catalog : control::paas::builtinPaasCatalog();
  if (type.find('/') == std::string::npos) {
    std::string known;
    for (const control::paas::PaasType& t : types.types()) {
      const std::string last = t.type.substr(t.type.rfind('/') + 1);
      if (iequals(type, last) || iequals(type, t.groupId)) {
        type = t.type;
        return Status::Ok();
      }
      known += (known.empty() ? "" : ", ") + last + " (" + t.type + ")";
    }
    return usageError("--type '" + type +
                      "' is not a PaaS catalog type; use <Provider.Namespace>/<type> or one of: " +
                      known);
  }
  size_t slash = type.find('/');
  if (slash == 0 || slash + 1 == type.size() || type.find('/', slash + 1) != std::string::npos) {
    return usageError("--type must be <Provider.Namespace>/<type>, e.g. Microsoft.Sql/servers");
  }
  if (const control::paas::PaasType* t = types.find(type)) type = t->type;
  return Status::Ok();
}

std::string instancePath(const std::string& sub, const PaasArgs& a, const std::string& name) {
  return resourceGroupPath(sub, a.group) + "/providers/" + a.type + "/" + name;
}
std::string withApi(const std::string& path, const PaasArgs& a) {
  return path + "?api-version=" + apiVersionFor(a.type);
}

Result<Json> normaliseAccess(const std::string& value) {
  if (iequals(value, "Enabled")) return Json("Enabled");
  if (iequals(value, "Disabled")) return Json("Disabled");
  return usageError("--public-network-access must be Enabled or Disabled, not '" + value + "'");
}

void typeOption(CLI::App* cmd, PaasArgs& a) {
  cmd->add_option("--type,--resource-type", a.type,
                  "Resource type from the PaaS catalog, full or short (flexibleServers, "
                  "postgresqlServer); default Microsoft.Sql/servers.");
}

void setupConnectionCommands(CLI::App* paas, CliContext& ctx) {
  CLI::App* conn = subcommand(*paas, "connection",
                              "Manage private endpoint connections to a PaaS resource.");
  auto a = std::make_shared<PaasArgs>();
  auto common = [&](CLI::App* cmd, bool named) {
    typeOption(cmd, *a);
    addResourceGroupOption(cmd, a->group);
    cmd->add_option("--resource-name", a->resourceName, "Name of the PaaS resource.")->required();
    if (named) cmd->add_option("-n,--name", a->connection, "Connection name.")->required();
  };
  auto connPath = [](const std::string& sub, const PaasArgs& x) {
    return withApi(instancePath(sub, x, x.resourceName) + "/privateEndpointConnections/" +
                       x.connection,
                   x);
  };
  CLI::App* list = conn->add_subcommand("list", "List connections.");
  common(list, false);
  bindAction(list, ctx, [&ctx, a]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return listResources(
        ctx, withApi(instancePath(sub, *a, a->resourceName) + "/privateEndpointConnections", *a));
  });
  CLI::App* show = conn->add_subcommand("show", "Show a connection.");
  common(show, true);
  bindAction(show, ctx, [&ctx, a, connPath]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, connPath(sub, *a));
  });
  for (const char* verb : {"approve", "reject"}) {
    std::string status = std::string(verb) == "approve" ? "Approved" : "Rejected";
    CLI::App* cmd = conn->add_subcommand(verb, std::string(verb == std::string("approve")
                                                               ? "Approve"
                                                               : "Reject") +
                                                   " a connection (as the resource's owner).");
    common(cmd, true);
    cmd->add_option("--description", a->description, "Reason, shown to the consumer.");
    bindAction(cmd, ctx, [&ctx, a, connPath, status]() -> Result<CommandOutput> {
      RETURN_IF_ERROR(resolveType(a->type));
      ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
      ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
      ASSIGN_OR_RETURN(Json current, arm->get(connPath(sub, *a)));
      Json body = connectionDecisionBody(current, a->connection, status,
                                         a->description.empty() ? status : a->description);
      ASSIGN_OR_RETURN(auto response, arm->request("PUT", connPath(sub, *a), &body));
      return CommandOutput(response.json);
    });
  }
  CLI::App* del = conn->add_subcommand("delete", "Remove a connection (the consumer sees "
                                                 "Disconnected).");
  common(del, true);
  bindAction(del, ctx, [&ctx, a, connPath]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, connPath(sub, *a), false);
  });
}

void setupPaasCommands(CLI::App& root, CliContext& ctx) {
  CLI::App* paas = subcommand(root, "paas",
                              "Manage platform (PaaS) resources: SQL, PostgreSQL, storage, key "
                              "vault and operator-defined types.");
  auto a = std::make_shared<PaasArgs>();

  CLI::App* create = paas->add_subcommand("create", "Create a PaaS resource.");
  typeOption(create, *a);
  addResourceGroupOption(create, a->group);
  addNameOption(create, a->name, "resource");
  addLocationOption(create, a->location);
  create->add_option("--public-network-access", a->access, "Enabled (default) or Disabled.");
  create->add_option("--tags", a->tags, "Tags: key=value ...");
  addNoWaitOption(create, a->noWait);
  bindAction(create, ctx, [&ctx, a]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(std::string location,
                     locationOrGroupDefault(*arm, sub, a->group, a->location));
    ASSIGN_OR_RETURN(Json tags, parseTags(a->tags));
    Json body = {{"location", location}, {"tags", tags}, {"properties", Json::object()}};
    if (!a->access.empty()) {
      ASSIGN_OR_RETURN(body["properties"]["publicNetworkAccess"], normaliseAccess(a->access));
    }
    return putResource(ctx, withApi(instancePath(sub, *a, a->name), *a), body, a->noWait);
  });

  CLI::App* update = paas->add_subcommand("update", "Change a PaaS resource.");
  typeOption(update, *a);
  addResourceGroupOption(update, a->group);
  addNameOption(update, a->name, "resource");
  update->add_option("--public-network-access", a->access, "Enabled or Disabled.")->required();
  bindAction(update, ctx, [&ctx, a]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    std::string path = withApi(instancePath(sub, *a, a->name), *a);
    ASSIGN_OR_RETURN(Json current, arm->get(path));
    Json props = current.value("properties", Json::object());
    for (const char* ro : {"fullyQualifiedDomainName", "privateEndpointConnections", "privlink",
                           "provisioningState"}) {
      props.erase(ro);
    }
    ASSIGN_OR_RETURN(props["publicNetworkAccess"], normaliseAccess(a->access));
    Json body = {{"location", current.value("location", "")},
                 {"tags", current.value("tags", Json::object())},
                 {"properties", props}};
    return putResource(ctx, path, body, false);
  });

  CLI::App* show = paas->add_subcommand("show", "Show a PaaS resource.");
  typeOption(show, *a);
  addResourceGroupOption(show, a->group);
  addNameOption(show, a->name, "resource");
  bindAction(show, ctx, [&ctx, a]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, withApi(instancePath(sub, *a, a->name), *a));
  });

  CLI::App* list = paas->add_subcommand("list", "List PaaS resources of one type.");
  typeOption(list, *a);
  list->add_option("-g,--resource-group", a->group, "Resource group (default: the subscription).");
  bindAction(list, ctx, [&ctx, a]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    std::string scope = a->group.empty() ? subscriptionPath(sub) : resourceGroupPath(sub, a->group);
    return listResources(ctx, withApi(scope + "/providers/" + a->type, *a));
  });

  CLI::App* del = paas->add_subcommand("delete", "Delete a PaaS resource.");
  typeOption(del, *a);
  addResourceGroupOption(del, a->group);
  addNameOption(del, a->name, "resource");
  addNoWaitOption(del, a->noWait);
  del->add_flag("-y,--yes")->description("Do not prompt (accepted for az compatibility).");
  bindAction(del, ctx, [&ctx, a]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, withApi(instancePath(sub, *a, a->name), *a), a->noWait);
  });

  CLI::App* exec = paas->add_subcommand(
      "exec",
      "Run the resource's backend server: privlink paas exec --type T -g RG -n NAME -- CMD...");
  typeOption(exec, *a);
  addResourceGroupOption(exec, a->group);
  addNameOption(exec, a->name, "resource");
  a->namePrefix = defaultNamePrefix();
  exec->add_option("--name-prefix", a->namePrefix,
                   "Kernel name prefix of the privlinkd realising it (default "
                   "$PRIVLINK_NAME_PREFIX or pl).");
  exec->add_option("command", a->command, "The program and its arguments, after --.")
      ->required()
      ->expected(-1);
  bindAction(exec, ctx, [&ctx, a]() -> Result<CommandOutput> {
    RETURN_IF_ERROR(resolveType(a->type));
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json instance, arm->get(withApi(instancePath(sub, *a, a->name), *a)));
    ASSIGN_OR_RETURN(ResourceId id, ResourceId::parse(instance.value("id", std::string())));
    const std::string ns = model::paasBackendNamespace(id.key(), a->namePrefix);
    std::error_code error;
    if (!std::filesystem::exists("/run/netns/" + ns, error)) {
      // Same exit status as execInNamespace's "could not be started", with a PaaS-shaped reason.
      std::fprintf(stderr,
                   "privlink paas exec: the backend namespace %s of %s does not exist on this "
                   "host; run it where privlinkd (--name-prefix %s) realises the resource, after "
                   "its provisioningState is Succeeded\n",
                   ns.c_str(), id.name().c_str(), a->namePrefix.c_str());
      std::exit(127);
    }
    execInNamespaceAndExit(ns, a->command);
  });

  setupConnectionCommands(paas, ctx);
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("paas", setupPaasCommands);

}  // namespace privlink::cli
