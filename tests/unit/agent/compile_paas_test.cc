// PaaS instances in the agent (compile_paas.h): parsing of the instance documents, ownership of
// the PaaS namespaces, the compiled platform router / backend namespaces / public endpoint /
// private endpoint translation, the applier turning a publicNetworkAccess toggle and an approval
// into small element batches on the fake kernel (with conntrack flushes), cleanup of the PaaS
// namespaces, and the snapshot read through the platform address record.
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/applier.h"
#include "agent/compile.h"
#include "agent/compile_paas.h"
#include "agent/paas_documents.h"
#include "control/paas/paas_kind.h"
#include "model/paas_naming.h"
#include "model/transit.h"
#include "store/store.h"
#include "testing/fake_kernel.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using namespace privlink::testing;
using Json = nlohmann::json;

const std::string kConsumer = vnetId("rgc", "consumer");
const std::string kConsumerSubnet = subnetId(kConsumer, "default");
const std::string kPg =
    resourceId("rgp", "Microsoft.DBforPostgreSQL/flexibleServers", "orders-db");
const std::string kPe = resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe1");
const std::string kPgType = "microsoft.dbforpostgresql/flexibleservers";

// The instance document as control/paas/paas_kind.cc stores it.
model::SourceDocument instanceDocument(const std::string& id, const std::string& access,
                                       uint32_t slot = 0,
                                       const std::string& publicIp = "203.0.113.5") {
  Json paas = {{"catalogType", "Microsoft.DBforPostgreSQL/flexibleServers"},
               {"groupId", "postgresqlServer"},
               {"port", 5432},
               {"publicIpAddress", publicIp},
               {"publicNetworkAccess", access},
               {"backend",
                {{"slot", slot},
                 {"address", model::paasBackendAddress(slot).toString()},
                 {"gateway", "10.255.0.1"},
                 {"namespace", model::paasBackendNamespace(model::normaliseKey(id))}}}};
  Json body = {{"location", "local"},
               {"properties", {{"publicNetworkAccess", access}, {"privlink", {{"paas", paas}}}}}};
  return {model::normaliseKey(id), id, kPgType, body};
}

// A consumer VNet with a client NIC, the instance, and (unless endpointStatus is "") endpoint pe1
// (10.0.1.9, link 7) to the instance with that status.
std::vector<model::SourceDocument> scenario(const std::string& access,
                                            const std::string& endpointStatus = "") {
  std::vector<model::SourceDocument> docs = {
      vnetDocument(kConsumer, {"10.0.0.0/16"}),
      subnetDocument(kConsumerSubnet, "10.0.1.0/24"),
      nicDocument(nicId("rgc", "client"), kConsumerSubnet, "10.0.1.4"),
      instanceDocument(kPg, access),
  };
  if (!endpointStatus.empty()) {
    auto pe = endpointDocuments(kPe, kConsumerSubnet, "10.0.1.9", kPg, 7, endpointStatus);
    pe.record.type = kPgType + "/privateendpointconnections";
    docs.insert(docs.end(), {pe.endpoint, pe.nic, pe.record});
  }
  return withTransit(docs);
}

HostPlan planOf(const std::vector<model::SourceDocument>& docs,
                const std::string& prefix = "pl") {
  return compile(model::parseNetwork(docs, 3), CompileOptions{model::HostNaming(prefix)});
}

std::vector<std::string> elementsOf(const HostPlan& plan, const std::string& table,
                                    const std::string& set) {
  std::vector<std::string> out;
  for (const auto& [key, e] : plan.nftElements) {
    if (e.table == table && e.set == set) {
      out.push_back(e.ns + ": " + e.key + (e.value.empty() ? "" : " : " + e.value));
    }
  }
  return out;
}

bool hasRoute(const HostPlan& plan, const std::string& ns, const std::string& destination,
              const std::string& via, const std::string& dev) {
  for (const auto& [key, r] : plan.routes) {
    if (r.ns == ns && r.route.destination.toString() == destination &&
        (r.route.gateway ? r.route.gateway->toString() : std::string()) == via &&
        r.route.device == dev) {
      return true;
    }
  }
  return false;
}

