// Upstream resolver configuration: addresses with and without ports, resolv.conf parsing.
#include <gtest/gtest.h>

#include "dns/responder.h"

namespace privlink::dns {
namespace {

TEST(UpstreamTest, ParsesAddressesAndPorts) {
  auto a = parseUpstream("192.0.2.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->toString(), "192.0.2.1:53");
  auto b = parseUpstream("192.0.2.1:5353");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 5353);
  auto c = parseUpstream("2001:db8::1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->toString(), "[2001:db8::1]:53");
  auto d = parseUpstream("[2001:db8::1]:5300");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 5300);
}

TEST(UpstreamTest, RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"", "resolver.example", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:70000",
                          "[2001:db8::1", "[2001:db8::1]x", "1.2.3.4:5x"}) {
    auto r = parseUpstream(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().toString().find("is not an address"), std::string::npos);
    }
  }
}

TEST(UpstreamTest, ResolvConfNameserversInOrder) {
  auto ups = parseResolvConf(
      "# generated\nsearch example.com\nnameserver 10.0.0.2\n  nameserver   fd00::53\n"
      "nameserver bogus\noptions edns0\nnameserver 127.0.0.53\n");
  ASSERT_EQ(ups.size(), 3u);
  EXPECT_EQ(ups[0].toString(), "10.0.0.2:53");
  EXPECT_EQ(ups[1].toString(), "[fd00::53]:53");
  EXPECT_EQ(ups[2].toString(), "127.0.0.53:53");
  EXPECT_TRUE(parseResolvConf("").empty());
}

}  // namespace
}  // namespace privlink::dns
