// PROXY protocol v2 in the agent's plan (DESIGN.md §2): an approved endpoint whose private link
// service has enableProxyProtocol is intercepted in the consumer VNet (pe_proxy element, TPROXY
// rule in the static table body, fwmark rule and local route for the namespace, a planned proxy
// endpoint for the agent's splice proxy) while its UDP keeps the NAT path; endpoints without it
// and unapproved ones get none of that. On the fake kernel, approving, rejecting and removing
// such endpoints are element changes plus the rule/route, never a table rewrite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "agent/agent.h"
#include "agent/applier.h"
#include "agent/compile.h"
#include "model/transit.h"
#include "store/store.h"
#include "testing/fake_kernel.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using namespace privlink::testing;

const std::string kConsumer = vnetId("rgc", "consumer");
const std::string kConsumerSubnet = subnetId(kConsumer, "default");
const std::string kProvider = vnetId("rgp", "provider");
const std::string kProviderSubnet = subnetId(kProvider, "backends");
const std::string kLb = resourceId("rgp", "Microsoft.Network/loadBalancers", "lb");
const std::string kPool = kLb + "/backendAddressPools/pool";
const std::string kPls = resourceId("rgp", "Microsoft.Network/privateLinkServices", "pls");
const std::string kPe = resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe1");
const std::string kPe2 = resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe2");

struct Spec {
  std::string status = "Approved";
  bool proxyProtocol = true;
  bool secondEndpoint = false;
};

std::vector<model::SourceDocument> scenario(const Spec& spec) {
  model::SourceDocument pls = plsDocument(kPls, kLb + "/frontendIPConfigurations/fe",
                                          kProviderSubnet, {"10.0.1.20", "10.0.1.21"});
  pls.body["properties"]["enableProxyProtocol"] = spec.proxyProtocol;
  std::vector<model::SourceDocument> docs = {
      vnetDocument(kConsumer, {"10.0.0.0/16"}),
      subnetDocument(kConsumerSubnet, "10.0.1.0/24"),
      vnetDocument(kProvider, {"10.0.0.0/16"}),
      subnetDocument(kProviderSubnet, "10.0.1.0/24"),
      nicInPoolDocument(nicId("rgp", "web1"), kProviderSubnet, "10.0.1.4", kPool),
      lbDocument(kLb, kProviderSubnet, "10.0.1.10",
                 {{"http", "Tcp", 80, 8080}, {"dns", "Udp", 53, 5353, false}}),
      pls,
  };
  auto pe = endpointDocuments(kPe, kConsumerSubnet, "10.0.1.9", kPls, 7, spec.status);
  docs.insert(docs.end(), {pe.endpoint, pe.nic, pe.record});
  if (spec.secondEndpoint) {
    auto pe2 = endpointDocuments(kPe2, kConsumerSubnet, "10.0.1.8", kPls, 8, "Approved");
    docs.insert(docs.end(), {pe2.endpoint, pe2.nic, pe2.record});
  }
  return withTransit(std::move(docs));
}

HostPlan planOf(const Spec& spec) {
  return compile(model::parseNetwork(scenario(spec), 3), CompileOptions{});
}

std::vector<std::string> elementsOf(const HostPlan& plan, const std::string& set) {
  std::vector<std::string> out;
  for (const auto& [key, e] : plan.nftElements) {
    if (e.set == set) out.push_back(e.key + (e.value.empty() ? "" : " : " + e.value));
  }
  return out;
}

std::string consumerNs() {
  return model::HostNaming().vnetNamespace(model::normaliseKey(kConsumer));
}

std::vector<const PlannedRoute*> proxyRoutes(const HostPlan& plan) {
  std::vector<const PlannedRoute*> out;
  for (const auto& [key, r] : plan.routes) {
    if (r.route.table == kProxyRouteTable) out.push_back(&r);
  }
  return out;
}

