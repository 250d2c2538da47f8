// Resource counters on the API (issue #6 item 7): the counters documents the agents publish
// (control/resource_counters.h) appear read-only as properties.privlink.counters on GET and list
// of private endpoints and private link services, summed over hosts; they never change a
// resource's etag; a PUT that carries them back ignores them.

#include "control/resource_counters.h"

#include <gtest/gtest.h>

#include "pl_fixture.h"
#include "store/sqlite_store.h"

namespace privlink::testing {
namespace {

using nlohmann::json;

class ResourceCountersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pl_.buildProvider(pl_.sub(), "prov"), "");
    ASSERT_EQ(pl_.buildConsumer(pl_.sub(), "cons"), "");
    ArmResult r = pl_.putService(pl_.sub(), "prov", "pls", json::array(), json::array());
    ASSERT_EQ(r.status, 201) << r.describe();
    ArmResult pe = pl_.putEndpoint(pl_.sub(), "cons", "pe1", plsId(), false);
    ASSERT_EQ(pe.status, 201) << pe.describe();
  }

  std::string plsId() const {
    return PlFixture::net(pl_.sub(), "prov") + "/privateLinkServices/pls";
  }
  std::string peId() const { return PlFixture::net(pl_.sub(), "cons") + "/privateEndpoints/pe1"; }

  void publish(const control::CounterSnapshot& s) {
    const std::string key = control::countersKeyOf(toLower(s.resourceId), s.host);
    ASSERT_TRUE(pl_.arm()
                    .store()
                    .write([&](store::Transaction& tx) -> Status {
                      return tx.put(key, control::kCountersType, s.toJson()).status();
                    })
                    .ok());
  }

  static control::CounterSnapshot endpointSnapshot(const std::string& id, const std::string& host,
                                                   uint64_t base, const std::string& at) {
    control::CounterSnapshot s;
    s.resourceId = id;
    s.host = host;
    s.observedAt = at;
    s.bytesIn = base * 10;
    s.bytesOut = base * 20;
    s.packetsIn = base;
    s.packetsOut = base * 2;
    s.connections = base * 3;
    s.rejectedPackets = base * 4;
    return s;
  }

  json get(const std::string& id) {
    ArmResult r = pl_.request("GET", id + kApi);
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.json;
  }

  PlFixture pl_;
};

TEST_F(ResourceCountersTest, AbsentUntilAnAgentPublishes) {
  const json pe = get(peId());
  EXPECT_FALSE(pe["properties"].contains("privlink")) << pe.dump();
  const json pls = get(plsId());
  EXPECT_FALSE(pls["properties"].contains("privlink")) << pls.dump();
}

TEST_F(ResourceCountersTest, EndpointGetAndListShowCountersSummedOverHosts) {
  const std::string etagBefore = get(peId())["etag"].get<std::string>();
  publish(endpointSnapshot(peId(), "agent", 1, "2026-11-29T17:00:00.000Z"));
  publish(endpointSnapshot(peId(), "host2", 2, "2026-11-29T17:00:05.000Z"));

  const json pe = get(peId());
  const json& c = pe["properties"]["privlink"]["counters"];
  EXPECT_EQ(c["bytesIn"], 30u) << pe.dump();
  EXPECT_EQ(c["bytesOut"], 60u);
  EXPECT_EQ(c["packetsIn"], 3u);
  EXPECT_EQ(c["packetsOut"], 6u);
  EXPECT_EQ(c["connections"], 9u);
  EXPECT_EQ(c["rejectedPackets"], 12u);
  EXPECT_EQ(c["observedAt"], "2026-11-29T17:00:05.000Z");
  EXPECT_FALSE(c.contains("host"));
  EXPECT_FALSE(c.contains("resourceId"));
  EXPECT_FALSE(c.contains("natPorts"));
  EXPECT_EQ(pe["etag"], etagBefore) << "publishing counters must not change the etag";

  ArmResult list =
      pl_.request("GET", PlFixture::net(pl_.sub(), "cons") + "/privateEndpoints" + kApi);
  ASSERT_EQ(list.status, 200) << list.describe();
  ASSERT_EQ(list.json["value"].size(), 1u);
  EXPECT_EQ(list.json["value"][0]["properties"]["privlink"]["counters"], c);
}