bool hasAddress(const HostPlan& plan, const std::string& ns, const std::string& link,
                const std::string& address) {
  for (const auto& [key, a] : plan.addresses) {
    if (a.ns == ns && a.address.link == link &&
        a.address.address.toString() + "/" + std::to_string(a.address.prefixLength) == address) {
      return true;
    }
  }
  return false;
}

const std::string kBackendNs = model::paasBackendNamespace(model::normaliseKey(kPg));

// ---- model ----

TEST(PaasInstanceTest, ParsesTheDataPlaneFields) {
  auto doc = instanceDocument(kPg, "Disabled", 3, "203.0.113.9");
  auto parsed = model::parsePaasInstance(doc.key, doc.id, doc.body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->key, model::normaliseKey(kPg));
  EXPECT_EQ(parsed->type, "Microsoft.DBforPostgreSQL/flexibleServers");
  EXPECT_EQ(parsed->port, 5432);
  EXPECT_EQ(parsed->publicAddress.toString(), "203.0.113.9");
  EXPECT_FALSE(parsed->publicNetworkAccess);
  EXPECT_EQ(parsed->backendSlot, 3u);
  EXPECT_EQ(parsed->backendAddress.toString(), "10.255.0.7");
}

TEST(PaasInstanceTest, RejectsMalformedDocumentsNamingTheField) {
  auto doc = instanceDocument(kPg, "Enabled");
  auto bad = [&](const std::function<void(Json&)>& edit, const std::string& field) {
    Json body = doc.body;
    edit(body["properties"]["privlink"]["paas"]);
    auto parsed = model::parsePaasInstance(doc.key, doc.id, body);
    ASSERT_FALSE(parsed.ok()) << field;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(field), std::string::npos)
        << parsed.status().message();
  };
  bad([](Json& p) { p["port"] = 0; }, "port");
  bad([](Json& p) { p["port"] = "5432"; }, "port");
  bad([](Json& p) { p["publicIpAddress"] = "2001:db8::1"; }, "publicIpAddress");
  bad([](Json& p) { p["publicNetworkAccess"] = "Maybe"; }, "publicNetworkAccess");
  bad([](Json& p) { p["backend"]["address"] = "10.255.0.9"; }, "backend.address");
  bad([](Json& p) { p["backend"]["slot"] = -1; }, "backend.slot");
  bad([](Json& p) { p["backend"] = 7; }, "backend");
  EXPECT_FALSE(model::parsePaasInstance(doc.key, doc.id, Json{{"properties", 1}}).ok());
  EXPECT_FALSE(model::isPaasInstanceBody(Json::array()));
  EXPECT_TRUE(model::isPaasInstanceBody(doc.body));
}

TEST(PaasInstanceTest, MalformedInstanceIsASnapshotFailureNotACrash) {
  auto doc = instanceDocument(kPg, "Enabled");
  doc.body["properties"]["privlink"]["paas"]["port"] = "x";
  auto snapshot = model::parseNetwork({doc}, 1);
  EXPECT_TRUE(snapshot.paasInstances.empty());
  ASSERT_EQ(snapshot.failures.count(doc.key), 1u);
  EXPECT_EQ(snapshot.failures.at(doc.key).armCode(), "InvalidResourceDocument");
}

TEST(PaasNamingTest, HostNamingOwnsThePaasNamespaces) {
  model::HostNaming naming("t1");
  EXPECT_EQ(naming.paasPlatformNamespace(), "t1paas");
  const std::string backend = naming.paasBackendNamespace(kPg);
  EXPECT_EQ(backend, model::paasBackendNamespace(model::normaliseKey(kPg), "t1"));
  EXPECT_EQ(backend.substr(0, 4), "t1p-");
  EXPECT_EQ(backend.size(), 12u);
  EXPECT_TRUE(naming.ownsNamespace("t1paas"));
  EXPECT_TRUE(naming.ownsNamespace(backend));
  EXPECT_FALSE(naming.ownsNamespace("t1p-1a2b3c4"));     // 7 hex characters
  EXPECT_FALSE(naming.ownsNamespace("t1p-1a2b3c4g"));    // not hex
  EXPECT_FALSE(naming.ownsNamespace("t12p-1a2b3c4d"));   // another prefix
  EXPECT_FALSE(naming.ownsNamespace("t1paas2"));
  EXPECT_FALSE(model::HostNaming("t1p").ownsNamespace(backend));
  for (std::string_view link : {model::kPaasBridge, model::kPaasToBackbone, model::kPaasToInternet,
                                 model::kBackboneToPaas, model::kInternetToPaas}) {
    EXPECT_LE(link.size(), 15u) << link;
  }
  EXPECT_LE(model::paasBackendLinkName(kPg).size(), 15u);
  EXPECT_TRUE(model::HostNaming().ownsNamespace("plpaas"));
  EXPECT_TRUE(model::HostNaming().ownsNamespace(model::paasBackendNamespace("/x")));
}

