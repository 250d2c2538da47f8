// One test per scenario file under tests/scenarios (see tests/scenarios/README.md).

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scenario.h"

namespace privlink::testing {
namespace {

std::vector<std::string> scenarioFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(PRIVLINK_SCENARIO_DIR, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(std::filesystem::relative(entry.path(), PRIVLINK_SCENARIO_DIR).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, Passes) {
  std::string failure = runScenarioFile(std::string(PRIVLINK_SCENARIO_DIR) + "/" + GetParam());
  EXPECT_EQ(failure, "") << failure;
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(0, info.param.size() - 5);  // drop ".json"
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, ScenarioTest, ::testing::ValuesIn(scenarioFiles()), testName);

TEST(ScenarioFilesTest, ThereAreScenarios) { EXPECT_FALSE(scenarioFiles().empty()); }

}  // namespace
}  // namespace privlink::testing
