#pragma once
// URL helpers for the ARM client: split absolute URLs, join a base with a path, encode forms.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace privlink::client {

struct Url {
  std::string scheme;  // "https" or "http", lower case
  std::string host;    // "localhost", "127.0.0.1", "::1" (no brackets)
  std::string port;    // explicit or the scheme default ("443"/"80")
  std::string target;  // path + query, at least "/"

  // Fails with InvalidUrl when the text is not an absolute http(s) URL.
  static Result<Url> parse(std::string_view text);
  // "scheme://host:port", brackets around IPv6 hosts.
  std::string origin() const;
};

// Strips trailing slashes: "https://h:1/" -> "https://h:1".
std::string trimTrailingSlashes(std::string_view base);
// An absolute URL is returned unchanged; a path ("/subscriptions/..") is appended to `base`.
std::string resolveUrl(std::string_view base, std::string_view pathOrUrl);
// Appends `api-version=<v>` unless the URL already carries an api-version parameter.
std::string withApiVersion(std::string_view url, std::string_view apiVersion);
// application/x-www-form-urlencoded percent-encoding of one component.
std::string formEncode(std::string_view value);
std::string formBody(const std::vector<std::pair<std::string, std::string>>& fields);
// Percent-encodes a path segment (resource names are mostly safe; spaces etc. are not).
std::string encodePathSegment(std::string_view segment);

}  // namespace privlink::client
