#pragma once
// rtnetlink requests and reply parsers for links, addresses, routes and rules: pure functions from
// values to NetlinkMessage bytes and back, so every request is tested byte for byte without root.
// The messages match what iproute2 sends for the equivalent `ip` command. Links are addressed by
// name (ifi_index 0 + IFLA_IFNAME) where the kernel allows it; addresses and routes need the index.
// Sequence numbers are set by NetlinkSocket.

#include <optional>
#include <string_view>

#include "common/status.h"
#include "dataplane/kernel.h"
#include "dataplane/netlink_message.h"

namespace privlink::dataplane {

// Ok for 1..15 characters (IFNAMSIZ - 1) without '/', ':', whitespace or NUL, not "." or "..".
Status validateLinkName(std::string_view name);

// Links.
struct LinkRecord {
  int index = 0;
  int masterIndex = 0;  // 0 = none; the caller resolves info.master from it
  LinkInfo info;
};
NetlinkMessage dumpLinksRequest();
NetlinkMessage getLinkRequest(std::string_view name);
// A veth pair: `name` in the socket's namespace, `peerName` in the namespace open at
// `peerNetnsFd` (-1: the same namespace). Both ends start down.
NetlinkMessage newVethRequest(std::string_view name, std::string_view peerName, int peerNetnsFd);
NetlinkMessage newBridgeRequest(std::string_view name);
// masterIndex 0 releases the link from its bridge.
NetlinkMessage setLinkMasterRequest(std::string_view name, int masterIndex);
NetlinkMessage setLinkUpRequest(std::string_view name, bool up);
NetlinkMessage deleteLinkRequest(std::string_view name);
// An RTM_NEWLINK reply. Internal error if it is not one or is malformed.
Result<LinkRecord> parseLink(const NetlinkMessageView& message);

// Addresses. IPv6 addresses are added with IFA_F_NODAD: usable at once, no duplicate detection
// (every address in a privlink namespace is assigned by privlink).
struct AddressRecord {
  int linkIndex = 0;
  IpAddress address;
  int prefixLength = 0;
  bool kernelCreated = false;  // scope host or link
};
NetlinkMessage dumpAddressesRequest();
NetlinkMessage addressRequest(bool add, int linkIndex, const IpAddress& address, int prefixLength);
// nullopt for families other than IPv4/IPv6.
Result<std::optional<AddressRecord>> parseAddress(const NetlinkMessageView& message);

// Routes. Added with protocol "static"; unicast routes without a gateway get scope link (IPv4),
// local routes scope host. Deletes match any protocol and scope.
struct RouteRecord {
  Route route;  // route.device is left empty; the caller resolves it from outputIndex
  int outputIndex = 0;
};
NetlinkMessage dumpRoutesRequest();
NetlinkMessage routeRequest(bool add, const Route& route, int outputIndex);
// nullopt for routes that Route cannot express and privlink never makes: other families, cloned
// (cache) entries, multipath, and types other than unicast/local/blackhole.
Result<std::optional<RouteRecord>> parseRoute(const NetlinkMessageView& message);

// IPv4 policy rules "fwmark M lookup T priority P".
NetlinkMessage dumpRulesRequest();
NetlinkMessage ruleRequest(bool add, const RoutingRule& rule);
// nullopt for rules RoutingRule cannot express (the default local/main/default rules, rules with
// other selectors, masks or actions).
Result<std::optional<RoutingRule>> parseRule(const NetlinkMessageView& message);

}  // namespace privlink::dataplane
