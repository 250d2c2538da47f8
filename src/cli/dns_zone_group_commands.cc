// privlink private-endpoint dns-zone-group: a private endpoint's DNS zone group, shaped like
// `az network private-endpoint dns-zone-group create|add|remove|show|list|delete`.
//
//   privlink private-endpoint dns-zone-group create -g RG --endpoint-name pe1 -n default
//       --private-dns-zone privatelink.database.windows.net --zone-name sql
//   privlink private-endpoint dns-zone-group add    ... --private-dns-zone ZONE --zone-name CFG
//   privlink private-endpoint dns-zone-group remove ... --zone-name CFG

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "common/resource_id.h"

namespace privlink::cli {
namespace {

struct ZoneGroupArgs {
  std::string group;
  std::string endpoint;
  std::string name;
  std::string zone;      // name or id
  std::string zoneName;  // the config's name
  bool noWait = false;
};

std::string groupPath(const std::string& sub, const ZoneGroupArgs& a, bool withName = true) {
  std::string path = networkPath(sub, a.group, "privateEndpoints", a.endpoint) +
                     "/privateDnsZoneGroups";
  if (withName) path += "/" + a.name;
  return withNetworkApi(path);
}

// The zone id from a name (in the endpoint's group) or an id.
std::string zoneId(const std::string& sub, const ZoneGroupArgs& a) {
  if (!a.zone.empty() && a.zone.front() == '/') return a.zone;
  return resourceGroupPath(sub, a.group) + "/providers/Microsoft.Network/privateDnsZones/" + a.zone;
}

Json zoneConfig(const std::string& sub, const ZoneGroupArgs& a) {
  return {{"name", a.zoneName}, {"properties", {{"privateDnsZoneId", zoneId(sub, a)}}}};
}

// The group's writable part, for a GET-modify-PUT.
Json writableGroup(const Json& group) {
  Json configs = Json::array();
  const Json& p = group.contains("properties") ? group["properties"] : Json::object();
  for (const auto& c : p.value("privateDnsZoneConfigs", Json::array())) {
    configs.push_back({{"name", c.value("name", "")},
                       {"properties",
                        {{"privateDnsZoneId",
                          c.contains("properties") ? c["properties"].value("privateDnsZoneId", "")
                                                   : ""}}}});
  }
  return {{"properties", {{"privateDnsZoneConfigs", configs}}}};
}

void common(CLI::App* cmd, ZoneGroupArgs& a, bool named) {
  addResourceGroupOption(cmd, a.group);
  cmd->add_option("--endpoint-name", a.endpoint, "Name of the private endpoint.")->required();
  if (named) addNameOption(cmd, a.name, "private DNS zone group");
}

void setupDnsZoneGroupCommands(CLI::App& root, CliContext& ctx) {
  CLI::App* pe = subcommand(root, "private-endpoint", "Manage private endpoints.");
  CLI::App* zg = subcommand(*pe, "dns-zone-group",
                            "Manage a private endpoint's DNS zone group (its A records).");
  auto a = std::make_shared<ZoneGroupArgs>();

  CLI::App* create = zg->add_subcommand("create", "Create the endpoint's DNS zone group.");
  common(create, *a, true);
  create->add_option("--private-dns-zone", a->zone, "Private DNS zone name or id.")->required();
  create->add_option("--zone-name", a->zoneName, "Name of the zone configuration.")->required();
  addNoWaitOption(create, a->noWait);
  bindAction(create, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    Json body = {{"properties", {{"privateDnsZoneConfigs", {zoneConfig(sub, *a)}}}}};
    return putResource(ctx, groupPath(sub, *a), body, a->noWait);
  });

  CLI::App* add = zg->add_subcommand("add", "Add a zone to the endpoint's DNS zone group.");
  common(add, *a, true);
  add->add_option("--private-dns-zone", a->zone, "Private DNS zone name or id.")->required();
  add->add_option("--zone-name", a->zoneName, "Name of the zone configuration.")->required();
  bindAction(add, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json group, arm->get(groupPath(sub, *a)));
    Json body = writableGroup(group);
    body["properties"]["privateDnsZoneConfigs"].push_back(zoneConfig(sub, *a));
    return putResource(ctx, groupPath(sub, *a), body, false);
  });

  CLI::App* remove = zg->add_subcommand("remove", "Remove a zone from the endpoint's DNS zone group.");
  common(remove, *a, true);
  remove->add_option("--zone-name", a->zoneName, "Name of the zone configuration.")->required();
  bindAction(remove, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json group, arm->get(groupPath(sub, *a)));
    Json body = writableGroup(group);
    Json kept = Json::array();
    bool found = false;
    for (const auto& c : body["properties"]["privateDnsZoneConfigs"]) {
      if (iequals(c.value("name", ""), a->zoneName)) {
        found = true;
      } else {
        kept.push_back(c);
      }
    }
    if (!found) return usageError("the group has no zone configuration named " + a->zoneName);
    if (kept.empty()) {
      return usageError("removing " + a->zoneName +
                        " would leave the group empty; delete the group instead");
    }
    body["properties"]["privateDnsZoneConfigs"] = kept;
    return putResource(ctx, groupPath(sub, *a), body, false);
  });

  CLI::App* show = zg->add_subcommand("show", "Show the endpoint's DNS zone group.");
  common(show, *a, true);
  bindAction(show, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, groupPath(sub, *a));
  });

  CLI::App* list = zg->add_subcommand("list", "List the endpoint's DNS zone groups.");
  common(list, *a, false);
  bindAction(list, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return listResources(ctx, groupPath(sub, *a, false));
  });

  CLI::App* del = zg->add_subcommand("delete", "Delete the endpoint's DNS zone group and its records.");
  common(del, *a, true);
  addNoWaitOption(del, a->noWait);
  bindAction(del, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, groupPath(sub, *a), a->noWait);
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("private-endpoint-dns-zone-group", setupDnsZoneGroupCommands);

}  // namespace privlink::cli
