// Microsoft.Network/virtualNetworks: the address space (valid, disjoint, clear of the privlink
// transit range and Azure's reserved ranges, disjoint from peers), DHCP DNS servers, policies,
// and inline subnets / peerings, which are separate documents written through their own kinds.

#include <set>

#include "common/guid.h"
#include "control/network/ip_allocation.h"
#include "control/network/network_common.h"
#include "control/network/network_kinds.h"
#include "control/resource_service.h"
#include "model/resource_types.h"

namespace privlink::control {
namespace {

using net::badRequest;
using net::Json;

struct ReservedRange {
  const char* prefix;
  const char* what;
};
// Azure refuses these in a VNet address space.
constexpr ReservedRange kAzureReserved[] = {
    {"224.0.0.0/4", "multicast"},
    {"255.255.255.255/32", "broadcast"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"168.63.129.16/32", "the platform DNS resolver / internal IP"},
};

// An inline child collection of a VNet (subnets or peerings), written through the child's kind.
struct InlineChildren {
  const char* property;     // "subnets"
  const char* segmentType;  // "subnets" (ResourceId segment)
  std::string_view type;    // canonical child type
};

class VirtualNetworkKind : public ResourceKind {
 public:
  explicit VirtualNetworkKind(const ResourceService& service) : service_(service) {}

  std::string_view type() const override { return model::kVirtualNetwork; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, std::move(desired), existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the virtual network: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    // Refuse before changing anything while a subnet is in use (a resource-group delete retries
    // this VNet after the NICs in it are gone, in the same transaction).
    ASSIGN_OR_RETURN(std::vector<ResourceId> subnets, childIds(ctx.txn, id, kChildren[1]));
    for (const ResourceId& subnet : subnets) {
      ASSIGN_OR_RETURN(std::vector<ipam::Allocation> used, ipam::allocations(ctx.txn, subnet));
      if (!used.empty()) {
        return net::inUse("InUseSubnetCannotBeDeleted",
                          "Subnet " + subnet.name() + " is in use by " + used.front().ownerId +
                              " and cannot be deleted, so virtual network " + id.name() +
                              " cannot be deleted either. In order to delete the subnet, delete "
                              "all the resources within the subnet.");
      }
    }
    // Peerings first: each one tells its remote side it is Disconnected.
    for (const InlineChildren& c : kChildren) {
      ASSIGN_OR_RETURN(std::vector<ResourceId> children, childIds(ctx.txn, id, c));
      for (const ResourceId& child : children) {
        RETURN_IF_ERROR(ctx.service.removeWithin(ctx, child));
      }
    }
    // Peerings of other VNets that point here without a local counterpart are Disconnected too.
    ASSIGN_OR_RETURN(std::vector<store::Document> all,
                     ctx.txn.listType(toLower(model::kVirtualNetworkPeering)));
    for (store::Document& d : all) {
      Json& props = d.body["properties"];
      if (!props.is_object() || !props.contains("remoteVirtualNetwork")) continue;
      const Json& remote = props["remoteVirtualNetwork"];
      if (!remote.is_object() || !remote.contains("id") || !remote["id"].is_string()) continue;
      if (toLower(remote["id"].get<std::string>()) != id.key()) continue;
      if (props.value("peeringState", "") == "Disconnected") continue;
      props["peeringState"] = "Disconnected";
      ASSIGN_OR_RETURN(store::Document stored, ctx.txn.put(d.id, d.type, d.body));
      (void)stored;
    }
    return Status::Ok();
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Json& props = body["properties"];
    for (const InlineChildren& c : kChildren) {
      Json items = Json::array();
      Result<std::vector<store::Document>> docs = childDocs(view, id, c);
      if (docs.ok()) {
        for (const store::Document& d : *docs) items.push_back(service_.render(view, d));
      }
      props[c.property] = std::move(items);
    }
  }

 private:
  static constexpr InlineChildren kChildren[] = {
      {"virtualNetworkPeerings", "virtualNetworkPeerings", model::kVirtualNetworkPeering},
      {"subnets", "subnets", model::kSubnet},
  };

