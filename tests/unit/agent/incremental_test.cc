// The incremental agent pass (agent/incremental.h): over random sequences of endpoint adds,
// updates and deletes (documents, NICs, connection records, approvals), PLS/LB/VNet changes and
// unrelated writes, the followed snapshot and the patched plan equal a fresh full read and
// compile after every step; and an Agent whose passes were incremental leaves the kernel exactly
// where a full pass wants it (the full pass that follows changes nothing).
#include "agent/incremental.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/compile.h"
#include "agent/paas_documents.h"
#include "control/provisioning.h"
#include "model/network.h"
#include "store/store.h"
#include "testing/fake_kernel.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using namespace privlink::testing;
using namespace std::chrono_literals;

const std::string kConsumer = vnetId("rgc", "consumer");
const std::string kConsumerSubnet = subnetId(kConsumer, "default");
const std::string kOtherSubnet = subnetId(kConsumer, "other");
const std::string kProvider = vnetId("rgp", "provider");
const std::string kProviderSubnet = subnetId(kProvider, "backends");
const std::string kLb = resourceId("rgp", "Microsoft.Network/loadBalancers", "lb");
const std::string kPool = kLb + "/backendAddressPools/pool";
const std::string kFrontend = kLb + "/frontendIPConfigurations/fe";
const std::string kPls = resourceId("rgp", "Microsoft.Network/privateLinkServices", "pls");
const std::string kProxyPls = resourceId("rgp", "Microsoft.Network/privateLinkServices", "ppv2");

std::string endpointId(int i) {
  return resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe" + std::to_string(i));
}

