// CounterPublisher (issue #6 item 7) on the fake kernel: it publishes the counters of realised
// endpoints and the NAT ports of realised private link services into the store, writes only
// what changed (plus a heartbeat), erases what is no longer realised, and the agent loop does not
// treat its writes as work (countersOnlyThrough).
#include "agent/counter_publisher.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <thread>

#include "agent/agent.h"
#include "agent/applier.h"
#include "agent/compile.h"
#include "agent/endpoint_counters.h"
#include "control/resource_counters.h"
#include "testing/fake_kernel.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using namespace privlink::testing;
using namespace std::chrono_literals;

const std::string kConsumer = vnetId("rgc", "consumer");
const std::string kConsumerSubnet = subnetId(kConsumer, "default");
const std::string kProvider = vnetId("rgp", "provider");
const std::string kProviderSubnet = subnetId(kProvider, "backends");
const std::string kLb = resourceId("rgp", "Microsoft.Network/loadBalancers", "lb");
const std::string kPool = kLb + "/backendAddressPools/pool";
const std::string kPls = resourceId("rgp", "Microsoft.Network/privateLinkServices", "pls");
const std::string kPe = resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe1");

std::string key(const std::string& id) { return model::normaliseKey(id); }

std::vector<model::SourceDocument> scenario() {
  std::vector<model::SourceDocument> docs = {
      vnetDocument(kConsumer, {"10.0.0.0/16"}),
      subnetDocument(kConsumerSubnet, "10.0.1.0/24"),
      vnetDocument(kProvider, {"10.0.0.0/16"}),
      subnetDocument(kProviderSubnet, "10.0.1.0/24"),
      nicInPoolDocument(nicId("rgp", "web1"), kProviderSubnet, "10.0.1.4", kPool),
      lbDocument(kLb, kProviderSubnet, "10.0.1.10", {{"http", "Tcp", 80, 8080}}),
      plsDocument(kPls, kLb + "/frontendIPConfigurations/fe", kProviderSubnet,
                  {"10.0.1.20", "10.0.1.21"}),
  };
  auto pe = endpointDocuments(kPe, kConsumerSubnet, "10.0.1.9", kPls, 7, "Approved");
  docs.insert(docs.end(), {pe.endpoint, pe.nic, pe.record});
  return withTransit(docs);
}

class CounterPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::openSqliteStore({":memory:"});
    ASSERT_TRUE(store.ok()) << store.status().toString();
    store_ = std::move(store).value();
    snapshot_ = model::parseNetwork(scenario(), 3);
    options_.interval = 5s;
    options_.heartbeat = 60s;
    publisher_ = std::make_unique<CounterPublisher>(
        *store_, model::HostNaming(), options_,
        [this](const std::string& ns, const std::vector<IpAddress>& addresses)
            -> Result<std::vector<dataplane::NatPortUsage>> {
          natCalls_.push_back(ns);
          if (!kernel_.hasNamespace(ns))
            return Status::NotFound("ResourceNotFound", "namespace " + ns + " is absent");
          std::vector<dataplane::NatPortUsage> out;
          for (const IpAddress& a : addresses) {
            out.push_back({a, IPPROTO_TCP, tcpFlows_, tcpFlows_});
            out.push_back({a, IPPROTO_UDP, 0, 0});
          }
          return out;
        });
    publisher_->setTargets(counterTargetsOf(snapshot_, {}));
  }

  void realise() {
    const CompileOptions options;
    HostPlan plan = compile(snapshot_, options, ProbeHealth{});
    ApplyResult applied = Applier(kernel_, model::HostNaming()).apply(plan);
    ASSERT_TRUE(applied.failures.empty()) << applied.failures.begin()->second.toString();
  }

  std::map<std::string, control::CounterSnapshot> stored() {
    std::map<std::string, control::CounterSnapshot> out;
    Status s = store_->read([&](store::ReadView& view) -> Status {
      ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(control::kCountersType));
      for (const store::Document& d : docs) {
        auto parsed = control::parseCounterSnapshot(d.body);
        EXPECT_TRUE(parsed.ok()) << d.body.dump();
        if (parsed.ok()) out[d.key] = *parsed;
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.toString();
    return out;
  }

  std::unique_ptr<store::Store> store_;
  FakeKernel kernel_;
  model::NetworkSnapshot snapshot_;
  CounterPublisherOptions options_;
  std::unique_ptr<CounterPublisher> publisher_;
  std::vector<std::string> natCalls_;
  uint64_t tcpFlows_ = 0;
  const std::chrono::system_clock::time_point t0_ =
      std::chrono::system_clock::time_point(std::chrono::seconds(1796000000));
};

TEST_F(CounterPublisherTest, TargetsAreTheRealisedEndpointsAndServices) {
  CounterTargets targets = counterTargetsOf(snapshot_, {});
  ASSERT_EQ(targets.endpoints.size(), 1u);
  EXPECT_EQ(targets.endpoints[0].key, key(kPe));
  EXPECT_EQ(targets.endpoints[0].consumerVnetKey, key(kConsumer));
  EXPECT_EQ(targets.endpoints[0].targetKey, key(kPls));
  EXPECT_EQ(targets.endpoints[0].linkIdentifier, 7u);
  ASSERT_EQ(targets.services.size(), 1u);
  EXPECT_EQ(
      targets.services[0].natAddressesByVnet.at(key(kProvider)),
      (std::vector<IpAddress>{*IpAddress::parse("10.0.1.20"), *IpAddress::parse("10.0.1.21")}));

  std::map<std::string, Status> failures = {{key(kPe), Status::Internal("nft failed")},
                                            {key(kPls), Status::Internal("nft failed")}};
  CounterTargets none = counterTargetsOf(snapshot_, failures);
  EXPECT_TRUE(none.endpoints.empty());
  EXPECT_TRUE(none.services.empty());
}

TEST_F(CounterPublisherTest, NothingIsWrittenBeforeTheKernelHasTheResources) {
  const int64_t before = store_->revision();
  auto round = publisher_->publish(kernel_, t0_);
  ASSERT_TRUE(round.ok()) << round.status().toString();
  EXPECT_EQ(round->written, 0);
  EXPECT_EQ(round->skipped, 2);
  EXPECT_EQ(store_->revision(), before);
}

TEST_F(CounterPublisherTest, PublishesOnlyChangesAndAHeartbeat) {
  realise();
  auto first = publisher_->publish(kernel_, t0_);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ(first->written, 2);
  EXPECT_EQ(natCalls_, std::vector<std::string>{model::HostNaming().vnetNamespace(key(kProvider))});

  auto docs = stored();
  ASSERT_EQ(docs.size(), 2u);
  const control::CounterSnapshot& pe = docs.at(control::countersKeyOf(key(kPe), "agent"));
  auto direct = readEndpointCounters(kernel_, model::HostNaming(), key(kConsumer), 7);
  ASSERT_TRUE(direct.ok()) << direct.status().toString();
  EXPECT_EQ(pe.resourceId, kPe);
  EXPECT_EQ(pe.bytesIn, direct->bytesIn);
  EXPECT_EQ(pe.connections, direct->connections);
  EXPECT_EQ(pe.rejectedPackets, direct->rejectedPackets);
  EXPECT_FALSE(pe.natPorts.has_value());
  EXPECT_EQ(pe.observedAt, rfc3339Millis(t0_));
  const control::CounterSnapshot& pls = docs.at(control::countersKeyOf(key(kPls), "agent"));
  ASSERT_TRUE(pls.natPorts.has_value());
  EXPECT_EQ(*pls.natPorts, (std::vector<control::NatPortCount>{{"10.0.1.20", "Tcp", 0, 0},
                                                               {"10.0.1.20", "Udp", 0, 0},
                                                               {"10.0.1.21", "Tcp", 0, 0},
                                                               {"10.0.1.21", "Udp", 0, 0}}));
  EXPECT_EQ(pls.connections, pe.connections);  // the sum over its one endpoint

  EXPECT_FALSE(publisher_->due(t0_ + 4s));
  EXPECT_TRUE(publisher_->due(t0_ + 5s));
  const int64_t revision = store_->revision();
  auto same = publisher_->publish(kernel_, t0_ + 5s);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->written, 0);
  EXPECT_EQ(store_->revision(), revision) << "unchanged counters must not be written";

  tcpFlows_ = 3;  // a NAT IP holds ports now: only the service's document changes
  auto changed = publisher_->publish(kernel_, t0_ + 10s);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->written, 1);
  docs = stored();
  EXPECT_EQ(docs.at(control::countersKeyOf(key(kPls), "agent")).natPorts->at(0).portsInUse, 3u);
  EXPECT_EQ(docs.at(control::countersKeyOf(key(kPe), "agent")).observedAt, rfc3339Millis(t0_));

  auto heartbeat = publisher_->publish(kernel_, t0_ + 61s);
  ASSERT_TRUE(heartbeat.ok());
  EXPECT_EQ(heartbeat->written, 1);  // the endpoint's last write is 61 s old
  EXPECT_EQ(stored().at(control::countersKeyOf(key(kPe), "agent")).observedAt,
            rfc3339Millis(t0_ + 61s));
}

