#pragma once
// application/x-www-form-urlencoded and URL query strings, as the token endpoint and the
// frontend read them.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace privlink::api {

// Percent-decodes; '+' becomes a space when `plusIsSpace`. nullopt on a malformed escape.
std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace = true);
// Percent-encodes everything but unreserved characters (RFC 3986).
std::string percentEncode(std::string_view text);

// Parses "a=1&b=2" (keys case-sensitive; the first occurrence wins; malformed pairs skipped).
std::map<std::string, std::string> parseForm(std::string_view text);

// Splits a request target into path and query ("" when there is none).
struct Target {
  std::string path;
  std::string query;
};
Target splitTarget(std::string_view target);

// Collapses runs of '/' in a path into one ("//metadata/endpoints" -> "/metadata/endpoints").
std::string collapseSlashes(std::string_view path);

// The non-empty '/'-separated parts of a path, not decoded ("/a//b/" -> {"a", "b"}).
std::vector<std::string> pathSegments(std::string_view path);

}  // namespace privlink::api
