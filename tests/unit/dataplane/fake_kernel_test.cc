// The fake kernel keeps the real kernel's contract (tests/integration/dataplane checks the same
// behaviour against Linux), records calls for golden tests and injects failures.
#include "testing/fake_kernel.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace privlink::testing {
namespace {

using dataplane::ConntrackFilter;
using dataplane::ConntrackTuple;
using dataplane::InterfaceAddress;
using dataplane::LinkInfo;
using dataplane::Route;
using dataplane::RouteType;
using dataplane::RoutingRule;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

template <typename T>
bool contains(const std::vector<T>& items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::vector<std::string> names(const std::vector<LinkInfo>& links) {
  std::vector<std::string> out;
  for (const auto& l : links) out.push_back(l.name);
  return out;
}

class FakeKernelTest : public ::testing::Test {
 protected:
  void expectOk(const Status& s) { EXPECT_TRUE(s.ok()) << s.toString(); }
  // Two namespaces joined by veth va/vb, vb in bridge br0 with 10.0.0.1/24, va 10.0.0.2/24, all up.
  void twoNamespaces() {
    expectOk(k_.createNamespace("a"));
    expectOk(k_.createNamespace("b"));
    expectOk(k_.createVethPair("a", "va", "b", "vb"));
    expectOk(k_.createBridge("b", "br0"));
    expectOk(k_.setLinkMaster("b", "vb", "br0"));
    expectOk(k_.addAddress("b", {"br0", ip("10.0.0.1"), 24}));
    expectOk(k_.addAddress("a", {"va", ip("10.0.0.2"), 24}));
    expectOk(k_.setLinkUp("a", "va", true));
    expectOk(k_.setLinkUp("b", "vb", true));
    expectOk(k_.setLinkUp("b", "br0", true));
  }
  FakeKernel k_;
};

TEST_F(FakeKernelTest, NamespacesStartWithLoopbackDown) {
  expectOk(k_.createNamespace("a"));
  EXPECT_EQ(k_.createNamespace("a").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(k_.createNamespace("a/b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*k_.listNamespaces(), std::vector<std::string>{"a"});
  auto links = k_.listLinks("a");
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].name, "lo");
  EXPECT_EQ((*links)[0].kind, "loopback");
  EXPECT_FALSE((*links)[0].up);
  EXPECT_TRUE((*k_.listLinks(""))[0].up);  // the host's lo is up
  expectOk(k_.deleteNamespace("a"));
  EXPECT_EQ(k_.deleteNamespace("a").code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.listLinks("a").status().code(), StatusCode::kNotFound);
}

TEST_F(FakeKernelTest, VethPairsSpanNamespacesAndDieTogether) {
  twoNamespaces();
  EXPECT_EQ(k_.createVethPair("a", "va", "b", "other").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(k_.createVethPair("a", "new", "b", "vb").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(k_.createVethPair("a", "x", "missing", "y").code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.createVethPair("a", "sixteen-chars-xx", "b", "y").code(),
            StatusCode::kInvalidArgument);
  auto links = *k_.listLinks("b");
  EXPECT_EQ(names(links), (std::vector<std::string>{"lo", "vb", "br0"}));
  EXPECT_EQ(links[1].kind, "veth");
  EXPECT_EQ(links[1].master, "br0");
  EXPECT_EQ(links[1].mtu, 1500);
  EXPECT_EQ(links[1].macAddress.size(), 17u);
  EXPECT_NE(links[1].macAddress, (*k_.listLinks("a"))[1].macAddress);

  expectOk(k_.deleteLink("a", "va"));
  EXPECT_EQ(names(*k_.listLinks("b")), (std::vector<std::string>{"lo", "br0"}));
  EXPECT_EQ(k_.deleteLink("a", "va").code(), StatusCode::kNotFound);

  // Deleting a namespace takes the peers of its veths along.
  expectOk(k_.createVethPair("a", "va", "b", "vb"));
  expectOk(k_.deleteNamespace("a"));
  EXPECT_EQ(names(*k_.listLinks("b")), (std::vector<std::string>{"lo", "br0"}));
}

TEST_F(FakeKernelTest, BridgesAndMasters) {
  twoNamespaces();
  EXPECT_EQ(k_.createBridge("b", "br0").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(k_.setLinkMaster("b", "vb", "nobridge").code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.setLinkMaster("b", "nolink", "br0").code(), StatusCode::kNotFound);
  Status notBridge = k_.setLinkMaster("b", "br0", "vb");
  EXPECT_EQ(notBridge.code(), StatusCode::kInternal);
  EXPECT_NE(notBridge.message().find("EOPNOTSUPP"), std::string::npos) << notBridge.message();
  expectOk(k_.setLinkMaster("b", "vb", ""));
  EXPECT_EQ((*k_.listLinks("b"))[1].master, "");
  expectOk(k_.setLinkMaster("b", "vb", "br0"));
  expectOk(k_.deleteLink("b", "br0"));  // releases its ports
  EXPECT_EQ((*k_.listLinks("b"))[1].master, "");
}

TEST_F(FakeKernelTest, AddressesAndKernelMadeOnes) {
  twoNamespaces();
  EXPECT_EQ(k_.addAddress("a", {"va", ip("10.0.0.2"), 24}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(k_.addAddress("a", {"nolink", ip("10.0.0.3"), 24}).code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.addAddress("a", {"va", ip("10.0.0.3"), 33}).code(), StatusCode::kInvalidArgument);
  auto addresses = *k_.listAddresses("a");
  EXPECT_EQ(addresses, (std::vector<InterfaceAddress>{{"va", ip("10.0.0.2"), 24}}));
  expectOk(k_.setLinkUp("a", "lo", true));
  addresses = *k_.listAddresses("a");
  EXPECT_TRUE(contains(addresses, InterfaceAddress{"lo", ip("127.0.0.1"), 8, true}));
  EXPECT_TRUE(contains(addresses, InterfaceAddress{"lo", ip("::1"), 128, true}));
  expectOk(k_.deleteAddress("a", {"va", ip("10.0.0.2"), 24}));
  EXPECT_EQ(k_.deleteAddress("a", {"va", ip("10.0.0.2"), 24}).code(), StatusCode::kNotFound);
}

TEST_F(FakeKernelTest, RoutesFollowTheKernelsRules) {
  expectOk(k_.createNamespace("a"));
  expectOk(k_.createNamespace("b"));
  expectOk(k_.createVethPair("a", "va", "b", "vb"));
  expectOk(k_.addAddress("a", {"va", ip("10.0.0.2"), 24}));
  Route viaB{.destination = prefix("10.9.0.0/16"), .gateway = ip("10.0.0.1"), .device = "va"};
  // Device down: ENETDOWN; up but gateway off-link: ENETUNREACH.
  Status down = k_.addRoute("a", viaB);
  EXPECT_EQ(down.code(), StatusCode::kInternal);
  EXPECT_NE(down.message().find("ENETDOWN"), std::string::npos) << down.message();
  expectOk(k_.setLinkUp("a", "va", true));
  Route offLink{.destination = prefix("10.9.0.0/16"), .gateway = ip("10.5.0.1"), .device = "va"};
  EXPECT_NE(k_.addRoute("a", offLink).message().find("ENETUNREACH"), std::string::npos);
  expectOk(k_.addRoute("a", viaB));
  EXPECT_EQ(k_.addRoute("a", viaB).code(), StatusCode::kAlreadyExists);
  // Same destination, other gateway: still EEXIST (one route per destination and table).
  Route other = viaB;
  other.gateway = ip("10.0.0.7");
  EXPECT_EQ(k_.addRoute("a", other).code(), StatusCode::kAlreadyExists);
  Route connected{.destination = prefix("10.0.0.0/24"),
                  .device = "va",
                  .preferredSource = ip("10.0.0.2"),
                  .kernelCreated = true};
  EXPECT_EQ(*k_.listRoutes("a", 254), (std::vector<Route>{connected, viaB}));
  EXPECT_EQ(k_.addRoute("a", Route{.destination = prefix("10.0.0.0/24"), .device = "va"}).code(),
            StatusCode::kAlreadyExists);
  Route badSource{
      .destination = prefix("10.8.0.0/16"), .device = "va", .preferredSource = ip("10.0.0.99")};
  EXPECT_NE(k_.addRoute("a", badSource).message().find("EINVAL"), std::string::npos);

  Route local{
      .destination = prefix("0.0.0.0/0"), .device = "lo", .table = 100, .type = RouteType::kLocal};
  expectOk(k_.addRoute("a", local));
  EXPECT_EQ(*k_.listRoutes("a", 100), std::vector<Route>{local});
  expectOk(k_.deleteRoute("a", local));
  EXPECT_EQ(k_.deleteRoute("a", local).code(), StatusCode::kNotFound);

  // Taking the link down removes the routes through it and its IPv6 addresses, as Linux does.
  expectOk(k_.addAddress("a", {"va", ip("fd00::2"), 64}));
  expectOk(k_.setLinkUp("a", "va", false));
  EXPECT_TRUE(k_.listRoutes("a", 254)->empty());
  EXPECT_EQ(*k_.listAddresses("a"), (std::vector<InterfaceAddress>{{"va", ip("10.0.0.2"), 24}}));
}

TEST_F(FakeKernelTest, RulesAndSysctls) {
  expectOk(k_.createNamespace("a"));
  RoutingRule rule{1, 100, 1000};
  expectOk(k_.addRule("a", rule));
  EXPECT_EQ(k_.addRule("a", rule).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*k_.listRules("a"), std::vector<RoutingRule>{rule});
  expectOk(k_.deleteRule("a", rule));
  EXPECT_EQ(k_.deleteRule("a", rule).code(), StatusCode::kNotFound);

  EXPECT_EQ(*k_.getSysctl("a", "net/ipv4/ip_forward"), "0");
  expectOk(k_.setSysctl("a", "net/ipv4/ip_forward", "1"));
  EXPECT_EQ(*k_.getSysctl("a", "net/ipv4/ip_forward"), "1");
  EXPECT_EQ(*k_.getSysctl("", "net/ipv4/ip_forward"), "0");  // per namespace
  EXPECT_EQ(k_.getSysctl("a", "net/ipv4/conf/va/proxy_arp").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.setSysctl("a", "net/ipv4/conf/va/proxy_arp", "1").code(), StatusCode::kNotFound);
  expectOk(k_.createVethPair("a", "va", "a", "vb"));
  EXPECT_EQ(*k_.getSysctl("a", "net/ipv4/conf/va/proxy_arp"), "0");
  expectOk(k_.setSysctl("a", "net/ipv4/conf/va/proxy_arp", "1"));
  EXPECT_EQ(*k_.getSysctl("a", "net/ipv4/conf/va/proxy_arp"), "1");
  EXPECT_EQ(k_.getSysctl("a", "net/ipv4/no_such_key").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.setSysctl("a", "kernel/hostname", "x").code(), StatusCode::kInvalidArgument);
}

TEST_F(FakeKernelTest, NftBatchesAreAllOrNothing) {
  expectOk(k_.createNamespace("a"));
  expectOk(k_.nftApply("a",
                       "table inet plvnet {\n"
                       "  chain pre { type nat hook prerouting priority dstnat; }\n"
                       "}\n"
                       "add table ip plfilter  # comment\n"));
  EXPECT_EQ(*k_.nftListTables("a"), (std::vector<std::string>{"inet plvnet", "ip plfilter"}));
  EXPECT_EQ(*k_.nftListTable("a", "inet", "plvnet"),
            "table inet plvnet {\nchain pre { type nat hook prerouting priority dstnat; }\n}\n");
  expectOk(k_.nftApply("a", "add rule inet plvnet pre ip daddr 10.0.0.5 dnat to 100.64.0.9"));
  EXPECT_NE(k_.nftListTable("a", "inet", "plvnet")->find("dnat to 100.64.0.9"), std::string::npos);

  // One failing command rolls back the whole batch.
  Status missing = k_.nftApply("a", "delete table ip plfilter; add rule ip nosuch c accept");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.nftListTables("a")->size(), 2u);
  EXPECT_EQ(k_.nftApply("a", "create table ip plfilter").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(k_.nftApply("a", "delete table ip nosuch").code(), StatusCode::kNotFound);
  expectOk(k_.nftApply("a", "destroy table ip nosuch"));
  Status syntax = k_.nftApply("a", "this is not nft");
  EXPECT_NE(syntax.message().find("syntax error"), std::string::npos) << syntax.message();
  EXPECT_FALSE(k_.nftApply("a", "table ip x {").ok());

  // The replace idiom: create-if-missing, delete, re-create, in one transaction.
  expectOk(k_.nftApply("a",
                       "table inet plvnet {}\ndelete table inet plvnet\n"
                       "table inet plvnet { chain c { } }\n"));
  EXPECT_EQ(*k_.nftListTable("a", "inet", "plvnet"), "table inet plvnet {\nchain c { }\n}\n");
  expectOk(k_.nftApply("a", "flush ruleset"));
  EXPECT_TRUE(k_.nftListTables("a")->empty());
  EXPECT_EQ(k_.nftListTable("a", "inet", "plvnet").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(k_.nftListTable("a", "ipv4", "x").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FakeKernelTest, ConntrackDeleteCountsMatches) {
  expectOk(k_.createNamespace("a"));
  k_.addConntrackEntry("a", ConntrackTuple{ip("10.0.0.4"), ip("10.0.1.5"), ip("10.0.1.5"), 0});
  k_.addConntrackEntry("a", ConntrackTuple{ip("10.0.0.6"), ip("10.0.1.5"), ip("10.0.1.5"), 0});
  k_.addConntrackEntry("a", ConntrackTuple{ip("10.0.0.4"), ip("10.0.1.9"), ip("10.0.1.9"), 0});
  ConntrackFilter f;
  f.originalDestination = ip("10.0.1.5");
  EXPECT_EQ(*k_.conntrackDelete("a", f), 2);
  EXPECT_EQ(*k_.conntrackDelete("a", f), 0);
  EXPECT_EQ(k_.conntrackCount("a"), 1);
  EXPECT_EQ(k_.conntrackDelete("missing", f).status().code(), StatusCode::kNotFound);
}

TEST_F(FakeKernelTest, NamespaceFiles) {
  expectOk(k_.writeNamespaceFile("pln-1", "resolv.conf", "nameserver 168.63.129.16\n"));
  EXPECT_EQ(k_.namespaceFile("pln-1", "resolv.conf"), "nameserver 168.63.129.16\n");
  EXPECT_EQ(k_.writeNamespaceFile("pln-1", "../x", "").code(), StatusCode::kInvalidArgument);
  expectOk(k_.removeNamespaceFiles("pln-1"));
  EXPECT_EQ(k_.namespaceFile("pln-1", "resolv.conf"), std::nullopt);
  EXPECT_EQ(k_.removeNamespaceFiles("pln-1").code(), StatusCode::kNotFound);
}

TEST_F(FakeKernelTest, RecordsMutatingCallsInOrder) {
  expectOk(k_.createNamespace("a"));
  expectOk(k_.createBridge("a", "br0"));
  (void)k_.listLinks("a");  // reads are not recorded
  EXPECT_EQ(k_.deleteLink("a", "nope").code(), StatusCode::kNotFound);
  expectOk(k_.setLinkUp("a", "br0", true));
  expectOk(k_.addAddress("a", {"br0", ip("10.0.0.1"), 24}));
  expectOk(k_.addRoute(
      "a",
      Route{.destination = prefix("10.9.0.0/16"), .gateway = ip("10.0.0.9"), .device = "br0"}));
  expectOk(k_.setSysctl("", "net/ipv4/ip_forward", "0"));
  expectOk(k_.nftApply("a", "add table inet t\n"));
  EXPECT_EQ(k_.calls(), (std::vector<std::string>{
                            "createNamespace a",
                            "createBridge a br0",
                            "deleteLink a nope => NotFound",
                            "setLinkUp a br0 up",
                            "addAddress a 10.0.0.1/24 dev br0",
                            "addRoute a unicast 10.9.0.0/16 via 10.0.0.9 dev br0 table 254",
                            "setSysctl <host> net/ipv4/ip_forward=0",
                            "nftApply a\nadd table inet t\n",
                        }));
  k_.clearCalls();
  EXPECT_TRUE(k_.calls().empty());
}

TEST_F(FakeKernelTest, InjectedFailureHitsTheNthCallAndChangesNothing) {
  expectOk(k_.createNamespace("a"));
  k_.injectFailure("createBridge", 2, EBUSY);
  k_.injectFailure("listLinks", 1, EPERM);
  expectOk(k_.createBridge("a", "br0"));
  Status busy = k_.createBridge("a", "br1");
  EXPECT_EQ(busy.code(), StatusCode::kInternal);
  EXPECT_NE(busy.message().find("EBUSY"), std::string::npos) << busy.message();
  EXPECT_NE(busy.message().find("br1"), std::string::npos) << busy.message();
  EXPECT_EQ(k_.listLinks("a").status().code(), StatusCode::kInternal);
  auto links = k_.listLinks("a");  // each injection fires once
  ASSERT_TRUE(links.ok());
  EXPECT_EQ(names(*links), (std::vector<std::string>{"lo", "br0"}));
  expectOk(k_.createBridge("a", "br1"));
  k_.injectFailure("createNamespace", 1, EEXIST);
  EXPECT_EQ(k_.createNamespace("b").code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(k_.hasNamespace("b"));
  EXPECT_EQ(k_.calls().back(), "createNamespace b => AlreadyExists");
}

}  // namespace
}  // namespace privlink::testing