TEST(ProxyProtocolCompile, ApprovedProxiedEndpointIsInterceptedAndStillTranslatedForUdp) {
  HostPlan plan = planOf({});
  ASSERT_TRUE(plan.failures.empty()) << plan.render();
  EXPECT_EQ(elementsOf(plan, "pe_proxy"), std::vector<std::string>{"10.0.1.9"});
  // UDP keeps the NAT path: the endpoint stays in pe_dnat (TCP skips it by its mark).
  EXPECT_EQ(elementsOf(plan, "pe_dnat"), std::vector<std::string>{"10.0.1.9 : 100.96.0.7"});
  EXPECT_EQ(elementsOf(plan, "tpe_snat"), std::vector<std::string>{"100.96.0.7 : 10.0.1.21"});

  ASSERT_EQ(plan.proxyEndpoints.size(), 1u);
  const PlannedProxyEndpoint& e = plan.proxyEndpoints.begin()->second;
  EXPECT_EQ(e.ns, consumerNs());
  EXPECT_EQ(e.address.toString(), "10.0.1.9");
  EXPECT_EQ(e.upstream.toString(), "100.96.0.7");
  EXPECT_EQ(e.linkId, 7u);
  EXPECT_EQ(e.owners,
            (std::vector<std::string>{model::normaliseKey(kPe), model::normaliseKey(kPls)}));

  ASSERT_EQ(plan.rules.size(), 1u);
  const PlannedRule& rule = plan.rules.begin()->second;
  EXPECT_EQ(rule.ns, consumerNs());
  EXPECT_EQ(rule.rule, (dataplane::RoutingRule{kProxyMark, kProxyRouteTable, kProxyRulePriority}));
  auto local = proxyRoutes(plan);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0]->ns, consumerNs());
  EXPECT_EQ(local[0]->route.type, dataplane::RouteType::kLocal);
  EXPECT_EQ(local[0]->route.device, "lo");
  EXPECT_EQ(local[0]->route.destination.toString(), "0.0.0.0/0");
  const std::string render = plan.render();
  EXPECT_NE(render.find("rule " + consumerNs() + " fwmark 0x504c0001 table 100 priority 100"),
            std::string::npos)
      << render;
  EXPECT_NE(render.find("proxy " + consumerNs() + " 10.0.1.9 -> 100.96.0.7 link 7"),
            std::string::npos)
      << render;
}

// The proxy opens the upstream connection in the provider VNet itself: from the endpoint's NAT
// IP (the one tpe_snat gives it) to the backend of each hash bucket of the TCP rules (lb_dnat's
// buckets, by frontend port; UDP rules are not proxied); a failed probe empties the buckets.
TEST(ProxyProtocolCompile, DirectUpstreamGoesFromTheNatIpToTheRulesBuckets) {
  HostPlan plan = planOf({});
  ASSERT_EQ(plan.proxyEndpoints.size(), 1u);
  const PlannedProxyEndpoint& e = plan.proxyEndpoints.begin()->second;
  ASSERT_TRUE(e.direct.has_value());
  EXPECT_EQ(e.direct->ns, model::HostNaming().vnetNamespace(model::normaliseKey(kProvider)));
  EXPECT_EQ(e.direct->source.toString(), "10.0.1.21");
  ASSERT_EQ(e.direct->buckets.size(), 1u);
  const auto& http = e.direct->buckets.at(80);
  ASSERT_EQ(http.size(), static_cast<size_t>(kLbBuckets));
  for (const proxy::UpstreamBackend& b : http) {
    EXPECT_EQ(b, (proxy::UpstreamBackend{*IpAddress::parse("10.0.1.4"), 8080}));
  }
  // The same backends as the NAT path's lb_dnat elements for that rule.
  size_t tcpBuckets = 0;
  for (const std::string& el : elementsOf(plan, "lb_dnat")) {
    if (el.find(" . tcp . 80 . ") != std::string::npos) {
      ++tcpBuckets;
      EXPECT_NE(el.find(": 10.0.1.4 . 8080"), std::string::npos) << el;
    }
  }
  EXPECT_EQ(tcpBuckets, http.size());

  ProbeHealth down;
  for (const auto& [key, probe] : plan.probes) down[key] = false;
  ASSERT_FALSE(down.empty());
  HostPlan failed = compile(model::parseNetwork(scenario({}), 3), CompileOptions{}, down);
  const PlannedProxyEndpoint& f = failed.proxyEndpoints.begin()->second;
  ASSERT_TRUE(f.direct.has_value());
  EXPECT_TRUE(f.direct->buckets.at(80).empty()) << "no healthy backend: the port is refused";
}

