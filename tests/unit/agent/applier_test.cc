// The applier against FakeKernel (tests/testing/fake_kernel.h): ordered steps, idempotence,
// convergence, orphan removal, and fault injection (EEXIST is idempotent; EPERM/EBUSY become
// per-key failures naming the step, and the next pass retries).
#include "agent/applier.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include "agent/compile.h"
#include "model/naming.h"
#include "model/transit.h"
#include "testing/fake_kernel.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using namespace privlink::testing;

const std::string kVnet = vnetId("rg", "vnet1");
const std::string kSubnet = subnetId(kVnet, "default");
const std::string kNic1 = nicId("rg", "nic1");
const std::string kNic2 = nicId("rg", "nic2");

HostPlan planOf(const std::vector<model::SourceDocument>& docs) {
  return compile(model::parseNetwork(withTransit(docs), 1), CompileOptions{});
}

HostPlan twoNics() {
  return planOf({vnetDocument(kVnet, {"10.0.0.0/16"}), subnetDocument(kSubnet, "10.0.1.0/24"),
                 nicDocument(kNic1, kSubnet, "10.0.1.4"), nicDocument(kNic2, kSubnet, "10.0.1.5")});
}

HostPlan peered() {
  const std::string v2 = vnetId("rg", "vnet2");
  return planOf({vnetDocument(kVnet, {"10.1.0.0/16"}), vnetDocument(v2, {"10.2.0.0/16"}),
                 peeringDocument(peeringId(kVnet, "a"), v2, "Connected"),
                 peeringDocument(peeringId(v2, "b"), kVnet, "Connected")});
}

std::string key(const std::string& id) { return model::normaliseKey(id); }

