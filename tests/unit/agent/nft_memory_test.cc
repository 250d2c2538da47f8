// The applier's nftables memory (applier.h): element changes go out as one raw element batch
// (Kernel::nftUpdateElements) and the table is listed only at the start, after someone else
// committed to the namespace's nftables (generation moved), after a failure, and at the periodic
// verification. Also the fake kernel's side of the seam.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "agent/applier.h"
#include "agent/plan_builder.h"
#include "testing/fake_kernel.h"

namespace privlink::agent {
namespace {

using testing::FakeKernel;

const std::string kNs = "plv-1a2b3c4d";

// Counts table listings (FakeKernel records mutating calls only).
class ListCountingKernel : public FakeKernel {
 public:
  Result<std::string> nftListTable(const std::string& ns, const std::string& family,
                                   const std::string& table) override {
    ++listings;
    return FakeKernel::nftListTable(ns, family, table);
  }
  int listings = 0;
};

// One namespace with table inet plvnet: a set, a map, a counter map, and `n` endpoints
// 10.0.16.<i> (set element, map element, counter and counter reference each).
HostPlan planWith(int n) {
  HostPlan plan;
  PlanBuilder b(plan);
  b.addNamespace(kNs, {"vnet"});
  b.addNftTable(kNs, "inet", "plvnet",
                "  set blocked { type ipv4_addr; }\n"
                "  map dnat { type ipv4_addr : ipv4_addr; }\n"
                "  map out { type ipv4_addr : counter; }\n",
                {"vnet"}, {{"dnat", 0}});
  for (int i = 0; i < n; ++i) {
    const std::string ip = "10.0.16." + std::to_string(i);
    const std::string owner = "pe" + std::to_string(i);
    const std::string counter = "pe" + std::to_string(i) + "o";
    b.addElement(kNs, "plvnet", "dnat", ip, "100.96.0." + std::to_string(i), {owner});
    b.addElement(kNs, "plvnet", "", counter, "", {owner});
    b.addElement(kNs, "plvnet", "out", ip, "\"" + counter + "\"", {owner});
  }
  return plan;
}

std::vector<std::string> callsStartingWith(const FakeKernel& kernel, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& call : kernel.calls()) {
    if (call.rfind(prefix, 0) == 0) out.push_back(call);
  }
  return out;
}

class NftMemoryTest : public ::testing::Test {
 protected:
  ListCountingKernel kernel_;
  Applier applier_{kernel_, model::HostNaming()};
};

TEST_F(NftMemoryTest, AddingAnEndpointIsOneRawBatchWithoutListingTheTable) {
  ApplyResult first = applier_.apply(planWith(3));
  ASSERT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();
  kernel_.listings = 0;
  kernel_.clearCalls();

  ApplyResult add = applier_.apply(planWith(4));
  ASSERT_TRUE(add.failures.empty()) << add.failures.begin()->second.toString();
  EXPECT_EQ(kernel_.listings, 0);
  EXPECT_TRUE(callsStartingWith(kernel_, "nftApply").empty());
  auto batches = callsStartingWith(kernel_, "nftUpdateElements");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0],
            "nftUpdateElements " + kNs + " inet plvnet\n"
            "add counter inet plvnet pe3o\n"
            "add element inet plvnet dnat { 10.0.16.3 : 100.96.0.3 }\n"
            "add element inet plvnet out { 10.0.16.3 : \"pe3o\" }\n");
  EXPECT_EQ(add.steps.size(), 2u);  // the batch and the conntrack flush of the new address
  EXPECT_EQ(applier_.apply(planWith(4)).changes, 0);
  EXPECT_EQ(kernel_.listings, 0);

  // Removing it: deletions of elements before the counter they reference.
  kernel_.clearCalls();
  ASSERT_TRUE(applier_.apply(planWith(3)).failures.empty());
  batches = callsStartingWith(kernel_, "nftUpdateElements");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0],
            "nftUpdateElements " + kNs + " inet plvnet\n"
            "delete element inet plvnet dnat { 10.0.16.3 }\n"
            "delete element inet plvnet out { 10.0.16.3 }\n"
            "delete counter inet plvnet pe3o\n");
  EXPECT_EQ(kernel_.listings, 0);
}

TEST_F(NftMemoryTest, AnotherCommitInTheNamespaceMakesTheNextPassListAndRepair) {
  ASSERT_TRUE(applier_.apply(planWith(3)).failures.empty());
  kernel_.listings = 0;
  // Someone else deletes an element: the namespace's nftables generation moves.
  ASSERT_TRUE(kernel_.nftApply(kNs, "delete element inet plvnet dnat { 10.0.16.1 }\n").ok());
  kernel_.clearCalls();

  ApplyResult repair = applier_.apply(planWith(3));
  ASSERT_TRUE(repair.failures.empty()) << repair.failures.begin()->second.toString();
  EXPECT_EQ(kernel_.listings, 1);
  auto batches = callsStartingWith(kernel_, "nftUpdateElements");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_NE(batches[0].find("add element inet plvnet dnat { 10.0.16.1 : 100.96.0.1 }"),
            std::string::npos)
      << batches[0];
  // Remembered again: the pass after lists nothing.
  kernel_.listings = 0;
  EXPECT_EQ(applier_.apply(planWith(3)).changes, 0);
  EXPECT_EQ(kernel_.listings, 0);
}