// ---- compile ----

TEST(CompilePaasTest, BackendNamespacesExistWithoutAnyVnet) {
  HostPlan plan = planOf({instanceDocument(kPg, "Enabled")});
  EXPECT_TRUE(plan.failures.empty());
  EXPECT_EQ(plan.namespaces.count("plpaas"), 1u);
  EXPECT_EQ(plan.namespaces.count(kBackendNs), 1u);
  EXPECT_EQ(plan.namespaces.count("plbb"), 0u);  // no backbone yet: nothing to reach it from
  EXPECT_TRUE(hasAddress(plan, kBackendNs, "eth0", "10.255.0.4/16"));
  EXPECT_TRUE(hasRoute(plan, kBackendNs, "0.0.0.0/0", "10.255.0.1", "eth0"));
  EXPECT_TRUE(hasAddress(plan, "plpaas", "br0", "10.255.0.1/16"));
  EXPECT_TRUE(hasAddress(plan, "plpaas", "br0", "10.255.0.2/32"));
  const std::string link = model::paasBackendLinkName(model::normaliseKey(kPg));
  ASSERT_EQ(plan.links.count(linkKey("plpaas", link)), 1u);
  EXPECT_EQ(plan.links.at(linkKey("plpaas", link)).master, "br0");
  EXPECT_EQ(plan.links.at(linkKey("plpaas", link)).peerNs, kBackendNs);
  EXPECT_EQ(plan.links.count(linkKey(kBackendNs, "lo")), 1u);
  EXPECT_EQ(plan.nftTables.count(nftTableKey("plpaas", "inet", kPaasTableName)), 1u);
  EXPECT_EQ(plan.nftTables.count(nftTableKey("plinet", "inet", kPublicTableName)), 0u);
  EXPECT_EQ(plan.namespaces.at(kBackendNs).owners, std::vector<std::string>{
                                                       model::normaliseKey(kPg)});
}

TEST(CompilePaasTest, PublicEndpointFollowsPublicNetworkAccess) {
  HostPlan enabled = planOf(scenario("Enabled"));
  EXPECT_TRUE(enabled.failures.empty());
  EXPECT_TRUE(hasAddress(enabled, "plinet", "lo", "203.0.113.5/32"));
  EXPECT_EQ(elementsOf(enabled, kPublicTableName, "pub_dnat"),
            std::vector<std::string>{"plinet: 203.0.113.5 . 5432 : 10.255.0.4 . 5432"});
  EXPECT_TRUE(elementsOf(enabled, kPublicTableName, "pub_closed").empty());
  // The platform router's links and routes (T_plat = R.3).
  EXPECT_TRUE(hasAddress(enabled, "plpaas", "bb0", "100.64.0.3/32"));
  EXPECT_TRUE(hasAddress(enabled, "plpaas", "inet0", "100.64.0.3/32"));
  EXPECT_TRUE(hasRoute(enabled, "plpaas", "100.64.0.0/10", "100.64.0.1", "bb0"));
  EXPECT_TRUE(hasRoute(enabled, "plpaas", "100.64.0.2/32", "", "inet0"));
  EXPECT_TRUE(hasRoute(enabled, "plbb", "100.64.0.3/32", "", "paas0"));
  EXPECT_TRUE(hasRoute(enabled, "plinet", "10.255.0.0/16", "100.64.0.3", "paas0"));
  EXPECT_EQ(enabled.sysctls.count(sysctlKey("plinet", "net/ipv4/ip_forward")), 1u);

  HostPlan disabled = planOf(scenario("Disabled"));
  EXPECT_TRUE(hasAddress(disabled, "plinet", "lo", "203.0.113.5/32"));
  EXPECT_TRUE(elementsOf(disabled, kPublicTableName, "pub_dnat").empty());
  EXPECT_EQ(elementsOf(disabled, kPublicTableName, "pub_closed"),
            std::vector<std::string>{"plinet: 203.0.113.5"});
  // Toggling is an element change: the table bodies do not change.
  const std::string key = nftTableKey("plinet", "inet", kPublicTableName);
  EXPECT_EQ(enabled.nftTables.at(key).fingerprint, disabled.nftTables.at(key).fingerprint);
  EXPECT_EQ(disabled.nftTables.at(key).flushOnChange.count("pub_closed"), 1u);
  const std::string platform = nftTableKey("plpaas", "inet", kPaasTableName);
  EXPECT_EQ(enabled.nftTables.at(platform).fingerprint,
            disabled.nftTables.at(platform).fingerprint);
}

