#include "agent/applier.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "dataplane/nft_batch.h"

namespace privlink::agent {
namespace {

using dataplane::InterfaceAddress;
using dataplane::LinkInfo;
using dataplane::Route;


// Deletes the conntrack entries of `ns` whose original destination is one of `addresses`, as one
// step (`step(description, action)`) with one conntrack dump for all of them: a dump walks the
// kernel's global conntrack hash, so one per address made converging N new endpoints
// O(N x buckets).
template <typename Step>
void flushConntrackTo(dataplane::Kernel& kernel, const std::string& ns,
                      std::vector<IpAddress> addresses, Step&& step) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  const std::string what = addresses.size() == 1
                               ? addresses.front().toString()
                               : std::to_string(addresses.size()) + " addresses (" +
                                     addresses.front().toString() + ", ...)";
  dataplane::ConntrackFilter filter;
  filter.originalDestinationIn = std::move(addresses);
  step("delete conntrack entries to " + what + " in " + ns, [&kernel, ns, filter]() -> Status {
    auto deleted = kernel.conntrackDelete(ns, filter);
    return deleted.ok() ? Status::Ok() : deleted.status();
  });
}

// What one owned namespace holds, as listed at the start of apply() and updated as steps succeed.
struct NamespaceState {
  std::map<std::string, LinkInfo> links;                // by name
  std::map<std::string, InterfaceAddress> addresses;    // by addressKey, owned ones only
  std::map<std::string, Route> routes;                  // by routeKey, owned ones only
  std::map<std::string, dataplane::RoutingRule> rules;  // by ruleKey (fwmark rules, all owned)
  std::set<std::string> tables;                         // "family name", owned ones only
};

bool ownedAddress(const InterfaceAddress& a) {
  if (a.kernelCreated || !a.address.isV4()) return false;
  return (a.address.v4Value() >> 24) != 127;
}

bool ownedRoute(const Route& r) {
  return !r.kernelCreated && r.destination.family() == IpFamily::kV4;
}

bool ownedTable(const std::string& name) { return name.rfind("pl", 0) == 0; }

std::string kindOf(LinkKind kind) {
  switch (kind) {
    case LinkKind::kLoopback:
      return "loopback";
    case LinkKind::kBridge:
      return "bridge";
    case LinkKind::kVeth:
      return "veth";
  }
  return "";
}

// The fingerprint in `comment "privlink <fp>"` of a listed table, "" if none.
std::string fingerprintOf(const std::string& listing) {
  static const std::string kMarker = "comment \"privlink ";
  auto pos = listing.find(kMarker);
  if (pos == std::string::npos) return "";
  pos += kMarker.size();
  auto end = listing.find('"', pos);
  return end == std::string::npos ? "" : listing.substr(pos, end - pos);
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\n");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> splitElements(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  bool inQuote = false;
  for (char c : text) {
    if (c == '"') inQuote = !inQuote;
    if (c == ',' && !inQuote) {
      if (!trim(current).empty()) out.push_back(trim(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!trim(current).empty()) out.push_back(trim(current));
  return out;
}

std::pair<std::string, std::string> splitKeyValue(const std::string& element) {
  auto pos = element.find(" : ");
  if (pos == std::string::npos) return {element, ""};
  return {trim(element.substr(0, pos)), trim(element.substr(pos + 3))};
}

// The address at `index` of a " . " concatenated key.
std::optional<IpAddress> keyPart(const std::string& key, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = key.find(" . ", start);
    if (start == std::string::npos) return std::nullopt;
    start += 3;
  }
  auto end = key.find(" . ", start);
  return IpAddress::parse(trim(key.substr(start, end == std::string::npos ? end : end - start)));
}

// The address whose conntrack entries a change of element `key` in `set` must flush (the set is
// in the table's flushOnChange), if any.
std::optional<IpAddress> flushAddressOf(const PlannedNftTable& table, const std::string& set,
                                        const std::string& key) {
  auto rule = table.flushOnChange.find(set);
  if (rule == table.flushOnChange.end()) return std::nullopt;
  return keyPart(key, rule->second);
}

bool idempotent(const Status& s, bool creating) {
  return s.ok() || (creating && s.code() == StatusCode::kAlreadyExists) ||
         (!creating && s.code() == StatusCode::kNotFound);
}

class Run {
 public:
  Run(dataplane::Kernel& kernel, const model::HostNaming& naming, const HostPlan& plan,
      std::map<std::string, std::string>& writtenFiles,
      std::map<std::string, AppliedNftNamespace>& nftMemory)
      : kernel_(kernel),
        naming_(naming),
        plan_(plan),
        written_files_(writtenFiles),
        nft_memory_(nftMemory) {}

  ApplyResult run() {
    if (!listActual()) {
      nft_memory_.clear();
      return std::move(result_);
    }
    // Memory of namespaces that are gone is void (a namespace of that name made later starts
    // from generation 1 again).
    for (auto it = nft_memory_.begin(); it != nft_memory_.end();) {
      it = existing_.count(it->first) ? std::next(it) : nft_memory_.erase(it);
    }
    deleteOrphans();
    create();
    rememberGenerations();
    return std::move(result_);
  }

 private:
  // Runs one mutating step; on a real failure records it against `owners` and returns false.
  bool step(const std::string& description, const std::vector<std::string>& owners, bool creating,
            const std::function<Status()>& fn) {
    ++result_.changes;
    result_.steps.push_back(description);
    Status s = fn();
    if (idempotent(s, creating)) return true;
    fail(owners, Status::Internal(description + ": " + s.message()));
    return false;
  }

  void fail(const std::vector<std::string>& owners, const Status& status) {
    if (owners.empty()) result_.unowned.push_back(status);
    for (const std::string& key : owners) result_.failures.emplace(key, status);
  }

  std::vector<std::string> ownersOfNamespace(const std::string& ns) const {
    auto it = plan_.namespaces.find(namespaceKey(ns));
    return it == plan_.namespaces.end() ? std::vector<std::string>{} : it->second.owners;
  }

  bool listActual() {
    auto namespaces = kernel_.listNamespaces();
    if (!namespaces.ok()) {
      // Without a listing nothing can be diffed: every planned resource fails this pass.
      for (const auto& [key, ns] : plan_.namespaces) {
        fail(ns.owners,
             Status::Internal("listing network namespaces: " + namespaces.status().message()));
      }
      return false;
    }
    for (const std::string& ns : *namespaces) {
      if (naming_.ownsNamespace(ns)) existing_[ns];
    }
    for (auto& [ns, state] : existing_) {
      Status listed = listNamespace(ns, state);
      if (!listed.ok()) {
        broken_.insert(ns);
        nft_memory_.erase(ns);
        fail(ownersOfNamespace(ns), Status::Internal("listing " + ns + ": " + listed.message()));
      }
    }
    return true;
  }

  Status listNamespace(const std::string& ns, NamespaceState& state) {
    ASSIGN_OR_RETURN(std::vector<LinkInfo> links, kernel_.listLinks(ns));
    for (LinkInfo& link : links) state.links[link.name] = std::move(link);
    ASSIGN_OR_RETURN(std::vector<InterfaceAddress> addresses, kernel_.listAddresses(ns));
    for (const InterfaceAddress& a : addresses) {
      if (ownedAddress(a)) state.addresses[addressKey(ns, a)] = a;
    }
    for (uint32_t table : {254u, kProxyRouteTable, kPeReplyRouteTable}) {
      ASSIGN_OR_RETURN(std::vector<Route> routes, kernel_.listRoutes(ns, table));
      for (const Route& r : routes) {
        if (ownedRoute(r)) state.routes[routeKey(ns, r)] = r;
      }
    }
    ASSIGN_OR_RETURN(std::vector<dataplane::RoutingRule> rules, kernel_.listRules(ns));
    for (const dataplane::RoutingRule& r : rules) state.rules[ruleKey(ns, r)] = r;
    ASSIGN_OR_RETURN(std::vector<std::string> tables, kernel_.nftListTables(ns));
    for (const std::string& t : tables) {
      auto space = t.find(' ');
      if (space != std::string::npos && ownedTable(t.substr(space + 1))) state.tables.insert(t);
    }
    return Status::Ok();
  }

  bool planned(const std::string& ns) const { return plan_.namespaces.count(namespaceKey(ns)) > 0; }

  // The namespace exists, was listed and is wanted: its contents may be diffed.
  NamespaceState* live(const std::string& ns) {
    if (broken_.count(ns)) return nullptr;
    auto it = existing_.find(ns);
    return it == existing_.end() ? nullptr : &it->second;
  }

  // ---- deletions ----------------------------------------------------------------------------

  void deleteOrphans() {
    for (auto& [ns, state] : existing_) {
      if (!planned(ns) || broken_.count(ns)) continue;
      for (const std::string& table : std::set<std::string>(state.tables)) {
        const std::string family = table.substr(0, table.find(' '));
        const std::string name = table.substr(table.find(' ') + 1);
        if (plan_.nftTables.count(nftTableKey(ns, family, name))) continue;
        if (step("delete nft table " + table + " in " + ns, {}, false,
                 [&] { return kernel_.nftApply(ns, "delete table " + table + "\n"); })) {
          state.tables.erase(table);
          committed_.insert(ns);
          auto memory = nft_memory_.find(ns);
          if (memory != nft_memory_.end()) memory->second.tables.erase(table);
        } else {
          nft_memory_.erase(ns);
        }
      }
      for (const auto& [key, rule] : std::map<std::string, dataplane::RoutingRule>(state.rules)) {
        if (plan_.rules.count(key)) continue;
        if (step("delete rule " + key, {}, false, [&] { return kernel_.deleteRule(ns, rule); })) {
          state.rules.erase(key);
        }
      }
      for (const auto& [key, route] : std::map<std::string, Route>(state.routes)) {
        if (plan_.routes.count(key)) continue;
        if (step("delete route " + key, {}, false,
                 [&] { return kernel_.deleteRoute(ns, route); })) {
          state.routes.erase(key);
        }
      }
      for (const auto& [key, address] : std::map<std::string, InterfaceAddress>(state.addresses)) {
        if (plan_.addresses.count(key)) continue;
        if (step("delete address " + key, {}, false,
                 [&] { return kernel_.deleteAddress(ns, address); })) {
          state.addresses.erase(key);
        }
      }
      for (const auto& [name, link] : std::map<std::string, LinkInfo>(state.links)) {
        if (name == "lo") continue;
        auto want = plan_.links.find(linkKey(ns, name));
        bool keep = want != plan_.links.end() && link.kind == kindOf(want->second.kind);
        if (keep && want->second.kind == LinkKind::kVeth && !broken_.count(want->second.peerNs)) {
          // Half a pair (its peer is gone) cannot be completed: delete it and make a new pair.
          // (When the peer's namespace could not be listed we cannot tell, so leave it.)
          auto peer = existing_.find(want->second.peerNs);
          keep = peer != existing_.end() && peer->second.links.count(want->second.peerName);
        }
        if (keep) continue;
        std::vector<std::string> owners;
        if (want != plan_.links.end()) owners = want->second.owners;
        if (step("delete link " + name + " in " + ns, owners, false,
                 [&] { return kernel_.deleteLink(ns, name); })) {
          forgetLink(ns, name);
        }
      }
    }
    for (const auto& [ns, state] : std::map<std::string, NamespaceState>(existing_)) {
      if (planned(ns)) continue;
      (void)step("remove files of namespace " + ns, {}, false,
                 [&] { return kernel_.removeNamespaceFiles(ns); });
      nft_memory_.erase(ns);
      if (step("delete namespace " + ns, {}, false, [&] { return kernel_.deleteNamespace(ns); })) {
        // Veth peers of its links vanish with it.
        for (const auto& [name, link] : state.links) forgetPeersOf(ns, name);
        existing_.erase(ns);
        broken_.erase(ns);
      }
    }
  }

  void forgetPeersOf(const std::string& ns, const std::string& name) {
    for (auto& [otherNs, state] : existing_) {
      for (auto it = state.links.begin(); it != state.links.end();) {
        auto want = plan_.links.find(linkKey(otherNs, it->first));
        bool isPeer =
            want != plan_.links.end() && want->second.peerNs == ns && want->second.peerName == name;
        it = isPeer ? state.links.erase(it) : std::next(it);
      }
    }
  }

  void forgetLink(const std::string& ns, const std::string& name) {
    if (auto* state = live(ns)) {
      auto link = state->links.find(name);
      if (link != state->links.end() && link->second.kind == "veth") forgetPeersOf(ns, name);
      state->links.erase(name);
      for (auto it = state->addresses.begin(); it != state->addresses.end();) {
        it = it->second.link == name ? state->addresses.erase(it) : std::next(it);
      }
      for (auto it = state->routes.begin(); it != state->routes.end();) {
        it = it->second.device == name ? state->routes.erase(it) : std::next(it);
      }
    }
  }

  // ---- creations ----------------------------------------------------------------------------

  void create() {
    for (const auto& [key, ns] : plan_.namespaces) {
      if (existing_.count(ns.name)) continue;
      result_.newNamespaces.insert(ns.name);
      nft_memory_.erase(ns.name);
      if (step("create namespace " + ns.name, ns.owners, true,
               [&] { return kernel_.createNamespace(ns.name); })) {
        // A new namespace holds only lo, down; files written for an earlier one may be gone.
        existing_[ns.name].links["lo"] = LinkInfo{"lo", "loopback", "", false, 0, ""};
        for (auto it = written_files_.begin(); it != written_files_.end();) {
          it = it->first.rfind(ns.name + "/", 0) == 0 ? written_files_.erase(it) : std::next(it);
        }
      } else {
        broken_.insert(ns.name);
        nft_memory_.erase(ns.name);
      }
    }
    createLinks();
    for (const auto& [key, link] : plan_.links) {
      NamespaceState* state = live(link.ns);
      if (state == nullptr || !state->links.count(link.name)) continue;
      LinkInfo& actual = state->links[link.name];
      if (actual.master == link.master) continue;
      std::string what = link.master.empty()
                             ? "release link " + link.name + " from its bridge"
                             : "enslave link " + link.name + " to bridge " + link.master;
      if (step(what + " in " + link.ns, link.owners, true,
               [&] { return kernel_.setLinkMaster(link.ns, link.name, link.master); })) {
        actual.master = link.master;
      }
    }
    for (const auto& [key, address] : plan_.addresses) {
      NamespaceState* state = live(address.ns);
      if (state == nullptr || state->addresses.count(key)) continue;
      if (!state->links.count(address.address.link)) continue;  // its link failed; reported
      if (step("add address " + key, address.owners, true,
               [&] { return kernel_.addAddress(address.ns, address.address); })) {
        state->addresses[key] = address.address;
      }
    }
    for (const auto& [key, link] : plan_.links) {
      NamespaceState* state = live(link.ns);
      if (state == nullptr || !state->links.count(link.name)) continue;
      LinkInfo& actual = state->links[link.name];
      if (actual.up) continue;
      if (step("set link " + link.name + " up in " + link.ns, link.owners, true,
               [&] { return kernel_.setLinkUp(link.ns, link.name, true); })) {
        actual.up = true;
      }
    }
    // Routes to a link first: a route via a gateway needs the route that reaches the gateway.
    for (bool viaGateway : {false, true}) {
      for (const auto& [key, route] : plan_.routes) {
        if (route.route.gateway.has_value() != viaGateway) continue;
        NamespaceState* state = live(route.ns);
        if (state == nullptr || state->routes.count(key)) continue;
        if (!route.route.device.empty() && !state->links.count(route.route.device)) continue;
        if (step("add route " + key, route.owners, true,
                 [&] { return kernel_.addRoute(route.ns, route.route); })) {
          state->routes[key] = route.route;
        }
      }
    }
    for (const auto& [key, rule] : plan_.rules) {
      NamespaceState* state = live(rule.ns);
      if (state == nullptr || state->rules.count(key)) continue;
      if (step("add rule " + key, rule.owners, true,
               [&] { return kernel_.addRule(rule.ns, rule.rule); })) {
        state->rules[key] = rule.rule;
      }
    }
    for (const auto& [key, sysctl] : plan_.sysctls) {
      if (live(sysctl.ns) == nullptr) continue;
      auto value = kernel_.getSysctl(sysctl.ns, sysctl.key);
      if (value.ok() && *value == sysctl.value) continue;
      if (sysctl.optional && !value.ok() && value.status().code() == StatusCode::kNotFound) {
        continue;
      }
      (void)step("set sysctl " + sysctl.key + "=" + sysctl.value + " in " + sysctl.ns,
                 sysctl.owners, true,
                 [&] { return kernel_.setSysctl(sysctl.ns, sysctl.key, sysctl.value); });
    }
    for (const auto& [key, table] : plan_.nftTables) {
      NamespaceState* state = live(table.ns);
      if (state == nullptr) continue;
      applyTable(*state, table);
    }
    for (const auto& [key, file] : plan_.files) {
      if (live(file.ns) == nullptr) continue;
      auto it = written_files_.find(key);
      if (it != written_files_.end() && it->second == file.content) continue;
      if (step("write /etc/netns/" + key, file.owners, true,
               [&] { return kernel_.writeNamespaceFile(file.ns, file.name, file.content); })) {
        written_files_[key] = file.content;
      }
    }
  }

  // The namespace's nf_tables generation now, read once per pass; nullopt if it cannot be read.
  std::optional<uint32_t> generationAtStart(const std::string& ns) {
    auto it = generation_.find(ns);
    if (it != generation_.end()) return it->second;
    auto generation = kernel_.nftGeneration(ns);
    std::optional<uint32_t> value;
    if (generation.ok()) value = *generation;
    generation_[ns] = value;
    return value;
  }

  // What this Applier committed to table `name` of `ns`, if that still describes the kernel
  // (nobody committed an nftables transaction in `ns` since); nullptr when it must be listed.
  AppliedNftTable* remembered(const std::string& ns, const std::string& name) {
    auto memory = nft_memory_.find(ns);
    if (memory == nft_memory_.end()) {
      (void)generationAtStart(ns);  // remembered after this pass
      return nullptr;
    }
    auto generation = generationAtStart(ns);
    if (!generation || *generation != memory->second.generation) {
      nft_memory_.erase(memory);
      return nullptr;
    }
    auto table = memory->second.tables.find(name);
    return table == memory->second.tables.end() ? nullptr : &table->second;
  }

  // After the pass: the generation to which the memory of each namespace applies. A namespace
  // this pass committed to is read again (its own commits moved the generation); one it only
  // listed keeps the generation read before listing.
  void rememberGenerations() {
    for (auto it = nft_memory_.begin(); it != nft_memory_.end();) {
      const std::string& ns = it->first;
      std::optional<uint32_t> generation;
      if (committed_.count(ns)) {
        auto now = kernel_.nftGeneration(ns);
        if (now.ok()) generation = *now;
      } else {
        auto start = generation_.find(ns);
        if (start != generation_.end()) generation = start->second;
      }
      if (!generation) {
        it = nft_memory_.erase(it);
        continue;
      }
      it->second.generation = *generation;
      ++it;
    }
  }

  // `listing` (nft list table output) as remembered elements keyed like the plan.
  static AppliedNftTable fromListing(const std::string& prefix, const std::string& listing) {
    AppliedNftTable out;
    out.fingerprint = fingerprintOf(listing);
    NftTableContents contents = parseNftTableContents(listing);
    for (const auto& [set, elements] : contents.sets) {
      for (const auto& [k, v] : elements) out.elements.emplace(prefix + set + "|" + k, v);
    }
    for (const auto& [counter, value] : contents.counters) {
      out.elements.emplace(prefix + "|" + counter, "");
    }
    return out;
  }

  // Loads a table when it is missing or its fingerprint changed (with all its planned elements,
  // one atomic nftApply batch), else adds/deletes only the elements that differ (one raw element
  // batch). What the table holds comes from the memory when it is current (see applier.h), else
  // from `nft list table`. Afterwards deletes the conntrack entries of changed elements of the
  // table's flushOnChange sets.
  void applyTable(NamespaceState& state, const PlannedNftTable& table) {
    const std::string name = table.family + " " + table.name;
    const std::string prefix = table.ns + " " + table.family + " " + table.name + " ";
    // Planned elements of this table: a range of plan_.nftElements, sorted like the memory.
    const auto planBegin = plan_.nftElements.lower_bound(prefix);
    auto planEnd = planBegin;
    while (planEnd != plan_.nftElements.end() &&
           planEnd->first.compare(0, prefix.size(), prefix) == 0) {
      ++planEnd;
    }
    AppliedNftTable listed;
    AppliedNftTable* actual = nullptr;
    bool reload = true;
    if (state.tables.count(name)) {
      actual = remembered(table.ns, name);
      if (actual == nullptr) {
        auto listing = kernel_.nftListTable(table.ns, table.family, table.name);
        if (listing.ok()) {
          listed = fromListing(prefix, *listing);
          actual = &listed;
        }
      }
      if (actual != nullptr) reload = actual->fingerprint != table.fingerprint;
    }
    std::vector<std::string> owners;
    // Added, removed or changed elements of flushOnChange sets, for conntrack flushing.
    std::vector<IpAddress> flush;
    auto note = [&](const std::string& set, const std::string& key) {
      if (auto address = flushAddressOf(table, set, key)) flush.push_back(*address);
    };
    auto addOwners = [&](const PlannedNftElement& e) {
      owners.insert(owners.end(), e.owners.begin(), e.owners.end());
    };
    // One merge of the two sorted maps: remembered/listed elements against planned ones.
    std::vector<dataplane::NftElementChange> deleteElements, deleteCounters, addCounters,
        addElements;
    std::vector<const std::string*> forget;  // keys of deleted elements (memory update)
    // Planned elements added or changed (memory update).
    std::vector<std::map<std::string, PlannedNftElement>::const_iterator> remember;
    auto a = actual != nullptr ? actual->elements.begin() : listed.elements.end();
    const auto aEnd = actual != nullptr ? actual->elements.end() : listed.elements.end();
    auto p = planBegin;
    auto setAndKey = [&](const std::string& full) {
      const size_t bar = full.find('|', prefix.size());
      return std::make_pair(full.substr(prefix.size(), bar - prefix.size()), full.substr(bar + 1));
    };
    while (a != aEnd || p != planEnd) {
      const int order = a == aEnd ? 1 : p == planEnd ? -1 : a->first.compare(p->first);
      if (order < 0) {  // only in the kernel: delete
        auto [set, key] = setAndKey(a->first);
        note(set, key);
        (set.empty() ? deleteCounters : deleteElements).push_back({false, set, key, ""});
        forget.push_back(&a->first);
        ++a;
      } else if (order > 0) {  // only planned: add
        const PlannedNftElement& e = p->second;
        if (!e.set.empty()) note(e.set, e.key);  // flushOnChange: also on addition
        (e.set.empty() ? addCounters : addElements).push_back({true, e.set, e.key, e.value});
        addOwners(e);
        remember.push_back(p);
        ++p;
      } else {
        const PlannedNftElement& e = p->second;
        if (a->second != e.value) {
          note(e.set, e.key);
          deleteElements.push_back({false, e.set, e.key, ""});
          addElements.push_back({true, e.set, e.key, e.value});
          addOwners(e);
          remember.push_back(p);
        }
        ++a;
        ++p;
      }
    }
    std::vector<dataplane::NftElementChange> changes = std::move(deleteElements);
    for (auto* part : {&deleteCounters, &addCounters, &addElements}) {
      changes.insert(changes.end(), std::make_move_iterator(part->begin()),
                     std::make_move_iterator(part->end()));
    }
    if (!reload && changes.empty()) {
      if (actual == &listed) nft_memory_[table.ns].tables[name] = std::move(listed);
      return;
    }
    if (reload) owners = table.owners;
    std::sort(owners.begin(), owners.end());
    owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
    bool ok = false;
    if (reload) {
      std::ostringstream batch;
      if (state.tables.count(name)) batch << "delete table " << name << "\n";
      batch << table.text;
      const std::string where = " " + table.family + " " + table.name + " ";
      for (bool counters : {true, false}) {
        for (auto it = planBegin; it != planEnd; ++it) {
          const PlannedNftElement& e = it->second;
          if (e.set.empty() != counters) continue;
          if (counters) {
            batch << "add counter" << where << e.key << "\n";
          } else {
            batch << "add element" << where << e.set << " { " << e.key
                  << (e.value.empty() ? "" : " : " + e.value) << " }\n";
            note(e.set, e.key);  // a reload flushes every flushOnChange element
          }
        }
      }
      const std::string text = batch.str();
      ok = step("load nft table " + name + " in " + table.ns, owners, true,
                [&] { return kernel_.nftApply(table.ns, text); });
    } else {
      ok = step("update " + std::to_string(changes.size()) + " elements of nft table " + name +
                    " in " + table.ns,
                owners, true, [&]() -> Status {
                  Status raw =
                      kernel_.nftUpdateElements(table.ns, table.family, table.name, changes);
                  if (raw.code() != StatusCode::kInvalidArgument) return raw;
                  // An element the raw path cannot encode: nft parses it.
                  return kernel_.nftApply(table.ns,
                                          dataplane::nftElementChangesText(table.family, table.name, changes));
                });
    }
    if (!ok) {
      nft_memory_.erase(table.ns);
      return;
    }
    state.tables.insert(name);
    committed_.insert(table.ns);
    AppliedNftTable& memory = nft_memory_[table.ns].tables[name];
    if (reload) {
      memory.elements.clear();
      for (auto it = planBegin; it != planEnd; ++it) {
        memory.elements.emplace_hint(memory.elements.end(), it->first, it->second.value);
      }
    } else {
      if (actual == &listed) {
        memory = std::move(listed);
        // `forget` pointed into `listed`'s nodes, which moved with the map: still valid.
      }
      for (const std::string* key : forget) memory.elements.erase(*key);
      for (const auto& it : remember) memory.elements.insert_or_assign(it->first, it->second.value);
    }
    memory.fingerprint = table.fingerprint;
    if (flush.empty()) return;
    flushConntrackTo(kernel_, table.ns, std::move(flush),
                     [&](const std::string& what, std::function<Status()> action) {
                       (void)step(what, {}, false, std::move(action));
                     });
  }

  void createLinks() {
    for (const auto& [key, link] : plan_.links) {
      NamespaceState* state = live(link.ns);
      if (state == nullptr || state->links.count(link.name)) continue;
      switch (link.kind) {
        case LinkKind::kLoopback:
          break;  // every namespace has one
        case LinkKind::kBridge:
          if (step("create bridge " + link.name + " in " + link.ns, link.owners, true,
                   [&] { return kernel_.createBridge(link.ns, link.name); })) {
            state->links[link.name] = LinkInfo{link.name, "bridge", "", false, 0, ""};
          }
          break;
        case LinkKind::kVeth: {
          NamespaceState* peer = live(link.peerNs);
          if (peer == nullptr) break;                   // the peer namespace failed; reported there
          if (peer->links.count(link.peerName)) break;  // half pairs were deleted above
          if (step("create veth " + link.name + " in " + link.ns + " (peer " + link.peerName +
                       " in " + link.peerNs + ")",
                   link.owners, true, [&] {
                     return kernel_.createVethPair(link.ns, link.name, link.peerNs, link.peerName);
                   })) {
            state->links[link.name] = LinkInfo{link.name, "veth", "", false, 0, ""};
            peer->links[link.peerName] = LinkInfo{link.peerName, "veth", "", false, 0, ""};
          }
          break;
        }
      }
    }
  }

  dataplane::Kernel& kernel_;
  const model::HostNaming& naming_;
  const HostPlan& plan_;
  std::map<std::string, std::string>& written_files_;
  std::map<std::string, AppliedNftNamespace>& nft_memory_;
  std::map<std::string, std::optional<uint32_t>> generation_;  // at first use this pass, by ns
  std::set<std::string> committed_;  // namespaces with an nft commit of ours this pass
  std::map<std::string, NamespaceState> existing_;  // owned namespaces that exist
  std::set<std::string> broken_;  // namespaces that could not be listed or created
  ApplyResult result_;
};

}  // namespace

Applier::Applier(dataplane::Kernel& kernel, model::HostNaming naming,
                 std::chrono::milliseconds verifyInterval)
    : kernel_(kernel), naming_(std::move(naming)), verify_interval_(verifyInterval) {}

ApplyResult Applier::apply(const HostPlan& plan) {
  // Files of namespaces that are not planned any more are gone with them.
  for (auto it = written_files_.begin(); it != written_files_.end();) {
    it = plan.files.count(it->first) ? std::next(it) : written_files_.erase(it);
  }
  // The periodic full verification: list every table this pass. The interval counts from the
  // end of the last verifying pass, so a long pass (a first convergence of 10,000 endpoints takes
  // minutes) is not followed at once by another full listing.
  const bool verify = std::chrono::steady_clock::now() - last_verified_ >= verify_interval_;
  if (verify) nft_memory_.clear();
  ApplyResult result = Run(kernel_, naming_, plan, written_files_, nft_memory_).run();
  if (verify) last_verified_ = std::chrono::steady_clock::now();
  clean_ = result.failures.empty() && result.unowned.empty();
  return result;
}

namespace {

// The parts of a plan applyChanges() can follow.
bool deltaOnly(const HostPlan& p) {
  return p.namespaces.empty() && p.links.empty() && p.sysctls.empty() && p.nftTables.empty() &&
         p.files.empty();
}

}  // namespace

ApplyResult Applier::applyChanges(const HostPlan& plan, const HostPlan& removed,
                                  const HostPlan& added) {
  const bool verify = std::chrono::steady_clock::now() - last_verified_ >= verify_interval_;
  if (!clean_ || verify || !deltaOnly(removed) || !deltaOnly(added)) return apply(plan);

  // The nft tables the changes touch, each with its planned table and current memory.
  struct TableChanges {
    const PlannedNftTable* table = nullptr;
    AppliedNftTable* memory = nullptr;
    std::vector<const PlannedNftElement*> removed, added;
  };
  std::map<std::string, TableChanges> tables;  // by nftTableKey
  std::map<std::string, std::optional<uint32_t>> generations;
  for (const HostPlan* part : {&removed, &added}) {
    for (const auto& [key, e] : part->nftElements) {
      const std::string tableKey = nftTableKey(e.ns, e.family, e.table);
      TableChanges& t = tables[tableKey];
      if (t.table == nullptr) {
        auto planned = plan.nftTables.find(tableKey);
        auto memory = nft_memory_.find(e.ns);
        if (planned == plan.nftTables.end() || memory == nft_memory_.end()) return apply(plan);
        auto generation = generations.find(e.ns);
        if (generation == generations.end()) {
          auto now = kernel_.nftGeneration(e.ns);
          generation =
              generations.emplace(e.ns, now.ok() ? std::optional(*now) : std::nullopt).first;
        }
        if (!generation->second || *generation->second != memory->second.generation) {
          nft_memory_.erase(memory);
          return apply(plan);
        }
        auto remembered = memory->second.tables.find(e.family + " " + e.table);
        if (remembered == memory->second.tables.end() ||
            remembered->second.fingerprint != planned->second.fingerprint) {
          return apply(plan);
        }
        t.table = &planned->second;
        t.memory = &remembered->second;
      }
      (part == &removed ? t.removed : t.added).push_back(&e);
    }
  }

  ApplyResult result;
  auto step = [&](const std::string& description, const std::vector<std::string>& owners,
                  bool creating, const std::function<Status()>& fn) {
    ++result.changes;
    result.steps.push_back(description);
    Status s = fn();
    if (idempotent(s, creating)) return true;
    const Status failure = Status::Internal(description + ": " + s.message());
    if (owners.empty()) result.unowned.push_back(failure);
    for (const std::string& key : owners) result.failures.emplace(key, failure);
    return false;
  };
  // Deletions, innermost first; then creations (routes to a link before routes via a gateway).
  for (const auto& [key, rule] : removed.rules) {
    (void)step("delete rule " + key, {}, false,
               [&] { return kernel_.deleteRule(rule.ns, rule.rule); });
  }
  for (const auto& [key, route] : removed.routes) {
    (void)step("delete route " + key, {}, false,
               [&] { return kernel_.deleteRoute(route.ns, route.route); });
  }
  for (const auto& [key, address] : removed.addresses) {
    (void)step("delete address " + key, {}, false,
               [&] { return kernel_.deleteAddress(address.ns, address.address); });
  }
  for (const auto& [key, address] : added.addresses) {
    (void)step("add address " + key, address.owners, true,
               [&] { return kernel_.addAddress(address.ns, address.address); });
  }
  for (bool viaGateway : {false, true}) {
    for (const auto& [key, route] : added.routes) {
      if (route.route.gateway.has_value() != viaGateway) continue;
      (void)step("add route " + key, route.owners, true,
                 [&] { return kernel_.addRoute(route.ns, route.route); });
    }
  }
  for (const auto& [key, rule] : added.rules) {
    (void)step("add rule " + key, rule.owners, true,
               [&] { return kernel_.addRule(rule.ns, rule.rule); });
  }

  std::set<std::string> dropped;  // namespaces whose nftables memory is void after this call
  for (auto& [tableKey, t] : tables) {
    const PlannedNftTable& table = *t.table;
    std::vector<dataplane::NftElementChange> deleteElements, deleteCounters, addCounters,
        addElements;
    std::vector<std::string> owners;
    std::vector<IpAddress> flush;
    auto note = [&](const std::string& set, const std::string& key) {
      if (auto address = flushAddressOf(table, set, key)) flush.push_back(*address);
    };
    std::vector<std::string> forget;
    std::vector<const PlannedNftElement*> remember;
    for (const PlannedNftElement* e : t.removed) {
      const std::string key = nftElementKey(e->ns, e->family, e->table, e->set, e->key);
      if (!t.memory->elements.count(key)) continue;  // not in the kernel: nothing to delete
      note(e->set, e->key);
      (e->set.empty() ? deleteCounters : deleteElements).push_back({false, e->set, e->key, ""});
      forget.push_back(key);
    }
    for (const PlannedNftElement* e : t.added) {
      const std::string key = nftElementKey(e->ns, e->family, e->table, e->set, e->key);
      auto held = t.memory->elements.find(key);
      const bool deleting = std::find(forget.begin(), forget.end(), key) != forget.end();
      if (held != t.memory->elements.end() && !deleting) {
        if (held->second == e->value) continue;                 // already there
        deleteElements.push_back({false, e->set, e->key, ""});  // a changed value
      }
      if (!e->set.empty()) note(e->set, e->key);
      (e->set.empty() ? addCounters : addElements).push_back({true, e->set, e->key, e->value});
      owners.insert(owners.end(), e->owners.begin(), e->owners.end());
      remember.push_back(e);
    }
    std::vector<dataplane::NftElementChange> changes = std::move(deleteElements);
    for (auto* part : {&deleteCounters, &addCounters, &addElements}) {
      changes.insert(changes.end(), std::make_move_iterator(part->begin()),
                     std::make_move_iterator(part->end()));
    }
    if (changes.empty()) continue;
    std::sort(owners.begin(), owners.end());
    owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
    const std::string name = table.family + " " + table.name;
    const bool ok =
        step("update " + std::to_string(changes.size()) + " elements of nft table " + name +
                 " in " + table.ns,
             owners, true, [&]() -> Status {
               Status raw = kernel_.nftUpdateElements(table.ns, table.family, table.name, changes);
               if (raw.code() != StatusCode::kInvalidArgument) return raw;
               return kernel_.nftApply(table.ns,
                                       dataplane::nftElementChangesText(table.family, table.name, changes));
             });
    if (!ok) {
      dropped.insert(table.ns);  // erased below: other tables of `tables` point into it
      continue;
    }
    for (const std::string& key : forget) t.memory->elements.erase(key);
    for (const PlannedNftElement* e : remember) {
      t.memory->elements.insert_or_assign(nftElementKey(e->ns, e->family, e->table, e->set, e->key),
                                          e->value);
    }
    // Our own commit moved the generation: the memory describes the kernel at the new one.
    auto now = kernel_.nftGeneration(table.ns);
    if (now.ok()) {
      nft_memory_[table.ns].generation = *now;
    } else {
      dropped.insert(table.ns);
    }
    if (flush.empty()) continue;
    flushConntrackTo(kernel_, table.ns, std::move(flush),
                     [&](const std::string& what, std::function<Status()> action) {
                       (void)step(what, {}, false, std::move(action));
                     });
  }
  for (const std::string& ns : dropped) nft_memory_.erase(ns);
  clean_ = result.failures.empty() && result.unowned.empty();
  return result;
}

NftTableContents parseNftTableContents(const std::string& listing) {
  NftTableContents out;
  std::istringstream lines(listing);
  std::string current;     // set/map being read (pretty form)
  std::string counter;     // counter block being read
  std::string pendingSet;  // set whose "elements = {" spans lines
  std::string pendingText;
  bool collecting = false;
  auto flushElements = [&](const std::string& set, const std::string& text) {
    for (const std::string& element : splitElements(text)) {
      auto [k, v] = splitKeyValue(element);
      out.sets[set][k] = v;
    }
  };
  for (std::string raw; std::getline(lines, raw);) {
    const std::string line = trim(raw);
    if (collecting) {
      auto close = line.find('}');
      pendingText += " " + (close == std::string::npos ? line : line.substr(0, close));
      if (close != std::string::npos) {
        flushElements(pendingSet, pendingText);
        collecting = false;
      }
      continue;
    }
    std::istringstream words(line);
    std::string w1, w2, w3, w4, w5;
    words >> w1 >> w2 >> w3 >> w4 >> w5;
    // Command lines: add|delete element F T S { ... } / add|delete counter F T N
    if ((w1 == "add" || w1 == "delete" || w1 == "create") && (w2 == "element" || w2 == "counter")) {
      if (w2 == "counter") {
        if (w1 == "delete") {
          out.counters.erase(w5);
        } else {
          out.counters[w5];
        }
        continue;
      }
      auto open = line.find('{');
      auto close = line.rfind('}');
      if (open == std::string::npos || close == std::string::npos || close < open) continue;
      const std::string body = line.substr(open + 1, close - open - 1);
      if (w1 == "delete") {
        for (const std::string& element : splitElements(body)) {
          out.sets[w5].erase(splitKeyValue(element).first);
        }
      } else {
        flushElements(w5, body);
      }
      continue;
    }
    // Pretty form and one-line declarations: "map NAME {" / "set NAME { type ...; }".
    if ((w1 == "map" || w1 == "set") && w3 == "{") {
      out.sets[w2];
      if (line.back() == '{') current = w2;
      continue;
    }
    if (w1 == "counter" && w3 == "{") {
      out.counters[w2];
      if (line.back() == '{') counter = w2;
      continue;
    }
    if (!counter.empty()) {
      if (w1 == "packets") {
        out.counters[counter].packets = std::strtoull(w2.c_str(), nullptr, 10);
        out.counters[counter].bytes = std::strtoull(w4.c_str(), nullptr, 10);
      }
      if (line == "}") counter.clear();
      continue;
    }
    if (!current.empty()) {
      if (line.rfind("elements = {", 0) == 0) {
        std::string rest = line.substr(std::string("elements = {").size());
        auto close = rest.find('}');
        if (close != std::string::npos) {
          flushElements(current, rest.substr(0, close));
        } else {
          pendingSet = current;
          pendingText = rest;
          collecting = true;
        }
      } else if (line == "}") {
        current.clear();
      }
    }
  }
  return out;
}

Status removeOwnedNamespaces(dataplane::Kernel& kernel, const model::HostNaming& naming) {
  ASSIGN_OR_RETURN(std::vector<std::string> namespaces, kernel.listNamespaces());
  Status first;
  for (const std::string& ns : namespaces) {
    if (!naming.ownsNamespace(ns)) continue;
    Status files = kernel.removeNamespaceFiles(ns);
    if (!idempotent(files, false) && first.ok()) first = files;
    Status deleted = kernel.deleteNamespace(ns);
    if (!idempotent(deleted, false) && first.ok()) first = deleted;
  }
  return first;
}

}  // namespace privlink::agent
