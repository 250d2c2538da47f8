// Microsoft.Network/privateEndpoints/privateDnsZoneGroups: binds a private endpoint to 1-5
// private DNS zones and keeps its A records in them (docs/private-dns.md).

#include <set>

#include "common/ip.h"
#include "control/network/network_common.h"
#include "control/privatedns/private_dns_internal.h"
#include "model/resource_types.h"

namespace privlink::control::privatedns {
namespace {

using net::badRequest;

struct EndpointFacts {
  std::string endpointId;
  std::string vnetId;
  std::string recordName;  // the target's name, lower-case
  std::string resourceGuid;
  std::vector<std::string> addresses;  // IPv4, from the endpoint's NIC
};

// Reads what the zone group needs from the private endpoint document (privatelink_kinds.h).
Result<EndpointFacts> endpointFacts(store::ReadView& view, const store::Document& pe) {
  EndpointFacts f;
  f.endpointId = pe.id;
  const Json& p = net::propertiesOf(pe.body);
  f.resourceGuid = p.value("resourceGuid", "");
  if (f.resourceGuid.empty()) f.resourceGuid = p.value("privlink", Json::object()).value("resourceGuid", "");
  std::string subnet = p.contains("subnet") && p["subnet"].is_object()
                           ? p["subnet"].value("id", "")
                           : "";
  auto subnetId = ResourceId::parse(subnet);
  if (subnetId.ok() && subnetId->parent()) f.vnetId = subnetId->parent()->toString();
  std::string target;
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"}) {
    if (!p.contains(list) || !p[list].is_array()) continue;
    for (const auto& c : p[list]) {
      const Json& cp = net::propertiesOf(c);
      if (cp.contains("privlink") && cp["privlink"].is_object()) {
        target = cp["privlink"].value("targetId", "");
      }
      if (target.empty()) target = cp.value("privateLinkServiceId", "");
      if (!target.empty()) break;
    }
    if (!target.empty()) break;
  }
  auto targetId = ResourceId::parse(target);
  if (targetId.ok() && !targetId->segments().empty()) f.recordName = toLower(targetId->name());
  if (p.contains("networkInterfaces") && p["networkInterfaces"].is_array()) {
    for (const auto& n : p["networkInterfaces"]) {
      auto nicId = ResourceId::parse(n.is_object() ? n.value("id", "") : "");
      if (!nicId.ok()) continue;
      ASSIGN_OR_RETURN(auto nic, view.get(nicId->key()));
      if (!nic) continue;
      const Json& np = net::propertiesOf(nic->body);
      // The endpoint carries no resourceGuid of its own today; its NIC does.
      if (f.resourceGuid.empty()) f.resourceGuid = np.value("resourceGuid", "");
      if (!np.contains("ipConfigurations") || !np["ipConfigurations"].is_array()) continue;
      for (const auto& cfg : np["ipConfigurations"]) {
        std::string text = net::propertiesOf(cfg).value("privateIPAddress", "");
        auto ip = IpAddress::parse(text);
        if (ip && ip->isV4()) f.addresses.push_back(ip->toString());
      }
    }
  }
  if (f.recordName.empty() || f.vnetId.empty() || f.addresses.empty()) {
    return badRequest("PrivateEndpointNotReadyForDnsZoneGroup",
                      "Private endpoint " + pe.id +
                          " has no target, subnet or address yet, so its DNS records cannot be "
                          "written. Retry after the endpoint has been created.");
  }
  return f;
}

struct ZoneConfig {
  std::string name;
  ResourceId zone;
};

std::vector<ZoneConfig> storedConfigs(const Json& body) {
  std::vector<ZoneConfig> out;
  const Json& p = net::propertiesOf(body);
  if (!p.contains("privateDnsZoneConfigs") || !p["privateDnsZoneConfigs"].is_array()) return out;
  for (const auto& c : p["privateDnsZoneConfigs"]) {
    auto zone = ResourceId::parse(net::propertiesOf(c).value("privateDnsZoneId", ""));
    if (zone.ok()) out.push_back({c.value("name", ""), *zone});
  }
  return out;
}

std::string storedRecordName(const Json& body) {
  const Json& p = net::propertiesOf(body);
  if (p.contains("privlink") && p["privlink"].is_object()) {
    return p["privlink"].value("recordSetName", "");
  }
  return {};
}

class ZoneGroupKind : public ResourceKind {
 public:
  explicit ZoneGroupKind(PrivateDnsLimits limits) : limits_(limits) {}

