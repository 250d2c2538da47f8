// The eBPF fast path of private endpoints (agent/fast_path.h): what compile() plans for it
// (translated vs counted-only endpoints, the provider's tpe_fast element, reply rule and route)
// and how applyFastPath/withdrawFastPath converge the fake kernel's tc attachments and pinned
// maps (idempotent; Reject withdraws before the nft change; the last endpoint unpins; a backbone
// failure keeps the consumer untranslated), plus the per-CPU counters in readEndpointCounters and
// the pins' removal by cleanupAll.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "agent/agent.h"
#include "agent/applier.h"
#include "agent/compile.h"
#include "agent/endpoint_counters.h"
#include "agent/fast_path.h"
#include "agent/incremental.h"
#include "model/host_naming.h"
#include "testing/fake_kernel.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using namespace privlink::testing;

const std::string kConsumer = vnetId("rgc", "consumer");
const std::string kConsumerSubnet = subnetId(kConsumer, "default");
const std::string kConsumerSubnet2 = subnetId(kConsumer, "second");
const std::string kProvider = vnetId("rgp", "provider");
const std::string kProviderSubnet = subnetId(kProvider, "backends");
const std::string kLb = resourceId("rgp", "Microsoft.Network/loadBalancers", "lb");
const std::string kPool = kLb + "/backendAddressPools/pool";
const std::string kPls = resourceId("rgp", "Microsoft.Network/privateLinkServices", "pls");
const std::string kPe = resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe1");
const std::string kPe2 = resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe2");

// Overlapping VNets (the backend 10.0.1.4 has the client's address); pe1 (link 7) with `status`,
// pe2 (link 8) Approved when `second`.
std::vector<model::SourceDocument> scenario(const std::string& status, bool second = false,
                                            bool proxyProtocol = false) {
  std::vector<model::SourceDocument> docs = {
      vnetDocument(kConsumer, {"10.0.0.0/16"}),
      subnetDocument(kConsumerSubnet, "10.0.1.0/24"),
      subnetDocument(kConsumerSubnet2, "10.0.2.0/24"),
      nicDocument(nicId("rgc", "client"), kConsumerSubnet, "10.0.1.4"),
      vnetDocument(kProvider, {"10.0.0.0/16"}),
      subnetDocument(kProviderSubnet, "10.0.1.0/24"),
      nicInPoolDocument(nicId("rgp", "web1"), kProviderSubnet, "10.0.1.4", kPool),
      lbDocument(kLb, kProviderSubnet, "10.0.1.10", {{"http", "Tcp", 80, 8080}}),
      plsDocument(kPls, kLb + "/frontendIPConfigurations/fe", kProviderSubnet, {"10.0.1.20"}),
  };
  if (proxyProtocol) docs.back().body["properties"]["enableProxyProtocol"] = true;
  auto pe = endpointDocuments(kPe, kConsumerSubnet, "10.0.1.9", kPls, 7, status);
  docs.insert(docs.end(), {pe.endpoint, pe.nic, pe.record});
  if (second) {
    auto pe2 = endpointDocuments(kPe2, kConsumerSubnet, "10.0.1.8", kPls, 8, "Approved");
    docs.insert(docs.end(), {pe2.endpoint, pe2.nic, pe2.record});
  }
  return withTransit(docs);
}

HostPlan planOf(const std::vector<model::SourceDocument>& docs) {
  return compile(model::parseNetwork(docs, 3), CompileOptions{}, {});
}

std::string wire(const char* address) {
  uint32_t value = htonl(IpAddress::parse(address).value().v4Value());
  return std::string(reinterpret_cast<const char*>(&value), 4);
}

const model::HostNaming kNaming;
const std::string kConsumerNs = kNaming.vnetNamespace(model::normaliseKey(kConsumer));
const std::string kProviderNs = kNaming.vnetNamespace(model::normaliseKey(kProvider));
const std::string kBackboneNs = kNaming.backboneNamespace();

