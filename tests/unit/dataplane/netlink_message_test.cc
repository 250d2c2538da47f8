// NetlinkMessage builder byte for byte, and the defensive reply parsers with one test per
// malformed input.
#include "dataplane/netlink_message.h"

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include "test_bytes.h"

namespace privlink::dataplane {
namespace {

std::span<const uint8_t> span(const Bytes& b) { return {b.bytes().data(), b.size()}; }

TEST(NetlinkMessage, HeaderOnlyRequest) {
  NetlinkMessage m(RTM_GETLINK, NLM_F_DUMP);
  EXPECT_EQ(m.bytes(), Bytes().nlmsg(16, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP).bytes());
}

TEST(NetlinkMessage, AttributesArePaddedAndLengthsPatched) {
  NetlinkMessage m(RTM_NEWLINK, NLM_F_ACK);
  m.attrString(IFLA_IFNAME, "eth0");  // 4 + 5 = 9, padded to 12
  m.attrU32(IFLA_MTU, 1500);
  m.attrU8(IFLA_OPERSTATE, 6);  // 4 + 1 = 5, padded to 8
  m.setSequence(0x01020304);
  Bytes expected;
  expected.nlmsg(16 + 12 + 8 + 8, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 0x01020304)
      .attr(9, IFLA_IFNAME)
      .cstr("eth0")
      .pad()
      .attr(8, IFLA_MTU)
      .u32(1500)
      .attr(5, IFLA_OPERSTATE)
      .u8(6)
      .pad();
  EXPECT_EQ(m.bytes(), expected.bytes());
  EXPECT_EQ(m.sequence(), 0x01020304u);
  EXPECT_EQ(m.type(), RTM_NEWLINK);
}

TEST(NetlinkMessage, NestedAttributesCoverTheirChildren) {
  NetlinkMessage m(RTM_NEWLINK, 0);
  size_t outer = m.beginNested(IFLA_LINKINFO);
  m.attrString(IFLA_INFO_KIND, "veth");
  size_t inner = m.beginNested(IFLA_INFO_DATA);
  m.attrU16(1, 0xabcd);
  m.endNested(inner);
  m.endNested(outer);
  Bytes expected;
  expected.nlmsg(16 + 4 + 12 + 4 + 8, RTM_NEWLINK, NLM_F_REQUEST)
      .attr(28, IFLA_LINKINFO)
      .attr(9, IFLA_INFO_KIND)
      .cstr("veth")
      .pad()
      .attr(12, IFLA_INFO_DATA)
      .attr(6, 1)
      .u16(0xabcd)
      .pad();
  EXPECT_EQ(m.bytes(), expected.bytes());
}

TEST(NetlinkMessage, AddressesInNetworkOrder) {
  NetlinkMessage m(RTM_NEWADDR, 0);
  m.attrAddress(IFA_LOCAL, *IpAddress::parse("10.1.2.3"));
  m.attrAddress(IFA_ADDRESS, *IpAddress::parse("fd00::1"));
  Bytes expected;
  expected.nlmsg(16 + 8 + 20, RTM_NEWADDR, NLM_F_REQUEST)
      .attr(8, IFA_LOCAL)
      .raw({10, 1, 2, 3})
      .attr(20, IFA_ADDRESS)
      .raw({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  EXPECT_EQ(m.bytes(), expected.bytes());
}

TEST(SplitMessages, TwoMessagesInOneDatagram) {
  Bytes b;
  b.nlmsg(20, RTM_NEWLINK, NLM_F_MULTI, 7, 99).u32(0xdeadbeef);
  b.nlmsg(20, NLMSG_DONE, NLM_F_MULTI, 7, 99).u32(0);
  auto messages = splitMessages(span(b));
  ASSERT_TRUE(messages.ok()) << messages.status().toString();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].type, RTM_NEWLINK);
  EXPECT_EQ((*messages)[0].sequence, 7u);
  EXPECT_EQ((*messages)[0].portId, 99u);
  EXPECT_EQ((*messages)[0].payload.size(), 4u);
  EXPECT_EQ((*messages)[1].type, NLMSG_DONE);
  EXPECT_EQ(doneError((*messages)[1]), 0);
}

TEST(SplitMessages, EmptyDatagramHasNoMessages) {
  auto messages = splitMessages({});
  ASSERT_TRUE(messages.ok());
  EXPECT_TRUE(messages->empty());
}

TEST(SplitMessages, RejectsTruncatedHeader) {
  Bytes b;
  b.nlmsg(16, NLMSG_NOOP, 0).zeros(8);  // 8 trailing bytes: half a header
  auto messages = splitMessages(span(b));
  EXPECT_EQ(messages.status().code(), StatusCode::kInternal);
  EXPECT_NE(messages.status().message().find("malformed netlink reply"), std::string::npos);
}

TEST(SplitMessages, RejectsLengthBeyondDatagram) {
  Bytes b;
  b.nlmsg(64, RTM_NEWLINK, 0).zeros(4);
  EXPECT_FALSE(splitMessages(span(b)).ok());
}

TEST(SplitMessages, RejectsLengthShorterThanHeader) {
  Bytes b;
  b.nlmsg(8, RTM_NEWLINK, 0);
  EXPECT_FALSE(splitMessages(span(b)).ok());
}

TEST(NetlinkAttributes, ReadsTypedValues) {
  Bytes b;
  b.attr(8, 1).u32(42).attr(6, 2).u16(7).pad().attr(7, 3).cstr("abc").attr(5, 4).u8(9).pad();
  auto attrs = NetlinkAttributes::parse(span(b));
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->u32(1), 42u);
  EXPECT_EQ(attrs->u16(2), 7);
  EXPECT_EQ(attrs->string(3), "abc");
  EXPECT_EQ(attrs->u8(4), 9);
  EXPECT_FALSE(attrs->has(5));
  EXPECT_EQ(attrs->u32(5), std::nullopt);
}

TEST(NetlinkAttributes, TooShortValuesReadAsAbsent) {
  Bytes b;
  b.attr(6, 1).u16(1).pad();  // a "u32" of two bytes
  auto attrs = NetlinkAttributes::parse(span(b));
  ASSERT_TRUE(attrs.ok());
  EXPECT_TRUE(attrs->has(1));
  EXPECT_EQ(attrs->u32(1), std::nullopt);
}

TEST(NetlinkAttributes, AddressOfOddLengthIsAbsent) {
  Bytes b;
  b.attr(9, 1).raw({1, 2, 3, 4, 5}).pad();
  auto attrs = NetlinkAttributes::parse(span(b));
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->address(1), std::nullopt);
}

