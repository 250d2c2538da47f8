#include "api/arm_router.h"

#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/api_version.h"
#include "api/arm_error.h"
#include "common/guid.h"
#include "common/resource_id.h"

namespace privlink::api {

using nlohmann::json;

namespace {

constexpr size_t kMaxTop = 1000;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percentDecode(std::string_view s, bool plusIsSpace) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hexValue(s[i + 1]);
      int lo = hexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percentEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '(' ||
        c == ')') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status invalidUri(std::string_view what) {
  return Status::InvalidArgument("InvalidRequestUri",
                                 "The request URI is invalid: " + std::string(what) + ".");
}

Result<ArmRouter::Target> parseTarget(std::string_view raw) {
  ArmRouter::Target target;
  size_t q = raw.find('?');
  std::string_view path = raw.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : raw.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);

  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty()) {
      auto decoded = percentDecode(part, false);
      if (!decoded) return invalidUri("bad percent-encoding in '" + std::string(part) + "'");
      for (unsigned char c : *decoded) {
        if (c == '/' || c < 0x20 || c == 0x7f) {
          return invalidUri("the path segment '" + std::string(part) +
                            "' decodes to a character that is not allowed in names");
        }
      }
      target.segments.push_back(std::move(*decoded));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }

  start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    std::string_view pair =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto key = percentDecode(pair.substr(0, eq), true);
      auto value = percentDecode(
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!key || !value) return invalidUri("bad percent-encoding in the query string");
      target.query.emplace(std::move(*key), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return target;
}

std::string joinPath(const std::vector<std::string>& segments, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < segments.size(); ++i) out += "/" + segments[i];
  return out;
}

control::Preconditions preconditionsOf(const HttpRequest& request) {
  control::Preconditions pre;
  std::string ifMatch = request.header("If-Match");
  if (!ifMatch.empty()) pre.ifMatch = ifMatch;
  std::string ifNoneMatch = request.header("If-None-Match");
  pre.ifNoneMatchStar = ifNoneMatch.find('*') != std::string::npos;
  return pre;
}

Result<json> parseBody(const HttpRequest& request) {
  bool blank = true;
  for (unsigned char c : request.body) blank = blank && std::isspace(c);
  if (blank) {
    return Status::InvalidArgument("InvalidRequestContent",
                                   "The request content is empty. Send the resource as a JSON "
                                   "object.");
  }
  try {
    json body = json::parse(request.body);
    if (!body.is_object()) {
      return Status::InvalidArgument("InvalidRequestContent",
                                     std::string("The request content must be a JSON object, "
                                                 "not ") +
                                         body.type_name() + ".");
    }
    return body;
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument(
        "InvalidRequestContent",
        "The request content was invalid and could not be deserialized: " + std::string(e.what()) +
            " (byte " + std::to_string(e.byte) + ").");
  }
}

HttpResponse jsonResponse(int status, const json& body) {
  return HttpResponse::json(status, body.dump());
}

HttpResponse notFoundRoute(const ArmRouter::Target& target) {
  return armErrorResponse(Status::NotFound(
      "NotFound", "No ARM resource or collection is served at '" + target.path() + "'."));
}

bool isProviderSegment(const std::string& s) { return iequals(s, "providers"); }

// $top of a list request: nullopt when absent; 400 InvalidParameter unless 1..kMaxTop.
Result<std::optional<size_t>> topOf(const ArmRouter::Target& target) {
  auto topIt = target.query.find("$top");
  if (topIt == target.query.end()) return std::optional<size_t>();
  const std::string& text = topIt->second;
  bool digits = !text.empty() && text.size() <= 6;
  for (unsigned char c : text) digits = digits && std::isdigit(c);
  size_t n = digits ? std::stoul(text) : 0;
  if (n == 0 || n > kMaxTop) {
    return Status::InvalidArgument("InvalidParameter", "$top must be a whole number from 1 to " +
                                                           std::to_string(kMaxTop) + "; got '" +
                                                           text + "'.")
        .withTarget("$top");
  }
  return std::optional<size_t>(n);
}

