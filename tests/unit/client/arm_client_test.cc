#include "client/arm_client.h"

#include <gtest/gtest.h>

#include "unit/client/fake_transport.h"

namespace privlink::client {
namespace {

using std::chrono::milliseconds;
using testing::FakeTransport;
using testing::jsonResponse;

constexpr const char* kBase = "https://localhost:8443";
const std::string kVnet =
    "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1"
    "?api-version=2024-07-01";
const std::string kOp = std::string(kBase) +
                        "/subscriptions/s1/providers/Microsoft.Network/locations/local/"
                        "operations/op1?api-version=2024-07-01";

class StaticTokens : public TokenSource {
 public:
  Result<std::string> accessToken() override { return "tok" + std::to_string(generation); }
  void invalidate() override { ++generation; }
  int generation = 1;
};

class ArmClientTest : public ::testing::Test {
 protected:
  ArmClientTest() {
    options_.sleep = [this](milliseconds d) {
      sleeps.push_back(d);
      clock += d;
    };
    options_.now = [this] { return clock; };
  }
  ArmClient client() { return ArmClient(fake, tokens, std::string(kBase) + "/", options_); }

  FakeTransport fake;
  StaticTokens tokens;
  ArmClientOptions options_;
  std::vector<milliseconds> sleeps;
  std::chrono::steady_clock::time_point clock{};
};

TEST_F(ArmClientTest, RequestSendsBearerAndJsonBody) {
  fake.on("PUT", "virtualNetworks/v1", jsonResponse(200, R"({"name":"v1","b":1,"a":2})"));
  ArmClient arm = client();
  Json body = {{"location", "local"}};
  auto res = arm.request("PUT", kVnet, &body);
  ASSERT_TRUE(res.ok()) << res.status().toString();
  EXPECT_EQ(res->status, 200);
  // Keys keep the server's order.
  EXPECT_EQ(res->json.dump(), R"({"name":"v1","b":1,"a":2})");
  ASSERT_EQ(fake.requests.size(), 1u);
  EXPECT_EQ(fake.requests[0].url, std::string(kBase) + kVnet);
  EXPECT_EQ(fake.requests[0].headers.at("Authorization"), "Bearer tok1");
  EXPECT_EQ(fake.requests[0].headers.at("Content-Type"), "application/json");
  EXPECT_EQ(fake.requests[0].body, R"({"location":"local"})");
}

TEST_F(ArmClientTest, ErrorBodyBecomesStatus) {
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(404, R"({"error":{"code":"ResourceNotFound","message":"no v1"}})"));
  ArmClient arm = client();
  auto res = arm.get(kVnet);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(res.status().toString(), "ResourceNotFound: no v1");
}

TEST_F(ArmClientTest, RetriesOnceWithFreshTokenAfter401) {
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(401, R"({"error":{"code":"ExpiredAuthenticationToken","message":"x"}})"));
  fake.on("GET", "virtualNetworks/v1", jsonResponse(200, R"({"name":"v1"})"));
  ArmClient arm = client();
  auto res = arm.get(kVnet);
  ASSERT_TRUE(res.ok()) << res.status().toString();
  ASSERT_EQ(fake.requests.size(), 2u);
  EXPECT_EQ(fake.requests[1].headers.at("Authorization"), "Bearer tok2");
}

TEST_F(ArmClientTest, Persistent401IsUnauthenticated) {
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(401, R"({"error":{"code":"InvalidAuthenticationToken","message":"x"}})"));
  ArmClient arm = client();
  auto res = arm.get(kVnet);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(fake.requests.size(), 2u);
}

TEST_F(ArmClientTest, NonJsonSuccessBodyIsAnError) {
  fake.on("GET", "virtualNetworks/v1", jsonResponse(200, "<html>"));
  ArmClient arm = client();
  EXPECT_EQ(arm.get(kVnet).status().code(), StatusCode::kInternal);
}

