// Agent over an in-memory SQLite store and FakeKernel: transit allocation in the store, reports to
// the ProvisioningTracker (Succeeded / Failed naming the kernel step), retry after a failure,
// parse failures per key, and the background thread following the change feed.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "model/naming.h"
#include "model/transit.h"
#include "testing/fake_kernel.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using namespace privlink::testing;
using namespace std::chrono_literals;
using control::ProvisioningState;

const std::string kVnet = vnetId("rg", "vnet1");
const std::string kSubnet = subnetId(kVnet, "default");
const std::string kNic = nicId("rg", "nic1");

std::string key(const std::string& id) { return model::normaliseKey(id); }

class AgentUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::openSqliteStore({":memory:"});
    ASSERT_TRUE(store.ok()) << store.status().toString();
    store_ = std::move(store).value();
    auto kernel = std::make_unique<FakeKernel>();
    kernel_ = kernel.get();
    AgentOptions options;
    options.retryInterval = 50ms;
    agent_ = std::make_unique<Agent>(*store_, tracker_, std::move(kernel), options);
  }

  void put(const model::SourceDocument& doc) {
    Status s = store_->write([&](store::Transaction& tx) -> Status {
      return tx.put(doc.id, doc.type, doc.body).status();
    });
    ASSERT_TRUE(s.ok()) << s.toString();
  }
  void erase(const std::string& id) {
    Status s = store_->write([&](store::Transaction& tx) -> Status { return tx.erase(key(id)); });
    ASSERT_TRUE(s.ok()) << s.toString();
  }
  std::map<std::string, std::string> transit() {
    std::map<std::string, std::string> out;
    Status s = store_->read([&](store::ReadView& view) -> Status {
      auto docs = view.listType(model::kTransitAddressType);
      if (!docs.ok()) return docs.status();
      for (const auto& d : *docs) out[d.body.value("vnetKey", "")] = d.body.value("address", "");
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok());
    return out;
  }
  void putNetwork() {
    put(vnetDocument(kVnet, {"10.0.0.0/16"}));
    put(subnetDocument(kSubnet, "10.0.1.0/24"));
    put(nicDocument(kNic, kSubnet, "10.0.1.4"));
  }

  std::unique_ptr<store::Store> store_;
  control::ProvisioningTracker tracker_;
  FakeKernel* kernel_ = nullptr;
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentUnitTest, RealisesTheStoreAndReportsSucceeded) {
  putNetwork();
  const int64_t written = store_->revision();
  auto pass = agent_->runOnce();
  ASSERT_TRUE(pass.ok()) << pass.status().toString();
  EXPECT_TRUE(pass->failures.empty()) << pass->failures.begin()->second.toString();
  EXPECT_GT(pass->revision, written);  // it read after writing the transit address
  EXPECT_TRUE(kernel_->hasNamespace(model::nicNamespace(key(kNic))));
  EXPECT_TRUE(kernel_->hasNamespace(model::vnetNamespace(key(kVnet))));
  EXPECT_EQ(tracker_.stateOf(key(kNic), written), ProvisioningState::kSucceeded);
  EXPECT_EQ(tracker_.appliedRevision(), pass->revision);

  auto addresses = transit();
  ASSERT_EQ(addresses.size(), 1u);
  auto range = IpPrefix::parse("100.64.0.0/10").value();
  EXPECT_TRUE(model::isVnetTransitAddress(range, *IpAddress::parse(addresses[key(kVnet)])));

  auto again = agent_->runOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->apply.changes, 0);
  EXPECT_EQ(again->revision, pass->revision);  // no store write either
}

TEST_F(AgentUnitTest, TransitAddressesAreStableAndReleasedWithTheirVnet) {
  putNetwork();
  ASSERT_TRUE(agent_->runOnce().ok());
  const std::string first = transit()[key(kVnet)];
  const std::string other = vnetId("rg", "other");
  put(vnetDocument(other, {"10.0.0.0/16"}));
  ASSERT_TRUE(agent_->runOnce().ok());
  auto both = transit();
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[key(kVnet)], first);
  EXPECT_NE(both[key(other)], first);

  erase(other);
  ASSERT_TRUE(agent_->runOnce().ok());
  EXPECT_EQ(transit().count(key(other)), 0u);
  EXPECT_FALSE(kernel_->hasNamespace(model::vnetNamespace(key(other))));
}

