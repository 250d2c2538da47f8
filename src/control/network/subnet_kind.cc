// Microsoft.Network/virtualNetworks/subnets: address prefixes inside the VNet's address space, no
// overlap with sibling subnets, Azure's minimum size, network-policy flags; in use while any of
// its addresses is allocated (ip_allocation.h).

#include <set>

#include "control/network/ip_allocation.h"
#include "control/network/network_common.h"
#include "control/network/network_kinds.h"
#include "control/resource_service.h"
#include "model/resource_types.h"

namespace privlink::control {
namespace {

using net::badRequest;
using net::Json;

// Azure's smallest IPv4 subnet: /29 (8 addresses, 3 usable after the 5 reserved ones).
constexpr int kMaxIpv4SubnetLength = 29;
// Azure's only IPv6 subnet size.
constexpr int kIpv6SubnetLength = 64;

std::string describe(const std::vector<IpPrefix>& prefixes) { return net::joinPrefixes(prefixes); }

class SubnetKind : public ResourceKind {
 public:
  std::string_view type() const override { return model::kSubnet; }
  bool tracked() const override { return false; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, std::move(desired), existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the subnet: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    ASSIGN_OR_RETURN(std::vector<ipam::Allocation> used, ipam::allocations(ctx.txn, id));
    if (!used.empty()) {
      return net::inUse("InUseSubnetCannotBeDeleted",
                        "Subnet " + id.name() + " is in use by " + used.front().ownerId +
                            " and cannot be deleted. In order to delete the subnet, delete all "
                            "the resources within the subnet (" +
                            std::to_string(used.size()) + " address(es) in use).");
    }
    return ipam::dropSubnet(ctx, id);
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Result<std::vector<ipam::Allocation>> used = ipam::allocations(view, id);
    if (!used.ok() || used->empty()) return;
    Json& props = body["properties"];
    Json ipConfigurations = Json::array();
    Json privateEndpoints = Json::array();
    std::set<std::string> seenEndpoints;
    for (const ipam::Allocation& a : *used) {
      ipConfigurations.push_back({{"id", a.ownerId}});
      if (!a.privateEndpointId.empty() &&
          seenEndpoints.insert(toLower(a.privateEndpointId)).second) {
        privateEndpoints.push_back({{"id", a.privateEndpointId}});
      }
    }
    props["ipConfigurations"] = std::move(ipConfigurations);
    if (!privateEndpoints.empty()) props["privateEndpoints"] = std::move(privateEndpoints);
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, Json desired,
                       const store::Document* existing) {
    ASSIGN_OR_RETURN(const Json* propsPtr, net::optObject(desired, "properties", "properties"));
    const Json in = propsPtr ? *propsPtr : Json::object();
    const ResourceId vnetId = *id.parent();
    const std::string subnetName = id.name();

    // --- address prefixes
    ASSIGN_OR_RETURN(std::optional<std::string> single,
                     net::optString(in, "addressPrefix", "properties.addressPrefix"));
    ASSIGN_OR_RETURN(const Json* multi,
                     net::optArray(in, "addressPrefixes", "properties.addressPrefixes"));
    std::vector<std::string> texts;
    if (multi && !multi->empty()) {
      for (const Json& v : *multi) {
        if (!v.is_string()) {
          return badRequest("InvalidRequestFormat",
                            "properties.addressPrefixes must be an array of strings such as "
                            "[\"10.0.1.0/24\"].",
                            "properties.addressPrefixes");
        }
        texts.push_back(v.get<std::string>());
      }
      if (single && !(texts.size() == 1 && texts[0] == *single)) {
        return badRequest("InvalidRequestFormat",
                          "Subnet " + subnetName +
                              " gives both addressPrefix and addressPrefixes; give only one of "
                              "them.",
                          "properties.addressPrefix");
      }
    } else if (single) {
      texts.push_back(*single);
    }
    if (texts.empty()) {
      return badRequest("NoAddressPrefixOrPoolProvided",
                        "Subnet " + subnetName +
                            " has no address prefix; set properties.addressPrefix (for example "
                            "\"10.0.1.0/24\") inside the virtual network's address space.",
                        "properties.addressPrefix");
    }
    std::vector<IpPrefix> prefixes;
    for (const std::string& t : texts) {
      Result<IpPrefix> p = IpPrefix::parse(t);
      if (!p.ok()) return p.status().withTarget("properties.addressPrefix");
      if (p->family() == IpFamily::kV4 && p->length() > kMaxIpv4SubnetLength) {
        return badRequest("NetcfgInvalidSubnet",
                          "Subnet '" + subnetName + "' is not valid in virtual network '" +
                              vnetId.name() + "': " + p->toString() +
                              " is too small; the smallest IPv4 subnet is /29 (Azure reserves 5 "
                              "addresses of every subnet).",
                          "properties.addressPrefix");
      }
      if (p->family() == IpFamily::kV6 && p->length() != kIpv6SubnetLength) {
        return badRequest("NetcfgInvalidSubnet",
                          "Subnet '" + subnetName + "' is not valid in virtual network '" +
                              vnetId.name() + "': IPv6 subnet prefixes must be /64, not " +
                              p->toString() + ".",
                          "properties.addressPrefixes");
      }
      for (const IpPrefix& other : prefixes) {
        if (other.overlaps(*p)) {
          return badRequest("NetcfgInvalidSubnet",
                            "Subnet '" + subnetName + "' lists overlapping prefixes " +
                                other.toString() + " and " + p->toString() +
                                "; give each address range once.",
                            "properties.addressPrefixes");
        }
      }
      prefixes.push_back(*p);
    }

    // --- inside the VNet's address space
    ASSIGN_OR_RETURN(std::optional<store::Document> vnetDoc, ctx.txn.get(vnetId.key()));
    if (!vnetDoc) {
      return Status::NotFound(
          "ParentResourceNotFound",
          "Virtual network " + vnetId.toString() + " was not found; create it before its subnets.");
    }
    const std::vector<IpPrefix> space = net::storedVnetPrefixes(vnetDoc->body);
    for (const IpPrefix& p : prefixes) {
      bool inside = false;
      for (const IpPrefix& s : space) inside = inside || s.contains(p);
      if (!inside) {
        return badRequest("NetcfgSubnetRangeOutsideVnet",
                          "Subnet '" + subnetName + "' is not valid because its IP address range " +
                              p.toString() +
                              " is outside the IP address range of virtual network '" +
                              vnetId.name() + "' (" + describe(space) +
                              "); choose a prefix inside it or add an address range to the "
                              "virtual network first.",
                          "properties.addressPrefix");
      }
    }

    // --- no overlap with sibling subnets
    ASSIGN_OR_RETURN(std::vector<store::Document> siblings,
                     ctx.txn.listPrefix(vnetId.key() + "/subnets/"));
    const std::string subnetType = toLower(model::kSubnet);
    for (const store::Document& sib : siblings) {
      if (sib.key == id.key() || sib.type != subnetType) continue;
      for (const IpPrefix& other : net::storedSubnetPrefixes(sib.body)) {
        for (const IpPrefix& p : prefixes) {
          if (!other.overlaps(p)) continue;
          Result<ResourceId> sibId = ResourceId::parse(sib.id);
          std::string sibName = sibId.ok() ? sibId->name() : sib.id;
          return badRequest("NetcfgSubnetRangesOverlap",
                            "Subnet '" + subnetName + "' (" + p.toString() + ") overlaps subnet '" +
                                sibName + "' (" + other.toString() + ") in virtual network '" +
                                vnetId.name() + "'; choose an address range no other subnet uses.",
                            "properties.addressPrefix");
        }
      }
    }

    // --- addresses in use must stay usable
    ASSIGN_OR_RETURN(std::vector<ipam::Allocation> used, ipam::allocations(ctx.txn, id));
    for (const ipam::Allocation& a : used) {
      bool fits = false;
      for (const IpPrefix& p : prefixes)
        fits = fits || (p.contains(a.address) && !p.isAzureReserved(a.address));
      if (!fits) {
        return net::inUse("InUseSubnetCannotBeUpdated",
                          "Subnet " + subnetName + " is in use by " + a.ownerId + " (" +
                              a.address.toString() + "), which the new address prefix " +
                              describe(prefixes) +
                              " would not contain as a usable address; keep a prefix that "
                              "contains every address in use, or delete those resources first.",
                          "properties.addressPrefix");
      }
    }

    // --- references privlink has no resources for
    for (const char* unsupported : {"networkSecurityGroup", "routeTable", "natGateway"}) {
      if (in.contains(unsupported) && !in[unsupported].is_null()) {
        return badRequest("PropertyNotSupported",
                          std::string("privlink does not implement ") + unsupported +
                              " on subnets yet; remove properties." + unsupported + ".",
                          std::string("properties.") + unsupported);
      }
    }

    // --- policies and pass-through settings
    Json out = Json::object();
    if (multi && !multi->empty()) {
      out["addressPrefixes"] = Json::array();
      for (const IpPrefix& p : prefixes) out["addressPrefixes"].push_back(p.toString());
    } else {
      out["addressPrefix"] = prefixes.front().toString();
    }
    ASSIGN_OR_RETURN(
        out["privateEndpointNetworkPolicies"],
        net::enumValue(in, "privateEndpointNetworkPolicies",
                       "properties.privateEndpointNetworkPolicies",
                       {"Enabled", "Disabled", "NetworkSecurityGroupEnabled", "RouteTableEnabled"},
                       "Disabled"));
    ASSIGN_OR_RETURN(out["privateLinkServiceNetworkPolicies"],
                     net::enumValue(in, "privateLinkServiceNetworkPolicies",
                                    "properties.privateLinkServiceNetworkPolicies",
                                    {"Enabled", "Disabled"}, "Enabled"));
    ASSIGN_OR_RETURN(const Json* delegations,
                     net::optArray(in, "delegations", "properties.delegations"));
    out["delegations"] = delegations ? *delegations : Json::array();
    ASSIGN_OR_RETURN(const Json* serviceEndpoints,
                     net::optArray(in, "serviceEndpoints", "properties.serviceEndpoints"));
    if (serviceEndpoints) out["serviceEndpoints"] = *serviceEndpoints;
    ASSIGN_OR_RETURN(std::optional<bool> defaultOutbound,
                     net::optBool(in, "defaultOutboundAccess", "properties.defaultOutboundAccess"));
    if (defaultOutbound) {
      out["defaultOutboundAccess"] = *defaultOutbound;
    } else if (existing) {
      // Create-only in Azure: an update that omits it keeps the original choice.
      const Json& old = net::propertiesOf(existing->body);
      if (old.contains("defaultOutboundAccess"))
        out["defaultOutboundAccess"] = old["defaultOutboundAccess"];
    }

    Json result = Json::object();
    result["properties"] = std::move(out);
    return result;
  }
};

}  // namespace

std::unique_ptr<ResourceKind> makeSubnetKind() { return std::make_unique<SubnetKind>(); }

}  // namespace privlink::control