TEST_F(CounterPublisherTest, ErasesDocumentsOfResourcesNoLongerRealisedAndOthersHostsStay) {
  realise();
  ASSERT_TRUE(publisher_->publish(kernel_, t0_).ok());
  // Another host's document for the same endpoint is not this publisher's to erase.
  control::CounterSnapshot other;
  other.resourceId = kPe;
  other.host = "host2";
  ASSERT_TRUE(store_
                  ->write([&](store::Transaction& tx) -> Status {
                    return tx
                        .put(control::countersKeyOf(key(kPe), "host2"), control::kCountersType,
                             other.toJson())
                        .status();
                  })
                  .ok());
  ASSERT_EQ(stored().size(), 3u);

  publisher_->setTargets({});
  auto round = publisher_->publish(kernel_, t0_ + 5s);
  ASSERT_TRUE(round.ok()) << round.status().toString();
  EXPECT_EQ(round->erased, 2);
  auto docs = stored();
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs.begin()->first, control::countersKeyOf(key(kPe), "host2"));

  // A restarted publisher (no memory) erases what a previous run of this host left behind.
  ASSERT_TRUE(store_
                  ->write([&](store::Transaction& tx) -> Status {
                    return tx
                        .put(control::countersKeyOf(key(kPls), "agent"), control::kCountersType,
                             other.toJson())
                        .status();
                  })
                  .ok());
  CounterPublisher restarted(
      *store_, model::HostNaming(), options_,
      [](const std::string&,
         const std::vector<IpAddress>&) -> Result<std::vector<dataplane::NatPortUsage>> {
        return std::vector<dataplane::NatPortUsage>{};
      });
  auto cleaned = restarted.publish(kernel_, t0_ + 10s);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_EQ(cleaned->erased, 1);
  EXPECT_EQ(stored().size(), 1u);
}

TEST_F(CounterPublisherTest, CountersOnlyThroughStopsAtTheFirstOtherChange) {
  realise();
  const int64_t start = store_->revision();
  ASSERT_TRUE(publisher_->publish(kernel_, t0_).ok());  // two counters documents
  const int64_t afterCounters = store_->revision();
  ASSERT_EQ(afterCounters, start + 2);
  EXPECT_EQ(control::countersOnlyThrough(*store_, start), afterCounters);
  EXPECT_EQ(control::countersOnlyThrough(*store_, afterCounters), afterCounters);
  auto doc = vnetDocument(vnetId("rgc", "another"), {"10.9.0.0/16"});
  ASSERT_TRUE(store_
                  ->write([&](store::Transaction& tx) -> Status {
                    return tx.put(doc.id, doc.type, doc.body).status();
                  })
                  .ok());
  tcpFlows_ = 1;
  ASSERT_TRUE(publisher_->publish(kernel_, t0_ + 5s).ok());
  EXPECT_EQ(control::countersOnlyThrough(*store_, start), afterCounters);
  EXPECT_EQ(control::countersOnlyThrough(*store_, afterCounters + 1), afterCounters + 2);
}