// The provider's approve/reject PUT is synchronous in Azure's spec (reference §2.1: "PUT is
// synchronous (200 only, not LRO)"), so it carries no Azure-AsyncOperation header.
bool synchronousPut(const ResourceId& id) {
  return iequals(id.type(), "Microsoft.Network/privateLinkServices/privateEndpointConnections");
}

}  // namespace

std::string ArmRouter::Target::path() const { return joinPath(segments, 0, segments.size()); }

std::string ArmRouter::Target::encodedPath() const {
  std::string out;
  for (const auto& s : segments) out += "/" + percentEncode(s);
  return out;
}

ArmRouter::ArmRouter(control::ResourceService& service, ArmRouterOptions options)
    : service_(service), options_(std::move(options)), recordSets_(service) {
  while (!options_.baseUrl.empty() && options_.baseUrl.back() == '/') options_.baseUrl.pop_back();
}

HttpResponse ArmRouter::handle(const HttpRequest& request, const control::Caller& caller) {
  HttpResponse response = dispatch(request, caller);
  std::string clientRequestId = request.header("x-ms-client-request-id");
  std::string correlation = request.header("x-ms-correlation-request-id");
  if (correlation.empty()) correlation = clientRequestId;
  if (correlation.empty()) correlation = newGuid();
  response.setHeader("x-ms-request-id", newGuid());
  response.setHeader("x-ms-correlation-request-id", correlation);
  if (!clientRequestId.empty()) response.setHeader("x-ms-client-request-id", clientRequestId);
  response.setHeader("Content-Type", "application/json; charset=utf-8");
  if (request.method == "HEAD") response.body.clear();
  return response;
}

HttpResponse ArmRouter::dispatch(const HttpRequest& request, const control::Caller& caller) {
  auto parsed = parseTarget(request.target);
  if (!parsed.ok()) return armErrorResponse(parsed.status());
  const Target& target = *parsed;
  const auto& segs = target.segments;

  // api-version first: ARM rejects a call without one before looking at the path.
  auto versionIt = target.query.find("api-version");
  if (versionIt == target.query.end() || versionIt->second.empty()) {
    return armErrorResponse(missingApiVersion());
  }
  const std::string& apiVersion = versionIt->second;
  bool resourceProvider = false;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (isProviderSegment(segs[i]) && !iequals(segs[i + 1], "Microsoft.Resources")) {
      resourceProvider = true;
    }
  }
  Status version = checkApiVersion(apiVersion, resourceProvider, todayUtcYmd());
  if (!version.ok()) return armErrorResponse(version);

  if (auto computed = computedRoute(request, caller, target, apiVersion)) return *computed;

  if (segs.size() == 1 && iequals(segs[0], "tenants")) {
    if (request.method != "GET") return methodNotAllowedResponse(request.method, "GET");
    auto tenants = service_.listTenants();
    if (!tenants.ok()) return armErrorResponse(tenants.status());
    return jsonResponse(200, json{{"value", *tenants}});
  }
  if (!segs.empty() && iequals(segs[0], "subscriptions")) {
    return subscriptionRoute(request, caller, target, apiVersion);
  }
  return notFoundRoute(target);
}

HttpResponse ArmRouter::subscriptionRoute(const HttpRequest& request,
                                          const control::Caller& caller, const Target& target,
                                          const std::string& apiVersion) {
  const auto& segs = target.segments;
  const std::string& method = request.method;
  if (segs.size() == 1) {
    if (method != "GET") return methodNotAllowedResponse(method, "GET");
    control::ListRequest list;
    list.type = std::string(control::kSubscriptionDocType);
    return collectionRoute(request, target, list.type, "", std::nullopt, apiVersion);
  }
  if (segs.size() == 2) {
    if (method != "GET") return methodNotAllowedResponse(method, "GET");
    auto sub = service_.get(ResourceId::subscription(segs[1]));
    if (!sub.ok()) return armErrorResponse(sub.status());
    return jsonResponse(200, *sub);
  }
  // The last "providers" segment starts the provider part (extension resources nest scopes).
  size_t providers = 0;
  for (size_t i = 2; i + 1 < segs.size(); ++i) {
    if (isProviderSegment(segs[i])) providers = i;
  }
  if (providers != 0) return providerRoute(request, caller, target, providers, apiVersion);
  if (iequals(segs[2], "resourceGroups")) {
    if (segs.size() == 3) {
      if (method != "GET") return methodNotAllowedResponse(method, "GET");
      return collectionRoute(request, target, std::string(control::kResourceGroupDocType),
                             joinPath(segs, 0, 2), std::nullopt, apiVersion);
    }
    if (segs.size() == 4) return resourceRoute(request, caller, target, apiVersion);
  }
  return notFoundRoute(target);
}

