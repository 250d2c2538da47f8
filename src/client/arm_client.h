#pragma once
// ArmClient: synchronous calls to an ARM-compatible endpoint (privlinkd), with bearer tokens,
// the Microsoft.Network long-running-operation contract and nextLink paging.
//
// LRO contract implemented by putAndWait/deleteAndWait:
//   PUT    -> 200/201 [+ Azure-AsyncOperation]: poll that URL until {"status": Succeeded | Failed |
//             Canceled}, honouring Retry-After, then GET the resource and return it.
//             Without the header, a non-terminal body provisioningState is polled by GETting the
//             resource; 202 + Location is polled until the Location URL stops answering 202.
//   DELETE -> 200/204 done; 202 + Azure-AsyncOperation (preferred) or Location: polled as above.
// A Failed/Canceled operation becomes an error Status with the operation's error code/message.
// Not thread-safe; the transport and token source must outlive the client.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/http_transport.h"
#include "client/token_provider.h"

namespace privlink::client {

// API versions the CLI sends (the server accepts a range).
inline constexpr std::string_view kNetworkApiVersion = "2024-07-01";
inline constexpr std::string_view kResourcesApiVersion = "2021-04-01";
inline constexpr std::string_view kSubscriptionsApiVersion = "2022-12-01";
inline constexpr std::string_view kPrivateDnsApiVersion = "2024-06-01";

// Keeps the key order the server sent, so output shows resources as returned.
using Json = nlohmann::ordered_json;

struct ArmResponse {
  int status = 0;
  HttpHeaders headers;
  Json json;  // null when the body is empty

  std::string header(std::string_view name) const;
};

struct ArmClientOptions {
  // Injected for tests; default to the real clock and sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::steady_clock::time_point()> now;
  // Poll interval when the server sends no Retry-After.
  std::chrono::milliseconds defaultPollInterval{std::chrono::seconds(1)};
  // Give up waiting for a long-running operation after this long (OperationTimedOut).
  std::chrono::milliseconds lroTimeout{std::chrono::minutes(10)};
  // Called after every poll with the operation's status ("InProgress", "Updating", ...).
  std::function<void(std::string_view status)> progress;
  // Upper bound on pages followed by list().
  int maxPages = 10000;
};

class ArmClient {
 public:
  ArmClient(HttpTransport& transport, TokenSource& tokens, std::string endpoint,
            ArmClientOptions options = {});

  // One authenticated call. `pathOrUrl` is a path ("/subscriptions/..?api-version=..") resolved
  // against the endpoint, or an absolute URL (polling, nextLink). A 2xx response is returned;
  // any other status becomes an error Status built from the ARM error body ("code: message").
  // A 401 is retried once with a fresh token.
  Result<ArmResponse> request(std::string_view method, std::string_view pathOrUrl,
                              const Json* body = nullptr);

  Result<Json> get(std::string_view pathOrUrl);
  // PUT and wait for the operation; returns the final GET of the resource.
  Result<Json> putAndWait(std::string_view path, const Json& body);
  // DELETE and wait for the operation.
  Status deleteAndWait(std::string_view path);
  // GET a collection, following nextLink, and return every element of `value`.
  Result<std::vector<Json>> list(std::string_view path);

  // Waits for the operation started by `initial` (a response to PUT or DELETE on
  // `resourcePath`). Exposed for --no-wait style callers that wait later.
  Status waitForOperation(const ArmResponse& initial, std::string_view resourcePath,
                          bool isDelete);

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::chrono::milliseconds retryAfter(const ArmResponse& response) const;
  Status pollAsyncOperation(const std::string& url, std::chrono::milliseconds firstDelay);
  Status pollLocation(const std::string& url, std::chrono::milliseconds firstDelay);
  Status pollProvisioningState(std::string_view resourcePath, std::chrono::milliseconds delay);
  Status timedOut(std::string_view what) const;

  HttpTransport& transport_;
  TokenSource& tokens_;
  std::string endpoint_;
  ArmClientOptions options_;
  std::chrono::steady_clock::time_point deadline_;
};

// "Succeeded", "Failed", "Canceled" (case-insensitive).
bool isTerminalState(std::string_view state);

}  // namespace privlink::client
