#include "agent/incremental.h"

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "control/paas/paas_kind.h"

namespace privlink::agent {

bool isEndpointNic(const model::Nic& nic) {
  if (nic.privateEndpointKey.empty()) return false;
  for (const model::IpConfiguration& config : nic.ipConfigurations) {
    if (!config.poolKeys.empty()) return false;
  }
  return true;
}

// ---- SnapshotCache ----------------------------------------------------------------------------

void SnapshotCache::reset(model::NetworkSnapshot snapshot) {
  snapshot_ = std::move(snapshot);
  by_nic_.clear();
  by_connection_.clear();
  for (const auto& [key, pe] : snapshot_.privateEndpoints) index(pe);
  valid_ = true;
}

void SnapshotCache::index(const model::PrivateEndpoint& pe) {
  if (!pe.nicKey.empty()) by_nic_[pe.nicKey].insert(pe.key);
  if (!pe.connectionKey.empty()) by_connection_[pe.connectionKey].insert(pe.key);
}

void SnapshotCache::unindex(const model::PrivateEndpoint& pe) {
  for (auto [map, key] :
       {std::pair{&by_nic_, &pe.nicKey}, std::pair{&by_connection_, &pe.connectionKey}}) {
    auto it = map->find(*key);
    if (it == map->end()) continue;
    it->second.erase(pe.key);
    if (it->second.empty()) map->erase(it);
  }
}

namespace {

std::string parentOfRecord(const std::string& key) {
  const auto pos = key.rfind("/privateendpointconnections/");
  return pos == std::string::npos ? std::string() : key.substr(0, pos);
}

}  // namespace

// A record the full read sees: every PLS connection record, and the records below the PaaS
// instances it reads (agent/paas_documents.h).
bool SnapshotCache::recordVisible(const std::string& key, const std::string& type) const {
  if (type == model::kPlsConnectionType) return true;
  return model::isConnectionRecordType(type) &&
         snapshot_.paasInstances.count(parentOfRecord(key)) > 0;
}

SnapshotCache::Kind SnapshotCache::classify(const std::string& key, const std::string& type) const {
  if (type == model::kPrivateEndpointType) return Kind::kEndpoint;
  if (type == model::kNetworkInterfaceType) return Kind::kNic;
  for (std::string_view structural :
       {model::kVirtualNetworkType, model::kSubnetType, model::kPeeringType,
        model::kTransitAddressType, model::kLoadBalancerType, model::kPrivateLinkServiceType}) {
    if (type == structural) return Kind::kStructural;
  }
  if (key == control::paas::kPaasAddressesKey || snapshot_.paasInstances.count(key)) {
    return Kind::kStructural;
  }
  if (recordVisible(key, type)) return Kind::kRecord;
  return Kind::kIrrelevant;
}

Result<std::optional<std::set<std::string>>> SnapshotCache::follow(store::Store& store,
                                                                   size_t limit) {
  using Out = std::optional<std::set<std::string>>;
  if (!valid_) return Out();
  auto listed = store.changesSince(snapshot_.revision, limit);
  if (!listed.ok()) {
    valid_ = false;
    return listed.status();
  }
  const std::vector<store::Change>& changes = *listed;
  std::set<std::string> endpoints;
  if (changes.empty()) return Out();  // nothing changed: the caller's pass is a full one
  if (changes.front().revision != snapshot_.revision + 1) {  // the feed was pruned: a gap
    valid_ = false;
    return Out();
  }
  std::set<std::string> nics;
  for (const store::Change& change : changes) {
    switch (classify(change.key, change.type)) {
      case Kind::kIrrelevant:
        break;
      case Kind::kStructural:
        valid_ = false;
        return Out();
      case Kind::kEndpoint:
        endpoints.insert(change.key);
        break;
      case Kind::kNic: {
        auto old = snapshot_.nics.find(change.key);
        if ((old != snapshot_.nics.end() && !isEndpointNic(old->second)) ||
            (old == snapshot_.nics.end() && snapshot_.failures.count(change.key))) {
          valid_ = false;
          return Out();
        }
        nics.insert(change.key);
        auto users = by_nic_.find(change.key);
        if (users != by_nic_.end()) endpoints.insert(users->second.begin(), users->second.end());
        break;
      }
      case Kind::kRecord: {
        auto users = by_connection_.find(change.key);
        if (users != by_connection_.end()) {
          endpoints.insert(users->second.begin(), users->second.end());
        }
        break;
      }
    }
  }

  // Read what changed at one revision: the NICs, and each affected endpoint with its record.
  struct Endpoint {
    std::optional<model::SourceDocument> doc;
    std::optional<model::ConnectionState> record;
  };
  std::map<std::string, std::optional<model::SourceDocument>> nicDocs;
  std::map<std::string, Endpoint> endpointDocs;
  auto source = [](store::Document&& d) {
    return model::SourceDocument{std::move(d.key), std::move(d.id), std::move(d.type),
                                 std::move(d.body)};
  };
  Status read = store.read([&](store::ReadView& view) -> Status {
    for (const std::string& key : nics) {
      ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(key));
      nicDocs[key] = doc ? std::optional(source(std::move(*doc))) : std::nullopt;
    }
    for (const std::string& key : endpoints) {
      ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(key));
      Endpoint& e = endpointDocs[key];
      if (!doc) continue;
      e.doc = source(std::move(*doc));
      auto pe = model::parsePrivateEndpoint(*e.doc);
      if (!pe.ok() || pe->connectionKey.empty()) continue;
      auto record = view.get(pe->connectionKey);
      // A connection id that is no resource id names no record (as in a full read).
      if (!record.ok() && record.status().code() == StatusCode::kInvalidArgument) continue;
      if (!record.ok()) return record.status();
      if (*record && recordVisible((*record)->key, (*record)->type)) {
        e.record = model::parseConnectionRecord((*record)->body);
      }
    }
    return Status::Ok();
  });
  if (!read.ok()) {
    valid_ = false;
    return read;
  }

  // NICs first: one that is not (or no longer) an endpoint NIC is context: a full read.
  std::map<std::string, std::optional<model::Nic>> parsedNics;
  for (auto& [key, doc] : nicDocs) {
    if (!doc) {
      parsedNics[key] = std::nullopt;
      continue;
    }
    auto nic = doc->type == model::kNetworkInterfaceType ? model::parseNic(*doc)
                                                         : Result<model::Nic>(Status::Ok());
    if (doc->type != model::kNetworkInterfaceType || !nic.ok() || !isEndpointNic(*nic)) {
      valid_ = false;
      return Out();
    }
    parsedNics[key] = std::move(nic).value();
  }
  for (const auto& [key, e] : endpointDocs) {
    if (e.doc && e.doc->type != model::kPrivateEndpointType) {
      valid_ = false;
      return Out();
    }
  }
  for (auto& [key, nic] : parsedNics) {
    snapshot_.failures.erase(key);
    if (nic) {
      snapshot_.nics[key] = std::move(*nic);
    } else {
      snapshot_.nics.erase(key);
    }
  }
  for (auto& [key, e] : endpointDocs) {
    auto old = snapshot_.privateEndpoints.find(key);
    if (old != snapshot_.privateEndpoints.end()) {
      unindex(old->second);
      snapshot_.privateEndpoints.erase(old);
    }
    snapshot_.failures.erase(key);
    if (!e.doc) continue;
    auto pe = model::parsePrivateEndpoint(*e.doc);
    if (!pe.ok()) {
      snapshot_.failures.emplace(key, pe.status());
      continue;
    }
    model::PrivateEndpoint parsed = std::move(pe).value();
    model::joinConnectionState(parsed, parsed.linkIdentifier, e.record ? &*e.record : nullptr);
    index(parsed);
    snapshot_.privateEndpoints.emplace(key, std::move(parsed));
  }
  snapshot_.revision = changes.back().revision;
  return Out(std::move(endpoints));
}

