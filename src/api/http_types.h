#pragma once
// Transport-neutral HTTP request/response values. The HTTPS server (Beast) converts to and from
// these; every handler is a pure function of them, so routing and ARM behaviour are unit-tested
// without sockets.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace privlink::api {

struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};

struct HttpRequest {
  std::string method;  // upper case
  std::string target;  // raw path + query as received
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::string remoteAddress;

  std::string header(std::string_view name) const;  // "" when absent
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void setHeader(std::string name, std::string value);
  static HttpResponse json(int status, std::string body);
};

}  // namespace privlink::api
