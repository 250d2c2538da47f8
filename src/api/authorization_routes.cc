#include "api/authorization_routes.h"

#include <nlohmann/json.hpp>

#include "api/arm_error.h"
#include "common/resource_id.h"
#include "control/authorization/role_definitions.h"

namespace privlink::api {

using nlohmann::json;
namespace authz = control::authorization;

namespace {

std::string joinPath(const std::vector<std::string>& segs, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < segs.size(); ++i) out += "/" + segs[i];
  return out;
}

// Index of the last "providers" segment followed by a namespace, or npos.
size_t lastProviders(const std::vector<std::string>& segs) {
  size_t p = std::string::npos;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (iequals(segs[i], "providers")) p = i;
  }
  return p;
}

HttpResponse jsonResponse(int status, const json& body) {
  return HttpResponse::json(status, body.dump());
}

std::string queryValue(const std::map<std::string, std::string, CaseInsensitiveLess>& query,
                       const std::string& key) {
  auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

std::string principalTypeOf(const Principal& p) {
  return p.kind == PrincipalKind::kUser ? "User" : "ServicePrincipal";
}

Status missingApiVersion() {
  return Status::InvalidArgument("MissingApiVersionParameter",
                                 "The api-version query parameter (?api-version=) is required "
                                 "for all requests.");
}

}  // namespace

AuthorizationRoutes::AuthorizationRoutes(store::Store& store, PrincipalDirectory& principals)
    : store_(store), principals_(principals), assignments_(store) {}

bool AuthorizationRoutes::owns(const std::vector<std::string>& segs) {
  size_t p = lastProviders(segs);
  if (p == std::string::npos || p + 2 >= segs.size()) return false;
  return iequals(segs[p + 1], "Microsoft.Authorization") &&
         (iequals(segs[p + 2], "roleAssignments") || iequals(segs[p + 2], "roleDefinitions"));
}

HttpResponse AuthorizationRoutes::handle(
    const std::string& method, const std::vector<std::string>& segs,
    const std::map<std::string, std::string, CaseInsensitiveLess>& query, const std::string& body,
    const control::Caller& caller) {
  if (queryValue(query, "api-version").empty()) return armErrorResponse(missingApiVersion());
  size_t p = lastProviders(segs);
  if (iequals(segs[p + 2], "roleDefinitions")) return roleDefinitions(method, segs, p, query);
  return roleAssignments(method, segs, p, query, body, caller);
}

HttpResponse AuthorizationRoutes::roleAssignments(
    const std::string& method, const std::vector<std::string>& segs, size_t p,
    const std::map<std::string, std::string, CaseInsensitiveLess>& query, const std::string& body,
    const control::Caller& caller) {
  size_t tail = segs.size() - (p + 3);  // segments after "roleAssignments"
  std::string scopePath = joinPath(segs, 0, p);
  if (tail > 1) {
    return armErrorResponse(Status::NotFound(
        "NotFound", "No ARM resource or collection is served at '" + joinPath(segs, 0, segs.size()) +
                        "'."));
  }

  if (tail == 0) {  // the collection
    if (method != "GET") return methodNotAllowedResponse(method, "GET");
    auto filter = authz::parseRoleAssignmentFilter(queryValue(query, "$filter"));
    if (!filter.ok()) return armErrorResponse(filter.status());
    Result<std::vector<authz::RoleAssignment>> found = Status::Internal("unset");
    if (scopePath.empty()) {
      found = assignments_.all();
    } else {
      auto scope = ResourceId::parse(scopePath);
      if (!scope.ok()) return armErrorResponse(scope.status());
      found = assignments_.list(*scope, *filter);
    }
    if (!found.ok()) return armErrorResponse(found.status());
    json out = {{"value", json::array()}};
    for (const auto& a : *found) {
      if (scopePath.empty() && filter->principalId && !iequals(a.principalId, *filter->principalId)) {
        continue;
      }
      out["value"].push_back(a.render());
    }
    return jsonResponse(200, out);
  }

  if (scopePath.empty()) {
    return armErrorResponse(Status::InvalidArgument(
        "InvalidScope", "Role assignments need a scope: a subscription, resource group or "
                        "resource id before /providers/Microsoft.Authorization/roleAssignments."));
  }
  auto path = authz::parseRoleAssignmentId(joinPath(segs, 0, segs.size()));
  if (!path.ok()) return armErrorResponse(path.status());

  if (method == "GET" || method == "HEAD") {
    auto got = assignments_.get(*path);
    if (!got.ok()) return armErrorResponse(got.status());
    return jsonResponse(200, got->render());
  }
  if (method == "DELETE") {
    auto removed = assignments_.remove(*path);
    if (!removed.ok()) return armErrorResponse(removed.status());
    if (!removed->has_value()) return HttpResponse::json(204, "");
    return jsonResponse(200, (*removed)->render());
  }
  if (method != "PUT") return methodNotAllowedResponse(method, "GET, PUT, DELETE");

  json request;
  try {
    request = json::parse(body);
  } catch (const json::exception& e) {
    return armErrorResponse(Status::InvalidArgument(
        "InvalidRequestContent",
        std::string("The request content was invalid and could not be deserialized: ") +
            e.what()));
  }
  const json* props = nullptr;
  if (request.is_object() && request.contains("properties") && request["properties"].is_object()) {
    props = &request["properties"];
  }
  auto text = [&](const char* key) -> std::string {
    if (!props || !props->contains(key) || !(*props)[key].is_string()) return "";
    return (*props)[key].get<std::string>();
  };
  authz::NewRoleAssignment create;
  create.path = *path;
  create.roleDefinitionId = text("roleDefinitionId");
  create.principalId = text("principalId");
  create.description = text("description");
  create.createdBy = caller.principalId;
  if (create.roleDefinitionId.empty() || create.principalId.empty()) {
    return armErrorResponse(
        Status::InvalidArgument("InvalidRoleAssignmentRequest",
                                "The request must carry properties.roleDefinitionId and "
                                "properties.principalId.")
            .withTarget(create.roleDefinitionId.empty() ? "properties.roleDefinitionId"
                                                        : "properties.principalId"));
  }
  auto principal = principals_.byObjectId(toLower(create.principalId));
  if (!principal.ok()) return armErrorResponse(principal.status());
  if (!principal->has_value() || !iequals((*principal)->tenantId, caller.tenantId)) {
    return armErrorResponse(Status::InvalidArgument(
        "PrincipalNotFound", "Principal " + create.principalId +
                                 " does not exist in the directory " + caller.tenantId +
                                 ". Check that you have the correct principal ID (privlink "
                                 "principal list / privlink user list)."));
  }
  create.principalType = principalTypeOf(**principal);
  std::string given = text("principalType");
  if (!given.empty() && !iequals(given, create.principalType)) {
    return armErrorResponse(Status::InvalidArgument(
        "UnmatchedPrincipalType", "The PrincipalId '" + create.principalId + "' has type '" +
                                      create.principalType +
                                      "' , which is different from specified PrincipalType '" +
                                      given + "'."));
  }
  auto created = assignments_.create(create);
  if (!created.ok()) return armErrorResponse(created.status());
  return jsonResponse(created->created ? 201 : 200, created->assignment.render());
}