TEST(FastPathCompile, ApprovedEndpointIsTranslatedOthersOnlyCounted) {
  HostPlan plan = planOf(scenario("Approved", true));
  ASSERT_TRUE(plan.failures.empty()) << plan.render();
  ASSERT_EQ(plan.fastEndpoints.size(), 2u);
  const PlannedFastEndpoint& e =
      plan.fastEndpoints.at(proxyEndpointKey(kConsumerNs, IpAddress::parse("10.0.1.9").value()));
  EXPECT_TRUE(e.translate);
  EXPECT_EQ(e.linkId, 7u);
  EXPECT_EQ(e.transit.toString(), "100.96.0.7");
  EXPECT_EQ(e.bridges.size(), 2u);  // every subnet of the consumer VNet
  EXPECT_EQ(e.uplink, model::HostNaming::uplinkName(model::normaliseKey(kConsumer)));
  EXPECT_EQ(e.backboneNs, kBackboneNs);
  EXPECT_EQ(e.providerBackboneLink,
            model::HostNaming::backboneUplinkName(model::normaliseKey(kProvider)));
  EXPECT_NE(e.consumerTransit, e.providerTransit);
  EXPECT_EQ(e.owners.size(), 2u);  // the endpoint and the private link service

  // The provider maps T_pe for sources that are not transit addresses, and routes replies back.
  bool fastElement = false;
  for (const auto& [key, el] : plan.nftElements) {
    if (el.set == "tpe_fast" && el.key == "100.96.0.7" && el.ns == kProviderNs) fastElement = true;
  }
  EXPECT_TRUE(fastElement);
  EXPECT_TRUE(plan.rules.count(ruleKey(
      kProviderNs, dataplane::RoutingRule{kPeReplyMark, kPeReplyRouteTable, kPeReplyRulePriority})));
  bool replyRoute = false;
  for (const auto& [key, r] : plan.routes) {
    replyRoute |= r.ns == kProviderNs && r.route.table == kPeReplyRouteTable;
  }
  EXPECT_TRUE(replyRoute);

  for (const std::string status : {"Pending", "Rejected", "Disconnected"}) {
    HostPlan blocked = planOf(scenario(status));
    ASSERT_EQ(blocked.fastEndpoints.size(), 1u) << status;
    EXPECT_FALSE(blocked.fastEndpoints.begin()->second.translate) << status;
    EXPECT_TRUE(blocked.rules.empty()) << status;
  }
  // PPv2 endpoints keep the TPROXY path: counted, not translated.
  HostPlan proxied = planOf(scenario("Approved", false, true));
  ASSERT_EQ(proxied.fastEndpoints.size(), 1u);
  EXPECT_FALSE(proxied.fastEndpoints.begin()->second.translate);
}

class FastPathApplyTest : public ::testing::Test {
 protected:
  ApplyResult pass(const HostPlan& plan) {
    ApplyResult withdrawn;
    withdrawFastPath(kernel_, plan, kNaming, withdrawn);
    ApplyResult result = applier_.apply(plan);
    applyFastPath(kernel_, plan, kNaming, result);
    mergeApplyResult(std::move(withdrawn), result);
    return result;
  }
  std::map<std::string, std::string> attachments(const std::string& ns) {
    std::map<std::string, std::string> out;
    auto list = kernel_.tcListAttachments(ns);
    EXPECT_TRUE(list.ok()) << list.status().toString();
    if (list.ok()) {
      for (const auto& a : *list) out[a.link] = a.program;
    }
    return out;
  }
  std::map<std::string, std::string> map(const std::string& ns, const char* name) {
    auto dump = kernel_.bpfMapDump(ns, name);
    return dump.ok() ? *dump : std::map<std::string, std::string>{};
  }

  FakeKernel kernel_;
  Applier applier_{kernel_, kNaming};
};

