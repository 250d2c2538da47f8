#include "proxy/proxy_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace privlink::proxy {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// 192.168.1.10:51234 -> 10.0.1.4:443, LinkID 0x11223344 (hand-assembled from the spec).
const std::vector<uint8_t> kTcp4WithLinkId = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,  // signature
    0x21,                                                                    // v2, PROXY
    0x11,                                                                    // INET, STREAM
    0x00, 0x14,                                                              // len 20 = 12 + 8
    0xC0, 0xA8, 0x01, 0x0A,                                                  // src 192.168.1.10
    0x0A, 0x00, 0x01, 0x04,                                                  // dst 10.0.1.4
    0xC8, 0x22,                                                              // src port 51234
    0x01, 0xBB,                                                              // dst port 443
    0xEE, 0x00, 0x05, 0x01, 0x44, 0x33, 0x22, 0x11,  // Azure TLV, LinkID little-endian
};

// [2001:db8::1]:40000 -> [fd00::4]:8080, no TLV.
const std::vector<uint8_t> kTcp6NoTlv = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x21, 0x00, 0x24,
    0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xFD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
    0x9C, 0x40, 0x1F, 0x90,
};

Status parseError(const std::vector<uint8_t>& bytes) {
  auto r = parseProxyHeader(bytes);
  if (r.ok()) return Status::Internal("parsed although malformed");
  return r.status();
}

TEST(ProxyProtocolEncode, Tcp4WithLinkIdIsByteExact) {
  auto h = ProxyHeader::tcp(ip("192.168.1.10"), 51234, ip("10.0.1.4"), 443, 0x11223344);
  auto bytes = encodeProxyHeader(h);
  ASSERT_TRUE(bytes.ok()) << bytes.status().toString();
  EXPECT_THAT(*bytes, ElementsAreArray(kTcp4WithLinkId));
}

TEST(ProxyProtocolEncode, Tcp6WithoutLinkIdIsByteExact) {
  auto h = ProxyHeader::tcp(ip("2001:db8::1"), 40000, ip("fd00::4"), 8080, std::nullopt);
  auto bytes = encodeProxyHeader(h);
  ASSERT_TRUE(bytes.ok());
  EXPECT_THAT(*bytes, ElementsAreArray(kTcp6NoTlv));
}

TEST(ProxyProtocolEncode, LinkIdTlvIsLittleEndianAfterAddresses) {
  auto h = ProxyHeader::tcp(ip("10.0.0.5"), 1, ip("10.0.0.6"), 2, 1);
  auto bytes = encodeProxyHeader(h);
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 16u + 12u + 8u);
  const std::vector<uint8_t> tlv(bytes->begin() + 28, bytes->end());
  const std::vector<uint8_t> want = {0xEE, 0x00, 0x05, 0x01, 0x01, 0x00, 0x00, 0x00};
  EXPECT_THAT(tlv, ElementsAreArray(want));
}

TEST(ProxyProtocolEncode, LocalCommandHasNoAddresses) {
  ProxyHeader h;
  h.command = ProxyCommand::kLocal;
  auto bytes = encodeProxyHeader(h);
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> want(proxyV2Signature().begin(), proxyV2Signature().end());
  want.insert(want.end(), {0x20, 0x00, 0x00, 0x00});
  EXPECT_THAT(*bytes, ElementsAreArray(want));
}

TEST(ProxyProtocolEncode, OtherTlvsFollowTheAzureTlv) {
  auto h = ProxyHeader::tcp(ip("1.2.3.4"), 5, ip("6.7.8.9"), 10, 0xA0B0C0D0);
  h.otherTlvs.push_back(ProxyTlv{0x04, {}});  // PP2_TYPE_NOOP, empty
  h.otherTlvs.push_back(ProxyTlv{0x02, {'h', 'i'}});
  auto bytes = encodeProxyHeader(h);
  ASSERT_TRUE(bytes.ok());
  const std::vector<uint8_t> tail(bytes->begin() + 28, bytes->end());
  const std::vector<uint8_t> want = {0xEE, 0x00, 0x05, 0x01, 0xD0, 0xC0, 0xB0, 0xA0,
                                     0x04, 0x00, 0x00, 0x02, 0x00, 0x02, 'h',  'i'};
  EXPECT_THAT(tail, ElementsAreArray(want));
  EXPECT_EQ((*bytes)[14], 0x00);
  EXPECT_EQ((*bytes)[15], 12 + 8 + 3 + 5);
}

