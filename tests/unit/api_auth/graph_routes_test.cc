// The Microsoft Graph subset behind the Frontend: its own token audience, and the look-ups az's
// role commands make (graph_routes.h).
#include "api/graph_routes.h"

#include "identity_fixture.h"

namespace privlink::api {
namespace {

using nlohmann::json;

class GraphRoutesTest : public testing::IdentityFixture {
 protected:
  std::string graphToken() { return adminToken(std::string(kBase) + "/graph//.default"); }

  HttpResponse graph(const std::string& method, const std::string& target,
                     const std::string& requestBody = "") {
    return send(method, target, requestBody, {{"Authorization", "Bearer " + token_}});
  }

  void SetUp() override {
    IdentityFixture::SetUp();
    token_ = graphToken();
  }
  std::string token_;
};

TEST_F(GraphRoutesTest, GraphTokensCarryTheGraphAudience) {
  auto response = send("POST", "/adfs/oauth2/token",
                       form({{"grant_type", "client_credentials"},
                             {"client_id", sp_.appId},
                             {"client_secret", "sp-secret"},
                             {"resource", std::string(kBase) + "/graph/"}}));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body(response)["resource"], std::string(kBase) + "/graph/");
  auto claims = decodeJwtUnverified(body(response)["access_token"].get<std::string>());
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->claims["aud"], std::string(kBase) + "/graph/");
}