TEST_F(FastPathApplyTest, ApprovedEndpointAttachesAndFillsTheMapsOnce) {
  ApplyResult first = pass(planOf(scenario("Approved")));
  ASSERT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();

  auto consumer = attachments(kConsumerNs);
  EXPECT_EQ(consumer.size(), 4u);  // two bridges, the uplink and the client NIC's veth
  EXPECT_EQ(consumer[model::HostNaming::nicLinkName(model::normaliseKey(nicId("rgc", "client")))],
            PL_FP_PROG_BACKEND_IN);
  EXPECT_EQ(consumer[model::HostNaming::uplinkName(model::normaliseKey(kConsumer))],
            PL_FP_PROG_CONSUMER_IN);
  EXPECT_EQ(consumer[model::HostNaming::bridgeName(model::normaliseKey(kConsumerSubnet))],
            PL_FP_PROG_CONSUMER_OUT);
  auto backbone = attachments(kBackboneNs);
  EXPECT_EQ(backbone.size(), 2u);
  for (const auto& [link, program] : backbone) EXPECT_EQ(program, PL_FP_PROG_BACKBONE);
  // The provider: its uplink (pl_svc) and every NIC's host-side veth (pl_rflow replies).
  auto provider = attachments(kProviderNs);
  const std::string web1Link = model::HostNaming::nicLinkName(model::normaliseKey(nicId("rgp", "web1")));
  EXPECT_EQ(provider.size(), 2u);
  EXPECT_EQ(provider[model::HostNaming::uplinkName(model::normaliseKey(kProvider))],
            PL_FP_PROG_CONSUMER_IN);
  EXPECT_EQ(provider[web1Link], PL_FP_PROG_BACKEND_IN);
  auto svc = map(kProviderNs, PL_FP_MAP_SVC);
  ASSERT_EQ(svc.size(), 1u);
  pl_svc_value sv{};
  std::memcpy(&sv, svc.at(wire("100.96.0.7")).data(), sizeof sv);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&sv.nat_ip), 4), wire("10.0.1.20"));
  // Every bucket of the one TCP rule (port 80) leads to web1:8080 through its veth.
  auto lb = map(kProviderNs, PL_FP_MAP_LB);
  ASSERT_EQ(lb.size(), static_cast<size_t>(kLbBuckets));
  for (const auto& [key, value] : lb) {
    pl_lb_key k{};
    pl_lb_value lv{};
    std::memcpy(&k, key.data(), sizeof k);
    std::memcpy(&lv, value.data(), sizeof lv);
    EXPECT_EQ(k.mark, sv.mark);
    EXPECT_EQ(k.port, htons(80));
    EXPECT_EQ(k.proto, IPPROTO_TCP);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(&lv.backend), 4), wire("10.0.1.4"));
    EXPECT_EQ(lv.port, htons(8080));
    EXPECT_EQ(lv.ifindex, kernel_.linkIfindex(kProviderNs, web1Link).value());
  }
  // The consumer hands replies straight to the client NIC's veth.
  auto nic = map(kConsumerNs, PL_FP_MAP_NIC);
  ASSERT_EQ(nic.size(), 1u);
  pl_nic_value nv{};
  std::memcpy(&nv, nic.at(wire("10.0.1.4")).data(), sizeof nv);
  EXPECT_EQ(nv.ifindex,
            kernel_.linkIfindex(kConsumerNs, model::HostNaming::nicLinkName(
                                                 model::normaliseKey(nicId("rgc", "client"))))
                .value());

  auto pe = map(kConsumerNs, PL_FP_MAP_PE);
  ASSERT_EQ(pe.size(), 1u);
  pl_pe_value v{};
  std::memcpy(&v, pe.at(wire("10.0.1.9")).data(), sizeof v);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&v.transit), 4), wire("100.96.0.7"));
  EXPECT_EQ(v.link_id, 7u);
  auto tpe = map(kConsumerNs, PL_FP_MAP_TPE);
  ASSERT_EQ(tpe.size(), 1u);
  pl_tpe_value t{};
  std::memcpy(&t, tpe.at(wire("100.96.0.7")).data(), sizeof t);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&t.address), 4), wire("10.0.1.9"));

  auto bb = map(kBackboneNs, PL_FP_MAP_BB);
  ASSERT_EQ(bb.size(), 1u);
  pl_bb_value b{};
  std::memcpy(&b, bb.at(wire("100.96.0.7")).data(), sizeof b);
  const std::string cLink = model::HostNaming::backboneUplinkName(model::normaliseKey(kConsumer));
  const std::string pLink = model::HostNaming::backboneUplinkName(model::normaliseKey(kProvider));
  EXPECT_EQ(b.consumer_ifindex, kernel_.linkIfindex(kBackboneNs, cLink).value());
  EXPECT_EQ(b.provider_ifindex, kernel_.linkIfindex(kBackboneNs, pLink).value());
  EXPECT_NE(b.consumer_ifindex, b.provider_ifindex);
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_STATS).size(), 1u);
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_CONFIG).size(), 1u);

  // Clients' translated packets go to the consumer's uplink, with its MAC and its backbone
  // peer's, without a FIB lookup (pl_uplink).
  auto uplink = map(kConsumerNs, PL_FP_MAP_UPLINK);
  ASSERT_EQ(uplink.size(), 1u);
  pl_uplink_value up{};
  std::memcpy(&up, uplink.at(std::string(4, '\0')).data(), sizeof up);
  const std::string consumerUplink = model::HostNaming::uplinkName(model::normaliseKey(kConsumer));
  EXPECT_EQ(up.ifindex, kernel_.linkIfindex(kConsumerNs, consumerUplink).value());
  auto macOf = [&](const std::string& ns, const std::string& link) {
    auto links = kernel_.listLinks(ns);
    for (const auto& l : links.value()) {
      if (l.name == link) return l.macAddress;
    }
    return std::string();
  };
  auto text = [](const uint8_t* mac) {
    char out[18];
    std::snprintf(out, sizeof out, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                  mac[3], mac[4], mac[5]);
    return std::string(out);
  };
  EXPECT_EQ(text(up.smac), macOf(kConsumerNs, consumerUplink));
  EXPECT_EQ(text(up.dmac), macOf(kBackboneNs, cLink));
  EXPECT_NE(text(up.smac), text(up.dmac));
  EXPECT_TRUE(map(kProviderNs, PL_FP_MAP_UPLINK).empty());  // a provider only: no clients

  EXPECT_EQ(pass(planOf(scenario("Approved"))).changes, 0);  // converged: nothing to do
}

