// rtnetlink request builders and reply parsers (links, addresses, routes, rules).
#include "dataplane/rtnetlink.h"

#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstdio>

namespace privlink::dataplane {
namespace {

Status malformed(std::string what) { return Status::Internal("malformed netlink reply: " + what); }

constexpr uint16_t kCreate = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;

uint8_t familyOf(const IpAddress& address) { return address.isV4() ? AF_INET : AF_INET6; }

std::string macToString(std::span<const uint8_t> bytes) {
  std::string out;
  char part[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(part, sizeof part, i == 0 ? "%02x" : ":%02x", bytes[i]);
    out += part;
  }
  return out;
}

IpAddress zeroAddress(uint8_t family) {
  return family == AF_INET ? IpAddress::v4(0) : IpAddress::v6(std::array<uint8_t, 16>{});
}

NetlinkMessage linkMessage(uint16_t type, uint16_t flags, std::string_view name) {
  NetlinkMessage m(type, flags);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  m.header(ifi);
  m.attrString(IFLA_IFNAME, name);
  return m;
}

}  // namespace

Status validateLinkName(std::string_view name) {
  bool valid = !name.empty() && name.size() < IFNAMSIZ && name != "." && name != "..";
  for (char c : name) {
    valid = valid && c != '/' && c != ':' && c != '\0' && c > ' ' && c != 0x7f;
  }
  if (valid) return Status::Ok();
  return Status::InvalidArgument("InvalidLinkName",
                                 "link name '" + std::string(name) +
                                     "' is invalid; use 1 to 15 characters without '/', ':' or "
                                     "whitespace");
}

// ---- Links ----

NetlinkMessage dumpLinksRequest() {
  NetlinkMessage m(RTM_GETLINK, NLM_F_DUMP);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  m.header(ifi);
  m.attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return m;
}

NetlinkMessage getLinkRequest(std::string_view name) {
  NetlinkMessage m = linkMessage(RTM_GETLINK, NLM_F_ACK, name);
  m.attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return m;
}

NetlinkMessage newVethRequest(std::string_view name, std::string_view peerName, int peerNetnsFd) {
  NetlinkMessage m = linkMessage(RTM_NEWLINK, kCreate, name);
  size_t linkInfo = m.beginNested(IFLA_LINKINFO);
  m.attrString(IFLA_INFO_KIND, "veth");
  size_t infoData = m.beginNested(IFLA_INFO_DATA);
  size_t peer = m.beginNested(VETH_INFO_PEER);
  ifinfomsg peerIfi{};
  peerIfi.ifi_family = AF_UNSPEC;
  m.header(peerIfi);
  m.attrString(IFLA_IFNAME, peerName);
  if (peerNetnsFd >= 0) m.attrU32(IFLA_NET_NS_FD, static_cast<uint32_t>(peerNetnsFd));
  m.endNested(peer);
  m.endNested(infoData);
  m.endNested(linkInfo);
  return m;
}

NetlinkMessage newBridgeRequest(std::string_view name) {
  NetlinkMessage m = linkMessage(RTM_NEWLINK, kCreate, name);
  size_t linkInfo = m.beginNested(IFLA_LINKINFO);
  m.attrString(IFLA_INFO_KIND, "bridge");
  m.endNested(linkInfo);
  return m;
}

NetlinkMessage setLinkMasterRequest(std::string_view name, int masterIndex) {
  NetlinkMessage m = linkMessage(RTM_SETLINK, NLM_F_ACK, name);
  m.attrU32(IFLA_MASTER, static_cast<uint32_t>(masterIndex));
  return m;
}

NetlinkMessage setLinkUpRequest(std::string_view name, bool up) {
  NetlinkMessage m(RTM_SETLINK, NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_change = IFF_UP;
  ifi.ifi_flags = up ? IFF_UP : 0;
  m.header(ifi);
  m.attrString(IFLA_IFNAME, name);
  return m;
}

NetlinkMessage deleteLinkRequest(std::string_view name) {
  return linkMessage(RTM_DELLINK, NLM_F_ACK, name);
}

Result<LinkRecord> parseLink(const NetlinkMessageView& message) {
  if (message.type != RTM_NEWLINK) {
    return malformed("expected RTM_NEWLINK, got type " + std::to_string(message.type));
  }
  auto ifi = readHeader<ifinfomsg>(message.payload);
  if (!ifi) return malformed("RTM_NEWLINK shorter than ifinfomsg");
  ASSIGN_OR_RETURN(NetlinkAttributes attrs,
                   NetlinkAttributes::parse(attributesAfter(message.payload, sizeof(ifinfomsg))));
  LinkRecord record;
  record.index = ifi->ifi_index;
  auto name = attrs.string(IFLA_IFNAME);
  if (!name) return malformed("RTM_NEWLINK without IFLA_IFNAME");
  record.info.name = *name;
  record.info.up = (ifi->ifi_flags & IFF_UP) != 0;
  record.info.mtu = static_cast<int>(attrs.u32(IFLA_MTU).value_or(0));
  if (auto mac = attrs.get(IFLA_ADDRESS)) record.info.macAddress = macToString(*mac);
  record.masterIndex = static_cast<int>(attrs.u32(IFLA_MASTER).value_or(0));
  ASSIGN_OR_RETURN(auto linkInfo, attrs.nested(IFLA_LINKINFO));
  if (linkInfo) record.info.kind = linkInfo->string(IFLA_INFO_KIND).value_or("");
  if (record.info.kind.empty() && ifi->ifi_type == ARPHRD_LOOPBACK) record.info.kind = "loopback";
  return record;
}

// ---- Addresses ----

NetlinkMessage dumpAddressesRequest() {
  NetlinkMessage m(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  m.header(ifa);
  return m;
}

NetlinkMessage addressRequest(bool add, int linkIndex, const IpAddress& address, int prefixLength) {
  NetlinkMessage m(add ? RTM_NEWADDR : RTM_DELADDR, add ? kCreate : NLM_F_ACK);
  ifaddrmsg ifa{};
  ifa.ifa_family = familyOf(address);
  ifa.ifa_prefixlen = static_cast<uint8_t>(prefixLength);
  ifa.ifa_flags = (add && !address.isV4()) ? IFA_F_NODAD : 0;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<uint32_t>(linkIndex);
  m.header(ifa);
  m.attrAddress(IFA_LOCAL, address);
  m.attrAddress(IFA_ADDRESS, address);
  return m;
}

Result<std::optional<AddressRecord>> parseAddress(const NetlinkMessageView& message) {
  if (message.type != RTM_NEWADDR) {
    return malformed("expected RTM_NEWADDR, got type " + std::to_string(message.type));
  }
  auto ifa = readHeader<ifaddrmsg>(message.payload);
  if (!ifa) return malformed("RTM_NEWADDR shorter than ifaddrmsg");
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) {
    return std::optional<AddressRecord>();
  }
  ASSIGN_OR_RETURN(NetlinkAttributes attrs,
                   NetlinkAttributes::parse(attributesAfter(message.payload, sizeof(ifaddrmsg))));
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links
  // and the only one sent for most IPv6 addresses.
  auto address = attrs.address(IFA_LOCAL);
  if (!address) address = attrs.address(IFA_ADDRESS);
  if (!address) return malformed("RTM_NEWADDR without an address");
  int maxLength = address->isV4() ? 32 : 128;
  if (ifa->ifa_prefixlen > maxLength) {
    return malformed("prefix length " + std::to_string(ifa->ifa_prefixlen));
  }
  AddressRecord record;
  record.linkIndex = static_cast<int>(ifa->ifa_index);
  record.address = *address;
  record.prefixLength = ifa->ifa_prefixlen;
  record.kernelCreated = ifa->ifa_scope == RT_SCOPE_HOST || ifa->ifa_scope == RT_SCOPE_LINK;
  return std::optional<AddressRecord>(record);
}

// ---- Routes ----

NetlinkMessage dumpRoutesRequest() {
  NetlinkMessage m(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg r{};
  r.rtm_family = AF_UNSPEC;
  m.header(r);
  return m;
}

NetlinkMessage routeRequest(bool add, const Route& route, int outputIndex) {
  NetlinkMessage m(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? kCreate : NLM_F_ACK);
  const IpPrefix& dst = route.destination;
  bool v4 = dst.network().isV4();
  rtmsg r{};
  r.rtm_family = familyOf(dst.network());
  r.rtm_dst_len = static_cast<uint8_t>(dst.length());
  r.rtm_table =
      route.table < 256 ? static_cast<uint8_t>(route.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  switch (route.type) {
    case RouteType::kUnicast:
      r.rtm_type = RTN_UNICAST;
      r.rtm_scope = (v4 && !route.gateway && outputIndex != 0) ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
      break;
    case RouteType::kLocal:
      r.rtm_type = RTN_LOCAL;
      r.rtm_scope = RT_SCOPE_HOST;
      break;
    case RouteType::kBlackhole:
      r.rtm_type = RTN_BLACKHOLE;
      r.rtm_scope = RT_SCOPE_UNIVERSE;
      break;
  }
  if (add) {
    r.rtm_protocol = RTPROT_STATIC;
  } else {
    r.rtm_protocol = RTPROT_UNSPEC;  // match any protocol
    r.rtm_scope = RT_SCOPE_NOWHERE;  // match any scope
  }
  m.header(r);
  m.attrU32(RTA_TABLE, route.table);
  if (dst.length() > 0) m.attrAddress(RTA_DST, dst.network());
  if (route.gateway) m.attrAddress(RTA_GATEWAY, *route.gateway);
  if (outputIndex != 0) m.attrU32(RTA_OIF, static_cast<uint32_t>(outputIndex));
  if (route.preferredSource) m.attrAddress(RTA_PREFSRC, *route.preferredSource);
  return m;
}

Result<std::optional<RouteRecord>> parseRoute(const NetlinkMessageView& message) {
  if (message.type != RTM_NEWROUTE) {
    return malformed("expected RTM_NEWROUTE, got type " + std::to_string(message.type));
  }
  auto r = readHeader<rtmsg>(message.payload);
  if (!r) return malformed("RTM_NEWROUTE shorter than rtmsg");
  std::optional<RouteRecord> none;
  if (r->rtm_family != AF_INET && r->rtm_family != AF_INET6) return none;
  if (r->rtm_flags & RTM_F_CLONED) return none;
  RouteRecord record;
  switch (r->rtm_type) {
    case RTN_UNICAST:
      record.route.type = RouteType::kUnicast;
      break;
    case RTN_LOCAL:
      record.route.type = RouteType::kLocal;
      break;
    case RTN_BLACKHOLE:
      record.route.type = RouteType::kBlackhole;
      break;
    default:
      return none;
  }
  ASSIGN_OR_RETURN(NetlinkAttributes attrs,
                   NetlinkAttributes::parse(attributesAfter(message.payload, sizeof(rtmsg))));
  if (attrs.has(RTA_MULTIPATH)) return none;
  int maxLength = r->rtm_family == AF_INET ? 32 : 128;
  if (r->rtm_dst_len > maxLength) {
    return malformed("route prefix length " + std::to_string(r->rtm_dst_len));
  }
  IpAddress dst = attrs.address(RTA_DST).value_or(zeroAddress(r->rtm_family));
  if ((dst.isV4() ? AF_INET : AF_INET6) != r->rtm_family) {
    return malformed("RTA_DST of the wrong family");
  }
  record.route.destination = IpPrefix::of(dst, r->rtm_dst_len);
  record.route.gateway = attrs.address(RTA_GATEWAY);
  record.route.preferredSource = attrs.address(RTA_PREFSRC);
  record.route.table = attrs.u32(RTA_TABLE).value_or(r->rtm_table);
  record.route.kernelCreated = r->rtm_protocol == RTPROT_KERNEL;
  record.outputIndex = static_cast<int>(attrs.u32(RTA_OIF).value_or(0));
  return std::optional<RouteRecord>(std::move(record));
}

// ---- Rules ----

NetlinkMessage dumpRulesRequest() {
  NetlinkMessage m(RTM_GETRULE, NLM_F_DUMP);
  fib_rule_hdr h{};
  h.family = AF_INET;
  m.header(h);
  return m;
}

NetlinkMessage ruleRequest(bool add, const RoutingRule& rule) {
  NetlinkMessage m(add ? RTM_NEWRULE : RTM_DELRULE, add ? kCreate : NLM_F_ACK);
  fib_rule_hdr h{};
  h.family = AF_INET;
  h.table =
      rule.table < 256 ? static_cast<uint8_t>(rule.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  h.action = FR_ACT_TO_TBL;
  m.header(h);
  m.attrU32(FRA_PRIORITY, rule.priority);
  m.attrU32(FRA_FWMARK, rule.fwmark);
  m.attrU32(FRA_TABLE, rule.table);
  return m;
}

Result<std::optional<RoutingRule>> parseRule(const NetlinkMessageView& message) {
  if (message.type != RTM_NEWRULE) {
    return malformed("expected RTM_NEWRULE, got type " + std::to_string(message.type));
  }
  auto h = readHeader<fib_rule_hdr>(message.payload);
  if (!h) return malformed("RTM_NEWRULE shorter than fib_rule_hdr");
  std::optional<RoutingRule> none;
  if (h->family != AF_INET || h->action != FR_ACT_TO_TBL || h->dst_len != 0 || h->src_len != 0 ||
      h->tos != 0 || (h->flags & FIB_RULE_INVERT)) {
    return none;
  }
  ASSIGN_OR_RETURN(NetlinkAttributes attrs, NetlinkAttributes::parse(attributesAfter(
                                                message.payload, sizeof(fib_rule_hdr))));
  auto mark = attrs.u32(FRA_FWMARK);
  if (!mark) return none;
  if (attrs.u32(FRA_FWMASK).value_or(0xffffffffu) != 0xffffffffu) return none;
  for (uint16_t selector : {FRA_SRC, FRA_DST, FRA_IIFNAME, FRA_OIFNAME, FRA_SPORT_RANGE,
                            FRA_DPORT_RANGE, FRA_IP_PROTO, FRA_UID_RANGE, FRA_L3MDEV}) {
    if (attrs.has(selector)) return none;
  }
  RoutingRule rule;
  rule.fwmark = *mark;
  rule.table = attrs.u32(FRA_TABLE).value_or(h->table);
  rule.priority = attrs.u32(FRA_PRIORITY).value_or(0);
  return std::optional<RoutingRule>(rule);
}

}  // namespace privlink::dataplane