HttpResponse AuthorizationRoutes::roleDefinitions(
    const std::string& method, const std::vector<std::string>& segs, size_t p,
    const std::map<std::string, std::string, CaseInsensitiveLess>& query) {
  if (method != "GET" && method != "HEAD") return methodNotAllowedResponse(method, "GET");
  size_t tail = segs.size() - (p + 3);
  std::string subscription;
  if (p >= 2) subscription = segs[1];
  if (tail == 1) {
    const authz::RoleDefinition* role = authz::findRoleById(segs.back());
    if (!role) {
      return armErrorResponse(Status::NotFound(
          "RoleDefinitionDoesNotExist",
          "The specified role definition with ID '" + segs.back() + "' does not exist."));
    }
    return jsonResponse(200, authz::renderRoleDefinition(*role, subscription));
  }
  if (tail != 0) {
    return armErrorResponse(Status::NotFound(
        "NotFound", "No ARM resource or collection is served at '" + joinPath(segs, 0, segs.size()) +
                        "'."));
  }
  // $filter: roleName eq 'X' (az role assignment create --role X) or type eq 'BuiltInRole'.
  std::string filter = queryValue(query, "$filter");
  std::optional<std::string> roleName;
  bool customOnly = false;
  if (!filter.empty()) {
    std::string lowered = toLower(filter);
    auto quotedValue = [&](size_t start) -> std::optional<std::string> {
      size_t open = filter.find('\'', start);
      size_t close = open == std::string::npos ? open : filter.find('\'', open + 1);
      if (close == std::string::npos) return std::nullopt;
      return filter.substr(open + 1, close - open - 1);
    };
    if (istartsWith(lowered, "rolename eq ")) {
      roleName = quotedValue(12);
      if (!roleName) return armErrorResponse(Status::InvalidArgument("InvalidFilterInQueryString",
                                                                     "Quote the role name: "
                                                                     "roleName eq 'Reader'."));
    } else if (istartsWith(lowered, "type eq ")) {
      auto type = quotedValue(8);
      customOnly = !type || !iequals(*type, "BuiltInRole");
    } else {
      return armErrorResponse(
          Status::InvalidArgument("InvalidFilterInQueryString",
                                  "The filter '" + filter +
                                      "' is not supported. Supported: roleName eq '{name}', type "
                                      "eq 'BuiltInRole'.")
              .withTarget("$filter"));
    }
  }
  json out = {{"value", json::array()}};
  if (!customOnly) {
    for (const auto& role : authz::builtInRoles()) {
      if (roleName && !iequals(role.name, *roleName)) continue;
      out["value"].push_back(authz::renderRoleDefinition(role, subscription));
    }
  }
  return jsonResponse(200, out);
}

}  // namespace privlink::api
