// Private Link scenarios: one test per tests/scenarios/privatelink/*.scenario (format in that
// folder's README.md): the generic scenario steps (tests/scenarios/README.md) plus principals,
// role grants, extra subscriptions, lowered limits and the provider/consumer builders of
// PlFixture.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/resource_id.h"
#include "pl_fixture.h"
#include "scenario.h"

namespace privlink::testing {
namespace {

using nlohmann::json;

std::string report(const std::string& file, size_t index, const json& step,
                   const std::string& line, const std::string& why, const ArmResult* result) {
  std::ostringstream out;
  out << file << "\n  step " << index + 1;
  if (step.contains("note")) out << " (" << step["note"].get<std::string>() << ")";
  out << ": " << line << "\n  " << why << "\n";
  if (step.contains("expect")) out << "  expected: " << step["expect"].dump() << "\n";
  if (result) out << "  actual: " << result->describe() << "\n";
  return out.str();
}

control::privatelink::PrivateLinkLimits limitsFrom(const json& spec) {
  control::privatelink::PrivateLinkLimits l;
  if (!spec.is_object()) return l;
  l.endpointsPerVnet = spec.value("endpointsPerVnet", l.endpointsPerVnet);
  l.endpointsPerTarget = spec.value("endpointsPerTarget", l.endpointsPerTarget);
  l.endpointsPerSubscription = spec.value("endpointsPerSubscription", l.endpointsPerSubscription);
  l.servicesPerLoadBalancer = spec.value("servicesPerLoadBalancer", l.servicesPerLoadBalancer);
  l.servicesPerSubscription = spec.value("servicesPerSubscription", l.servicesPerSubscription);
  return l;
}

std::string runStep(PlFixture& pl, const std::string& file, size_t i, const json& step,
                    std::map<std::string, std::string>& vars) {
  if (step.contains("as")) {
    pl.actAs(step["as"].get<std::string>());
    return "";
  }
  if (step.contains("grant")) {
    const json g = substituteJson(step["grant"], vars);
    pl.grant(g["principal"].get<std::string>(), g["role"].get<std::string>(),
             g["scope"].get<std::string>());
    return "";
  }
  if (step.contains("setup")) {
    // "provider <sub> <rg>" or "consumer <sub> <rg>"
    std::istringstream words(substitute(step["setup"].get<std::string>(), vars));
    std::string what, sub, rg;
    words >> what >> sub >> rg;
    std::string err = what == "provider" ? pl.buildProvider(sub, rg) : pl.buildConsumer(sub, rg);
    return err.empty() ? "" : report(file, i, step, "setup", err, nullptr);
  }
  if (!step.contains("request") || !step["request"].is_string()) {
    return report(file, i, step, "", "a step needs request, as, grant or setup", nullptr);
  }
  const std::string line = substitute(step["request"].get<std::string>(), vars);
  const size_t space = line.find(' ');
  if (space == std::string::npos) return report(file, i, step, line, "bad request line", nullptr);
  const std::string method = line.substr(0, space);
  std::string target = line.substr(space + 1);
  if (target.rfind(pl.arm().baseUrl(), 0) == 0) target = target.substr(pl.arm().baseUrl().size());
  std::string body;
  if (step.contains("body")) body = substituteJson(step["body"], vars).dump();
  std::map<std::string, std::string> headers;
  if (step.contains("headers")) {
    for (const auto& [k, v] : step["headers"].items()) headers[k] = substitute(v, vars);
  }
  ArmResult result = pl.requestRaw(method, target, body, headers);
  const json expect = substituteJson(step.value("expect", json::object()), vars);
  if (expect.contains("status") && expect["status"].get<int>() != result.status) {
    return report(file, i, step, line,
                  "status: expected " + expect["status"].dump() + ", got " +
                      std::to_string(result.status),
                  &result);
  }
  if (expect.contains("json")) {
    std::string why;
    if (!matchFragment(expect["json"], result.json, "", &why)) {
      return report(file, i, step, line, "json " + why, &result);
    }
  }
  if (expect.contains("headers")) {
    for (const auto& [name, pattern] : expect["headers"].items()) {
      const std::string actual = result.header(name);
      bool present = false;
      for (const auto& [k, v] : result.headers) present = present || iequals(k, name);
      if (pattern.is_null() ? present
                            : !present || !globMatch(pattern.get<std::string>(), actual)) {
        return report(file, i, step, line,
                      "header " + name + ": expected " + pattern.dump() + ", got '" + actual + "'",
                      &result);
      }
    }
  }
  if (expect.contains("absent")) {
    for (const auto& path : expect["absent"]) {
      if (lookupPath(result.json, path.get<std::string>()) != nullptr) {
        return report(file, i, step, line, "json " + path.get<std::string>() + " must be absent",
                      &result);
      }
    }
  }
  if (expect.contains("count")) {
    for (const auto& [path, n] : expect["count"].items()) {
      const json* value = lookupPath(result.json, path);
      if (!value || !value->is_array() || value->size() != n.get<size_t>()) {
        return report(file, i, step, line, "json " + path + ": expected " + n.dump() + " elements",
                      &result);
      }
    }
  }
  if (expect.contains("messageContains")) {
    const json* msg = lookupPath(result.json, "error.message");
    for (const auto& part : expect["messageContains"]) {
      if (!msg || !msg->is_string() ||
          msg->get<std::string>().find(part.get<std::string>()) == std::string::npos) {
        return report(file, i, step, line,
                      "error.message does not contain '" + part.get<std::string>() + "'", &result);
      }
    }
  }
  if (step.contains("capture")) {
    for (const auto& [name, spec] : step["capture"].items()) {
      const std::string from = spec.get<std::string>();
      if (from.rfind("header:", 0) == 0) {
        vars[name] = result.header(from.substr(7));
        continue;
      }
      const json* value = lookupPath(result.json, from);
      if (!value) return report(file, i, step, line, "capture " + name + ": nothing at " + from,
                                &result);
      vars[name] = value->is_string() ? value->get<std::string>() : value->dump();
    }
  }
  return "";
}

std::string runFile(const std::string& file) {
  std::ifstream in(file);
  json scenario = json::parse(in, nullptr, false);
  if (scenario.is_discarded() || !scenario.contains("steps") || !scenario.contains("description")) {
    return file + ": needs \"description\" and \"steps\"";
  }
  PlFixture pl(limitsFrom(scenario.value("limits", json::object())));
  std::map<std::string, std::string> vars = {{"sub", pl.sub()},
                                             {"tenant", pl.arm().tenantId()},
                                             {"base", pl.arm().baseUrl()}};
  const json extraSubscriptions = scenario.value("subscriptions", json::array());
  for (const auto& name : extraSubscriptions) {
    vars[name.get<std::string>()] = pl.addSubscription();
  }
  const json shorthands = scenario.value("vars", json::object());
  for (const auto& [name, value] : shorthands.items()) {
    vars[name] = substitute(value.get<std::string>(), vars);
  }
  try {
    const json& steps = scenario["steps"];
    for (size_t i = 0; i < steps.size(); ++i) {
      std::string failure = runStep(pl, file, i, steps[i], vars);
      if (!failure.empty()) return failure;
    }
  } catch (const std::exception& e) {
    return file + ": " + e.what();
  }
  return "";
}

std::vector<std::string> files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(PRIVLINK_PL_SCENARIO_DIR, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".scenario") {
      out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class PrivateLinkScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(PrivateLinkScenario, Passes) {
  std::string failure = runFile(std::string(PRIVLINK_PL_SCENARIO_DIR) + "/" + GetParam());
  EXPECT_EQ(failure, "") << failure;
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(0, info.param.rfind('.'));
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, PrivateLinkScenario, ::testing::ValuesIn(files()), testName);

TEST(PrivateLinkScenarioFiles, ThereAreScenarios) { EXPECT_GE(files().size(), 5u); }

}  // namespace
}  // namespace privlink::testing
