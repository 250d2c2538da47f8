// Microsoft.Network/privateDnsZones and .../virtualNetworkLinks.

#include "common/guid.h"
#include "control/network/network_common.h"
#include "control/privatedns/private_dns_internal.h"
#include "model/private_dns_view.h"
#include "model/resource_types.h"

namespace privlink::control::privatedns {
namespace {

using net::badRequest;

Status checkGlobal(const Json& desired, std::string_view what) {
  std::string location = desired.value("location", "");
  if (iequals(location, "global")) return Status::Ok();
  return badRequest("InvalidLocation",
                    "The location of a " + std::string(what) + " must be 'global'; got '" +
                        location + "'. Private DNS zones and their links are global resources.",
                    "location");
}

class PrivateDnsZoneKind : public ResourceKind {
 public:
  explicit PrivateDnsZoneKind(PrivateDnsLimits limits) : limits_(limits) {}

  std::string_view type() const override { return model::kPrivateDnsZone; }
  Status validateName(std::string_view name) const override { return validateZoneName(name); }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    RETURN_IF_ERROR(checkGlobal(desired, "private DNS zone"));
    Json properties = Json::object();
    if (existing) {
      properties["internalId"] =
          net::propertiesOf(existing->body).value("internalId", newGuid());
    } else {
      properties["internalId"] = newGuid();
      // The SOA record set comes with the zone (Azure's behaviour) and cannot be deleted alone.
      ResourceId soa = id.child("SOA", "@");
      Json body = {{"id", soa.toString()},
                   {"name", "@"},
                   {"type", recordSetType("SOA")},
                   {"properties",
                    {{"ttl", 3600},
                     {"metadata", Json::object()},
                     {"soaRecord",
                      {{"host", std::string(kSoaHost)},
                       {"email", std::string(kSoaEmail)},
                       {"serialNumber", 1},
                       {"refreshTime", 3600},
                       {"retryTime", 300},
                       {"expireTime", 2419200},
                       {"minimumTtl", 10}}}}}};
      ASSIGN_OR_RETURN(auto doc, ctx.txn.put(soa.toString(), toLower(recordSetType("SOA")),
                                             std::move(body)));
      (void)doc;
    }
    Json out = {{"properties", properties}};
    return out;
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document&) override {
    ASSIGN_OR_RETURN(auto links, zoneLinks(ctx.txn, id));
    if (!links.empty()) {
      std::string names;
      for (const auto& l : links) {
        if (!names.empty()) names += ", ";
        names += ResourceId::parse(l.id).value().name();
      }
      return net::inUse("CannotDeleteZoneWithVirtualNetworkLinks",
                        "The private DNS zone '" + id.name() + "' has " +
                            std::to_string(links.size()) + " virtual network link(s) (" + names +
                            "). Delete the links first (privlink private-dns link vnet delete), "
                            "then delete the zone.");
    }
    // The SOA record set goes with the zone (its own kind refuses a DELETE while the zone exists).
    ResourceId soa = id.child("SOA", "@");
    ASSIGN_OR_RETURN(auto doc, ctx.txn.get(soa.key()));
    if (doc) RETURN_IF_ERROR(ctx.txn.erase(doc->key));
    return Status::Ok();
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    body["location"] = "global";
    Json& p = body["properties"];
    size_t records = 0, links = 0, registration = 0;
    auto sets = zoneRecordSets(view, id);
    if (sets.ok()) records = sets->size();
    auto autoCount = autoRegisteredCount(view, id);
    if (autoCount.ok()) records += *autoCount;
    auto all = zoneLinks(view, id);
    if (all.ok()) {
      links = all->size();
      for (const auto& l : *all) {
        if (net::propertiesOf(l.body).value("registrationEnabled", false)) ++registration;
      }
    }
    p["maxNumberOfRecordSets"] = limits_.recordSetsPerZone;
    p["numberOfRecordSets"] = records;
    p["maxNumberOfVirtualNetworkLinks"] = limits_.linksPerZone;
    p["numberOfVirtualNetworkLinks"] = links;
    p["maxNumberOfVirtualNetworkLinksWithRegistration"] = limits_.registrationLinksPerZone;
    p["numberOfVirtualNetworkLinksWithRegistration"] = registration;
  }

 private:
  PrivateDnsLimits limits_;
};

class VirtualNetworkLinkKind : public ResourceKind {
 public:
  explicit VirtualNetworkLinkKind(PrivateDnsLimits limits) : limits_(limits) {}

  std::string_view type() const override { return kVirtualNetworkLinkType; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, desired, existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the virtual network link: ") + e.what());
    }
  }

