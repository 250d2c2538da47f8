// privlink private-dns: private DNS zones, virtual network links and record sets, shaped like
// `az network private-dns zone|link vnet|record-set` (api-version 2024-06-01).
//
//   privlink private-dns zone create -g RG -n contoso.internal
//   privlink private-dns link vnet create -g RG -n link1 -z contoso.internal --virtual-network v1
//       [--registration-enabled true|false]
//   privlink private-dns record-set a add-record -g RG -z contoso.internal -n www -a 10.0.0.4
//   privlink private-dns record-set a remove-record ... (deletes the set when it becomes empty,
//       unless --keep-empty-record-set), record-set {a,aaaa,cname,mx,ptr,srv,txt,soa}
//       create|show|list|delete (soa: show|update)

#include "cli/command_support.h"
#include "cli/network_requests.h"
#include "common/resource_id.h"

namespace privlink::cli {
namespace {

constexpr const char* kDnsApi = "?api-version=2024-06-01";

std::string zonesPath(const std::string& sub, const std::string& group) {
  return resourceGroupPath(sub, group) + "/providers/Microsoft.Network/privateDnsZones";
}
std::string zonePath(const std::string& sub, const std::string& group, const std::string& zone) {
  return zonesPath(sub, group) + "/" + zone;
}

struct DnsArgs {
  std::string group;
  std::string name;
  std::string zone;
  std::string vnet;
  std::string registration = "false";
  std::vector<std::string> tags;
  bool noWait = false;
  int ttl = 3600;
  bool keepEmpty = false;
  // record values
  std::string ipv4, ipv6, cname, exchange, ptrdname, target, email;
  int preference = -1, priority = -1, weight = -1, port = -1;
  std::vector<std::string> values;
  long long refreshTime = -1, retryTime = -1, expireTime = -1, minimumTtl = -1;
};

struct RecordType {
  const char* cli;   // "a"
  const char* arm;   // "A"
  const char* prop;  // "aRecords"
};
constexpr RecordType kTypes[] = {{"a", "A", "aRecords"},       {"aaaa", "AAAA", "aaaaRecords"},
                                 {"cname", "CNAME", "cnameRecord"}, {"mx", "MX", "mxRecords"},
                                 {"ptr", "PTR", "ptrRecords"},   {"srv", "SRV", "srvRecords"},
                                 {"txt", "TXT", "txtRecords"}};

// The record a CLI invocation describes, or a usage error naming the missing option.
Result<Json> recordFromArgs(const RecordType& t, const DnsArgs& a) {
  std::string type = t.arm;
  if (type == "A") {
    if (a.ipv4.empty()) return usageError("--ipv4-address/-a is required");
    return Json{{"ipv4Address", a.ipv4}};
  }
  if (type == "AAAA") {
    if (a.ipv6.empty()) return usageError("--ipv6-address/-a is required");
    return Json{{"ipv6Address", a.ipv6}};
  }
  if (type == "CNAME") {
    if (a.cname.empty()) return usageError("--cname/-c is required");
    return Json{{"cname", a.cname}};
  }
  if (type == "MX") {
    if (a.exchange.empty() || a.preference < 0) {
      return usageError("--exchange/-e and --preference/-p are required");
    }
    return Json{{"exchange", a.exchange}, {"preference", a.preference}};
  }
  if (type == "PTR") {
    if (a.ptrdname.empty()) return usageError("--ptrdname/-d is required");
    return Json{{"ptrdname", a.ptrdname}};
  }
  if (type == "SRV") {
    if (a.target.empty() || a.port < 0 || a.priority < 0 || a.weight < 0) {
      return usageError("--target/-t, --port/-r, --priority/-p and --weight/-w are required");
    }
    return Json{{"target", a.target}, {"port", a.port}, {"priority", a.priority}, {"weight", a.weight}};
  }
  if (a.values.empty()) return usageError("--value/-v is required");
  return Json{{"value", a.values}};
}

void addZoneOption(CLI::App* cmd, std::string& zone) {
  cmd->add_option("-z,--zone-name", zone, "Name of the private DNS zone.")->required();
}

void setupZoneCommands(CLI::App* dns, CliContext& ctx) {
  CLI::App* zone = subcommand(*dns, "zone", "Manage private DNS zones.");
  auto a = std::make_shared<DnsArgs>();
  CLI::App* create = zone->add_subcommand("create", "Create a private DNS zone.");
  addResourceGroupOption(create, a->group);
  addNameOption(create, a->name, "zone, e.g. privatelink.database.windows.net");
  create->add_option("--tags", a->tags, "Tags: key=value ...");
  addNoWaitOption(create, a->noWait);
  bindAction(create, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(Json tags, parseTags(a->tags));
    Json body = {{"location", "global"}, {"tags", tags}};
    return putResource(ctx, zonePath(sub, a->group, a->name) + kDnsApi, body, a->noWait);
  });
  CLI::App* show = zone->add_subcommand("show", "Show a private DNS zone.");
  addResourceGroupOption(show, a->group);
  addNameOption(show, a->name, "zone");
  bindAction(show, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, zonePath(sub, a->group, a->name) + kDnsApi);
  });
  CLI::App* list = zone->add_subcommand("list", "List private DNS zones.");
  list->add_option("-g,--resource-group", a->group, "Resource group (default: the subscription).");
  bindAction(list, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    std::string scope = a->group.empty() ? subscriptionPath(sub) : resourceGroupPath(sub, a->group);
    return listResources(ctx, scope + "/providers/Microsoft.Network/privateDnsZones" + kDnsApi);
  });
  CLI::App* del = zone->add_subcommand("delete", "Delete a private DNS zone (delete its links first).");
  addResourceGroupOption(del, a->group);
  addNameOption(del, a->name, "zone");
  addNoWaitOption(del, a->noWait);
  del->add_flag("-y,--yes")->description("Do not prompt (accepted for az compatibility).");
  bindAction(del, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, zonePath(sub, a->group, a->name) + kDnsApi, a->noWait);
  });
}