TEST_F(AgentUnitTest, KernelFailureMakesTheResourceFailedNamingTheStepThenTheRetrySucceeds) {
  putNetwork();
  const int64_t written = store_->revision();
  kernel_->injectFailure("createVethPair", 1, EPERM);  // the first veth: the backbone's
  kernel_->injectFailure("writeNamespaceFile", 1, EBUSY);
  auto pass = agent_->runOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(tracker_.stateOf(key(kNic), written), ProvisioningState::kFailed);
  auto failure = tracker_.failureOf(key(kNic), written);
  ASSERT_TRUE(failure.has_value());
  EXPECT_NE(failure->message().find("write /etc/netns/" + model::nicNamespace(key(kNic)) +
                                    "/resolv.conf"),
            std::string::npos)
      << failure->message();
  EXPECT_NE(failure->message().find("EBUSY"), std::string::npos);
  auto vnetFailure = tracker_.failureOf(key(kVnet), written);
  ASSERT_TRUE(vnetFailure.has_value());
  EXPECT_NE(vnetFailure->message().find("create veth"), std::string::npos)
      << vnetFailure->message();

  ASSERT_TRUE(agent_->runOnce().ok());
  EXPECT_EQ(tracker_.stateOf(key(kNic), written), ProvisioningState::kSucceeded);
  EXPECT_EQ(tracker_.stateOf(key(kVnet), written), ProvisioningState::kSucceeded);
}

TEST_F(AgentUnitTest, MalformedDocumentFailsOnlyItsKey) {
  putNetwork();
  auto broken = nicDocument(nicId("rg", "broken"), kSubnet, "10.0.1.5");
  broken.body["properties"]["ipConfigurations"] = 17;
  put(broken);
  const int64_t written = store_->revision();
  ASSERT_TRUE(agent_->runOnce().ok());
  EXPECT_EQ(tracker_.stateOf(key(broken.id), written), ProvisioningState::kFailed);
  EXPECT_EQ(tracker_.failureOf(key(broken.id), written)->armCode(), "InvalidResourceDocument");
  EXPECT_EQ(tracker_.stateOf(key(kNic), written), ProvisioningState::kSucceeded);
}

TEST_F(AgentUnitTest, BackgroundThreadFollowsTheChangeFeed) {
  agent_->start();
  putNetwork();
  ASSERT_TRUE(tracker_.waitApplied(store_->revision(), 10s));
  EXPECT_EQ(tracker_.stateOf(key(kNic), 1), ProvisioningState::kSucceeded);
  erase(kNic);
  ASSERT_TRUE(tracker_.waitApplied(store_->revision(), 10s));
  agent_->stop();
  EXPECT_FALSE(kernel_->hasNamespace(model::nicNamespace(key(kNic))));
}

TEST_F(AgentUnitTest, NothingSucceedsBeforeTheFirstReport) {
  putNetwork();
  const int64_t written = store_->revision();
  tracker_.addRealiser("agent", 0);
  EXPECT_EQ(tracker_.stateOf(key(kNic), written), ProvisioningState::kUpdating);
  ASSERT_TRUE(agent_->runOnce().ok());
  EXPECT_EQ(tracker_.stateOf(key(kNic), written), ProvisioningState::kSucceeded);
}

TEST_F(AgentUnitTest, CleanupAllRemovesEveryOwnedNamespace) {
  putNetwork();
  ASSERT_TRUE(agent_->runOnce().ok());
  FakeKernel other;
  ASSERT_TRUE(other.createNamespace("plbb").ok());
  ASSERT_TRUE(other.createNamespace("keep").ok());
  EXPECT_TRUE(Agent::cleanupAll(other).ok());
  EXPECT_FALSE(other.hasNamespace("plbb"));
  EXPECT_TRUE(other.hasNamespace("keep"));
}

}  // namespace
}  // namespace privlink::agent