TEST_F(ResourceCountersTest, PrivateLinkServiceShowsNatPortsPerIpAndProtocol) {
  control::CounterSnapshot s = endpointSnapshot(plsId(), "agent", 5, "2026-11-29T17:00:00.000Z");
  s.natPorts =
      std::vector<control::NatPortCount>{{"10.0.2.4", "Tcp", 3, 4}, {"10.0.2.4", "Udp", 0, 0}};
  publish(s);
  control::CounterSnapshot other = s;
  other.host = "host2";
  other.natPorts = std::vector<control::NatPortCount>{{"10.0.2.4", "Tcp", 2, 2}};
  publish(other);

  const json pls = get(plsId());
  const json& c = pls["properties"]["privlink"]["counters"];
  EXPECT_EQ(c["bytesOut"], 200u) << pls.dump();
  ASSERT_TRUE(c["natPorts"].is_array()) << pls.dump();
  ASSERT_EQ(c["natPorts"].size(), 2u) << pls.dump();
  EXPECT_EQ(
      c["natPorts"][0],
      json({{"ipAddress", "10.0.2.4"}, {"protocol", "Tcp"}, {"portsInUse", 5}, {"flows", 6}}));
  EXPECT_EQ(
      c["natPorts"][1],
      json({{"ipAddress", "10.0.2.4"}, {"protocol", "Udp"}, {"portsInUse", 0}, {"flows", 0}}));
  // The endpoint's own counters are separate documents.
  EXPECT_FALSE(get(peId())["properties"].contains("privlink"));
}

TEST_F(ResourceCountersTest, PutCarryingTheCountersBackIgnoresThem) {
  publish(endpointSnapshot(peId(), "agent", 7, "2026-11-29T17:00:00.000Z"));
  json before = get(peId());
  ASSERT_TRUE(before["properties"]["privlink"].contains("counters"));
  json sent = before;
  sent["properties"]["privlink"]["counters"]["bytesIn"] = 999999;  // forged, must be ignored
  ArmResult put = pl_.request("PUT", peId() + kApi, sent);
  ASSERT_TRUE(put.status == 200 || put.status == 201) << put.describe();
  EXPECT_EQ(put.status, 200);

  // Nothing of the extension was stored with the resource.
  auto stored = pl_.arm().service().store().read([&](store::ReadView& view) -> Status {
    auto doc = view.get(toLower(peId()));
    if (!doc.ok()) return doc.status();
    EXPECT_TRUE(doc->has_value());
    if (*doc) {
      const json& props = (*doc)->body["properties"];
      EXPECT_FALSE(props.contains("privlink") && props["privlink"].contains("counters"))
          << props.dump();
    }
    return Status::Ok();
  });
  ASSERT_TRUE(stored.ok()) << stored.toString();

  // The GET still shows the published values, and the resource is otherwise what it was.
  json after = get(peId());
  EXPECT_EQ(after["properties"]["privlink"]["counters"]["bytesIn"], 70u);
  for (json* body : {&before, &after}) {
    body->erase("etag");
    (*body)["properties"].erase("provisioningState");
  }
  EXPECT_EQ(after, before);

  // Without published counters, a PUT with a forged extension shows none.
  ASSERT_TRUE(pl_.arm()
                  .store()
                  .write([&](store::Transaction& tx) -> Status {
                    return tx.erase(control::countersKeyOf(toLower(peId()), "agent"));
                  })
                  .ok());
  put = pl_.request("PUT", peId() + kApi, sent);
  ASSERT_EQ(put.status, 200) << put.describe();
  EXPECT_FALSE(put.json["properties"].contains("privlink")) << put.json.dump();
  EXPECT_FALSE(get(peId())["properties"].contains("privlink"));
}

TEST_F(ResourceCountersTest, PrivateLinkServicePutIgnoresTheExtension) {
  json sent = get(plsId());
  sent["properties"]["privlink"] = {{"counters", {{"bytesIn", 5}}}};
  ArmResult put = pl_.request("PUT", plsId() + kApi, sent);
  ASSERT_EQ(put.status, 200) << put.describe();
  EXPECT_FALSE(put.json["properties"].contains("privlink")) << put.json.dump();
  EXPECT_FALSE(get(plsId())["properties"].contains("privlink"));
}