void setupLinkCommands(CLI::App* dns, CliContext& ctx) {
  CLI::App* link = subcommand(*dns, "link", "Manage links between private DNS zones and networks.");
  CLI::App* vnet = subcommand(*link, "vnet", "Manage virtual network links.");
  auto a = std::make_shared<DnsArgs>();
  auto linkPath = [](const std::string& sub, const DnsArgs& x) {
    return zonePath(sub, x.group, x.zone) + "/virtualNetworkLinks/" + x.name + kDnsApi;
  };
  CLI::App* create = vnet->add_subcommand("create", "Link a virtual network to a zone.");
  addResourceGroupOption(create, a->group);
  addNameOption(create, a->name, "link");
  addZoneOption(create, a->zone);
  create->add_option("-v,--virtual-network", a->vnet, "Virtual network name or id.")->required();
  create->add_option("-e,--registration-enabled", a->registration,
                     "Auto-register the network's NICs in the zone: true or false.");
  create->add_option("--tags", a->tags, "Tags: key=value ...");
  addNoWaitOption(create, a->noWait);
  bindAction(create, ctx, [&ctx, a, linkPath]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(bool reg, parseBool(a->registration, "--registration-enabled"));
    ASSIGN_OR_RETURN(Json tags, parseTags(a->tags));
    Json body = {{"location", "global"},
                 {"tags", tags},
                 {"properties",
                  {{"virtualNetwork",
                    {{"id", resolveNetworkId(a->vnet, sub, a->group, "virtualNetworks")}}},
                   {"registrationEnabled", reg}}}};
    return putResource(ctx, linkPath(sub, *a), body, a->noWait);
  });
  CLI::App* update = vnet->add_subcommand("update", "Change a link's registration.");
  addResourceGroupOption(update, a->group);
  addNameOption(update, a->name, "link");
  addZoneOption(update, a->zone);
  update->add_option("-e,--registration-enabled", a->registration, "true or false.")->required();
  bindAction(update, ctx, [&ctx, a, linkPath]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(bool reg, parseBool(a->registration, "--registration-enabled"));
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json body, arm->get(linkPath(sub, *a)));
    body["properties"]["registrationEnabled"] = reg;
    return putResource(ctx, linkPath(sub, *a), body, false);
  });
  CLI::App* show = vnet->add_subcommand("show", "Show a virtual network link.");
  addResourceGroupOption(show, a->group);
  addNameOption(show, a->name, "link");
  addZoneOption(show, a->zone);
  bindAction(show, ctx, [&ctx, a, linkPath]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, linkPath(sub, *a));
  });
  CLI::App* list = vnet->add_subcommand("list", "List the virtual network links of a zone.");
  addResourceGroupOption(list, a->group);
  addZoneOption(list, a->zone);
  bindAction(list, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return listResources(ctx, zonePath(sub, a->group, a->zone) + "/virtualNetworkLinks" + kDnsApi);
  });
  CLI::App* del = vnet->add_subcommand("delete", "Delete a virtual network link.");
  addResourceGroupOption(del, a->group);
  addNameOption(del, a->name, "link");
  addZoneOption(del, a->zone);
  addNoWaitOption(del, a->noWait);
  del->add_flag("-y,--yes")->description("Do not prompt (accepted for az compatibility).");
  bindAction(del, ctx, [&ctx, a, linkPath]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, linkPath(sub, *a), a->noWait);
  });
}