TEST(ProxyProtocolCompile, TableInterceptsTcpBeforeTheNatChainAndCountsProxiedTraffic) {
  HostPlan plan = planOf({});
  const auto& table = plan.nftTables.at(nftTableKey(consumerNs(), "inet", kVnetTableName));
  const std::string& text = table.text;
  const std::string tproxy =
      "ip daddr @pe_proxy meta l4proto tcp meta mark set 0x504c0001 tproxy ip to :15441";
  const auto tproxyAt = text.find(tproxy);
  ASSERT_NE(tproxyAt, std::string::npos) << text;
  EXPECT_NE(text.rfind("type filter hook prerouting priority mangle;", tproxyAt),
            std::string::npos);
  // Marked (proxied TCP) flows skip the endpoint DNAT; the accept comes first in the nat chain.
  const auto accept = text.find("meta mark 0x504c0001 accept");
  const auto dnat = text.find("dnat ip to ip daddr map @pe_dnat");
  ASSERT_NE(accept, std::string::npos) << text;
  EXPECT_LT(accept, dnat);
  EXPECT_NE(text.find("meta mark 0x504c0001 counter name ip daddr map @pe_out"), std::string::npos);
  EXPECT_NE(text.find("ct direction reply ip saddr @pe_proxy counter name ip saddr map @pe_in"),
            std::string::npos);
  EXPECT_EQ(table.flushOnChange.at("pe_proxy"), 0);
  // The table body does not depend on which endpoints are proxied (element changes only).
  EXPECT_EQ(table.fingerprint, planOf({.proxyProtocol = false})
                                   .nftTables.at(nftTableKey(consumerNs(), "inet", kVnetTableName))
                                   .fingerprint);
}

TEST(ProxyProtocolCompile, EndpointsWithoutProxyProtocolOrNotApprovedGetNoInterception) {
  for (const Spec& spec :
       {Spec{.proxyProtocol = false}, Spec{.status = "Pending"}, Spec{.status = "Rejected"}}) {
    HostPlan plan = planOf(spec);
    EXPECT_TRUE(elementsOf(plan, "pe_proxy").empty()) << spec.status;
    EXPECT_TRUE(plan.proxyEndpoints.empty()) << spec.status;
    for (const auto& [key, rule] : plan.rules) {  // the fast path's reply rule may be there
      EXPECT_NE(rule.rule.fwmark, kProxyMark) << spec.status;
    }
    EXPECT_TRUE(proxyRoutes(plan).empty()) << spec.status;
  }
  EXPECT_EQ(elementsOf(planOf({.status = "Pending"}), "pe_blocked"),
            std::vector<std::string>{"10.0.1.9"});
}

TEST(ProxyProtocolCompile, OneRuleAndRoutePerNamespaceOwnedByEveryProxiedEndpoint) {
  HostPlan plan = planOf({.secondEndpoint = true});
  EXPECT_EQ(plan.proxyEndpoints.size(), 2u);
  ASSERT_EQ(plan.rules.size(), 1u);
  EXPECT_EQ(plan.rules.begin()->second.owners,
            (std::vector<std::string>{model::normaliseKey(kPe), model::normaliseKey(kPe2),
                                      model::normaliseKey(kPls)}));
  EXPECT_EQ(proxyRoutes(plan).size(), 1u);
}