TEST_F(ResourceCountersTest, MetricsInAzureMonitorShape) {
  const std::string metrics = "/providers/Microsoft.Insights/metrics";
  ArmResult empty =
      pl_.request("GET", peId() + metrics + "?metricnames=PEBytesIn&api-version=2018-01-01");
  ASSERT_EQ(empty.status, 200) << empty.describe();
  ASSERT_EQ(empty.json["value"].size(), 1u);
  EXPECT_TRUE(empty.json["value"][0]["timeseries"][0]["data"].empty()) << empty.json.dump();

  publish(endpointSnapshot(peId(), "agent", 3, "2026-11-29T17:03:41.123Z"));
  ArmResult r = pl_.request("GET", peId() + metrics +
                                       "?metricnames=PEBytesIn,PEBytesOut&aggregation=Total,Count"
                                       "&api-version=2018-01-01");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json["namespace"], "Microsoft.Network/privateEndpoints");
  EXPECT_EQ(r.json["interval"], "PT1M");
  EXPECT_TRUE(r.json["timespan"].is_string());
  ASSERT_EQ(r.json["value"].size(), 2u) << r.json.dump();
  const json& in = r.json["value"][0];
  EXPECT_EQ(in["name"]["value"], "PEBytesIn");
  EXPECT_EQ(in["type"], "Microsoft.Insights/metrics");
  EXPECT_EQ(in["id"], peId() + "/providers/Microsoft.Insights/metrics/PEBytesIn");
  EXPECT_EQ(in["unit"], "Count");
  const json& point = in["timeseries"][0]["data"][0];
  EXPECT_EQ(point["timeStamp"], "2026-11-29T17:03:00Z");
  EXPECT_EQ(point["total"], 30.0);
  EXPECT_EQ(point["count"], 1);
  EXPECT_EQ(r.json["value"][1]["timeseries"][0]["data"][0]["total"], 60.0);

  ArmResult unknown =
      pl_.request("GET", peId() + metrics + "?metricnames=PLSBytesIn&api-version=2018-01-01");
  EXPECT_EQ(unknown.status, 400) << unknown.describe();
  EXPECT_NE(unknown.body.find("PEBytesIn, PEBytesOut"), std::string::npos) << unknown.body;
  ArmResult missing =
      pl_.request("GET", PlFixture::net(pl_.sub(), "cons") + "/privateEndpoints/nope" + metrics +
                             "?api-version=2018-01-01");
  EXPECT_EQ(missing.status, 404) << missing.describe();
  ArmResult vnet = pl_.request("GET", PlFixture::net(pl_.sub(), "cons") + "/virtualNetworks/vnet" +
                                          metrics + "?api-version=2018-01-01");
  EXPECT_EQ(vnet.status, 400) << vnet.describe();
}

TEST_F(ResourceCountersTest, NatPortsUsageMetricPerIpWithTheDimensionFilter) {
  control::CounterSnapshot s = endpointSnapshot(plsId(), "agent", 1, "2026-11-29T17:03:41.123Z");
  s.natPorts = std::vector<control::NatPortCount>{
      {"10.0.2.4", "Tcp", 645, 645}, {"10.0.2.4", "Udp", 0, 0}, {"10.0.2.5", "Tcp", 0, 0}};
  publish(s);
  const std::string base = plsId() + "/providers/Microsoft.Insights/metrics?api-version=2018-01-01";
  ArmResult all = pl_.request("GET", base + "&metricnames=PLSNATPortsUsage");
  ASSERT_EQ(all.status, 200) << all.describe();
  const json& series = all.json["value"][0]["timeseries"];
  ASSERT_EQ(series.size(), 1u) << all.json.dump();
  EXPECT_NEAR(series[0]["data"][0]["average"].get<double>(), 645 * 100.0 / 64512 / 2, 1e-9);

  ArmResult split = pl_.request(
      "GET", base + "&metricnames=PLSNatPortsUsage&$filter=PrivateLinkServiceIPAddress%20eq%20'*'");
  ASSERT_EQ(split.status, 200) << split.describe();
  const json& perIp = split.json["value"][0]["timeseries"];
  ASSERT_EQ(perIp.size(), 2u) << split.json.dump();
  EXPECT_EQ(perIp[0]["metadatavalues"][0]["name"]["value"], "PrivateLinkServiceIPAddress");
  EXPECT_EQ(perIp[0]["metadatavalues"][0]["value"], "10.0.2.4");
  EXPECT_NEAR(perIp[0]["data"][0]["average"].get<double>(), 645 * 100.0 / 64512, 1e-9);
  EXPECT_EQ(perIp[1]["data"][0]["average"], 0.0);

  ArmResult every = pl_.request("GET", base);
  ASSERT_EQ(every.status, 200) << every.describe();
  ASSERT_EQ(every.json["value"].size(), 3u);
  EXPECT_EQ(every.json["value"][1]["name"]["value"], "PLSBytesOut");
  EXPECT_EQ(every.json["value"][1]["timeseries"][0]["data"][0]["total"], 20.0);
}

