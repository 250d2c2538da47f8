#pragma once
// Declarative ARM scenarios (tests/scenarios/README.md): a JSON file of request steps with the
// expected status, JSON fragments and headers, run against testing::ArmFixture.

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace privlink::testing {

// True when `actual` contains `expected` as a fragment: objects match as subsets, arrays match
// when every expected element matches some actual element, the string "*" matches any non-null
// value, everything else compares equal (strings case-sensitively). On a mismatch `why` names
// the first differing path.
bool matchFragment(const nlohmann::json& expected, const nlohmann::json& actual,
                   const std::string& path, std::string* why);

// The value at a dot path such as "properties.subnets[0].id" ("" is the whole value); nullptr
// (a null json pointer) when absent.
const nlohmann::json* lookupPath(const nlohmann::json& value, const std::string& path);

// '*' in `pattern` matches any run of characters; everything else literally.
bool globMatch(const std::string& pattern, const std::string& text);

// Replaces every {name} whose name is in `vars`; other braces are left alone.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars);
nlohmann::json substituteJson(const nlohmann::json& value,
                          const std::map<std::string, std::string>& vars);

// Runs one scenario file; returns "" when it passes, else a report naming the failing step with
// its request, what was expected and what came back.
std::string runScenarioFile(const std::string& path);

}  // namespace privlink::testing