  static Result<std::vector<store::Document>> childDocs(store::ReadView& view, const ResourceId& id,
                                                        const InlineChildren& c) {
    ASSIGN_OR_RETURN(std::vector<store::Document> docs,
                     view.listPrefix(id.key() + "/" + toLower(c.segmentType) + "/"));
    std::vector<store::Document> out;
    const std::string type = toLower(c.type);
    for (store::Document& d : docs) {
      if (d.type == type) out.push_back(std::move(d));
    }
    return out;
  }

  static Result<std::vector<ResourceId>> childIds(store::ReadView& view, const ResourceId& id,
                                                  const InlineChildren& c) {
    ASSIGN_OR_RETURN(std::vector<store::Document> docs, childDocs(view, id, c));
    std::vector<ResourceId> out;
    for (const store::Document& d : docs) {
      Result<ResourceId> child = ResourceId::parse(d.id);
      if (child.ok()) out.push_back(*child);
    }
    return out;
  }

  Result<std::vector<IpPrefix>> validateAddressSpace(KindContext& ctx, const Json& in,
                                                     const ResourceId& id) {
    ASSIGN_OR_RETURN(const Json* space,
                     net::optObject(in, "addressSpace", "properties.addressSpace"));
    const Json* prefixesJson = nullptr;
    if (space) {
      ASSIGN_OR_RETURN(prefixesJson, net::optArray(*space, "addressPrefixes",
                                                   "properties.addressSpace.addressPrefixes"));
    }
    if (!prefixesJson || prefixesJson->empty()) {
      return badRequest("InvalidAddressSpace",
                        "Virtual network " + id.name() +
                            " has no address space; set properties.addressSpace.addressPrefixes, "
                            "for example [\"10.0.0.0/16\"].",
                        "properties.addressSpace.addressPrefixes");
    }
    Result<IpPrefix> transit = IpPrefix::parse(ctx.config.transitRange);
    std::vector<IpPrefix> prefixes;
    for (const Json& v : *prefixesJson) {
      if (!v.is_string()) {
        return badRequest("InvalidRequestFormat",
                          "properties.addressSpace.addressPrefixes must be an array of strings "
                          "such as [\"10.0.0.0/16\"].",
                          "properties.addressSpace.addressPrefixes");
      }
      Result<IpPrefix> p = IpPrefix::parse(v.get<std::string>());
      if (!p.ok()) return p.status().withTarget("properties.addressSpace.addressPrefixes");
      if (transit.ok() && transit->overlaps(*p)) {
        return badRequest("AddressSpaceReservedForBackbone",
                          "Address prefix " + p->toString() + " of virtual network " + id.name() +
                              " overlaps " + transit->toString() +
                              ", which is reserved for the privlink backbone (transit "
                              "addresses); choose an address space outside it.",
                          "properties.addressSpace.addressPrefixes");
      }
      for (const ReservedRange& r : kAzureReserved) {
        IpPrefix reserved = *IpPrefix::parse(r.prefix);
        if (reserved.overlaps(*p)) {
          return badRequest("InvalidAddressSpace",
                            "Address prefix " + p->toString() + " of virtual network " + id.name() +
                                " overlaps " + reserved.toString() + " (" + r.what +
                                "), which Azure reserves; choose a private range such as "
                                "10.0.0.0/16.",
                            "properties.addressSpace.addressPrefixes");
        }
      }
      for (const IpPrefix& other : prefixes) {
        if (other.overlaps(*p)) {
          return badRequest("InvalidAddressSpace",
                            "Address prefixes " + other.toString() + " and " + p->toString() +
                                " of virtual network " + id.name() +
                                " overlap; list each address range once.",
                            "properties.addressSpace.addressPrefixes");
        }
      }
      prefixes.push_back(*p);
    }
    return prefixes;
  }

  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, Json desired,
                       const store::Document* existing) {
    ASSIGN_OR_RETURN(const Json* propsPtr, net::optObject(desired, "properties", "properties"));
    const Json in = propsPtr ? *propsPtr : Json::object();
    const Json* old = existing ? &net::propertiesOf(existing->body) : nullptr;

    ASSIGN_OR_RETURN(std::vector<IpPrefix> space, validateAddressSpace(ctx, in, id));

    Json out = Json::object();
    out["addressSpace"] = {{"addressPrefixes", Json::array()}};
    for (const IpPrefix& p : space) out["addressSpace"]["addressPrefixes"].push_back(p.toString());

    // DHCP options: custom DNS servers handed to workloads.
    Json dnsServers = Json::array();
    ASSIGN_OR_RETURN(const Json* dhcp, net::optObject(in, "dhcpOptions", "properties.dhcpOptions"));
    if (dhcp) {
      ASSIGN_OR_RETURN(const Json* servers,
                       net::optArray(*dhcp, "dnsServers", "properties.dhcpOptions.dnsServers"));
      if (servers) {
        for (const Json& s : *servers) {
          if (!s.is_string()) {
            return badRequest("InvalidRequestFormat",
                              "properties.dhcpOptions.dnsServers must be an array of IP address "
                              "strings.",
                              "properties.dhcpOptions.dnsServers");
          }
          ASSIGN_OR_RETURN(IpAddress a, net::parseAddress(s.get<std::string>(),
                                                          "properties.dhcpOptions.dnsServers"));
          dnsServers.push_back(a.toString());
        }
      }
    }
    out["dhcpOptions"] = {{"dnsServers", std::move(dnsServers)}};

    ASSIGN_OR_RETURN(
        out["privateEndpointVNetPolicies"],
        net::enumValue(in, "privateEndpointVNetPolicies", "properties.privateEndpointVNetPolicies",
                       {"Disabled", "Basic"}, "Disabled"));
    for (const char* flag : {"enableDdosProtection", "enableVmProtection"}) {
      ASSIGN_OR_RETURN(std::optional<bool> v,
                       net::optBool(in, flag, std::string("properties.") + flag));
      if (v.value_or(false)) {
        return badRequest("PropertyNotSupported",
                          std::string("privlink does not provide DDoS or VM protection; set "
                                      "properties.") +
                              flag + " to false or leave it out.",
                          std::string("properties.") + flag);
      }
      out[flag] = false;
    }
    ASSIGN_OR_RETURN(std::optional<int64_t> flowTimeout,
                     net::optInt(in, "flowTimeoutInMinutes", "properties.flowTimeoutInMinutes"));
    if (flowTimeout) {
      if (*flowTimeout < 4 || *flowTimeout > 30) {
        return badRequest("InvalidRequestFormat",
                          "properties.flowTimeoutInMinutes must be from 4 to 30, not " +
                              std::to_string(*flowTimeout) + ".",
                          "properties.flowTimeoutInMinutes");
      }
      out["flowTimeoutInMinutes"] = *flowTimeout;
    }
    if (in.contains("encryption") && in["encryption"].is_object()) {
      out["encryption"] = in["encryption"];
    }
    // resourceGuid is read-only and survives updates.
    if (old && old->contains("resourceGuid") && (*old)["resourceGuid"].is_string()) {
      out["resourceGuid"] = (*old)["resourceGuid"];
    } else {
      out["resourceGuid"] = newGuid();
    }

    // Peered VNets must stay disjoint from the (new) address space.
    ASSIGN_OR_RETURN(std::vector<ResourceId> peers, net::peeredVnets(ctx.txn, id));
    for (const ResourceId& peer : peers) {
      RETURN_IF_ERROR(net::checkPeerOverlap(ctx.txn, id, space, peer,
                                            "Cannot update the address space of virtual network " +
                                                id.toString() + ", which is peered with " +
                                                peer.toString()));
    }

    // Which subnets does this PUT keep as they are? A missing "subnets" key keeps all of them:
    // Azure would delete every subnet, which surprises clients that PUT only the address space
    // (terraform's azurerm_subnet pattern). An explicit array — even an empty one — is
    // authoritative as in Azure: omitted subnets are deleted (refused while in use).
    const bool subnetsGiven = in.contains("subnets") && !in["subnets"].is_null();
    if (!subnetsGiven) {
      ASSIGN_OR_RETURN(std::vector<store::Document> kept, childDocs(ctx.txn, id, kChildren[1]));
      for (const store::Document& s : kept) {
        for (const IpPrefix& p : net::storedSubnetPrefixes(s.body)) {
          bool inside = false;
          for (const IpPrefix& v : space) inside = inside || v.contains(p);
          if (inside) continue;
          Result<ResourceId> sid = ResourceId::parse(s.id);
          return badRequest("NetcfgSubnetRangeOutsideVnet",
                            "Subnet '" + (sid.ok() ? sid->name() : s.id) + "' (" + p.toString() +
                                ") would lie outside the address space of virtual network '" +
                                id.name() + "' (" + net::joinPrefixes(space) +
                                "); keep an address prefix that contains it, or delete or "
                                "change the subnet first.",
                            "properties.addressSpace.addressPrefixes");
        }
      }
    }

    Json result = desired;
    result.erase("id");
    result.erase("etag");
    result.erase("type");
    result["properties"] = out;

    // Inline children are validated against the new address space, so the VNet document is
    // written first (the engine writes the final version after this returns).
    ASSIGN_OR_RETURN(store::Document provisional,
                     ctx.txn.put(id.toString(), toLower(model::kVirtualNetwork), result));
    (void)provisional;

    for (const InlineChildren& c : kChildren) {
      RETURN_IF_ERROR(applyInline(ctx, id, in, c));
    }
    return result;
  }

