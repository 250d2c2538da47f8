#include "api/graph_routes.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <vector>

#include "api/url_form.h"
#include "common/resource_id.h"

namespace privlink::api {
namespace {

using json = nlohmann::json;

HttpResponse graphJson(int status, const json& body) {
  HttpResponse out = HttpResponse::json(status, body.dump());
  out.setHeader("OData-Version", "4.0");
  return out;
}

HttpResponse graphError(int status, const std::string& code, const std::string& message) {
  return graphJson(status, {{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse notFound(const std::string& what) {
  return graphError(404, "Request_ResourceNotFound",
                    "Resource '" + what +
                        "' does not exist or one of its queried reference-property objects are "
                        "not present.");
}

json render(const Principal& p) {
  if (p.kind == PrincipalKind::kUser) {
    return {{"@odata.type", "#microsoft.graph.user"},
            {"id", p.objectId},
            {"displayName", p.displayName},
            {"userPrincipalName", p.userPrincipalName},
            {"mail", nullptr},
            {"accountEnabled", true}};
  }
  return {{"@odata.type", "#microsoft.graph.servicePrincipal"},
          {"id", p.objectId},
          {"appId", p.appId},
          {"displayName", p.displayName},
          {"servicePrincipalNames", json::array({p.appId})},
          {"servicePrincipalType", "Application"},
          {"accountEnabled", true},
          {"appOwnerOrganizationId", p.tenantId}};
}

// A parsed $filter: the property compared and the value it must equal (case-insensitively).
struct Filter {
  std::string property;  // servicePrincipalNames, appId, displayName, userPrincipalName, id
  std::string value;
};

std::optional<Filter> parseFilter(const std::string& text) {
  static const std::regex kAny(
      R"(^\s*servicePrincipalNames/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$)",
      std::regex::icase);
  static const std::regex kEq(
      R"(^\s*(appId|displayName|userPrincipalName|id)\s+eq\s+'((?:[^']|'')*)'\s*$)",
      std::regex::icase);
  auto unquote = [](std::string v) {
    for (size_t at = v.find("''"); at != std::string::npos; at = v.find("''", at + 1)) {
      v.erase(at, 1);
    }
    return v;
  };
  std::smatch m;
  if (std::regex_match(text, m, kAny)) return Filter{"servicePrincipalNames", unquote(m[2])};
  if (std::regex_match(text, m, kEq)) return Filter{toLower(m[1].str()), unquote(m[2])};
  return std::nullopt;
}

bool matches(const Principal& p, const Filter& f) {
  if (f.property == "servicePrincipalNames" || f.property == "appid") {
    return p.kind == PrincipalKind::kServicePrincipal && iequals(p.appId, f.value);
  }
  if (f.property == "displayname") return iequals(p.displayName, f.value);
  if (f.property == "userprincipalname") {
    return p.kind == PrincipalKind::kUser && iequals(p.userPrincipalName, f.value);
  }
  if (f.property == "id") return iequals(p.objectId, f.value);
  return false;
}

}  // namespace

bool GraphRoutes::ownsPath(std::string_view path) {
  return path == "/graph" || path.rfind("/graph/", 0) == 0;
}

HttpResponse GraphRoutes::handle(const HttpRequest& request, const control::Caller& caller) {
  Target target = splitTarget(request.target);
  std::vector<std::string> seg = pathSegments(target.path);
  // seg[0] == "graph"
  if (seg.size() < 3 || (seg[1] != "v1.0" && seg[1] != "beta")) {
    return graphError(400, "Request_BadRequest",
                      "Use " + baseUrl_ + "/graph/v1.0/{servicePrincipals|users|groups|me|"
                                          "directoryObjects/getByIds}.");
  }
  auto internalError = [](const Status& status) {
    return graphError(500, "Service_InternalServerError", status.message());
  };
  // One principal by object id, if it exists in the caller's tenant (a point read, not a list).
  auto byObjectId = [&](const std::string& objectId) -> Result<std::optional<Principal>> {
    ASSIGN_OR_RETURN(std::optional<Principal> p, principals_.byObjectId(objectId));
    if (p && !iequals(p->tenantId, caller.tenantId)) p.reset();
    return p;
  };
  const std::string collection = seg[2];
  const std::string context = baseUrl_ + "/graph/" + seg[1] + "/$metadata#" + collection;

  if (request.method == "POST" && seg.size() == 4 && collection == "directoryObjects" &&
      seg[3] == "getByIds") {
    json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("ids") ||
        !body["ids"].is_array()) {
      return graphError(400, "Request_BadRequest",
                        "The body must be {\"ids\": [\"<object id>\", ...], \"types\": [...]}.");
    }
    json value = json::array();
    for (const auto& id : body["ids"]) {
      if (!id.is_string()) continue;
      auto p = byObjectId(id.get<std::string>());
      if (!p.ok()) return internalError(p.status());
      if (*p) value.push_back(render(**p));
    }
    return graphJson(200, {{"@odata.context", baseUrl_ + "/graph/" + seg[1] +
                                                  "/$metadata#directoryObjects"},
                           {"value", value}});
  }
  if (request.method != "GET") {
    return graphError(405, "Request_BadRequest",
                      "Method " + request.method +
                          " is not supported here: privlink's Graph is read-only; manage "
                          "principals with `privlink principal|user` or "
                          "/providers/Microsoft.Privlink/principals.");
  }

  std::optional<PrincipalKind> kind;
  if (collection == "servicePrincipals") kind = PrincipalKind::kServicePrincipal;
  if (collection == "users") kind = PrincipalKind::kUser;

  if (collection == "me" && seg.size() == 3) {
    auto me = byObjectId(caller.principalId);
    if (!me.ok()) return internalError(me.status());
    if (*me && (*me)->kind == PrincipalKind::kUser) return graphJson(200, render(**me));
    return notFound(caller.principalId);
  }
  if (collection == "groups" && seg.size() == 3) {
    return graphJson(200, {{"@odata.context", context}, {"value", json::array()}});
  }
  if (!kind) {
    return graphError(400, "Request_BadRequest",
                      "Unsupported segment '" + collection +
                          "': privlink serves servicePrincipals, users, groups, me and "
                          "directoryObjects/getByIds.");
  }
  if (seg.size() == 4) {
    auto one = byObjectId(seg[3]);
    if (!one.ok()) return internalError(one.status());
    if (*one && (*one)->kind == *kind) return graphJson(200, render(**one));
    if (*kind == PrincipalKind::kUser) {  // users/{userPrincipalName}
      auto all = principals_.list(caller.tenantId);
      if (!all.ok()) return internalError(all.status());
      for (const auto& p : *all) {
        if (p.kind == PrincipalKind::kUser && iequals(p.userPrincipalName, seg[3])) {
          return graphJson(200, render(p));
        }
      }
    }
    return notFound(seg[3]);
  }
  if (seg.size() != 3) return notFound(target.path);

  auto query = parseForm(target.query);
  std::optional<Filter> filter;
  if (auto it = query.find("$filter"); it != query.end() && !it->second.empty()) {
    filter = parseFilter(it->second);
    if (!filter) {
      return graphError(400, "Request_UnsupportedQuery",
                        "Unsupported query '" + it->second +
                            "'. privlink supports servicePrincipalNames/any(c:c eq 'X'), "
                            "appId eq 'X', displayName eq 'X', userPrincipalName eq 'X' and "
                            "id eq 'X'.");
    }
  }
  auto all = principals_.list(caller.tenantId);
  if (!all.ok()) return internalError(all.status());
  json value = json::array();
  for (const auto& p : *all) {
    if (p.kind != *kind) continue;
    if (filter && !matches(p, *filter)) continue;
    value.push_back(render(p));
  }
  return graphJson(200, {{"@odata.context", context}, {"value", value}});
}

}  // namespace privlink::api
