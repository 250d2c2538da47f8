#include "api/arm_router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/arm_fixture.h"

namespace privlink::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using privlink::testing::ArmFixture;
using privlink::testing::ArmFixtureOptions;
using privlink::testing::ArmResult;

class ArmRouterTest : public ::testing::Test {
 protected:
  ArmRouterTest() : arm_(ArmFixtureOptions{.networkKinds = false, .manualRealiser = true}) {}

  std::string rg(const std::string& name = "rg1") {
    return "/subscriptions/" + arm_.subscriptionId() + "/resourceGroups/" + name;
  }
  std::string widget(const std::string& name) {
    return rg() + "/providers/Microsoft.Test/widgets/" + name;
  }
  void makeGroup() {
    ArmResult r = arm_.request("PUT", rg() + "?api-version=2021-04-01", {{"location", "local"}});
    ASSERT_EQ(r.status, 201) << r.describe();
  }
  ArmFixture arm_;
};

TEST_F(ArmRouterTest, EveryResponseCarriesRequestIdsAndJsonContentType) {
  ArmResult r = arm_.request("GET", "/subscriptions?api-version=2019-11-01", nullptr,
                             {{"x-ms-client-request-id", "client-1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.header("x-ms-request-id"), MatchesRegex("[0-9a-f-]{36}"));
  EXPECT_EQ(r.header("x-ms-correlation-request-id"), "client-1");
  EXPECT_EQ(r.header("x-ms-client-request-id"), "client-1");
  EXPECT_EQ(r.header("Content-Type"), "application/json; charset=utf-8");

  ArmResult error = arm_.request("GET", "/subscriptions", nullptr,
                                 {{"x-ms-correlation-request-id", "corr-9"}});
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.header("x-ms-correlation-request-id"), "corr-9");
  EXPECT_FALSE(error.header("x-ms-request-id").empty());
  EXPECT_EQ(error.header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_NE(arm_.request("GET", "/subscriptions?api-version=2019-11-01")
                .header("x-ms-request-id"),
            r.header("x-ms-request-id"));
}

TEST_F(ArmRouterTest, PathsAreNormalised) {
  makeGroup();
  // `//`, a trailing slash, lower-case words and a percent-encoded name all reach rg1.
  ArmResult r = arm_.request("GET", "//subscriptions//" + arm_.subscriptionId() +
                                        "/resourcegroups/%72g1/?api-version=2021-04-01");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json["name"], "rg1");
  ArmResult bad = arm_.request("GET", rg("a%zz") + "?api-version=2021-04-01");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json["error"]["code"], "InvalidRequestUri");
  ArmResult slash = arm_.request("GET", rg("a%2Fb") + "?api-version=2021-04-01");
  EXPECT_EQ(slash.status, 400);
  ArmResult nowhere = arm_.request("GET", "/nothing/here?api-version=2021-04-01");
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_EQ(nowhere.json["error"]["code"], "NotFound");
}

TEST_F(ArmRouterTest, LongRunningPutAndDeleteHeaders) {
  makeGroup();
  ArmResult put = arm_.request("PUT", widget("w1") + "?api-version=2022-01-01",
                               {{"location", "westeurope"}});
  ASSERT_EQ(put.status, 201) << put.describe();
  EXPECT_EQ(put.json["properties"]["provisioningState"], "Updating");
  std::string async = put.header("Azure-AsyncOperation");
  EXPECT_THAT(async, MatchesRegex("https://localhost:8443/subscriptions/" + arm_.subscriptionId() +
                                  "/providers/Microsoft.Test/locations/westeurope/operations/"
                                  "[0-9a-f-]{36}\\?api-version=2022-01-01"));
  EXPECT_EQ(put.header("Retry-After"), "1");
  EXPECT_EQ(put.header("Location"), "");

  std::string opPath = async.substr(arm_.baseUrl().size());
  ArmResult poll = arm_.request("GET", opPath);
  EXPECT_EQ(poll.status, 200);
  EXPECT_EQ(poll.json["status"], "InProgress");
  arm_.realise();
  EXPECT_EQ(arm_.request("GET", opPath).json["status"], "Succeeded");

  ArmResult update = arm_.request("PUT", widget("w1") + "?api-version=2022-01-01",
                                  {{"location", "westeurope"}});
  EXPECT_EQ(update.status, 200);
  EXPECT_NE(update.header("Azure-AsyncOperation"), async);

  ArmResult del = arm_.request("DELETE", widget("w1") + "?api-version=2022-01-01");
  ASSERT_EQ(del.status, 202) << del.describe();
  EXPECT_EQ(del.body, "");
  std::string location = del.header("Location");
  EXPECT_THAT(location, HasSubstr("/providers/Microsoft.Test/locations/westeurope/"
                                  "operationResults/"));
  EXPECT_THAT(location, StartsWith(arm_.baseUrl()));
  EXPECT_THAT(del.header("Azure-AsyncOperation"), HasSubstr("/operations/"));
  EXPECT_EQ(del.header("Retry-After"), "1");
  std::string resultPath = location.substr(arm_.baseUrl().size());
  ArmResult running = arm_.request("GET", resultPath);
  EXPECT_EQ(running.status, 202);
  EXPECT_EQ(running.header("Location"), location);
  arm_.realise();
  EXPECT_EQ(arm_.request("GET", resultPath).status, 204);
  EXPECT_EQ(arm_.request("GET", widget("w1") + "?api-version=2022-01-01").status, 404);
  EXPECT_EQ(arm_.request("DELETE", widget("w1") + "?api-version=2022-01-01").status, 204);
}

TEST_F(ArmRouterTest, OperationsAreScopedToTheirSubscription) {
  makeGroup();
  ArmResult put = arm_.request("PUT", widget("w1") + "?api-version=2022-01-01",
                               {{"location", "local"}});
  std::string async = put.header("Azure-AsyncOperation");
  std::string other = async;
  other.replace(other.find(arm_.subscriptionId()), arm_.subscriptionId().size(),
                "11111111-1111-1111-1111-111111111111");
  ArmResult r = arm_.request("GET", other.substr(arm_.baseUrl().size()));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json["error"]["code"], "OperationNotFound");
}