TEST_F(FastPathApplyTest, RejectWithdrawsBeforeTheNftChangeAndKeepsTheCounters) {
  ASSERT_TRUE(pass(planOf(scenario("Approved", true))).failures.empty());
  kernel_.setBpfElementRaw(kConsumerNs, PL_FP_MAP_STATS, fastPathLinkKey(7),
                           std::string(2 * sizeof(pl_pe_stats), '\1'));
  kernel_.clearCalls();
  ApplyResult reject = pass(planOf(scenario("Rejected", true)));
  ASSERT_TRUE(reject.failures.empty()) << reject.failures.begin()->second.toString();
  // The map entries go before any nft batch of the pass.
  const auto& calls = kernel_.calls();
  auto firstDelete = std::find_if(calls.begin(), calls.end(), [](const std::string& c) {
    return c.rfind("bpfMapDelete " + kConsumerNs + " pl_pe ", 0) == 0;
  });
  auto firstNft = std::find_if(calls.begin(), calls.end(),
                               [](const std::string& c) { return c.rfind("nftApply", 0) == 0; });
  ASSERT_NE(firstDelete, calls.end()) << ::testing::PrintToString(calls);
  EXPECT_LT(firstDelete - calls.begin(), firstNft - calls.begin());
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_PE).count(wire("10.0.1.9")), 0u);
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_PE).count(wire("10.0.1.8")), 1u);
  EXPECT_EQ(map(kBackboneNs, PL_FP_MAP_BB).count(wire("100.96.0.7")), 0u);
  // The rejected endpoint still exists: its counters stay, untouched.
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_STATS).at(fastPathLinkKey(7)),
            std::string(2 * sizeof(pl_pe_stats), '\1'));
}

