#include "control/authorization/role_assignments.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/guid.h"
#include "control/authorization/role_definitions.h"

namespace privlink::control::authorization {

using nlohmann::json;

namespace {

constexpr std::string_view kMarker = "/providers/Microsoft.Authorization/roleAssignments/";

std::string nowRfc3339() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()) %
                std::chrono::seconds(1);
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros.count()));
  return buf;
}

Status scopeNotFound(const ResourceId& scope) {
  if (scope.isSubscription()) {
    return Status::NotFound("SubscriptionNotFound",
                            "The subscription '" + scope.subscriptionId() + "' could not be found.");
  }
  if (scope.isResourceGroup()) {
    return Status::NotFound("ResourceGroupNotFound",
                            "Resource group '" + scope.resourceGroup() + "' could not be found.");
  }
  std::string where = scope.resourceGroup().empty()
                          ? "subscription '" + scope.subscriptionId() + "'"
                          : "resource group '" + scope.resourceGroup() + "'";
  return Status::NotFound("ResourceNotFound", "The Resource '" + scope.type() + "/" +
                                                  scope.name() + "' under " + where +
                                                  " was not found.");
}

Status notFound(const RoleAssignmentPath& path) {
  return Status::NotFound("RoleAssignmentNotFound",
                          "The role assignment '" + path.name + "' is not found.");
}

bool matchesFilter(const RoleAssignment& a, const RoleAssignmentFilter& f) {
  if (f.principalId && !iequals(a.principalId, *f.principalId)) return false;
  if (f.roleGuid && !iequals(a.roleGuid, *f.roleGuid)) return false;
  return true;
}