TEST(NetlinkAttributes, StringWithoutNulIsWholePayload) {
  Bytes b;
  b.attr(7, 1).raw({'a', 'b', 'c'}).pad();
  auto attrs = NetlinkAttributes::parse(span(b));
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->string(1), "abc");
}

TEST(NetlinkAttributes, NestedFlagIsMaskedOff) {
  Bytes b;
  b.attr(12, NLA_F_NESTED | 5).attr(8, 1).u32(3);
  auto attrs = NetlinkAttributes::parse(span(b));
  ASSERT_TRUE(attrs.ok());
  auto inner = attrs->nested(5);
  ASSERT_TRUE(inner.ok());
  ASSERT_TRUE(inner->has_value());
  EXPECT_EQ((*inner)->u32(1), 3u);
}

TEST(NetlinkAttributes, RejectsAttributeShorterThanItsHeader) {
  Bytes b;
  b.attr(2, 1);
  EXPECT_FALSE(NetlinkAttributes::parse(span(b)).ok());
}

TEST(NetlinkAttributes, RejectsAttributeOverrunningTheData) {
  Bytes b;
  b.attr(40, 1).u32(0);
  EXPECT_FALSE(NetlinkAttributes::parse(span(b)).ok());
}

TEST(NetlinkAttributes, RejectsTrailingBytesShorterThanAHeader) {
  Bytes b;
  b.attr(8, 1).u32(0).u16(0);
  EXPECT_FALSE(NetlinkAttributes::parse(span(b)).ok());
}