// ---- IncrementalCompiler ----------------------------------------------------------------------

namespace {

// Calls f(map) with the map of `part`.
// The map of items of type Item in `plan` (each part has its own item type).
template <typename Item, typename Plan>
auto& itemsOf(Plan& plan) {
  if constexpr (std::is_same_v<Item, PlannedNamespace>) {
    return plan.namespaces;
  } else if constexpr (std::is_same_v<Item, PlannedLink>) {
    return plan.links;
  } else if constexpr (std::is_same_v<Item, PlannedAddress>) {
    return plan.addresses;
  } else if constexpr (std::is_same_v<Item, PlannedRoute>) {
    return plan.routes;
  } else if constexpr (std::is_same_v<Item, PlannedSysctl>) {
    return plan.sysctls;
  } else if constexpr (std::is_same_v<Item, PlannedNftTable>) {
    return plan.nftTables;
  } else if constexpr (std::is_same_v<Item, PlannedFile>) {
    return plan.files;
  } else if constexpr (std::is_same_v<Item, PlannedNftElement>) {
    return plan.nftElements;
  } else if constexpr (std::is_same_v<Item, PlannedProbe>) {
    return plan.probes;
  } else if constexpr (std::is_same_v<Item, PlannedRule>) {
    return plan.rules;
  } else if constexpr (std::is_same_v<Item, PlannedProxyEndpoint>) {
    return plan.proxyEndpoints;
  } else {
    static_assert(std::is_same_v<Item, PlannedFastEndpoint>);
    return plan.fastEndpoints;
  }
}

template <typename Map>
using ItemOf = typename std::decay_t<Map>::mapped_type;

template <typename Plan, typename F>
void withPart(Plan& plan, PlanPart part, F&& f) {
  switch (part) {
    case PlanPart::kNamespace:
      return f(plan.namespaces);
    case PlanPart::kLink:
      return f(plan.links);
    case PlanPart::kAddress:
      return f(plan.addresses);
    case PlanPart::kRoute:
      return f(plan.routes);
    case PlanPart::kSysctl:
      return f(plan.sysctls);
    case PlanPart::kNftTable:
      return f(plan.nftTables);
    case PlanPart::kFile:
      return f(plan.files);
    case PlanPart::kNftElement:
      return f(plan.nftElements);
    case PlanPart::kProbe:
      return f(plan.probes);
    case PlanPart::kRule:
      return f(plan.rules);
    case PlanPart::kProxyEndpoint:
      return f(plan.proxyEndpoints);
    case PlanPart::kFastEndpoint:
    default:
      return f(plan.fastEndpoints);
  }
}

constexpr PlanPart kOwnedParts[] = {
    PlanPart::kNamespace, PlanPart::kLink,     PlanPart::kAddress,       PlanPart::kRoute,
    PlanPart::kSysctl,    PlanPart::kNftTable, PlanPart::kFile,          PlanPart::kNftElement,
    PlanPart::kProbe,     PlanPart::kRule,     PlanPart::kProxyEndpoint, PlanPart::kFastEndpoint,
};

// Items several endpoints may share, their owners the sorted union (compile.cc's per-namespace
// TPROXY and fast path reply rules and routes).
template <typename Item>
bool shareable(const Item& item) {
  if constexpr (std::is_same_v<Item, PlannedRule>) {
    return true;
  } else if constexpr (std::is_same_v<Item, PlannedRoute>) {
    return item.route.table != dataplane::Route{}.table;
  } else {
    (void)item;
    return false;
  }
}

// Compares two items but their owners (which may hold thousands of keys: not copied).
template <typename Item>
bool sameIgnoringOwners(Item& a, Item& b) {
  std::vector<std::string> ownersA, ownersB;
  ownersA.swap(a.owners);
  ownersB.swap(b.owners);
  const bool same = a == b;
  a.owners.swap(ownersA);
  b.owners.swap(ownersB);
  return same;
}

// Keeps `owners` (sorted, unique) equal to the keys of `counts` as one contribution comes or goes.
void countOwners(const std::vector<std::string>& contribution, int delta,
                 std::map<std::string, int>& counts, std::vector<std::string>& owners) {
  for (const std::string& owner : contribution) {
    int& n = counts[owner];
    n += delta;
    auto at = std::lower_bound(owners.begin(), owners.end(), owner);
    const bool listed = at != owners.end() && *at == owner;
    if (n > 0 && !listed) owners.insert(at, owner);
    if (n <= 0) {
      counts.erase(owner);
      if (listed) owners.erase(at);
    }
  }
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> keysOf(const std::map<std::string, int>& counts) {
  std::vector<std::string> out;
  out.reserve(counts.size());
  for (const auto& [owner, n] : counts) out.push_back(owner);
  return out;
}

bool sameStatus(const Status& a, const Status& b) { return a.toString() == b.toString(); }

}  // namespace

bool PlanChanges::empty() const {
  bool none = true;
  for (PlanPart part : kOwnedParts) {
    withPart(removed, part, [&](const auto& m) { none = none && m.empty(); });
    withPart(added, part, [&](const auto& m) { none = none && m.empty(); });
  }
  return none;
}

namespace {

model::NetworkSnapshot contextOf(const model::NetworkSnapshot& snapshot) {
  model::NetworkSnapshot context;
  context.revision = snapshot.revision;
  context.vnets = snapshot.vnets;
  for (const auto& [key, nic] : snapshot.nics) {
    if (!isEndpointNic(nic)) context.nics.emplace(key, nic);
  }
  context.peerings = snapshot.peerings;
  context.transit = snapshot.transit;
  context.loadBalancers = snapshot.loadBalancers;
  context.privateLinkServices = snapshot.privateLinkServices;
  context.paasInstances = snapshot.paasInstances;
  return context;
}

}  // namespace

const HostPlan& IncrementalCompiler::rebuild(const model::NetworkSnapshot& snapshot,
                                             const CompileOptions& options,
                                             const ProbeHealth& health, bool indexed) {
  usable_ = false;
  plan_ = compile(snapshot, options, health);
  if (indexed) indexPlan(snapshot, options, health);
  return plan_;
}

void IncrementalCompiler::indexPlan(const model::NetworkSnapshot& snapshot,
                                    const CompileOptions& options, const ProbeHealth& health) {
  context_ = contextOf(snapshot);
  context_plan_ = compile(context_, options, health);
  index(snapshot);
}

void IncrementalCompiler::index(const model::NetworkSnapshot& snapshot) {
  by_endpoint_.clear();
  uses_.clear();
  usable_ = true;
  auto isEndpoint = [&](const std::string& key) {
    return snapshot.privateEndpoints.count(key) > 0;
  };
  // compile() keys an endpoint's items by its NIC's address and its link identifier; when two
  // endpoints share one, the later item silently replaces the earlier, which the index below
  // cannot see (its items carry only the winner's owners). Such plans are rebuilt every pass.
  std::set<std::string> nics;
  std::set<std::pair<std::string, IpAddress>> addresses;  // (consumer VNet, address)
  std::set<uint32_t> links;
  for (const auto& [key, pe] : snapshot.privateEndpoints) {
    if (!pe.nicKey.empty() && !nics.insert(pe.nicKey).second) usable_ = false;
    if (pe.linkIdentifier != 0 && !links.insert(pe.linkIdentifier).second) usable_ = false;
    auto nic = snapshot.nics.find(pe.nicKey);
    if (nic == snapshot.nics.end()) continue;
    const std::string vnet = pe.subnetKey.substr(0, pe.subnetKey.rfind("/subnets/"));
    for (const model::IpConfiguration& config : nic->second.ipConfigurations) {
      if (config.address && !addresses.insert({vnet, *config.address}).second) usable_ = false;
    }
  }
  // One walk over the plan (150,000 items at 10,000 endpoints): hashed lookups of the owners.
  std::unordered_set<std::string_view> endpointKeys;
  endpointKeys.reserve(snapshot.privateEndpoints.size() * 2);
  for (const auto& [key, pe] : snapshot.privateEndpoints) endpointKeys.insert(key);
  // Non-PE owners of each endpoint's own (unshared) items: what it adds to a shared item.
  std::unordered_map<std::string_view, std::set<std::string_view>> companions;
  struct Shared {
    PlanPart part;
    const std::string* key;
    const std::vector<std::string>* owners;
    std::vector<std::string_view> endpoints;
  };
  std::vector<Shared> shared;
  by_endpoint_.reserve(snapshot.privateEndpoints.size() * 2);
  std::vector<std::string_view> endpoints;
  for (PlanPart part : kOwnedParts) {
    withPart(plan_, part, [&](const auto& items) {
      const auto& contextItems = itemsOf<ItemOf<decltype(items)>>(context_plan_);
      for (const auto& [key, item] : items) {
        endpoints.clear();
        for (const std::string& owner : item.owners) {
          if (endpointKeys.count(owner)) endpoints.push_back(owner);
        }
        if (endpoints.empty()) continue;
        if (contextItems.count(key)) usable_ = false;  // an endpoint overrides a context item
        if (shareable(item)) {
          shared.push_back({part, &key, &item.owners, endpoints});
          continue;
        }
        // Owned by its one endpoint: no use count.
        if (endpoints.size() > 1) usable_ = false;
        for (std::string_view e : endpoints) {
          auto& mine = by_endpoint_[std::string(e)];
          mine.push_back({part, key, {}});
          auto& with = companions[e];
          for (const std::string& owner : item.owners) {
            if (owner != e) with.insert(owner);
          }
        }
      }
    });
  }
  for (const Shared& item : shared) {
    Use& use = uses_[{item.part, *item.key}];
    const std::vector<std::string>& owners = *item.owners;
    // owners is sorted when it is a union (checked below): binary searches, as the fast path
    // reply rule of a provider VNet names every endpoint of it.
    const bool sorted = std::is_sorted(owners.begin(), owners.end());
    for (std::string_view e : item.endpoints) {
      std::vector<std::string> contribution{std::string(e)};
      for (std::string_view companion : companions[e]) {
        const std::string c(companion);
        if (sorted ? std::binary_search(owners.begin(), owners.end(), c) : contains(owners, c)) {
          contribution.push_back(c);
        }
      }
      std::sort(contribution.begin(), contribution.end());
      for (const std::string& owner : contribution) ++use.owners[owner];
      by_endpoint_[std::string(e)].push_back({item.part, *item.key, std::move(contribution)});
      ++use.count;
    }
    if (keysOf(use.owners) != owners) usable_ = false;  // not a plain union
  }
  for (const auto& [key, status] : plan_.failures) {
    if (!isEndpoint(key)) continue;
    if (context_plan_.failures.count(key)) usable_ = false;
    by_endpoint_[key].push_back({PlanPart::kFailure, key, {}});
  }
}

void IncrementalCompiler::remove(const std::string& endpointKey, PlanChanges& changes) {
  auto mine = by_endpoint_.find(endpointKey);
  if (mine == by_endpoint_.end()) return;
  for (const Contribution& c : mine->second) {
    if (c.part == PlanPart::kFailure) {
      plan_.failures.erase(c.key);
      continue;
    }
    withPart(plan_, c.part, [&](auto& items) {
      auto item = items.find(c.key);
      if (item == items.end()) return;
      auto use = uses_.find({c.part, c.key});  // only shared items have one
      if (use != uses_.end() && --use->second.count > 0) {
        countOwners(c.owners, -1, use->second.owners, item->second.owners);
        return;
      }
      if (use != uses_.end()) uses_.erase(use);
      auto& removed = itemsOf<ItemOf<decltype(items)>>(changes.removed);
      removed.insert_or_assign(c.key, std::move(item->second));
      items.erase(item);
    });
  }
  by_endpoint_.erase(mine);
}

bool IncrementalCompiler::add(const std::string& endpointKey, HostPlan& mini,
                              PlanChanges& changes) {
  std::vector<Contribution>& mine = by_endpoint_[endpointKey];
  bool ok = true;
  for (PlanPart part : kOwnedParts) {
    if (!ok) break;
    withPart(mini, part, [&](auto& items) {
      auto& planned = itemsOf<ItemOf<decltype(items)>>(plan_);
      const auto& contextItems = itemsOf<ItemOf<decltype(items)>>(context_plan_);
      auto& added = itemsOf<ItemOf<decltype(items)>>(changes.added);
      for (auto& [key, item] : items) {
        if (!contains(item.owners, endpointKey)) {
          // A context item; one the endpoint makes appear without owning it is not modelled.
          if (!contextItems.count(key)) ok = false;
          if (!ok) return;
          continue;
        }
        if (contextItems.count(key)) {
          ok = false;
          return;
        }
        const bool shared = shareable(item);
        auto current = planned.find(key);
        if (current == planned.end()) {  // not in the context: nobody else plans it
          if (shared) {
            Use& fresh = uses_[{part, key}];
            fresh.count = 1;
            for (const std::string& owner : item.owners) ++fresh.owners[owner];
          }
          planned[key] = item;
          added[key] = item;
          mine.push_back({part, key, shared ? item.owners : std::vector<std::string>{}});
          continue;
        }
        // Another endpoint plans it too: only an aggregate may be shared, and must agree.
        auto use = uses_.find({part, key});
        if (!shared || use == uses_.end() || !sameIgnoringOwners(current->second, item)) {
          ok = false;
          return;
        }
        ++use->second.count;
        countOwners(item.owners, +1, use->second.owners, current->second.owners);
        mine.push_back({part, key, item.owners});
      }
    });
  }
  if (!ok) return false;
  for (const auto& [key, status] : mini.failures) {
    if (context_plan_.failures.count(key)) continue;
    if (key != endpointKey) return false;
    plan_.failures.insert_or_assign(key, status);
    mine.push_back({PlanPart::kFailure, key, {}});
  }
  return true;
}

bool IncrementalCompiler::update(const model::NetworkSnapshot& snapshot,
                                 const std::set<std::string>& affected,
                                 const CompileOptions& options, const ProbeHealth& health,
                                 PlanChanges& changes) {
  if (!usable_) return false;
  for (const std::string& key : affected) remove(key, changes);
  for (const std::string& key : affected) {
    auto pe = snapshot.privateEndpoints.find(key);
    if (pe == snapshot.privateEndpoints.end()) continue;
    // compile(context + this endpoint and its NIC), without copying the context.
    context_.privateEndpoints.emplace(key, pe->second);
    bool nicAdded = false;
    auto nic = snapshot.nics.find(pe->second.nicKey);
    if (nic != snapshot.nics.end() && isEndpointNic(nic->second)) {
      nicAdded = context_.nics.emplace(nic->first, nic->second).second;
    }
    HostPlan mini = compile(context_, options, health);
    context_.privateEndpoints.erase(key);
    if (nicAdded) context_.nics.erase(pe->second.nicKey);
    if (!add(key, mini, changes)) {
      usable_ = false;
      return false;
    }
  }
  // An item removed and added again unchanged (an endpoint recompiled to the same items) is no
  // change for the kernel.
  for (PlanPart part : kOwnedParts) {
    withPart(changes.removed, part, [&](auto& removed) {
      auto& added = itemsOf<ItemOf<decltype(removed)>>(changes.added);
      for (auto it = removed.begin(); it != removed.end();) {
        auto again = added.find(it->first);
        if (again != added.end() && sameIgnoringOwners(it->second, again->second)) {
          added.erase(again);
          it = removed.erase(it);
        } else {
          ++it;
        }
      }
    });
  }
  return true;
}

std::string planDifference(const HostPlan& a, const HostPlan& b) {
  static const char* const kNames[] = {"namespace", "link",      "address",        "route",
                                       "sysctl",    "nft table", "file",           "nft element",
                                       "probe",     "rule",      "proxy endpoint", "fast endpoint"};
  std::string out;
  for (PlanPart part : kOwnedParts) {
    if (!out.empty()) break;
    withPart(a, part, [&](const auto& x) {
      const auto& y = itemsOf<ItemOf<decltype(x)>>(b);
      for (const auto& [key, item] : x) {
        auto other = y.find(key);
        if (other == y.end()) {
          out = std::string(kNames[static_cast<int>(part)]) + " " + key + " only in the first";
          return;
        }
        if (!(item == other->second)) {
          std::string owners;
          for (const auto& o : item.owners) owners += " " + o;
          owners += " vs";
          for (const auto& o : other->second.owners) owners += " " + o;
          out = std::string(kNames[static_cast<int>(part)]) + " " + key + " differs (owners" +
                owners + ")";
          return;
        }
      }
      for (const auto& [key, item] : y) {
        if (!x.count(key)) {
          out = std::string(kNames[static_cast<int>(part)]) + " " + key + " only in the second";
          return;
        }
      }
    });
  }
  if (!out.empty()) return out;
  for (const auto& [key, status] : a.failures) {
    auto other = b.failures.find(key);
    if (other == b.failures.end()) return "failure " + key + " only in the first";
    if (!sameStatus(status, other->second)) return "failure " + key + " differs";
  }
  for (const auto& [key, status] : b.failures) {
    if (!a.failures.count(key)) return "failure " + key + " only in the second";
  }
  return "";
}

}  // namespace privlink::agent
