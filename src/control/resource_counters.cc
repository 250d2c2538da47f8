#include "control/resource_counters.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

namespace privlink::control {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kHostsSegment = "/hosts/";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Field {
  const char* name;
  uint64_t CounterSnapshot::*member;
};
constexpr Field kFields[] = {
    {"bytesIn", &CounterSnapshot::bytesIn},
    {"bytesOut", &CounterSnapshot::bytesOut},
    {"packetsIn", &CounterSnapshot::packetsIn},
    {"packetsOut", &CounterSnapshot::packetsOut},
    {"connections", &CounterSnapshot::connections},
    {"rejectedPackets", &CounterSnapshot::rejectedPackets},
};

Result<uint64_t> countOf(const Json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_number_unsigned()) {
    if (it != body.end() && it->is_number_integer() && it->get<int64_t>() >= 0) {
      return static_cast<uint64_t>(it->get<int64_t>());
    }
    return Status::InvalidArgument(
        "InvalidResourceDocument",
        std::string("counters document: '") + name + "' must be a non-negative integer");
  }
  return it->get<uint64_t>();
}

Json rendered(const CounterSnapshot& snapshot) {
  Json out = snapshot.toJson();
  out.erase("resourceId");
  out.erase("host");
  return out;
}

}  // namespace

Json CounterSnapshot::toJson() const {
  Json out = {{"resourceId", resourceId}, {"host", host}, {"observedAt", observedAt}};
  for (const Field& f : kFields) out[f.name] = this->*f.member;
  if (natPorts) {
    Json rows = Json::array();
    for (const NatPortCount& n : *natPorts) {
      rows.push_back({{"ipAddress", n.ipAddress},
                      {"protocol", n.protocol},
                      {"portsInUse", n.portsInUse},
                      {"flows", n.flows}});
    }
    out["natPorts"] = std::move(rows);
  }
  return out;
}

bool CounterSnapshot::sameValues(const CounterSnapshot& other) const {
  for (const Field& f : kFields) {
    if (this->*f.member != other.*f.member) return false;
  }
  return natPorts == other.natPorts;
}

void CounterSnapshot::addValues(const CounterSnapshot& other) {
  for (const Field& f : kFields) this->*f.member += other.*f.member;
}

Result<CounterSnapshot> parseCounterSnapshot(const Json& body) {
  if (!body.is_object()) {
    return Status::InvalidArgument("InvalidResourceDocument",
                                   "counters document: the body must be an object");
  }
  CounterSnapshot s;
  s.resourceId = body.value("resourceId", "");
  s.host = body.value("host", "");
  s.observedAt = body.value("observedAt", "");
  for (const Field& f : kFields) {
    ASSIGN_OR_RETURN(s.*f.member, countOf(body, f.name));
  }
  auto nat = body.find("natPorts");
  if (nat != body.end()) {
    if (!nat->is_array()) {
      return Status::InvalidArgument("InvalidResourceDocument",
                                     "counters document: 'natPorts' must be an array");
    }
    std::vector<NatPortCount> rows;
    for (const Json& row : *nat) {
      if (!row.is_object() || !row.contains("ipAddress") || !row["ipAddress"].is_string() ||
          !row.contains("protocol") || !row["protocol"].is_string()) {
        return Status::InvalidArgument(
            "InvalidResourceDocument",
            "counters document: every natPorts row needs string ipAddress and protocol");
      }
      NatPortCount n;
      n.ipAddress = row["ipAddress"].get<std::string>();
      n.protocol = row["protocol"].get<std::string>();
      ASSIGN_OR_RETURN(n.portsInUse, countOf(row, "portsInUse"));
      ASSIGN_OR_RETURN(n.flows, countOf(row, "flows"));
      rows.push_back(std::move(n));
    }
    s.natPorts = std::move(rows);
  }
  return s;
}

std::string countersKeyOf(std::string_view resourceKey, std::string_view host) {
  return countersPrefixOf(resourceKey) + lower(host);
}

std::string countersPrefixOf(std::string_view resourceKey) {
  return lower(std::string(kCountersKeyPrefix) + std::string(resourceKey) +
               std::string(kHostsSegment));
}

std::string countersHostOf(std::string_view key) {
  if (key.substr(0, kCountersKeyPrefix.size()) != kCountersKeyPrefix) return "";
  size_t at = key.rfind(kHostsSegment);
  if (at == std::string_view::npos) return "";
  return std::string(key.substr(at + kHostsSegment.size()));
}

std::optional<CounterSnapshot> mergedCounters(store::ReadView& view, std::string_view resourceKey) {
  Result<std::vector<store::Document>> docs = view.listPrefix(countersPrefixOf(resourceKey));
  if (!docs.ok()) return std::nullopt;
  std::optional<CounterSnapshot> merged;
  std::map<std::pair<std::string, std::string>, NatPortCount> nat;
  std::vector<std::pair<std::string, std::string>> natOrder;
  for (const store::Document& doc : *docs) {
    if (doc.type != kCountersType) continue;
    Result<CounterSnapshot> one = parseCounterSnapshot(doc.body);
    if (!one.ok()) continue;
    if (!merged) {
      merged = CounterSnapshot{};
      merged->resourceId = one->resourceId;
    }
    merged->addValues(*one);
    merged->observedAt = std::max(merged->observedAt, one->observedAt);
    if (one->natPorts) {
      for (const NatPortCount& n : *one->natPorts) {
        auto key = std::make_pair(n.ipAddress, n.protocol);
        auto [it, inserted] = nat.try_emplace(key, NatPortCount{n.ipAddress, n.protocol, 0, 0});
        if (inserted) natOrder.push_back(key);
        it->second.portsInUse += n.portsInUse;
        it->second.flows += n.flows;
      }
    }
  }
  if (merged && !natOrder.empty()) {
    merged->natPorts.emplace();
    for (const auto& key : natOrder) merged->natPorts->push_back(nat[key]);
  }
  if (merged && merged->natPorts == std::nullopt) {
    // A private link service whose NAT IPs no host counted still shows an empty list.
    for (const store::Document& doc : *docs) {
      if (doc.body.is_object() && doc.body.contains("natPorts")) {
        merged->natPorts.emplace();
        break;
      }
    }
  }
  return merged;
}

void renderCounters(store::ReadView& view, std::string_view resourceKey, Json& body) {
  std::optional<CounterSnapshot> merged = mergedCounters(view, resourceKey);
  if (!merged) return;
  Json& props = body["properties"];
  if (!props.is_object()) props = Json::object();
  Json& privlink = props["privlink"];
  if (!privlink.is_object()) privlink = Json::object();
  privlink["counters"] = rendered(*merged);
}

int64_t countersOnlyThrough(store::Store& store, int64_t after) {
  constexpr size_t kBatch = 256;
  int64_t through = after;
  while (true) {
    auto changes = store.changesSince(through, kBatch);
    if (!changes.ok() || changes->empty()) return through;
    for (const store::Change& change : *changes) {
      if (change.revision != through + 1 || change.type != kCountersType) return through;
      through = change.revision;
    }
    if (changes->size() < kBatch) return through;
  }
}

}  // namespace privlink::control