TEST(ProxyProtocolEncode, MixedFamiliesAreRejected) {
  auto h = ProxyHeader::tcp(ip("10.0.0.1"), 1, ip("fd00::1"), 2, std::nullopt);
  auto bytes = encodeProxyHeader(h);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().armCode(), kInvalidProxyHeaderCode);
  EXPECT_THAT(bytes.status().message(), HasSubstr("different address families"));
}

TEST(ProxyProtocolEncode, OversizedTlvIsRejected) {
  auto h = ProxyHeader::tcp(ip("10.0.0.1"), 1, ip("10.0.0.2"), 2, std::nullopt);
  h.otherTlvs.push_back(ProxyTlv{0x02, std::vector<uint8_t>(70000, 'x')});
  EXPECT_FALSE(encodeProxyHeader(h).ok());
}

TEST(ProxyProtocolEncode, BodyOver65535IsRejected) {
  auto h = ProxyHeader::tcp(ip("10.0.0.1"), 1, ip("10.0.0.2"), 2, std::nullopt);
  h.otherTlvs.push_back(ProxyTlv{0x02, std::vector<uint8_t>(40000, 'x')});
  h.otherTlvs.push_back(ProxyTlv{0x02, std::vector<uint8_t>(40000, 'y')});
  auto bytes = encodeProxyHeader(h);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(bytes.status().message(), HasSubstr("exceeds 65535"));
}

TEST(ProxyProtocolParse, Tcp4WithLinkId) {
  std::vector<uint8_t> input = kTcp4WithLinkId;
  input.insert(input.end(), {'G', 'E', 'T'});  // payload after the header is not consumed
  auto r = parseProxyHeader(input);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_TRUE(r->complete);
  EXPECT_EQ(r->size, kTcp4WithLinkId.size());
  EXPECT_EQ(r->header, ProxyHeader::tcp(ip("192.168.1.10"), 51234, ip("10.0.1.4"), 443,
                                        0x11223344));
}

TEST(ProxyProtocolParse, Tcp6NoTlv) {
  auto r = parseProxyHeader(kTcp6NoTlv);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->complete);
  EXPECT_EQ(r->header,
            ProxyHeader::tcp(ip("2001:db8::1"), 40000, ip("fd00::4"), 8080, std::nullopt));
}

TEST(ProxyProtocolParse, RoundTripsWithOtherTlvsAndUdp) {
  auto h = ProxyHeader::tcp(ip("fd00::7"), 7, ip("fd00::8"), 8, 0xFFFFFFFF);
  h.transport = ProxyTransport::kDatagram;
  h.otherTlvs.push_back(ProxyTlv{0x05, {1, 2, 3}});
  h.otherTlvs.push_back(ProxyTlv{0xEE, {0x02, 0x09}});  // other Azure subtype kept verbatim
  auto bytes = encodeProxyHeader(h);
  ASSERT_TRUE(bytes.ok());
  auto r = parseProxyHeader(*bytes);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_TRUE(r->complete);
  EXPECT_EQ(r->header, h);
}

TEST(ProxyProtocolParse, LocalSkipsBody) {
  std::vector<uint8_t> input(proxyV2Signature().begin(), proxyV2Signature().end());
  input.insert(input.end(), {0x20, 0x11, 0x00, 0x03, 0xAA, 0xBB, 0xCC});
  auto r = parseProxyHeader(input);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->complete);
  EXPECT_EQ(r->size, 19u);
  EXPECT_EQ(r->header.command, ProxyCommand::kLocal);
}

TEST(ProxyProtocolParse, EveryPrefixNeedsMoreBytes) {
  for (std::size_t n = 0; n < kTcp4WithLinkId.size(); ++n) {
    std::span<const uint8_t> prefix(kTcp4WithLinkId.data(), n);
    auto r = parseProxyHeader(prefix);
    ASSERT_TRUE(r.ok()) << "prefix " << n << ": " << r.status().toString();
    EXPECT_FALSE(r->complete) << n;
    EXPECT_GT(r->size, n);
    EXPECT_EQ(r->size, n < 16 ? 16u : kTcp4WithLinkId.size());
  }
}

// One named test per malformed input.

TEST(ProxyProtocolMalformed, BadSignatureFirstByte) {
  EXPECT_THAT(parseError({'G'}).message(), HasSubstr("signature mismatch at byte 0"));
}

TEST(ProxyProtocolMalformed, BadSignatureLastByte) {
  auto input = kTcp4WithLinkId;
  input[11] = 0x0B;
  EXPECT_THAT(parseError(input).message(), HasSubstr("signature mismatch at byte 11"));
}

TEST(ProxyProtocolMalformed, ProxyV1TextHeader) {
  const std::string v1 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  EXPECT_FALSE(parseProxyHeader(std::vector<uint8_t>(v1.begin(), v1.end())).ok());
}