  // Creates/updates the children listed inline and deletes the omitted ones; nothing when the
  // property is absent (see the comment on subnets in putImpl).
  Status applyInline(KindContext& ctx, const ResourceId& id, const Json& in,
                     const InlineChildren& c) {
    const std::string target = std::string("properties.") + c.property;
    ASSIGN_OR_RETURN(const Json* items, net::optArray(in, c.property, target));
    if (!items) return Status::Ok();
    std::vector<std::pair<ResourceId, Json>> wanted;
    std::set<std::string> names;
    for (const Json& item : *items) {
      if (!item.is_object()) {
        return badRequest("InvalidRequestFormat",
                          target + " must be an array of objects with a name and properties.",
                          target);
      }
      ASSIGN_OR_RETURN(std::optional<std::string> name,
                       net::optString(item, "name", target + ".name"));
      if (!name) {
        return badRequest("InvalidRequestFormat", "Every entry of " + target + " needs a name.",
                          target + ".name");
      }
      RETURN_IF_ERROR(net::validateChildName(*name, target + ".name"));
      if (!names.insert(toLower(*name)).second) {
        return badRequest("InvalidRequestFormat",
                          target + " lists '" + *name + "' twice; give each name once.",
                          target + ".name");
      }
      Json body = item;
      body.erase("id");
      body.erase("etag");
      body.erase("type");
      wanted.emplace_back(id.child(c.segmentType, *name), std::move(body));
    }
    ASSIGN_OR_RETURN(std::vector<ResourceId> current, childIds(ctx.txn, id, c));
    for (const ResourceId& child : current) {
      if (names.count(toLower(child.name()))) continue;
      RETURN_IF_ERROR(ctx.service.removeWithin(ctx, child));
    }
    for (auto& [childId, body] : wanted) {
      if (c.type == model::kVirtualNetworkPeering) {
        // Clients echo a GET body back (az network vnet update); an existing peering whose
        // remote VNet is gone cannot be re-validated and is left as it is (Disconnected).
        ASSIGN_OR_RETURN(std::optional<store::Document> current, ctx.txn.get(childId.key()));
        if (current) {
          Result<std::optional<ResourceId>> remote =
              net::optRef(net::propertiesOf(current->body), "remoteVirtualNetwork", "remote");
          if (remote.ok() && *remote) {
            ASSIGN_OR_RETURN(std::optional<store::Document> remoteDoc,
                             ctx.txn.get((*remote)->key()));
            if (!remoteDoc) continue;
          }
        }
      }
      Result<Json> stored = ctx.service.putWithin(ctx, childId, std::move(body));
      if (!stored.ok()) return stored.status();
    }
    return Status::Ok();
  }

  const ResourceService& service_;
};

}  // namespace

std::unique_ptr<ResourceKind> makeVirtualNetworkKind(const ResourceService& service) {
  return std::make_unique<VirtualNetworkKind>(service);
}

}  // namespace privlink::control