HttpResponse ArmRouter::providerRoute(const HttpRequest& request, const control::Caller& caller,
                                      const Target& target, size_t p,
                                      const std::string& apiVersion) {
  const auto& segs = target.segments;
  const std::string& ns = segs[p + 1];
  size_t tail = segs.size() - (p + 2);
  if (tail == 0) return notFoundRoute(target);

  // /subscriptions/S/providers/{ns}/locations/{loc}/operations|operationResults/{opId}
  if (p == 2 && tail == 4 && iequals(segs[4], "locations") &&
      (iequals(segs[6], "operations") || iequals(segs[6], "operationResults"))) {
    if (request.method != "GET") return methodNotAllowedResponse(request.method, "GET");
    return operationRoute(request, target, apiVersion);
  }

  if (tail % 2 == 0) return resourceRoute(request, caller, target, apiVersion);

  if (request.method != "GET") return methodNotAllowedResponse(request.method, "GET");
  std::string type = ns;
  for (size_t i = p + 2; i < segs.size(); i += 2) type += "/" + segs[i];
  std::string scopePath = joinPath(segs, 0, p);
  std::optional<std::string> parentPath;
  if (tail > 1) {
    parentPath = joinPath(segs, 0, segs.size() - 1);
  } else if (!(p == 2 || (p == 4 && iequals(segs[2], "resourceGroups")))) {
    parentPath = scopePath;  // an extension collection at a resource scope
  }
  return collectionRoute(request, target, type, scopePath, parentPath, apiVersion);
}

// GET {resourceId}/providers/Microsoft.Insights/metrics (control/resource_metrics.h).
std::optional<HttpResponse> ArmRouter::metricsRoute(const HttpRequest& request,
                                                    const Target& target) {
  const auto& segs = target.segments;
  if (segs.size() < 6 || !isProviderSegment(segs[segs.size() - 3]) ||
      !iequals(segs[segs.size() - 2], "Microsoft.Insights") || !iequals(segs.back(), "metrics")) {
    return std::nullopt;
  }
  if (request.method != "GET") return methodNotAllowedResponse(request.method, "GET");
  auto id = ResourceId::parse(joinPath(segs, 0, segs.size() - 3));
  if (!id.ok()) return armErrorResponse(id.status());
  control::MetricsQuery query;
  auto param = [&](const char* name) {
    auto it = target.query.find(name);
    return it == target.query.end() ? std::string() : it->second;
  };
  query.metricNames = param("metricnames");
  query.aggregation = param("aggregation");
  query.timespan = param("timespan");
  query.interval = param("interval");
  query.filter = param("$filter");
  auto body = control::resourceMetrics(service_, *id, query);
  if (!body.ok()) return armErrorResponse(body.status());
  return jsonResponse(200, *body);
}

