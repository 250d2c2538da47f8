// Integration test of the raw nf_tables element batch (Kernel::nftUpdateElements,
// Kernel::nftGeneration, the raw Kernel::nftListTables) against the real kernel (root). Works in
// one namespace named pltest<pid>-nb, deleted in TearDown also after a failed assertion (and by
// the next run if this process died).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "dataplane/kernel.h"
#include "dataplane/netns.h"
#include "dataplane/nft_batch.h"

namespace privlink::dataplane {
namespace {

// The table of a VNet namespace in miniature: every key/data type the agent's tables use.
const char* kTable =
    "table inet plvnet {\n"
    "  map pe_dnat { type ipv4_addr : ipv4_addr; }\n"
    "  set pe_blocked { type ipv4_addr; }\n"
    "  map tpe_fe { type ipv4_addr . ipv4_addr : mark; }\n"
    "  map lb_dnat { type mark . inet_proto . inet_service . mark : ipv4_addr . inet_service; }\n"
    "  map pe_out { type ipv4_addr : counter; }\n"
    "  set v6 { type ipv6_addr; }\n"
    "  chain c { type filter hook forward priority filter; policy accept; "
    "counter name ip daddr map @pe_out; }\n"
    "}\n";

class NftBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    removeStale();
    kernel_ = makeLinuxKernel();
    ASSERT_TRUE(kernel_->createNamespace(ns_).ok());
    Status loaded = kernel_->nftApply(ns_, kTable);
    ASSERT_TRUE(loaded.ok()) << loaded.toString();
  }
  void TearDown() override {
    if (kernel_) (void)kernel_->deleteNamespace(ns_);
  }
  // Namespaces of earlier runs of this test whose process is gone.
  void removeStale() {
    auto names = listPersistentNamespaces();
    if (!names.ok()) return;
    for (const std::string& name : *names) {
      if (name == ns_) (void)deletePersistentNamespace(name);
      if (name.rfind("pltest", 0) != 0 || name.size() < 3 ||
          name.compare(name.size() - 3, 3, "-nb") != 0) {
        continue;
      }
      const int pid = std::atoi(name.c_str() + 6);
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) (void)deletePersistentNamespace(name);
    }
  }
  std::string listing() {
    auto text = kernel_->nftListTable(ns_, "inet", "plvnet");
    EXPECT_TRUE(text.ok()) << text.status().toString();
    return text.ok() ? *text : "";
  }
  static bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  const std::string ns_ = "pltest" + std::to_string(getpid()) + "-nb";
  std::unique_ptr<Kernel> kernel_;
};

TEST_F(NftBatchTest, AddsAndDeletesElementsOfEveryTypeAsNftPrintsThem) {
  auto before = kernel_->nftGeneration(ns_);
  ASSERT_TRUE(before.ok()) << before.status().toString();
  std::vector<NftElementChange> add = {
      {true, "", "pe7o", ""},
      {true, "pe_dnat", "10.0.1.9", "100.96.0.7"},
      {true, "pe_blocked", "10.0.1.8", ""},
      {true, "tpe_fe", "100.64.0.9 . 100.96.0.7", "0x504c0003"},
      {true, "lb_dnat", "0x00000001 . tcp . 5201 . 0x0000003f", "10.0.1.4 . 5202"},
      {true, "pe_out", "10.0.1.9", "\"pe7o\""},
      {true, "v6", "fd00::1", ""},
  };
  Status s = kernel_->nftUpdateElements(ns_, "inet", "plvnet", add);
  ASSERT_TRUE(s.ok()) << s.toString();
  auto after = kernel_->nftGeneration(ns_);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
  const std::string text = listing();
  EXPECT_TRUE(has(text, "10.0.1.9 : 100.96.0.7")) << text;
  EXPECT_TRUE(has(text, "elements = { 10.0.1.8 }")) << text;
  EXPECT_TRUE(has(text, "100.64.0.9 . 100.96.0.7 : 0x504c0003")) << text;
  EXPECT_TRUE(has(text, "0x00000001 . tcp . 5201 . 0x0000003f : 10.0.1.4 . 5202")) << text;
  EXPECT_TRUE(has(text, "10.0.1.9 : \"pe7o\"")) << text;
  EXPECT_TRUE(has(text, "counter pe7o")) << text;
  EXPECT_TRUE(has(text, "fd00::1")) << text;
  // Adding what exists with the same value is a no-op.
  EXPECT_TRUE(kernel_->nftUpdateElements(ns_, "inet", "plvnet", {add[1]}).ok());

  std::vector<NftElementChange> remove;
  for (auto it = add.rbegin(); it != add.rend(); ++it) {
    remove.push_back({false, it->set, it->key, ""});
  }
  std::stable_partition(remove.begin(), remove.end(),
                        [](const NftElementChange& c) { return !c.set.empty(); });
  s = kernel_->nftUpdateElements(ns_, "inet", "plvnet", remove);
  ASSERT_TRUE(s.ok()) << s.toString();
  const std::string empty = listing();
  EXPECT_FALSE(has(empty, "10.0.1.9")) << empty;
  EXPECT_FALSE(has(empty, "pe7o")) << empty;
  EXPECT_FALSE(has(empty, "fd00::1")) << empty;
}

TEST_F(NftBatchTest, TheBatchIsAllOrNothingAndErrorsNameTheirCause) {
  const auto before = *kernel_->nftGeneration(ns_);
  // The second change deletes an element that is not there: nothing of the batch stays.
  Status s = kernel_->nftUpdateElements(ns_, "inet", "plvnet",
                                        {{true, "pe_blocked", "10.0.1.5", ""},
                                         {false, "pe_blocked", "10.0.1.6", ""}});
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.toString();
  EXPECT_FALSE(has(listing(), "10.0.1.5"));
  EXPECT_EQ(*kernel_->nftGeneration(ns_), before);
  // Text the raw path cannot encode is refused before anything is sent.
  s = kernel_->nftUpdateElements(ns_, "inet", "plvnet", {{true, "pe_blocked", "not-an-ip", ""}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
  s = kernel_->nftUpdateElements(ns_, "inet", "plvnet", {{true, "nosuchset", "10.0.1.5", ""}});
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.toString();
  s = kernel_->nftUpdateElements(ns_, "inet", "nosuchtable", {{true, "s", "10.0.1.5", ""}});
  EXPECT_FALSE(s.ok());
  // A map element's value must match the map: a set element has none.
  s = kernel_->nftUpdateElements(ns_, "inet", "plvnet", {{true, "pe_blocked", "10.0.1.5", "1"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
}

TEST_F(NftBatchTest, TablesAreListedWithoutTheirElements) {
  auto tables = kernel_->nftListTables(ns_);
  ASSERT_TRUE(tables.ok()) << tables.status().toString();
  EXPECT_EQ(*tables, std::vector<std::string>{"inet plvnet"});
  ASSERT_TRUE(kernel_->nftApply(ns_, "table ip plother {\n}\n").ok());
  tables = kernel_->nftListTables(ns_);
  ASSERT_TRUE(tables.ok());
  std::sort(tables->begin(), tables->end());
  EXPECT_EQ(*tables, (std::vector<std::string>{"inet plvnet", "ip plother"}));
}

}  // namespace
}  // namespace privlink::dataplane