class Store {
 public:
  Store() {
    auto store = store::openSqliteStore({":memory:"});
    EXPECT_TRUE(store.ok()) << store.status().toString();
    store_ = std::move(store).value();
  }
  store::Store& get() { return *store_; }
  void put(const std::vector<model::SourceDocument>& docs) {
    Status s = store_->write([&](store::Transaction& tx) -> Status {
      for (const auto& doc : docs) RETURN_IF_ERROR(tx.put(doc.id, doc.type, doc.body).status());
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.toString();
  }
  void erase(const std::string& id) {
    Status s = store_->write([&](store::Transaction& tx) -> Status {
      Status erased = tx.erase(model::normaliseKey(id));
      return erased.code() == StatusCode::kNotFound ? Status::Ok() : erased;
    });
    ASSERT_TRUE(s.ok()) << s.toString();
  }
  // What Agent::readSnapshot reads, parsed: the reference every step is compared with.
  model::NetworkSnapshot fullRead() {
    std::vector<model::SourceDocument> docs;
    int64_t revision = 0;
    Status s = store_->read([&](store::ReadView& view) -> Status {
      revision = view.revision();
      for (std::string_view type :
           {model::kVirtualNetworkType, model::kSubnetType, model::kPeeringType,
            model::kNetworkInterfaceType, model::kTransitAddressType, model::kLoadBalancerType,
            model::kPrivateLinkServiceType, model::kPrivateEndpointType,
            model::kPlsConnectionType}) {
        ASSIGN_OR_RETURN(std::vector<store::Document> found, view.listType(type));
        for (auto& d : found) docs.push_back({d.key, d.id, d.type, d.body});
      }
      return appendPaasDocuments(view, docs);
    });
    EXPECT_TRUE(s.ok()) << s.toString();
    return model::parseNetwork(docs, revision);
  }

 private:
  std::unique_ptr<store::Store> store_;
};

std::vector<model::SourceDocument> baseTopology(bool proxyProtocol, int rules) {
  std::vector<model::SourceDocument> d;
  d.push_back(vnetDocument(kConsumer, {"10.0.0.0/16"}));
  d.push_back(subnetDocument(kConsumerSubnet, "10.0.0.0/17"));
  d.push_back(subnetDocument(kOtherSubnet, "10.0.128.0/24"));
  d.push_back(nicDocument(nicId("rgc", "client"), kConsumerSubnet, "10.0.1.4"));
  d.push_back(vnetDocument(kProvider, {"10.1.0.0/16"}));
  d.push_back(subnetDocument(kProviderSubnet, "10.1.1.0/24"));
  d.push_back(nicInPoolDocument(nicId("rgp", "backend"), kProviderSubnet, "10.1.1.4", kPool));
  std::vector<LbRuleSpec> specs;
  for (int r = 0; r < rules; ++r) {
    specs.push_back({"r" + std::to_string(r), "Tcp", 5201 + r, 5201 + r, false});
  }
  d.push_back(lbDocument(kLb, kProviderSubnet, "10.1.1.10", specs));
  d.push_back(plsDocument(kPls, kFrontend, kProviderSubnet, {"10.1.1.20"}));
  auto proxied = plsDocument(kProxyPls, kFrontend, kProviderSubnet, {"10.1.1.21"});
  proxied.body["properties"]["enableProxyProtocol"] = proxyProtocol;
  d.push_back(proxied);
  return withTransit(d);
}

// One endpoint's documents as the random walk changes them.
struct Endpoint {
  int index = 0;
  std::string address;
  std::string target;
  std::string status;
  std::string subnet;
  EndpointDocuments docs() const {
    return endpointDocuments(endpointId(index), subnet, address, target,
                             static_cast<uint32_t>(1000 + index), status);
  }
};

TEST(IncrementalTest, FollowedPlanEqualsAFreshCompileAfterEveryRandomStep) {
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    Store store;
    bool proxyProtocol = false;
    int rules = 1;
    store.put(baseTopology(proxyProtocol, rules));

    const CompileOptions options{model::HostNaming("t"), IpPrefix::parse("100.64.0.0/10").value()};
    SnapshotCache cache;
    IncrementalCompiler compiler;
    cache.reset(store.fullRead());
    compiler.rebuild(cache.snapshot(), options, {});
    ASSERT_TRUE(compiler.usable());

    std::map<int, Endpoint> endpoints;
    int next = 0;
    int incremental = 0;
    int steps = 0;
    const char* const kStatuses[] = {"Approved", "Pending", "Rejected"};
    for (int step = 0; step < 160; ++step) {
      std::string what;
      const int action = endpoints.empty() ? 0 : pick(100);
      if (action < 30) {  // a new endpoint (its three documents in one transaction)
        Endpoint e;
        e.index = next++;
        e.address = "10.0.16." + std::to_string(e.index % 250 + 1);
        e.target = pick(4) == 0 ? kProxyPls : kPls;
        e.status = kStatuses[pick(3)];
        e.subnet = kConsumerSubnet;
        auto d = e.docs();
        store.put({d.endpoint, d.nic, d.record});
        endpoints[e.index] = e;
        what = "add endpoint " + std::to_string(e.index);
      } else if (action < 70) {
        auto it = std::next(endpoints.begin(), pick(static_cast<int>(endpoints.size())));
        Endpoint& e = it->second;
        const int change = pick(9);
        auto d = e.docs();
        what = "endpoint " + std::to_string(e.index) + " change " + std::to_string(change);
        switch (change) {
          case 0:  // approve / reject / pending: the record alone
            e.status = kStatuses[pick(3)];
            store.put({e.docs().record});
            break;
          case 1:  // the record deleted (Disconnected), put back later by case 0
            store.erase(d.record.id);
            break;
          case 2:  // a new address on its NIC alone
            e.address = "10.0.17." + std::to_string(pick(250) + 1);
            store.put({e.docs().nic});
            break;
          case 3:  // its NIC deleted (no address)
            store.erase(d.nic.id);
            break;
          case 4: {  // the endpoint document alone: another subnet
            e.subnet = e.subnet == kConsumerSubnet ? kOtherSubnet : kConsumerSubnet;
            store.put({e.docs().endpoint});
            break;
          }
          case 5: {  // a malformed endpoint document
            auto bad = d.endpoint;
            bad.body["properties"].erase("subnet");
            store.put({bad});
            break;
          }
          case 6:  // everything again, as written when created
            store.put({d.endpoint, d.nic, d.record});
            break;
          case 7:  // the endpoint document deleted, its NIC and record left behind
            store.erase(d.endpoint.id);
            break;
          default:  // deleted entirely
            store.erase(d.endpoint.id);
            store.erase(d.nic.id);
            store.erase(d.record.id);
            endpoints.erase(it);
            break;
        }
      } else if (action < 76) {  // the PLS: PROXY protocol on or off
        proxyProtocol = !proxyProtocol;
        auto proxied = plsDocument(kProxyPls, kFrontend, kProviderSubnet, {"10.1.1.21"});
        proxied.body["properties"]["enableProxyProtocol"] = proxyProtocol;
        store.put({proxied});
        what = "pls proxy protocol";
      } else if (action < 81) {  // the LB: another rule
        rules = rules % 3 + 1;
        std::vector<LbRuleSpec> specs;
        for (int r = 0; r < rules; ++r) {
          specs.push_back({"r" + std::to_string(r), "Tcp", 5201 + r, 5201 + r, false});
        }
        store.put({lbDocument(kLb, kProviderSubnet, "10.1.1.10", specs)});
        what = "lb rules";
      } else if (action < 85) {  // a workload NIC
        store.put({nicDocument(nicId("rgc", "vm" + std::to_string(step)), kConsumerSubnet,
                               "10.0.2." + std::to_string(step % 250 + 1))});
        what = "workload nic";
      } else if (action < 92) {  // a NIC turned into an endpoint's (a workload NIC becomes one)
        auto it = std::next(endpoints.begin(), pick(static_cast<int>(endpoints.size())));
        auto nic = it->second.docs().nic;
        nic.body["properties"].erase("privateEndpoint");
        store.put({nic});
        what = "endpoint nic without privateEndpoint";
      } else {  // documents the agent does not read
        store.put({{"/privlink/test/other" + std::to_string(step),
                    "/privlink/test/other" + std::to_string(step), "privlink/other",
                    nlohmann::json{{"step", step}}}});
        what = "unrelated document";
      }
      SCOPED_TRACE("step " + std::to_string(step) + ": " + what);

      // The agent's choice: follow and patch, else read and compile everything.
      auto followed = cache.follow(store.get(), 4096);
      ASSERT_TRUE(followed.ok()) << followed.status().toString();
      PlanChanges changes;
      bool patched = false;
      if (*followed) {
        patched = compiler.update(cache.snapshot(), **followed, options, {}, changes);
      } else {
        cache.reset(store.fullRead());
      }
      if (!patched) compiler.rebuild(cache.snapshot(), options, {});
      ++steps;
      incremental += patched ? 1 : 0;

      const model::NetworkSnapshot fresh = store.fullRead();
      EXPECT_EQ(cache.snapshot().revision, fresh.revision);
      EXPECT_EQ(cache.snapshot().privateEndpoints.size(), fresh.privateEndpoints.size());
      std::string failures, freshFailures;
      for (const auto& [k, s] : cache.snapshot().failures) failures += k + ";";
      for (const auto& [k, s] : fresh.failures) freshFailures += k + ";";
      EXPECT_EQ(failures, freshFailures);
      const HostPlan expected = compile(fresh, options, {});
      const std::string difference = planDifference(compiler.plan(), expected);
      ASSERT_EQ(difference, "") << "after " << (patched ? "an incremental" : "a full") << " step";
      if (patched) {
        // What changed is exactly what the plan says: old items left, new ones are planned.
        for (const auto& [k, a] : changes.added.addresses) {
          EXPECT_TRUE(expected.addresses.count(k)) << k;
        }
        for (const auto& [k, e] : changes.added.nftElements) {
          EXPECT_TRUE(expected.nftElements.count(k)) << k;
        }
        for (const auto& [k, e] : changes.removed.nftElements) {
          auto now = expected.nftElements.find(k);
          EXPECT_TRUE(now == expected.nftElements.end() || !(now->second.value == e.value) ||
                      changes.added.nftElements.count(k))
              << k;
        }
      }
    }
    // The walk is mostly endpoint changes: most steps must have been incremental.
    EXPECT_GT(incremental, steps / 2) << incremental << " of " << steps;
  }
}

// A change feed pruned past the snapshot's revision (a gap) cannot be followed: the cache says
// so and becomes invalid (the agent then reads everything); an endpoint change right after a full
// read is followed.
TEST(IncrementalTest, AGapInThePrunedChangeFeedMeansAFullRead) {
  auto opened = store::openSqliteStore({":memory:", /*changeRetention=*/10});
  ASSERT_TRUE(opened.ok()) << opened.status().toString();
  std::unique_ptr<store::Store> store = std::move(opened).value();
  auto put = [&](const std::vector<model::SourceDocument>& docs) {
    Status s = store->write([&](store::Transaction& tx) -> Status {
      for (const auto& doc : docs) RETURN_IF_ERROR(tx.put(doc.id, doc.type, doc.body).status());
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.toString();
  };
  put(baseTopology(false, 1));
  SnapshotCache cache;
  model::NetworkSnapshot base;
  base.revision = store->revision();
  cache.reset(base);
  auto e = endpointDocuments(endpointId(1), kConsumerSubnet, "10.0.16.1", kPls, 1001, "Approved");
  put({e.endpoint, e.nic, e.record});
  auto followed = cache.follow(*store, 4096);
  ASSERT_TRUE(followed.ok());
  EXPECT_EQ(*followed, std::set<std::string>{model::normaliseKey(endpointId(1))});
  EXPECT_TRUE(cache.valid());
  for (int i = 0; i < 40; ++i) {  // far more than the feed keeps
    put({{"/privlink/test/other" + std::to_string(i), "/privlink/test/other" + std::to_string(i),
          "privlink/other", nlohmann::json{{"i", i}}}});
  }
  auto gap = cache.follow(*store, 4096);
  ASSERT_TRUE(gap.ok());
  EXPECT_FALSE(gap->has_value());
  EXPECT_FALSE(cache.valid());
}

TEST(IncrementalTest, AnAgentsIncrementalPassesLeaveWhatAFullPassWants) {
  Store store;
  // (No PROXY protocol here: its listeners need real namespaces.)
  store.put(baseTopology(/*proxyProtocol=*/false, 2));
  control::ProvisioningTracker tracker;
  auto kernel = std::make_unique<FakeKernel>();
  FakeKernel* fake = kernel.get();
  AgentOptions options;
  options.namePrefix = "t";
  Agent agent(store.get(), tracker, std::move(kernel), options);
  auto first = agent.runOnce();
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_FALSE(first->incremental);
  EXPECT_GT(first->apply.changes, 0);

  std::mt19937 random(7);
  int incremental = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string target = i % 3 == 0 ? kProxyPls : kPls;
    const char* status = i % 5 == 4 ? "Pending" : "Approved";
    auto d = endpointDocuments(endpointId(i), kConsumerSubnet, "10.0.16." + std::to_string(i + 1),
                               target, static_cast<uint32_t>(2000 + i), status);
    store.put({d.endpoint, d.nic, d.record});
    if (i % 4 == 3) {  // a rejection of an earlier one, a deletion of another
      auto earlier =
          endpointDocuments(endpointId(i - 2), kConsumerSubnet, "10.0.16." + std::to_string(i - 1),
                            target, static_cast<uint32_t>(2000 + i - 2), "Rejected");
      store.put({earlier.record});
      store.erase(
          endpointDocuments(endpointId(i - 3), kConsumerSubnet, "10.0.16.1", target, 0, "Approved")
              .endpoint.id);
    }
    fake->clearCalls();
    auto pass = agent.runOnce();
    ASSERT_TRUE(pass.ok()) << pass.status().toString();
    EXPECT_TRUE(pass->failures.empty())
        << pass->failures.begin()->first << ": " << pass->failures.begin()->second.toString();
    incremental += pass->incremental ? 1 : 0;
    EXPECT_GT(pass->apply.changes, 0) << "endpoint " << i;
  }
  EXPECT_EQ(incremental, 40);

  // A pass without a store change is a full one: it lists the kernel and finds nothing to do.
  auto full = agent.runOnce();
  ASSERT_TRUE(full.ok()) << full.status().toString();
  EXPECT_FALSE(full->incremental);
  EXPECT_EQ(full->apply.changes, 0) << (full->apply.steps.empty() ? "" : full->apply.steps[0]);

  // A change of the context (the LB) is followed by a full pass too.
  store.put({lbDocument(kLb, kProviderSubnet, "10.1.1.10", {{"r0", "Tcp", 5201, 5201, false}})});
  auto context = agent.runOnce();
  ASSERT_TRUE(context.ok()) << context.status().toString();
  EXPECT_FALSE(context->incremental);
}

}  // namespace
}  // namespace privlink::agent