TEST_F(GraphRoutesTest, OneTokenCannotBeForArmAndGraphAtOnce) {
  auto response =
      send("POST", "/adfs/oauth2/token",
           form({{"grant_type", "client_credentials"},
                 {"client_id", sp_.appId},
                 {"client_secret", "sp-secret"},
                 {"scope", std::string(kBase) + "/.default " + kBase + "/graph/.default"}}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(body(response)["error"], "invalid_scope");
}

TEST_F(GraphRoutesTest, ArmTokensAreRefusedByGraphAndGraphTokensByArm) {
  auto onGraph = send("GET", "/graph/v1.0/servicePrincipals", "",
                      {{"Authorization", "Bearer " + adminToken()}});
  EXPECT_EQ(onGraph.status, 401);
  EXPECT_EQ(body(onGraph)["error"]["code"], "InvalidAuthenticationToken");
  auto onArm = send("GET", "/subscriptions?api-version=2020-01-01", "",
                    {{"Authorization", "Bearer " + token_}});
  EXPECT_EQ(onArm.status, 401);
  EXPECT_EQ(armCalls_, 0);
}

TEST_F(GraphRoutesTest, ServicePrincipalByServicePrincipalNameAsAzAsksForIt) {
  auto response = graph("GET", "/graph/v1.0/servicePrincipals?$filter=servicePrincipalNames%2Fany("
                               "c%3Ac%20eq%20%27" + sp_.appId + "%27)");
  ASSERT_EQ(response.status, 200) << response.body;
  auto value = body(response)["value"];
  ASSERT_EQ(value.size(), 1u);
  EXPECT_EQ(value[0]["id"], sp_.objectId);
  EXPECT_EQ(value[0]["appId"], sp_.appId);
  EXPECT_EQ(value[0]["@odata.type"], "#microsoft.graph.servicePrincipal");
  EXPECT_EQ(armCalls_, 0);
}

TEST_F(GraphRoutesTest, UserByUserPrincipalNameIsCaseInsensitive) {
  auto response =
      graph("GET", "/graph/v1.0/users?$filter=userPrincipalName%20eq%20%27ALICE@privlink.local%27");
  ASSERT_EQ(response.status, 200) << response.body;
  auto value = body(response)["value"];
  ASSERT_EQ(value.size(), 1u);
  EXPECT_EQ(value[0]["id"], user_.objectId);
  EXPECT_EQ(value[0]["userPrincipalName"], "alice@privlink.local");
  // Service principals are not users.
  auto none = graph("GET", "/graph/v1.0/users?$filter=userPrincipalName%20eq%20%27" + sp_.appId +
                               "%27");
  EXPECT_TRUE(body(none)["value"].empty());
}

TEST_F(GraphRoutesTest, GetByIdsReturnsEachKnownObjectWithItsType) {
  json request = {{"ids", {sp_.objectId, user_.objectId, "00000000-0000-0000-0000-000000000000"}},
                  {"types", {"user", "group", "servicePrincipal"}}};
  auto response = graph("POST", "/graph/v1.0/directoryObjects/getByIds", request.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  auto value = body(response)["value"];
  ASSERT_EQ(value.size(), 2u);
  EXPECT_EQ(value[0]["@odata.type"], "#microsoft.graph.servicePrincipal");
  EXPECT_EQ(value[1]["@odata.type"], "#microsoft.graph.user");
}

TEST_F(GraphRoutesTest, OtherTenantsPrincipalsAreInvisible) {
  Principal stranger = newServicePrincipal(newGuid(), "stranger", "x", false);
  ASSERT_TRUE(principals_->put(stranger).ok());
  auto byId = graph("GET", "/graph/v1.0/servicePrincipals/" + stranger.objectId);
  EXPECT_EQ(byId.status, 404);
  EXPECT_EQ(body(byId)["error"]["code"], "Request_ResourceNotFound");
  auto all = graph("GET", "/graph/v1.0/servicePrincipals");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(body(all)["value"].size(), 1u);
  json ids = {{"ids", {stranger.objectId}}};
  auto byIds = graph("POST", "/graph/v1.0/directoryObjects/getByIds", ids.dump());
  ASSERT_EQ(byIds.status, 200) << byIds.body;
  EXPECT_TRUE(body(byIds)["value"].empty());
}

TEST_F(GraphRoutesTest, OneObjectByIdOrUserPrincipalNameInItsOwnCollection) {
  auto sp = graph("GET", "/graph/v1.0/servicePrincipals/" + sp_.objectId);
  ASSERT_EQ(sp.status, 200) << sp.body;
  EXPECT_EQ(body(sp)["appId"], sp_.appId);
  auto user = graph("GET", "/graph/v1.0/users/" + user_.objectId);
  ASSERT_EQ(user.status, 200) << user.body;
  EXPECT_EQ(body(user)["userPrincipalName"], "alice@privlink.local");
  auto byUpn = graph("GET", "/graph/v1.0/users/ALICE@privlink.local");
  ASSERT_EQ(byUpn.status, 200) << byUpn.body;
  EXPECT_EQ(body(byUpn)["id"], user_.objectId);
  // A service principal is not a user, nor a user a service principal.
  EXPECT_EQ(graph("GET", "/graph/v1.0/users/" + sp_.objectId).status, 404);
  EXPECT_EQ(graph("GET", "/graph/v1.0/servicePrincipals/" + user_.objectId).status, 404);
}

TEST_F(GraphRoutesTest, UnsupportedFiltersAndWritesSayWhatWorks) {
  auto filter = graph("GET", "/graph/v1.0/servicePrincipals?$filter=startswith(displayName,%27c%27)");
  EXPECT_EQ(filter.status, 400);
  EXPECT_EQ(body(filter)["error"]["code"], "Request_UnsupportedQuery");
  EXPECT_NE(body(filter)["error"]["message"].get<std::string>().find("appId eq"),
            std::string::npos);
  auto write = graph("POST", "/graph/v1.0/servicePrincipals", R"({"appId":"x"})");
  EXPECT_EQ(write.status, 405);
  EXPECT_NE(body(write)["error"]["message"].get<std::string>().find("privlink principal"),
            std::string::npos);
  EXPECT_EQ(graph("GET", "/graph/v1.0/groups").status, 200);
  EXPECT_EQ(graph("GET", "/graph/v2/users").status, 400);
}

TEST_F(GraphRoutesTest, MeIsTheCallingUserOnly) {
  auto app = graph("GET", "/graph/v1.0/me");
  EXPECT_EQ(app.status, 404);
  auto login = send("POST", "/adfs/oauth2/token",
                    form({{"grant_type", "password"},
                          {"client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
                          {"username", "alice@privlink.local"},
                          {"password", "alice-pw"},
                          {"scope", std::string(kBase) + "/graph/.default"}}));
  ASSERT_EQ(login.status, 200) << login.body;
  auto me = send("GET", "/graph/v1.0/me", "",
                 {{"Authorization", "Bearer " + body(login)["access_token"].get<std::string>()}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(body(me)["id"], user_.objectId);
}

}  // namespace
}  // namespace privlink::api
