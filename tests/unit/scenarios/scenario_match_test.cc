#include <unistd.h>

#include <filesystem>
#include <fstream>

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

namespace privlink::testing {
namespace {

class ScenarioFileTest : public ::testing::Test {
 protected:
  std::string write(const nlohmann::json& scenario) {
    path_ = std::filesystem::temp_directory_path() /
            ("privlink-scenario-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path_) << scenario.dump();
    return path_.string();
  }
  ~ScenarioFileTest() override {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  std::filesystem::path path_;
};

TEST_F(ScenarioFileTest, AFailingStepIsReportedWithExpectationAndResponse) {
  nlohmann::json scenario = {
      {"description", "fails on purpose"},
      {"steps",
       {{{"request", "PUT /subscriptions/{sub}/resourceGroups/rg1?api-version=2021-04-01"},
         {"body", {{"location", "local"}}},
         {"expect", {{"status", 201}}}},
        {{"request", "GET /subscriptions/{sub}/resourceGroups/rg1?api-version=2021-04-01"},
         {"note", "wrong on purpose"},
         {"expect", {{"status", 200}, {"json", {{"location", "elsewhere"}}}}}}}}};
  std::string report = runScenarioFile(write(scenario));
  EXPECT_NE(report.find("step 2 (wrong on purpose): GET /subscriptions/"), std::string::npos)
      << report;
  EXPECT_NE(report.find("json location: expected \"elsewhere\", found \"local\""),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("actual: HTTP 200"), std::string::npos) << report;
}

TEST_F(ScenarioFileTest, MalformedScenariosAreReported) {
  EXPECT_NE(runScenarioFile(write({{"steps", nlohmann::json::array()}})), "");
  EXPECT_NE(runScenarioFile(write({{"description", "x"}, {"realiser", "auto"},
                                   {"steps", {{{"request", "GET /tenants?api-version=2020-01-01"}}}}})),
            "");
  EXPECT_NE(runScenarioFile("/nonexistent/scenario.json"), "");
  EXPECT_EQ(runScenarioFile(write({{"description", "ok"},
                                   {"steps", {{{"request", "GET /tenants?api-version=2020-01-01"},
                                               {"expect", {{"status", 200}}}}}}})),
            "");
}

}  // namespace
}  // namespace privlink::testing
