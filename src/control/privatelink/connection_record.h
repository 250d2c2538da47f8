#pragma once
// The private endpoint connection record: the ONE place a connection's approval state lives
// (docs/approval.md). Both views render from it:
//   - the provider's  {target}/privateEndpointConnections/{name}  (and the target's
//     properties.privateEndpointConnections[]), which IS the record document, and
//   - the consumer's  privateEndpoints/{pe}.properties.(manual)privateLinkServiceConnections[0]
//     .properties.privateLinkServiceConnectionState, looked up through the record id the
//     endpoint stores.
// So the two views cannot disagree. When the record is deleted (provider DELETE, or the target is
// deleted) its final state and history are copied into the endpoint (properties.privlink.final
// of its connection) and the consumer sees Disconnected.
//
// Record document: key "{target key}/privateendpointconnections/{name}", type
// "{target type}/privateendpointconnections" (lower-case), body
//   {"id", "name", "type",
//    "properties": {
//      "privateEndpoint": {"id": "<pe id>"},
//      "privateLinkServiceConnectionState": {"status", "description", "actionsRequired": "None"},
//      "linkIdentifier": "<uint32 decimal>",          // unique per host, never reused
//      "privateEndpointLocation": "<pe location>",
//      "groupIds": [...], "requestMessage": "...",
//      "privlink": {"requestType": "Automatic"|"Manual", "consumerSubscriptionId",
//                   "consumerConnectionName",
//                   "history": [{"time", "principalId", "principalName", "actor", "status",
//                                "description"}]}}}
// `actor` is "consumer" (the endpoint's request), "provider" (approve/reject/remove/delete) or
// "platform" (the target was deleted).
//
// Link identifiers come from the counter document "/privlink/privatelink/linkIdentifier"
// ({"next": N}), advanced in the same transaction as the record, so they are unique and never
// reused even after records are deleted.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"
#include "common/status.h"
#include "control/caller.h"
#include "store/store.h"

namespace privlink::control::privatelink {

enum class ConnectionStatus { kPending, kApproved, kRejected, kDisconnected };
std::string_view connectionStatusName(ConnectionStatus status);
// "Approved", "Rejected", "Pending", "Disconnected", and "Removed" (= Disconnected), any case.
std::optional<ConnectionStatus> parseConnectionStatus(std::string_view text);

inline constexpr std::string_view kLinkIdentifierKey = "/privlink/privatelink/linkIdentifier";
inline constexpr std::string_view kLinkIdentifierType = "privlink/linkidentifier";
inline constexpr std::string_view kAutoApprovedDescription = "Auto-approved";
inline constexpr std::string_view kPendingDescription = "Awaiting approval";

// The next link identifier (1, 2, ...); Internal when 2^32-1 have been used.
Result<uint32_t> takeLinkIdentifier(store::Transaction& txn);

// Current time, RFC 3339 UTC with milliseconds.
std::string nowTimestamp();

// One history entry.
nlohmann::json historyEntry(const Caller& caller, std::string_view actor, ConnectionStatus status,
                            std::string_view description);

struct NewConnection {
  ResourceId target;            // stored casing
  std::string connectionType;   // canonical, e.g. kPlsConnectionType
  ResourceId privateEndpoint;
  std::string privateEndpointLocation;
  std::string consumerConnectionName;
  bool manual = false;
  std::vector<std::string> groupIds;
  std::string requestMessage;
  ConnectionStatus status = ConnectionStatus::kPending;
  std::string description;
};

// Writes a new record (name "<pe name>.<guid>") with a fresh link identifier and a first history
// entry by `caller` as consumer. Returns the stored document.
Result<store::Document> createConnection(store::Transaction& txn, const Caller& caller,
                                         const NewConnection& connection);

// The connection records of a target (documents of `connectionType` directly below it), in key
// order.
Result<std::vector<store::Document>> connectionRecordsOf(store::ReadView& view,
                                                         const ResourceId& target,
                                                         std::string_view connectionType);

// The record's current {status, description, actionsRequired}; Disconnected when malformed.
nlohmann::json connectionState(const nlohmann::json& recordBody);
ConnectionStatus statusOf(const nlohmann::json& recordBody);

// A provider's PUT on an existing record: validates the requested
// properties.privateLinkServiceConnectionState.status and the transition, appends history and
// returns the new body. Rules (docs/approval.md):
//   Pending  -> Approved | Rejected | Removed(Disconnected)
//   Approved -> Rejected | Removed
//   Rejected -> Approved | Removed      (as Azure's Network RP; some RPs refuse re-approval)
//   Disconnected is final: 400 PrivateEndpointConnectionDisconnected.
//   Same status: only the description changes (recorded when it differs).
//   Anything else, e.g. back to Pending: 400 InvalidPrivateEndpointConnectionStatus.
// Read-only properties in `desired` (privateEndpoint, linkIdentifier, ...) are ignored.
Result<nlohmann::json> applyProviderUpdate(const Caller& caller, const nlohmann::json& existingBody,
                                           const nlohmann::json& desired);

// Copies a record's final state into the endpoint that owns it (when the record is deleted by
// the provider or with its target): sets properties.privlink.final on the endpoint's connection
// to {state: Disconnected + description, history: record history + this event}. Ok when the
// endpoint no longer exists.
Status detachFromEndpoint(store::Transaction& txn, const Caller& caller,
                          const store::Document& record, std::string_view actor,
                          std::string_view description);

}  // namespace privlink::control::privatelink