void addRecordValueOptions(CLI::App* cmd, const RecordType& t, DnsArgs& a) {
  std::string type = t.arm;
  if (type == "A") cmd->add_option("-a,--ipv4-address", a.ipv4, "IPv4 address.");
  if (type == "AAAA") cmd->add_option("-a,--ipv6-address", a.ipv6, "IPv6 address.");
  if (type == "CNAME") cmd->add_option("-c,--cname", a.cname, "Canonical name.");
  if (type == "MX") {
    cmd->add_option("-e,--exchange", a.exchange, "Mail exchange host.");
    cmd->add_option("-p,--preference", a.preference, "Preference.");
  }
  if (type == "PTR") cmd->add_option("-d,--ptrdname", a.ptrdname, "Target domain name.");
  if (type == "SRV") {
    cmd->add_option("-t,--target", a.target, "Target host.");
    cmd->add_option("-r,--port", a.port, "Port.");
    cmd->add_option("-p,--priority", a.priority, "Priority.");
    cmd->add_option("-w,--weight", a.weight, "Weight.");
  }
  if (type == "TXT") cmd->add_option("-v,--value", a.values, "Text value(s).");
}

void setupRecordTypeCommands(CLI::App* recordSet, CliContext& ctx, const RecordType& t) {
  CLI::App* group = subcommand(*recordSet, t.cli, std::string("Manage ") + t.arm + " record sets.");
  auto a = std::make_shared<DnsArgs>();
  auto setPath = [t](const std::string& sub, const DnsArgs& x) {
    return zonePath(sub, x.group, x.zone) + "/" + t.arm + "/" + x.name + kDnsApi;
  };
  auto common = [&](CLI::App* cmd, bool named) {
    addResourceGroupOption(cmd, a->group);
    addZoneOption(cmd, a->zone);
    if (named) addNameOption(cmd, a->name, "record set, relative to the zone ('@' for the apex)");
  };
  const bool single = std::string(t.arm) == "CNAME";

  CLI::App* create = group->add_subcommand("create", "Create an empty record set.");
  common(create, true);
  create->add_option("--ttl", a->ttl, "Time to live in seconds (default 3600).");
  bindAction(create, ctx, [&ctx, a, setPath, t]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    Json props = {{"ttl", a->ttl}};
    if (std::string(t.arm) != "CNAME") props[t.prop] = Json::array();
    return putResource(ctx, setPath(sub, *a), Json{{"properties", props}}, false);
  });

  CLI::App* add = group->add_subcommand(single ? "set-record" : "add-record",
                                        single ? "Set the record of a record set (created when "
                                                 "missing)."
                                               : "Add a record (the set is created when missing).");
  common(add, false);
  add->add_option("-n,--record-set-name", a->name, "Record set name ('@' for the apex).")->required();
  add->add_option("--ttl", a->ttl, "Time to live of a new record set (default 3600).");
  addRecordValueOptions(add, t, *a);
  bindAction(add, ctx, [&ctx, a, setPath, t]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(Json record, recordFromArgs(t, *a));
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    Json body;
    auto existing = arm->get(setPath(sub, *a));
    if (existing.ok()) {
      body = {{"properties", (*existing)["properties"]}};
      for (const char* ro : {"fqdn", "isAutoRegistered", "provisioningState"}) {
        body["properties"].erase(ro);
      }
    } else if (existing.status().code() == StatusCode::kNotFound) {
      body = {{"properties", {{"ttl", a->ttl}}}};
    } else {
      return existing.status();
    }
    Json& p = body["properties"];
    if (std::string(t.arm) == "CNAME") {
      p[t.prop] = record;
    } else {
      if (!p.contains(t.prop) || !p[t.prop].is_array()) p[t.prop] = Json::array();
      bool present = false;
      for (const auto& r : p[t.prop]) present = present || r == record;
      if (!present) p[t.prop].push_back(record);
    }
    return putResource(ctx, setPath(sub, *a), body, false);
  });

  CLI::App* remove = group->add_subcommand("remove-record", "Remove a record; the set is deleted "
                                                            "when it becomes empty.");
  common(remove, false);
  remove->add_option("-n,--record-set-name", a->name, "Record set name.")->required();
  remove->add_flag("--keep-empty-record-set", a->keepEmpty, "Keep the set when it becomes empty.");
  addRecordValueOptions(remove, t, *a);
  bindAction(remove, ctx, [&ctx, a, setPath, t]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json existing, arm->get(setPath(sub, *a)));
    Json props = existing["properties"];
    for (const char* ro : {"fqdn", "isAutoRegistered", "provisioningState"}) props.erase(ro);
    bool empty = true;
    if (std::string(t.arm) == "CNAME") {
      props.erase(t.prop);
    } else {
      ASSIGN_OR_RETURN(Json record, recordFromArgs(t, *a));
      Json kept = Json::array();
      bool found = false;
      for (const auto& r : props.value(t.prop, Json::array())) {
        if (r == record) {
          found = true;
        } else {
          kept.push_back(r);
        }
      }
      if (!found) return usageError("record set " + a->name + " has no such record");
      props[t.prop] = kept;
      empty = kept.empty();
    }
    if (empty && !a->keepEmpty) {
      return deleteResource(ctx, setPath(sub, *a), false);
    }
    return putResource(ctx, setPath(sub, *a), Json{{"properties", props}}, false);
  });

  CLI::App* show = group->add_subcommand("show", "Show a record set.");
  common(show, true);
  bindAction(show, ctx, [&ctx, a, setPath]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, setPath(sub, *a));
  });
  CLI::App* list = group->add_subcommand("list", "List the record sets of this type.");
  common(list, false);
  bindAction(list, ctx, [&ctx, a, t]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return listResources(ctx, zonePath(sub, a->group, a->zone) + "/" + t.arm + kDnsApi);
  });
  CLI::App* del = group->add_subcommand("delete", "Delete a record set.");
  common(del, true);
  del->add_flag("-y,--yes")->description("Do not prompt (accepted for az compatibility).");
  bindAction(del, ctx, [&ctx, a, setPath]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return deleteResource(ctx, setPath(sub, *a), false);
  });
}

