// SpliceProxy's event loops without a network namespace (no root needed): how many loops the
// options give, start/stop life cycle with several loops, per-loop counters.
#include <sched.h>

#include <gtest/gtest.h>

#include "proxy/splice_proxy.h"

namespace privlink::proxy {
namespace {

int cpusAvailable() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(::sched_getaffinity(0, sizeof(set), &set), 0);
  return CPU_COUNT(&set);
}

TEST(SpliceProxyLoops, DefaultIsOneLoopPerAvailableCpu) {
  SpliceProxy proxy;
  EXPECT_EQ(proxy.loopCount(), std::min(cpusAvailable(), 64));
  EXPECT_EQ(proxy.loopCounters().size(), static_cast<size_t>(proxy.loopCount()));
}

TEST(SpliceProxyLoops, ThreadsOptionSetsTheLoopCount) {
  SpliceProxy three({.threads = 3});
  EXPECT_EQ(three.loopCount(), 3);
  SpliceProxy one({.threads = 1});
  EXPECT_EQ(one.loopCount(), 1);
  SpliceProxy capped({.threads = 1000});
  EXPECT_EQ(capped.loopCount(), 64);
}

TEST(SpliceProxyLoops, StartStopCyclesWithSeveralLoops) {
  SpliceProxy proxy({.threads = 4});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(proxy.start().ok());
    const Status again = proxy.start();
    EXPECT_EQ(again.code(), StatusCode::kConflict) << again.toString();
    proxy.stop();
    proxy.stop();  // idempotent
  }
  // Nothing was accepted: every loop's counters are zero, and so is the sum.
  for (const auto& c : proxy.loopCounters()) {
    EXPECT_EQ(c.connectionsAccepted, 0u);
    EXPECT_EQ(c.connectionsActive, 0u);
  }
  EXPECT_EQ(proxy.counters().connectionsClosed, 0u);
  EXPECT_TRUE(proxy.endpointCounters().empty());
}

TEST(SpliceProxyLoops, CommandsReachEveryLoopWhetherRunningOrNot) {
  SpliceProxy proxy({.threads = 3});
  // Stopped: removeNamespace/resetEndpoint run inline on every loop and return.
  proxy.setEndpoints("plnone", {{*IpAddress::parse("10.0.1.4"), {}}});
  proxy.resetEndpoint("plnone", *IpAddress::parse("10.0.1.4"));
  proxy.removeNamespace("plnone");
  // Running: they are executed by each loop's thread and waited for.
  ASSERT_TRUE(proxy.start().ok());
  proxy.resetEndpoint("plnone", *IpAddress::parse("10.0.1.4"));
  proxy.removeNamespace("plnone");
  proxy.stop();
  EXPECT_EQ(proxy.counters().resets, 0u);
}

TEST(SpliceProxyLoops, ListenerInMissingNamespaceIsNotFound) {
  SpliceProxy proxy({.threads = 2});
  auto port = proxy.addListener("plppv2-no-such-ns", 0);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), StatusCode::kNotFound) << port.status().toString();
}

}  // namespace
}  // namespace privlink::proxy
