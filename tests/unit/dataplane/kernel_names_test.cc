// Name validation shared by the real and fake kernel, kernelError's mapping, and conntrack
// filter matching.
#include "dataplane/kernel_names.h"

#include <gtest/gtest.h>

#include "dataplane/conntrack.h"
#include "dataplane/kernel_error.h"
#include "dataplane/netns.h"

namespace privlink::dataplane {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(ValidateNamespaceName, AcceptsPrivlinkNamesRejectsPaths) {
  EXPECT_TRUE(validateNamespaceName("plv-1a2b3c4d").ok());
  EXPECT_TRUE(validateNamespaceName("plbb").ok());
  EXPECT_EQ(validateNamespaceName("").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(validateNamespaceName("..").ok());
  EXPECT_FALSE(validateNamespaceName("a/b").ok());
  EXPECT_FALSE(validateNamespaceName("a b").ok());
  EXPECT_FALSE(validateNamespaceName(std::string(65, 'a')).ok());
}

TEST(ValidateSysctlKey, OnlyPathsBelowNet) {
  EXPECT_TRUE(validateSysctlKey("net/ipv4/ip_forward").ok());
  EXPECT_TRUE(validateSysctlKey("net/ipv4/conf/eth0.100/forwarding").ok());
  Status s = validateSysctlKey("kernel/hostname");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("only net/"), std::string::npos) << s.message();
  EXPECT_FALSE(validateSysctlKey("net/../kernel/hostname").ok());
  EXPECT_FALSE(validateSysctlKey("/net/ipv4/ip_forward").ok());
  EXPECT_FALSE(validateSysctlKey("net/ipv4/").ok());
  EXPECT_FALSE(validateSysctlKey("net//ipv4").ok());
  EXPECT_FALSE(validateSysctlKey("net.ipv4.ip_forward").ok());
}

TEST(ValidatePlainName, OneComponent) {
  EXPECT_TRUE(validatePlainName("resolv.conf", "file").ok());
  EXPECT_FALSE(validatePlainName("../passwd", "file").ok());
  EXPECT_FALSE(validatePlainName("", "file").ok());
  EXPECT_NE(validatePlainName("a b", "nft table name").message().find("nft table name"),
            std::string::npos);
}

TEST(ValidateNftFamily, KnownFamiliesOnly) {
  EXPECT_TRUE(validateNftFamily("inet").ok());
  EXPECT_TRUE(validateNftFamily("netdev").ok());
  EXPECT_FALSE(validateNftFamily("ipv4").ok());
}

TEST(ValidateRoute, FamiliesAgreeAndUnicastNeedsANextHop) {
  Route ok{.destination = *IpPrefix::parse("10.0.0.0/8"), .gateway = ip("10.1.0.1")};
  EXPECT_TRUE(validateRoute(ok).ok());
  Route mixed{.destination = *IpPrefix::parse("10.0.0.0/8"), .gateway = ip("fd00::1")};
  EXPECT_EQ(validateRoute(mixed).code(), StatusCode::kInvalidArgument);
  Route nowhere{.destination = *IpPrefix::parse("10.0.0.0/8")};
  EXPECT_FALSE(validateRoute(nowhere).ok());
  Route hole{.destination = *IpPrefix::parse("10.0.0.0/8"), .type = RouteType::kBlackhole};
  EXPECT_TRUE(validateRoute(hole).ok());
  Route badDevice{.destination = *IpPrefix::parse("10.0.0.0/8"), .device = "way-too-long-name"};
  EXPECT_FALSE(validateRoute(badDevice).ok());
}

TEST(ValidateInterfaceAddress, PrefixLengthPerFamily) {
  EXPECT_TRUE(validateInterfaceAddress({"va", ip("fd00::1"), 128}).ok());
  EXPECT_FALSE(validateInterfaceAddress({"va", ip("10.0.0.1"), 33}).ok());
  EXPECT_FALSE(validateInterfaceAddress({"va", ip("10.0.0.1"), -1}).ok());
}

TEST(Describe, OneLineForms) {
  Route r{.destination = *IpPrefix::parse("10.2.0.0/16"),
          .gateway = ip("10.0.0.1"),
          .device = "va",
          .preferredSource = ip("10.0.0.2")};
  EXPECT_EQ(describe(r), "unicast 10.2.0.0/16 via 10.0.0.1 dev va src 10.0.0.2 table 254");
  EXPECT_EQ(describe(RoutingRule{1, 100, 1000}), "fwmark 1 lookup 100 priority 1000");
  EXPECT_EQ(describe(InterfaceAddress{"br0", ip("10.0.1.1"), 24}), "10.0.1.1/24 dev br0");
  ConntrackFilter f;
  EXPECT_EQ(describe(f), "all");
  f.originalDestination = ip("100.64.0.9");
  f.zone = 3;
  EXPECT_EQ(describe(f), "orig-dst 100.64.0.9 zone 3");
  EXPECT_EQ(describeNamespace(""), "the host namespace");
}

TEST(KernelError, MapsErrnoToCodesWithNameAndWhat) {
  Status exists = kernelError(EEXIST, "RTM_NEWLINK bridge br0 in plv-1");
  EXPECT_EQ(exists.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(exists.message(), "RTM_NEWLINK bridge br0 in plv-1: EEXIST (File exists)");
  for (int err : {ENOENT, ENODEV, ESRCH, EADDRNOTAVAIL}) {
    EXPECT_EQ(kernelError(err, "x").code(), StatusCode::kNotFound) << err;
  }
  Status busy = kernelError(EBUSY, "RTM_DELLINK va in plv-1", "Device busy.");
  EXPECT_EQ(busy.code(), StatusCode::kInternal);
  EXPECT_EQ(busy.message(), "RTM_DELLINK va in plv-1: EBUSY (Device busy.)");
  EXPECT_EQ(kernelError(EPERM, "x").code(), StatusCode::kInternal);
}

TEST(ConntrackMatches, EverySetFieldMustMatch) {
  ConntrackTuple entry{ip("10.0.0.4"), ip("10.0.1.5"), ip("100.64.0.2"), 7};
  EXPECT_TRUE(conntrackMatches({}, entry));
  ConntrackFilter f;
  f.originalSource = ip("10.0.0.4");
  EXPECT_TRUE(conntrackMatches(f, entry));
  f.originalDestination = ip("10.0.1.5");
  f.replySource = ip("100.64.0.2");
  f.zone = 7;
  EXPECT_TRUE(conntrackMatches(f, entry));
  f.zone = 0;
  EXPECT_FALSE(conntrackMatches(f, entry));
  f.zone.reset();
  f.replySource = ip("100.64.0.3");
  EXPECT_FALSE(conntrackMatches(f, entry));
  ConntrackFilter any;  // one of several original destinations (sorted)
  any.originalDestinationIn = {ip("10.0.1.4"), ip("10.0.1.5"), ip("10.0.1.9")};
  EXPECT_TRUE(conntrackMatches(any, entry));
  any.originalDestinationIn = {ip("10.0.1.4"), ip("10.0.1.6")};
  EXPECT_FALSE(conntrackMatches(any, entry));
  EXPECT_EQ(describe(any), "orig-dst-in 10.0.1.4,10.0.1.6");
  ConntrackFilter v6;
  v6.originalSource = ip("fd00::4");  // a different family never matches
  EXPECT_FALSE(conntrackMatches(v6, entry));
}

}  // namespace
}  // namespace privlink::dataplane