void setupSoaCommands(CLI::App* recordSet, CliContext& ctx) {
  CLI::App* soa = subcommand(*recordSet, "soa", "Show or update the zone's SOA record.");
  auto a = std::make_shared<DnsArgs>();
  auto path = [](const std::string& sub, const DnsArgs& x) {
    return zonePath(sub, x.group, x.zone) + "/SOA/@" + kDnsApi;
  };
  CLI::App* show = soa->add_subcommand("show", "Show the SOA record.");
  addResourceGroupOption(show, a->group);
  addZoneOption(show, a->zone);
  bindAction(show, ctx, [&ctx, a, path]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    return showResource(ctx, path(sub, *a));
  });
  CLI::App* update = soa->add_subcommand("update", "Update SOA fields (the host is fixed).");
  addResourceGroupOption(update, a->group);
  addZoneOption(update, a->zone);
  update->add_option("-e,--email", a->email, "Contact email.");
  update->add_option("-f,--refresh-time", a->refreshTime, "Refresh time (s).");
  update->add_option("-r,--retry-time", a->retryTime, "Retry time (s).");
  update->add_option("-x,--expire-time", a->expireTime, "Expire time (s).");
  update->add_option("-m,--minimum-ttl", a->minimumTtl, "Minimum TTL (s).");
  bindAction(update, ctx, [&ctx, a, path]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    ASSIGN_OR_RETURN(Json existing, arm->get(path(sub, *a)));
    Json props = existing["properties"];
    for (const char* ro : {"fqdn", "isAutoRegistered", "provisioningState"}) props.erase(ro);
    Json& s = props["soaRecord"];
    if (!a->email.empty()) s["email"] = a->email;
    if (a->refreshTime >= 0) s["refreshTime"] = a->refreshTime;
    if (a->retryTime >= 0) s["retryTime"] = a->retryTime;
    if (a->expireTime >= 0) s["expireTime"] = a->expireTime;
    if (a->minimumTtl >= 0) s["minimumTtl"] = a->minimumTtl;
    return putResource(ctx, path(sub, *a), Json{{"properties", props}}, false);
  });
}