TEST_F(ArmClientTest, PutAndWaitPollsAsyncOperationHonouringRetryAfter) {
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(201, R"({"name":"v1","properties":{"provisioningState":"Updating"}})",
                       {{"Azure-AsyncOperation", kOp}, {"Retry-After", "3"}}));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"InProgress"})", {{"Retry-After", "2"}}));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"InProgress"})"));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"Succeeded"})"));
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(200, R"({"name":"v1","properties":{"provisioningState":"Succeeded"}})"));
  std::vector<std::string> progress;
  options_.progress = [&](std::string_view s) { progress.emplace_back(s); };
  ArmClient arm = client();
  auto res = arm.putAndWait(kVnet, Json{{"location", "local"}});
  ASSERT_TRUE(res.ok()) << res.status().toString();
  EXPECT_EQ((*res)["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{std::chrono::seconds(3), std::chrono::seconds(2),
                                                std::chrono::seconds(1)}));
  EXPECT_EQ(progress, (std::vector<std::string>{"InProgress", "InProgress", "Succeeded"}));
  std::vector<std::string> expected = {"PUT " + std::string(kBase) + kVnet, "GET " + kOp,
                                       "GET " + kOp, "GET " + kOp,
                                       "GET " + std::string(kBase) + kVnet};
  EXPECT_EQ(fake.armCalls(), expected);
}

TEST_F(ArmClientTest, FailedOperationReturnsItsError) {
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(201, R"({"name":"v1"})", {{"Azure-AsyncOperation", kOp}}));
  fake.on("GET", "operations/op1",
          jsonResponse(200, R"({"status":"Failed","error":{"code":"NetcfgInvalidSubnet",
                                 "message":"subnet 10.9.0.0/24 is outside the address space"}})"));
  ArmClient arm = client();
  auto res = arm.putAndWait(kVnet, Json::object());
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().toString(),
            "NetcfgInvalidSubnet: subnet 10.9.0.0/24 is outside the address space");
}

TEST_F(ArmClientTest, CanceledOperationWithoutErrorBody) {
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(201, R"({"name":"v1"})", {{"Azure-AsyncOperation", kOp}}));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"Canceled"})"));
  ArmClient arm = client();
  auto res = arm.putAndWait(kVnet, Json::object());
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().armCode(), "OperationCanceled");
}

TEST_F(ArmClientTest, LroTimesOut) {
  options_.lroTimeout = std::chrono::seconds(5);
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(201, R"({"name":"v1"})", {{"Azure-AsyncOperation", kOp}}));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"InProgress"})"));
  ArmClient arm = client();
  auto res = arm.putAndWait(kVnet, Json::object());
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(res.status().message().find("OperationTimedOut"), std::string::npos);
  EXPECT_LE(sleeps.size(), 5u);
}

TEST_F(ArmClientTest, BodyPollingWithoutHeaders) {
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(201, R"({"properties":{"provisioningState":"Updating"}})"));
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(200, R"({"properties":{"provisioningState":"Updating"}})"));
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(200, R"({"properties":{"provisioningState":"Succeeded"}})"));
  ArmClient arm = client();
  auto res = arm.putAndWait(kVnet, Json::object());
  ASSERT_TRUE(res.ok()) << res.status().toString();
  EXPECT_EQ((*res)["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(fake.armCalls().size(), 4u);  // PUT, GET (Updating), GET (Succeeded), final GET
}

TEST_F(ArmClientTest, SynchronousPutNeedsNoPolling) {
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(200, R"({"properties":{"provisioningState":"Succeeded"}})"));
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(200, R"({"properties":{"provisioningState":"Succeeded"}})"));
  ArmClient arm = client();
  ASSERT_TRUE(arm.putAndWait(kVnet, Json::object()).ok());
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(ArmClientTest, FinalGetInFailedStateIsAnError) {
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(200, R"({"properties":{"provisioningState":"Failed"}})"));
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(200, R"({"properties":{"provisioningState":"Failed"}})"));
  ArmClient arm = client();
  EXPECT_EQ(arm.putAndWait(kVnet, Json::object()).status().armCode(), "OperationFailed");
}

