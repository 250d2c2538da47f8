#include "client/token_provider.h"

#include <gtest/gtest.h>

#include "unit/client/fake_transport.h"

namespace privlink::client {
namespace {

using testing::FakeTransport;
using testing::jsonResponse;

constexpr const char* kBase = "https://localhost:8443";

ClientCredentials credentials() {
  return ClientCredentials{kBase, "tenant-guid", "app id", "s&cret"};
}

TEST(TokenProviderTest, DiscoversIssuerAndPostsClientCredentials) {
  FakeTransport fake;
  fake.withAuth(kBase);
  ClientCredentialsTokenProvider provider(fake, credentials());
  auto token = provider.accessToken();
  ASSERT_TRUE(token.ok()) << token.status().toString();
  EXPECT_EQ(*token, "token-1");
  ASSERT_EQ(fake.requests.size(), 3u);
  EXPECT_EQ(fake.requests[0].url, std::string(kBase) + "/metadata/endpoints?api-version=2015-01-01");
  EXPECT_EQ(fake.requests[1].url, std::string(kBase) + "/adfs/.well-known/openid-configuration");
  const HttpRequest& post = fake.requests[2];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.url, std::string(kBase) + "/adfs/oauth2/token");
  EXPECT_EQ(post.headers.at("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(post.body,
            "grant_type=client_credentials&client_id=app+id&client_secret=s%26cret&scope="
            "https%3A%2F%2Flocalhost%3A8443%2F.default");
  EXPECT_EQ(provider.scope(), std::string(kBase) + "/.default");
}

TEST(TokenProviderTest, CachesUntilShortlyBeforeExpiry) {
  FakeTransport fake;
  fake.withAuth(kBase, /*expiresIn=*/3600);
  auto now = std::chrono::system_clock::time_point(std::chrono::hours(1000));
  ClientCredentialsTokenProvider provider(fake, credentials(), [&] { return now; });
  EXPECT_EQ(*provider.accessToken(), "token-1");
  now += std::chrono::minutes(54);
  EXPECT_EQ(*provider.accessToken(), "token-1");
  now += std::chrono::minutes(2);  // 56 min: inside the 5-minute refresh margin
  EXPECT_EQ(*provider.accessToken(), "token-2");
  EXPECT_EQ(fake.tokensIssued, 2);
  // Discovery happened once.
  int discoveries = 0;
  for (const auto& r : fake.requests) discoveries += r.url.find("metadata") != std::string::npos;
  EXPECT_EQ(discoveries, 1);
}

TEST(TokenProviderTest, ShortLivedTokensRefreshAtHalfLife) {
  FakeTransport fake;
  fake.withAuth(kBase, /*expiresIn=*/60);
  auto now = std::chrono::system_clock::time_point(std::chrono::hours(1));
  ClientCredentialsTokenProvider provider(fake, credentials(), [&] { return now; });
  EXPECT_EQ(*provider.accessToken(), "token-1");
  now += std::chrono::seconds(29);
  EXPECT_EQ(*provider.accessToken(), "token-1");
  now += std::chrono::seconds(2);
  EXPECT_EQ(*provider.accessToken(), "token-2");
}

TEST(TokenProviderTest, InvalidateForcesNewToken) {
  FakeTransport fake;
  fake.withAuth(kBase);
  ClientCredentialsTokenProvider provider(fake, credentials());
  EXPECT_EQ(*provider.accessToken(), "token-1");
  provider.invalidate();
  EXPECT_EQ(*provider.accessToken(), "token-2");
}

TEST(TokenProviderTest, OAuthErrorBecomesUnauthenticated) {
  FakeTransport fake;
  fake.on("GET", "/metadata/endpoints",
          jsonResponse(200, R"({"authentication":{"loginEndpoint":"https://localhost:8443/adfs",
                                "audiences":["https://localhost:8443/"]}})"));
  fake.on("GET", "/.well-known/openid-configuration",
          jsonResponse(200, R"({"token_endpoint":"https://localhost:8443/adfs/oauth2/token"})"));
  fake.on("POST", "/adfs/oauth2/token",
          jsonResponse(401, R"({"error":"invalid_client","error_description":"bad secret"})"));
  ClientCredentialsTokenProvider provider(fake, credentials());
  auto token = provider.accessToken();
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(token.status().armCode(), "invalid_client");
  EXPECT_NE(token.status().message().find("bad secret"), std::string::npos);
  EXPECT_NE(token.status().message().find("app id"), std::string::npos);
}

TEST(TokenProviderTest, MetadataWithoutAuthenticationIsAnError) {
  FakeTransport fake;
  fake.on("GET", "/metadata/endpoints", jsonResponse(200, R"({"galleryEndpoint":"x"})"));
  ClientCredentialsTokenProvider provider(fake, credentials());
  auto token = provider.accessToken();
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("loginEndpoint"), std::string::npos);
}

TEST(TokenProviderTest, TransportFailurePropagates) {
  FakeTransport fake;
  fake.withAuth(kBase);
  fake.failNext = 1;
  ClientCredentialsTokenProvider provider(fake, credentials());
  auto token = provider.accessToken();
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kUnavailable);
}

TEST(StatusFromErrorResponseTest, ArmErrorShape) {
  Status s = statusFromErrorResponse(
      404, R"({"error":{"code":"ResourceNotFound","message":"vnet1 not found","target":"name"}})",
      "GET /x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.toString(), "ResourceNotFound: vnet1 not found");
  EXPECT_EQ(s.target(), "name");
}

TEST(StatusFromErrorResponseTest, ServerErrorKeepsCodeInMessage) {
  Status s = statusFromErrorResponse(
      500, R"({"error":{"code":"KernelFailure","message":"netlink said no"}})", "PUT /x");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "(KernelFailure) netlink said no");
}

TEST(StatusFromErrorResponseTest, NonJsonBodyFallsBackToHttpStatus) {
  Status s = statusFromErrorResponse(409, "<html>busy</html>", "DELETE /x");
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_EQ(s.armCode(), "HttpStatus409");
  EXPECT_EQ(s.message(), "DELETE /x returned HTTP 409: <html>busy</html>");
}

}  // namespace
}  // namespace privlink::client
