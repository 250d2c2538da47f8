#include "agent/applier.h"

#include <functional>
#include <set>

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
    ASSIGN_OR_RETURN(std::vector<Route> routes, kernel_.listRoutes(ns, 254));
    for (const Route& r : routes) {
      if (ownedRoute(r)) state.routes[routeKey(ns, r)] = r;
    }
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
    for (const auto& [key, sysctl] : plan_.sysctls) {
      if (live(sysctl.ns) == nullptr) continue;
      auto value = kernel_.getSysctl(sysctl.ns, sysctl.key);
      if (value.ok() && *value == sysctl.value) continue;
      (void)step("set sysctl " + sysctl.key + "=" + sysctl.value + " in " + sysctl.ns,
                 sysctl.owners, true,
                 [&] { return kernel_.setSysctl(sysctl.ns, sysctl.key, sysctl.value); });
    }
    for (const auto& [key, table] : plan_.nftTables) {
      NamespaceState* state = live(table.ns);
      if (state == nullptr) continue;
      const std::string name = table.family + " " + table.name;
      std::string batch = table.text;
      if (state->tables.count(name)) {
        auto listing = kernel_.nftListTable(table.ns, table.family, table.name);
        if (listing.ok() && fingerprintOf(*listing) == table.fingerprint) continue;
        batch = "delete table " + name + "\n" + table.text;  // one atomic replacement
      }
      if (step("load nft table " + name + " in " + table.ns, table.owners, true,
               [&] { return kernel_.nftApply(table.ns, batch); })) {
        state->tables.insert(name);
      }
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