TEST_F(ArmRouterTest, HeadHasNoBody) {
  makeGroup();
  ArmResult head = arm_.request("HEAD", rg() + "?api-version=2021-04-01");
  EXPECT_EQ(head.status, 204);
  EXPECT_EQ(head.body, "");
  ArmResult missing = arm_.request("HEAD", rg("nope") + "?api-version=2021-04-01");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "");
}

TEST_F(ArmRouterTest, MethodNotAllowed) {
  ArmResult r = arm_.request("POST", "/subscriptions?api-version=2021-04-01");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.json["error"]["code"], "MethodNotAllowed");
  makeGroup();
  ArmResult collection = arm_.request(
      "PUT", rg() + "/providers/Microsoft.Test/widgets?api-version=2022-01-01", json::object());
  EXPECT_EQ(collection.status, 405);
  ArmResult options = arm_.request("OPTIONS", widget("w") + "?api-version=2022-01-01");
  EXPECT_EQ(options.status, 405);
}

TEST_F(ArmRouterTest, NextLinkIsAbsoluteWithTheSameApiVersion) {
  makeGroup();
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_EQ(arm_.request("PUT", widget(name) + "?api-version=2022-01-01",
                           {{"location", "local"}})
                  .status,
              201);
  }
  std::string list = rg() + "/providers/Microsoft.Test/widgets?api-version=2022-01-01&$top=2";
  ArmResult first = arm_.request("GET", list);
  ASSERT_EQ(first.status, 200) << first.describe();
  ASSERT_EQ(first.json["value"].size(), 2u);
  std::string next = first.json["nextLink"];
  EXPECT_THAT(next, StartsWith(arm_.baseUrl() + rg() + "/providers/Microsoft.Test/widgets?"));
  EXPECT_THAT(next, HasSubstr("api-version=2022-01-01"));
  EXPECT_THAT(next, HasSubstr("$skipToken="));
  ArmResult second = arm_.request("GET", next.substr(arm_.baseUrl().size()));
  ASSERT_EQ(second.status, 200) << second.describe();
  ASSERT_EQ(second.json["value"].size(), 1u);
  EXPECT_EQ(second.json["value"][0]["name"], "c");
  EXPECT_FALSE(second.json.contains("nextLink"));
  EXPECT_EQ(arm_.request("GET", list + "0000").status, 400);  // $top=20000
}

TEST_F(ArmRouterTest, MalformedJsonNamesThePosition) {
  makeGroup();
  ArmResult r = arm_.requestRaw("PUT", widget("w1") + "?api-version=2022-01-01",
                                "{\"location\": \"local\",, }");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"]["code"], "InvalidRequestContent");
  EXPECT_THAT(r.json["error"]["message"].get<std::string>(), HasSubstr("line 1, column 2"));
  ArmResult empty = arm_.requestRaw("PUT", widget("w1") + "?api-version=2022-01-01", "");
  EXPECT_EQ(empty.json["error"]["code"], "InvalidRequestContent");
  ArmResult array = arm_.requestRaw("PUT", widget("w1") + "?api-version=2022-01-01", "[1]");
  EXPECT_THAT(array.json["error"]["message"].get<std::string>(), HasSubstr("not array"));
}

TEST_F(ArmRouterTest, ExtensionCollectionsAndSubscriptionScopeParse) {
  // Subscription-scope collection of an unknown type names the type.
  ArmResult r = arm_.request("GET", "/subscriptions/" + arm_.subscriptionId() +
                                        "/providers/Microsoft.Nope/things?api-version=2022-01-01");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"]["code"], "InvalidResourceType");
  EXPECT_THAT(r.json["error"]["message"].get<std::string>(), HasSubstr("Microsoft.Nope/things"));
}

}  // namespace
}  // namespace privlink::api
