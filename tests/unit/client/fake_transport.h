#pragma once
// A scripted HttpTransport for client and CLI tests: routes match on method + URL substring,
// each route answers its queued responses in order (the last one repeats), and every request is
// recorded. No sockets.

#include <deque>
#include <string>
#include <vector>

#include "client/http_transport.h"

namespace privlink::client::testing {

inline HttpResponse jsonResponse(int status, std::string body, HttpHeaders headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  if (!r.body.empty()) r.headers["Content-Type"] = "application/json";
  return r;
}

class FakeTransport : public HttpTransport {
 public:
  // Queues `response` for requests whose method equals `method` and whose URL contains
  // `urlPart` (query included). Earlier routes win over later ones.
  FakeTransport& on(std::string method, std::string urlPart, HttpResponse response) {
    for (auto& route : routes_) {
      if (route.method == method && route.urlPart == urlPart) {
        route.responses.push_back(std::move(response));
        return *this;
      }
    }
    routes_.push_back(Route{std::move(method), std::move(urlPart), {std::move(response)}});
    return *this;
  }

  // The discovery and token endpoints of a privlinkd at `base`; tokens "token-1", "token-2"...
  FakeTransport& withAuth(const std::string& base, int expiresIn = 3600) {
    on("GET", "/metadata/endpoints?api-version=2015-01-01",
       jsonResponse(200, R"({"authentication":{"loginEndpoint":")" + base +
                             R"(/adfs","audiences":[")" + base + R"(/"]}})"));
    on("GET", "/adfs/.well-known/openid-configuration",
       jsonResponse(200, R"({"issuer":")" + base + R"(/adfs","token_endpoint":")" + base +
                             R"(/adfs/oauth2/token"})"));
    expiresIn_ = expiresIn;
    issueTokens_ = true;
    return *this;
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    requests.push_back(request);
    if (failNext > 0) {
      --failNext;
      return Status::Unavailable("fake transport: connection refused");
    }
    if (issueTokens_ && request.method == "POST" &&
        request.url.find("/adfs/oauth2/token") != std::string::npos) {
      ++tokensIssued;
      return jsonResponse(200, R"({"token_type":"Bearer","access_token":"token-)" +
                                   std::to_string(tokensIssued) + R"(","expires_in":)" +
                                   std::to_string(expiresIn_) + "}");
    }
    for (auto& route : routes_) {
      if (route.method == request.method && request.url.find(route.urlPart) != std::string::npos) {
        HttpResponse r = route.responses.front();
        if (route.responses.size() > 1) route.responses.pop_front();
        return r;
      }
    }
    return jsonResponse(404, R"({"error":{"code":"FakeNoRoute","message":"no fake route for )" +
                                 request.method + " " + request.url + R"("}})");
  }

  // Requests other than discovery and token calls, as "METHOD url".
  std::vector<std::string> armCalls() const {
    std::vector<std::string> out;
    for (const auto& r : requests) {
      if (r.url.find("/metadata/endpoints") != std::string::npos ||
          r.url.find("/adfs/") != std::string::npos) {
        continue;
      }
      out.push_back(r.method + " " + r.url);
    }
    return out;
  }

  std::vector<HttpRequest> requests;
  int tokensIssued = 0;
  int failNext = 0;

 private:
  struct Route {
    std::string method;
    std::string urlPart;
    std::deque<HttpResponse> responses;
  };
  std::vector<Route> routes_;
  int expiresIn_ = 3600;
  bool issueTokens_ = false;
};

}  // namespace privlink::client::testing
