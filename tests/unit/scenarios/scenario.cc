#include "scenario.h"

#include <fstream>
#include <sstream>

#include "common/resource_id.h"
#include "testing/arm_fixture.h"

namespace privlink::testing {

using nlohmann::json;

namespace {

std::string shown(const json& value) { return value.is_discarded() ? "<none>" : value.dump(); }

}  // namespace

bool globMatch(const std::string& pattern, const std::string& text) {
  // Iterative wildcard match with backtracking to the last '*'.
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool matchFragment(const json& expected, const json& actual, const std::string& path,
                   std::string* why) {
  auto fail = [&](const std::string& message) {
    if (why) *why = (path.empty() ? std::string("<root>") : path) + ": " + message;
    return false;
  };
  if (expected.is_string() && expected.get<std::string>() == "*") {
    return actual.is_null() ? fail("expected a value, found none") : true;
  }
  if (expected.is_object()) {
    if (!actual.is_object()) return fail("expected an object, found " + shown(actual));
    for (const auto& [key, value] : expected.items()) {
      std::string sub = path.empty() ? key : path + "." + key;
      if (!actual.contains(key)) {
        if (why) *why = sub + ": missing (expected " + value.dump() + ")";
        return false;
      }
      if (!matchFragment(value, actual[key], sub, why)) return false;
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array()) return fail("expected an array, found " + shown(actual));
    for (size_t i = 0; i < expected.size(); ++i) {
      bool found = false;
      for (const auto& candidate : actual) {
        if (matchFragment(expected[i], candidate, path + "[?]", nullptr)) {
          found = true;
          break;
        }
      }
      if (!found) return fail("no element matches " + expected[i].dump());
    }
    return true;
  }
  if (expected.is_number() && actual.is_number()) {
    if (expected == actual) return true;
    return fail("expected " + expected.dump() + ", found " + actual.dump());
  }
  if (expected != actual) return fail("expected " + expected.dump() + ", found " + shown(actual));
  return true;
}

const json* lookupPath(const json& value, const std::string& path) {
  const json* current = &value;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string::npos || !current->is_array()) return nullptr;
      size_t index = std::stoul(path.substr(i + 1, close - i - 1));
      if (index >= current->size()) return nullptr;
      current = &(*current)[index];
      i = close + 1;
      continue;
    }
    size_t end = path.find_first_of(".[", i);
    std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (!current->is_object() || !current->contains(key)) return nullptr;
    current = &(*current)[key];
    i = end == std::string::npos ? path.size() : end;
  }
  return current;
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      size_t close = text.find('}', i);
      if (close != std::string::npos) {
        auto it = vars.find(text.substr(i + 1, close - i - 1));
        if (it != vars.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

json substituteJson(const json& value, const std::map<std::string, std::string>& vars) {
  if (value.is_string()) return substitute(value.get<std::string>(), vars);
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : value.items()) out[substitute(k, vars)] = substituteJson(v, vars);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& v : value) out.push_back(substituteJson(v, vars));
    return out;
  }
  return value;
}

namespace {

Status failureFrom(const json& spec) {
  std::string code = spec.value("code", "RealisationFailed");
  std::string message = spec.value("message", "the realiser failed");
  return Status::Conflict(code, message);
}

std::string report(const std::string& file, size_t index, const json& step,
                   const std::string& requestLine, const std::string& why,
                   const ArmResult* result) {
  std::ostringstream out;
  out << file << "\n  step " << index + 1;
  if (step.contains("note")) out << " (" << step["note"].get<std::string>() << ")";
  out << ": " << requestLine << "\n  " << why << "\n";
  if (step.contains("expect")) out << "  expected: " << step["expect"].dump() << "\n";
  if (result) {
    out << "  actual: HTTP " << result->status << "\n";
    for (const auto& [k, v] : result->headers) out << "    " << k << ": " << v << "\n";
    if (!result->json.is_null()) {
      out << "    " << result->json.dump(2) << "\n";
    } else if (!result->body.empty()) {
      out << "    " << result->body << "\n";
    }
  }
  return out.str();
}

}  // namespace

