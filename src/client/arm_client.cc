#include "client/arm_client.h"

#include <set>
#include <thread>

#include "client/url.h"
#include "common/resource_id.h"

namespace privlink::client {

using std::chrono::milliseconds;

std::string ArmResponse::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

bool isTerminalState(std::string_view state) {
  return iequals(state, "Succeeded") || iequals(state, "Failed") || iequals(state, "Canceled");
}

ArmClient::ArmClient(HttpTransport& transport, TokenSource& tokens, std::string endpoint,
                     ArmClientOptions options)
    : transport_(transport),
      tokens_(tokens),
      endpoint_(trimTrailingSlashes(endpoint)),
      options_(std::move(options)) {
  if (!options_.sleep) options_.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  if (!options_.now) options_.now = &std::chrono::steady_clock::now;
}

Result<ArmResponse> ArmClient::request(std::string_view method, std::string_view pathOrUrl,
                                       const Json* body) {
  HttpRequest req;
  req.method = std::string(method);
  req.url = resolveUrl(endpoint_, pathOrUrl);
  if (body != nullptr) {
    req.headers["Content-Type"] = "application/json";
    req.body = body->dump();
  }
  HttpResponse res;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSIGN_OR_RETURN(std::string token, tokens_.accessToken());
    req.headers["Authorization"] = "Bearer " + token;
    ASSIGN_OR_RETURN(res, transport_.send(req));
    if (res.status != 401 || attempt == 1) break;
    tokens_.invalidate();
  }
  std::string what = req.method + " " + req.url;
  if (res.status < 200 || res.status > 299) {
    return statusFromErrorResponse(res.status, res.body, what);
  }
  ArmResponse out;
  out.status = res.status;
  out.headers = std::move(res.headers);
  bool blank = res.body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (!blank) {
    try {
      out.json = Json::parse(res.body);
    } catch (const Json::exception& e) {
      return Status::Internal(what + " returned a body that is not JSON: " + e.what());
    }
  }
  return out;
}

Result<Json> ArmClient::get(std::string_view pathOrUrl) {
  ASSIGN_OR_RETURN(ArmResponse res, request("GET", pathOrUrl));
  return std::move(res.json);
}

milliseconds ArmClient::retryAfter(const ArmResponse& response) const {
  std::string value = response.header("Retry-After");
  if (!value.empty()) {
    try {
      size_t used = 0;
      long long seconds = std::stoll(value, &used);
      if (used == value.size() && seconds >= 0 && seconds <= 3600) {
        return std::chrono::seconds(seconds);
      }
    } catch (const std::exception&) {
      // An HTTP-date or garbage: use the default interval.
    }
  }
  return options_.defaultPollInterval;
}

Status ArmClient::timedOut(std::string_view what) const {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.lroTimeout).count();
  return Status::Unavailable("OperationTimedOut: gave up after " + std::to_string(seconds) +
                             "s waiting for " + std::string(what) +
                             "; it may still finish, check with show");
}

namespace {
Status operationError(const Json& body, std::string_view state, std::string_view what) {
  std::string code = std::string(state) == "Canceled" ? "OperationCanceled" : "OperationFailed";
  std::string message = std::string(what) + " ended in state " + std::string(state);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const Json& e = body["error"];
    if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) {
      message = e["message"].get<std::string>();
    }
  }
  return Status::Conflict(code, message);
}

std::string stringField(const Json& j, const char* name) {
  if (j.is_object() && j.contains(name) && j[name].is_string()) return j[name].get<std::string>();
  return {};
}

std::string provisioningState(const Json& resource) {
  if (resource.is_object() && resource.contains("properties")) {
    return stringField(resource["properties"], "provisioningState");
  }
  return {};
}
}  // namespace

