#include "common/ip.h"

#include <gtest/gtest.h>

namespace privlink {
namespace {

IpAddress addr(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress());
}

IpPrefix prefix(std::string_view text) {
  auto p = IpPrefix::parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().toString();
  return p.ok() ? p.value() : IpPrefix();
}

TEST(IpAddressTest, ParsesDottedQuad) {
  IpAddress a = addr("10.1.2.3");
  EXPECT_TRUE(a.isV4());
  EXPECT_EQ(a.v4Value(), 0x0a010203u);
  EXPECT_EQ(a.toString(), "10.1.2.3");
  EXPECT_EQ(addr("0.0.0.0").v4Value(), 0u);
  EXPECT_EQ(addr("255.255.255.255").v4Value(), 0xffffffffu);
}

TEST(IpAddressTest, V4RoundTrip) { EXPECT_EQ(IpAddress::v4(0xc0a80001).toString(), "192.168.0.1"); }

TEST(IpAddressTest, ParsesIpv6Canonically) {
  IpAddress a = addr("FD00:0:0:0::0001");
  EXPECT_FALSE(a.isV4());
  EXPECT_EQ(a.toString(), "fd00::1");
  EXPECT_EQ(addr("::").toString(), "::");
  EXPECT_EQ(addr("2001:db8:0:0:1:0:0:1").toString(), "2001:db8::1:0:0:1");
}

TEST(IpAddressParseTest, RejectsEmpty) { EXPECT_FALSE(IpAddress::parse("")); }
TEST(IpAddressParseTest, RejectsLeadingZeroOctet) { EXPECT_FALSE(IpAddress::parse("10.01.0.1")); }
TEST(IpAddressParseTest, RejectsOctalLookingOctet) { EXPECT_FALSE(IpAddress::parse("010.0.0.1")); }
TEST(IpAddressParseTest, RejectsOctetOutOfRange) { EXPECT_FALSE(IpAddress::parse("10.0.0.256")); }
TEST(IpAddressParseTest, RejectsFourDigitOctet) { EXPECT_FALSE(IpAddress::parse("10.0.0.1000")); }
TEST(IpAddressParseTest, RejectsThreeOctets) { EXPECT_FALSE(IpAddress::parse("10.0.0")); }
TEST(IpAddressParseTest, RejectsFiveOctets) { EXPECT_FALSE(IpAddress::parse("10.0.0.1.2")); }
TEST(IpAddressParseTest, RejectsTrailingDot) { EXPECT_FALSE(IpAddress::parse("10.0.0.1.")); }
TEST(IpAddressParseTest, RejectsEmptyOctet) { EXPECT_FALSE(IpAddress::parse("10..0.1")); }
TEST(IpAddressParseTest, RejectsSign) { EXPECT_FALSE(IpAddress::parse("10.0.0.+1")); }
TEST(IpAddressParseTest, RejectsWhitespace) { EXPECT_FALSE(IpAddress::parse(" 10.0.0.1")); }
TEST(IpAddressParseTest, RejectsHostname) { EXPECT_FALSE(IpAddress::parse("localhost")); }
TEST(IpAddressParseTest, RejectsSingleInteger) { EXPECT_FALSE(IpAddress::parse("167772161")); }
TEST(IpAddressParseTest, RejectsIpv6Zone) { EXPECT_FALSE(IpAddress::parse("fe80::1%eth0")); }
TEST(IpAddressParseTest, RejectsIpv6TwoDoubleColons) { EXPECT_FALSE(IpAddress::parse("1::2::3")); }
TEST(IpAddressParseTest, RejectsIpv6TooLong) {
  EXPECT_FALSE(IpAddress::parse("1:2:3:4:5:6:7:8:9"));
}
TEST(IpAddressParseTest, RejectsIpv6BadHexDigit) { EXPECT_FALSE(IpAddress::parse("fd00::g")); }
TEST(IpAddressParseTest, RejectsEmbeddedNul) {
  EXPECT_FALSE(IpAddress::parse(std::string_view("fd00::1\0x", 9)));
}

TEST(IpAddressTest, PlusWrapsWithinFamily) {
  EXPECT_EQ(addr("10.0.0.255").plus(1).toString(), "10.0.1.0");
  EXPECT_EQ(addr("255.255.255.255").plus(1).toString(), "0.0.0.0");
  EXPECT_EQ(addr("fd00::ff").plus(1).toString(), "fd00::100");
  EXPECT_EQ(addr("fd00::ffff:ffff:ffff:ffff").plus(1).toString(), "fd00:0:0:1::");
  EXPECT_EQ(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").plus(1).toString(), "::");
}

TEST(IpAddressTest, OrdersByFamilyThenValue) {
  EXPECT_LT(addr("10.0.0.1"), addr("10.0.0.2"));
  EXPECT_LT(addr("9.255.255.255"), addr("10.0.0.0"));
  EXPECT_NE(addr("0.0.0.1"), addr("::1"));
}

TEST(IpPrefixTest, ParsesAndReports) {
  IpPrefix p = prefix("10.0.0.0/16");
  EXPECT_EQ(p.length(), 16);
  EXPECT_EQ(p.network().toString(), "10.0.0.0");
  EXPECT_EQ(p.last().toString(), "10.0.255.255");
  EXPECT_EQ(p.size(), 65536u);
  EXPECT_EQ(p.at(4).toString(), "10.0.0.4");
  EXPECT_EQ(p.firstUsable().toString(), "10.0.0.4");
  EXPECT_EQ(p.toString(), "10.0.0.0/16");
}

TEST(IpPrefixTest, ZeroAndFullLengths) {
  EXPECT_EQ(prefix("0.0.0.0/0").size(), uint64_t{1} << 32);
  EXPECT_EQ(prefix("10.0.0.1/32").size(), 1u);
  EXPECT_EQ(prefix("::/0").size(), UINT64_MAX);
  EXPECT_EQ(prefix("fd00::/64").size(), UINT64_MAX);
  EXPECT_EQ(prefix("fd00::/65").size(), uint64_t{1} << 63);
  EXPECT_EQ(prefix("fd00::1/128").size(), 1u);
}

TEST(IpPrefixTest, Ipv6Prefix) {
  IpPrefix p = prefix("FD00:1::/48");
  EXPECT_EQ(p.toString(), "fd00:1::/48");
  EXPECT_EQ(p.last().toString(), "fd00:1:0:ffff:ffff:ffff:ffff:ffff");
}

TEST(IpPrefixTest, OfClearsHostBits) {
  EXPECT_EQ(IpPrefix::of(addr("10.1.2.3"), 16).toString(), "10.1.0.0/16");
  EXPECT_EQ(IpPrefix::of(addr("10.1.2.3"), 0).toString(), "0.0.0.0/0");
  EXPECT_EQ(IpPrefix::of(addr("fd00::1:2"), 120).toString(), "fd00::1:0/120");
  EXPECT_EQ(IpPrefix::of(addr("10.1.2.3"), 27).toString(), "10.1.2.0/27");
}

TEST(IpPrefixTest, Contains) {
  IpPrefix p = prefix("10.0.0.0/16");
  EXPECT_TRUE(p.contains(addr("10.0.255.1")));
  EXPECT_FALSE(p.contains(addr("10.1.0.0")));
  EXPECT_FALSE(p.contains(addr("::a00:1")));
  EXPECT_TRUE(p.contains(prefix("10.0.1.0/24")));
  EXPECT_TRUE(p.contains(p));
  EXPECT_FALSE(prefix("10.0.1.0/24").contains(p));
  EXPECT_FALSE(p.contains(prefix("fd00::/8")));
}

TEST(IpPrefixTest, Overlaps) {
  EXPECT_TRUE(prefix("10.0.0.0/16").overlaps(prefix("10.0.5.0/24")));
  EXPECT_TRUE(prefix("10.0.5.0/24").overlaps(prefix("10.0.0.0/16")));
  EXPECT_FALSE(prefix("10.0.0.0/16").overlaps(prefix("10.1.0.0/16")));
  EXPECT_FALSE(prefix("0.0.0.0/0").overlaps(prefix("::/0")));
}

TEST(IpPrefixTest, AzureReservedIpv4) {
  IpPrefix p = prefix("10.0.1.0/24");
  for (const char* reserved : {"10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.255"}) {
    EXPECT_TRUE(p.isAzureReserved(addr(reserved))) << reserved;
  }
  EXPECT_FALSE(p.isAzureReserved(addr("10.0.1.4")));
  EXPECT_FALSE(p.isAzureReserved(addr("10.0.1.254")));
  EXPECT_FALSE(p.isAzureReserved(addr("10.0.2.0")));  // outside the subnet
}

TEST(IpPrefixTest, AzureReservedIpv6KeepsLastAddress) {
  IpPrefix p = prefix("fd00::/120");
  EXPECT_TRUE(p.isAzureReserved(addr("fd00::")));
  EXPECT_TRUE(p.isAzureReserved(addr("fd00::3")));
  EXPECT_FALSE(p.isAzureReserved(addr("fd00::4")));
  EXPECT_FALSE(p.isAzureReserved(addr("fd00::ff")));
}

void expectPrefixError(std::string_view text, std::string_view needle) {
  auto p = IpPrefix::parse(text);
  ASSERT_FALSE(p.ok()) << text;
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().armCode(), "InvalidAddressPrefixFormat");
  EXPECT_NE(p.status().message().find(needle), std::string::npos) << p.status().message();
}

TEST(IpPrefixParseTest, RejectsHostBitsWithSuggestion) {
  expectPrefixError("10.0.0.1/16", "10.0.0.1/16 has host bits set; did you mean 10.0.0.0/16?");
}
TEST(IpPrefixParseTest, RejectsIpv6HostBits) { expectPrefixError("fd00::1/64", "fd00::/64"); }
TEST(IpPrefixParseTest, RejectsMissingLength) {
  expectPrefixError("10.0.0.0", "'10.0.0.0' is not a valid address prefix");
  expectPrefixError("10.0.0.0", "10.0.0.0/16");  // names the expected form
}
TEST(IpPrefixParseTest, RejectsEmptyLength) { expectPrefixError("10.0.0.0/", "0 to 32"); }
TEST(IpPrefixParseTest, RejectsLengthTooLongV4) { expectPrefixError("10.0.0.0/33", "0 to 32"); }
TEST(IpPrefixParseTest, RejectsLengthTooLongV6) { expectPrefixError("fd00::/129", "0 to 128"); }
TEST(IpPrefixParseTest, RejectsNegativeLength) { expectPrefixError("10.0.0.0/-1", "0 to 32"); }
TEST(IpPrefixParseTest, RejectsLeadingZeroLength) { expectPrefixError("10.0.0.0/016", "0 to 32"); }
TEST(IpPrefixParseTest, RejectsHugeLength) { expectPrefixError("10.0.0.0/99999999999", "0 to"); }
TEST(IpPrefixParseTest, RejectsBadAddress) {
  expectPrefixError("10.0.0.256/24", "'10.0.0.256' is not an IP address");
}
TEST(IpPrefixParseTest, RejectsTwoSlashes) { expectPrefixError("10.0.0.0/16/8", "0 to 32"); }
TEST(IpPrefixParseTest, RejectsEmpty) { expectPrefixError("", "expected CIDR notation"); }
TEST(IpPrefixParseTest, RejectsTrailingSpace) { expectPrefixError("10.0.0.0/16 ", "0 to 32"); }

}  // namespace
}  // namespace privlink
