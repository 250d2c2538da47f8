// Name validation and text forms shared by the real and the fake kernel.
#include "dataplane/kernel_names.h"

#include <sstream>

#include "dataplane/rtnetlink.h"

namespace privlink::dataplane {
namespace {

bool plainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

const char* typeName(RouteType type) {
  switch (type) {
    case RouteType::kUnicast:
      return "unicast";
    case RouteType::kLocal:
      return "local";
    case RouteType::kBlackhole:
      return "blackhole";
  }
  return "?";
}

}  // namespace

Status validateSysctlKey(const std::string& key) {
  // Only net/ is per namespace: a kernel/ or vm/ key written "inside" a namespace would change
  // the whole host.
  bool valid = key.rfind("net/", 0) == 0 && key.back() != '/';
  std::string component;
  std::istringstream parts(key);
  while (valid && std::getline(parts, component, '/')) {
    valid = !component.empty() && component != "." && component != "..";
    for (char c : component) valid = valid && plainChar(c);
  }
  if (valid) return Status::Ok();
  return Status::InvalidArgument(
      "InvalidSysctlKey",
      "sysctl key '" + key +
          "' is invalid; write it as a path below /proc/sys/net (only net/ is per "
          "namespace), e.g. net/ipv4/ip_forward");
}

Status validatePlainName(const std::string& name, const char* what) {
  bool valid = !name.empty() && name.size() <= 255 && name != "." && name != "..";
  for (char c : name) valid = valid && plainChar(c);
  if (valid) return Status::Ok();
  return Status::InvalidArgument("InvalidName", std::string(what) + " '" + name +
                                                    "' is invalid; use letters, digits, '-', '_' "
                                                    "and '.'");
}

Status validateNftFamily(const std::string& family) {
  for (const char* known : {"ip", "ip6", "inet", "arp", "bridge", "netdev"}) {
    if (family == known) return Status::Ok();
  }
  return Status::InvalidArgument("InvalidNftFamily",
                                 "nft family '" + family +
                                     "' is invalid; use ip, ip6, inet, arp, bridge "
                                     "or netdev");
}

Status validateInterfaceAddress(const InterfaceAddress& address) {
  RETURN_IF_ERROR(validateLinkName(address.link));
  int max = address.address.isV4() ? 32 : 128;
  if (address.prefixLength < 0 || address.prefixLength > max) {
    return Status::InvalidArgument("InvalidPrefixLength",
                                   "prefix length " + std::to_string(address.prefixLength) +
                                       " is out of range for " + address.address.toString());
  }
  return Status::Ok();
}

Status validateRoute(const Route& route) {
  if (!route.device.empty()) RETURN_IF_ERROR(validateLinkName(route.device));
  IpFamily family = route.destination.family();
  for (const auto& other : {route.gateway, route.preferredSource}) {
    if (other && other->family() != family) {
      return Status::InvalidArgument("InvalidRoute",
                                     "route " + describe(route) + " mixes IPv4 and IPv6 addresses");
    }
  }
  if (route.type == RouteType::kUnicast && !route.gateway && route.device.empty()) {
    return Status::InvalidArgument(
        "InvalidRoute", "unicast route " + describe(route) + " needs a gateway or a device");
  }
  return Status::Ok();
}

std::string describeNamespace(const std::string& ns) {
  return ns.empty() ? "the host namespace" : ns;
}

std::string describe(const InterfaceAddress& address) {
  return address.address.toString() + "/" + std::to_string(address.prefixLength) + " dev " +
         address.link;
}

std::string describe(const Route& route) {
  std::string out = std::string(typeName(route.type)) + " " + route.destination.toString();
  if (route.gateway) out += " via " + route.gateway->toString();
  if (!route.device.empty()) out += " dev " + route.device;
  if (route.preferredSource) out += " src " + route.preferredSource->toString();
  out += " table " + std::to_string(route.table);
  return out;
}

std::string describe(const RoutingRule& rule) {
  return "fwmark " + std::to_string(rule.fwmark) + " lookup " + std::to_string(rule.table) +
         " priority " + std::to_string(rule.priority);
}

std::string describe(const ConntrackFilter& filter) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (filter.originalSource) add("orig-src " + filter.originalSource->toString());
  if (filter.originalDestination) add("orig-dst " + filter.originalDestination->toString());
  if (!filter.originalDestinationIn.empty()) {
    std::string list;
    for (const IpAddress& a : filter.originalDestinationIn) {
      list += (list.empty() ? "" : ",") + a.toString();
    }
    add("orig-dst-in " + list);
  }
  if (filter.replySource) add("reply-src " + filter.replySource->toString());
  if (filter.zone) add("zone " + std::to_string(*filter.zone));
  return out.empty() ? "all" : out;
}

}  // namespace privlink::dataplane
