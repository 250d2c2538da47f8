#include <gtest/gtest.h>

#include "scenario.h"

namespace privlink::testing {
namespace {

using nlohmann::json;

TEST(MatchFragmentTest, ObjectsMatchAsSubsets) {
  json actual = {{"a", 1}, {"b", {{"c", "x"}, {"d", true}}}};
  std::string why;
  EXPECT_TRUE(matchFragment(json{{"b", {{"c", "x"}}}}, actual, "", &why)) << why;
  EXPECT_FALSE(matchFragment(json{{"b", {{"c", "X"}}}}, actual, "", &why));
  EXPECT_EQ(why, "b.c: expected \"X\", found \"x\"");
  EXPECT_FALSE(matchFragment(json{{"z", 1}}, actual, "", &why));
  EXPECT_EQ(why, "z: missing (expected 1)");
}

TEST(MatchFragmentTest, ArraysNeedEveryExpectedElementSomewhere) {
  json actual = {{"value", {{{"name", "a"}, {"n", 1}}, {{"name", "b"}}}}};
  std::string why;
  EXPECT_TRUE(matchFragment(json{{"value", {{{"name", "b"}}, {{"name", "a"}}}}}, actual, "", &why))
      << why;
  EXPECT_FALSE(matchFragment(json{{"value", {{{"name", "c"}}}}}, actual, "", &why));
  EXPECT_FALSE(matchFragment(json{{"value", {1}}}, json{{"value", 1}}, "", &why));
}

TEST(MatchFragmentTest, StarMatchesAnyValue) {
  std::string why;
  EXPECT_TRUE(matchFragment(json{{"etag", "*"}}, json{{"etag", "W/\"1\""}}, "", &why));
  EXPECT_FALSE(matchFragment(json{{"etag", "*"}}, json{{"etag", nullptr}}, "", &why));
  EXPECT_TRUE(matchFragment(json{{"n", 2}}, json{{"n", 2.0}}, "", &why));
}

TEST(LookupPathTest, DotsAndIndices) {
  json value = {{"properties", {{"subnets", {{{"id", "/x"}}}}}}};
  ASSERT_NE(lookupPath(value, "properties.subnets[0].id"), nullptr);
  EXPECT_EQ(*lookupPath(value, "properties.subnets[0].id"), "/x");
  EXPECT_EQ(lookupPath(value, "properties.subnets[1].id"), nullptr);
  EXPECT_EQ(lookupPath(value, "properties.nope"), nullptr);
  EXPECT_EQ(lookupPath(value, ""), &value);
}

TEST(GlobTest, Wildcards) {
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("https://*/operations/*?api-version=2022-01-01",
                        "https://localhost:8443/subscriptions/s/operations/abc?api-version=2022-01-01"));
  EXPECT_FALSE(globMatch("a*c", "abd"));
  EXPECT_TRUE(globMatch("1", "1"));
}

TEST(SubstituteTest, KnownNamesOnly) {
  std::map<std::string, std::string> vars = {{"sub", "S"}, {"etag", "W/\"1\""}};
  EXPECT_EQ(substitute("/subscriptions/{sub}/x/{unknown}", vars), "/subscriptions/S/x/{unknown}");
  EXPECT_EQ(substituteJson(json{{"k", {"{etag}", 3}}}, vars), (json{{"k", {"W/\"1\"", 3}}}));
}

}  // namespace
}  // namespace privlink::testing
