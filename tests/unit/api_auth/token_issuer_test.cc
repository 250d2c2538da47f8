#include "api/token_issuer.h"

#include "identity_fixture.h"

namespace privlink::api {
namespace {

using nlohmann::json;
using TokenIssuerTest = testing::IdentityFixture;

TEST_F(TokenIssuerTest, MetadataEndpointsObjectForm) {
  auto response = send("GET", "/metadata/endpoints?api-version=2015-01-01");
  ASSERT_EQ(response.status, 200);
  auto b = body(response);
  EXPECT_EQ(b["authentication"]["loginEndpoint"], "https://localhost:8443/adfs");
  EXPECT_EQ(b["authentication"]["audiences"][0], "https://localhost:8443/");
  EXPECT_EQ(b["galleryEndpoint"], "https://localhost:8443/gallery/");
  EXPECT_EQ(armCalls_, 0);
}

TEST_F(TokenIssuerTest, MetadataEndpointsListFormAndDoubleSlash) {
  auto response = send("GET", "//metadata/endpoints?api-version=2019-05-01");
  ASSERT_EQ(response.status, 200);
  auto b = body(response);
  ASSERT_TRUE(b.is_array());
  EXPECT_EQ(b[0]["name"], "Local");
  EXPECT_EQ(b[0]["resourceManager"], "https://localhost:8443/");
  EXPECT_EQ(b[0]["authentication"]["identityProvider"], "ADFS");
  EXPECT_EQ(b[0]["authentication"]["tenant"], "adfs");
}

TEST_F(TokenIssuerTest, OpenIdConfigurations) {
  auto adfs = body(send("GET", "/adfs/.well-known/openid-configuration"));
  EXPECT_EQ(adfs["issuer"], "https://localhost:8443/adfs");
  EXPECT_EQ(adfs["token_endpoint"], "https://localhost:8443/adfs/oauth2/token");
  EXPECT_EQ(adfs["jwks_uri"], "https://localhost:8443/adfs/discovery/keys");
  EXPECT_TRUE(adfs.contains("authorization_endpoint"));

  auto v2 = body(send("GET", "/" + tenant_ + "/v2.0/.well-known/openid-configuration"));
  EXPECT_EQ(v2["issuer"], "https://localhost:8443/" + tenant_ + "/v2.0");
  EXPECT_EQ(v2["token_endpoint"], "https://localhost:8443/" + tenant_ + "/oauth2/v2.0/token");

  auto v1 = body(send("GET", "/" + tenant_ + "/.well-known/openid-configuration"));
  EXPECT_EQ(v1["token_endpoint"], "https://localhost:8443/" + tenant_ + "/oauth2/token");
}

TEST_F(TokenIssuerTest, UnknownTenantIsRefused) {
  auto response = send("GET", "/" + newGuid() + "/v2.0/.well-known/openid-configuration");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(body(response)["error"], "invalid_tenant");
  EXPECT_NE(body(response)["error_description"].get<std::string>().find(tenant_),
            std::string::npos);
}

TEST_F(TokenIssuerTest, JwksPublishesTheSigningKey) {
  auto keys = body(send("GET", "/adfs/discovery/keys"));
  ASSERT_EQ(keys["keys"].size(), 1u);
  EXPECT_EQ(keys["keys"][0]["kid"], testing::testKey().keyId());
  auto v2 = body(send("GET", "/" + tenant_ + "/discovery/v2.0/keys"));
  EXPECT_EQ(v2, keys);
}

TEST_F(TokenIssuerTest, ClientCredentialsIssuesAnArmAccessToken) {
  auto response = send("POST", "/" + tenant_ + "/oauth2/v2.0/token",
                       form({{"grant_type", "client_credentials"},
                             {"client_id", sp_.appId},
                             {"client_secret", "sp-secret"},
                             {"scope", "https://localhost:8443/.default"}}));
  ASSERT_EQ(response.status, 200) << response.body;
  auto b = body(response);
  EXPECT_EQ(b["token_type"], "Bearer");
  EXPECT_EQ(b["expires_in"], 3600);
  EXPECT_FALSE(b.contains("refresh_token"));
  auto jwt = decodeJwtUnverified(b["access_token"].get<std::string>()).value();
  EXPECT_EQ(jwt.header["alg"], "RS256");
  EXPECT_EQ(jwt.header["kid"], testing::testKey().keyId());
  EXPECT_EQ(jwt.claims["aud"], "https://localhost:8443/");
  EXPECT_EQ(jwt.claims["iss"], "https://localhost:8443/" + tenant_ + "/v2.0");
  EXPECT_EQ(jwt.claims["tid"], tenant_);
  EXPECT_EQ(jwt.claims["oid"], sp_.objectId);
  EXPECT_EQ(jwt.claims["sub"], sp_.objectId);
  EXPECT_EQ(jwt.claims["appid"], sp_.appId);
  EXPECT_EQ(jwt.claims["exp"].get<int64_t>(), now_ + 3600);
  EXPECT_EQ(jwt.claims["nbf"].get<int64_t>(), now_);
  EXPECT_EQ(jwt.claims["iat"].get<int64_t>(), now_);
}

TEST_F(TokenIssuerTest, ClientCredentialsWithHttpBasic) {
  auto response =
      send("POST", "/adfs/oauth2/token",
           form({{"grant_type", "client_credentials"}, {"resource", "https://localhost:8443/"}}),
           {{"Authorization", "Basic " + base64Encode(sp_.appId + ":sp-secret")}});
  ASSERT_EQ(response.status, 200) << response.body;
  auto jwt = decodeJwtUnverified(body(response)["access_token"].get<std::string>()).value();
  EXPECT_EQ(jwt.claims["iss"], "https://localhost:8443/adfs");
}

TEST_F(TokenIssuerTest, WrongSecretOrUnknownClientIsInvalidClient) {
  for (auto [id, secret] : {std::pair{sp_.appId, std::string("wrong")},
                            std::pair{newGuid(), std::string("sp-secret")}}) {
    auto response = send(
        "POST", "/adfs/oauth2/token",
        form({{"grant_type", "client_credentials"}, {"client_id", id}, {"client_secret", secret}}));
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(body(response)["error"], "invalid_client");
    EXPECT_TRUE(body(response).contains("error_description"));
  }
  auto missing = send("POST", "/adfs/oauth2/token", form({{"grant_type", "client_credentials"}}));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(body(missing)["error"], "invalid_request");
}

TEST_F(TokenIssuerTest, ForeignScopeIsRefused) {
  auto response = send("POST", "/adfs/oauth2/token",
                       form({{"grant_type", "client_credentials"},
                             {"client_id", sp_.appId},
                             {"client_secret", "sp-secret"},
                             {"scope", "https://management.azure.com/.default"}}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(body(response)["error"], "invalid_scope");
  EXPECT_NE(body(response)["error_description"].get<std::string>().find(
                "https://localhost:8443/.default"),
            std::string::npos);
}

TEST_F(TokenIssuerTest, PasswordGrantReturnsIdAndRefreshTokens) {
  auto response = send("POST", "/adfs/oauth2/token",
                       form({{"grant_type", "password"},
                             {"username", "Alice@privlink.local"},
                             {"password", "alice-pw"},
                             {"client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
                             {"scope",
                              "https://localhost:8443//.default offline_access openid "
                              "profile"}}));
  ASSERT_EQ(response.status, 200) << response.body;
  auto b = body(response);
  ASSERT_TRUE(b.contains("refresh_token"));
  ASSERT_TRUE(b.contains("id_token"));
  EXPECT_EQ(b["scope"], "https://localhost:8443//.default");
  auto id = decodeJwtUnverified(b["id_token"].get<std::string>()).value();
  EXPECT_EQ(id.claims["iss"], "https://localhost:8443/adfs");
  EXPECT_EQ(id.claims["aud"], "04b07795-8ddb-461a-bbee-02f9e1bf7b46");
  EXPECT_EQ(id.claims["upn"], "alice@privlink.local");
  EXPECT_EQ(id.claims["preferred_username"], "alice@privlink.local");
  EXPECT_EQ(id.claims["tid"], tenant_);
  EXPECT_EQ(id.claims["oid"], user_.objectId);
  EXPECT_EQ(id.claims["sub"], user_.objectId);
  EXPECT_TRUE(id.claims.contains("exp"));
  EXPECT_TRUE(id.claims.contains("iat"));
  auto access = decodeJwtUnverified(b["access_token"].get<std::string>()).value();
  EXPECT_EQ(access.claims["idtyp"], "user");
  EXPECT_EQ(access.claims["upn"], "alice@privlink.local");

  // The refresh token gets new tokens...
  auto refreshed = send("POST", "/adfs/oauth2/token",
                        form({{"grant_type", "refresh_token"},
                              {"refresh_token", b["refresh_token"].get<std::string>()},
                              {"client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}}));
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_TRUE(body(refreshed).contains("id_token"));

  // ...but is not an access token, and neither is the id token.
  for (const char* name : {"refresh_token", "id_token"}) {
    auto arm = send("GET", "/subscriptions?api-version=2020-01-01", "",
                    {{"Authorization", "Bearer " + b[name].get<std::string>()}});
    EXPECT_EQ(arm.status, 401) << name;
  }
  EXPECT_EQ(armCalls_, 0);

  // It expires.
  now_ += 24 * 3600 + 1;
  auto expired = send("POST", "/adfs/oauth2/token",
                      form({{"grant_type", "refresh_token"},
                            {"refresh_token", b["refresh_token"].get<std::string>()}}));
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(body(expired)["error"], "invalid_grant");
}

TEST_F(TokenIssuerTest, PasswordGrantRefusesWrongPasswordAndServicePrincipals) {
  auto wrong = send("POST", "/adfs/oauth2/token",
                    form({{"grant_type", "password"},
                          {"username", "alice@privlink.local"},
                          {"password", "nope"},
                          {"client_id", "c"}}));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(body(wrong)["error"], "invalid_grant");
  auto sp = send("POST", "/adfs/oauth2/token",
                 form({{"grant_type", "password"},
                       {"username", sp_.appId},
                       {"password", "sp-secret"},
                       {"client_id", "c"}}));
  EXPECT_EQ(sp.status, 400);
}

TEST_F(TokenIssuerTest, RefreshTokenOfAnotherClientIsRefused) {
  auto response = send("POST", "/adfs/oauth2/token",
                       form({{"grant_type", "password"},
                             {"username", "alice@privlink.local"},
                             {"password", "alice-pw"},
                             {"client_id", "client-a"}}));
  ASSERT_EQ(response.status, 200);
  auto other = send("POST", "/adfs/oauth2/token",
                    form({{"grant_type", "refresh_token"},
                          {"refresh_token", body(response)["refresh_token"].get<std::string>()},
                          {"client_id", "client-b"}}));
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(body(other)["error"], "invalid_grant");
}

TEST_F(TokenIssuerTest, UnsupportedGrantsAndMethods) {
  auto grant = send("POST", "/adfs/oauth2/token", form({{"grant_type", "device_code"}}));
  EXPECT_EQ(grant.status, 400);
  EXPECT_EQ(body(grant)["error"], "unsupported_grant_type");
  auto none = send("POST", "/adfs/oauth2/token", "");
  EXPECT_EQ(none.status, 400);
  auto get = send("GET", "/adfs/oauth2/token");
  EXPECT_EQ(get.status, 405);
  auto unknown = send("GET", "/adfs/nothing-here");
  EXPECT_EQ(unknown.status, 404);
}

}  // namespace
}  // namespace privlink::api

namespace privlink::api {
namespace {

using ManagedIdentityTest = testing::IdentityFixture;

TEST_F(ManagedIdentityTest, OffByDefault) {
  auto response = send("POST", "/msi/token", "resource=https%3A%2F%2Flocalhost%3A8443%2F",
                       {{"Metadata", "true"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(body(response)["error_description"].get<std::string>().find("--managed-identity"),
            std::string::npos);
}

TEST_F(ManagedIdentityTest, IssuesTokensForTheConfiguredPrincipalToLocalClients) {
  IdentityConfig config = config_;
  config.managedIdentityObjectId = sp_.objectId;
  TokenIssuer issuer(config, testing::testKey(), *principals_);
  HttpRequest request;
  request.method = "POST";
  request.target = "/msi/token";
  request.body = "resource=https%3A%2F%2Flocalhost%3A8443%2F";
  request.remoteAddress = "127.0.0.1:50000";

  auto noHeader = issuer.handle(request, splitTarget(request.target));
  EXPECT_EQ(noHeader.status, 400);

  request.headers["Metadata"] = "true";
  auto response = issuer.handle(request, splitTarget(request.target));
  ASSERT_EQ(response.status, 200) << response.body;
  auto b = body(response);
  EXPECT_EQ(b["token_type"], "Bearer");
  EXPECT_EQ(b["resource"], "https://localhost:8443/");
  EXPECT_FALSE(b["expires_on"].get<std::string>().empty());
  HttpRequest arm;
  arm.headers["Authorization"] = "Bearer " + b["access_token"].get<std::string>();
  auto caller = authenticator_->authenticate(arm);
  ASSERT_TRUE(caller.ok()) << caller.status().toString();
  EXPECT_EQ(caller->principalId, sp_.objectId);

  request.remoteAddress = "10.1.2.3:50000";
  EXPECT_EQ(issuer.handle(request, splitTarget(request.target)).status, 403);

  request.remoteAddress = "127.0.0.1:50000";
  request.body = "resource=https%3A%2F%2Fmanagement.azure.com%2F";
  EXPECT_EQ(issuer.handle(request, splitTarget(request.target)).status, 400);
}

}  // namespace
}  // namespace privlink::api
