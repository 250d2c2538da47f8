#include "model/transit.h"

#include <gtest/gtest.h>

#include <set>

namespace privlink::model {
namespace {

const IpPrefix kRange = IpPrefix::parse("100.64.0.0/10").value();

TEST(Transit, InfrastructureAddresses) {
  EXPECT_EQ(backboneGatewayAddress(kRange).toString(), "100.64.0.1");
  EXPECT_EQ(internetAddress(kRange).toString(), "100.64.0.2");
  EXPECT_FALSE(isVnetTransitAddress(kRange, IpAddress::parse("100.64.0.2").value()));
  EXPECT_TRUE(isVnetTransitAddress(kRange, IpAddress::parse("100.64.1.0").value()));
  EXPECT_FALSE(isVnetTransitAddress(kRange, IpAddress::parse("100.96.0.0").value()));
  EXPECT_FALSE(isVnetTransitAddress(kRange, IpAddress::parse("10.0.0.1").value()));
}

TEST(Transit, DeterministicAndUnique) {
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("/vnet" + std::to_string(i));
  auto first = allocateTransit(keys, {}, kRange);
  auto second = allocateTransit({keys.rbegin(), keys.rend()}, {}, kRange);
  EXPECT_EQ(first, second);
  std::set<IpAddress> seen;
  for (const auto& [key, address] : first) {
    ASSERT_TRUE(address.has_value());
    EXPECT_TRUE(isVnetTransitAddress(kRange, *address));
    EXPECT_TRUE(seen.insert(*address).second);
  }
}

TEST(Transit, RecordedAddressesWinOverHashes) {
  // "/b" records the address "/a" would hash to: "/a" probes on, "/b" keeps it.
  auto hashed = allocateTransit({"/a"}, {}, kRange);
  auto result = allocateTransit({"/a", "/b"}, {{"/b", *hashed["/a"]}}, kRange);
  EXPECT_EQ(result["/b"], hashed["/a"]);
  ASSERT_TRUE(result["/a"].has_value());
  EXPECT_NE(result["/a"], result["/b"]);
}

TEST(Transit, InvalidRecordsAreReplaced) {
  auto result = allocateTransit({"/a"}, {{"/a", IpAddress::parse("100.64.0.1").value()}}, kRange);
  ASSERT_TRUE(result["/a"].has_value());
  EXPECT_TRUE(isVnetTransitAddress(kRange, *result["/a"]));
}

TEST(Transit, ExhaustedPoolGivesNullopt) {
  // A /23: lower half 256 addresses, all infrastructure; no pool.
  auto tiny = IpPrefix::parse("100.64.0.0/23").value();
  EXPECT_FALSE(allocateTransit({"/a"}, {}, tiny)["/a"].has_value());
}

}  // namespace
}  // namespace privlink::model
