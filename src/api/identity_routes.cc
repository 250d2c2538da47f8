#include "api/identity_routes.h"

#include <nlohmann/json.hpp>

#include "api/arm_error.h"
#include "common/guid.h"
#include "common/resource_id.h"
#include "control/authorization/role_assignments.h"
#include "control/resource_service.h"

namespace privlink::api {

using nlohmann::json;

namespace {

HttpResponse jsonResponse(int status, const json& body) {
  return HttpResponse::json(status, body.dump());
}

json render(const Principal& p) {
  json out = {{"objectId", p.objectId},
              {"displayName", p.displayName},
              {"principalType", p.kind == PrincipalKind::kUser ? "User" : "ServicePrincipal"},
              {"tenantId", p.tenantId},
              {"isAdmin", p.isAdmin}};
  if (p.kind == PrincipalKind::kUser) {
    out["userPrincipalName"] = p.userPrincipalName;
  } else {
    out["appId"] = p.appId;
  }
  return out;
}

Result<json> parseObject(const std::string& body, bool allowEmpty) {
  bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    if (allowEmpty) return json::object();
    return Status::InvalidArgument("InvalidRequestContent",
                                   "The request content is empty. Send a JSON object.");
  }
  try {
    json parsed = json::parse(body);
    if (!parsed.is_object()) {
      return Status::InvalidArgument("InvalidRequestContent",
                                     "The request content must be a JSON object.");
    }
    return parsed;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(
        "InvalidRequestContent",
        std::string("The request content could not be deserialized: ") + e.what());
  }
}

std::string stringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Azure-style client secret: 40 characters from the URL-safe base64 alphabet, never starting with
// '-' (az and most CLIs would read `-p -abc` as an option).
std::string newSecret() {
  std::string secret = randomBase64Url(30);
  while (secret.front() == '-') secret = randomBase64Url(30);
  return secret;
}

Status notFound(const std::string& ref) {
  return Status::NotFound("PrincipalNotFound",
                          "No service principal or user '" + ref +
                              "' exists in this directory. List them with `privlink principal "
                              "list` and `privlink user list`.");
}

Status validUpn(const std::string& upn) {
  size_t at = upn.find('@');
  bool ok = !upn.empty() && upn.size() <= 113 && at != std::string::npos && at > 0 &&
            at + 1 < upn.size() && upn.find('@', at + 1) == std::string::npos &&
            upn.find_first_of(" \t\r\n/\\'\"") == std::string::npos;
  if (ok) return Status::Ok();
  return Status::InvalidArgument("InvalidUserPrincipalName",
                                 "The user principal name '" + upn +
                                     "' is not valid; use the form name@domain, e.g. "
                                     "alice@privlink.local.")
      .withTarget("userPrincipalName");
}

}  // namespace

IdentityRoutes::IdentityRoutes(store::Store& store, PrincipalDirectory& principals)
    : store_(store), directory_(principals) {}

bool IdentityRoutes::owns(const std::vector<std::string>& segs) {
  if (segs.size() < 3 || !iequals(segs[0], "providers")) return false;
  return (iequals(segs[1], "Microsoft.Privlink") && iequals(segs[2], "principals")) ||
         (iequals(segs[1], "Microsoft.Subscription") && iequals(segs[2], "aliases"));
}

HttpResponse IdentityRoutes::handle(const std::string& method,
                                    const std::vector<std::string>& segs, const std::string& body,
                                    const control::Caller& caller) {
  if (iequals(segs[1], "Microsoft.Privlink")) return principals(method, segs, body, caller);
  return aliases(method, segs, body, caller);
}