// An incremental pass patches the targets of the changed endpoints (and of those whose failure
// came or went) only; after every step they equal a fresh counterTargetsOf.
TEST_F(CounterPublisherTest, PatchedTargetsEqualAFreshBuildAfterEveryChange) {
  std::vector<model::SourceDocument> base = scenario();
  auto endpoint = [](int i, const std::string& subnet) {
    return endpointDocuments(
        resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe-many" + std::to_string(i)),
        subnet, "10.0.1." + std::to_string(20 + i), kPls, 100 + i, "Approved");
  };
  auto docsWith = [&](const std::vector<int>& ids, const std::string& subnet) {
    std::vector<model::SourceDocument> docs = base;
    for (int i : ids) {
      auto pe = endpoint(i, subnet);
      docs.insert(docs.end(), {pe.endpoint, pe.nic, pe.record});
    }
    return docs;
  };
  auto peKey = [&](int i) { return key(endpoint(i, kConsumerSubnet).endpoint.key); };
  CounterPublisher publisher(*store_, model::HostNaming(), options_);
  model::NetworkSnapshot snapshot = model::parseNetwork(docsWith({1, 2, 3}, kConsumerSubnet), 3);
  publisher.setTargetsOf(snapshot, {});
  ASSERT_EQ(publisher.targets().endpoints.size(), 4u);
  struct Step {
    std::vector<int> ids;
    std::string subnet;
    std::map<std::string, Status> failures;
    std::set<std::string> changed;
  };
  const Status failed = Status::Internal("injected");
  const std::vector<Step> steps = {
      {{1, 2, 3, 4}, kConsumerSubnet, {}, {peKey(4)}},                            // added
      {{1, 3, 4}, kConsumerSubnet, {}, {peKey(2)}},                               // deleted
      {{1, 3, 4}, kConsumerSubnet, {{peKey(3), failed}}, {}},                     // failed
      {{1, 3, 4}, kConsumerSubnet, {{key(kPls), failed}}, {}},                    // recovered
      {{0, 1, 3, 4}, kConsumerSubnet, {{key(kPls), failed}}, {peKey(0)}},         // first key
      {{0, 1, 3, 4, 5}, subnetId(kConsumer, "absent"), {},
       {peKey(0), peKey(1), peKey(3), peKey(4), peKey(5)}},  // their subnet is gone
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    snapshot = model::parseNetwork(docsWith(steps[i].ids, steps[i].subnet), 10 + i);
    publisher.patchTargets(snapshot, steps[i].failures, steps[i].changed);
    EXPECT_TRUE(publisher.targets() == counterTargetsOf(snapshot, steps[i].failures))
        << "step " << i << ": " << publisher.targets().endpoints.size() << " vs "
        << counterTargetsOf(snapshot, steps[i].failures).endpoints.size();
  }
  EXPECT_EQ(publisher.targets().endpoints.size(), 1u);  // only pe1 of scenario() is left
  EXPECT_EQ(publisher.targets().services.size(), 1u);   // recovered in the last step
}

TEST(Rfc3339Millis, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(rfc3339Millis(
                std::chrono::system_clock::time_point(std::chrono::milliseconds(1796000000123LL))),
            "2026-11-30T00:53:20.123Z");
}

// The running agent publishes, and its own counter writes neither stall the tracker nor need a
// pass: the applied revision follows the store.
TEST(AgentCounters, RunningAgentPublishesAndReportsCounterWritesApplied) {
  auto opened = store::openSqliteStore({":memory:"});
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<store::Store> store = std::move(opened).value();
  control::ProvisioningTracker tracker;
  AgentOptions options;
  options.retryInterval = 50ms;
  options.countersInterval = 50ms;
  // A prefix no namespace in /run/netns has: the real NAT reader finds nothing to count.
  options.namePrefix = "tc" + std::to_string(::getpid());
  Agent agent(*store, tracker, std::make_unique<FakeKernel>(), options);
  for (const model::SourceDocument& d : scenario()) {
    if (d.type == model::kTransitAddressType) continue;  // the agent allocates them
    ASSERT_TRUE(store
                    ->write([&](store::Transaction& tx) -> Status {
                      return tx.put(d.id, d.type, d.body).status();
                    })
                    .ok());
  }
  agent.start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool published = false;
  while (!published && std::chrono::steady_clock::now() < deadline) {
    Status s = store->read([&](store::ReadView& view) -> Status {
      ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(control::kCountersType));
      published = docs.size() == 1;  // the endpoint; the PLS's NAT read needs a real namespace
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok());
    if (!published) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(published) << "no counters document within 10 s";
  EXPECT_TRUE(tracker.waitApplied(store->revision(), 5s))
      << "applied " << tracker.appliedRevision() << " store " << store->revision();
  agent.stop();
}

}  // namespace
}  // namespace privlink::agent