TEST(CompilePaasTest, ApprovedEndpointTranslatesToTheBackend) {
  HostPlan plan = planOf(scenario("Enabled", "Approved"));
  ASSERT_TRUE(plan.failures.empty()) << plan.failures.begin()->second.toString();
  auto snapshot = model::parseNetwork(scenario("Enabled", "Approved"), 3);
  const std::string consumerNs = model::HostNaming().vnetNamespace(model::normaliseKey(kConsumer));
  const std::string tVnet = snapshot.transit.at(model::normaliseKey(kConsumer)).toString();
  const std::string tPe = model::endpointTransitAddress(IpPrefix::parse("100.64.0.0/10").value(), 7)
                              ->toString();
  EXPECT_EQ(elementsOf(plan, kVnetTableName, "pe_dnat"),
            std::vector<std::string>{consumerNs + ": 10.0.1.9 : " + tPe});
  EXPECT_TRUE(elementsOf(plan, kVnetTableName, "pe_blocked").empty());
  EXPECT_TRUE(hasRoute(plan, "plbb", tPe + "/32", "100.64.0.3", "paas0"));
  EXPECT_EQ(elementsOf(plan, kPaasTableName, "tpe_dnat"),
            std::vector<std::string>{"plpaas: " + tVnet + " . " + tPe +
                                     " . 5432 : 10.255.0.4 . 5432"});
  EXPECT_EQ(elementsOf(plan, kPaasTableName, "tpe_known"),
            std::vector<std::string>{"plpaas: " + tVnet + " . " + tPe});
  // Counters exist as for any endpoint.
  EXPECT_EQ(elementsOf(plan, kVnetTableName, "pe_conn").size(), 1u);
}

TEST(CompilePaasTest, EndpointsNotApprovedAreRejectedAndNotTranslated) {
  for (const char* status : {"Pending", "Rejected", "Disconnected"}) {
    HostPlan plan = planOf(scenario("Enabled", status));
    EXPECT_TRUE(plan.failures.empty()) << status;
    EXPECT_EQ(elementsOf(plan, kVnetTableName, "pe_blocked").size(), 1u) << status;
    EXPECT_TRUE(elementsOf(plan, kVnetTableName, "pe_dnat").empty()) << status;
    EXPECT_TRUE(elementsOf(plan, kPaasTableName, "tpe_dnat").empty()) << status;
    EXPECT_TRUE(elementsOf(plan, kPaasTableName, "tpe_known").empty()) << status;
  }
}

TEST(CompilePaasTest, ApprovedEndpointWithoutLinkIdentifierFailsAndIsRejected) {
  auto docs = scenario("Enabled", "Approved");
  for (auto& d : docs) {
    if (d.type.find("privateendpointconnections") != std::string::npos) {
      d.body["properties"].erase("linkIdentifier");
    }
    if (d.type == "microsoft.network/privateendpoints") {
      d.body["properties"]["privateLinkServiceConnections"][0]["properties"]["privlink"].erase(
          "linkIdentifier");
    }
  }
  HostPlan plan = planOf(docs);
  ASSERT_EQ(plan.failures.count(model::normaliseKey(kPe)), 1u);
  EXPECT_EQ(plan.failures.at(model::normaliseKey(kPe)).armCode(), "InvalidResourceReference");
  EXPECT_EQ(elementsOf(plan, kVnetTableName, "pe_blocked").size(), 1u);
  EXPECT_TRUE(elementsOf(plan, kPaasTableName, "tpe_dnat").empty());
}