std::optional<HttpResponse> ArmRouter::computedRoute(const HttpRequest& request,
                                                     const control::Caller& caller,
                                                     const Target& target,
                                                     const std::string& apiVersion) {
  const std::string& method = request.method;
  if (auto metrics = metricsRoute(request, target)) return *metrics;
  if (options_.privateLink && (method == "GET" || method == "POST")) {
    // The body matters only to POST checkPrivateLinkServiceVisibility, which explains what it
    // needs when the body is missing or not an object.
    json body;
    if (method == "POST") body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) body = nullptr;
    auto answer = options_.privateLink->handle(method, target.segments, body, caller);
    if (answer) {
      if (!answer->ok()) return armErrorResponse(answer->status());
      return jsonResponse(200, **answer);
    }
  }
  if (method != "GET" && method != "HEAD") return std::nullopt;
  if (auto one = recordSets_.get(target.segments)) {
    if (!one->ok()) return armErrorResponse(one->status());
    if (method == "HEAD") return HttpResponse::json(204, "");
    return jsonResponse(200, **one);
  }
  if (method != "GET") return std::nullopt;
  control::privatedns::RecordSetListOptions list;
  auto suffix = target.query.find("$recordsetnamesuffix");
  if (suffix != target.query.end()) list.nameSuffix = suffix->second;
  auto skip = target.query.find("$skipToken");
  if (skip != target.query.end()) list.skipToken = skip->second;
  auto top = topOf(target);
  list.top = options_.pageSize;
  if (top.ok() && *top && **top < list.top) list.top = **top;
  auto page = recordSets_.list(target.segments, list);
  if (!page) return std::nullopt;
  if (!top.ok()) return armErrorResponse(top.status());
  std::string keep;  // the filter stays in the nextLink
  if (!list.nameSuffix.empty()) keep = "&$recordsetnamesuffix=" + percentEncode(list.nameSuffix);
  return pageResponse(target, apiVersion, std::move(*page), *top, keep);
}

HttpResponse ArmRouter::collectionRoute(const HttpRequest& request, const Target& target,
                                        const std::string& type, const std::string& scopePath,
                                        std::optional<std::string> parentPath,
                                        const std::string& apiVersion) {
  control::ListRequest list;
  list.type = type;
  if (!scopePath.empty()) {
    auto scope = ResourceId::parse(scopePath);
    if (!scope.ok()) return armErrorResponse(scope.status());
    list.scopeKey = scope->key();
  }
  if (parentPath) {
    auto parent = ResourceId::parse(*parentPath);
    if (!parent.ok()) return armErrorResponse(parent.status());
    list.parent = std::move(*parent);
  }
  auto parsedTop = topOf(target);
  if (!parsedTop.ok()) return armErrorResponse(parsedTop.status());
  std::optional<size_t> top = *parsedTop;
  list.top = options_.pageSize;
  if (top && *top < list.top) list.top = *top;
  auto skip = target.query.find("$skipToken");
  if (skip != target.query.end()) list.skipToken = skip->second;
  return pageResponse(target, apiVersion, service_.list(list), top);
}

HttpResponse ArmRouter::pageResponse(const Target& target, const std::string& apiVersion,
                                     Result<control::Page> page, std::optional<size_t> top,
                                     const std::string& extraQuery) {
  if (!page.ok()) return armErrorResponse(page.status());
  json body = {{"value", json::array()}};
  for (auto& item : page->value) body["value"].push_back(std::move(item));
  if (!page->nextSkipToken.empty()) {
    std::string next = options_.baseUrl + target.encodedPath() +
                       "?api-version=" + percentEncode(apiVersion) +
                       "&$skipToken=" + percentEncode(page->nextSkipToken);
    if (top) next += "&$top=" + std::to_string(*top);
    body["nextLink"] = next + extraQuery;
  }
  return jsonResponse(200, body);
}

std::string ArmRouter::operationUrl(const std::string& subscription, const std::string& ns,
                                    const std::string& location, const std::string& opId,
                                    bool results, const std::string& apiVersion) const {
  return options_.baseUrl + "/subscriptions/" + percentEncode(subscription) + "/providers/" +
         percentEncode(ns) + "/locations/" + percentEncode(location) +
         (results ? "/operationResults/" : "/operations/") + percentEncode(opId) +
         "?api-version=" + percentEncode(apiVersion);
}

