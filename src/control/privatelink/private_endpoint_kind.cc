// Microsoft.Network/privateEndpoints: one consumer subnet, one connection (automatic or manual) to
// a registered private-link target (by id, or a PLS by alias), the approval decision
// (docs/approval.md), a read-only NIC created and deleted with the endpoint whose address never
// changes, customDnsConfigs, Azure's limits.

#include <set>

#include "common/guid.h"
#include "control/network/ip_allocation.h"
#include "control/network/network_common.h"
#include "control/privatelink/connection_record.h"
#include "control/privatelink/privatelink_kinds.h"
#include "control/resource_counters.h"
#include "model/naming.h"
#include "model/resource_types.h"

namespace privlink::control::privatelink {
namespace {

using net::badRequest;
using net::Json;

constexpr const char* kAutoList = "privateLinkServiceConnections";
constexpr const char* kManualList = "manualPrivateLinkServiceConnections";
constexpr const char* kAliasSuffix = ".azure.privatelinkservice";

struct Resolved {
  const PrivateLinkTargetType* type = nullptr;
  PrivateLinkTarget target;
  bool byAlias = false;
};

struct WantedConnection {
  std::string name;
  bool manual = false;
  std::string targetText;  // as given (id or alias)
  std::vector<std::string> groupIds;
  std::string requestMessage;
};

// What the stored endpoint says about its connection and NIC.
struct OldEndpoint {
  std::string subnetKey;
  std::string nicId;
  std::string ipConfigId;
  std::string address;
  std::string customNicName;
  std::string connectionName;
  bool manual = false;
  std::string targetKey;
  std::string recordId;
  std::string linkIdentifier;
  Json groupIds = Json::array();
  Json final;  // properties.privlink.final of the connection, if the record is gone
};

OldEndpoint readOld(const store::Document* existing) {
  OldEndpoint o;
  if (!existing) return o;
  const Json& p = net::propertiesOf(existing->body);
  if (p.contains("subnet") && p["subnet"].is_object()) {
    o.subnetKey = toLower(p["subnet"].value("id", ""));
  }
  if (p.contains("networkInterfaces") && p["networkInterfaces"].is_array() &&
      !p["networkInterfaces"].empty()) {
    o.nicId = p["networkInterfaces"][0].value("id", "");
  }
  o.customNicName = p.value("customNetworkInterfaceName", "");
  if (p.contains("privlink") && p["privlink"].is_object()) {
    o.ipConfigId = p["privlink"].value("nicIpConfigurationId", "");
    o.address = p["privlink"].value("privateIPAddress", "");
  }
  for (const char* list : {kAutoList, kManualList}) {
    if (!p.contains(list) || !p[list].is_array() || p[list].empty()) continue;
    const Json& c = p[list][0];
    o.connectionName = c.value("name", "");
    o.manual = std::string(list) == kManualList;
    const Json& cp = net::propertiesOf(c);
    if (cp.contains("groupIds") && cp["groupIds"].is_array()) o.groupIds = cp["groupIds"];
    if (cp.contains("privlink") && cp["privlink"].is_object()) {
      o.targetKey = toLower(cp["privlink"].value("targetId", ""));
      o.recordId = cp["privlink"].value("connectionId", "");
      o.linkIdentifier = cp["privlink"].value("linkIdentifier", "");
      if (cp["privlink"].contains("final")) o.final = cp["privlink"]["final"];
    }
  }
  return o;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const std::string& x : v) {
    if (iequals(x, s)) return true;
  }
  return false;
}

class PrivateEndpointKind : public ResourceKind {
 public:
  explicit PrivateEndpointKind(std::shared_ptr<PrivateLinkContext> pl) : pl_(std::move(pl)) {}