TEST(CompilePaasTest, SamePlanForTheSameSnapshotAndPrefixAppliesToEveryName) {
  EXPECT_EQ(planOf(scenario("Enabled", "Approved")).render(),
            planOf(scenario("Enabled", "Approved")).render());
  HostPlan plan = planOf(scenario("Enabled", "Approved"), "t9");
  for (const auto& [key, ns] : plan.namespaces) {
    EXPECT_TRUE(model::HostNaming("t9").ownsNamespace(ns.name)) << ns.name;
  }
  EXPECT_EQ(plan.namespaces.count("t9paas"), 1u);
}

// ---- applier on the fake kernel ----

class PaasApplierTest : public ::testing::Test {
 protected:
  std::vector<std::string> callsStartingWith(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const std::string& call : kernel_.calls()) {
      if (call.rfind(prefix, 0) == 0) out.push_back(call);
    }
    return out;
  }

  FakeKernel kernel_;
  Applier applier_{kernel_, model::HostNaming()};
};

TEST_F(PaasApplierTest, TogglingPublicAccessIsOneElementBatchAndFlushesThePublicIp) {
  ApplyResult first = applier_.apply(planOf(scenario("Enabled", "Approved")));
  ASSERT_TRUE(first.failures.empty()) << first.failures.begin()->second.toString();
  EXPECT_EQ(applier_.apply(planOf(scenario("Enabled", "Approved"))).changes, 0);

  kernel_.clearCalls();
  ApplyResult off = applier_.apply(planOf(scenario("Disabled", "Approved")));
  ASSERT_TRUE(off.failures.empty()) << off.failures.begin()->second.toString();
  auto batches = callsStartingWith("nftUpdateElements");  // the raw element batch
  ASSERT_EQ(batches.size(), 1u) << ::testing::PrintToString(kernel_.calls());
  EXPECT_TRUE(callsStartingWith("nftApply").empty()) << ::testing::PrintToString(kernel_.calls());
  EXPECT_EQ(batches[0].find("table inet plpub {"), std::string::npos) << batches[0];
  EXPECT_NE(batches[0].find("delete element inet plpub pub_dnat { 203.0.113.5 . 5432 }"),
            std::string::npos)
      << batches[0];
  EXPECT_NE(batches[0].find("add element inet plpub pub_closed { 203.0.113.5 }"),
            std::string::npos)
      << batches[0];
  auto flushes = callsStartingWith("conntrackDelete");
  ASSERT_FALSE(flushes.empty());
  for (const std::string& flush : flushes) {
    EXPECT_NE(flush.find("plinet"), std::string::npos) << flush;  // never the endpoint's flows
    EXPECT_NE(flush.find("203.0.113.5"), std::string::npos) << flush;
  }
  EXPECT_EQ(applier_.apply(planOf(scenario("Disabled", "Approved"))).changes, 0);
}

TEST_F(PaasApplierTest, RejectingAnEndpointFlushesBothSides) {
  ASSERT_TRUE(applier_.apply(planOf(scenario("Enabled", "Approved"))).failures.empty());
  kernel_.clearCalls();
  ApplyResult reject = applier_.apply(planOf(scenario("Enabled", "Rejected")));
  ASSERT_TRUE(reject.failures.empty()) << reject.failures.begin()->second.toString();
  const std::string tPe = model::endpointTransitAddress(IpPrefix::parse("100.64.0.0/10").value(), 7)
                              ->toString();
  auto flushes = callsStartingWith("conntrackDelete");
  const std::string all = ::testing::PrintToString(flushes);
  EXPECT_NE(all.find("10.0.1.9"), std::string::npos) << all;  // consumer: PE_IP
  bool platform = false;
  for (const std::string& flush : flushes) {
    platform |= flush.find("plpaas") != std::string::npos && flush.find(tPe) != std::string::npos;
  }
  EXPECT_TRUE(platform) << all;  // platform router: T_pe
  for (const std::string& batch : callsStartingWith("nftApply")) {
    EXPECT_EQ(batch.find("delete table"), std::string::npos) << batch;
  }
}

