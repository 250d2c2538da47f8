#include "client/url.h"

#include <gtest/gtest.h>

namespace privlink::client {
namespace {

TEST(UrlTest, ParsesHostPortAndTarget) {
  auto url = Url::parse("https://localhost:8443/subscriptions/s?api-version=1");
  ASSERT_TRUE(url.ok()) << url.status().toString();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, "8443");
  EXPECT_EQ(url->target, "/subscriptions/s?api-version=1");
  EXPECT_EQ(url->origin(), "https://localhost:8443");
}

TEST(UrlTest, DefaultsPortAndPath) {
  auto url = Url::parse("HTTPS://example.test");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->target, "/");
}

TEST(UrlTest, ParsesIpv6Literal) {
  auto url = Url::parse("https://[::1]:9000/x#frag");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->target, "/x");
  EXPECT_EQ(url->origin(), "https://[::1]:9000");
}

TEST(UrlTest, QueryWithoutPathGetsSlash) {
  auto url = Url::parse("https://h:1?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->target, "/?x=1");
}

TEST(UrlTest, RejectsMalformed) {
  EXPECT_EQ(Url::parse("localhost:8443/x").status().armCode(), "InvalidUrl");
  EXPECT_EQ(Url::parse("ftp://h/x").status().armCode(), "InvalidUrl");
  EXPECT_EQ(Url::parse("https:///x").status().armCode(), "InvalidUrl");
  EXPECT_EQ(Url::parse("https://h:99999/").status().armCode(), "InvalidUrl");
  EXPECT_EQ(Url::parse("https://h:8x/").status().armCode(), "InvalidUrl");
  EXPECT_EQ(Url::parse("https://[::1/").status().armCode(), "InvalidUrl");
  EXPECT_EQ(Url::parse("https://u:p@h/").status().armCode(), "InvalidUrl");
}

TEST(UrlTest, ResolvesPathsAgainstBase) {
  EXPECT_EQ(resolveUrl("https://h:1/", "/subscriptions"), "https://h:1/subscriptions");
  EXPECT_EQ(resolveUrl("https://h:1", "subscriptions"), "https://h:1/subscriptions");
  EXPECT_EQ(resolveUrl("https://h:1", "https://other:2/op?x"), "https://other:2/op?x");
}

TEST(UrlTest, AddsApiVersionOnlyWhenMissing) {
  EXPECT_EQ(withApiVersion("/a", "2024-07-01"), "/a?api-version=2024-07-01");
  EXPECT_EQ(withApiVersion("/a?$top=1", "v"), "/a?$top=1&api-version=v");
  EXPECT_EQ(withApiVersion("/a?api-version=old", "v"), "/a?api-version=old");
  EXPECT_EQ(withApiVersion("/a?x=1&Api-Version=old", "v"), "/a?x=1&Api-Version=old");
}

TEST(UrlTest, FormEncodesReservedCharacters) {
  EXPECT_EQ(formEncode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(formBody({{"grant_type", "client_credentials"}, {"scope", "https://h:1/.default"}}),
            "grant_type=client_credentials&scope=https%3A%2F%2Fh%3A1%2F.default");
}

TEST(UrlTest, EncodesPathSegments) {
  EXPECT_EQ(encodePathSegment("vnet-1_a.b"), "vnet-1_a.b");
  EXPECT_EQ(encodePathSegment("a b/c?"), "a%20b%2Fc%3F");
}

}  // namespace
}  // namespace privlink::client