Result<std::vector<RoleAssignment>> decodeAll(const std::vector<store::Document>& docs) {
  std::vector<RoleAssignment> out;
  out.reserve(docs.size());
  for (const auto& doc : docs) {
    ASSIGN_OR_RETURN(RoleAssignment a, RoleAssignment::fromDocument(doc));
    out.push_back(std::move(a));
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// "'value'" -> value
std::optional<std::string> quoted(std::string_view s) {
  std::string t = trim(s);
  if (t.size() < 2 || t.front() != '\'' || t.back() != '\'') return std::nullopt;
  return t.substr(1, t.size() - 2);
}

}  // namespace

std::string RoleAssignmentPath::id() const {
  return scope.toString() + std::string(kMarker) + name;
}

Result<RoleAssignmentPath> parseRoleAssignmentId(std::string_view id) {
  std::string lowered = toLower(id);
  size_t at = lowered.rfind(toLower(kMarker));
  if (at == std::string::npos) {
    return Status::InvalidArgument(
        "InvalidResourceId",
        "'" + std::string(id) +
            "' is not a role assignment id; expected "
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}.");
  }
  RoleAssignmentPath path;
  ASSIGN_OR_RETURN(path.scope, ResourceId::parse(id.substr(0, at)));
  std::string_view name = id.substr(at + kMarker.size());
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  if (!isGuid(name)) {
    return Status::InvalidArgument("InvalidRoleAssignmentId",
                                   "The role assignment ID '" + std::string(name) +
                                       "' is not valid. The role assignment ID must be a GUID.");
  }
  path.name = toLower(name);
  return path;
}

bool scopeCovers(std::string_view scopeKey, std::string_view targetKey) {
  if (scopeKey.size() > targetKey.size()) return false;
  if (targetKey.substr(0, scopeKey.size()) != scopeKey) return false;
  return targetKey.size() == scopeKey.size() || targetKey[scopeKey.size()] == '/';
}

Result<RoleAssignmentFilter> parseRoleAssignmentFilter(std::string_view filter) {
  RoleAssignmentFilter out;
  std::string text = trim(filter);
  if (text.empty()) return out;
  auto unsupported = [&](std::string_view part) {
    return Status::InvalidArgument(
               "InvalidFilterInQueryString",
               "The filter '" + std::string(part) +
                   "' is not supported. Supported filters: atScope(), principalId eq '{id}', "
                   "assignedTo('{id}'), roleDefinitionId eq '{id}', joined with 'and'.")
        .withTarget("$filter");
  };
  std::string lowered = toLower(text);
  size_t start = 0;
  while (start <= text.size()) {
    size_t next = lowered.find(" and ", start);
    std::string part =
        trim(std::string_view(text).substr(start, next == std::string::npos ? std::string::npos
                                                                            : next - start));
    std::string lpart = toLower(part);
    if (lpart == "atscope()") {
      out.atScope = true;
    } else if (istartsWith(lpart, "principalid eq ")) {
      auto value = quoted(std::string_view(part).substr(15));
      if (!value) return unsupported(part);
      out.principalId = toLower(*value);
    } else if (istartsWith(lpart, "assignedto(") && lpart.back() == ')') {
      auto value = quoted(std::string_view(part).substr(11, part.size() - 12));
      if (!value) return unsupported(part);
      out.principalId = toLower(*value);
    } else if (istartsWith(lpart, "roledefinitionid eq ")) {
      auto value = quoted(std::string_view(part).substr(20));
      auto guid = value ? roleGuidOf(*value) : std::nullopt;
      if (!guid) return unsupported(part);
      out.roleGuid = *guid;
    } else {
      return unsupported(part);
    }
    if (next == std::string::npos) break;
    start = next + 5;
  }
  return out;
}

json RoleAssignment::render() const {
  json props = {{"roleDefinitionId", roleDefinitionId},
                {"principalId", principalId},
                {"principalType", principalType},
                {"scope", scope},
                {"condition", nullptr},
                {"conditionVersion", nullptr},
                {"createdOn", createdOn},
                {"updatedOn", updatedOn},
                {"createdBy", createdBy},
                {"updatedBy", createdBy},
                {"delegatedManagedIdentityResourceId", nullptr},
                {"description", description.empty() ? json(nullptr) : json(description)}};
  return {{"id", id},
          {"name", name},
          {"type", "Microsoft.Authorization/roleAssignments"},
          {"properties", std::move(props)}};
}

Result<RoleAssignment> RoleAssignment::fromDocument(const store::Document& doc) {
  try {
    const json& p = doc.body.at("properties");
    RoleAssignment a;
    a.id = doc.id;
    ASSIGN_OR_RETURN(RoleAssignmentPath path, parseRoleAssignmentId(doc.id));
    a.name = path.name;
    a.scope = p.value("scope", path.scope.toString());
    a.roleDefinitionId = p.at("roleDefinitionId").get<std::string>();
    auto guid = roleGuidOf(a.roleDefinitionId);
    if (!guid) return Status::Internal("Stored role assignment " + doc.id + " has a bad role id.");
    a.roleGuid = *guid;
    a.principalId = toLower(p.at("principalId").get<std::string>());
    a.principalType = p.value("principalType", "ServicePrincipal");
    if (p.contains("description") && p["description"].is_string()) {
      a.description = p["description"].get<std::string>();
    }
    a.createdOn = p.value("createdOn", "");
    a.updatedOn = p.value("updatedOn", a.createdOn);
    a.createdBy = p.value("createdBy", "");
    return a;
  } catch (const json::exception& e) {
    return Status::Internal("Stored role assignment " + doc.id + " is malformed: " + e.what());
  }
}

Result<std::vector<RoleAssignment>> assignmentsOf(store::ReadView& view,
                                                  std::string_view principalId) {
  ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(kRoleAssignmentType));
  ASSIGN_OR_RETURN(std::vector<RoleAssignment> all, decodeAll(docs));
  std::vector<RoleAssignment> out;
  for (auto& a : all) {
    if (iequals(a.principalId, principalId)) out.push_back(std::move(a));
  }
  return out;
}