TEST_F(PaasApplierTest, DeletingTheInstanceRemovesItsNamespacesAndCleanupRemovesTheRest) {
  ASSERT_TRUE(applier_.apply(planOf(scenario("Enabled"))).failures.empty());
  auto before = kernel_.listNamespaces();
  ASSERT_TRUE(before.ok());
  EXPECT_NE(std::find(before->begin(), before->end(), kBackendNs), before->end());

  // The instance is deleted: its backend namespace and the platform router go (orphans).
  std::vector<model::SourceDocument> without;
  for (auto& d : scenario("Enabled")) {
    if (d.type != kPgType) without.push_back(d);
  }
  ApplyResult removed = applier_.apply(planOf(without));
  ASSERT_TRUE(removed.failures.empty()) << removed.failures.begin()->second.toString();
  auto after = kernel_.listNamespaces();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(std::find(after->begin(), after->end(), kBackendNs), after->end());
  EXPECT_EQ(std::find(after->begin(), after->end(), "plpaas"), after->end());

  // `privlinkd --cleanup` removes the PaaS namespaces with the rest.
  ASSERT_TRUE(applier_.apply(planOf(scenario("Enabled"))).failures.empty());
  ASSERT_TRUE(removeOwnedNamespaces(kernel_, model::HostNaming()).ok());
  auto none = kernel_.listNamespaces();
  ASSERT_TRUE(none.ok());
  for (const std::string& ns : *none) {
    EXPECT_FALSE(model::HostNaming().ownsNamespace(ns)) << ns;
  }
}

// ---- the snapshot read ----

TEST(PaasDocumentsTest, InstancesAndTheirRecordsAreFoundThroughTheAddressRecord) {
  auto store = store::openSqliteStore(store::SqliteOptions{":memory:"});
  ASSERT_TRUE(store.ok()) << store.status().toString();
  auto docs = scenario("Disabled", "Approved");
  ASSERT_TRUE((*store)
                  ->write([&](store::Transaction& tx) -> Status {
                    for (const auto& d : docs) {
                      if (d.type != kPgType &&
                          d.type.find("/privateendpointconnections") == std::string::npos) {
                        continue;
                      }
                      auto put = tx.put(d.id, d.type, d.body);
                      if (!put.ok()) return put.status();
                    }
                    Json record = {{"publicIps", {{"203.0.113.5", model::normaliseKey(kPg)}}},
                                   {"backendSlots", {{"0", model::normaliseKey(kPg)},
                                                     {"1", "/subscriptions/x/gone"},
                                                     {"2", kPe + "-gone"}}}};
                    auto put = tx.put(control::paas::kPaasAddressesKey,
                                      control::paas::kPaasAddressesType, record);
                    return put.ok() ? Status::Ok() : put.status();
                  })
                  .ok());
  std::vector<model::SourceDocument> read;
  ASSERT_TRUE((*store)
                  ->read([&](store::ReadView& view) { return appendPaasDocuments(view, read); })
                  .ok());
  ASSERT_EQ(read.size(), 2u);  // the instance and its record; damaged and stale keys are skipped
  // With the endpoint and NIC documents the snapshot has the instance and the endpoint Approved.
  for (const auto& d : docs) {
    if (d.type != kPgType && d.type.find("/privateendpointconnections") == std::string::npos) {
      read.push_back(d);
    }
  }
  auto snapshot = model::parseNetwork(read, 1);
  ASSERT_EQ(snapshot.paasInstances.count(model::normaliseKey(kPg)), 1u);
  EXPECT_FALSE(snapshot.paasInstances.at(model::normaliseKey(kPg)).publicNetworkAccess);
  ASSERT_EQ(snapshot.privateEndpoints.count(model::normaliseKey(kPe)), 1u);
  EXPECT_EQ(snapshot.privateEndpoints.at(model::normaliseKey(kPe)).status, "Approved");

  std::vector<model::SourceDocument> empty;
  auto other = store::openSqliteStore(store::SqliteOptions{":memory:"});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(
      (*other)->read([&](store::ReadView& view) { return appendPaasDocuments(view, empty); }).ok());
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace privlink::agent
