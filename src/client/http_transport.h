#pragma once
// The seam between the ARM client and the network: one synchronous HTTP exchange per call.
// HttpsTransport (https_transport.h) is the production implementation; tests inject fakes, so
// token acquisition, LRO polling and paging are tested without sockets.

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace privlink::client {

struct HeaderLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};
// Header names compare case-insensitively (HTTP/1.1).
using HttpHeaders = std::map<std::string, std::string, HeaderLess>;

struct HttpRequest {
  std::string method;  // "GET", "PUT", ...
  std::string url;     // absolute: https://host:port/path?query
  HttpHeaders headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;

  std::string header(std::string_view name) const;  // "" when absent
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends one request and returns the response, whatever its status code. Fails (kUnavailable,
  // code "ConnectionFailed"/"TlsHandshakeFailed"/...) only when no response was received.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

}  // namespace privlink::client