// Index of the first step starting with `prefix`, or -1.
int firstStep(const ApplyResult& r, const std::string& prefix) {
  for (size_t i = 0; i < r.steps.size(); ++i) {
    if (r.steps[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
  }
  return -1;
}

class ApplierTest : public ::testing::Test {
 protected:
  FakeKernel kernel_;
  Applier applier_{kernel_, model::HostNaming()};
};

TEST_F(ApplierTest, CreatesEverythingInOrderAndASecondPassChangesNothing) {
  HostPlan plan = twoNics();
  ApplyResult first = applier_.apply(plan);
  EXPECT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();
  EXPECT_GT(first.changes, 0);
  // Ordered phases: namespaces -> links -> masters -> addresses -> up -> routes -> sysctls ->
  // nft -> files. Every step of a phase comes before every step of the next.
  const std::vector<std::vector<std::string>> phases = {
      {"create namespace"}, {"create bridge", "create veth"},
      {"enslave"},          {"add address"},
      {"set link"},         {"add route"},
      {"set sysctl"},       {"load nft table"},
      {"write /etc/netns"}};
  auto phaseOf = [&](const std::string& step) {
    for (size_t p = 0; p < phases.size(); ++p) {
      for (const std::string& prefix : phases[p]) {
        if (step.rfind(prefix, 0) == 0) return static_cast<int>(p);
      }
    }
    return -1;
  };
  int previous = 0;
  std::set<int> seen;
  for (const std::string& step : first.steps) {
    const int phase = phaseOf(step);
    ASSERT_GE(phase, 0) << "unexpected step " << step;
    EXPECT_GE(phase, previous) << step << " after a later phase";
    previous = phase;
    seen.insert(phase);
  }
  EXPECT_EQ(seen.size(), phases.size());
  const std::string nicNs = model::nicNamespace(key(kNic1));
  EXPECT_EQ(kernel_.namespaceFile(nicNs, "resolv.conf"), "nameserver 168.63.129.16\n");

  kernel_.clearCalls();
  ApplyResult second = applier_.apply(plan);
  EXPECT_EQ(second.changes, 0) << second.steps.front();
  EXPECT_TRUE(second.failures.empty());
  EXPECT_TRUE(kernel_.calls().empty());
}

TEST_F(ApplierTest, NewNamespacesAreThoseThePassFoundMissing) {
  HostPlan plan = twoNics();
  std::set<std::string> planned;
  for (const auto& [key, ns] : plan.namespaces) planned.insert(ns.name);
  EXPECT_EQ(applier_.apply(plan).newNamespaces, planned);
  EXPECT_TRUE(applier_.apply(plan).newNamespaces.empty());

  const std::string nicNs = model::nicNamespace(key(kNic1));
  ASSERT_TRUE(kernel_.deleteNamespace(nicNs).ok());  // e.g. `ip netns del` by hand
  EXPECT_EQ(applier_.apply(plan).newNamespaces, std::set<std::string>{nicNs});
}

TEST_F(ApplierTest, PeeringConverges) {
  HostPlan plan = peered();
  ApplyResult first = applier_.apply(plan);
  EXPECT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();
  EXPECT_EQ(applier_.apply(plan).changes, 0);
}

TEST_F(ApplierTest, ANewApplierOnAConvergedKernelOnlyRewritesNamespaceFiles) {
  HostPlan plan = twoNics();
  ASSERT_TRUE(applier_.apply(plan).failures.empty());
  Applier restarted(kernel_, model::HostNaming());
  ApplyResult r = restarted.apply(plan);
  for (const std::string& step : r.steps) {
    EXPECT_EQ(step.rfind("write /etc/netns/", 0), 0u) << step;
  }
  EXPECT_EQ(r.changes, 2);  // one resolv.conf per NIC
}

TEST_F(ApplierTest, AlreadyExistsIsIdempotent) {
  HostPlan plan = twoNics();
  kernel_.injectFailure("createBridge", 1, EEXIST);
  ApplyResult first = applier_.apply(plan);
  // EEXIST says the bridge is there: creating it is not a failure. (The fake made nothing, so
  // what needed the bridge fails this pass, naming its own step.)
  for (const auto& [owner, status] : first.failures) {
    EXPECT_EQ(status.message().find("create bridge"), std::string::npos) << status.message();
  }
  // The next pass lists the kernel again, sees no bridge, and creates it.
  ApplyResult second = applier_.apply(plan);
  EXPECT_GE(firstStep(second, "create bridge"), 0);
  EXPECT_TRUE(second.failures.empty()) << second.failures.begin()->second.toString();
  EXPECT_EQ(applier_.apply(plan).changes, 0);
}

TEST_F(ApplierTest, PermissionDeniedBecomesAFailureOfTheOwnerNamingTheStepAndIsRetried) {
  HostPlan plan = twoNics();
  kernel_.injectFailure("createBridge", 1, EPERM);
  ApplyResult first = applier_.apply(plan);
  ASSERT_EQ(first.failures.count(key(kSubnet)), 1u);
  const Status& failure = first.failures.at(key(kSubnet));
  EXPECT_EQ(failure.code(), StatusCode::kInternal);
  const std::string bridge = model::HostNaming::bridgeName(key(kSubnet));
  EXPECT_NE(
      failure.message().find("create bridge " + bridge + " in " + model::vnetNamespace(key(kVnet))),
      std::string::npos)
      << failure.message();
  EXPECT_NE(failure.message().find("EPERM"), std::string::npos) << failure.message();
  // The NICs could not be attached to the missing bridge: they fail too, the VNet does not.
  EXPECT_EQ(first.failures.count(key(kNic1)), 1u);
  EXPECT_EQ(first.failures.count(key(kVnet)), 0u);

  ApplyResult second = applier_.apply(plan);
  EXPECT_TRUE(second.failures.empty()) << second.failures.begin()->second.toString();
  EXPECT_EQ(applier_.apply(plan).changes, 0);
}

TEST_F(ApplierTest, BusyRouteFailsOnlyItsOwner) {
  HostPlan plan = twoNics();
  kernel_.injectFailure("addRoute", 1, EBUSY);
  ApplyResult first = applier_.apply(plan);
  ASSERT_EQ(first.failures.size(), 1u);
  EXPECT_NE(first.failures.begin()->second.message().find("add route"), std::string::npos);
  EXPECT_NE(first.failures.begin()->second.message().find("EBUSY"), std::string::npos);
  EXPECT_TRUE(applier_.apply(plan).failures.empty());
  EXPECT_EQ(applier_.apply(plan).changes, 0);
}

TEST_F(ApplierTest, OrphansAreDeletedInnermostFirst) {
  ASSERT_TRUE(applier_.apply(twoNics()).failures.empty());
  const std::string nic2Ns = model::nicNamespace(key(kNic2));
  HostPlan fewer =
      planOf({vnetDocument(kVnet, {"10.0.0.0/16"}), subnetDocument(kSubnet, "10.0.1.0/24"),
              nicDocument(kNic1, kSubnet, "10.0.1.4")});
  ApplyResult r = applier_.apply(fewer);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_FALSE(kernel_.hasNamespace(nic2Ns));
  EXPECT_FALSE(kernel_.namespaceFile(nic2Ns, "resolv.conf").has_value());
  const int link = firstStep(r, "delete link " + model::HostNaming::nicLinkName(key(kNic2)));
  const int ns = firstStep(r, "delete namespace " + nic2Ns);
  ASSERT_GE(link, 0);
  ASSERT_GE(ns, 0);
  EXPECT_LT(link, ns);
  EXPECT_EQ(applier_.apply(fewer).changes, 0);

  // Everything goes with the last VNet.
  ApplyResult empty = applier_.apply(HostPlan{});
  EXPECT_TRUE(empty.failures.empty());
  auto names = kernel_.listNamespaces();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty()) << names->front();
}

TEST_F(ApplierTest, ForeignNamespacesAndTheHostAreNeverTouched) {
  ASSERT_TRUE(kernel_.createNamespace("other").ok());
  ASSERT_TRUE(kernel_.createNamespace("plfoo").ok());  // "pl" but not one of our patterns
  ASSERT_TRUE(kernel_.createNamespace("plv-xyz").ok());
  kernel_.clearCalls();
  ASSERT_TRUE(applier_.apply(twoNics()).failures.empty());
  ASSERT_TRUE(applier_.apply(HostPlan{}).failures.empty());
  for (const std::string& call : kernel_.calls()) {
    EXPECT_EQ(call.find("<host>"), std::string::npos) << call;
    EXPECT_EQ(call.find(" other"), std::string::npos) << call;
    EXPECT_EQ(call.find("plfoo"), std::string::npos) << call;
    EXPECT_EQ(call.find("plv-xyz"), std::string::npos) << call;
  }
  EXPECT_TRUE(kernel_.hasNamespace("other"));
  EXPECT_TRUE(kernel_.hasNamespace("plfoo"));
  EXPECT_TRUE(kernel_.hasNamespace("plv-xyz"));
}

TEST_F(ApplierTest, StrayObjectsInOwnedNamespacesAreRemovedAndChangedTablesReplacedAtomically) {
  HostPlan plan = twoNics();
  ASSERT_TRUE(applier_.apply(plan).failures.empty());
  const std::string vns = model::vnetNamespace(key(kVnet));
  ASSERT_TRUE(kernel_.createBridge(vns, "br-stray").ok());
  ASSERT_TRUE(kernel_.nftApply(vns, "table inet plstray {\n}\n").ok());
  ASSERT_TRUE(kernel_.nftApply(vns, "table inet other {\n}\n").ok());  // not "pl": not ours
  dataplane::Route stray;
  stray.destination = IpPrefix::parse("192.0.2.0/24").value();
  stray.device = model::HostNaming::bridgeName(key(kSubnet));
  ASSERT_TRUE(kernel_.addRoute(vns, stray).ok());
  // Someone edited our table: its fingerprint no longer matches.
  ASSERT_TRUE(kernel_.nftApply(vns, "delete table inet plvnet\ntable inet plvnet {\n}\n").ok());
  kernel_.clearCalls();

  ApplyResult r = applier_.apply(plan);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_GE(firstStep(r, "delete link br-stray in " + vns), 0);
  EXPECT_GE(firstStep(r, "delete nft table inet plstray in " + vns), 0);
  EXPECT_GE(firstStep(r, "delete route " + vns + " table 254 192.0.2.0/24"), 0);
  // The replacement is one transaction: delete + the full table.
  bool atomic = false;
  for (const std::string& call : kernel_.calls()) {
    if (call.rfind("nftApply " + vns + "\ndelete table inet plvnet\ntable inet plvnet {", 0) == 0) {
      atomic = true;
    }
  }
  EXPECT_TRUE(atomic);
  auto tables = kernel_.nftListTables(vns);
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(std::count(tables->begin(), tables->end(), "inet other"), 1);
  EXPECT_EQ(applier_.apply(plan).changes, 0);
}

TEST_F(ApplierTest, ListingFailureFailsTheNamespaceOwnersAndTheNextPassRecovers) {
  HostPlan plan = twoNics();
  ASSERT_TRUE(applier_.apply(plan).failures.empty());
  kernel_.injectFailure("listLinks", 1, EBUSY);
  ApplyResult r = applier_.apply(plan);
  EXPECT_FALSE(r.failures.empty());
  EXPECT_EQ(r.changes, 0);  // nothing is deleted on a partial view
  EXPECT_TRUE(applier_.apply(plan).failures.empty());
}

TEST_F(ApplierTest, RemoveOwnedNamespacesRemovesOnlyOurs) {
  ASSERT_TRUE(applier_.apply(twoNics()).failures.empty());
  ASSERT_TRUE(kernel_.createNamespace("other").ok());
  EXPECT_TRUE(removeOwnedNamespaces(kernel_, model::HostNaming()).ok());
  auto names = kernel_.listNamespaces();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"other"});
  EXPECT_FALSE(kernel_.namespaceFile(model::nicNamespace(key(kNic1)), "resolv.conf").has_value());
}

}  // namespace
}  // namespace privlink::agent
