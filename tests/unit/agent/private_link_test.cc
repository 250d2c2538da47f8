// Private endpoints and load balancers in the agent: compile (golden plan of two overlapping
// VNets joined by an approved endpoint; approval gates; health moves only the failed backend's
// buckets) and the applier's element diffs on the fake kernel (adding, approving and deleting an
// endpoint is one small element batch, never a table rewrite; removal flushes conntrack), plus
// parsing of nft's printed sets and counters.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "agent/applier.h"
#include "agent/compile.h"
#include "agent/endpoint_counters.h"
#include "model/transit.h"
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

// Both VNets use 10.0.0.0/16; the backend 10.0.1.4 has the very address of the client.
std::vector<model::SourceDocument> scenario(const std::string& status,
                                            bool secondEndpoint = false) {
  std::vector<model::SourceDocument> docs = {
      vnetDocument(kConsumer, {"10.0.0.0/16"}),
      subnetDocument(kConsumerSubnet, "10.0.1.0/24"),
      nicDocument(nicId("rgc", "client"), kConsumerSubnet, "10.0.1.4"),
      vnetDocument(kProvider, {"10.0.0.0/16"}),
      subnetDocument(kProviderSubnet, "10.0.1.0/24"),
      nicInPoolDocument(nicId("rgp", "web1"), kProviderSubnet, "10.0.1.4", kPool),
      nicInPoolDocument(nicId("rgp", "web2"), kProviderSubnet, "10.0.1.5", kPool),
      lbDocument(kLb, kProviderSubnet, "10.0.1.10",
                 {{"http", "Tcp", 80, 8080}, {"dns", "Udp", 53, 5353, false}}),
      plsDocument(kPls, kLb + "/frontendIPConfigurations/fe", kProviderSubnet,
                  {"10.0.1.20", "10.0.1.21"}),
  };
  auto pe = endpointDocuments(kPe, kConsumerSubnet, "10.0.1.9", kPls, 7, status);
  docs.insert(docs.end(), {pe.endpoint, pe.nic, pe.record});
  if (secondEndpoint) {
    auto pe2 = endpointDocuments(kPe2, kConsumerSubnet, "10.0.1.8", kPls, 8, "Approved");
    docs.insert(docs.end(), {pe2.endpoint, pe2.nic, pe2.record});
  }
  return withTransit(docs);
}

HostPlan planOf(const std::vector<model::SourceDocument>& docs, const ProbeHealth& health = {}) {
  return compile(model::parseNetwork(docs, 3), CompileOptions{}, health);
}

std::vector<std::string> elementsOf(const HostPlan& plan, const std::string& set) {
  std::vector<std::string> out;
  for (const auto& [key, e] : plan.nftElements) {
    if (e.set == set) out.push_back(e.key + (e.value.empty() ? "" : " : " + e.value));
  }
  return out;
}