  std::string_view type() const override { return model::kPrivateEndpoint; }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, std::move(desired), existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the private endpoint: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    (void)id;
    const OldEndpoint old = readOld(&existing);
    RETURN_IF_ERROR(eraseRecord(ctx, old.recordId));
    return eraseNic(ctx, old);
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Json& props = body["properties"];
    // Internal bookkeeping stays internal; the read-only counters extension replaces it.
    props.erase("privlink");
    renderCounters(view, id.key(), body);
    for (const char* list : {kAutoList, kManualList}) {
      if (!props.contains(list) || !props[list].is_array()) continue;
      for (Json& conn : props[list]) {
        if (!conn.is_object()) continue;
        Json& cp = conn["properties"];
        if (!cp.is_object()) cp = Json::object();
        Json state = {{"status", "Disconnected"}, {"description", ""}, {"actionsRequired", "None"}};
        Json history = Json::array();
        if (cp.contains("privlink") && cp["privlink"].is_object()) {
          Json& priv = cp["privlink"];
          Result<std::optional<store::Document>> record =
              view.get(toLower(priv.value("connectionId", "")));
          if (record.ok() && *record) {
            state = connectionState((*record)->body);
            const Json& rp = net::propertiesOf((*record)->body);
            if (rp.contains("privlink") && rp["privlink"].is_object() &&
                rp["privlink"].contains("history")) {
              history = rp["privlink"]["history"];
            }
          } else if (priv.contains("final") && priv["final"].is_object()) {
            state = priv["final"].value("state", state);
            history = priv["final"].value("history", Json::array());
          }
          priv.erase("final");
          priv["history"] = std::move(history);
        }
        cp["privateLinkServiceConnectionState"] = std::move(state);
        cp["provisioningState"] = "Succeeded";
      }
    }
  }

 private:
  Status eraseRecord(KindContext& ctx, const std::string& recordId) {
    if (recordId.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::Document> record, ctx.txn.get(toLower(recordId)));
    if (record) RETURN_IF_ERROR(ctx.txn.erase(record->key));
    return Status::Ok();
  }