Status ArmClient::pollAsyncOperation(const std::string& url, milliseconds delay) {
  while (true) {
    if (options_.now() + delay > deadline_) return timedOut(url);
    options_.sleep(delay);
    ASSIGN_OR_RETURN(ArmResponse res, request("GET", url));
    std::string state = stringField(res.json, "status");
    if (options_.progress) options_.progress(state.empty() ? "InProgress" : state);
    if (iequals(state, "Succeeded")) return Status::Ok();
    if (iequals(state, "Failed") || iequals(state, "Canceled")) {
      return operationError(res.json, iequals(state, "Failed") ? "Failed" : "Canceled",
                            "the operation");
    }
    delay = retryAfter(res);
  }
}

Status ArmClient::pollLocation(const std::string& url, milliseconds delay) {
  while (true) {
    if (options_.now() + delay > deadline_) return timedOut(url);
    options_.sleep(delay);
    ASSIGN_OR_RETURN(ArmResponse res, request("GET", url));
    if (options_.progress) options_.progress(res.status == 202 ? "InProgress" : "Succeeded");
    if (res.status != 202) return Status::Ok();
    delay = retryAfter(res);
  }
}

Status ArmClient::pollProvisioningState(std::string_view resourcePath, milliseconds delay) {
  while (true) {
    if (options_.now() + delay > deadline_) return timedOut(resourcePath);
    options_.sleep(delay);
    ASSIGN_OR_RETURN(ArmResponse res, request("GET", resourcePath));
    std::string state = provisioningState(res.json);
    if (options_.progress) options_.progress(state);
    if (state.empty() || isTerminalState(state)) return Status::Ok();
    delay = retryAfter(res);
  }
}

Status ArmClient::waitForOperation(const ArmResponse& initial, std::string_view resourcePath,
                                   bool isDelete) {
  deadline_ = options_.now() + options_.lroTimeout;
  milliseconds delay = retryAfter(initial);
  std::string asyncUrl = initial.header("Azure-AsyncOperation");
  std::string location = initial.header("Location");
  if (!asyncUrl.empty()) return pollAsyncOperation(asyncUrl, delay);
  if (initial.status == 202 && !location.empty()) return pollLocation(location, delay);
  if (initial.status == 202) {
    return Status::Internal(std::string(isDelete ? "DELETE " : "PUT ") +
                            std::string(resourcePath) +
                            " answered 202 without Azure-AsyncOperation or Location");
  }
  if (!isDelete) {
    std::string state = provisioningState(initial.json);
    if (!state.empty() && !isTerminalState(state)) {
      return pollProvisioningState(resourcePath, delay);
    }
  }
  return Status::Ok();
}

Result<Json> ArmClient::putAndWait(std::string_view path, const Json& body) {
  ASSIGN_OR_RETURN(ArmResponse initial, request("PUT", path, &body));
  RETURN_IF_ERROR(waitForOperation(initial, path, /*isDelete=*/false));
  ASSIGN_OR_RETURN(Json resource, get(path));
  std::string state = provisioningState(resource);
  if (iequals(state, "Failed") || iequals(state, "Canceled")) {
    return operationError(Json::object(), state, "PUT " + std::string(path));
  }
  return resource;
}

Status ArmClient::deleteAndWait(std::string_view path) {
  ASSIGN_OR_RETURN(ArmResponse initial, request("DELETE", path));
  return waitForOperation(initial, path, /*isDelete=*/true);
}

Result<std::vector<Json>> ArmClient::list(std::string_view path) {
  std::vector<Json> items;
  std::string next(path);
  std::set<std::string> seen;
  for (int page = 0; !next.empty(); ++page) {
    if (page >= options_.maxPages || !seen.insert(next).second) {
      return Status::Internal("paging through " + std::string(path) +
                              " does not end (nextLink repeats or too many pages)");
    }
    ASSIGN_OR_RETURN(ArmResponse res, request("GET", next));
    if (!res.json.is_object() || !res.json.contains("value") || !res.json["value"].is_array()) {
      return Status::Internal("GET " + next + " did not return a collection {\"value\": [...]}");
    }
    for (auto& item : res.json["value"]) items.push_back(std::move(item));
    next = stringField(res.json, "nextLink");
  }
  return items;
}

}  // namespace privlink::client
