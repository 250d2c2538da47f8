// The approval workflow beyond the scenarios: concurrent provider decisions resolve to one
// outcome; random sequences of consumer and provider actions keep the two views in agreement;
// link identifiers are unique and never reused; discovery APIs.

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "api/arm_router.h"
#include "control/privatelink/connection_record.h"
#include "pl_fixture.h"

namespace privlink::testing {
namespace {

using nlohmann::json;

class ApprovalWorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sub2_ = pl_.addSubscription();
    ASSERT_EQ(pl_.buildProvider(pl_.sub(), "prov"), "");
    ASSERT_EQ(pl_.buildConsumer(sub2_, "cons"), "");
    ArmResult r = pl_.putService(pl_.sub(), "prov", "pls", json::array({sub2_}), json::array());
    ASSERT_EQ(r.status, 201) << r.describe();
    alias_ = r.json["properties"]["alias"].get<std::string>();
  }

  std::string plsId() const { return PlFixture::net(pl_.sub(), "prov") + "/privateLinkServices/pls"; }
  std::string peId(const std::string& name) const {
    return PlFixture::net(sub2_, "cons") + "/privateEndpoints/" + name;
  }

  // Every connection as the provider lists it, by private endpoint id (lower case).
  std::map<std::string, json> providerView() {
    std::map<std::string, json> out;
    ArmResult r = pl_.request("GET", plsId() + kApi);
    EXPECT_EQ(r.status, 200) << r.describe();
    for (const json& c : r.json["properties"]["privateEndpointConnections"]) {
      out[toLower(c["properties"]["privateEndpoint"]["id"].get<std::string>())] = c;
    }
    return out;
  }

  json consumerConnection(const json& pe) {
    const json& p = pe["properties"];
    if (!p["privateLinkServiceConnections"].empty()) return p["privateLinkServiceConnections"][0];
    return p["manualPrivateLinkServiceConnections"][0];
  }

  PlFixture pl_;
  std::string sub2_;
  std::string alias_;
};