Result<RoleAssignmentStore::Created> RoleAssignmentStore::create(const NewRoleAssignment& request) {
  auto guid = roleGuidOf(request.roleDefinitionId);
  const RoleDefinition* role = guid ? findRoleById(*guid) : nullptr;
  if (!role) {
    return Status::InvalidArgument("RoleDefinitionDoesNotExist",
                                   "The specified role definition with ID '" +
                                       (guid ? *guid : request.roleDefinitionId) +
                                       "' does not exist. Use one of the built-in roles: Owner, "
                                       "Contributor, Reader, Network Contributor, Private DNS "
                                       "Zone Contributor.")
        .withTarget("properties.roleDefinitionId");
  }
  const ResourceId& scope = request.path.scope;
  RoleAssignment a;
  a.id = request.path.id();
  a.name = request.path.name;
  a.scope = scope.toString();
  a.roleGuid = role->id;
  a.roleDefinitionId = roleDefinitionResourceId(scope.subscriptionId(), role->id);
  a.principalId = toLower(request.principalId);
  a.principalType = request.principalType;
  a.description = request.description;
  a.createdOn = a.updatedOn = nowRfc3339();
  a.createdBy = request.createdBy;

  ASSIGN_OR_RETURN(ResourceId assignmentId, ResourceId::parse(a.id));
  Created out;
  Status st = store_.write([&](store::Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(auto scopeDoc, txn.get(scope.key()));
    if (!scopeDoc) return scopeNotFound(scope);
    ASSIGN_OR_RETURN(auto existingDoc, txn.get(assignmentId.key()));
    if (existingDoc) {
      ASSIGN_OR_RETURN(RoleAssignment existing, RoleAssignment::fromDocument(*existingDoc));
      if (existing.principalId == a.principalId && existing.roleGuid == a.roleGuid &&
          iequals(existing.scope, a.scope)) {
        out.assignment = std::move(existing);
        out.created = false;
        return Status::Ok();
      }
      return Status::Conflict("RoleAssignmentUpdateNotPermitted",
                              "Tenant ID, application ID, principal ID, and scope are not allowed "
                              "to be updated. Delete role assignment '" +
                                  a.name + "' and create a new one.");
    }
    ASSIGN_OR_RETURN(std::vector<RoleAssignment> mine, assignmentsOf(txn, a.principalId));
    for (const auto& other : mine) {
      if (other.roleGuid == a.roleGuid && iequals(other.scope, a.scope)) {
        return Status::Conflict("RoleAssignmentExists",
                                "The role assignment already exists. The ID of the existing role "
                                "assignment is " +
                                    other.name + ".");
      }
    }
    json props = {{"roleDefinitionId", a.roleDefinitionId}, {"principalId", a.principalId},
                  {"principalType", a.principalType},       {"scope", a.scope},
                  {"createdOn", a.createdOn},               {"updatedOn", a.updatedOn},
                  {"createdBy", a.createdBy}};
    if (!a.description.empty()) props["description"] = a.description;
    ASSIGN_OR_RETURN(store::Document doc,
                     txn.put(a.id, kRoleAssignmentType, json{{"properties", std::move(props)}}));
    ASSIGN_OR_RETURN(out.assignment, RoleAssignment::fromDocument(doc));
    out.created = true;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<RoleAssignment> RoleAssignmentStore::get(const RoleAssignmentPath& path) {
  ASSIGN_OR_RETURN(ResourceId id, ResourceId::parse(path.id()));
  std::optional<RoleAssignment> found;
  Status st = store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(auto doc, view.get(id.key()));
    if (!doc || doc->type != kRoleAssignmentType) return notFound(path);
    ASSIGN_OR_RETURN(found, RoleAssignment::fromDocument(*doc));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return *found;
}

Result<std::optional<RoleAssignment>> RoleAssignmentStore::remove(const RoleAssignmentPath& path) {
  ASSIGN_OR_RETURN(ResourceId id, ResourceId::parse(path.id()));
  std::optional<RoleAssignment> removed;
  Status st = store_.write([&](store::Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(auto doc, txn.get(id.key()));
    if (!doc || doc->type != kRoleAssignmentType) return Status::Ok();
    ASSIGN_OR_RETURN(removed, RoleAssignment::fromDocument(*doc));
    return txn.erase(doc->key);
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<RoleAssignment>> RoleAssignmentStore::list(const ResourceId& scope,
                                                              const RoleAssignmentFilter& filter) {
  std::vector<RoleAssignment> out;
  std::string scopeKey = scope.key();
  Status st = store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(auto scopeDoc, view.get(scopeKey));
    if (!scopeDoc) return scopeNotFound(scope);
    ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(kRoleAssignmentType));
    for (const auto& doc : docs) {
      ASSIGN_OR_RETURN(RoleAssignment a, RoleAssignment::fromDocument(doc));
      std::string aKey = toLower(a.scope);
      bool above = scopeCovers(aKey, scopeKey);
      bool below = scopeCovers(scopeKey, aKey);
      if (!(above || (below && !filter.atScope))) continue;
      if (!matchesFilter(a, filter)) continue;
      out.push_back(std::move(a));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<RoleAssignment>> RoleAssignmentStore::forPrincipal(
    std::string_view principalId) {
  std::vector<RoleAssignment> out;
  Status st = store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(out, assignmentsOf(view, principalId));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<RoleAssignment>> RoleAssignmentStore::all() {
  std::vector<RoleAssignment> out;
  Status st = store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(kRoleAssignmentType));
    ASSIGN_OR_RETURN(out, decodeAll(docs));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<size_t> RoleAssignmentStore::removeForPrincipal(store::Transaction& txn,
                                                       std::string_view principalId) {
  ASSIGN_OR_RETURN(std::vector<store::Document> docs, txn.listType(kRoleAssignmentType));
  size_t removed = 0;
  for (const auto& doc : docs) {
    ASSIGN_OR_RETURN(RoleAssignment a, RoleAssignment::fromDocument(doc));
    if (!iequals(a.principalId, principalId)) continue;
    RETURN_IF_ERROR(txn.erase(doc.key));
    ++removed;
  }
  return removed;
}

}  // namespace privlink::control::authorization