// Rejecting one of two endpoints deletes the provider's eBPF flows (both directions) of that
// endpoint's T_pe before the applier runs, and only those.
TEST_F(FastPathApplyTest, RejectDeletesTheProviderFlowsOfThatEndpointOnly) {
  ASSERT_TRUE(pass(planOf(scenario("Approved", true))).failures.empty());
  auto flow = [&](const char* tpe, uint16_t natPort) {
    pl_flow_key k{};
    std::memcpy(&k.saddr, wire("10.0.1.4").data(), 4);
    std::memcpy(&k.daddr, wire(tpe).data(), 4);
    k.sport = htons(40000);
    k.dport = htons(80);
    k.proto = IPPROTO_TCP;
    pl_flow_value v{};
    std::memcpy(&v.backend, wire("10.0.1.4").data(), 4);
    std::memcpy(&v.nat_ip, wire("10.0.1.20").data(), 4);
    v.backend_port = htons(8080);
    v.nat_port = htons(natPort);
    v.proto = IPPROTO_TCP;
    pl_flow_key r{v.backend, v.nat_ip, v.backend_port, v.nat_port, IPPROTO_TCP, {}};
    kernel_.setBpfElementRaw(kProviderNs, PL_FP_MAP_FLOW,
                             std::string(reinterpret_cast<const char*>(&k), sizeof k),
                             std::string(reinterpret_cast<const char*>(&v), sizeof v));
    kernel_.setBpfElementRaw(kProviderNs, PL_FP_MAP_RFLOW,
                             std::string(reinterpret_cast<const char*>(&r), sizeof r),
                             std::string(sizeof(pl_rflow_value), '\0'));
  };
  flow("100.96.0.7", 40001);  // pe1
  flow("100.96.0.8", 40002);  // pe2
  ASSERT_TRUE(pass(planOf(scenario("Rejected", true))).failures.empty());
  auto flows = map(kProviderNs, PL_FP_MAP_FLOW);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows.begin()->first.substr(4, 4), wire("100.96.0.8"));
  EXPECT_EQ(map(kProviderNs, PL_FP_MAP_RFLOW).size(), 1u);
  EXPECT_EQ(map(kProviderNs, PL_FP_MAP_SVC).size(), 1u);
}

TEST_F(FastPathApplyTest, LastEndpointGoneDetachesAndUnpins) {
  ASSERT_TRUE(pass(planOf(scenario("Approved"))).failures.empty());
  ApplyResult pending = pass(planOf(scenario("Pending")));
  ASSERT_TRUE(pending.failures.empty()) << pending.failures.begin()->second.toString();
  EXPECT_TRUE(attachments(kConsumerNs).empty());
  EXPECT_TRUE(attachments(kBackboneNs).empty());
  EXPECT_TRUE(kernel_.bpfListPinned().value().empty());
  EXPECT_EQ(pass(planOf(scenario("Pending"))).changes, 0);
}

TEST_F(FastPathApplyTest, BackboneFailureLeavesTheConsumerUntranslated) {
  kernel_.injectFailure("linkIfindex", 1, EIO);
  ApplyResult failed = pass(planOf(scenario("Approved")));
  ASSERT_TRUE(failed.failures.count(model::normaliseKey(kPe))) << failed.steps.size();
  EXPECT_NE(failed.failures.at(model::normaliseKey(kPe)).toString().find("eBPF fast path"),
            std::string::npos);
  EXPECT_TRUE(map(kConsumerNs, PL_FP_MAP_PE).empty());  // packets keep the nft path
  ApplyResult retried = pass(planOf(scenario("Approved")));
  EXPECT_TRUE(retried.failures.empty()) << retried.failures.begin()->second.toString();
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_PE).size(), 1u);
}

TEST_F(FastPathApplyTest, CountersAddThePerCpuFastPathCounts) {
  ASSERT_TRUE(pass(planOf(scenario("Approved"))).failures.empty());
  pl_pe_stats cpu0{10, 1000, 8, 800, 2};
  pl_pe_stats cpu1{5, 500, 4, 400, 1};
  std::string raw(reinterpret_cast<const char*>(&cpu0), sizeof cpu0);
  raw.append(reinterpret_cast<const char*>(&cpu1), sizeof cpu1);
  kernel_.setBpfElementRaw(kConsumerNs, PL_FP_MAP_STATS, fastPathLinkKey(7), raw);
  auto c = readEndpointCounters(kernel_, kNaming, model::normaliseKey(kConsumer), 7);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->packetsOut, 15u);  // the fake's nft counters are zero
  EXPECT_EQ(c->bytesOut, 1500u);
  EXPECT_EQ(c->packetsIn, 12u);
  EXPECT_EQ(c->bytesIn, 1200u);
  EXPECT_EQ(c->connections, 3u);
  EXPECT_EQ(c->rejectedPackets, 0u);
  EXPECT_EQ(sumFastPathStats("short").packets_out, 0u);
}