HttpResponse ArmRouter::resourceRoute(const HttpRequest& request, const control::Caller& caller,
                                      const Target& target, const std::string& apiVersion) {
  auto parsedId = ResourceId::parse(target.path());
  if (!parsedId.ok()) return armErrorResponse(parsedId.status());
  const ResourceId& id = *parsedId;
  const std::string& method = request.method;
  const std::string ns =
      id.isResourceGroup() ? std::string("Microsoft.Resources") : id.providerNamespace();
  const std::string retryAfter = std::to_string(options_.retryAfterSeconds);

  if (method == "GET" || method == "HEAD") {
    auto resource = service_.get(id);
    if (!resource.ok()) return armErrorResponse(resource.status());
    if (method == "HEAD") return HttpResponse::json(204, "");
    return jsonResponse(200, *resource);
  }
  if (method == "PUT") {
    auto body = parseBody(request);
    if (!body.ok()) return armErrorResponse(body.status());
    auto outcome = service_.put(caller, id, std::move(*body), preconditionsOf(request));
    if (!outcome.ok()) return armErrorResponse(outcome.status());
    HttpResponse response = jsonResponse(outcome->created ? 201 : 200, outcome->resource);
    if (!outcome->operationId.empty() && !synchronousPut(id)) {
      response.setHeader("Azure-AsyncOperation",
                         operationUrl(id.subscriptionId(), ns, outcome->location,
                                      outcome->operationId, false, apiVersion));
      response.setHeader("Retry-After", retryAfter);
    }
    return response;
  }
  if (method == "PATCH") {
    auto body = parseBody(request);
    if (!body.ok()) return armErrorResponse(body.status());
    auto resource = service_.patchTags(caller, id, *body, preconditionsOf(request));
    if (!resource.ok()) return armErrorResponse(resource.status());
    return jsonResponse(200, *resource);
  }
  if (method == "DELETE") {
    auto outcome = service_.remove(caller, id, preconditionsOf(request));
    if (!outcome.ok()) return armErrorResponse(outcome.status());
    if (!outcome->existed) return HttpResponse::json(204, "");
    HttpResponse response = HttpResponse::json(202, "");
    response.setHeader("Location", operationUrl(id.subscriptionId(), ns, outcome->location,
                                                outcome->operationId, true, apiVersion));
    response.setHeader("Azure-AsyncOperation",
                       operationUrl(id.subscriptionId(), ns, outcome->location,
                                    outcome->operationId, false, apiVersion));
    response.setHeader("Retry-After", retryAfter);
    return response;
  }
  return methodNotAllowedResponse(method, "GET, HEAD, PUT, PATCH, DELETE");
}

HttpResponse ArmRouter::operationRoute(const HttpRequest& request, const Target& target,
                                       const std::string& apiVersion) {
  const auto& segs = target.segments;
  const std::string& subscription = segs[1];
  const std::string& opId = segs[7];
  bool results = iequals(segs[6], "operationResults");
  auto op = service_.operation(opId);
  Status notFound = Status::NotFound(
      "OperationNotFound",
      "The operation '" + opId + "' was not found in subscription '" + subscription + "'.");
  if (!op.ok()) return armErrorResponse(op.status());
  auto resourceId = ResourceId::parse(op->resourceId);
  if (!resourceId.ok() || !iequals(resourceId->subscriptionId(), subscription)) {
    return armErrorResponse(notFound);
  }

  if (!results) {
    json body = {{"id", target.path()}, {"name", op->operationId}, {"status", op->status}};
    if (!op->startTime.empty()) body["startTime"] = op->startTime;
    if (op->error) body["error"] = armErrorBody(*op->error)["error"];
    return jsonResponse(200, body);
  }
  if (op->status == "InProgress") {
    HttpResponse response = HttpResponse::json(202, "");
    response.setHeader("Location", options_.baseUrl + target.encodedPath() +
                                       "?api-version=" + percentEncode(apiVersion));
    response.setHeader("Retry-After", std::to_string(options_.retryAfterSeconds));
    return response;
  }
  if (op->status == "Failed") {
    return armErrorResponse(op->error.value_or(Status::Internal("The operation failed.")));
  }
  if (op->isDelete) return HttpResponse::json(204, "");
  auto resource = service_.get(*resourceId);
  if (!resource.ok()) return HttpResponse::json(204, "");  // deleted since; nothing to show
  return jsonResponse(200, *resource);
}

}  // namespace privlink::api
