#include "api/authorization_gate.h"

#include <nlohmann/json.hpp>

#include "api/arm_error.h"
#include "api/url_form.h"
#include "common/guid.h"
#include "common/resource_id.h"
#include "control/authorization/request_access.h"

namespace privlink::api {

using nlohmann::json;
namespace authz = control::authorization;
using Mode = authz::RequiredAccess::Mode;

namespace {

struct Decoded {
  std::vector<std::string> segments;
  std::map<std::string, std::string, CaseInsensitiveLess> query;
};

Status invalidUri(const std::string& what) {
  return Status::InvalidArgument("InvalidRequestUri", "The request URI is invalid: " + what + ".");
}

Result<Decoded> decode(const std::string& rawTarget) {
  Target target = splitTarget(rawTarget);
  Decoded out;
  std::string path = collapseSlashes(target.path);
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos
                                                                     : slash - start);
    if (!part.empty()) {
      auto decoded = percentDecode(part, false);
      if (!decoded) return invalidUri("bad percent-encoding in '" + part + "'");
      for (unsigned char c : *decoded) {
        if (c == '/' || c < 0x20 || c == 0x7f) {
          return invalidUri("the path segment '" + part +
                            "' decodes to a character that is not allowed in names");
        }
      }
      out.segments.push_back(std::move(*decoded));
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  size_t qs = 0;
  std::string_view query = target.query;
  while (qs < query.size()) {
    size_t amp = query.find('&', qs);
    std::string_view pair =
        query.substr(qs, amp == std::string_view::npos ? std::string_view::npos : amp - qs);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto key = percentDecode(pair.substr(0, eq), true);
      auto value = percentDecode(
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!key || !value) return invalidUri("bad percent-encoding in the query string");
      out.query.emplace(std::move(*key), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    qs = amp + 1;
  }
  return out;
}

HttpResponse denied(const Status& status) { return armErrorResponse(status); }

// Keeps the items of a {"value": [...]} body for which keep(item) holds. Bodies that are not such
// a list are returned unchanged only when they are errors; a 200 that is not a list is dropped.
HttpResponse filterList(HttpResponse response, const std::function<bool(const json&)>& keep) {
  if (response.status != 200) return response;
  try {
    json body = json::parse(response.body);
    if (!body.is_object() || !body.contains("value") || !body["value"].is_array()) {
      return armErrorResponse(Status::Internal("A list response had no value array."));
    }
    json kept = json::array();
    for (auto& item : body["value"]) {
      if (item.is_object() && keep(item)) kept.push_back(std::move(item));
    }
    body["value"] = std::move(kept);
    response.body = body.dump();
    return response;
  } catch (const json::exception& e) {
    return armErrorResponse(Status::Internal(std::string("A list response was not JSON: ") +
                                             e.what()));
  }
}

std::string itemId(const json& item) {
  auto it = item.find("id");
  return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

AuthorizationGate::AuthorizationGate(const authz::Authorizer& authorizer,
                                     AuthorizationRoutes& authorization, IdentityRoutes& identity,
                                     Next next)
    : authorizer_(authorizer),
      authorization_(authorization),
      identity_(identity),
      next_(std::move(next)) {}

HttpResponse AuthorizationGate::handle(const HttpRequest& request,
                                       const control::Caller& caller) const {
  auto decoded = decode(request.target);
  if (!decoded.ok()) return armErrorResponse(decoded.status());
  const auto& segs = decoded->segments;

  auto access = authorizer_.accessFor(caller);
  if (!access.ok()) return armErrorResponse(access.status());

  authz::RequiredAccess required = authz::requiredAccess(request.method, segs);
  bool filterItems = false;
  bool filterSubscriptions = false;
  switch (required.mode) {
    case Mode::kNone:
      break;
    case Mode::kAdmin:
      if (!caller.isAdmin) return denied(authz::authorizationFailed(caller, required.action, "/"));
      break;
    case Mode::kSubscriptionMember:
      if (!access->holdsAnyRoleIn(required.scope.subscriptionId())) {
        return denied(authz::authorizationFailed(caller, "Microsoft.Resources/subscriptions/read",
                                                 required.scope.toString()));
      }
      break;
    case Mode::kSubscriptionList:
      filterSubscriptions = true;
      break;
    case Mode::kAction: {
      Status st = access->check(required.action, required.scope);
      if (!st.ok()) return denied(st);
      if (request.method == "PUT") {
        try {
          json body = json::parse(request.body);
          for (const auto& ref : authz::referencedAccess(required.scope, body)) {
            Status linked = access->check(ref.action, ref.target);
            if (!linked.ok()) return denied(linked);
          }
        } catch (const json::exception&) {
          // Not JSON: the router answers 400 InvalidRequestContent and stores nothing.
        }
      }
      break;
    }
    case Mode::kListFiltered:
      if (!access->allows(required.action, required.scope)) {
        if (!access->holdsAnyRoleBelow(required.action, required.scope)) {
          return denied(access->check(required.action, required.scope));
        }
        filterItems = true;
      }
      break;
  }

  HttpResponse response;
  if (AuthorizationRoutes::owns(segs)) {
    response = authorization_.handle(request.method, segs, decoded->query, request.body, caller);
    std::string correlation = request.header("x-ms-correlation-request-id");
    if (correlation.empty()) correlation = request.header("x-ms-client-request-id");
    response.setHeader("x-ms-request-id", newGuid());
    response.setHeader("x-ms-correlation-request-id", correlation.empty() ? newGuid() : correlation);
  } else if (IdentityRoutes::owns(segs)) {
    response = identity_.handle(request.method, segs, request.body, caller);
  } else {
    response = next_(request, caller);
  }

  if (request.method != "GET") return response;
  if (filterSubscriptions) {
    const authz::Access& a = *access;
    return filterList(std::move(response), [&](const json& item) {
      auto sub = item.find("subscriptionId");
      return sub != item.end() && sub->is_string() && a.holdsAnyRoleIn(sub->get<std::string>());
    });
  }
  if (filterItems) {
    const authz::Access& a = *access;
    const std::string& action = required.action;
    return filterList(std::move(response), [&](const json& item) {
      auto id = ResourceId::parse(itemId(item));
      return id.ok() && a.allows(action, *id);
    });
  }
  return response;
}

}  // namespace privlink::api