TEST(ProxyProtocolCompile, FrontendMarksNeverCollideWithTheProxyMark) {
  EXPECT_NE(kProxyMark, 0u);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t mark = frontendMark("frontend-" + std::to_string(i));
    EXPECT_NE(mark, kProxyMark);
    EXPECT_NE(mark, 0u);
  }
}

class ProxyProtocolApplierTest : public ::testing::Test {
 protected:
  std::vector<std::string> callsStartingWith(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const std::string& call : kernel_.calls()) {
      if (call.rfind(prefix, 0) == 0) out.push_back(call);
    }
    return out;
  }
  std::string allCalls() const { return ::testing::PrintToString(kernel_.calls()); }

  FakeKernel kernel_;
  Applier applier_{kernel_, model::HostNaming()};
};

TEST_F(ProxyProtocolApplierTest, ApprovingAddsElementsRuleAndLocalRouteWithoutRewritingTables) {
  ApplyResult pending = applier_.apply(planOf({.status = "Pending"}));
  ASSERT_TRUE(pending.failures.empty()) << pending.failures.begin()->second.toString();
  EXPECT_TRUE(callsStartingWith("addRule").empty());

  kernel_.clearCalls();
  ApplyResult approve = applier_.apply(planOf({}));
  ASSERT_TRUE(approve.failures.empty()) << approve.failures.begin()->second.toString();
  const std::string all = allCalls();
  EXPECT_EQ(all.find("delete table"), std::string::npos) << all;
  EXPECT_EQ(all.find("table inet plvnet {"), std::string::npos) << all;
  EXPECT_NE(all.find("add element inet plvnet pe_proxy { 10.0.1.9 }"), std::string::npos) << all;
  EXPECT_NE(all.find("add element inet plvnet pe_dnat { 10.0.1.9 : 100.96.0.7 }"),
            std::string::npos)
      << all;
  ASSERT_EQ(callsStartingWith("addRule").size(), 1u) << all;
  EXPECT_NE(callsStartingWith("addRule")[0].find(consumerNs()), std::string::npos);
  ASSERT_EQ(callsStartingWith("addRoute").size(), 2u) << all;  // backbone T_pe, consumer local
  // The rule and route exist before the element that sends packets to them.
  const auto& calls = kernel_.calls();
  auto index = [&](const std::string& prefix) {
    return std::find_if(calls.begin(), calls.end(),
                        [&](const std::string& c) { return c.rfind(prefix, 0) == 0; }) -
           calls.begin();
  };
  ASSERT_LT(index("nftUpdateElements"), static_cast<std::ptrdiff_t>(calls.size())) << all;
  EXPECT_LT(index("addRule"), index("nftUpdateElements"));

  kernel_.clearCalls();
  EXPECT_EQ(applier_.apply(planOf({})).changes, 0) << allCalls();  // idempotent
}

TEST_F(ProxyProtocolApplierTest, RejectingRemovesElementRuleAndRouteAndFlushesConntrack) {
  ASSERT_TRUE(applier_.apply(planOf({})).failures.empty());
  kernel_.clearCalls();
  ApplyResult reject = applier_.apply(planOf({.status = "Rejected"}));
  ASSERT_TRUE(reject.failures.empty()) << reject.failures.begin()->second.toString();
  const std::string all = allCalls();
  EXPECT_NE(all.find("delete element inet plvnet pe_proxy { 10.0.1.9 }"), std::string::npos) << all;
  EXPECT_EQ(callsStartingWith("deleteRule").size(), 1u) << all;
  bool localRouteDeleted = false;
  for (const std::string& call : callsStartingWith("deleteRoute")) {
    localRouteDeleted = localRouteDeleted || call.find("table 100") != std::string::npos;
  }
  EXPECT_TRUE(localRouteDeleted) << all;
  EXPECT_EQ(all.find("delete table"), std::string::npos) << all;
  bool flushedPe = false;
  for (const std::string& call : callsStartingWith("conntrackDelete")) {
    flushedPe = flushedPe || call.find("10.0.1.9") != std::string::npos;
  }
  EXPECT_TRUE(flushedPe) << all;
  kernel_.clearCalls();
  EXPECT_EQ(applier_.apply(planOf({.status = "Rejected"})).changes, 0) << allCalls();
}