  Status eraseNic(KindContext& ctx, const OldEndpoint& old) {
    if (old.subnetKey.empty() || old.ipConfigId.empty()) return Status::Ok();
    Result<ResourceId> subnet = ResourceId::parse(old.subnetKey);
    if (subnet.ok()) RETURN_IF_ERROR(ipam::release(ctx, *subnet, old.ipConfigId));
    if (old.nicId.empty()) return Status::Ok();
    Result<ResourceId> nic = ResourceId::parse(old.nicId);
    if (!nic.ok()) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::Document> doc, ctx.txn.get(nic->key()));
    if (doc) RETURN_IF_ERROR(ctx.txn.erase(doc->key));
    return Status::Ok();
  }

  Result<WantedConnection> readConnection(const ResourceId& id, const Json& in) {
    const PrivateLinkLimits& limits = pl_->limits;
    ASSIGN_OR_RETURN(const Json* autoList, net::optArray(in, kAutoList, "properties.privateLinkServiceConnections"));
    ASSIGN_OR_RETURN(const Json* manualList,
                     net::optArray(in, kManualList, "properties.manualPrivateLinkServiceConnections"));
    const size_t total = (autoList ? autoList->size() : 0) + (manualList ? manualList->size() : 0);
    if (total != 1) {
      return badRequest(
          "PrivateEndpointMustHaveExactlyOneConnection",
          "Private endpoint " + id.name() + " has " + std::to_string(total) +
              " connections; give exactly one, in properties.privateLinkServiceConnections "
              "(approved automatically when you may approve it yourself) or in "
              "properties.manualPrivateLinkServiceConnections (a request the provider approves).",
          "properties.privateLinkServiceConnections");
    }
    WantedConnection w;
    w.manual = !(autoList && !autoList->empty());
    const std::string list = w.manual ? kManualList : kAutoList;
    const std::string target = "properties." + list + "[0]";
    const Json& item = w.manual ? (*manualList)[0] : (*autoList)[0];
    if (!item.is_object()) {
      return badRequest("InvalidRequestFormat", target + " must be an object.", target);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> name, net::optString(item, "name", target + ".name"));
    w.name = name.value_or(id.name());
    RETURN_IF_ERROR(net::validateChildName(w.name, target + ".name"));
    const Json& p = net::propertiesOf(item);
    ASSIGN_OR_RETURN(std::optional<std::string> targetText,
                     net::optString(p, "privateLinkServiceId", target + ".properties.privateLinkServiceId"));
    if (!targetText || targetText->empty()) {
      return badRequest("InvalidRequestFormat",
                        "Connection " + w.name +
                            " needs properties.privateLinkServiceId: the resource id of a private "
                            "link service or platform resource, or a private link service alias.",
                        target + ".properties.privateLinkServiceId");
    }
    w.targetText = *targetText;
    ASSIGN_OR_RETURN(const Json* groups, net::optArray(p, "groupIds", target + ".properties.groupIds"));
    if (groups) {
      for (const Json& g : *groups) {
        if (!g.is_string() || g.get<std::string>().empty()) {
          return badRequest("InvalidRequestFormat",
                            target + ".properties.groupIds must be an array of group ids.",
                            target + ".properties.groupIds");
        }
        w.groupIds.push_back(g.get<std::string>());
      }
    }
    ASSIGN_OR_RETURN(std::optional<std::string> message,
                     net::optString(p, "requestMessage", target + ".properties.requestMessage"));
    w.requestMessage = message.value_or("");
    if (w.requestMessage.size() > limits.requestMessageLength) {
      return badRequest("RequestMessageTooLong",
                        "The request message of connection " + w.name + " has " +
                            std::to_string(w.requestMessage.size()) + " characters; at most " +
                            std::to_string(limits.requestMessageLength) + " are allowed.",
                        target + ".properties.requestMessage");
    }
    return w;
  }

  Result<Resolved> resolve(store::ReadView& view, const ResourceId& id,
                           const WantedConnection& w) {
    const PrivateLinkTargetRegistry& registry = pl_->registry;
    const std::string field =
        std::string("properties.") + (w.manual ? kManualList : kAutoList) +
        "[0].properties.privateLinkServiceId";
    Resolved r;
    std::optional<store::Document> doc;
    if (!w.targetText.empty() && w.targetText.front() == '/') {
      Result<ResourceId> targetId = ResourceId::parse(w.targetText);
      if (!targetId.ok()) {
        return badRequest("InvalidPrivateLinkServiceId",
                          "'" + w.targetText + "' is not a resource id: " +
                              targetId.status().message(),
                          field);
      }
      r.type = registry.find(targetId->type());
      if (!r.type) {
        std::string types;
        for (const PrivateLinkTargetType& t : registry.all()) {
          types += (types.empty() ? "" : ", ") + t.type;
        }
        return badRequest("PrivateEndpointTargetTypeNotSupported",
                          "Resources of type " + targetId->type() +
                              " cannot be private endpoint targets; supported types: " + types +
                              ".",
                          field);
      }
      ASSIGN_OR_RETURN(doc, view.get(targetId->key()));
      if (!doc) {
        return badRequest("InvalidResourceReference",
                          "Resource " + targetId->toString() + " referenced by private endpoint " +
                              id.name() + " was not found; check the id.",
                          field);
      }
    } else {
      if (w.targetText.size() <= std::string_view(kAliasSuffix).size() ||
          !iequals(std::string_view(w.targetText)
                       .substr(w.targetText.size() - std::string_view(kAliasSuffix).size()),
                   kAliasSuffix)) {
        return badRequest("InvalidPrivateLinkServiceId",
                          "'" + w.targetText +
                              "' is neither a resource id (/subscriptions/...) nor a private link "
                              "service alias (<name>.<guid>.<region>.azure.privatelinkservice).",
                          field);
      }
      r.byAlias = true;
      r.type = registry.find(model::kPrivateLinkService);
      ASSIGN_OR_RETURN(std::vector<store::Document> services,
                       view.listType(toLower(model::kPrivateLinkService)));
      for (store::Document& s : services) {
        if (iequals(net::propertiesOf(s.body).value("alias", ""), w.targetText)) {
          doc = std::move(s);
          break;
        }
      }
      if (!doc || !r.type) {
        return badRequest("InvalidPrivateLinkServiceAlias",
                          "No private link service has the alias " + w.targetText +
                              "; ask the provider for its alias (privlink private-link-service "
                              "show --query properties.alias).",
                          field);
      }
    }
    ASSIGN_OR_RETURN(r.target, r.type->read(view, *doc));
    return r;
  }

  Result<std::vector<std::string>> checkGroups(const Resolved& r, const WantedConnection& w) {
    const std::string field = std::string("properties.") + (w.manual ? kManualList : kAutoList) +
                              "[0].properties.groupIds";
    // A private link service has no sub-resources. Azure's own examples still send groupIds
    // to one (PrivateEndpointCreate.json: ["groupIdFromResource"]), so they are accepted and
    // ignored: the endpoint echoes them as given, the connection record has none.
    if (r.type->groups.empty()) return std::vector<std::string>{};
    std::string valid;
    for (const PrivateLinkGroup& g : r.type->groups) valid += (valid.empty() ? "" : ", ") + g.groupId;
    if (w.groupIds.size() != 1) {
      return badRequest("InvalidGroupIds",
                        "A private endpoint to " + r.target.id.name() +
                            " needs exactly one groupId (one endpoint per sub-resource); valid "
                            "group ids: " + valid + ".",
                        field);
    }
    for (const PrivateLinkGroup& g : r.type->groups) {
      if (iequals(g.groupId, w.groupIds[0])) return std::vector<std::string>{g.groupId};
    }
    return badRequest("InvalidGroupIds",
                      "'" + w.groupIds[0] + "' is not a sub-resource of " + r.type->type +
                          "; valid group ids: " + valid + ".",
                      field);
  }

  // The approval decision (docs/approval.md).
  Result<std::pair<ConnectionStatus, std::string>> decide(KindContext& ctx, const ResourceId& id,
                                                          const Resolved& r,
                                                          const WantedConnection& w) {
    ASSIGN_OR_RETURN(authorization::Access access,
                     pl_->authorizer.accessFor(ctx.txn, ctx.caller));
    const std::string consumer = toLower(id.subscriptionId());
    const bool approver = access.allows(r.type->approvalAction(), r.target.id);
    const bool autoSub = contains(r.target.autoApproval, consumer);
    const bool reader = access.allows(r.type->type + "/read", r.target.id);
    const bool visible = contains(r.target.visibility, "*") ||
                         contains(r.target.visibility, consumer) || reader || approver || autoSub;
    const std::string what = r.byAlias ? "alias " + w.targetText : r.target.id.toString();
    if (!w.manual) {
      if (r.byAlias) {
        return badRequest("PrivateEndpointAliasRequiresManualConnection",
                          "Private endpoint " + id.name() + " targets " + what +
                              " by alias; alias connections are always requests to the provider. "
                              "Put the connection in properties.manualPrivateLinkServiceConnections "
                              "(privlink private-endpoint create --manual-request); it is still "
                              "approved at once if your subscription is in the service's "
                              "auto-approval list.",
                          "properties.privateLinkServiceConnections");
      }
      if (approver || autoSub) {
        return std::make_pair(ConnectionStatus::kApproved, std::string(kAutoApprovedDescription));
      }
      return Status::PermissionDenied(
                 "LinkedAuthorizationFailed",
                 "The client '" + ctx.caller.displayName + "' with object id '" +
                     ctx.caller.principalId + "' may not approve connections to " + what +
                     " (it lacks " + r.type->approvalAction() + " on it) and subscription " +
                     consumer +
                     " is not in its auto-approval list, so an automatic connection is not "
                     "possible. Send a request instead: put the connection in "
                     "properties.manualPrivateLinkServiceConnections (privlink private-endpoint "
                     "create --manual-request) and the provider approves it.")
          .withTarget("properties.privateLinkServiceConnections");
    }
    if (!visible) {
      return Status::PermissionDenied(
                 "PrivateLinkServiceNotVisible",
                 "Private link target " + what + " is not visible to subscription " + consumer +
                     ": it is neither in the target's visibility list nor readable by '" +
                     ctx.caller.displayName +
                     "'. Ask the provider to add your subscription to "
                     "properties.visibility.subscriptions (or to grant you read access).")
          .withTarget("properties.manualPrivateLinkServiceConnections");
    }
    if (autoSub) {
      return std::make_pair(ConnectionStatus::kApproved, std::string(kAutoApprovedDescription));
    }
    return std::make_pair(ConnectionStatus::kPending, std::string(kPendingDescription));
  }

  Status checkLimits(KindContext& ctx, const ResourceId& id, const ResourceId& vnet,
                     const Resolved& r) {
    const PrivateLinkLimits& limits = pl_->limits;
    ASSIGN_OR_RETURN(std::vector<store::Document> endpoints,
                     ctx.txn.listType(toLower(model::kPrivateEndpoint),
                                      ResourceId::subscription(id.subscriptionId()).key() + "/"));
    if (endpoints.size() >= limits.endpointsPerSubscription) {
      return Status::LimitExceeded(
          "LimitExceeded", "Subscription " + id.subscriptionId() + " already has " +
                               std::to_string(endpoints.size()) +
                               " private endpoints, the most allowed (" +
                               std::to_string(limits.endpointsPerSubscription) + ").");
    }
    size_t inVnet = 0;
    const std::string prefix = vnet.key() + "/subnets/";
    for (const store::Document& e : endpoints) {
      const Json& p = net::propertiesOf(e.body);
      if (p.contains("subnet") && p["subnet"].is_object() &&
          toLower(p["subnet"].value("id", "")).rfind(prefix, 0) == 0) {
        ++inVnet;
      }
    }
    if (inVnet >= limits.endpointsPerVnet) {
      return Status::LimitExceeded(
          "LimitExceeded", "Virtual network " + vnet.name() + " already has " +
                               std::to_string(inVnet) + " private endpoints, the most allowed (" +
                               std::to_string(limits.endpointsPerVnet) +
                               "); use another virtual network.");
    }
    ASSIGN_OR_RETURN(std::vector<store::Document> records,
                     connectionRecordsOf(ctx.txn, r.target.id, r.type->connectionType()));
    if (records.size() >= limits.endpointsPerTarget) {
      return Status::LimitExceeded(
          "LimitExceeded", r.target.id.toString() + " already has " +
                               std::to_string(records.size()) +
                               " private endpoint connections, the most allowed (" +
                               std::to_string(limits.endpointsPerTarget) +
                               "); ask the provider to remove unused connections.");
    }
    return Status::Ok();
  }

  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, Json desired,
                       const store::Document* existing) {
    ASSIGN_OR_RETURN(const Json* propsPtr, net::optObject(desired, "properties", "properties"));
    const Json in = propsPtr ? *propsPtr : Json::object();
    const std::string location = desired.value("location", "");
    const OldEndpoint old = readOld(existing);

    for (const char* unsupported : {"applicationSecurityGroups"}) {
      if (in.contains(unsupported) && in[unsupported].is_array() && !in[unsupported].empty()) {
        return badRequest("PropertyNotSupported",
                          std::string("privlink does not implement ") + unsupported +
                              " on private endpoints yet; remove properties." + unsupported + ".",
                          std::string("properties.") + unsupported);
      }
    }

    // --- subnet: same location and subscription as the endpoint
    ASSIGN_OR_RETURN(std::optional<ResourceId> subnet, net::optRef(in, "subnet", "properties.subnet"));
    if (!subnet) {
      return badRequest("InvalidRequestFormat",
                        "Private endpoint " + id.name() +
                            " needs properties.subnet.id: the consumer subnet its address comes "
                            "from.",
                        "properties.subnet.id");
    }
    if (existing && !old.subnetKey.empty() && subnet->key() != old.subnetKey) {
      return badRequest("PrivateEndpointSubnetCannotBeChanged",
                        "Private endpoint " + id.name() + " is in subnet " + old.subnetKey +
                            "; its subnet cannot change. Create a new private endpoint in the "
                            "other subnet.",
                        "properties.subnet.id");
    }
    ASSIGN_OR_RETURN(store::Document subnetDoc,
                     net::requireReferenced(ctx.txn, *subnet, model::kSubnet, id));
    (void)subnetDoc;
    const ResourceId vnet = *subnet->parent();
    if (!iequals(vnet.subscriptionId(), id.subscriptionId())) {
      return badRequest("PrivateEndpointAndVirtualNetworkInDifferentSubscriptions",
                        "Private endpoint " + id.name() + " is in subscription " +
                            id.subscriptionId() + " but virtual network " + vnet.name() +
                            " is in " + vnet.subscriptionId() +
                            "; create the endpoint in the virtual network's subscription.",
                        "properties.subnet.id");
    }
    ASSIGN_OR_RETURN(std::optional<store::Document> vnetDoc, ctx.txn.get(vnet.key()));
    const std::string vnetLocation = vnetDoc ? vnetDoc->body.value("location", "") : "";
    if (net::normalizeLocation(vnetLocation) != net::normalizeLocation(location)) {
      return badRequest("PrivateEndpointAndVirtualNetworkInDifferentLocations",
                        "Private endpoint " + id.name() + " is in location " + location +
                            " but virtual network " + vnet.name() + " is in " + vnetLocation +
                            "; create the endpoint in the virtual network's location (the target "
                            "may be in any location).",
                        "location");
    }

    // --- the connection and its target
    ASSIGN_OR_RETURN(WantedConnection w, readConnection(id, in));
    ASSIGN_OR_RETURN(Resolved r, resolve(ctx.txn, id, w));
    ASSIGN_OR_RETURN(std::vector<std::string> groupIds, checkGroups(r, w));

    // --- static ipConfigurations and the custom NIC name
    ASSIGN_OR_RETURN(const Json* ipConfigs,
                     net::optArray(in, "ipConfigurations", "properties.ipConfigurations"));
    std::optional<IpAddress> requested;
    Json outIpConfigs = Json::array();
    if (ipConfigs && !ipConfigs->empty()) {
      if (ipConfigs->size() > 1) {
        return badRequest("InvalidRequestFormat",
                          "Private endpoint " + id.name() +
                              " has one member, so properties.ipConfigurations takes at most one "
                              "entry.",
                          "properties.ipConfigurations");
      }
      const Json& ipc = (*ipConfigs)[0];
      if (!ipc.is_object()) {
        return badRequest("InvalidRequestFormat", "properties.ipConfigurations[0] must be an object.",
                          "properties.ipConfigurations");
      }
      const Json& p = net::propertiesOf(ipc);
      ASSIGN_OR_RETURN(std::optional<std::string> addr,
                       net::optString(p, "privateIPAddress",
                                      "properties.ipConfigurations[0].properties.privateIPAddress"));
      if (!addr) {
        return badRequest("InvalidRequestFormat",
                          "properties.ipConfigurations[0] needs properties.privateIPAddress.",
                          "properties.ipConfigurations[0].properties.privateIPAddress");
      }
      ASSIGN_OR_RETURN(IpAddress a,
                       net::parseAddress(*addr, "properties.ipConfigurations[0].properties."
                                                "privateIPAddress"));
      ASSIGN_OR_RETURN(std::optional<std::string> groupId,
                       net::optString(p, "groupId", "properties.ipConfigurations[0].properties.groupId"));
      if (groupId && !groupId->empty() && !groupIds.empty() && !iequals(*groupId, groupIds[0])) {
        return badRequest("InvalidRequestFormat",
                          "properties.ipConfigurations[0].properties.groupId is " + *groupId +
                              " but the connection asks for " + groupIds[0] + "; use the same.",
                          "properties.ipConfigurations[0].properties.groupId");
      }
      requested = a;
      Json echo = {{"name", ipc.value("name", "ipconfig1")},
                   {"properties",
                    {{"groupId", groupId.value_or(groupIds.empty() ? "" : groupIds[0])},
                     {"memberName", p.value("memberName", groupIds.empty() ? "" : groupIds[0])},
                     {"privateIPAddress", a.toString()}}}};
      outIpConfigs.push_back(std::move(echo));
    }
    if (existing && !old.address.empty() && requested && requested->toString() != old.address) {
      return badRequest("PrivateEndpointIpAddressCannotBeChanged",
                        "Private endpoint " + id.name() + " has address " + old.address +
                            ", which never changes for the endpoint's life; create a new "
                            "endpoint for " + requested->toString() + ".",
                        "properties.ipConfigurations");
    }
    ASSIGN_OR_RETURN(std::optional<std::string> customNic,
                     net::optString(in, "customNetworkInterfaceName",
                                    "properties.customNetworkInterfaceName"));
    if (existing && customNic && !customNic->empty() && !iequals(*customNic, old.customNicName)) {
      return badRequest("PrivateEndpointNetworkInterfaceNameCannotBeChanged",
                        "The network interface of private endpoint " + id.name() +
                            " is named after its creation and cannot be renamed; keep "
                            "customNetworkInterfaceName '" + old.customNicName + "'.",
                        "properties.customNetworkInterfaceName");
    }
    if (!existing) RETURN_IF_ERROR(checkLimits(ctx, id, vnet, r));

    // --- the read-only NIC (created once; its address never changes)
    std::string nicId = old.nicId;
    std::string ipConfigId = old.ipConfigId;
    std::string address = old.address;
    if (!existing || nicId.empty()) {
      std::string nicName = customNic && !customNic->empty() ? *customNic
                                                               : id.name() + ".nic." + newGuid();
      RETURN_IF_ERROR(validateResourceName(nicName).withTarget(
          "properties.customNetworkInterfaceName"));
      const ResourceId nic = ResourceId::resourceGroup(id.subscriptionId(), id.resourceGroup())
                                 .child("Microsoft.Network/networkInterfaces", nicName);
      ASSIGN_OR_RETURN(std::optional<store::Document> clash, ctx.txn.get(nic.key()));
      if (clash) {
        return badRequest("NetworkInterfaceNameInUse",
                          "A network interface named " + nicName + " already exists in resource "
                              "group " + id.resourceGroup() +
                              "; choose another customNetworkInterfaceName.",
                          "properties.customNetworkInterfaceName");
      }
      const ResourceId ipc = nic.child("ipConfigurations", "privateEndpointIpConfig." + newGuid());
      ipam::AllocateOptions options;
      options.privateEndpointId = id.toString();
      ASSIGN_OR_RETURN(IpAddress a,
                       ipam::allocate(ctx, *subnet, ipc.toString(), requested, options));
      nicId = nic.toString();
      ipConfigId = ipc.toString();
      address = a.toString();
      RETURN_IF_ERROR(writeNic(ctx, id, location, nic, ipc, *subnet, a, requested.has_value(),
                               groupIds, r.target.fqdns));
    }

    // --- the connection record: kept while the request is unchanged, else a new request
    Json groupJson = Json::array();  // what the endpoint shows: as given to a PLS (ignored)
    for (const std::string& g : r.type->groups.empty() ? w.groupIds : groupIds) {
      groupJson.push_back(g);
    }
    const bool sameGroups = r.type->groups.empty() || old.groupIds == groupJson;
    const bool sameRequest = existing && !old.recordId.empty() &&
                             old.targetKey == r.target.id.key() && old.manual == w.manual &&
                             iequals(old.connectionName, w.name) && sameGroups;
    std::string recordId = old.recordId;
    std::string linkIdentifier = old.linkIdentifier;
    Json final = sameRequest ? old.final : Json();
    if (sameRequest) {
      ASSIGN_OR_RETURN(std::optional<store::Document> record, ctx.txn.get(toLower(recordId)));
      if (record && record->body["properties"].value("requestMessage", "") != w.requestMessage) {
        Json body = record->body;
        body["properties"]["requestMessage"] = w.requestMessage;
        ASSIGN_OR_RETURN(store::Document stored, ctx.txn.put(record->id, record->type, body));
        (void)stored;
      }
    } else {
      RETURN_IF_ERROR(eraseRecord(ctx, old.recordId));
      ASSIGN_OR_RETURN(auto decision, decide(ctx, id, r, w));
      NewConnection c;
      c.target = r.target.id;
      c.connectionType = r.type->connectionType();
      c.privateEndpoint = id;
      c.privateEndpointLocation = location;
      c.consumerConnectionName = w.name;
      c.manual = w.manual;
      c.groupIds = groupIds;
      c.requestMessage = w.requestMessage;
      c.status = decision.first;
      c.description = decision.second;
      ASSIGN_OR_RETURN(store::Document record, createConnection(ctx.txn, ctx.caller, c));
      recordId = record.id;
      linkIdentifier = record.body["properties"].value("linkIdentifier", "");
    }

    // --- the stored endpoint
    const std::string list = w.manual ? kManualList : kAutoList;
    Json privlink = {{"connectionId", recordId},
                     {"targetId", r.target.id.toString()},
                     {"linkIdentifier", linkIdentifier}};
    if (!final.is_null()) privlink["final"] = final;
    Json conn = {{"name", w.name},
                 {"id", id.child(list, w.name).toString()},
                 {"type", "Microsoft.Network/privateEndpoints/" + list},
                 {"properties",
                  {{"privateLinkServiceId", w.targetText},
                   {"groupIds", groupJson},
                   {"requestMessage", w.requestMessage},
                   {"privlink", std::move(privlink)}}}};
    Json customDns = Json::array();
    for (const std::string& f : r.target.fqdns) {
      customDns.push_back({{"fqdn", f}, {"ipAddresses", Json::array({address})}});
    }
    Json out = Json::object();
    out["subnet"] = {{"id", subnet->toString()}};
    out[kAutoList] = Json::array();
    out[kManualList] = Json::array();
    out[list].push_back(std::move(conn));
    out["networkInterfaces"] = Json::array({Json{{"id", nicId}}});
    out["customDnsConfigs"] = std::move(customDns);
    out["ipConfigurations"] = std::move(outIpConfigs);
    out["applicationSecurityGroups"] = Json::array();
    out["customNetworkInterfaceName"] =
        existing ? old.customNicName : (customNic ? *customNic : std::string());
    out["privlink"] = {{"nicIpConfigurationId", ipConfigId}, {"privateIPAddress", address}};

    Json result = desired;
    result.erase("id");
    result.erase("etag");
    result.erase("type");
    result["properties"] = std::move(out);
    return result;
  }

  Status writeNic(KindContext& ctx, const ResourceId& pe, const std::string& location,
                  const ResourceId& nic, const ResourceId& ipc, const ResourceId& subnet,
                  const IpAddress& address, bool isStatic, const std::vector<std::string>& groupIds,
                  const std::vector<std::string>& fqdns) {
    Json fqdnJson = Json::array();
    for (const std::string& f : fqdns) fqdnJson.push_back(f);
    const std::string group = groupIds.empty() ? "" : groupIds[0];
    Json ipConfig = {
        {"name", ipc.name()},
        {"id", ipc.toString()},
        {"type", "Microsoft.Network/networkInterfaces/ipConfigurations"},
        {"properties",
         {{"privateIPAddress", address.toString()},
          {"privateIPAllocationMethod", isStatic ? "Static" : "Dynamic"},
          {"privateIPAddressVersion", "IPv4"},
          {"subnet", {{"id", subnet.toString()}}},
          {"primary", true},
          {"loadBalancerBackendAddressPools", Json::array()},
          {"privateLinkConnectionProperties",
           {{"groupId", group}, {"requiredMemberName", group}, {"fqdns", fqdnJson}}}}}};
    Json body = {
        {"id", nic.toString()},
        {"name", nic.name()},
        {"type", std::string(model::kNetworkInterface)},
        {"location", location},
        {"tags", Json::object()},
        {"properties",
         {{"privateEndpoint", {{"id", pe.toString()}}},
          {"ipConfigurations", Json::array({ipConfig})},
          {"dnsSettings", {{"dnsServers", Json::array()}, {"appliedDnsServers", Json::array()}}},
          {"enableIPForwarding", false},
          {"enableAcceleratedNetworking", false},
          {"macAddress", ""},
          {"nicType", "Standard"},
          {"vnetEncryptionSupported", false},
          {"hostedWorkloads", Json::array()},
          {"tapConfigurations", Json::array()},
          {"resourceGuid", newGuid()}}}};
    ASSIGN_OR_RETURN(store::Document stored,
                     ctx.txn.put(nic.toString(), toLower(model::kNetworkInterface), std::move(body)));
    (void)stored;
    return Status::Ok();
  }

  std::shared_ptr<PrivateLinkContext> pl_;
};

}  // namespace

std::unique_ptr<ResourceKind> makePrivateEndpointKind(std::shared_ptr<PrivateLinkContext> ctx) {
  return std::make_unique<PrivateEndpointKind>(std::move(ctx));
}

}  // namespace privlink::control::privatelink
