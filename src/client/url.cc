#include "client/url.h"

#include <cctype>

#include "client/http_transport.h"
#include "common/resource_id.h"

namespace privlink::client {

bool HeaderLess::operator()(std::string_view a, std::string_view b) const {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int ca = std::tolower(static_cast<unsigned char>(a[i]));
    int cb = std::tolower(static_cast<unsigned char>(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Result<Url> Url::parse(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument("InvalidUrl",
                                   "'" + std::string(text) + "' is not a valid URL: " +
                                       std::string(why) + "; expected https://host:port/path");
  };
  Url url;
  size_t schemeEnd = text.find("://");
  if (schemeEnd == std::string_view::npos) return invalid("no scheme");
  url.scheme = toLower(text.substr(0, schemeEnd));
  if (url.scheme != "https" && url.scheme != "http") return invalid("scheme is not http(s)");
  std::string_view rest = text.substr(schemeEnd + 3);
  size_t pathStart = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, pathStart);
  std::string_view target =
      pathStart == std::string_view::npos ? std::string_view() : rest.substr(pathStart);
  if (size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) return invalid("user info is not supported");
  if (authority.empty()) return invalid("no host");
  std::string_view portText;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unterminated IPv6 literal");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("garbage after IPv6 literal");
      portText = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  if (url.host.empty()) return invalid("no host");
  if (!portText.empty()) {
    for (char c : portText) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return invalid("port is not a number");
    }
    if (portText.size() > 5 || std::stoi(std::string(portText)) > 65535) {
      return invalid("port out of range");
    }
    url.port = std::string(portText);
  } else {
    url.port = url.scheme == "https" ? "443" : "80";
  }
  url.target = target.empty() ? "/" : std::string(target);
  if (url.target.front() == '?') url.target.insert(url.target.begin(), '/');
  return url;
}

std::string Url::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + port;
}

std::string trimTrailingSlashes(std::string_view base) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base);
}

std::string resolveUrl(std::string_view base, std::string_view pathOrUrl) {
  if (istartsWith(pathOrUrl, "https://") || istartsWith(pathOrUrl, "http://")) {
    return std::string(pathOrUrl);
  }
  std::string out = trimTrailingSlashes(base);
  if (pathOrUrl.empty() || pathOrUrl.front() != '/') out += '/';
  out += pathOrUrl;
  return out;
}

std::string withApiVersion(std::string_view url, std::string_view apiVersion) {
  size_t q = url.find('?');
  if (q != std::string_view::npos) {
    std::string query = toLower(url.substr(q + 1));
    if (query.starts_with("api-version=") || query.find("&api-version=") != std::string::npos) {
      return std::string(url);
    }
  }
  std::string out(url);
  out += q == std::string_view::npos ? '?' : '&';
  out += "api-version=";
  out += apiVersion;
  return out;
}

namespace {
std::string percentEncode(std::string_view value, std::string_view safe, bool spaceAsPlus) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (std::isalnum(c) || safe.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else if (c == ' ' && spaceAsPlus) {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}
}  // namespace

std::string formEncode(std::string_view value) { return percentEncode(value, "-._~", true); }

std::string formBody(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += formEncode(k);
    out += '=';
    out += formEncode(v);
  }
  return out;
}

std::string encodePathSegment(std::string_view segment) {
  return percentEncode(segment, "-._~!$&'()*+,;=:@", false);
}

}  // namespace privlink::client