TEST_F(ArmClientTest, DeleteWithAsyncOperation) {
  fake.on("DELETE", "virtualNetworks/v1",
          jsonResponse(202, "", {{"Azure-AsyncOperation", kOp}, {"Location", "https://x/loc"},
                                 {"Retry-After", "1"}}));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"InProgress"})"));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"Succeeded"})"));
  ArmClient arm = client();
  Status s = arm.deleteAndWait(kVnet);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(fake.armCalls().size(), 3u);  // the Location URL is not used when both are sent
}

TEST_F(ArmClientTest, DeleteWithLocationPolling) {
  std::string loc = std::string(kBase) + "/subscriptions/s1/operationResults/op2";
  fake.on("DELETE", "resourceGroups/rg", jsonResponse(202, "", {{"Location", loc}}));
  fake.on("GET", "operationResults/op2", jsonResponse(202, ""));
  fake.on("GET", "operationResults/op2", jsonResponse(200, ""));
  ArmClient arm = client();
  Status s = arm.deleteAndWait("/subscriptions/s1/resourceGroups/rg?api-version=2021-04-01");
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(fake.armCalls().size(), 3u);
}

TEST_F(ArmClientTest, DeleteNoContentIsDone) {
  fake.on("DELETE", "virtualNetworks/v1", jsonResponse(204, ""));
  ArmClient arm = client();
  EXPECT_TRUE(arm.deleteAndWait(kVnet).ok());
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(ArmClientTest, Delete202WithoutPollingUrlIsAnError) {
  fake.on("DELETE", "virtualNetworks/v1", jsonResponse(202, ""));
  ArmClient arm = client();
  EXPECT_EQ(arm.deleteAndWait(kVnet).code(), StatusCode::kInternal);
}

TEST_F(ArmClientTest, ListFollowsNextLink) {
  std::string page2 = std::string(kBase) + "/subscriptions/s1/resourcegroups?page=2";
  fake.on("GET", "resourcegroups?api-version",
          jsonResponse(200, R"({"value":[{"name":"a"},{"name":"b"}],"nextLink":")" + page2 +
                                R"("})"));
  fake.on("GET", "resourcegroups?page=2", jsonResponse(200, R"({"value":[{"name":"c"}]})"));
  ArmClient arm = client();
  auto items = arm.list("/subscriptions/s1/resourcegroups?api-version=2021-04-01");
  ASSERT_TRUE(items.ok()) << items.status().toString();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[2]["name"], "c");
}

TEST_F(ArmClientTest, ListDetectsRepeatingNextLink) {
  std::string self = std::string(kBase) + "/subscriptions/s1/resourcegroups?api-version=x";
  fake.on("GET", "resourcegroups", jsonResponse(200, R"({"value":[],"nextLink":")" + self + R"("})"));
  ArmClient arm = client();
  EXPECT_EQ(arm.list(self).status().code(), StatusCode::kInternal);
}

TEST_F(ArmClientTest, ListRejectsNonCollection) {
  fake.on("GET", "resourcegroups", jsonResponse(200, R"({"name":"x"})"));
  ArmClient arm = client();
  EXPECT_FALSE(arm.list("/subscriptions/s1/resourcegroups").ok());
}

TEST(IsTerminalStateTest, Values) {
  EXPECT_TRUE(isTerminalState("Succeeded"));
  EXPECT_TRUE(isTerminalState("failed"));
  EXPECT_TRUE(isTerminalState("Canceled"));
  EXPECT_FALSE(isTerminalState("Updating"));
  EXPECT_FALSE(isTerminalState(""));
}

}  // namespace
}  // namespace privlink::client
