#pragma once
// Resource counters (issue #6 item 7): traffic counters of private endpoints and private link
// services, published by the agent(s) into the store and served read-only on the resources.
//
// Store documents (internal, not ARM resources): one per resource and publishing host,
//   key  "/privlink/counters" + <resource key> + "/hosts/" + <host>   (countersKeyOf)
//   type "privlink/counters"
//   body CounterSnapshot::toJson(): {"resourceId", "host", "observedAt", "bytesIn", "bytesOut",
//        "packetsIn", "packetsOut", "connections", "rejectedPackets"[, "natPorts": [...]]}
// They live apart from the resource documents, so publishing never changes a resource's etag or
// revision. The agent writes them (agent/counter_publisher.h); the API reads them on GET/list
// (renderCounters) and for metrics (mergedCounters).
//
// Directions, as a client of the endpoint sees them: "Out" is client -> service, "In" is
// service -> client. For a private link service the values are the sums over the private
// endpoints connected to it that this host realises, so PLS "In"/"Out" keep the endpoint's
// direction (bytesOut of the PLS = bytes its consumers sent to the service).
//
// Pure data + JSON codecs; thread-compatible.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace privlink::control {

inline constexpr std::string_view kCountersKeyPrefix = "/privlink/counters";
inline constexpr std::string_view kCountersType = "privlink/counters";

// NAT ports one NAT IP of a private link service holds for one protocol.
struct NatPortCount {
  std::string ipAddress;
  std::string protocol;  // "Tcp", "Udp", or the IP protocol number as text
  uint64_t portsInUse = 0;
  uint64_t flows = 0;
  bool operator==(const NatPortCount&) const = default;
};

struct CounterSnapshot {
  std::string resourceId;  // the ARM id of the private endpoint or private link service
  std::string host;        // the publishing agent (its realiser name)
  std::string observedAt;  // RFC 3339 UTC, when the agent read the kernel
  uint64_t bytesIn = 0;
  uint64_t bytesOut = 0;
  uint64_t packetsIn = 0;
  uint64_t packetsOut = 0;
  uint64_t connections = 0;      // new flows
  uint64_t rejectedPackets = 0;  // packets refused while the endpoint was not Approved
  std::optional<std::vector<NatPortCount>> natPorts;  // private link services only

  // The stored body (see the file comment).
  nlohmann::json toJson() const;
  // True when every counted value equals `other`'s (observedAt and host are ignored).
  bool sameValues(const CounterSnapshot& other) const;
  // Adds `other`'s counted values (bytes, packets, connections, rejects; not natPorts).
  void addValues(const CounterSnapshot& other);
};

// Parses a stored body; InvalidArgument("InvalidResourceDocument") when malformed.
Result<CounterSnapshot> parseCounterSnapshot(const nlohmann::json& body);

// "/privlink/counters<resource key>/hosts/<host>" (lower case).
std::string countersKeyOf(std::string_view resourceKey, std::string_view host);
// The key prefix of every host's document for one resource.
std::string countersPrefixOf(std::string_view resourceKey);
// The host a counters key belongs to ("" when `key` is not a counters key).
std::string countersHostOf(std::string_view key);

// The counters of one resource over every publishing host: values and natPorts rows (by
// ipAddress + protocol) summed, observedAt the newest. nullopt when no host published any (the
// resource is not realised yet) or the store cannot be read. Malformed documents are skipped.
std::optional<CounterSnapshot> mergedCounters(store::ReadView& view, std::string_view resourceKey);

// Adds body["properties"]["privlink"]["counters"] = the rendered merged counters (the stored
// fields without resourceId/host) when there are any; leaves `body` as it is otherwise. For the
// render() of the private endpoint and private link service kinds (read-only: their PUTs never
// store properties.privlink from a request).
void renderCounters(store::ReadView& view, std::string_view resourceKey, nlohmann::json& body);

// The highest revision R >= after such that every store change in (after, R] is a counters
// document (kCountersType): followers of the resources (the agent, the DNS responder) have
// nothing to do up to R. Returns `after` when the next change is something else, when the change
// feed was pruned past `after` (a gap: the follower must re-read), or when it cannot be read.
int64_t countersOnlyThrough(store::Store& store, int64_t after);

}  // namespace privlink::control
