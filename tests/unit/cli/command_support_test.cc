// The helpers command groups share (cli/command_support.h).
#include "cli/command_support.h"

#include <gtest/gtest.h>

namespace privlink::cli {
namespace {

TEST(ParseBoolTest, AcceptsAzSpellingsInAnyCaseAndNamesTheOptionOtherwise) {
  for (const char* yes : {"true", "True", "TRUE", "1", "yes", "Yes"}) {
    auto v = parseBool(yes, "--x");
    ASSERT_TRUE(v.ok()) << yes;
    EXPECT_TRUE(*v) << yes;
  }
  for (const char* no : {"false", "False", "0", "no", "NO"}) {
    auto v = parseBool(no, "--x");
    ASSERT_TRUE(v.ok()) << no;
    EXPECT_FALSE(*v) << no;
  }
  auto bad = parseBool("maybe", "--enable-proxy-protocol");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--enable-proxy-protocol"), std::string::npos);
  EXPECT_NE(bad.status().message().find("maybe"), std::string::npos);
}

TEST(ConnectionDecisionBodyTest, KeepsTheEndpointAndSetsTheState) {
  Json current = {{"name", "pe1.conn"},
                  {"etag", "W/\"1\""},
                  {"properties",
                   {{"privateEndpoint", {{"id", "/subscriptions/s/x/pe1"}}},
                    {"provisioningState", "Succeeded"},
                    {"privateLinkServiceConnectionState", {{"status", "Pending"}}}}}};
  Json body = connectionDecisionBody(current, "fallback", "Approved", "ok by me");
  EXPECT_EQ(body, (Json{{"name", "pe1.conn"},
                        {"properties",
                         {{"privateEndpoint", {{"id", "/subscriptions/s/x/pe1"}}},
                          {"privateLinkServiceConnectionState",
                           {{"status", "Approved"}, {"description", "ok by me"}}}}}}));
  // No description: none sent; no name or properties in `current`: the fallback name and an
  // empty privateEndpoint.
  Json bare = connectionDecisionBody(Json::object(), "fallback", "Rejected", "");
  EXPECT_EQ(bare, (Json{{"name", "fallback"},
                        {"properties",
                         {{"privateEndpoint", Json::object()},
                          {"privateLinkServiceConnectionState", {{"status", "Rejected"}}}}}}));
}

}  // namespace
}  // namespace privlink::cli
