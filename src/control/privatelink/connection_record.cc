#include "control/privatelink/connection_record.h"

#include <chrono>
#include <ctime>
#include <limits>

#include "common/guid.h"

namespace privlink::control::privatelink {
namespace {

using Json = nlohmann::json;

const Json& propsOf(const Json& body) {
  static const Json kEmpty = Json::object();
  if (!body.is_object()) return kEmpty;
  auto it = body.find("properties");
  return (it != body.end() && it->is_object()) ? *it : kEmpty;
}

Status badRequest(std::string code, std::string message) {
  return Status::InvalidArgument(std::move(code), std::move(message));
}

}  // namespace

std::string_view connectionStatusName(ConnectionStatus status) {
  switch (status) {
    case ConnectionStatus::kPending:
      return "Pending";
    case ConnectionStatus::kApproved:
      return "Approved";
    case ConnectionStatus::kRejected:
      return "Rejected";
    case ConnectionStatus::kDisconnected:
      return "Disconnected";
  }
  return "Disconnected";
}

std::optional<ConnectionStatus> parseConnectionStatus(std::string_view text) {
  if (iequals(text, "Pending")) return ConnectionStatus::kPending;
  if (iequals(text, "Approved")) return ConnectionStatus::kApproved;
  if (iequals(text, "Rejected")) return ConnectionStatus::kRejected;
  if (iequals(text, "Disconnected") || iequals(text, "Removed")) {
    return ConnectionStatus::kDisconnected;
  }
  return std::nullopt;
}

Result<uint32_t> takeLinkIdentifier(store::Transaction& txn) {
  ASSIGN_OR_RETURN(std::optional<store::Document> counter, txn.get(kLinkIdentifierKey));
  uint64_t next = 1;
  if (counter && counter->body.is_object() && counter->body.contains("next") &&
      counter->body["next"].is_number_unsigned()) {
    next = counter->body["next"].get<uint64_t>();
  }
  if (next > std::numeric_limits<uint32_t>::max()) {
    return Status::Internal(
        "All 2^32-1 private endpoint link identifiers of this host have been used; link "
        "identifiers are never reused.");
  }
  ASSIGN_OR_RETURN(store::Document stored,
                   txn.put(kLinkIdentifierKey, kLinkIdentifierType, Json{{"next", next + 1}}));
  (void)stored;
  return static_cast<uint32_t>(next);
}

std::string nowTimestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
            1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

Json historyEntry(const Caller& caller, std::string_view actor, ConnectionStatus status,
                  std::string_view description) {
  return Json{{"time", nowTimestamp()},
              {"principalId", caller.principalId},
              {"principalName", caller.displayName},
              {"actor", std::string(actor)},
              {"status", std::string(connectionStatusName(status))},
              {"description", std::string(description)}};
}

Result<store::Document> createConnection(store::Transaction& txn, const Caller& caller,
                                         const NewConnection& c) {
  ASSIGN_OR_RETURN(uint32_t linkId, takeLinkIdentifier(txn));
  const std::string name = c.privateEndpoint.name() + "." + newGuid();
  const ResourceId id = c.target.child("privateEndpointConnections", name);
  Json groupIds = Json::array();
  for (const std::string& g : c.groupIds) groupIds.push_back(g);
  Json props = {
      {"privateEndpoint", {{"id", c.privateEndpoint.toString()}}},
      {"privateLinkServiceConnectionState",
       {{"status", std::string(connectionStatusName(c.status))},
        {"description", c.description},
        {"actionsRequired", "None"}}},
      {"linkIdentifier", std::to_string(linkId)},
      {"privateEndpointLocation", c.privateEndpointLocation},
      {"groupIds", std::move(groupIds)},
      {"requestMessage", c.requestMessage},
      {"privlink",
       {{"requestType", c.manual ? "Manual" : "Automatic"},
        {"consumerSubscriptionId", c.privateEndpoint.subscriptionId()},
        {"consumerConnectionName", c.consumerConnectionName},
        {"history", Json::array({historyEntry(caller, "consumer", c.status, c.description)})}}}};
  Json body = {{"id", id.toString()},
               {"name", name},
               {"type", c.connectionType},
               {"properties", std::move(props)}};
  return txn.put(id.toString(), toLower(c.connectionType), std::move(body));
}

Result<std::vector<store::Document>> connectionRecordsOf(store::ReadView& view,
                                                         const ResourceId& target,
                                                         std::string_view connectionType) {
  ASSIGN_OR_RETURN(std::vector<store::Document> docs,
                   view.listPrefix(target.key() + "/privateendpointconnections/"));
  std::vector<store::Document> out;
  const std::string type = toLower(connectionType);
  for (store::Document& d : docs) {
    if (d.type == type) out.push_back(std::move(d));
  }
  return out;
}

Json connectionState(const Json& recordBody) {
  const Json& props = propsOf(recordBody);
  auto it = props.find("privateLinkServiceConnectionState");
  if (it != props.end() && it->is_object()) return *it;
  return Json{{"status", "Disconnected"}, {"description", ""}, {"actionsRequired", "None"}};
}

ConnectionStatus statusOf(const Json& recordBody) {
  Json state = connectionState(recordBody);
  if (state.contains("status") && state["status"].is_string()) {
    if (auto s = parseConnectionStatus(state["status"].get<std::string>())) return *s;
  }
  return ConnectionStatus::kDisconnected;
}

Result<Json> applyProviderUpdate(const Caller& caller, const Json& existingBody,
                                 const Json& desired) {
  const Json& in = propsOf(desired);
  auto stateIt = in.find("privateLinkServiceConnectionState");
  if (stateIt == in.end() || !stateIt->is_object() || !stateIt->contains("status") ||
      !(*stateIt)["status"].is_string()) {
    return badRequest("InvalidRequestFormat",
                      "Give properties.privateLinkServiceConnectionState.status: Approved, "
                      "Rejected or Removed.")
        .withTarget("properties.privateLinkServiceConnectionState.status");
  }
  const std::string requested = (*stateIt)["status"].get<std::string>();
  std::string description;
  if (stateIt->contains("description")) {
    if (!(*stateIt)["description"].is_string() && !(*stateIt)["description"].is_null()) {
      return badRequest("InvalidRequestFormat",
                        "properties.privateLinkServiceConnectionState.description must be a "
                        "string.")
          .withTarget("properties.privateLinkServiceConnectionState.description");
    }
    if ((*stateIt)["description"].is_string()) {
      description = (*stateIt)["description"].get<std::string>();
    }
  }
  std::optional<ConnectionStatus> to = parseConnectionStatus(requested);
  if (!to) {
    return badRequest("InvalidPrivateEndpointConnectionStatus",
                      "'" + requested +
                          "' is not a connection status a provider can set; use Approved, "
                          "Rejected or Removed.")
        .withTarget("properties.privateLinkServiceConnectionState.status");
  }
  const ConnectionStatus from = statusOf(existingBody);
  const std::string name = existingBody.value("name", std::string());
  if (from == ConnectionStatus::kDisconnected) {
    return badRequest("PrivateEndpointConnectionDisconnected",
                      "Private endpoint connection " + name +
                          " is Disconnected, which is final; the consumer must delete the private "
                          "endpoint and create a new one to connect again.");
  }
  if (*to == ConnectionStatus::kPending && from != ConnectionStatus::kPending) {
    return badRequest("InvalidPrivateEndpointConnectionStatus",
                      "Private endpoint connection " + name + " is " +
                          std::string(connectionStatusName(from)) +
                          " and cannot be set back to Pending; use Approved, Rejected or "
                          "Removed.")
        .withTarget("properties.privateLinkServiceConnectionState.status");
  }
  Json out = existingBody;
  Json& state = out["properties"]["privateLinkServiceConnectionState"];
  const std::string oldDescription = state.value("description", std::string());
  if (*to == from && description == oldDescription) return out;  // nothing changes
  if (description.empty() && *to != from) {
    switch (*to) {
      case ConnectionStatus::kApproved:
        description = "Approved";
        break;
      case ConnectionStatus::kRejected:
        description = "Rejected";
        break;
      case ConnectionStatus::kDisconnected:
        description = "Removed by the service provider";
        break;
      case ConnectionStatus::kPending:
        description = std::string(kPendingDescription);
        break;
    }
  }
  state = Json{{"status", std::string(connectionStatusName(*to))},
               {"description", description},
               {"actionsRequired", "None"}};
  Json& privlink = out["properties"]["privlink"];
  if (!privlink.is_object()) privlink = Json::object();
  if (!privlink.contains("history") || !privlink["history"].is_array()) {
    privlink["history"] = Json::array();
  }
  privlink["history"].push_back(historyEntry(caller, "provider", *to, description));
  return out;
}

Status detachFromEndpoint(store::Transaction& txn, const Caller& caller,
                          const store::Document& record, std::string_view actor,
                          std::string_view description) {
  const Json& props = propsOf(record.body);
  auto pe = props.find("privateEndpoint");
  if (pe == props.end() || !pe->is_object() || !pe->contains("id") || !(*pe)["id"].is_string()) {
    return Status::Ok();
  }
  Result<ResourceId> peId = ResourceId::parse((*pe)["id"].get<std::string>());
  if (!peId.ok()) return Status::Ok();
  ASSIGN_OR_RETURN(std::optional<store::Document> peDoc, txn.get(peId->key()));
  if (!peDoc) return Status::Ok();

  Json history = Json::array();
  auto priv = props.find("privlink");
  if (priv != props.end() && priv->is_object() && priv->contains("history") &&
      (*priv)["history"].is_array()) {
    history = (*priv)["history"];
  }
  history.push_back(historyEntry(caller, actor, ConnectionStatus::kDisconnected, description));
  Json final = {{"state",
                 {{"status", "Disconnected"},
                  {"description", std::string(description)},
                  {"actionsRequired", "None"}}},
                {"linkIdentifier", props.value("linkIdentifier", std::string())},
                {"history", std::move(history)}};

  Json body = peDoc->body;
  bool changed = false;
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"}) {
    if (!body.contains("properties") || !body["properties"].is_object()) break;
    Json& arr = body["properties"][list];
    if (!arr.is_array()) continue;
    for (Json& conn : arr) {
      if (!conn.is_object() || !conn.contains("properties") || !conn["properties"].is_object()) {
        continue;
      }
      Json& cp = conn["properties"];
      if (!cp.contains("privlink") || !cp["privlink"].is_object()) continue;
      if (!iequals(cp["privlink"].value("connectionId", std::string()), record.id)) continue;
      cp["privlink"]["final"] = final;
      changed = true;
    }
  }
  if (!changed) return Status::Ok();
  ASSIGN_OR_RETURN(store::Document stored, txn.put(peDoc->id, peDoc->type, std::move(body)));
  (void)stored;
  return Status::Ok();
}

}  // namespace privlink::control::privatelink