  void render(store::ReadView&, const ResourceId&, Json& body) const override {
    body["location"] = "global";
    body["properties"]["virtualNetworkLinkState"] = "Completed";
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, const Json& desired,
                       const store::Document* existing) {
    RETURN_IF_ERROR(checkGlobal(desired, "virtual network link"));
    const Json empty = Json::object();
    const Json& in = desired.contains("properties") && desired["properties"].is_object()
                         ? desired["properties"]
                         : empty;
    ASSIGN_OR_RETURN(auto vnetRef, net::optRef(in, "virtualNetwork", "properties.virtualNetwork"));
    if (!vnetRef) {
      return badRequest("InvalidVirtualNetworkLink",
                        "properties.virtualNetwork.id is required: the id of the virtual network "
                        "to link to zone '" +
                            id.parent()->name() + "'.",
                        "properties.virtualNetwork");
    }
    if (existing) {
      const Json& existingProps = net::propertiesOf(existing->body);
      std::string before = existingProps.contains("virtualNetwork") &&
                                   existingProps["virtualNetwork"].is_object()
                               ? existingProps["virtualNetwork"].value("id", "")
                               : "";
      auto beforeId = ResourceId::parse(before);
      if (!beforeId.ok() || beforeId->key() != vnetRef->key()) {
        return badRequest("VirtualNetworkLinkVirtualNetworkCannotChange",
                          "The virtual network of link '" + id.name() + "' is " + before +
                              " and cannot be changed. Create a new link for " +
                              vnetRef->toString() + " instead.",
                          "properties.virtualNetwork");
      }
    }
    ASSIGN_OR_RETURN(auto vnet,
                     net::requireReferenced(ctx.txn, *vnetRef, model::kVirtualNetwork, id));
    ASSIGN_OR_RETURN(auto registration,
                     net::optBool(in, "registrationEnabled", "properties.registrationEnabled"));
    ASSIGN_OR_RETURN(std::string policy,
                     net::enumValue(in, "resolutionPolicy", "properties.resolutionPolicy",
                                    {"Default", "NxDomainRedirect"}, "Default"));
    bool reg = registration.value_or(false);
    ResourceId zone = *id.parent();

    // One link per (zone, VNet); per-zone limits.
    ASSIGN_OR_RETURN(auto siblings, zoneLinks(ctx.txn, zone));
    size_t others = 0, otherRegistration = 0;
    for (const auto& s : siblings) {
      if (s.key == id.key()) continue;
      ++others;
      const Json& sp = net::propertiesOf(s.body);
      if (sp.value("registrationEnabled", false)) ++otherRegistration;
      std::string linked = sp.contains("virtualNetwork") ? sp["virtualNetwork"].value("id", "") : "";
      auto linkedId = ResourceId::parse(linked);
      if (linkedId.ok() && linkedId->key() == vnetRef->key()) {
        return net::inUse("VirtualNetworkAlreadyLinked",
                          "Virtual network " + vnet.id + " is already linked to private DNS zone '" +
                              zone.name() + "' by link '" + ResourceId::parse(s.id)->name() +
                              "'. A virtual network can be linked to a zone only once; update "
                              "that link instead.",
                          "properties.virtualNetwork");
      }
    }
    if (!existing && others >= limits_.linksPerZone) {
      return Status::LimitExceeded("VirtualNetworkLinksLimitReached",
                                   "Private DNS zone '" + zone.name() + "' already has " +
                                       std::to_string(others) +
                                       " virtual network links, the maximum.");
    }
    if (reg) {
      bool wasRegistration =
          existing && net::propertiesOf(existing->body).value("registrationEnabled", false);
      if (!wasRegistration && otherRegistration >= limits_.registrationLinksPerZone) {
        return Status::LimitExceeded(
            "RegistrationVirtualNetworkLinksLimitReached",
            "Private DNS zone '" + zone.name() + "' already has " +
                std::to_string(otherRegistration) +
                " registration-enabled virtual network links, the maximum.");
      }
      // A VNet auto-registers into at most one zone.
      ASSIGN_OR_RETURN(auto all, ctx.txn.listType(kLinkDocType));
      for (const auto& l : all) {
        if (l.key == id.key()) continue;
        const Json& lp = net::propertiesOf(l.body);
        if (!lp.value("registrationEnabled", false) || !lp.contains("virtualNetwork")) continue;
        auto linkedId = ResourceId::parse(lp["virtualNetwork"].value("id", ""));
        if (!linkedId.ok() || linkedId->key() != vnetRef->key()) continue;
        auto otherLink = ResourceId::parse(l.id);
        std::string otherZone = otherLink.ok() ? otherLink->parent()->name() : l.id;
        return net::inUse(
            "VirtualNetworkAlreadyLinkedForRegistration",
            "Virtual network " + vnet.id +
                " already has a registration-enabled link to private DNS zone '" + otherZone +
                "' (" + l.id +
                "). A virtual network can auto-register its virtual machines in only one zone: "
                "set registrationEnabled to false on this link, or disable registration on the "
                "other one first.",
            "properties.registrationEnabled");
      }
    }
    Json props = {{"virtualNetwork", {{"id", vnet.id}}},
                  {"registrationEnabled", reg},
                  {"resolutionPolicy", policy}};
    return Json{{"properties", props}};
  }

  PrivateDnsLimits limits_;
};

}  // namespace

std::unique_ptr<ResourceKind> makePrivateDnsZoneKind(PrivateDnsLimits limits) {
  return std::make_unique<PrivateDnsZoneKind>(limits);
}
std::unique_ptr<ResourceKind> makeVirtualNetworkLinkKind(PrivateDnsLimits limits) {
  return std::make_unique<VirtualNetworkLinkKind>(limits);
}

void registerPrivateDnsKinds(ResourceService& service, PrivateDnsLimits limits) {
  service.registerKind(makePrivateDnsZoneKind(limits));
  service.registerKind(makeVirtualNetworkLinkKind(limits));
  for (const std::string& t : model::privateDnsRecordTypes()) {
    service.registerKind(makeRecordSetKind(t, limits));
  }
  service.registerKind(makePrivateDnsZoneGroupKind(limits));
}

}  // namespace privlink::control::privatedns
