// Microsoft.Network/virtualNetworks/virtualNetworkPeerings: one side of a VNet peering. The state
// machine is Azure's: "Initiated" while only this side exists, "Connected" on both sides once the
// matching remote peering exists (the remote document is updated in the same transaction),
// "Disconnected" on the survivor when one side is deleted. The data plane realises a peering
// only when both sides are Connected.

#include "common/guid.h"
#include "control/network/network_common.h"
#include "control/network/network_kinds.h"
#include "control/resource_service.h"
#include "model/resource_types.h"

namespace privlink::control {
namespace {

using net::badRequest;
using net::Json;

Status setPeeringState(KindContext& ctx, store::Document doc, const char* state) {
  Json& props = doc.body["properties"];
  if (!props.is_object()) props = Json::object();
  if (props.value("peeringState", "") == state) return Status::Ok();
  props["peeringState"] = state;
  ASSIGN_OR_RETURN(store::Document stored, ctx.txn.put(doc.id, doc.type, doc.body));
  (void)stored;
  return Status::Ok();
}

Json addressSpaceJson(const std::vector<IpPrefix>& prefixes) {
  Json list = Json::array();
  for (const IpPrefix& p : prefixes) list.push_back(p.toString());
  return {{"addressPrefixes", std::move(list)}};
}

class VirtualNetworkPeeringKind : public ResourceKind {
 public:
  std::string_view type() const override { return model::kVirtualNetworkPeering; }
  bool tracked() const override { return false; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, std::move(desired), existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the virtual network peering: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    const ResourceId local = *id.parent();
    ASSIGN_OR_RETURN(std::optional<ResourceId> remote,
                     net::optRef(net::propertiesOf(existing.body), "remoteVirtualNetwork",
                                 "properties.remoteVirtualNetwork"));
    if (!remote) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::Document> other,
                     net::peeringBetween(ctx.txn, *remote, local));
    if (!other) return Status::Ok();
    return setPeeringState(ctx, std::move(*other), "Disconnected");
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Json& props = body["properties"];
    if (!props.is_object()) return;
    Result<std::optional<ResourceId>> remote =
        net::optRef(props, "remoteVirtualNetwork", "properties.remoteVirtualNetwork");
    if (!remote.ok() || !*remote) return;
    Result<std::optional<store::Document>> doc = view.get((*remote)->key());
    if (!doc.ok() || !*doc) return;
    // The remote address space as it is now, not as it was when this side was written.
    Json space = addressSpaceJson(net::storedVnetPrefixes((*doc)->body));
    props["remoteAddressSpace"] = space;
    props["remoteVirtualNetworkAddressSpace"] = space;
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, Json desired,
                       const store::Document* existing) {
    ASSIGN_OR_RETURN(const Json* propsPtr, net::optObject(desired, "properties", "properties"));
    const Json in = propsPtr ? *propsPtr : Json::object();
    const ResourceId local = *id.parent();
    const std::string what = "Cannot create or update peering " + id.toString();

    ASSIGN_OR_RETURN(std::optional<ResourceId> remoteRef,
                     net::optRef(in, "remoteVirtualNetwork", "properties.remoteVirtualNetwork"));
    if (!remoteRef) {
      return badRequest("InvalidRequestFormat",
                        what +
                            ": properties.remoteVirtualNetwork.id is required; give the id of "
                            "the virtual network to peer with.",
                        "properties.remoteVirtualNetwork.id");
    }
    const ResourceId remote = *remoteRef;
    if (remote.key() == local.key()) {
      return badRequest("VnetCannotPeerWithItself",
                        what +
                            ": a virtual network cannot be peered with itself; give the id of "
                            "another virtual network.",
                        "properties.remoteVirtualNetwork.id");
    }
    ASSIGN_OR_RETURN(store::Document remoteDoc,
                     net::requireReferenced(ctx.txn, remote, model::kVirtualNetwork, id));
    ASSIGN_OR_RETURN(std::optional<store::Document> localDoc, ctx.txn.get(local.key()));
    if (!localDoc) {
      return Status::NotFound(
          "ParentResourceNotFound",
          "Virtual network " + local.toString() + " was not found; create it before its peerings.");
    }

    if (existing) {
      Result<std::optional<ResourceId>> before = net::optRef(
          net::propertiesOf(existing->body), "remoteVirtualNetwork", "remoteVirtualNetwork");
      if (before.ok() && *before && (*before)->key() != remote.key()) {
        return badRequest("RemoteVirtualNetworkCannotBeChanged",
                          what + ": its remote virtual network is " + (*before)->toString() +
                              " and cannot be changed; delete the peering and create a new one.",
                          "properties.remoteVirtualNetwork.id");
      }
    }
    ASSIGN_OR_RETURN(std::optional<store::Document> twin,
                     net::peeringBetween(ctx.txn, local, remote));
    if (twin && twin->key != id.key()) {
      return badRequest("VnetPeeringToRemoteVnetAlreadyExists",
                        what + ": peering " + twin->id + " already connects " + local.name() +
                            " with " + remote.toString() +
                            "; update that peering instead of adding a second one.",
                        "properties.remoteVirtualNetwork.id");
    }

    const std::vector<IpPrefix> localSpace = net::storedVnetPrefixes(localDoc->body);
    const std::vector<IpPrefix> remoteSpace = net::storedVnetPrefixes(remoteDoc.body);
    RETURN_IF_ERROR(net::checkPeerOverlap(ctx.txn, local, localSpace, remote, what));
    RETURN_IF_ERROR(net::checkPeerOverlap(ctx.txn, remote, remoteSpace, local, what));

    Json out = Json::object();
    out["remoteVirtualNetwork"] = {{"id", remote.toString()}};
    struct Flag {
      const char* name;
      bool fallback;
    };
    for (Flag f : {Flag{"allowVirtualNetworkAccess", true}, Flag{"allowForwardedTraffic", false},
                   Flag{"allowGatewayTransit", false}, Flag{"useRemoteGateways", false},
                   Flag{"doNotVerifyRemoteGateways", false}}) {
      ASSIGN_OR_RETURN(std::optional<bool> v,
                       net::optBool(in, f.name, std::string("properties.") + f.name));
      out[f.name] = v.value_or(f.fallback);
    }
    if (out["useRemoteGateways"].get<bool>()) {
      return badRequest("RemoteVnetHasNoGateways",
                        what + ": useRemoteGateways is true but virtual network " +
                            remote.toString() +
                            " has no gateway (privlink has no virtual network gateways); set "
                            "useRemoteGateways to false.",
                        "properties.useRemoteGateways");
    }

    ASSIGN_OR_RETURN(std::optional<store::Document> matching,
                     net::peeringBetween(ctx.txn, remote, local));
    if (matching) {
      out["peeringState"] = "Connected";
      RETURN_IF_ERROR(setPeeringState(ctx, std::move(*matching), "Connected"));
    } else {
      out["peeringState"] = "Initiated";
    }
    out["peeringSyncLevel"] = "FullyInSync";
    out["remoteAddressSpace"] = addressSpaceJson(remoteSpace);
    out["remoteVirtualNetworkAddressSpace"] = addressSpaceJson(remoteSpace);
    const Json* old = existing ? &net::propertiesOf(existing->body) : nullptr;
    if (old && old->contains("resourceGuid") && (*old)["resourceGuid"].is_string()) {
      out["resourceGuid"] = (*old)["resourceGuid"];
    } else {
      out["resourceGuid"] = newGuid();
    }

    Json result = Json::object();
    result["properties"] = std::move(out);
    return result;
  }
};

}  // namespace

std::unique_ptr<ResourceKind> makeVirtualNetworkPeeringKind() {
  return std::make_unique<VirtualNetworkPeeringKind>();
}

}  // namespace privlink::control