  std::string_view type() const override { return kZoneGroupType; }
  bool tracked() const override { return false; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, desired, existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the private DNS zone group: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    std::string recordName = storedRecordName(existing.body);
    for (const ZoneConfig& c : storedConfigs(existing.body)) {
      RETURN_IF_ERROR(removeZoneGroupAddresses(ctx.txn, c.zone, recordName, id.key()));
    }
    return Status::Ok();
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Json& p = body["properties"];
    std::string recordName = storedRecordName(body);
    if (!p.contains("privateDnsZoneConfigs") || !p["privateDnsZoneConfigs"].is_array()) return;
    for (auto& c : p["privateDnsZoneConfigs"]) {
      auto zone = ResourceId::parse(net::propertiesOf(c).value("privateDnsZoneId", ""));
      Json sets = Json::array();
      if (zone.ok() && !recordName.empty()) {
        auto doc = view.get(aRecordSetId(*zone, recordName).key());
        if (doc.ok() && *doc) {
          const Json& rp = net::propertiesOf((*doc)->body);
          Json ips = Json::array();
          if (rp.contains("aRecords") && rp["aRecords"].is_array()) {
            for (const auto& r : rp["aRecords"]) ips.push_back(r.value("ipv4Address", ""));
          }
          sets.push_back({{"recordType", "A"},
                          {"recordSetName", recordName},
                          {"fqdn", recordFqdn(recordName, zone->name())},
                          {"ttl", rp.value("ttl", kZoneGroupRecordTtl)},
                          {"ipAddresses", ips},
                          {"provisioningState", "Succeeded"}});
        }
      }
      c["properties"]["recordSets"] = sets;
      if (!c.contains("id")) c["id"] = body.value("id", id.toString()) + "/privateDnsZoneConfigs/" + c.value("name", "");
    }
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, const Json& desired,
                       const store::Document* existing) {
    ResourceId endpoint = *id.parent();
    ASSIGN_OR_RETURN(auto pe, ctx.txn.get(endpoint.key()));
    if (!pe) {
      return Status::NotFound("ParentResourceNotFound",
                              "Private endpoint " + endpoint.toString() + " was not found.");
    }
    // At most one group per endpoint.
    ASSIGN_OR_RETURN(auto groups, ctx.txn.listType(kZoneGroupDocType, endpoint.key() + "/"));
    size_t others = 0;
    std::string otherName;
    for (const auto& g : groups) {
      if (g.key == id.key()) continue;
      ++others;
      otherName = ResourceId::parse(g.id)->name();
    }
    if (others >= limits_.zoneGroupsPerEndpoint) {
      return Status::LimitExceeded(
          "PrivateDnsZoneGroupsPerPrivateEndpointLimitReached",
          "Private endpoint '" + endpoint.name() + "' already has the private DNS zone group '" +
              otherName + "'; an endpoint can have only " +
              std::to_string(limits_.zoneGroupsPerEndpoint) +
              ". Add the zone to that group (up to " + std::to_string(limits_.zonesPerZoneGroup) +
              " zones) instead.");
    }

    const Json empty = Json::object();
    const Json& in = desired.contains("properties") && desired["properties"].is_object()
                         ? desired["properties"]
                         : empty;
    ASSIGN_OR_RETURN(const Json* configs,
                     net::optArray(in, "privateDnsZoneConfigs", "properties.privateDnsZoneConfigs"));
    if (!configs || configs->empty()) {
      return badRequest("InvalidPrivateDnsZoneGroup",
                        "properties.privateDnsZoneConfigs must list 1 to " +
                            std::to_string(limits_.zonesPerZoneGroup) +
                            " zones: [{\"name\": ..., \"properties\": {\"privateDnsZoneId\": "
                            "\"<zone id>\"}}].",
                        "properties.privateDnsZoneConfigs");
    }
    if (configs->size() > limits_.zonesPerZoneGroup) {
      return Status::LimitExceeded("PrivateDnsZoneConfigsPerZoneGroupLimitReached",
                                   "A private DNS zone group holds at most " +
                                       std::to_string(limits_.zonesPerZoneGroup) + " zones; " +
                                       std::to_string(configs->size()) + " were given.")
          .withTarget("properties.privateDnsZoneConfigs");
    }
    std::vector<ZoneConfig> next;
    std::set<std::string> zoneKeys, names;
    Json stored = Json::array();
    for (size_t i = 0; i < configs->size(); ++i) {
      const std::string target = "properties.privateDnsZoneConfigs[" + std::to_string(i) + "]";
      const Json& c = (*configs)[i];
      if (!c.is_object()) return badRequest("InvalidPrivateDnsZoneGroup", target + " must be an object.", target);
      const Json& cp = c.contains("properties") && c["properties"].is_object() ? c["properties"] : empty;
      ASSIGN_OR_RETURN(auto zoneText,
                       net::optString(cp, "privateDnsZoneId", target + ".properties.privateDnsZoneId"));
      if (!zoneText || zoneText->empty()) {
        return badRequest("InvalidPrivateDnsZoneGroup",
                          target + ".properties.privateDnsZoneId is required: the id of a "
                                   "Microsoft.Network/privateDnsZones resource.",
                          target + ".properties.privateDnsZoneId");
      }
      auto zoneId = ResourceId::parse(*zoneText);
      if (!zoneId.ok()) return zoneId.status();
      ASSIGN_OR_RETURN(auto zoneDoc,
                       net::requireReferenced(ctx.txn, *zoneId, model::kPrivateDnsZone, id));
      if (!zoneKeys.insert(zoneDoc.key).second) {
        return badRequest("DuplicatePrivateDnsZoneInZoneGroup",
                          "Private DNS zone " + zoneDoc.id + " is listed twice in " + target +
                              "'s group; list each zone once.",
                          target);
      }
      ASSIGN_OR_RETURN(auto nameOpt, net::optString(c, "name", target + ".name"));
      std::string name = nameOpt && !nameOpt->empty() ? *nameOpt : ResourceId::parse(zoneDoc.id)->name();
      RETURN_IF_ERROR(net::validateChildName(name, target + ".name"));
      if (!names.insert(toLower(name)).second) {
        return badRequest("DuplicatePrivateDnsZoneConfigName",
                          "Two zone configs are named '" + name + "'; names must be unique.",
                          target + ".name");
      }
      ResourceId zone = ResourceId::parse(zoneDoc.id).value();
      next.push_back({name, zone});
      stored.push_back({{"name", name}, {"properties", {{"privateDnsZoneId", zoneDoc.id}}}});
    }

    ASSIGN_OR_RETURN(EndpointFacts facts, endpointFacts(ctx.txn, *pe));
    if (existing) {
      std::string before = storedRecordName(existing->body);
      for (const ZoneConfig& c : storedConfigs(existing->body)) {
        RETURN_IF_ERROR(removeZoneGroupAddresses(ctx.txn, c.zone, before, id.key()));
      }
    }
    std::string creator = std::string(kCreatorPrefix) + endpoint.name() + " with resource guid " +
                          facts.resourceGuid;
    for (const ZoneConfig& c : next) {
      for (const std::string& ip : facts.addresses) {
        RETURN_IF_ERROR(addEndpointAddress(ctx.txn, c.zone, facts.recordName,
                                           {ip, facts.vnetId, facts.endpointId, id.key()},
                                           creator));
      }
    }
    Json props = {{"privateDnsZoneConfigs", stored},
                  {"privlink",
                   {{"recordSetName", facts.recordName},
                    {"virtualNetworkId", facts.vnetId},
                    {"addresses", facts.addresses}}}};
    return Json{{"properties", props}};
  }

  PrivateDnsLimits limits_;
};

}  // namespace

std::unique_ptr<ResourceKind> makePrivateDnsZoneGroupKind(PrivateDnsLimits limits) {
  return std::make_unique<ZoneGroupKind>(limits);
}

}  // namespace privlink::control::privatedns
