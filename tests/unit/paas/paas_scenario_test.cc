// PaaS scenarios: one test per tests/scenarios/paas/*.scenario, in the generic step format
// (tests/scenarios/README.md: request, body, headers, expect {status, json, headers, absent,
// count}, capture, note), against an ArmFixture with the Private Link, private DNS and PaaS kinds.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/paas/paas_kind.h"
#include "control/privatelink/register.h"
#include "scenario.h"
#include "testing/arm_fixture.h"

namespace privlink::testing {
namespace {

using nlohmann::json;

std::string runStep(ArmFixture& arm, size_t i, const json& step,
                    std::map<std::string, std::string>& vars) {
  std::string line = substitute(step.at("request").get<std::string>(), vars);
  size_t space = line.find(' ');
  std::string method = line.substr(0, space);
  std::string target = line.substr(space + 1);
  if (target.rfind(arm.baseUrl(), 0) == 0) target = target.substr(arm.baseUrl().size());
  std::map<std::string, std::string> headers;
  if (step.contains("headers")) {
    for (const auto& [k, v] : step["headers"].items()) headers[k] = substitute(v, vars);
  }
  json body = step.contains("body") ? substituteJson(step["body"], vars) : json();
  ArmResult r = arm.request(method, target, body, headers);
  std::string where = "step " + std::to_string(i + 1) + " (" + line + ")" +
                      (step.contains("note") ? " [" + step["note"].get<std::string>() + "]" : "");
  const json expect = step.contains("expect") ? substituteJson(step["expect"], vars) : json::object();
  auto fail = [&](const std::string& why) {
    return where + ": " + why + "\n  expected: " + expect.dump() + "\n  actual: " + r.describe();
  };
  if (expect.contains("status") && expect["status"].get<int>() != r.status) {
    return fail("status " + std::to_string(r.status));
  }
  if (expect.contains("json")) {
    std::string why;
    if (!matchFragment(expect["json"], r.json, "", &why)) return fail(why);
  }
  if (expect.contains("headers")) {
    for (const auto& [k, v] : expect["headers"].items()) {
      std::string actual = r.header(k);
      if (v.is_null() ? !actual.empty() : !globMatch(v.get<std::string>(), actual)) {
        return fail("header " + k + " = '" + actual + "'");
      }
    }
  }
  for (const auto& path : expect.value("absent", json::array())) {
    if (lookupPath(r.json, path.get<std::string>())) return fail(path.get<std::string>() + " present");
  }
  if (expect.contains("count")) {
    for (const auto& [path, n] : expect["count"].items()) {
      const json* v = lookupPath(r.json, path);
      if (!v || !v->is_array() || v->size() != n.get<size_t>()) return fail("count of " + path);
    }
  }
  if (step.contains("capture")) {
    for (const auto& [name, from] : step["capture"].items()) {
      std::string spec = from.get<std::string>();
      if (spec.rfind("header:", 0) == 0) {
        vars[name] = r.header(spec.substr(7));
      } else {
        const json* v = lookupPath(r.json, spec);
        if (!v) return fail("cannot capture " + spec);
        vars[name] = v->is_string() ? v->get<std::string>() : v->dump();
      }
    }
  }
  return "";
}

std::string runPaasScenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path;
  json scenario;
  try {
    scenario = json::parse(in);
  } catch (const json::exception& e) {
    return path + ": " + e.what();
  }
  ArmFixture arm(ArmFixtureOptions{.testKinds = false});
  auto pl = control::privatelink::registerPrivateLinkKinds(arm.service());
  control::paas::registerPaasKinds(arm.service(), pl, control::paas::builtinPaasCatalog());
  std::map<std::string, std::string> vars = {{"sub", arm.subscriptionId()},
                                             {"tenant", arm.tenantId()},
                                             {"base", arm.baseUrl()}};
  const json& steps = scenario.at("steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string failure = runStep(arm, i, steps[i], vars);
    if (!failure.empty()) return path + "\n  " + failure;
  }
  return "";
}

std::vector<std::string> scenarioFiles() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(PRIVLINK_PAAS_SCENARIO_DIR)) {
    if (e.path().extension() == ".scenario") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class PaasScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(PaasScenario, Passes) {
  std::string failure = runPaasScenario(GetParam());
  EXPECT_TRUE(failure.empty()) << failure;
}

INSTANTIATE_TEST_SUITE_P(Files, PaasScenario, ::testing::ValuesIn(scenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace privlink::testing