TEST(PrivateLinkCompile, GoldenApprovedEndpointBetweenOverlappingVnets) {
  HostPlan plan = planOf(scenario("Approved"));
  EXPECT_TRUE(plan.failures.empty()) << plan.render();
  const std::string path = std::string(PRIVLINK_AGENT_GOLDEN_DIR) + "/private_endpoint.txt";
  if (const char* update = std::getenv("PRIVLINK_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path) << plan.render();
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing " << path << "; run with PRIVLINK_UPDATE_GOLDEN=1";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), plan.render());
}

TEST(PrivateLinkCompile, ApprovedEndpointTranslatesOnBothSides) {
  HostPlan plan = planOf(scenario("Approved"));
  const std::string tpe =
      model::endpointTransitAddress(IpPrefix::parse("100.64.0.0/10").value(), 7)->toString();
  EXPECT_EQ(tpe, "100.96.0.7");
  EXPECT_EQ(elementsOf(plan, "pe_dnat"), std::vector<std::string>{"10.0.1.9 : " + tpe});
  EXPECT_TRUE(elementsOf(plan, "pe_blocked").empty());
  ASSERT_EQ(elementsOf(plan, "tpe_snat").size(), 1u);
  // NAT IP chosen by link identifier: 7 % 2 = 1.
  EXPECT_EQ(elementsOf(plan, "tpe_snat")[0], tpe + " : 10.0.1.21");
  // 64 buckets per rule: Tcp and Udp.
  EXPECT_EQ(elementsOf(plan, "lb_dnat").size(), 2u * kLbBuckets);
  // The backbone routes T_pe to the provider's uplink.
  bool routed = false;
  for (const auto& [key, route] : plan.routes) {
    if (route.route.destination.toString() == tpe + "/32") routed = true;
  }
  EXPECT_TRUE(routed);
}

TEST(PrivateLinkCompile, PendingRejectedAndDisconnectedEndpointsAreBlockedNotTranslated) {
  for (const std::string status : {"Pending", "Rejected", "Disconnected"}) {
    HostPlan plan = planOf(scenario(status));
    EXPECT_TRUE(elementsOf(plan, "pe_dnat").empty()) << status;
    EXPECT_TRUE(elementsOf(plan, "tpe_fe").empty()) << status;
    EXPECT_EQ(elementsOf(plan, "pe_blocked"), std::vector<std::string>{"10.0.1.9"}) << status;
  }
  // A deleted connection record reads as Disconnected.
  auto docs = scenario("Approved");
  docs.erase(std::remove_if(docs.begin(), docs.end(),
                            [](const auto& d) {
                              return d.type.find("privateendpointconnections") != std::string::npos;
                            }),
             docs.end());
  EXPECT_EQ(elementsOf(planOf(docs), "pe_blocked"), std::vector<std::string>{"10.0.1.9"});
}

TEST(PrivateLinkCompile, UnhealthyBackendLosesOnlyItsOwnBuckets) {
  HostPlan healthy = planOf(scenario("Approved"));
  const std::string target = probeTargetKey(model::normaliseKey(kLb + "/probes/probe"),
                                            IpAddress::parse("10.0.1.5").value());
  ASSERT_TRUE(healthy.probes.count(target)) << healthy.render();
  HostPlan degraded = planOf(scenario("Approved"), {{target, false}});
  int moved = 0;
  int kept = 0;
  for (const auto& [key, e] : healthy.nftElements) {
    if (e.set != "lb_dnat" || e.key.find(" tcp ") == std::string::npos) continue;
    const auto& after = degraded.nftElements.at(key);
    if (e.value.rfind("10.0.1.5 ", 0) == 0) {
      EXPECT_EQ(after.value, "10.0.1.4 . 8080");
      ++moved;
    } else {
      EXPECT_EQ(after.value, e.value);  // buckets of the healthy backend stay put
      ++kept;
    }
  }
  EXPECT_GT(moved, 0);
  EXPECT_GT(kept, 0);
}

TEST(NftContents, ParsesPrettyPrintedSetsMapsAndCounters) {
  const std::string listing =
      "table inet plvnet {\n\tcomment \"privlink abc\"\n\tcounter pe7o {\n"
      "\t\tpackets 3 bytes 180\n\t}\n\n\tmap pe_dnat {\n\t\ttype ipv4_addr : ipv4_addr\n"
      "\t\telements = { 10.0.0.5 : 100.96.0.1, 10.0.0.6 : 100.96.0.2 }\n\t}\n"
      "\tset pe_blocked {\n\t\ttype ipv4_addr\n\t}\n"
      "\tmap lb_dnat {\n\t\ttype mark . inet_proto . inet_service . mark : ipv4_addr . "
      "inet_service\n\t\telements = { 0x00000001 . tcp . 80 . 0x00000000 : 10.1.0.4 . 8080,\n"
      "\t\t\t     0x00000001 . tcp . 80 . 0x00000001 : 10.1.0.5 . 8080 }\n\t}\n"
      "\tmap pe_out {\n\t\ttype ipv4_addr : counter\n\t\telements = { 10.0.0.5 : \"pe7o\" }\n"
      "\t}\n\tchain forward {\n\t\tcounter name ip daddr map @pe_out\n\t}\n}\n";
  NftTableContents c = parseNftTableContents(listing);
  EXPECT_EQ(c.sets["pe_dnat"].size(), 2u);
  EXPECT_EQ(c.sets["pe_dnat"]["10.0.0.6"], "100.96.0.2");
  EXPECT_TRUE(c.sets.count("pe_blocked"));
  EXPECT_TRUE(c.sets["pe_blocked"].empty());
  EXPECT_EQ(c.sets["lb_dnat"]["0x00000001 . tcp . 80 . 0x00000001"], "10.1.0.5 . 8080");
  EXPECT_EQ(c.sets["pe_out"]["10.0.0.5"], "\"pe7o\"");
  ASSERT_EQ(c.counters.size(), 1u);
  EXPECT_EQ(c.counters["pe7o"].packets, 3u);
  EXPECT_EQ(c.counters["pe7o"].bytes, 180u);
}

class PrivateLinkApplierTest : public ::testing::Test {
 protected:
  // nftApply and nftUpdateElements calls made since clearCalls(), as their command text.
  std::vector<std::string> nftBatches() const {
    std::vector<std::string> out;
    for (const std::string& call : kernel_.calls()) {
      if (call.rfind("nftApply", 0) == 0 || call.rfind("nftUpdateElements", 0) == 0) {
        out.push_back(call);
      }
    }
    return out;
  }
  int callsStartingWith(const std::string& prefix) const {
    int n = 0;
    for (const std::string& call : kernel_.calls()) n += call.rfind(prefix, 0) == 0;
    return n;
  }

  FakeKernel kernel_;
  Applier applier_{kernel_, model::HostNaming()};
};

TEST_F(PrivateLinkApplierTest, ApprovingAnEndpointIsOneSmallElementBatch) {
  ApplyResult first = applier_.apply(planOf(scenario("Pending")));
  ASSERT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();
  EXPECT_EQ(applier_.apply(planOf(scenario("Pending"))).changes, 0);

  kernel_.clearCalls();
  ApplyResult approve = applier_.apply(planOf(scenario("Approved")));
  ASSERT_TRUE(approve.failures.empty()) << approve.failures.begin()->second.toString();
  auto batches = nftBatches();
  ASSERT_EQ(batches.size(), 2u);  // consumer and provider VNet, one batch each
  for (const std::string& batch : batches) {
    EXPECT_EQ(batch.find("delete table"), std::string::npos) << batch;
    EXPECT_EQ(batch.find("table inet plvnet {"), std::string::npos) << batch;
  }
  const std::string all = batches[0] + batches[1];
  EXPECT_NE(all.find("delete element inet plvnet pe_blocked { 10.0.1.9 }"), std::string::npos);
  EXPECT_NE(all.find("add element inet plvnet pe_dnat { 10.0.1.9 : 100.96.0.7 }"),
            std::string::npos);
  EXPECT_NE(all.find("add element inet plvnet tpe_snat { 100.96.0.7 : 10.0.1.21 }"),
            std::string::npos);
  // Approving flushes only this endpoint's own (refused, untranslated) entries.
  for (const std::string& call : kernel_.calls()) {
    if (call.rfind("conntrackDelete", 0) != 0) continue;
    EXPECT_TRUE(call.find("10.0.1.9") != std::string::npos ||
                call.find("100.96.0.7") != std::string::npos)
        << call;
  }
  EXPECT_EQ(applier_.apply(planOf(scenario("Approved"))).changes, 0);
}

// Converging many new endpoints flushes conntrack with one dump a namespace, not one per address
// (each dump walks the kernel's global conntrack hash: per address it was O(N x buckets)).
TEST_F(PrivateLinkApplierTest, NewEndpointsFlushConntrackOnceANamespace) {
  ApplyResult first = applier_.apply(planOf(scenario("Approved", true)));
  ASSERT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();
  std::map<std::string, int> perNamespace;
  bool both = false;
  for (const std::string& call : kernel_.calls()) {
    if (call.rfind("conntrackDelete ", 0) != 0) continue;
    const std::string rest = call.substr(std::string("conntrackDelete ").size());
    ++perNamespace[rest.substr(0, rest.find(' '))];
    both |= call.find("orig-dst-in 10.0.1.8,10.0.1.9") != std::string::npos;
  }
  EXPECT_FALSE(perNamespace.empty()) << ::testing::PrintToString(kernel_.calls());
  for (const auto& [ns, count] : perNamespace) EXPECT_EQ(count, 1) << ns;
  EXPECT_TRUE(both) << ::testing::PrintToString(kernel_.calls());
}

TEST_F(PrivateLinkApplierTest, RejectingFlushesTheEndpointsConntrackOnBothSides) {
  ASSERT_TRUE(applier_.apply(planOf(scenario("Approved", true))).failures.empty());
  kernel_.clearCalls();
  ApplyResult reject = applier_.apply(planOf(scenario("Rejected", true)));
  ASSERT_TRUE(reject.failures.empty()) << reject.failures.begin()->second.toString();
  std::vector<std::string> flushes;
  for (const std::string& call : kernel_.calls()) {
    if (call.rfind("conntrackDelete", 0) == 0) flushes.push_back(call);
  }
  ASSERT_EQ(flushes.size(), 2u) << ::testing::PrintToString(kernel_.calls());
  const std::string both = flushes[0] + " " + flushes[1];
  EXPECT_NE(both.find("10.0.1.9"), std::string::npos) << both;    // consumer: PE_IP
  EXPECT_NE(both.find("100.96.0.7"), std::string::npos) << both;  // provider: T_pe
  // The other endpoint (link 8) is untouched.
  for (const std::string& batch : nftBatches()) {
    EXPECT_EQ(batch.find("10.0.1.8 "), std::string::npos) << batch;
    EXPECT_EQ(batch.find("100.96.0.8"), std::string::npos) << batch;
  }
}

TEST_F(PrivateLinkApplierTest, DeletingAnEndpointRemovesItsElementsCountersAndAddress) {
  ASSERT_TRUE(applier_.apply(planOf(scenario("Approved", true))).failures.empty());
  kernel_.clearCalls();
  ApplyResult removed = applier_.apply(planOf(scenario("Approved", false)));
  ASSERT_TRUE(removed.failures.empty()) << removed.failures.begin()->second.toString();
  const std::string all = ::testing::PrintToString(kernel_.calls());
  EXPECT_NE(all.find("delete element inet plvnet pe_dnat { 10.0.1.8 }"), std::string::npos) << all;
  EXPECT_NE(all.find("delete counter inet plvnet pe8o"), std::string::npos) << all;
  EXPECT_NE(all.find("deleteAddress"), std::string::npos) << all;
  EXPECT_EQ(all.find("delete table"), std::string::npos) << all;
  EXPECT_EQ(applier_.apply(planOf(scenario("Approved", false))).changes, 0);
}

TEST_F(PrivateLinkApplierTest, CountersReadBackThroughTheTable) {
  ASSERT_TRUE(applier_.apply(planOf(scenario("Approved"))).failures.empty());
  auto counters =
      readEndpointCounters(kernel_, model::HostNaming(), model::normaliseKey(kConsumer), 7);
  ASSERT_TRUE(counters.ok()) << counters.status().toString();
  EXPECT_EQ(counters->connections, 0u);
  EXPECT_FALSE(
      readEndpointCounters(kernel_, model::HostNaming(), model::normaliseKey(kConsumer), 99).ok());
}

}  // namespace
}  // namespace privlink::agent