std::string runScenarioFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return file + ": cannot be read";
  json scenario = json::parse(in, nullptr, false);
  if (scenario.is_discarded() || !scenario.is_object()) return file + ": not a JSON object";
  if (!scenario.contains("description") || !scenario.contains("steps") ||
      !scenario["steps"].is_array() || scenario["steps"].empty()) {
    return file + ": needs \"description\" and a non-empty \"steps\" array";
  }
  ArmFixtureOptions options;
  std::string realiser = scenario.value("realiser", "none");
  if (realiser != "none" && realiser != "manual") {
    return file + ": \"realiser\" must be \"none\" or \"manual\"";
  }
  options.manualRealiser = realiser == "manual";
  if (scenario.contains("pageSize")) options.pageSize = scenario["pageSize"].get<size_t>();
  ArmFixture arm(options);
  std::map<std::string, std::string> vars = {
      {"sub", arm.subscriptionId()}, {"tenant", arm.tenantId()}, {"base", arm.baseUrl()}};

  const json& steps = scenario["steps"];
  for (size_t i = 0; i < steps.size(); ++i) {
    const json& step = steps[i];
    if (step.contains("realise")) {
      std::map<std::string, Status> failures;
      const json spec = substituteJson(step["realise"], vars);
      if (spec.is_object() && spec.contains("failures")) {
        for (const auto& [id, error] : spec["failures"].items()) {
          failures.emplace(id, failureFrom(error));
        }
      }
      arm.realise(failures);
      continue;
    }
    if (!step.contains("request") || !step["request"].is_string()) {
      return report(file, i, step, "", "the step has neither \"request\" nor \"realise\"",
                    nullptr);
    }
    std::string line = substitute(step["request"].get<std::string>(), vars);
    size_t space = line.find(' ');
    if (space == std::string::npos) {
      return report(file, i, step, line, "\"request\" must be \"METHOD target\"", nullptr);
    }
    std::string method = line.substr(0, space);
    std::string target = line.substr(space + 1);
    if (target.rfind(arm.baseUrl(), 0) == 0) target = target.substr(arm.baseUrl().size());

    std::string body;
    if (step.contains("rawBody")) {
      body = step["rawBody"].get<std::string>();
    } else if (step.contains("body")) {
      body = substituteJson(step["body"], vars).dump();
    }
    std::map<std::string, std::string> headers;
    if (step.contains("headers")) {
      for (const auto& [k, v] : step["headers"].items()) {
        headers[k] = substitute(v.get<std::string>(), vars);
      }
    }
    ArmResult result = arm.requestRaw(method, target, body, headers);

    const json expect = substituteJson(step.value("expect", json::object()), vars);
    if (expect.contains("status") && expect["status"].get<int>() != result.status) {
      return report(file, i, step, line,
                    "status: expected " + std::to_string(expect["status"].get<int>()) +
                        ", got " + std::to_string(result.status),
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
        std::string actual = result.header(name);
        bool present = false;
        for (const auto& [k, v] : result.headers) present = present || iequals(k, name);
        if (pattern.is_null()) {
          if (present) return report(file, i, step, line, "header " + name + " must be absent",
                                     &result);
          continue;
        }
        if (!present || !globMatch(pattern.get<std::string>(), actual)) {
          return report(file, i, step, line,
                        "header " + name + ": expected '" + pattern.get<std::string>() +
                            "', got " + (present ? "'" + actual + "'" : "none"),
                        &result);
        }
      }
    }
    if (expect.contains("absent")) {
      for (const auto& path : expect["absent"]) {
        if (lookupPath(result.json, path.get<std::string>()) != nullptr) {
          return report(file, i, step, line,
                        "json " + path.get<std::string>() + " must be absent", &result);
        }
      }
    }
    if (expect.contains("count")) {
      for (const auto& [path, n] : expect["count"].items()) {
        const json* value = lookupPath(result.json, path);
        if (!value || !value->is_array() || value->size() != n.get<size_t>()) {
          return report(file, i, step, line,
                        "json " + path + ": expected an array of " + n.dump() + " elements",
                        &result);
        }
      }
    }
    if (step.contains("capture")) {
      for (const auto& [name, spec] : step["capture"].items()) {
        std::string from = spec.get<std::string>();
        if (from.rfind("header:", 0) == 0) {
          std::string value = result.header(from.substr(7));
          if (value.empty()) {
            return report(file, i, step, line, "capture " + name + ": no header " + from.substr(7),
                          &result);
          }
          vars[name] = value;
          continue;
        }
        const json* value = lookupPath(result.json, from);
        if (!value) {
          return report(file, i, step, line, "capture " + name + ": nothing at " + from, &result);
        }
        vars[name] = value->is_string() ? value->get<std::string>() : value->dump();
      }
    }
  }
  return "";
}

}  // namespace privlink::testing
