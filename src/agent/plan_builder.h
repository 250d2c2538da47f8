#pragma once
// PlanBuilder: adds planned objects to a HostPlan under their keys (host_plan.h). Internal to
// compile.cc and compile_paas.cc, so both parts of compile() build the plan the same way.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/host_plan.h"
#include "common/ip.h"
#include "common/status.h"
#include "model/naming.h"

namespace privlink::agent {

inline IpPrefix hostPrefix(const IpAddress& address) { return IpPrefix::of(address, 32); }
inline IpPrefix defaultPrefix() { return IpPrefix::of(IpAddress(), 0); }

class PlanBuilder {
 public:
  using Owners = std::vector<std::string>;

  explicit PlanBuilder(HostPlan& plan) : plan_(plan) {}

  void addNamespace(const std::string& ns, const Owners& owners) {
    plan_.namespaces[namespaceKey(ns)] = PlannedNamespace{ns, owners};
    // Loopback is always wanted up (sockets bound to local addresses need it).
    plan_.links[linkKey(ns, "lo")] = PlannedLink{ns, "lo", LinkKind::kLoopback, "", "", "", owners};
  }
  void addBridge(const std::string& ns, const std::string& name, const Owners& owners) {
    plan_.links[linkKey(ns, name)] = PlannedLink{ns, name, LinkKind::kBridge, "", "", "", owners};
  }
  // A veth pair; `master` applies to the first end.
  void addVeth(const std::string& ns, const std::string& name, const std::string& peerNs,
               const std::string& peerName, const Owners& owners, const std::string& master = "") {
    plan_.links[linkKey(ns, name)] =
        PlannedLink{ns, name, LinkKind::kVeth, peerNs, peerName, master, owners};
    plan_.links[linkKey(peerNs, peerName)] =
        PlannedLink{peerNs, peerName, LinkKind::kVeth, ns, name, "", owners};
  }
  void addAddress(const std::string& ns, const std::string& link, const IpAddress& address,
                  int length, const Owners& owners) {
    dataplane::InterfaceAddress a{link, address, length};
    plan_.addresses[addressKey(ns, a)] = PlannedAddress{ns, a, owners};
  }
  void addRoute(const std::string& ns, const IpPrefix& destination,
                const std::optional<IpAddress>& gateway, const std::string& device,
                const Owners& owners, const std::optional<IpAddress>& source = std::nullopt) {
    dataplane::Route r;
    r.destination = destination;
    r.gateway = gateway;
    r.device = device;
    r.preferredSource = source;
    plan_.routes[routeKey(ns, r)] = PlannedRoute{ns, r, owners};
  }
  void addLocalRoute(const std::string& ns, const dataplane::Route& route, const Owners& owners) {
    plan_.routes[routeKey(ns, route)] = PlannedRoute{ns, route, owners};
  }
  void addSysctl(const std::string& ns, const std::string& key, const std::string& value,
                 const Owners& owners, bool optional = false) {
    plan_.sysctls[sysctlKey(ns, key)] = PlannedSysctl{ns, key, value, owners, optional};
  }
  // `body` is the table's contents (chains); the fingerprint comment is added here.
  // `flushOnChange` as PlannedNftTable::flushOnChange.
  void addNftTable(const std::string& ns, const std::string& family, const std::string& name,
                   const std::string& body, const Owners& owners,
                   std::map<std::string, int> flushOnChange = {}) {
    const std::string fingerprint = model::shortHash(family + " " + name + "\n" + body);
    std::string text = "table " + family + " " + name + " {\n  comment \"privlink " + fingerprint +
                       "\"\n" + body + "}\n";
    plan_.nftTables[nftTableKey(ns, family, name)] = PlannedNftTable{
        ns, family, name, std::move(text), fingerprint, owners, std::move(flushOnChange)};
  }
  void addFile(const std::string& ns, const std::string& name, const std::string& content,
               const Owners& owners) {
    plan_.files[fileKey(ns, name)] = PlannedFile{ns, name, content, owners};
  }
  // An element of set/map `set` in the "inet" table `table` of `ns`.
  void addElement(const std::string& ns, const std::string& table, const std::string& set,
                  const std::string& key, const std::string& value, const Owners& owners) {
    plan_.nftElements[nftElementKey(ns, "inet", table, set, key)] =
        PlannedNftElement{ns, "inet", table, set, key, value, owners};
  }
  void addRule(const std::string& ns, const dataplane::RoutingRule& rule, const Owners& owners) {
    plan_.rules[ruleKey(ns, rule)] = PlannedRule{ns, rule, owners};
  }
  void addProxyEndpoint(PlannedProxyEndpoint endpoint) {
    const std::string key = proxyEndpointKey(endpoint.ns, endpoint.address);
    plan_.proxyEndpoints[key] = std::move(endpoint);
  }
  void addProbe(const std::string& key, PlannedProbe probe) {
    plan_.probes[key] = std::move(probe);
  }
  void fail(const std::string& key, Status status) {
    plan_.failures.emplace(key, std::move(status));
  }

 private:
  HostPlan& plan_;
};

}  // namespace privlink::agent
