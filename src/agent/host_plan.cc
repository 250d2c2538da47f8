#include "agent/host_plan.h"

#include <cstdio>
#include <sstream>

namespace privlink::agent {

const char* linkKindName(LinkKind kind) {
  switch (kind) {
    case LinkKind::kLoopback:
      return "loopback";
    case LinkKind::kBridge:
      return "bridge";
    case LinkKind::kVeth:
      return "veth";
  }
  return "?";
}

std::string namespaceKey(const std::string& ns) { return ns; }

std::string linkKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::string addressKey(const std::string& ns, const dataplane::InterfaceAddress& address) {
  return ns + "/" + address.link + " " + address.address.toString() + "/" +
         std::to_string(address.prefixLength);
}

std::string routeKey(const std::string& ns, const dataplane::Route& route) {
  std::string key =
      ns + " table " + std::to_string(route.table) + " " + route.destination.toString();
  if (route.type == dataplane::RouteType::kLocal) key += " local";
  if (route.type == dataplane::RouteType::kBlackhole) key += " blackhole";
  if (route.gateway) key += " via " + route.gateway->toString();
  if (!route.device.empty()) key += " dev " + route.device;
  return key;
}

std::string sysctlKey(const std::string& ns, const std::string& key) { return ns + " " + key; }

std::string ruleKey(const std::string& ns, const dataplane::RoutingRule& rule) {
  char mark[16];
  std::snprintf(mark, sizeof mark, "0x%08x", rule.fwmark);
  return ns + " fwmark " + mark + " table " + std::to_string(rule.table) + " priority " +
         std::to_string(rule.priority);
}

std::string proxyEndpointKey(const std::string& ns, const IpAddress& address) {
  return ns + " " + address.toString();
}

std::string nftTableKey(const std::string& ns, const std::string& family, const std::string& name) {
  return ns + " " + family + " " + name;
}

std::string fileKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::string nftElementKey(const std::string& ns, const std::string& family,
                          const std::string& table, const std::string& set,
                          const std::string& key) {
  return ns + " " + family + " " + table + " " + set + "|" + key;
}

std::string probeTargetKey(const std::string& probeKey, const IpAddress& address) {
  return probeKey + "|" + address.toString();
}

std::string HostPlan::render() const {
  std::ostringstream out;
  for (const auto& [key, ns] : namespaces) {
    out << "namespace " << key << "\n";
  }
  for (const auto& [key, link] : links) {
    out << "link " << key << " " << linkKindName(link.kind);
    if (link.kind == LinkKind::kVeth) out << " peer " << link.peerNs << "/" << link.peerName;
    if (!link.master.empty()) out << " master " << link.master;
    out << "\n";
  }
  for (const auto& [key, address] : addresses) out << "address " << key << "\n";
  for (const auto& [key, route] : routes) {
    out << "route " << key;
    if (route.route.preferredSource) out << " src " << route.route.preferredSource->toString();
    out << "\n";
  }
  for (const auto& [key, rule] : rules) out << "rule " << key << "\n";
  for (const auto& [key, sysctl] : sysctls)
    out << "sysctl " << key << " = " << sysctl.value << (sysctl.optional ? " (if present)" : "")
        << "\n";
  for (const auto& [key, table] : nftTables) {
    out << "nft " << key << "\n";
    for (const auto& [set, index] : table.flushOnChange) {
      out << "  flush conntrack on removal from " << set << " (key part " << index << ")\n";
    }
    std::istringstream lines(table.text);
    for (std::string line; std::getline(lines, line);) out << "  | " << line << "\n";
  }
  for (const auto& [key, file] : files) {
    out << "file " << key << "\n";
    std::istringstream lines(file.content);
    for (std::string line; std::getline(lines, line);) out << "  | " << line << "\n";
  }
  for (const auto& [key, element] : nftElements) {
    out << "element " << key;
    if (!element.value.empty()) out << " : " << element.value;
    out << "\n";
  }
  for (const auto& [key, probe] : probes) {
    out << "probe " << key << " in " << probe.ns << " " << probe.protocol << " "
        << probe.address.toString() << ":" << probe.port << probe.requestPath << " every "
        << probe.intervalSeconds << "s threshold " << probe.threshold << "\n";
  }
  for (const auto& [key, endpoint] : proxyEndpoints) {
    out << "proxy " << key << " -> " << endpoint.upstream.toString() << " link "
        << endpoint.linkId << "\n";
  }
  for (const auto& [key, status] : failures)
    out << "failure " << key << ": " << status.toString() << "\n";
  return out.str();
}

}  // namespace privlink::agent