TEST(ProxyProtocolMalformed, Version1InVersionNibble) {
  auto input = kTcp4WithLinkId;
  input[12] = 0x11;
  EXPECT_THAT(parseError(input).message(), HasSubstr("version 1"));
}

TEST(ProxyProtocolMalformed, Version3InVersionNibble) {
  auto input = kTcp4WithLinkId;
  input[12] = 0x31;
  EXPECT_THAT(parseError(input).message(), HasSubstr("version 3"));
}

TEST(ProxyProtocolMalformed, UnknownCommand) {
  auto input = kTcp4WithLinkId;
  input[12] = 0x22;
  EXPECT_THAT(parseError(input).message(), HasSubstr("command 0x02"));
}

TEST(ProxyProtocolMalformed, UnknownFamily) {
  auto input = kTcp4WithLinkId;
  input[13] = 0x41;
  EXPECT_THAT(parseError(input).message(), HasSubstr("address family 0x04"));
}

TEST(ProxyProtocolMalformed, UnknownTransport) {
  auto input = kTcp4WithLinkId;
  input[13] = 0x13;
  EXPECT_THAT(parseError(input).message(), HasSubstr("transport protocol 0x03"));
}

TEST(ProxyProtocolMalformed, ProxyWithUnixFamily) {
  auto input = kTcp4WithLinkId;
  input[13] = 0x31;
  EXPECT_THAT(parseError(input).message(), HasSubstr("only INET and INET6"));
}

TEST(ProxyProtocolMalformed, ProxyWithUnspecFamily) {
  auto input = kTcp4WithLinkId;
  input[13] = 0x01;
  EXPECT_THAT(parseError(input).message(), HasSubstr("only INET and INET6"));
}

TEST(ProxyProtocolMalformed, ProxyWithUnspecTransport) {
  auto input = kTcp4WithLinkId;
  input[13] = 0x10;
  EXPECT_THAT(parseError(input).message(), HasSubstr("UNSPEC transport"));
}

TEST(ProxyProtocolMalformed, LengthShorterThanIpv4Block) {
  auto input = kTcp4WithLinkId;
  input[15] = 11;
  EXPECT_THAT(parseError(input).message(), HasSubstr("shorter than the 12-byte"));
}

TEST(ProxyProtocolMalformed, LengthShorterThanIpv6Block) {
  auto input = kTcp6NoTlv;
  input[15] = 35;
  EXPECT_THAT(parseError(input).message(), HasSubstr("shorter than the 36-byte"));
}

TEST(ProxyProtocolMalformed, LengthAboveLimit) {
  auto input = kTcp4WithLinkId;
  input[14] = 0xFF;
  input[15] = 0xFF;
  EXPECT_THAT(parseError(input).message(), HasSubstr("exceeds the limit"));
}

TEST(ProxyProtocolMalformed, TruncatedTlvHeader) {
  auto input = kTcp4WithLinkId;
  input.resize(28 + 2);  // two bytes of a TLV header
  input[15] = 14;
  EXPECT_THAT(parseError(input).message(), HasSubstr("truncated"));
}

TEST(ProxyProtocolMalformed, TlvValueOverrunsHeader) {
  auto input = kTcp4WithLinkId;
  input[30] = 0x06;  // Azure TLV claims 6 bytes; only 5 remain
  EXPECT_THAT(parseError(input).message(), HasSubstr("declares 6 bytes but only 5 remain"));
}

TEST(ProxyProtocolMalformed, AzureTlvEmpty) {
  auto input = kTcp4WithLinkId;
  input.resize(31);
  input[15] = 15;
  input[29] = 0x00;
  input[30] = 0x00;
  EXPECT_THAT(parseError(input).message(), HasSubstr("empty"));
}

TEST(ProxyProtocolMalformed, AzureLinkIdTooShort) {
  auto input = kTcp4WithLinkId;
  input.resize(input.size() - 1);
  input[15] = 19;
  input[30] = 0x04;
  EXPECT_THAT(parseError(input).message(), HasSubstr("exactly 5"));
}

TEST(ProxyProtocolMalformed, DuplicateAzureLinkId) {
  auto input = kTcp4WithLinkId;
  input.insert(input.end(), kTcp4WithLinkId.end() - 8, kTcp4WithLinkId.end());
  input[15] = 28;
  EXPECT_THAT(parseError(input).message(), HasSubstr("two Azure LinkID"));
}

TEST(ProxyProtocolMalformed, ErrorsCarryTheArmCode) {
  EXPECT_EQ(parseError({0x00}).armCode(), kInvalidProxyHeaderCode);
}

}  // namespace
}  // namespace privlink::proxy