TEST_F(ProxyProtocolApplierTest, RuleStaysWhileAnotherProxiedEndpointRemains) {
  ASSERT_TRUE(applier_.apply(planOf({.secondEndpoint = true})).failures.empty());
  kernel_.clearCalls();
  ASSERT_TRUE(
      applier_.apply(planOf({.status = "Rejected", .secondEndpoint = true})).failures.empty());
  EXPECT_TRUE(callsStartingWith("deleteRule").empty()) << allCalls();
  EXPECT_TRUE(callsStartingWith("addRule").empty()) << allCalls();
  const std::string all = allCalls();
  EXPECT_NE(all.find("delete element inet plvnet pe_proxy { 10.0.1.9 }"), std::string::npos) << all;
  EXPECT_EQ(all.find("10.0.1.8 }"), std::string::npos) << all;
}

TEST_F(ProxyProtocolApplierTest, OrphanRulesInOwnedNamespacesAreDeleted) {
  ASSERT_TRUE(applier_.apply(planOf({.proxyProtocol = false})).failures.empty());
  // A rule left behind (e.g. by a crash between passes) in an owned namespace.
  ASSERT_TRUE(
      kernel_.addRule(consumerNs(), {kProxyMark, kProxyRouteTable, kProxyRulePriority}).ok());
  kernel_.clearCalls();
  ASSERT_TRUE(applier_.apply(planOf({.proxyProtocol = false})).failures.empty());
  EXPECT_EQ(callsStartingWith("deleteRule").size(), 1u) << allCalls();
}

// The Agent hands planned proxy endpoints to its splice proxy after applying; on the fake kernel
// the namespace does not exist on the host, so the listener cannot open and the endpoint (and its
// PLS) fail with the step named, until the endpoint no longer needs the proxy. A unique name
// prefix keeps the proxy away from any real namespace.
TEST(ProxyProtocolAgent, ListenerThatCannotOpenIsAFailureOfTheProxiedEndpoint) {
  auto store = store::openSqliteStore({":memory:"});
  ASSERT_TRUE(store.ok()) << store.status().toString();
  control::ProvisioningTracker tracker;
  AgentOptions options;
  options.namePrefix = "u" + std::to_string(::getpid()) + "x";
  Agent agent(**store, tracker, std::make_unique<FakeKernel>(), options);
  auto putAll = [&](const Spec& spec) {
    Status s = (*store)->write([&](store::Transaction& tx) -> Status {
      for (const auto& doc : scenario(spec)) {
        if (doc.type == model::kTransitAddressType) continue;  // the agent allocates them
        auto put = tx.put(doc.id, doc.type, doc.body);
        if (!put.ok()) return put.status();
      }
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.toString();
  };
  putAll({});
  auto pass = agent.runOnce();
  ASSERT_TRUE(pass.ok()) << pass.status().toString();
  auto failure = pass->failures.find(model::normaliseKey(kPe));
  ASSERT_NE(failure, pass->failures.end());
  EXPECT_NE(failure->second.message().find("opening the PROXY protocol listener on port 15441"),
            std::string::npos)
      << failure->second.toString();
  EXPECT_TRUE(pass->failures.count(model::normaliseKey(kPls)));

  putAll({.proxyProtocol = false});
  pass = agent.runOnce();
  ASSERT_TRUE(pass.ok()) << pass.status().toString();
  EXPECT_TRUE(pass->failures.empty()) << pass->failures.begin()->second.toString();
}

}  // namespace
}  // namespace privlink::agent