TEST_F(ApprovalWorkflowTest, ConcurrentDecisionsWithTheSameEtagResolveToOneOutcome) {
  ArmResult pe = pl_.putEndpoint(sub2_, "cons", "pe1", plsId(), true);
  ASSERT_EQ(pe.status, 201) << pe.describe();
  auto view = providerView();
  ASSERT_EQ(view.size(), 1u);
  const json conn = view.begin()->second;
  const std::string connId = conn["id"].get<std::string>();
  const std::string etag = conn["etag"].get<std::string>();

  // Each thread has its own router over the same (thread-safe) service and store.
  constexpr int kThreads = 8;
  std::atomic<int> ok{0}, preconditionFailed{0}, other{0};
  std::vector<std::thread> threads;
  control::Caller caller = pl_.arm().caller();
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      api::ArmRouter router(pl_.arm().service(), api::ArmRouterOptions{pl_.arm().baseUrl(), 1, 100});
      api::HttpRequest request;
      request.method = "PUT";
      request.target = connId + kApi;
      request.headers["If-Match"] = etag;
      request.headers["Content-Type"] = "application/json";
      request.body = json{{"properties",
                           {{"privateLinkServiceConnectionState",
                             {{"status", i % 2 ? "Approved" : "Rejected"},
                              {"description", "thread " + std::to_string(i)}}}}}}
                         .dump();
      api::HttpResponse response = router.handle(request, caller);
      if (response.status == 200) {
        ++ok;
      } else if (response.status == 412) {
        ++preconditionFailed;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(preconditionFailed.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);

  // One outcome, recorded once, the same in both views.
  auto after = providerView();
  const json& state = after.begin()->second["properties"]["privateLinkServiceConnectionState"];
  ArmResult consumer = pl_.request("GET", peId("pe1") + kApi);
  const json cc = consumerConnection(consumer.json);
  EXPECT_EQ(cc["properties"]["privateLinkServiceConnectionState"], state);
  EXPECT_EQ(cc["properties"]["privlink"]["history"].size(), 2u);
}

TEST_F(ApprovalWorkflowTest, ConcurrentDecisionsWithoutEtagSerialiseAndEveryOneIsRecorded) {
  ASSERT_EQ(pl_.putEndpoint(sub2_, "cons", "pe1", plsId(), true).status, 201);
  const std::string connId = providerView().begin()->second["id"].get<std::string>();
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  control::Caller caller = pl_.arm().caller();
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      api::ArmRouter router(pl_.arm().service(), api::ArmRouterOptions{pl_.arm().baseUrl(), 1, 100});
      api::HttpRequest request;
      request.method = "PUT";
      request.target = connId + kApi;
      request.body = json{{"properties",
                           {{"privateLinkServiceConnectionState",
                             {{"status", i % 2 ? "Approved" : "Rejected"},
                              {"description", "thread " + std::to_string(i)}}}}}}
                         .dump();
      if (router.handle(request, caller).status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
  auto view = providerView();
  const json& props = view.begin()->second["properties"];
  const json& history = props["privlink"]["history"];
  // Each decision is one history entry (descriptions all differ), the last one is the state.
  EXPECT_EQ(history.size(), 1u + kThreads);
  EXPECT_EQ(history.back()["description"], props["privateLinkServiceConnectionState"]["description"]);
  EXPECT_EQ(history.back()["status"], props["privateLinkServiceConnectionState"]["status"]);
}

// Random sequences of consumer and provider actions; after each, the consumer's and provider's
// views agree on every connection, and the provider lists exactly the records of live endpoints.
TEST_F(ApprovalWorkflowTest, PropertyRandomActionsKeepBothViewsInAgreement) {
  std::mt19937 rng(20261129);
  const std::vector<std::string> endpoints = {"pe1", "pe2", "pe3", "pe4"};
  std::set<std::string> live;
  std::set<std::string> linkIds;
  for (int step = 0; step < 160; ++step) {
    const std::string pe = endpoints[rng() % endpoints.size()];
    const int action = static_cast<int>(rng() % 7);
    if (action == 0) {  // consumer: create or re-put (manual, by id or alias)
      ArmResult r = pl_.putEndpoint(sub2_, "cons", pe, (rng() % 2) ? plsId() : alias_, true);
      ASSERT_TRUE(r.status == 200 || r.status == 201) << r.describe();
      live.insert(pe);
    } else if (action == 1) {  // consumer: delete
      ArmResult r = pl_.request("DELETE", peId(pe) + kApi);
      ASSERT_TRUE(r.status == 202 || r.status == 204) << r.describe();
      live.erase(pe);
    } else {  // provider: approve / reject / remove / delete a connection of that endpoint
      auto view = providerView();
      auto it = view.find(toLower(peId(pe)));
      if (it == view.end()) continue;
      const std::string connId = it->second["id"].get<std::string>();
      if (action == 6) {
        ArmResult r = pl_.request("DELETE", connId + kApi);
        ASSERT_EQ(r.status, 202) << r.describe();
        continue;
      }
      const char* status = action == 2 ? "Approved" : action == 3 ? "Rejected"
                         : action == 4 ? "Removed" : "Approved";
      ArmResult r = pl_.request(
          "PUT", connId + kApi,
          {{"properties", {{"privateLinkServiceConnectionState", {{"status", status}}}}}});
      const std::string before =
          it->second["properties"]["privateLinkServiceConnectionState"]["status"];
      if (before == "Disconnected") {
        ASSERT_EQ(r.status, 400) << r.describe();
      } else {
        ASSERT_EQ(r.status, 200) << r.describe();
      }
    }

    // --- invariants
    auto view = providerView();
    std::set<std::string> withRecord;
    for (const std::string& e : endpoints) {
      ArmResult r = pl_.request("GET", peId(e) + kApi);
      if (!live.count(e)) {
        ASSERT_EQ(r.status, 404) << "step " << step;
        ASSERT_FALSE(view.count(toLower(peId(e)))) << "record of a deleted endpoint, step " << step;
        continue;
      }
      ASSERT_EQ(r.status, 200);
      const json c = consumerConnection(r.json);
      const json& consumerState = c["properties"]["privateLinkServiceConnectionState"];
      auto p = view.find(toLower(peId(e)));
      if (p != view.end()) {
        withRecord.insert(e);
        ASSERT_EQ(consumerState, p->second["properties"]["privateLinkServiceConnectionState"])
            << "views disagree at step " << step;
        ASSERT_EQ(c["properties"]["privlink"]["linkIdentifier"],
                  p->second["properties"]["linkIdentifier"]);
        ASSERT_EQ(c["properties"]["privlink"]["history"],
                  p->second["properties"]["privlink"]["history"]);
        linkIds.insert(p->second["properties"]["linkIdentifier"].get<std::string>());
      } else {
        ASSERT_EQ(consumerState["status"], "Disconnected") << "step " << step;
      }
    }
    ASSERT_EQ(withRecord.size(), view.size()) << "orphan records at step " << step;
  }
  EXPECT_GT(linkIds.size(), 4u);
}

TEST_F(ApprovalWorkflowTest, LinkIdentifiersAreUniqueAndNeverReused) {
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(pl_.putEndpoint(sub2_, "cons", "pe", plsId(), true).status, 201);
    auto view = providerView();
    ASSERT_EQ(view.size(), 1u);
    const std::string link = view.begin()->second["properties"]["linkIdentifier"];
    EXPECT_TRUE(seen.insert(link).second) << "link identifier " << link << " reused";
    EXPECT_NE(std::stoul(link), 0u);
    ASSERT_EQ(pl_.request("DELETE", peId("pe") + kApi).status, 202);
  }
}

TEST_F(ApprovalWorkflowTest, DiscoveryApis) {
  control::privatelink::PrivateLinkDiscovery discovery(pl_.context());
  control::Caller nobody = pl_.principal("nobody");
  auto visible = discovery.checkVisibility(nobody, sub2_, "local",
                                           {{"privateLinkServiceAlias", alias_}});
  ASSERT_TRUE(visible.ok());
  EXPECT_EQ((*visible)["visible"], true);
  const std::string stranger = pl_.addSubscription();
  auto hidden = discovery.checkVisibility(nobody, stranger, "local",
                                          {{"privateLinkServiceAlias", alias_}});
  ASSERT_TRUE(hidden.ok());
  EXPECT_EQ((*hidden)["visible"], false);
  auto unknown = discovery.checkVisibility(
      nobody, sub2_, "local",
      {{"privateLinkServiceAlias", "x.00000000-0000-0000-0000-000000000000.local.azure.privatelinkservice"}});
  EXPECT_EQ((*unknown)["visible"], false);
  EXPECT_FALSE(discovery.checkVisibility(nobody, sub2_, "local", json::object()).ok());
  // RBAC makes it visible to an unlisted subscription.
  pl_.grant("nobody", "Reader", plsId());
  EXPECT_EQ((*discovery.checkVisibility(nobody, stranger, "local",
                                        {{"privateLinkServiceAlias", alias_}}))["visible"],
            true);

  // Auto-approved services: none until sub2 is in autoApproval.
  EXPECT_TRUE((*discovery.autoApprovedServices(sub2_, "local"))["value"].empty());
  ASSERT_EQ(pl_.putService(pl_.sub(), "prov", "pls", json::array({sub2_}), json::array({sub2_}))
                .status,
            200);
  json approved = (*discovery.autoApprovedServices(sub2_, "local"))["value"];
  ASSERT_EQ(approved.size(), 1u);
  EXPECT_TRUE(iequals(approved[0]["privateLinkService"].get<std::string>(), plsId()));
  EXPECT_TRUE((*discovery.autoApprovedServices(sub2_, "elsewhere"))["value"].empty());

  json types = discovery.availableTypes(sub2_)["value"];
  ASSERT_GE(types.size(), 1u);
  EXPECT_EQ(types[0]["resourceName"], "Microsoft.Network/privateLinkServices");
  EXPECT_EQ(types[0]["type"], "Microsoft.Network/availablePrivateEndpointTypes");

  auto resources = discovery.privateLinkResources(*ResourceId::parse(plsId()), "");
  ASSERT_TRUE(resources.ok());
  EXPECT_TRUE((*resources)["value"].empty()) << "a PLS has no sub-resources";
  auto missing = discovery.privateLinkResources(
      *ResourceId::parse(PlFixture::net(pl_.sub(), "prov") + "/privateLinkServices/none"), "");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  // The router-facing entry point recognises the shapes.
  std::vector<std::string> segs = {"subscriptions", sub2_, "providers", "Microsoft.Network",
                                   "locations", "local", "checkPrivateLinkServiceVisibility"};
  auto handled = discovery.handle("POST", segs, {{"privateLinkServiceAlias", alias_}}, nobody);
  ASSERT_TRUE(handled.has_value());
  EXPECT_EQ((**handled)["visible"], true);
  segs.back() = "availablePrivateEndpointTypes";
  ASSERT_TRUE(discovery.handle("GET", segs, nullptr, nobody).has_value());
  segs.back() = "virtualNetworks";
  EXPECT_FALSE(discovery.handle("GET", segs, nullptr, nobody).has_value());
  std::vector<std::string> plr = {"subscriptions", pl_.sub(), "resourceGroups", "prov",
                                  "providers", "Microsoft.Network", "privateLinkServices", "pls",
                                  "privateLinkResources"};
  auto plrResult = discovery.handle("GET", plr, nullptr, nobody);
  ASSERT_TRUE(plrResult.has_value());
  EXPECT_TRUE((*plrResult).ok());
}

// A platform type plugs into the registry and gets groupId validation and its own connection
// collection (what the PaaS helper does for Microsoft.Sql/servers).
TEST(PrivateLinkRegistryTest, PlatformTypeGetsGroupValidationAndConnections) {
  PlFixture pl;
  control::privatelink::PrivateLinkTargetType sql;
  sql.type = "Microsoft.Test/widgets";
  sql.displayName = "Test widgets";
  sql.groups = {{"widget", {"widget"}, {"privatelink.widgets.test"}}};
  sql.read = [](store::ReadView&, const store::Document& doc)
      -> Result<control::privatelink::PrivateLinkTarget> {
    control::privatelink::PrivateLinkTarget t;
    t.id = *ResourceId::parse(doc.id);
    t.location = "local";
    t.fqdns = {t.id.name() + ".widgets.test"};
    return t;
  };
  pl.context()->registry.add(sql);
  pl.arm().service().registerKind(
      control::privatelink::makePrivateEndpointConnectionKind(pl.context(), "Microsoft.Test/widgets"));
  ASSERT_EQ(pl.buildConsumer(pl.sub(), "cons"), "");
  const std::string widget =
      PlFixture::rgId(pl.sub(), "cons") + "/providers/Microsoft.Test/widgets/w1";
  ArmResult w = pl.request("PUT", widget + "?api-version=2024-07-01", {{"location", "local"}});
  ASSERT_TRUE(w.status == 201 || w.status == 200) << w.describe();
  const std::string pe = PlFixture::net(pl.sub(), "cons") + "/privateEndpoints/pe";
  auto body = [&](json groups) {
    return json{{"location", "local"},
                {"properties",
                 {{"subnet", {{"id", PlFixture::net(pl.sub(), "cons") + "/virtualNetworks/cv/subnets/pe"}}},
                  {"privateLinkServiceConnections",
                   {{{"name", "c"},
                     {"properties", {{"privateLinkServiceId", widget}, {"groupIds", groups}}}}}}}}};
  };
  EXPECT_EQ(pl.request("PUT", pe + kApi, body(json::array())).json["error"]["code"], "InvalidGroupIds");
  EXPECT_EQ(pl.request("PUT", pe + kApi, body({"blob"})).json["error"]["code"], "InvalidGroupIds");
  ArmResult ok = pl.request("PUT", pe + kApi, body({"WIDGET"}));
  ASSERT_EQ(ok.status, 201) << ok.describe();
  const json& conn = ok.json["properties"]["privateLinkServiceConnections"][0]["properties"];
  EXPECT_EQ(conn["groupIds"], json::array({"widget"}));
  EXPECT_EQ(conn["privateLinkServiceConnectionState"]["status"], "Approved");
  EXPECT_EQ(ok.json["properties"]["customDnsConfigs"][0]["fqdn"], "w1.widgets.test");
  ArmResult list = pl.request("GET", widget + "/privateEndpointConnections?api-version=2024-07-01");
  ASSERT_EQ(list.status, 200) << list.describe();
  ASSERT_EQ(list.json["value"].size(), 1u);
  EXPECT_EQ(list.json["value"][0]["type"], "Microsoft.Test/widgets/privateEndpointConnections");
  EXPECT_EQ(list.json["value"][0]["properties"]["groupIds"], json::array({"widget"}));

  control::privatelink::PrivateLinkDiscovery discovery(pl.context());
  auto resources = discovery.privateLinkResources(*ResourceId::parse(widget), "");
  ASSERT_TRUE(resources.ok());
  EXPECT_EQ((*resources)["value"][0]["properties"]["requiredZoneNames"][0], "privatelink.widgets.test");
  auto one = discovery.privateLinkResources(*ResourceId::parse(widget), "widget");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)["name"], "widget");

  // The same through the ARM router (ArmRouterOptions::privateLink), as privlinkd serves it.
  ArmResult plr = pl.request("GET", widget + "/privateLinkResources?api-version=2024-07-01");
  ASSERT_EQ(plr.status, 200) << plr.describe();
  EXPECT_EQ(plr.json["value"][0]["id"], widget + "/privateLinkResources/widget");
  EXPECT_EQ(plr.json["value"][0]["type"], "Microsoft.Test/widgets/privateLinkResources");
  EXPECT_EQ(plr.json["value"][0]["properties"]["requiredMembers"], json::array({"widget"}));
  ArmResult group =
      pl.request("GET", widget + "/privateLinkResources/WIDGET?api-version=2024-07-01");
  ASSERT_EQ(group.status, 200) << group.describe();
  EXPECT_EQ(group.json["properties"]["groupId"], "widget");
  ArmResult noGroup =
      pl.request("GET", widget + "/privateLinkResources/blob?api-version=2024-07-01");
  EXPECT_EQ(noGroup.status, 404) << noGroup.describe();
  ArmResult types = pl.request("GET", "/subscriptions/" + pl.sub() +
                                          "/providers/Microsoft.Network/locations/local/"
                                          "availablePrivateEndpointTypes?api-version=2024-07-01");
  ASSERT_EQ(types.status, 200) << types.describe();
  bool listed = false;
  for (const json& t : types.json["value"]) {
    listed = listed || (t["resourceName"] == "Microsoft.Test/widgets" &&
                        t["displayName"] == "Test widgets" &&
                        t["name"] == "Microsoft.Test.widgets");
  }
  EXPECT_TRUE(listed) << types.describe();
}