// countersOnlyThrough: the agent and the DNS responder skip counters-only changes, but not past a
// change of anything else, and not across a gap left by change-feed pruning.
TEST(CountersOnlyThrough, SkipsCountersStopsAtOtherChangesAndAtAPrunedGap) {
  store::SqliteOptions options{":memory:"};
  options.changeRetention = 10;
  auto opened = store::openSqliteStore(options);
  ASSERT_TRUE(opened.ok());
  store::Store& store = **opened;
  auto put = [&](const std::string& id, std::string_view type) {
    ASSERT_TRUE(store
                    .write([&](store::Transaction& tx) -> Status {
                      return tx.put(id, type, json{{"v", store.revision()}}).status();
                    })
                    .ok());
  };
  const std::string counters = "/privlink/counters/x/hosts/h";
  const std::string vnet =
      "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v";
  put(vnet, "microsoft.network/virtualnetworks");                      // 1
  put(counters, control::kCountersType);                               // 2
  put(counters, control::kCountersType);                               // 3
  put(vnet, "microsoft.network/virtualnetworks");                      // 4
  EXPECT_EQ(control::countersOnlyThrough(store, 0), 0);                // 1 is a VNet
  EXPECT_EQ(control::countersOnlyThrough(store, 1), 3);                // 2, 3 counters; 4 is not
  EXPECT_EQ(control::countersOnlyThrough(store, 4), 4);                // nothing new
  for (int i = 0; i < 30; ++i) put(counters, control::kCountersType);  // 5..34, feed pruned
  EXPECT_EQ(control::countersOnlyThrough(store, 30), 34);              // all retained and counters
  EXPECT_EQ(control::countersOnlyThrough(store, 4), 4);  // 5.. were pruned: a gap, re-read
}

TEST(ResourceCountersCodec, RoundTripsAndRefusesMalformedBodies) {
  control::CounterSnapshot s;
  s.resourceId = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/privateEndpoints/p";
  s.host = "agent";
  s.observedAt = "2026-11-29T17:00:00.000Z";
  s.bytesIn = 1;
  s.connections = 2;
  s.natPorts = std::vector<control::NatPortCount>{{"10.0.0.4", "Tcp", 1, 1}};
  auto parsed = control::parseCounterSnapshot(s.toJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_TRUE(parsed->sameValues(s));
  EXPECT_EQ(parsed->observedAt, s.observedAt);

  json negative = s.toJson();
  negative["bytesIn"] = -1;
  EXPECT_EQ(control::parseCounterSnapshot(negative).status().code(), StatusCode::kInvalidArgument);
  json missing = s.toJson();
  missing.erase("connections");
  EXPECT_FALSE(control::parseCounterSnapshot(missing).ok());
  json badRows = s.toJson();
  badRows["natPorts"] = json::array({{{"ipAddress", 4}}});
  EXPECT_FALSE(control::parseCounterSnapshot(badRows).ok());
  EXPECT_FALSE(control::parseCounterSnapshot(json::array()).ok());

  EXPECT_EQ(control::countersHostOf(control::countersKeyOf("/subscriptions/s/x", "Agent")),
            "agent");
  EXPECT_EQ(control::countersHostOf("/subscriptions/s/x"), "");
}

}  // namespace
}  // namespace privlink::testing
