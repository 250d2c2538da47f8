// rtnetlink requests byte for byte (what `ip` would send) and reply parsing, including replies
// the parsers must skip and malformed ones they must reject.
#include "dataplane/rtnetlink.h"

#include <gtest/gtest.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include "test_bytes.h"

namespace privlink::dataplane {
namespace {

constexpr uint16_t kCreateFlags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

// An ifinfomsg with the given index, flags and change mask.
Bytes& ifinfo(Bytes& b, int32_t index = 0, uint32_t flags = 0, uint32_t change = 0,
              uint16_t type = 0) {
  return b.u8(AF_UNSPEC).u8(0).u16(type).u32(static_cast<uint32_t>(index)).u32(flags).u32(change);
}

// A received message: the builder's bytes re-read as a reply.
struct Reply {
  explicit Reply(const NetlinkMessage& m) : bytes(m.bytes()) {}
  NetlinkMessageView view() const { return (*splitMessages({bytes.data(), bytes.size()}))[0]; }
  std::vector<uint8_t> bytes;
};

TEST(Rtnetlink, VethPairWithPeerInAnotherNamespace) {
  Bytes e;
  e.nlmsg(96, RTM_NEWLINK, kCreateFlags);
  ifinfo(e);
  e.attr(7, IFLA_IFNAME).cstr("va").pad();
  e.attr(56, IFLA_LINKINFO);
  e.attr(9, IFLA_INFO_KIND).cstr("veth").pad();
  e.attr(40, IFLA_INFO_DATA);
  e.attr(36, VETH_INFO_PEER);
  ifinfo(e);
  e.attr(7, IFLA_IFNAME).cstr("vb").pad();
  e.attr(8, IFLA_NET_NS_FD).u32(7);
  EXPECT_EQ(newVethRequest("va", "vb", 7).bytes(), e.bytes());
}

TEST(Rtnetlink, VethPairInOneNamespaceHasNoNetnsFd) {
  auto bytes = newVethRequest("va", "vb", -1).bytes();
  EXPECT_EQ(bytes.size(), 88u);
  Reply reply(newVethRequest("va", "vb", -1));
  auto attrs = NetlinkAttributes::parse(attributesAfter(reply.view().payload, sizeof(ifinfomsg)));
  ASSERT_TRUE(attrs.ok());
  auto info = attrs->nested(IFLA_LINKINFO);
  ASSERT_TRUE(info.ok() && info->has_value());
  auto data = (*info)->nested(IFLA_INFO_DATA);
  ASSERT_TRUE(data.ok() && data->has_value());
  auto peer = (*data)->get(VETH_INFO_PEER);
  ASSERT_TRUE(peer.has_value());
  auto peerAttrs = NetlinkAttributes::parse(attributesAfter(*peer, sizeof(ifinfomsg)));
  ASSERT_TRUE(peerAttrs.ok());
  EXPECT_EQ(peerAttrs->string(IFLA_IFNAME), "vb");
  EXPECT_FALSE(peerAttrs->has(IFLA_NET_NS_FD));
}

TEST(Rtnetlink, Bridge) {
  Bytes e;
  e.nlmsg(16 + 16 + 8 + 16, RTM_NEWLINK, kCreateFlags);
  ifinfo(e);
  e.attr(8, IFLA_IFNAME).cstr("br0");
  e.attr(16, IFLA_LINKINFO).attr(11, IFLA_INFO_KIND).cstr("bridge").pad();
  EXPECT_EQ(newBridgeRequest("br0").bytes(), e.bytes());
}

TEST(Rtnetlink, SetMasterAndRelease) {
  Bytes e;
  e.nlmsg(16 + 16 + 8 + 8, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfo(e);
  e.attr(7, IFLA_IFNAME).cstr("vb").pad().attr(8, IFLA_MASTER).u32(4);
  EXPECT_EQ(setLinkMasterRequest("vb", 4).bytes(), e.bytes());
  Reply release(setLinkMasterRequest("vb", 0));
  auto attrs = NetlinkAttributes::parse(attributesAfter(release.view().payload, sizeof(ifinfomsg)));
  EXPECT_EQ(attrs->u32(IFLA_MASTER), 0u);
}

TEST(Rtnetlink, SetUpAndDown) {
  Bytes up;
  up.nlmsg(16 + 16 + 8, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfo(up, 0, IFF_UP, IFF_UP);
  up.attr(7, IFLA_IFNAME).cstr("va").pad();
  EXPECT_EQ(setLinkUpRequest("va", true).bytes(), up.bytes());
  Bytes down;
  down.nlmsg(16 + 16 + 8, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfo(down, 0, 0, IFF_UP);
  down.attr(7, IFLA_IFNAME).cstr("va").pad();
  EXPECT_EQ(setLinkUpRequest("va", false).bytes(), down.bytes());
}

TEST(Rtnetlink, DeleteAndGetLinkByName) {
  Bytes del;
  del.nlmsg(16 + 16 + 8, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfo(del);
  del.attr(7, IFLA_IFNAME).cstr("va").pad();
  EXPECT_EQ(deleteLinkRequest("va").bytes(), del.bytes());
  Bytes get;
  get.nlmsg(16 + 16 + 8 + 8, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfo(get);
  get.attr(7, IFLA_IFNAME).cstr("va").pad().attr(8, IFLA_EXT_MASK).u32(RTEXT_FILTER_SKIP_STATS);
  EXPECT_EQ(getLinkRequest("va").bytes(), get.bytes());
}

TEST(Rtnetlink, AddIpv4Address) {
  Bytes e;
  e.nlmsg(16 + 8 + 8 + 8, RTM_NEWADDR, kCreateFlags);
  e.u8(AF_INET).u8(24).u8(0).u8(RT_SCOPE_UNIVERSE).u32(5);
  e.attr(8, IFA_LOCAL).raw({10, 0, 1, 4}).attr(8, IFA_ADDRESS).raw({10, 0, 1, 4});
  EXPECT_EQ(addressRequest(true, 5, ip("10.0.1.4"), 24).bytes(), e.bytes());
}

TEST(Rtnetlink, AddIpv6AddressWithoutDad) {
  Bytes e;
  e.nlmsg(16 + 8 + 20 + 20, RTM_NEWADDR, kCreateFlags);
  e.u8(AF_INET6).u8(64).u8(IFA_F_NODAD).u8(RT_SCOPE_UNIVERSE).u32(5);
  std::initializer_list<uint8_t> addr = {0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  e.attr(20, IFA_LOCAL).raw(addr).attr(20, IFA_ADDRESS).raw(addr);
  EXPECT_EQ(addressRequest(true, 5, ip("fd00:99::2"), 64).bytes(), e.bytes());
}

TEST(Rtnetlink, DeleteAddressHasNoCreateFlags) {
  Bytes e;
  e.nlmsg(16 + 8 + 8 + 8, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK);
  e.u8(AF_INET).u8(24).u8(0).u8(RT_SCOPE_UNIVERSE).u32(5);
  e.attr(8, IFA_LOCAL).raw({10, 0, 1, 4}).attr(8, IFA_ADDRESS).raw({10, 0, 1, 4});
  EXPECT_EQ(addressRequest(false, 5, ip("10.0.1.4"), 24).bytes(), e.bytes());
}

TEST(Rtnetlink, UnicastRouteViaGateway) {
  Route r{.destination = prefix("10.2.0.0/16"), .gateway = ip("10.0.0.1"), .device = "va"};
  Bytes e;
  e.nlmsg(16 + 12 + 8 + 8 + 8 + 8, RTM_NEWROUTE, kCreateFlags);
  e.u8(AF_INET)
      .u8(16)
      .u8(0)
      .u8(0)
      .u8(RT_TABLE_MAIN)
      .u8(RTPROT_STATIC)
      .u8(RT_SCOPE_UNIVERSE)
      .u8(RTN_UNICAST)
      .u32(0);
  e.attr(8, RTA_TABLE).u32(254);
  e.attr(8, RTA_DST).raw({10, 2, 0, 0});
  e.attr(8, RTA_GATEWAY).raw({10, 0, 0, 1});
  e.attr(8, RTA_OIF).u32(3);
  EXPECT_EQ(routeRequest(true, r, 3).bytes(), e.bytes());
}

TEST(Rtnetlink, DeviceRouteHasLinkScopeAndDefaultRouteNoDst) {
  Route r{.destination = prefix("0.0.0.0/0"), .device = "va", .preferredSource = ip("10.0.0.2")};
  Bytes e;
  e.nlmsg(16 + 12 + 8 + 8 + 8, RTM_NEWROUTE, kCreateFlags);
  e.u8(AF_INET)
      .u8(0)
      .u8(0)
      .u8(0)
      .u8(RT_TABLE_MAIN)
      .u8(RTPROT_STATIC)
      .u8(RT_SCOPE_LINK)
      .u8(RTN_UNICAST)
      .u32(0);
  e.attr(8, RTA_TABLE).u32(254);
  e.attr(8, RTA_OIF).u32(3);
  e.attr(8, RTA_PREFSRC).raw({10, 0, 0, 2});
  EXPECT_EQ(routeRequest(true, r, 3).bytes(), e.bytes());
}

TEST(Rtnetlink, LocalRouteInHighTable) {
  Route r{
      .destination = prefix("0.0.0.0/0"), .device = "lo", .table = 1000, .type = RouteType::kLocal};
  Bytes e;
  e.nlmsg(16 + 12 + 8 + 8, RTM_NEWROUTE, kCreateFlags);
  e.u8(AF_INET)
      .u8(0)
      .u8(0)
      .u8(0)
      .u8(RT_TABLE_UNSPEC)
      .u8(RTPROT_STATIC)
      .u8(RT_SCOPE_HOST)
      .u8(RTN_LOCAL)
      .u32(0);
  e.attr(8, RTA_TABLE).u32(1000);
  e.attr(8, RTA_OIF).u32(1);
  EXPECT_EQ(routeRequest(true, r, 1).bytes(), e.bytes());
}

TEST(Rtnetlink, DeleteBlackholeMatchesAnyProtocolAndScope) {
  Route r{.destination = prefix("fd00:97::/64"), .type = RouteType::kBlackhole};
  Bytes e;
  e.nlmsg(16 + 12 + 8 + 20, RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK);
  e.u8(AF_INET6)
      .u8(64)
      .u8(0)
      .u8(0)
      .u8(RT_TABLE_MAIN)
      .u8(RTPROT_UNSPEC)
      .u8(RT_SCOPE_NOWHERE)
      .u8(RTN_BLACKHOLE)
      .u32(0);
  e.attr(8, RTA_TABLE).u32(254);
  e.attr(20, RTA_DST).raw({0xfd, 0, 0, 0x97, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(routeRequest(false, r, 0).bytes(), e.bytes());
}

TEST(Rtnetlink, FwmarkRule) {
  Bytes e;
  e.nlmsg(16 + 12 + 8 + 8 + 8, RTM_NEWRULE, kCreateFlags);
  e.u8(AF_INET).u8(0).u8(0).u8(0).u8(100).u8(0).u8(0).u8(FR_ACT_TO_TBL).u32(0);
  e.attr(8, FRA_PRIORITY).u32(1000).attr(8, FRA_FWMARK).u32(1).attr(8, FRA_TABLE).u32(100);
  EXPECT_EQ(ruleRequest(true, RoutingRule{1, 100, 1000}).bytes(), e.bytes());
}

TEST(Rtnetlink, DumpRequests) {
  Bytes links;
  links.nlmsg(16 + 16 + 8, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  ifinfo(links);
  links.attr(8, IFLA_EXT_MASK).u32(RTEXT_FILTER_SKIP_STATS);
  EXPECT_EQ(dumpLinksRequest().bytes(), links.bytes());
  EXPECT_EQ(dumpAddressesRequest().bytes(),
            Bytes().nlmsg(24, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP).zeros(8).bytes());
  EXPECT_EQ(dumpRoutesRequest().bytes(),
            Bytes().nlmsg(28, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP).zeros(12).bytes());
  EXPECT_EQ(
      dumpRulesRequest().bytes(),
      Bytes().nlmsg(28, RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP).u8(AF_INET).zeros(11).bytes());
}

// ---- Parsing replies ----

NetlinkMessage linkReply(int index, unsigned flags, uint16_t arpType) {
  NetlinkMessage m(RTM_NEWLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_index = index;
  ifi.ifi_flags = flags;
  ifi.ifi_type = arpType;
  m.header(ifi);
  return m;
}

TEST(ParseLink, ReadsNameKindMasterMtuMacAndUp) {
  NetlinkMessage m = linkReply(7, IFF_UP | IFF_BROADCAST, ARPHRD_ETHER);
  m.attrString(IFLA_IFNAME, "vb");
  m.attrU32(IFLA_MTU, 1450);
  uint8_t mac[6] = {0x02, 0xab, 0x00, 0x01, 0xff, 0x10};
  m.attr(IFLA_ADDRESS, mac, 6);
  m.attrU32(IFLA_MASTER, 4);
  size_t info = m.beginNested(IFLA_LINKINFO);
  m.attrString(IFLA_INFO_KIND, "veth");
  m.endNested(info);
  auto link = parseLink(Reply(m).view());
  ASSERT_TRUE(link.ok()) << link.status().toString();
  EXPECT_EQ(link->index, 7);
  EXPECT_EQ(link->masterIndex, 4);
  EXPECT_EQ(link->info.name, "vb");
  EXPECT_EQ(link->info.kind, "veth");
  EXPECT_TRUE(link->info.up);
  EXPECT_EQ(link->info.mtu, 1450);
  EXPECT_EQ(link->info.macAddress, "02:ab:00:01:ff:10");
}

TEST(ParseLink, LoopbackWithoutKindIsLoopback) {
  NetlinkMessage m = linkReply(1, 0, ARPHRD_LOOPBACK);
  m.attrString(IFLA_IFNAME, "lo");
  auto link = parseLink(Reply(m).view());
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->info.kind, "loopback");
  EXPECT_FALSE(link->info.up);
}

TEST(ParseLink, RejectsMissingName) {
  NetlinkMessage m = linkReply(1, 0, ARPHRD_ETHER);
  EXPECT_FALSE(parseLink(Reply(m).view()).ok());
}

TEST(ParseLink, RejectsShortHeader) {
  NetlinkMessage m(RTM_NEWLINK, 0);
  m.attrU32(1, 0);  // 8 bytes: shorter than ifinfomsg
  EXPECT_FALSE(parseLink(Reply(m).view()).ok());
}

TEST(ParseLink, RejectsWrongType) {
  NetlinkMessage m(RTM_NEWADDR, 0);
  m.header(ifinfomsg{});
  EXPECT_FALSE(parseLink(Reply(m).view()).ok());
}

NetlinkMessage addressReply(uint8_t family, uint8_t length, uint8_t scope, int index) {
  NetlinkMessage m(RTM_NEWADDR, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  ifa.ifa_prefixlen = length;
  ifa.ifa_scope = scope;
  ifa.ifa_index = static_cast<uint32_t>(index);
  m.header(ifa);
  return m;
}

TEST(ParseAddress, PrefersLocalOverPeerAddress) {
  NetlinkMessage m = addressReply(AF_INET, 24, RT_SCOPE_UNIVERSE, 3);
  m.attrAddress(IFA_ADDRESS, ip("10.0.0.9"));
  m.attrAddress(IFA_LOCAL, ip("10.0.0.2"));
  auto a = parseAddress(Reply(m).view());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->address, ip("10.0.0.2"));
  EXPECT_EQ((*a)->prefixLength, 24);
  EXPECT_EQ((*a)->linkIndex, 3);
  EXPECT_FALSE((*a)->kernelCreated);
}

TEST(ParseAddress, Ipv6LinkLocalIsKernelCreated) {
  NetlinkMessage m = addressReply(AF_INET6, 64, RT_SCOPE_LINK, 3);
  m.attrAddress(IFA_ADDRESS, ip("fe80::1"));
  auto a = parseAddress(Reply(m).view());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->address, ip("fe80::1"));
  EXPECT_TRUE((*a)->kernelCreated);
}

TEST(ParseAddress, OtherFamiliesAreSkipped) {
  NetlinkMessage m = addressReply(AF_PACKET, 0, 0, 3);
  auto a = parseAddress(Reply(m).view());
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
}

TEST(ParseAddress, RejectsMissingAddress) {
  EXPECT_FALSE(parseAddress(Reply(addressReply(AF_INET, 24, 0, 3)).view()).ok());
}

TEST(ParseAddress, RejectsImpossiblePrefixLength) {
  NetlinkMessage m = addressReply(AF_INET, 40, 0, 3);
  m.attrAddress(IFA_LOCAL, ip("10.0.0.2"));
  EXPECT_FALSE(parseAddress(Reply(m).view()).ok());
}

NetlinkMessage routeReply(uint8_t family, uint8_t length, uint8_t type, uint8_t protocol,
                          unsigned flags = 0) {
  NetlinkMessage m(RTM_NEWROUTE, 0);
  rtmsg r{};
  r.rtm_family = family;
  r.rtm_dst_len = length;
  r.rtm_table = RT_TABLE_MAIN;
  r.rtm_protocol = protocol;
  r.rtm_type = type;
  r.rtm_flags = flags;
  m.header(r);
  return m;
}

TEST(ParseRoute, UnicastViaGateway) {
  NetlinkMessage m = routeReply(AF_INET, 16, RTN_UNICAST, RTPROT_STATIC);
  m.attrU32(RTA_TABLE, 254);
  m.attrAddress(RTA_DST, ip("10.2.0.0"));
  m.attrAddress(RTA_GATEWAY, ip("10.0.0.1"));
  m.attrU32(RTA_OIF, 3);
  auto r = parseRoute(Reply(m).view());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->route, (Route{.destination = prefix("10.2.0.0/16"), .gateway = ip("10.0.0.1")}));
  EXPECT_EQ((*r)->outputIndex, 3);
}

TEST(ParseRoute, KernelConnectedRouteIsMarked) {
  NetlinkMessage m = routeReply(AF_INET, 24, RTN_UNICAST, RTPROT_KERNEL);
  m.attrU32(RTA_TABLE, 254);
  m.attrAddress(RTA_DST, ip("10.0.0.0"));
  m.attrAddress(RTA_PREFSRC, ip("10.0.0.2"));
  auto r = parseRoute(Reply(m).view());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->route.kernelCreated);
  EXPECT_EQ((*r)->route.preferredSource, ip("10.0.0.2"));
}

TEST(ParseRoute, DefaultRouteWithoutDst) {
  NetlinkMessage m = routeReply(AF_INET6, 0, RTN_BLACKHOLE, RTPROT_STATIC);
  auto r = parseRoute(Reply(m).view());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->route.destination, prefix("::/0"));
  EXPECT_EQ((*r)->route.type, RouteType::kBlackhole);
  EXPECT_EQ((*r)->route.table, 254u);  // from rtm_table when RTA_TABLE is absent
}

TEST(ParseRoute, SkipsWhatRouteCannotExpress) {
  auto skipped = [](const NetlinkMessage& m) {
    auto r = parseRoute(Reply(m).view());
    return r.ok() && !r->has_value();
  };
  EXPECT_TRUE(skipped(routeReply(AF_INET, 32, RTN_BROADCAST, RTPROT_KERNEL)));
  EXPECT_TRUE(skipped(routeReply(AF_INET6, 8, RTN_MULTICAST, RTPROT_KERNEL)));
  EXPECT_TRUE(skipped(routeReply(AF_INET, 32, RTN_UNICAST, RTPROT_STATIC, RTM_F_CLONED)));
  EXPECT_TRUE(skipped(routeReply(RTNL_FAMILY_IPMR, 32, RTN_MULTICAST, RTPROT_STATIC)));
  NetlinkMessage multipath = routeReply(AF_INET, 0, RTN_UNICAST, RTPROT_STATIC);
  multipath.attr(RTA_MULTIPATH, nullptr, 0);
  EXPECT_TRUE(skipped(multipath));
}

TEST(ParseRoute, RejectsDstOfTheWrongFamily) {
  NetlinkMessage m = routeReply(AF_INET, 24, RTN_UNICAST, RTPROT_STATIC);
  m.attrAddress(RTA_DST, ip("fd00::"));
  EXPECT_FALSE(parseRoute(Reply(m).view()).ok());
}

TEST(ParseRoute, RejectsImpossiblePrefixLength) {
  NetlinkMessage m = routeReply(AF_INET, 33, RTN_UNICAST, RTPROT_STATIC);
  EXPECT_FALSE(parseRoute(Reply(m).view()).ok());
}

NetlinkMessage ruleReply(uint8_t action) {
  NetlinkMessage m(RTM_NEWRULE, 0);
  fib_rule_hdr h{};
  h.family = AF_INET;
  h.action = action;
  h.table = RT_TABLE_MAIN;
  m.header(h);
  return m;
}

TEST(ParseRule, FwmarkRule) {
  NetlinkMessage m = ruleReply(FR_ACT_TO_TBL);
  m.attrU32(FRA_TABLE, 100);
  m.attrU32(FRA_FWMARK, 1);
  m.attrU32(FRA_FWMASK, 0xffffffff);
  m.attrU32(FRA_PRIORITY, 1000);
  auto rule = parseRule(Reply(m).view());
  ASSERT_TRUE(rule.ok());
  ASSERT_TRUE(rule->has_value());
  EXPECT_EQ(**rule, (RoutingRule{1, 100, 1000}));
}

TEST(ParseRule, SkipsDefaultAndUnexpressibleRules) {
  auto skipped = [](const NetlinkMessage& m) {
    auto r = parseRule(Reply(m).view());
    return r.ok() && !r->has_value();
  };
  NetlinkMessage main = ruleReply(FR_ACT_TO_TBL);  // "32766: from all lookup main"
  main.attrU32(FRA_TABLE, 254);
  main.attrU32(FRA_PRIORITY, 32766);
  EXPECT_TRUE(skipped(main));
  NetlinkMessage masked = ruleReply(FR_ACT_TO_TBL);
  masked.attrU32(FRA_FWMARK, 1);
  masked.attrU32(FRA_FWMASK, 0xff);
  EXPECT_TRUE(skipped(masked));
  NetlinkMessage withIif = ruleReply(FR_ACT_TO_TBL);
  withIif.attrU32(FRA_FWMARK, 1);
  withIif.attrString(FRA_IIFNAME, "eth0");
  EXPECT_TRUE(skipped(withIif));
  NetlinkMessage blackhole = ruleReply(FR_ACT_BLACKHOLE);
  blackhole.attrU32(FRA_FWMARK, 1);
  EXPECT_TRUE(skipped(blackhole));
}

TEST(ValidateLinkName, KernelLimits) {
  EXPECT_TRUE(validateLinkName("plu-1a2b3c4d").ok());
  EXPECT_TRUE(validateLinkName("fifteen-chars-x").ok());
  EXPECT_EQ(validateLinkName("sixteen-chars-xx").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(validateLinkName("").ok());
  EXPECT_FALSE(validateLinkName("a/b").ok());
  EXPECT_FALSE(validateLinkName("a b").ok());
  EXPECT_FALSE(validateLinkName("eth0:1").ok());
  EXPECT_FALSE(validateLinkName("..").ok());
}

}  // namespace
}  // namespace privlink::dataplane