TEST_F(FastPathApplyTest, CleanupRemovesThePins) {
  ASSERT_TRUE(pass(planOf(scenario("Approved"))).failures.empty());
  ASSERT_FALSE(kernel_.bpfListPinned().value().empty());
  EXPECT_TRUE(Agent::cleanupAll(kernel_, "pl").ok());
  EXPECT_TRUE(kernel_.bpfListPinned().value().empty());
}

// Consumer + provider of scenario() with `count` Approved endpoints (links 100...) in a /20.
// The last one has `lastStatus`.
std::vector<model::SourceDocument> manyEndpoints(int count,
                                                 const std::string& lastStatus = "Approved") {
  const std::string big = subnetId(kConsumer, "endpoints");
  std::vector<model::SourceDocument> docs = scenario("Approved");
  docs.push_back(subnetDocument(big, "10.0.16.0/20"));
  for (int i = 0; i < count; ++i) {
    const std::string id = resourceId("rgc", "Microsoft.Network/privateEndpoints",
                                      "many" + std::to_string(i));
    const std::string address =
        "10.0." + std::to_string(16 + (i + 4) / 256) + "." + std::to_string((i + 4) % 256);
    auto pe = endpointDocuments(id, big, address, kPls, 100 + i,
                                i + 1 == count ? lastStatus : "Approved");
    docs.insert(docs.end(), {pe.endpoint, pe.nic, pe.record});
  }
  return docs;  // scenario() already added the transit documents
}

// What changed between two plans, as IncrementalCompiler::update reports it (PlanChanges).
template <typename M>
void diffInto(const M& before, const M& after, M& removed, M& added) {
  for (const auto& [key, item] : before) {
    auto it = after.find(key);
    if (it == after.end() || !(it->second == item)) removed.emplace(key, item);
  }
  for (const auto& [key, item] : after) {
    auto it = before.find(key);
    if (it == before.end() || !(it->second == item)) added.emplace(key, item);
  }
}
PlanChanges changesOf(const HostPlan& before, const HostPlan& after) {
  PlanChanges c;
  diffInto(before.namespaces, after.namespaces, c.removed.namespaces, c.added.namespaces);
  diffInto(before.links, after.links, c.removed.links, c.added.links);
  diffInto(before.addresses, after.addresses, c.removed.addresses, c.added.addresses);
  diffInto(before.nftElements, after.nftElements, c.removed.nftElements, c.added.nftElements);
  diffInto(before.fastEndpoints, after.fastEndpoints, c.removed.fastEndpoints,
           c.added.fastEndpoints);
  return c;
}