Result<Principal> IdentityRoutes::resolve(const std::string& ref) {
  if (isGuid(ref)) {
    ASSIGN_OR_RETURN(auto byObject, directory_.byObjectId(toLower(ref)));
    if (byObject) return *byObject;
    ASSIGN_OR_RETURN(auto byApp, directory_.byAppId(ref));
    if (byApp) return *byApp;
  }
  if (ref.find('@') != std::string::npos) {
    ASSIGN_OR_RETURN(auto byUpn, directory_.byUserPrincipalName(ref));
    if (byUpn) return *byUpn;
  }
  std::vector<Principal> named;
  Status st = store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(auto docs, view.listType(kPrincipalType));
    for (const auto& doc : docs) {
      auto p = Principal::fromBody(doc.body);
      if (p.ok() && p->displayName == ref) named.push_back(*p);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (named.size() == 1) return named.front();
  if (named.size() > 1) {
    return Status::InvalidArgument("AmbiguousPrincipal",
                                   "More than one principal is named '" + ref +
                                       "'; use its object id or app id instead.");
  }
  return notFound(ref);
}

HttpResponse IdentityRoutes::principals(const std::string& method,
                                        const std::vector<std::string>& segs,
                                        const std::string& body, const control::Caller& caller) {
  if (segs.size() == 3) {
    if (method == "GET") {
      json out = {{"value", json::array()}};
      Status st = store_.read([&](store::ReadView& view) -> Status {
        ASSIGN_OR_RETURN(auto docs, view.listType(kPrincipalType));
        for (const auto& doc : docs) {
          ASSIGN_OR_RETURN(Principal p, Principal::fromBody(doc.body));
          if (iequals(p.tenantId, caller.tenantId)) out["value"].push_back(render(p));
        }
        return Status::Ok();
      });
      if (!st.ok()) return armErrorResponse(st);
      return jsonResponse(200, out);
    }
    if (method != "POST") return methodNotAllowedResponse(method, "GET, POST");
    auto request = parseObject(body, false);
    if (!request.ok()) return armErrorResponse(request.status());
    std::string kind = stringField(*request, "kind");
    std::string displayName = stringField(*request, "displayName");
    Principal created;
    json out;
    if (iequals(kind, "ServicePrincipal")) {
      if (displayName.empty() || displayName.size() > 120) {
        return armErrorResponse(
            Status::InvalidArgument("InvalidDisplayName",
                                    "A service principal needs a displayName of 1-120 "
                                    "characters, e.g. {\"kind\":\"ServicePrincipal\","
                                    "\"displayName\":\"ci\"}.")
                .withTarget("displayName"));
      }
      std::string secret = newSecret();
      created = newServicePrincipal(caller.tenantId, displayName, secret, false);
      out = render(created);
      out["secret"] = secret;
    } else if (iequals(kind, "User")) {
      std::string upn = stringField(*request, "userPrincipalName");
      Status valid = validUpn(upn);
      if (!valid.ok()) return armErrorResponse(valid);
      auto existing = directory_.byUserPrincipalName(upn);
      if (!existing.ok()) return armErrorResponse(existing.status());
      if (existing->has_value()) {
        return armErrorResponse(Status::AlreadyExists(
            "PrincipalAlreadyExists", "A user '" + upn + "' already exists; delete it first or "
                                                          "reset its password."));
      }
      std::string password = stringField(*request, "password");
      bool generated = password.empty();
      if (generated) password = newSecret();
      if (password.size() < 8) {
        return armErrorResponse(Status::InvalidArgument(
                                    "PasswordTooShort",
                                    "A user password needs at least 8 characters.")
                                    .withTarget("password"));
      }
      created = newUser(caller.tenantId, upn, displayName.empty() ? upn : displayName, password,
                        false);
      out = render(created);
      if (generated) out["password"] = password;
    } else {
      return armErrorResponse(
          Status::InvalidArgument("InvalidPrincipalKind",
                                  "kind must be 'ServicePrincipal' or 'User', not '" + kind + "'.")
              .withTarget("kind"));
    }
    Status stored = directory_.put(created);
    if (!stored.ok()) return armErrorResponse(stored);
    return jsonResponse(201, out);
  }

  auto principal = resolve(segs[3]);
  if (!principal.ok()) return armErrorResponse(principal.status());
  if (!iequals(principal->tenantId, caller.tenantId)) return armErrorResponse(notFound(segs[3]));

  if (segs.size() == 4) {
    if (method == "GET") return jsonResponse(200, render(*principal));
    if (method != "DELETE") return methodNotAllowedResponse(method, "GET, DELETE");
    if (principal->isAdmin) {
      return armErrorResponse(Status::Conflict(
          "CannotDeleteAdmin",
          "The bootstrap admin principal cannot be deleted. Reset its secret by deleting "
          "admin.json in the state directory and restarting privlinkd."));
    }
    size_t removedAssignments = 0;
    control::authorization::RoleAssignmentStore assignments(store_);
    Status st = store_.write([&](store::Transaction& txn) -> Status {
      ASSIGN_OR_RETURN(removedAssignments,
                       assignments.removeForPrincipal(txn, principal->objectId));
      return txn.erase(principalKey(principal->objectId));
    });
    if (!st.ok()) return armErrorResponse(st);
    json out = render(*principal);
    out["removedRoleAssignments"] = removedAssignments;
    return jsonResponse(200, out);
  }

  if (segs.size() == 5 && iequals(segs[4], "resetSecret")) {
    if (method != "POST") return methodNotAllowedResponse(method, "POST");
    auto request = parseObject(body, true);
    if (!request.ok()) return armErrorResponse(request.status());
    std::string secret = stringField(*request, "password");
    bool generated = secret.empty();
    if (generated) secret = newSecret();
    if (secret.size() < 8) {
      return armErrorResponse(
          Status::InvalidArgument("PasswordTooShort", "A password needs at least 8 characters.")
              .withTarget("password"));
    }
    Principal updated = *principal;
    updated.secretHash = hashSecret(secret);
    Status st = directory_.put(updated);
    if (!st.ok()) return armErrorResponse(st);
    json out = render(updated);
    if (generated) out[updated.kind == PrincipalKind::kUser ? "password" : "secret"] = secret;
    return jsonResponse(200, out);
  }
  return armErrorResponse(Status::NotFound(
      "NotFound", "No directory operation is served at this path; use "
                  "/providers/Microsoft.Privlink/principals[/{id}[/resetSecret]]."));
}

HttpResponse IdentityRoutes::aliases(const std::string& method,
                                     const std::vector<std::string>& segs, const std::string& body,
                                     const control::Caller& caller) {
  if (segs.size() != 4) {
    return armErrorResponse(Status::NotFound(
        "NotFound", "Use /providers/Microsoft.Subscription/aliases/{aliasName}."));
  }
  const std::string& alias = segs[3];
  Status name = control::validateResourceName(alias);
  if (!name.ok()) return armErrorResponse(name);
  std::string aliasKey = "/privlink/subscriptionaliases/" + toLower(alias);
  auto renderAlias = [&](const std::string& subscriptionId) {
    return json{{"id", "/providers/Microsoft.Subscription/aliases/" + alias},
                {"name", alias},
                {"type", "Microsoft.Subscription/aliases"},
                {"properties",
                 {{"subscriptionId", subscriptionId}, {"provisioningState", "Succeeded"}}}};
  };

  if (method == "GET") {
    std::string subscriptionId;
    Status st = store_.read([&](store::ReadView& view) -> Status {
      ASSIGN_OR_RETURN(auto doc, view.get(aliasKey));
      if (!doc) {
        return Status::NotFound("ResourceNotFound",
                                "The subscription alias '" + alias + "' was not found.");
      }
      subscriptionId = doc->body.value("subscriptionId", "");
      return Status::Ok();
    });
    if (!st.ok()) return armErrorResponse(st);
    return jsonResponse(200, renderAlias(subscriptionId));
  }
  if (method != "PUT") return methodNotAllowedResponse(method, "GET, PUT");
  auto request = parseObject(body, true);
  if (!request.ok()) return armErrorResponse(request.status());
  json props = request->contains("properties") && (*request)["properties"].is_object()
                   ? (*request)["properties"]
                   : json::object();
  std::string displayName = stringField(props, "displayName");
  if (displayName.empty()) displayName = alias;
  std::string subscriptionId = stringField(props, "subscriptionId");
  if (!subscriptionId.empty() && !isGuid(subscriptionId)) {
    return armErrorResponse(
        Status::InvalidArgument("InvalidSubscriptionId",
                                "properties.subscriptionId must be a GUID when given.")
            .withTarget("properties.subscriptionId"));
  }
  if (subscriptionId.empty()) subscriptionId = newGuid();
  subscriptionId = toLower(subscriptionId);
  bool created = false;
  Status st = store_.write([&](store::Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(auto existing, txn.get(aliasKey));
    if (existing) {
      subscriptionId = existing->body.value("subscriptionId", "");
      return Status::Ok();
    }
    std::string subKey = ResourceId::subscription(subscriptionId).key();
    ASSIGN_OR_RETURN(auto clash, txn.get(subKey));
    if (clash) {
      return Status::AlreadyExists("SubscriptionAlreadyExists",
                                   "The subscription '" + subscriptionId + "' already exists.");
    }
    RETURN_IF_ERROR(txn.put("/subscriptions/" + subscriptionId, control::kSubscriptionDocType,
                            json{{"subscriptionId", subscriptionId},
                                 {"tenantId", caller.tenantId},
                                 {"displayName", displayName},
                                 {"state", "Enabled"}})
                        .status());
    RETURN_IF_ERROR(txn.put(aliasKey, kSubscriptionAliasType,
                            json{{"alias", alias}, {"subscriptionId", subscriptionId}})
                        .status());
    created = true;
    return Status::Ok();
  });
  if (!st.ok()) return armErrorResponse(st);
  return jsonResponse(created ? 201 : 200, renderAlias(subscriptionId));
}

}  // namespace privlink::api