void setupPrivateDnsCommands(CLI::App& root, CliContext& ctx) {
  CLI::App* dns = subcommand(root, "private-dns", "Manage private DNS zones, links and records.");
  setupZoneCommands(dns, ctx);
  setupLinkCommands(dns, ctx);
  CLI::App* recordSet = subcommand(*dns, "record-set", "Manage record sets of a private DNS zone.");
  for (const RecordType& t : kTypes) setupRecordTypeCommands(recordSet, ctx, t);
  setupSoaCommands(recordSet, ctx);
  auto a = std::make_shared<DnsArgs>();
  CLI::App* listAll = recordSet->add_subcommand("list", "List every record set of a zone.");
  addResourceGroupOption(listAll, a->group);
  addZoneOption(listAll, a->zone);
  bindAction(listAll, ctx, [&ctx, a]() -> Result<CommandOutput> {
    ASSIGN_OR_RETURN(std::string sub, ctx.subscriptionId());
    Json all = Json::array();
    ASSIGN_OR_RETURN(client::ArmClient * arm, ctx.arm());
    for (const char* type : {"A", "AAAA", "CNAME", "MX", "PTR", "SOA", "SRV", "TXT"}) {
      ASSIGN_OR_RETURN(auto items,
                       arm->list(zonePath(sub, a->group, a->zone) + "/" + type + kDnsApi));
      for (auto& item : items) all.push_back(std::move(item));
    }
    return CommandOutput(all);
  });
}

}  // namespace

PRIVLINK_CLI_COMMAND_GROUP("private-dns", setupPrivateDnsCommands);

}  // namespace privlink::cli