// Issue #6 item 9: with 1,000 endpoints converged, adding one (an incremental pass's delta)
// writes its 5 elements (pl_bb, pl_pe, pl_tpe, pl_svc, pl_stats) and reads no map, attachment or
// pin list; a full pass afterwards finds nothing to change. Rejecting one (a translated endpoint
// leaves) is no delta: the full functions withdraw it.
TEST_F(FastPathApplyTest, IncrementalAddWritesOnlyTheNewEndpointsElements) {
  FastPathState state;
  auto statePass = [&](const HostPlan& plan, const PlanChanges* changes) {
    ApplyResult withdrawn;
    state.withdraw(kernel_, plan, changes ? &changes->removed : nullptr,
                   changes ? &changes->added : nullptr, kNaming, withdrawn);
    ApplyResult result = applier_.apply(plan);
    state.apply(kernel_, plan, changes ? &changes->removed : nullptr,
                changes ? &changes->added : nullptr, kNaming, result);
    mergeApplyResult(std::move(withdrawn), result);
    return result;
  };
  const HostPlan before = planOf(manyEndpoints(1000));
  ASSERT_EQ(before.fastEndpoints.size(), 1001u);
  ApplyResult first = statePass(before, nullptr);
  ASSERT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();
  EXPECT_FALSE(state.lastPassWasDelta());
  ASSERT_EQ(map(kConsumerNs, PL_FP_MAP_PE).size(), 1001u);

  const HostPlan after = planOf(manyEndpoints(1001));
  const PlanChanges changes = changesOf(before, after);
  ASSERT_EQ(changes.added.fastEndpoints.size(), 1u);
  // Any read of the kernel's fast path state in the delta pass would fail it.
  kernel_.injectFailure("bpfMapDump", 1, EIO);
  kernel_.injectFailure("tcListAttachments", 1, EIO);
  kernel_.injectFailure("bpfListPinned", 1, EIO);
  kernel_.clearCalls();
  ApplyResult add = statePass(after, &changes);
  EXPECT_TRUE(add.failures.empty()) << add.failures.begin()->second.toString();
  EXPECT_TRUE(add.unowned.empty());
  EXPECT_TRUE(state.lastPassWasDelta());
  int bpfWrites = 0;
  for (const std::string& c : kernel_.calls()) {
    if (c.rfind("bpfMap", 0) == 0 || c.rfind("tc", 0) == 0) ++bpfWrites;
  }
  EXPECT_EQ(bpfWrites, 5) << ::testing::PrintToString(kernel_.calls());
  // The injected failures are still pending: the pass read nothing.
  EXPECT_FALSE(kernel_.bpfMapDump(kConsumerNs, PL_FP_MAP_PE).ok());
  EXPECT_FALSE(kernel_.tcListAttachments(kConsumerNs).ok());
  EXPECT_FALSE(kernel_.bpfListPinned().ok());
  const auto& added = changes.added.fastEndpoints.begin()->second;
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_PE).count(fastPathAddressKey(added.address)), 1u);
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_TPE).count(fastPathAddressKey(added.transit)), 1u);
  EXPECT_EQ(map(kProviderNs, PL_FP_MAP_SVC).count(fastPathAddressKey(added.transit)), 1u);
  EXPECT_EQ(map(kBackboneNs, PL_FP_MAP_BB).count(fastPathAddressKey(added.transit)), 1u);
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_STATS).count(fastPathLinkKey(added.linkId)), 1u);
  // The delta left the kernel as a full pass wants it.
  EXPECT_EQ(pass(after).changes, 0);

  // A remembered namespace the applier recreated in the pass: a full (reading) apply.
  const HostPlan third = planOf(manyEndpoints(1002));
  const PlanChanges thirdChanges = changesOf(after, third);
  ApplyResult recreated;
  state.withdraw(kernel_, third, &thirdChanges.removed, &thirdChanges.added, kNaming, recreated);
  EXPECT_TRUE(state.lastPassWasDelta());
  recreated.newNamespaces.insert(kConsumerNs);
  kernel_.injectFailure("bpfMapDump", 1, EIO);
  state.apply(kernel_, third, &thirdChanges.removed, &thirdChanges.added, kNaming, recreated);
  EXPECT_FALSE(state.lastPassWasDelta());
  EXPECT_FALSE(recreated.unowned.empty() && recreated.failures.empty());  // it read the maps
  EXPECT_EQ(statePass(third, nullptr).failures.size(), 0u);
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_PE).size(), 1003u);

  // A translated endpoint leaving is a full (reading) pass and withdraws it.
  const HostPlan afterReject = planOf(manyEndpoints(1002, "Rejected"));
  const PlanChanges rejectChanges = changesOf(third, afterReject);
  ASSERT_EQ(rejectChanges.removed.fastEndpoints.size(), 1u);
  ApplyResult reject = statePass(afterReject, &rejectChanges);
  EXPECT_TRUE(reject.failures.empty()) << reject.failures.begin()->second.toString();
  EXPECT_FALSE(state.lastPassWasDelta());
  const IpAddress gone = rejectChanges.removed.fastEndpoints.begin()->second.address;
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_PE).count(fastPathAddressKey(gone)), 0u);
  EXPECT_EQ(map(kConsumerNs, PL_FP_MAP_PE).size(), 1002u);
}

}  // namespace
}  // namespace privlink::agent