TEST(NetlinkAttributes, MalformedNestedIsAnError) {
  Bytes b;
  b.attr(8, 5).attr(9, 1);  // inner claims 9 bytes in a 4-byte nest
  auto attrs = NetlinkAttributes::parse(span(b));
  ASSERT_TRUE(attrs.ok());
  EXPECT_FALSE(attrs->nested(5).ok());
}

TEST(ParseNetlinkError, AckIsErrorZero) {
  Bytes b;
  b.nlmsg(36, NLMSG_ERROR, 0, 5, 1).u32(0).nlmsg(16, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 5);
  auto messages = splitMessages(span(b));
  ASSERT_TRUE(messages.ok());
  auto error = parseNetlinkError((*messages)[0]);
  ASSERT_TRUE(error.ok());
  ASSERT_TRUE(error->has_value());
  EXPECT_EQ((*error)->error, 0);
  EXPECT_EQ((*error)->message, "");
}

TEST(ParseNetlinkError, ErrnoAndExtendedAckText) {
  Bytes b;
  uint32_t length = 16 + 4 + 16 + 12;
  b.nlmsg(length, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 5, 1)
      .u32(static_cast<uint32_t>(-17))           // -EEXIST
      .nlmsg(40, RTM_NEWLINK, NLM_F_REQUEST, 5)  // only the header is echoed (capped)
      .attr(12, NLMSGERR_ATTR_MSG)
      .cstr("Exists.")
      .pad();
  auto messages = splitMessages(span(b));
  ASSERT_TRUE(messages.ok()) << messages.status().toString();
  auto error = parseNetlinkError((*messages)[0]);
  ASSERT_TRUE(error.ok()) << error.status().toString();
  ASSERT_TRUE(error->has_value());
  EXPECT_EQ((*error)->error, 17);
  EXPECT_EQ((*error)->message, "Exists.");
}

TEST(ParseNetlinkError, UncappedEchoIsSkippedToReachTlvs) {
  Bytes b;
  b.nlmsg(16 + 4 + 20 + 8, NLMSG_ERROR, NLM_F_ACK_TLVS, 5, 1)
      .u32(static_cast<uint32_t>(-22))
      .nlmsg(20, RTM_NEWLINK, NLM_F_REQUEST, 5)
      .u32(0)  // the whole 20-byte request
      .attr(7, NLMSGERR_ATTR_MSG)
      .cstr("bad")
      .pad();
  auto messages = splitMessages(span(b));
  ASSERT_TRUE(messages.ok());
  auto error = parseNetlinkError((*messages)[0]);
  ASSERT_TRUE(error.ok()) << error.status().toString();
  EXPECT_EQ((*error)->error, 22);
  EXPECT_EQ((*error)->message, "bad");
}

TEST(ParseNetlinkError, NotAnErrorMessage) {
  NetlinkMessageView view;
  view.type = RTM_NEWLINK;
  auto error = parseNetlinkError(view);
  ASSERT_TRUE(error.ok());
  EXPECT_FALSE(error->has_value());
}

TEST(ParseNetlinkError, RejectsShortPayload) {
  Bytes b;
  b.nlmsg(20, NLMSG_ERROR, 0).u32(0);
  auto messages = splitMessages(span(b));
  ASSERT_TRUE(messages.ok());
  EXPECT_FALSE(parseNetlinkError((*messages)[0]).ok());
}

TEST(ParseNetlinkError, RejectsEchoLongerThanPayload) {
  Bytes b;
  b.nlmsg(36, NLMSG_ERROR, NLM_F_ACK_TLVS, 5)
      .u32(static_cast<uint32_t>(-1))
      .nlmsg(400, RTM_NEWLINK, 0);
  auto messages = splitMessages(span(b));
  ASSERT_TRUE(messages.ok());
  EXPECT_FALSE(parseNetlinkError((*messages)[0]).ok());
}

TEST(DoneError, CarriesDumpErrno) {
  Bytes b;
  b.nlmsg(20, NLMSG_DONE, NLM_F_MULTI).u32(static_cast<uint32_t>(-16));
  auto messages = splitMessages(span(b));
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(doneError((*messages)[0]), 16);
}

}  // namespace
}  // namespace privlink::dataplane
