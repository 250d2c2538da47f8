#include "api/frontend.h"

#include "identity_fixture.h"

namespace privlink::api {
namespace {

using nlohmann::json;
using FrontendTest = testing::IdentityFixture;

TEST_F(FrontendTest, AuthenticatedRequestReachesTheArmHandlerWithTheCaller) {
  std::string token = adminToken();
  auto response = send("GET", "//subscriptions//?api-version=2020-01-01", "",
                       {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(armCalls_, 1);
  EXPECT_EQ(lastArmTarget_, "/subscriptions/?api-version=2020-01-01");
  EXPECT_EQ(lastCaller_.principalId, sp_.objectId);
  EXPECT_EQ(lastCaller_.tenantId, tenant_);
  EXPECT_EQ(lastCaller_.displayName, sp_.appId);
  EXPECT_TRUE(lastCaller_.isAdmin);
  EXPECT_FALSE(header(response, "x-ms-request-id").empty());
}

TEST_F(FrontendTest, MissingTokenIs401WithChallenge) {
  auto response = send("GET", "/subscriptions?api-version=2020-01-01");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(armCalls_, 0);
  std::string challenge = header(response, "WWW-Authenticate");
  EXPECT_EQ(challenge.rfind("Bearer authorization_uri=\"https://localhost:8443/adfs\"", 0), 0u)
      << challenge;
  EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos);
  EXPECT_NE(challenge.find("error_description="), std::string::npos);
  EXPECT_EQ(body(response)["error"]["code"], "AuthenticationFailed");
}

TEST_F(FrontendTest, NonBearerSchemeIsRefused) {
  auto response = send("GET", "/subscriptions?api-version=2020-01-01", "",
                       {{"Authorization", "Basic " + base64Encode(sp_.appId + ":sp-secret")}});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(body(response)["error"]["code"], "AuthenticationFailed");
}

TEST_F(FrontendTest, ExpiredTokenSaysSo) {
  std::string token = adminToken();
  now_ += 3600 + 301;
  auto response = send("GET", "/subscriptions?api-version=2020-01-01", "",
                       {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(body(response)["error"]["code"], "ExpiredAuthenticationToken");
  EXPECT_NE(header(response, "WWW-Authenticate").find("expiry"), std::string::npos);
  EXPECT_EQ(armCalls_, 0);
}

TEST_F(FrontendTest, TokenOfADeletedPrincipalIsRefused) {
  std::string token = adminToken();
  ASSERT_TRUE(
      store_->write([&](store::Transaction& txn) { return txn.erase(principalKey(sp_.objectId)); })
          .ok());
  auto response = send("GET", "/subscriptions?api-version=2020-01-01", "",
                       {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(body(response)["error"]["code"], "InvalidAuthenticationToken");
  EXPECT_NE(body(response)["error"]["message"].get<std::string>().find("no longer exists"),
            std::string::npos);
}

TEST_F(FrontendTest, TokenForAnotherEndpointIsRefused) {
  IdentityConfig other = config_;
  other.baseUrl = "https://localhost:9999";
  TokenIssuer otherIssuer(other, testing::testKey(), *principals_);
  HttpRequest request;
  request.method = "POST";
  request.target = "/adfs/oauth2/token";
  request.body = form({{"grant_type", "client_credentials"},
                       {"client_id", sp_.appId},
                       {"client_secret", "sp-secret"}});
  auto issued = otherIssuer.handle(request, splitTarget(request.target));
  ASSERT_EQ(issued.status, 200);
  auto response =
      send("GET", "/subscriptions?api-version=2020-01-01", "",
           {{"Authorization", "Bearer " + body(issued)["access_token"].get<std::string>()}});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(body(response)["error"]["code"], "InvalidAuthenticationToken");
}

TEST_F(FrontendTest, CorrelationIdIsEchoed) {
  auto response = send("GET", "/metadata/endpoints?api-version=2015-01-01", "",
                       {{"x-ms-correlation-request-id", "abc-123"}});
  EXPECT_EQ(header(response, "x-ms-correlation-request-id"), "abc-123");
}

TEST(TokenIssuerPaths, OwnsOnlyIssuerPaths) {
  EXPECT_TRUE(TokenIssuer::ownsPath("/metadata/endpoints"));
  EXPECT_TRUE(TokenIssuer::ownsPath("/adfs/oauth2/token"));
  EXPECT_TRUE(TokenIssuer::ownsPath("/ADFS/.well-known/openid-configuration"));
  EXPECT_TRUE(TokenIssuer::ownsPath("/" + newGuid() + "/oauth2/v2.0/token"));
  EXPECT_TRUE(TokenIssuer::ownsPath("/msi/token"));
  EXPECT_FALSE(TokenIssuer::ownsPath("/subscriptions"));
  EXPECT_FALSE(TokenIssuer::ownsPath("/tenants"));
  EXPECT_FALSE(TokenIssuer::ownsPath("/"));
  EXPECT_FALSE(TokenIssuer::ownsPath("/providers/Microsoft.Network/operations"));
  EXPECT_FALSE(TokenIssuer::ownsPath("/subscriptions/" + newGuid() + "/resourcegroups/rg"));
}

TEST(UrlForm, ParsesAndCollapses) {
  auto form = parseForm("a=1&b=x+y%2Fz&a=2&&c&=v&bad=%zz");
  EXPECT_EQ(form["a"], "1");
  EXPECT_EQ(form["b"], "x y/z");
  EXPECT_EQ(form["c"], "");
  EXPECT_EQ(form.count("bad"), 0u);
  EXPECT_EQ(collapseSlashes("//metadata///endpoints/"), "/metadata/endpoints/");
  EXPECT_EQ(splitTarget("/a?b=c?d").query, "b=c?d");
  EXPECT_EQ(percentDecode("%4"), std::nullopt);
  EXPECT_EQ(percentEncode("a b/c"), "a%20b%2Fc");
}

}  // namespace
}  // namespace privlink::api
