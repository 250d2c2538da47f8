// compile(snapshot) -> HostPlan against golden plans in golden/*.txt.
// Regenerate after an intended change: PRIVLINK_UPDATE_GOLDEN=1 ./unit_agent
//   --gtest_filter='CompileGolden*' and review the diff.

#include "agent/compile.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "model/transit.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using model::SourceDocument;
using namespace privlink::testing;

HostPlan compileDocs(const std::vector<SourceDocument>& docs) {
  return compile(model::parseNetwork(docs, 7), CompileOptions{});
}

void expectGolden(const std::string& name, const HostPlan& plan) {
  const std::string path = std::string(PRIVLINK_AGENT_GOLDEN_DIR) + "/" + name + ".txt";
  const std::string actual = plan.render();
  if (const char* update = std::getenv("PRIVLINK_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing golden file " << path
                         << "; run with PRIVLINK_UPDATE_GOLDEN=1 to create it";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "plan differs from " << path;
}

const std::string kVnet1 = vnetId("rg1", "vnet1");
const std::string kVnet2 = vnetId("rg1", "vnet2");

TEST(CompileGolden, EmptySnapshotPlansNothing) {
  HostPlan plan = compileDocs({});
  EXPECT_EQ(plan.render(), "");
}

TEST(CompileGolden, OneNic) {
  expectGolden("one_nic",
               compileDocs(withTransit({
                   vnetDocument(kVnet1, {"10.0.0.0/16"}),
                   subnetDocument(subnetId(kVnet1, "default"), "10.0.1.0/24"),
                   nicDocument(nicId("rg1", "nic1"), subnetId(kVnet1, "default"), "10.0.1.4"),
               })));
}

TEST(CompileGolden, TwoSubnetsTwoNics) {
  expectGolden("two_subnets",
               compileDocs(withTransit({
                   vnetDocument(kVnet1, {"10.0.0.0/16"}),
                   subnetDocument(subnetId(kVnet1, "a"), "10.0.1.0/24"),
                   subnetDocument(subnetId(kVnet1, "b"), "10.0.2.0/24"),
                   nicDocument(nicId("rg1", "nic1"), subnetId(kVnet1, "a"), "10.0.1.4"),
                   nicDocument(nicId("rg1", "nic2"), subnetId(kVnet1, "b"), "10.0.2.4"),
               })));
}

TEST(CompileGolden, ConnectedPeering) {
  expectGolden("peering_connected",
               compileDocs(withTransit({
                   vnetDocument(kVnet1, {"10.1.0.0/16"}),
                   vnetDocument(kVnet2, {"10.2.0.0/16", "10.3.0.0/16"}),
                   peeringDocument(peeringId(kVnet1, "to2"), kVnet2, "Connected"),
                   peeringDocument(peeringId(kVnet2, "to1"), kVnet1, "Connected"),
               })));
}

TEST(CompileGolden, OneSidedPeeringPlansNoLink) {
  HostPlan plan = compileDocs(withTransit({
      vnetDocument(kVnet1, {"10.1.0.0/16"}),
      vnetDocument(kVnet2, {"10.2.0.0/16"}),
      peeringDocument(peeringId(kVnet1, "to2"), kVnet2, "Initiated"),
  }));
  expectGolden("peering_one_side", plan);
  for (const auto& [key, link] : plan.links) EXPECT_NE(link.name.rfind("p-", 0), 0u) << key;
}

TEST(CompileGolden, OverlappingVnetsStayApart) {
  const std::string vnetA = vnetId("rga", "same");
  const std::string vnetB = vnetId("rgb", "same");
  HostPlan plan = compileDocs(withTransit({
      vnetDocument(vnetA, {"10.0.0.0/16"}),
      subnetDocument(subnetId(vnetA, "default"), "10.0.1.0/24"),
      nicDocument(nicId("rga", "nic"), subnetId(vnetA, "default"), "10.0.1.4"),
      vnetDocument(vnetB, {"10.0.0.0/16"}),
      subnetDocument(subnetId(vnetB, "default"), "10.0.1.0/24"),
      nicDocument(nicId("rgb", "nic"), subnetId(vnetB, "default"), "10.0.1.4"),
  }));
  expectGolden("overlapping_vnets", plan);
  // Each 10.x address lives in exactly its own VNet's or NIC's namespace, never in the backbone.
  for (const auto& [key, address] : plan.addresses) {
    if (address.address.address.toString().rfind("10.", 0) == 0) {
      EXPECT_NE(address.ns, "plbb") << key;
      EXPECT_NE(address.ns, "plinet") << key;
    }
  }
}

TEST(CompileGolden, UnrealisableResourcesBecomeFailures) {
  auto brokenVnet = vnetDocument(vnetId("rg1", "broken"), {"10.9.0.0/16"});
  brokenVnet.body["properties"]["addressSpace"]["addressPrefixes"] = "not a prefix";
  auto noAddress = nicDocument(nicId("rg1", "noaddr"), subnetId(kVnet1, "default"), "10.0.1.5");
  noAddress.body["properties"]["ipConfigurations"][0]["properties"].erase("privateIPAddress");
  HostPlan plan = compileDocs(withTransit({
      vnetDocument(kVnet1, {"10.0.0.0/16"}),
      subnetDocument(subnetId(kVnet1, "default"), "10.0.1.0/24"),
      nicDocument(nicId("rg1", "lost"), subnetId(kVnet1, "missing"), "10.0.1.4"),
      nicDocument(nicId("rg1", "outside"), subnetId(kVnet1, "default"), "10.0.2.4"),
      noAddress,
      brokenVnet,
  }));
  // Parse failures are the snapshot's; compile failures name what to fix.
  EXPECT_EQ(plan.failures.size(), 3u);
  EXPECT_NE(
      plan.failures.at(model::normaliseKey(nicId("rg1", "lost"))).message().find("does not exist"),
      std::string::npos);
  EXPECT_NE(plan.failures.at(model::normaliseKey(nicId("rg1", "outside")))
                .message()
                .find("outside subnet"),
            std::string::npos);
  EXPECT_NE(plan.failures.at(model::normaliseKey(nicId("rg1", "noaddr")))
                .message()
                .find("no privateIPAddress"),
            std::string::npos);
  expectGolden("failures", plan);
}

TEST(Compile, PrivateEndpointNicsGetNoWorkloadNamespace) {
  auto peNic = nicDocument(nicId("rg1", "pe.nic.1"), subnetId(kVnet1, "default"), "10.0.1.9");
  peNic.body["properties"]["privateEndpoint"] = {
      {"id",
       "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/"
       "Microsoft.Network/privateEndpoints/pe1"}};
  HostPlan withPe = compileDocs(withTransit({
      vnetDocument(kVnet1, {"10.0.0.0/16"}),
      subnetDocument(subnetId(kVnet1, "default"), "10.0.1.0/24"),
      peNic,
  }));
  HostPlan without = compileDocs(withTransit({
      vnetDocument(kVnet1, {"10.0.0.0/16"}),
      subnetDocument(subnetId(kVnet1, "default"), "10.0.1.0/24"),
  }));
  EXPECT_EQ(withPe.render(), without.render());
}

TEST(Compile, IsDeterministicAndHonoursThePrefix) {
  std::vector<SourceDocument> docs = withTransit({
      vnetDocument(kVnet1, {"10.0.0.0/16"}),
      subnetDocument(subnetId(kVnet1, "default"), "10.0.1.0/24"),
      nicDocument(nicId("rg1", "nic1"), subnetId(kVnet1, "default"), "10.0.1.4"),
  });
  auto snapshot = model::parseNetwork(docs, 3);
  CompileOptions options{model::HostNaming("t42")};
  HostPlan first = compile(snapshot, options);
  EXPECT_EQ(first.render(), compile(snapshot, options).render());
  ASSERT_FALSE(first.namespaces.empty());
  for (const auto& [key, ns] : first.namespaces) {
    EXPECT_EQ(ns.name.rfind("t42", 0), 0u) << ns.name;
    EXPECT_TRUE(options.naming.ownsNamespace(ns.name)) << ns.name;
  }
  for (const auto& [key, link] : first.links) EXPECT_LE(link.name.size(), 15u) << key;
}

}  // namespace
}  // namespace privlink::agent
