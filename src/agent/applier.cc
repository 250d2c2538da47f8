#include "agent/applier.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

namespace privlink::agent {
namespace {

using dataplane::InterfaceAddress;
using dataplane::LinkInfo;
using dataplane::Route;

// What one owned namespace holds, as listed at the start of apply() and updated as steps succeed.
struct NamespaceState {
  std::map<std::string, LinkInfo> links;              // by name
  std::map<std::string, InterfaceAddress> addresses;  // by addressKey, owned ones only
  std::map<std::string, Route> routes;                // by routeKey, owned ones only
  std::map<std::string, dataplane::RoutingRule> rules;  // by ruleKey (fwmark rules, all owned)
  std::set<std::string> tables;                       // "family name", owned ones only
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

bool idempotent(const Status& s, bool creating) {
  return s.ok() || (creating && s.code() == StatusCode::kAlreadyExists) ||
         (!creating && s.code() == StatusCode::kNotFound);
}

class Run {
 public:
  Run(dataplane::Kernel& kernel, const model::HostNaming& naming, const HostPlan& plan,
      std::map<std::string, std::string>& writtenFiles)
      : kernel_(kernel), naming_(naming), plan_(plan), written_files_(writtenFiles) {}

  ApplyResult run() {
    if (!listActual()) return std::move(result_);
    deleteOrphans();
    create();
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
    for (uint32_t table : {254u, kProxyRouteTable}) {
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
        }
      }
      for (const auto& [key, rule] : std::map<std::string, dataplane::RoutingRule>(state.rules)) {
        if (plan_.rules.count(key)) continue;
        if (step("delete rule " + key, {}, false,
                 [&] { return kernel_.deleteRule(ns, rule); })) {
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
      if (step("create namespace " + ns.name, ns.owners, true,
               [&] { return kernel_.createNamespace(ns.name); })) {
        // A new namespace holds only lo, down; files written for an earlier one may be gone.
        existing_[ns.name].links["lo"] = LinkInfo{"lo", "loopback", "", false, 0, ""};
        for (auto it = written_files_.begin(); it != written_files_.end();) {
          it = it->first.rfind(ns.name + "/", 0) == 0 ? written_files_.erase(it) : std::next(it);
        }
      } else {
        broken_.insert(ns.name);
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

  // Loads a table when it is missing or its fingerprint changed (with all its planned elements,
  // one atomic batch), else adds/deletes only the elements that differ (one batch). Afterwards
  // deletes the conntrack entries of removed elements of the table's flushOnChange sets.
  void applyTable(NamespaceState& state, const PlannedNftTable& table) {
    const std::string name = table.family + " " + table.name;
    const std::string prefix = nftElementKey(table.ns, table.family, table.name, "", "");
    const std::string setPrefix = table.ns + " " + table.family + " " + table.name + " ";
    // Planned elements of this table.
    std::map<std::string, std::map<std::string, const PlannedNftElement*>> wanted;  // set -> key
    for (auto it = plan_.nftElements.lower_bound(setPrefix);
         it != plan_.nftElements.end() && it->first.rfind(setPrefix, 0) == 0; ++it) {
      wanted[it->second.set][it->second.key] = &it->second;
    }
    (void)prefix;
    NftTableContents actual;
    bool reload = true;
    if (state.tables.count(name)) {
      auto listing = kernel_.nftListTable(table.ns, table.family, table.name);
      if (listing.ok()) {
        actual = parseNftTableContents(*listing);
        reload = fingerprintOf(*listing) != table.fingerprint;
      }
    }
    std::vector<std::string> owners;
    std::ostringstream batch;
    int changed = 0;
    // Added, removed or changed elements of flushOnChange sets, for conntrack flushing.
    std::vector<IpAddress> flush;
    auto noteRemoved = [&](const std::string& set, const std::string& key) {
      auto rule = table.flushOnChange.find(set);
      if (rule == table.flushOnChange.end()) return;
      if (auto address = keyPart(key, rule->second)) flush.push_back(*address);
    };
    const std::string where = " " + table.family + " " + table.name + " ";
    if (reload) {
      if (state.tables.count(name)) batch << "delete table " << name << "\n";
      batch << table.text;
      owners = table.owners;
      for (const auto& [set, elements] : actual.sets) {
        for (const auto& [k, v] : elements) {
          auto w = wanted.find(set);
          if (w == wanted.end() || !w->second.count(k) || w->second.at(k)->value != v) {
            noteRemoved(set, k);
          }
        }
      }
    } else {
      // Deletions first (elements, then counters they may reference).
      for (const auto& [set, elements] : actual.sets) {
        for (const auto& [k, v] : elements) {
          auto w = wanted.find(set);
          const PlannedNftElement* want =
              w == wanted.end() || !w->second.count(k) ? nullptr : w->second.at(k);
          if (want != nullptr && want->value == v) continue;
          batch << "delete element" << where << set << " { " << k << " }\n";
          ++changed;
          noteRemoved(set, k);
          if (want != nullptr) owners.insert(owners.end(), want->owners.begin(), want->owners.end());
        }
      }
      for (const auto& [counter, value] : actual.counters) {
        auto w = wanted.find("");
        if (w != wanted.end() && w->second.count(counter)) continue;
        batch << "delete counter" << where << counter << "\n";
        ++changed;
      }
    }
    // Additions: counters, then elements.
    auto present = [&](const std::string& set, const std::string& k, const std::string& v) {
      if (reload) return false;
      auto a = actual.sets.find(set);
      if (set.empty()) return actual.counters.count(k) > 0;
      return a != actual.sets.end() && a->second.count(k) && a->second.at(k) == v;
    };
    for (bool counters : {true, false}) {
      for (const auto& [set, elements] : wanted) {
        if (set.empty() != counters) continue;
        for (const auto& [k, element] : elements) {
          if (present(set, k, element->value)) continue;
          if (set.empty()) {
            batch << "add counter" << where << k << "\n";
          } else {
            noteRemoved(set, k);  // flushOnChange: also on addition
            batch << "add element" << where << set << " { " << k
                  << (element->value.empty() ? "" : " : " + element->value) << " }\n";
          }
          ++changed;
          owners.insert(owners.end(), element->owners.begin(), element->owners.end());
        }
      }
    }
    if (!reload && changed == 0) return;
    std::sort(owners.begin(), owners.end());
    owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
    const std::string what = reload ? "load nft table " + name + " in " + table.ns
                                    : "update " + std::to_string(changed) + " elements of nft "
                                          "table " + name + " in " + table.ns;
    const std::string text = batch.str();
    if (!step(what, owners, true, [&] { return kernel_.nftApply(table.ns, text); })) return;
    state.tables.insert(name);
    std::sort(flush.begin(), flush.end());
    flush.erase(std::unique(flush.begin(), flush.end()), flush.end());
    for (const IpAddress& destination : flush) {
      dataplane::ConntrackFilter filter;
      filter.originalDestination = destination;
      (void)step("delete conntrack entries to " + destination.toString() + " in " + table.ns,
                 {}, false, [&]() -> Status {
                   auto deleted = kernel_.conntrackDelete(table.ns, filter);
                   return deleted.ok() ? Status::Ok() : deleted.status();
                 });
    }
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
  std::map<std::string, NamespaceState> existing_;  // owned namespaces that exist
  std::set<std::string> broken_;  // namespaces that could not be listed or created
  ApplyResult result_;
};

}  // namespace

Applier::Applier(dataplane::Kernel& kernel, model::HostNaming naming)
    : kernel_(kernel), naming_(std::move(naming)) {}

ApplyResult Applier::apply(const HostPlan& plan) {
  // Files of namespaces that are not planned any more are gone with them.
  for (auto it = written_files_.begin(); it != written_files_.end();) {
    it = plan.files.count(it->first) ? std::next(it) : written_files_.erase(it);
  }
  return Run(kernel_, naming_, plan, written_files_).run();
}

NftTableContents parseNftTableContents(const std::string& listing) {
  NftTableContents out;
  std::istringstream lines(listing);
  std::string current;         // set/map being read (pretty form)
  std::string counter;         // counter block being read
  std::string pendingSet;      // set whose "elements = {" spans lines
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