TEST(ConnectionRecordTest, TransitionsFollowTheDocumentedMachine) {
  using control::privatelink::applyProviderUpdate;
  control::Caller provider{"p", "t", "provider", false};
  auto record = [](const char* status) {
    return json{{"name", "c"},
                {"properties",
                 {{"privateLinkServiceConnectionState", {{"status", status}, {"description", ""}}},
                  {"privlink", {{"history", json::array()}}}}}};
  };
  auto to = [](const char* status) {
    return json{{"properties", {{"privateLinkServiceConnectionState", {{"status", status}}}}}};
  };
  struct Case {
    const char* from;
    const char* to;
    const char* result;  // resulting status, or an error code
  };
  for (const Case& c : std::vector<Case>{{"Pending", "Approved", "Approved"},
                                         {"Pending", "Rejected", "Rejected"},
                                         {"Pending", "Removed", "Disconnected"},
                                         {"Approved", "Rejected", "Rejected"},
                                         {"Approved", "Removed", "Disconnected"},
                                         {"Rejected", "Approved", "Approved"},
                                         {"Rejected", "Removed", "Disconnected"},
                                         {"Approved", "Pending", "InvalidPrivateEndpointConnectionStatus"},
                                         {"Rejected", "Pending", "InvalidPrivateEndpointConnectionStatus"},
                                         {"Disconnected", "Approved", "PrivateEndpointConnectionDisconnected"},
                                         {"Disconnected", "Removed", "PrivateEndpointConnectionDisconnected"},
                                         {"Pending", "Bogus", "InvalidPrivateEndpointConnectionStatus"}}) {
    auto out = applyProviderUpdate(provider, record(c.from), to(c.to));
    if (out.ok()) {
      EXPECT_EQ((*out)["properties"]["privateLinkServiceConnectionState"]["status"], c.result)
          << c.from << " -> " << c.to;
      EXPECT_EQ((*out)["properties"]["privlink"]["history"].size(), 1u);
      EXPECT_EQ((*out)["properties"]["privlink"]["history"][0]["principalName"], "provider");
    } else {
      EXPECT_EQ(out.status().armCode(), c.result) << c.from << " -> " << c.to;
    }
  }
  // Missing status.
  EXPECT_EQ(applyProviderUpdate(provider, record("Pending"), json::object()).status().armCode(),
            "InvalidRequestFormat");
  // Same status and description: nothing recorded.
  auto same = applyProviderUpdate(provider, record("Approved"), to("Approved"));
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE((*same)["properties"]["privlink"]["history"].empty());
}

}  // namespace
}  // namespace privlink::testing