TEST_F(NftMemoryTest, AFailedBatchIsReportedAndTheNextPassListsAgainAndConverges) {
  ASSERT_TRUE(applier_.apply(planWith(2)).failures.empty());
  kernel_.injectFailure("nftUpdateElements", 1, EBUSY);
  ApplyResult failed = applier_.apply(planWith(3));
  ASSERT_EQ(failed.failures.count("pe2"), 1u);
  EXPECT_NE(failed.failures.at("pe2").message().find("update 3 elements of nft table inet plvnet"),
            std::string::npos)
      << failed.failures.at("pe2").message();
  kernel_.listings = 0;
  ApplyResult retry = applier_.apply(planWith(3));
  EXPECT_TRUE(retry.failures.empty());
  EXPECT_EQ(kernel_.listings, 1);
  EXPECT_EQ(applier_.apply(planWith(3)).changes, 0);
}

TEST_F(NftMemoryTest, ADeletedTableIsReloadedWithoutListing) {
  ASSERT_TRUE(applier_.apply(planWith(2)).failures.empty());
  ASSERT_TRUE(kernel_.nftApply(kNs, "delete table inet plvnet\n").ok());
  kernel_.clearCalls();
  ApplyResult r = applier_.apply(planWith(2));
  ASSERT_TRUE(r.failures.empty());
  auto loads = callsStartingWith(kernel_, "nftApply");
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_NE(loads[0].find("table inet plvnet {"), std::string::npos);
  EXPECT_NE(loads[0].find("add element inet plvnet dnat { 10.0.16.1 : 100.96.0.1 }"),
            std::string::npos);
  EXPECT_EQ(applier_.apply(planWith(2)).changes, 0);
}

TEST(NftMemoryVerifyTest, AZeroVerifyIntervalListsEveryPass) {
  ListCountingKernel kernel;
  Applier applier(kernel, model::HostNaming(), std::chrono::milliseconds(0));
  ASSERT_TRUE(applier.apply(planWith(2)).failures.empty());
  kernel.listings = 0;
  EXPECT_EQ(applier.apply(planWith(2)).changes, 0);
  EXPECT_EQ(kernel.listings, 1);
  EXPECT_EQ(applier.apply(planWith(2)).changes, 0);
  EXPECT_EQ(kernel.listings, 2);
}

TEST(FakeKernelNftElements, RecordsTheBatchBumpsTheGenerationAndRefusesAMissingTable) {
  FakeKernel kernel;
  ASSERT_TRUE(kernel.createNamespace(kNs).ok());
  EXPECT_EQ(*kernel.nftGeneration(kNs), 1u);
  EXPECT_EQ(kernel.nftUpdateElements(kNs, "inet", "plvnet", {{true, "s", "10.0.0.1", ""}}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(*kernel.nftGeneration(kNs), 1u);
  ASSERT_TRUE(kernel.nftApply(kNs, "table inet plvnet {\n  set s { type ipv4_addr; }\n}\n").ok());
  EXPECT_EQ(*kernel.nftGeneration(kNs), 2u);
  ASSERT_TRUE(kernel
                  .nftUpdateElements(kNs, "inet", "plvnet",
                                     {{true, "", "c1", ""}, {true, "s", "10.0.0.1", ""}})
                  .ok());
  EXPECT_EQ(*kernel.nftGeneration(kNs), 3u);
  EXPECT_EQ(kernel.calls().back(),
            "nftUpdateElements " + kNs + " inet plvnet\n"
            "add counter inet plvnet c1\n"
            "add element inet plvnet s { 10.0.0.1 }\n");
  NftTableContents contents = parseNftTableContents(*kernel.nftListTable(kNs, "inet", "plvnet"));
  EXPECT_EQ(contents.sets["s"].count("10.0.0.1"), 1u);
  EXPECT_EQ(contents.counters.count("c1"), 1u);
  EXPECT_EQ(kernel.nftUpdateElements(kNs, "inet", "plvnet", {{true, "", "c2", "x"}}).code(),
            StatusCode::kInvalidArgument);
  kernel.injectFailure("nftUpdateElements", 1, EBUSY);
  EXPECT_EQ(kernel.nftUpdateElements(kNs, "inet", "plvnet", {{false, "s", "10.0.0.1", ""}}).code(),
            StatusCode::kInternal);
  EXPECT_EQ(*kernel.nftGeneration(kNs), 3u);
  EXPECT_FALSE(kernel.nftGeneration("plv-nosuch00").ok());
}

}  // namespace
}  // namespace privlink::agent
