#include "control/resource_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <exception>
#include <utility>

#include "common/guid.h"

namespace privlink::control {

using nlohmann::json;
using store::Document;

namespace {

constexpr size_t kMaxPageSize = 1000;
constexpr size_t kDefaultPageSize = 100;
constexpr size_t kMaxTags = 50;

// Runs fn and turns exceptions (a kind reading a JSON value of the wrong type, a bug) into
// Status values at the edge of the engine.
template <typename Fn>
Status guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const json::exception& e) {
    return Status::InvalidArgument(
        "InvalidRequestContent",
        std::string("The request content has a value of the wrong type or shape: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("Unexpected failure while processing the request: ") +
                            e.what());
  }
}

std::string nowRfc3339() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string hexEncode(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> hexDecode(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = nibble(s[i]);
    int lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// W/"abc", "abc" and abc all name the same etag.
std::string bareEtag(std::string_view etag) {
  while (!etag.empty() && std::isspace(static_cast<unsigned char>(etag.front()))) {
    etag.remove_prefix(1);
  }
  while (!etag.empty() && std::isspace(static_cast<unsigned char>(etag.back()))) {
    etag.remove_suffix(1);
  }
  if (etag.size() >= 2 && (etag[0] == 'W' || etag[0] == 'w') && etag[1] == '/') {
    etag.remove_prefix(2);
  }
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

bool etagMatches(std::string_view ifMatch, std::string_view current) {
  std::string want = bareEtag(current);
  size_t start = 0;
  while (start <= ifMatch.size()) {
    size_t comma = ifMatch.find(',', start);
    std::string_view one = ifMatch.substr(start, comma == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : comma - start);
    std::string bare = bareEtag(one);
    if (bare == "*" || bare == want) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

Status checkPreconditions(const Preconditions& pre, const std::optional<Document>& existing,
                          const ResourceId& id) {
  if (pre.ifMatch) {
    if (!existing) {
      return Status::PreconditionFailed(
          "PreconditionFailed",
          "The resource '" + id.toString() + "' does not exist, so the If-Match condition '" +
              *pre.ifMatch + "' cannot be met. Remove the If-Match header to create it.");
    }
    if (!etagMatches(*pre.ifMatch, existing->etag)) {
      return Status::PreconditionFailed(
          "PreconditionFailed", "The If-Match etag '" + *pre.ifMatch +
                                    "' does not match the current etag " + existing->etag +
                                    " of resource '" + existing->id +
                                    "'. GET the resource and retry with its current etag.");
    }
  }
  if (pre.ifNoneMatchStar && existing) {
    return Status::PreconditionFailed(
        "PreconditionFailed", "The resource '" + existing->id +
                                  "' already exists and the request has If-None-Match: *. "
                                  "Remove the header to update it.");
  }
  return Status::Ok();
}

Status checkTags(const json& tags) {
  if (!tags.is_object()) {
    return Status::InvalidArgument("InvalidRequestContent",
                                   "'tags' must be a JSON object of string values.")
        .withTarget("tags");
  }
  if (tags.size() > kMaxTags) {
    return Status::InvalidArgument("InvalidTagCount", "A resource can have at most 50 tags; " +
                                                          std::to_string(tags.size()) +
                                                          " were given.")
        .withTarget("tags");
  }
  for (const auto& [name, value] : tags.items()) {
    if (!value.is_string()) {
      return Status::InvalidArgument("InvalidRequestContent",
                                     "The value of tag '" + name + "' must be a string.")
          .withTarget("tags." + name);
    }
    if (name.empty() || name.size() > 512) {
      return Status::InvalidArgument("InvalidTagNameLength",
                                     "Tag names must be 1 to 512 characters long.")
          .withTarget("tags");
    }
  }
  return Status::Ok();
}

bool isNameChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '.' || c == '-'; }

// "Microsoft.Network/virtualNetworks/v1/subnets/s1" for ResourceNotFound messages.
std::string typedName(const ResourceId& id) {
  std::string out = id.providerNamespace();
  for (const auto& seg : id.segments()) out += "/" + seg.type + "/" + seg.name;
  return out;
}

Status resourceNotFound(const ResourceId& id) {
  std::string where = id.resourceGroup().empty()
                          ? "subscription '" + id.subscriptionId() + "'"
                          : "resource group '" + id.resourceGroup() + "'";
  return Status::NotFound("ResourceNotFound", "The Resource '" + typedName(id) + "' under " +
                                                  where + " was not found.");
}

// Keys of the resources whose kind put() is running on this thread (store writes are serialised,
// and a kind's put runs inside one): a kind may create children of the resource it is creating
// (a VNet's inline subnets) through putWithin() before the engine has stored the parent.
thread_local std::vector<std::string> tPutsInProgress;

struct PutInProgress {
  explicit PutInProgress(std::string key) { tPutsInProgress.push_back(std::move(key)); }
  ~PutInProgress() { tPutsInProgress.pop_back(); }
  PutInProgress(const PutInProgress&) = delete;
  PutInProgress& operator=(const PutInProgress&) = delete;
};

bool putInProgress(const std::string& key) {
  return std::find(tPutsInProgress.begin(), tPutsInProgress.end(), key) != tPutsInProgress.end();
}

Status invalidBody(const char* what) {
  return Status::InvalidArgument(
      "InvalidRequestContent",
      std::string("The request content must be a JSON object describing the ") + what + ".");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Names

Status validateResourceName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 80;
  if (ok) {
    ok = std::isalnum(static_cast<unsigned char>(name.front())) &&
         (std::isalnum(static_cast<unsigned char>(name.back())) || name.back() == '_');
    for (unsigned char c : name) ok = ok && isNameChar(c);
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
             "InvalidResourceName",
             "Resource name '" + std::string(name) +
                 "' is invalid. The name must be 1 to 80 characters long, begin with a letter or "
                 "digit, end with a letter, digit or underscore, and contain only letters, "
                 "digits, underscores, periods and hyphens.")
      .withTarget("name");
}

Status validateResourceGroupName(std::string_view name) {
  std::string bad;
  for (unsigned char c : name) {
    if (!(isNameChar(c) || c == '(' || c == ')' || c >= 0x80)) bad.push_back(static_cast<char>(c));
  }
  if (!name.empty() && name.size() <= 90 && bad.empty() && name.back() != '.') {
    return Status::Ok();
  }
  std::string message = "The provided resource group name '" + std::string(name) + "' is invalid";
  if (!bad.empty()) message += ": it has these invalid characters: '" + bad + "'";
  message +=
      ". The name must be 1 to 90 characters long, must not end with '.', and can only contain "
      "letters, digits, '-', '.', '(', ')' or '_'.";
  return Status::InvalidArgument("InvalidResourceGroup", message).withTarget("resourceGroupName");
}

Status ResourceKind::validateName(std::string_view name) const {
  return validateResourceName(name);
}

// ---------------------------------------------------------------------------------------------
// Registration

ResourceService::ResourceService(store::Store& store, ProvisioningTracker& tracker,
                                 ControlConfig config)
    : store_(store), tracker_(tracker), config_(std::move(config)) {}

void ResourceService::registerKind(std::unique_ptr<ResourceKind> kind) {
  kinds_.push_back(std::move(kind));
}

const ResourceKind* ResourceService::kindFor(std::string_view type) const {
  return findKind(type);
}

ResourceKind* ResourceService::findKind(std::string_view type) const {
  for (const auto& kind : kinds_) {
    if (iequals(kind->type(), type)) return kind.get();
  }
  return nullptr;
}

ResourceKind* ResourceService::requireKind(const ResourceId& id, Status* error) const {
  std::string type = id.type();
  if (ResourceKind* kind = findKind(type)) return kind;
  std::string supported;
  for (const auto& kind : kinds_) {
    std::string_view t = kind->type();
    if (istartsWith(t, id.providerNamespace() + "/")) {
      if (!supported.empty()) supported += ", ";
      supported += std::string(t.substr(id.providerNamespace().size() + 1));
    }
  }
  std::string message = "The resource type '" + type + "' is not supported.";
  if (!supported.empty()) {
    message += " Supported types in namespace '" + id.providerNamespace() + "': " + supported + ".";
  } else {
    message += " privlink does not serve the namespace '" + id.providerNamespace() + "'.";
  }
  *error = Status::InvalidArgument("InvalidResourceType", message);
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Existence checks

Status ResourceService::checkScope(store::ReadView& view, const ResourceId& id) const {
  ASSIGN_OR_RETURN(auto sub, view.get(ResourceId::subscription(id.subscriptionId()).key()));
  if (!sub) {
    return Status::NotFound("SubscriptionNotFound",
                            "The subscription '" + id.subscriptionId() + "' could not be found.");
  }
  if (!id.resourceGroup().empty() && !id.isResourceGroup()) {
    ASSIGN_OR_RETURN(auto group, view.get(ResourceId::resourceGroup(id.subscriptionId(),
                                                                    id.resourceGroup())
                                              .key()));
    if (!group) {
      return Status::NotFound("ResourceGroupNotFound",
                              "Resource group '" + id.resourceGroup() + "' could not be found.");
    }
  }
  return Status::Ok();
}

Status ResourceService::checkParent(store::ReadView& view, const ResourceId& id) const {
  std::optional<ResourceId> parent = id.parent();
  if (!parent || parent->isSubscription() || parent->isResourceGroup()) return Status::Ok();
  if (putInProgress(parent->key())) return Status::Ok();
  ASSIGN_OR_RETURN(auto doc, view.get(parent->key()));
  if (!doc) {
    return Status::NotFound("ParentResourceNotFound",
                            "Failed to perform 'write' on resource(s) of type '" + id.type() +
                                "', because the parent resource '" + parent->toString() +
                                "' could not be found.");
  }
  return Status::Ok();
}

std::string ResourceService::locationOf(store::ReadView& view, const Document& doc) const {
  if (doc.body.contains("location") && doc.body["location"].is_string()) {
    return doc.body["location"].get<std::string>();
  }
  auto id = ResourceId::parse(doc.id);
  if (id.ok()) {
    for (auto parent = id->parent(); parent && !parent->isSubscription();
         parent = parent->parent()) {
      auto found = view.get(parent->key());
      if (found.ok() && *found && (*found)->body.contains("location") &&
          (*found)->body["location"].is_string()) {
        return (*found)->body["location"].get<std::string>();
      }
    }
  }
  return config_.defaultLocation;
}

Result<std::string> ResourceService::recordOperation(store::Transaction& txn, const ResourceId& id,
                                                     const std::string& key, bool isDelete,
                                                     const std::string& location) {
  std::string opId = newGuid();
  json body = {{"resourceId", id.toString()}, {"resourceKey", key},     {"isDelete", isDelete},
               {"location", location},        {"startTime", nowRfc3339()}};
  ASSIGN_OR_RETURN(auto doc, txn.put(std::string(kOperationKeyPrefix) + opId, kOperationType,
                                     std::move(body)));
  (void)doc;
  return opId;
}

// ---------------------------------------------------------------------------------------------
// Rendering

json ResourceService::render(store::ReadView& view, const Document& doc) const {
  json body = doc.body.is_object() ? doc.body : json::object();
  body["id"] = doc.id;
  auto id = ResourceId::parse(doc.id);

  if (doc.type == kSubscriptionDocType) {
    std::string sub = id.ok() ? id->subscriptionId() : doc.key.substr(doc.key.rfind('/') + 1);
    if (!body.contains("subscriptionId")) body["subscriptionId"] = sub;
    if (!body.contains("state")) body["state"] = "Enabled";
    if (!body.contains("displayName")) body["displayName"] = sub;
    if (body.contains("tenantId") && !body.contains("homeTenantId")) {
      body["homeTenantId"] = body["tenantId"];
    }
    if (!body.contains("managedByTenants")) body["managedByTenants"] = json::array();
    if (!body.contains("authorizationSource")) body["authorizationSource"] = "RoleBased";
    if (!body.contains("subscriptionPolicies")) {
      body["subscriptionPolicies"] = {{"locationPlacementId", "Public_2014-09-01"},
                                      {"quotaId", "PayAsYouGo_2014-09-01"},
                                      {"spendingLimit", "Off"}};
    }
    return body;
  }

  if (id.ok()) body["name"] = id->name();
  if (doc.type == kResourceGroupDocType) {
    body["type"] = "Microsoft.Resources/resourceGroups";
    if (!body.contains("tags") || !body["tags"].is_object()) body["tags"] = json::object();
    if (!body.contains("properties") || !body["properties"].is_object()) {
      body["properties"] = json::object();
    }
    body["properties"]["provisioningState"] = "Succeeded";
    return body;
  }

  const ResourceKind* kind = kindFor(doc.type);
  if (kind) body["type"] = std::string(kind->type());
  body["etag"] = doc.etag;
  if (!body.contains("properties") || !body["properties"].is_object()) {
    body["properties"] = json::object();
  }
  if (kind && id.ok()) kind->render(view, *id, body);
  if (body["properties"].is_object()) {
    body["properties"]["provisioningState"] =
        provisioningStateName(tracker_.stateOf(doc.key, doc.revision));
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// PUT

Result<ResourceService::Stored> ResourceService::putIn(store::Transaction& txn,
                                                       const Caller& caller, const ResourceId& id,
                                                       json body, const Preconditions& pre) {
  if (!body.is_object()) return invalidBody("resource");
  Status error;
  ResourceKind* kind = requireKind(id, &error);
  if (!kind) return error;
  RETURN_IF_ERROR(kind->validateName(id.name()));
  RETURN_IF_ERROR(checkScope(txn, id));
  RETURN_IF_ERROR(checkParent(txn, id));

  ASSIGN_OR_RETURN(std::optional<Document> existing, txn.get(id.key()));
  RETURN_IF_ERROR(checkPreconditions(pre, existing, id));

  json location;
  json tags = json::object();
  if (kind->tracked()) {
    if (!body.contains("location") || !body["location"].is_string() ||
        body["location"].get<std::string>().empty()) {
      return Status::InvalidArgument("LocationRequired",
                                     "The location property is required for this definition. "
                                     "Add \"location\": \"" +
                                         config_.defaultLocation + "\" to the request body.")
          .withTarget("location");
    }
    location = body["location"];
    if (existing && existing->body.contains("location") &&
        existing->body["location"].is_string() &&
        !iequals(existing->body["location"].get<std::string>(), location.get<std::string>())) {
      return Status::Conflict(
                 "InvalidResourceLocation",
                 "The resource '" + existing->id + "' already exists in location '" +
                     existing->body["location"].get<std::string>() +
                     "'. A resource with the same name cannot be created in location '" +
                     location.get<std::string>() + "'. Use the existing location or a new name.")
          .withTarget("location");
    }
    if (body.contains("tags") && !body["tags"].is_null()) {
      RETURN_IF_ERROR(checkTags(body["tags"]));
      tags = body["tags"];
    }
  }
  if (body.contains("properties") && !body["properties"].is_null() &&
      !body["properties"].is_object()) {
    return Status::InvalidArgument("InvalidRequestContent", "'properties' must be a JSON object.")
        .withTarget("properties");
  }

  KindContext ctx{txn, caller, config_, *this, authorizer_};
  Result<json> kindResult = [&] {
    PutInProgress guard(id.key());
    return kind->put(ctx, id, std::move(body), existing ? &*existing : nullptr);
  }();
  if (!kindResult.ok()) return kindResult.status();
  json stored = std::move(kindResult).value();
  if (!stored.is_object()) {
    return Status::Internal("The " + std::string(kind->type()) +
                            " handler returned a non-object body.");
  }
  std::string idText = existing ? existing->id : id.toString();
  stored.erase("etag");
  stored["id"] = idText;
  stored["name"] = existing ? ResourceId::parse(existing->id).value().name() : id.name();
  stored["type"] = std::string(kind->type());
  if (kind->tracked()) {
    stored["location"] = location;
    stored["tags"] = tags;
  } else {
    stored.erase("location");
    stored.erase("tags");
  }
  if (stored.contains("properties") && stored["properties"].is_object()) {
    stored["properties"].erase("provisioningState");
  }
  ASSIGN_OR_RETURN(Document doc, txn.put(idText, toLower(kind->type()), std::move(stored)));
  return Stored{std::move(doc), !existing.has_value()};
}

Result<PutOutcome> ResourceService::put(const Caller& caller, const ResourceId& id, json body,
                                        const Preconditions& pre) {
  if (id.isSubscription()) {
    return Status::InvalidArgument("InvalidRequest",
                                   "Subscriptions cannot be created or changed through this API.");
  }
  if (id.isResourceGroup()) return putGroup(id, std::move(body), pre);
  PutOutcome outcome;
  Status st = store_.write([&](store::Transaction& txn) {
    return guarded([&]() -> Status {
      ASSIGN_OR_RETURN(Stored stored, putIn(txn, caller, id, body, pre));
      outcome.location = locationOf(txn, stored.doc);
      ASSIGN_OR_RETURN(outcome.operationId,
                       recordOperation(txn, id, stored.doc.key, false, outcome.location));
      outcome.created = stored.created;
      outcome.resource = render(txn, stored.doc);
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return outcome;
}

Result<json> ResourceService::putWithin(KindContext& ctx, const ResourceId& id, json body) {
  json rendered;
  Status st = guarded([&]() -> Status {
    ASSIGN_OR_RETURN(Stored stored, putIn(ctx.txn, ctx.caller, id, std::move(body), {}));
    rendered = render(ctx.txn, stored.doc);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return rendered;
}

Result<PutOutcome> ResourceService::putGroup(const ResourceId& id, json body,
                                             const Preconditions& pre) {
  if (!body.is_object()) return invalidBody("resource group");
  RETURN_IF_ERROR(validateResourceGroupName(id.resourceGroup()));
  if (!body.contains("location") || !body["location"].is_string() ||
      body["location"].get<std::string>().empty()) {
    return Status::InvalidArgument("LocationRequired",
                                   "The location property is required for a resource group. Add "
                                   "\"location\": \"" +
                                       config_.defaultLocation + "\" to the request body.")
        .withTarget("location");
  }
  if (body.contains("tags") && !body["tags"].is_null()) RETURN_IF_ERROR(checkTags(body["tags"]));
  PutOutcome outcome;
  Status st = store_.write([&](store::Transaction& txn) {
    return guarded([&]() -> Status {
      RETURN_IF_ERROR(checkScope(txn, id));
      ASSIGN_OR_RETURN(std::optional<Document> existing, txn.get(id.key()));
      RETURN_IF_ERROR(checkPreconditions(pre, existing, id));
      std::string location = body["location"].get<std::string>();
      if (existing && existing->body.contains("location") &&
          !iequals(existing->body["location"].get<std::string>(), location)) {
        return Status::Conflict("InvalidResourceGroupLocation",
                                "Invalid resource group location '" + location +
                                    "'. The resource group '" + id.resourceGroup() +
                                    "' already exists in location '" +
                                    existing->body["location"].get<std::string>() +
                                    "'. Use that location or delete the group first.")
            .withTarget("location");
      }
      json properties = body.contains("properties") && body["properties"].is_object()
                            ? body["properties"]
                            : json::object();
      properties.erase("provisioningState");
      json stored = {{"location", location},
                     {"tags", body.contains("tags") && body["tags"].is_object() ? body["tags"]
                                                                                 : json::object()},
                     {"properties", properties}};
      if (body.contains("managedBy") && body["managedBy"].is_string()) {
        stored["managedBy"] = body["managedBy"];
      }
      std::string idText = existing ? existing->id : id.toString();
      ASSIGN_OR_RETURN(Document doc, txn.put(idText, kResourceGroupDocType, std::move(stored)));
      outcome.created = !existing.has_value();
      outcome.location = location;
      outcome.resource = render(txn, doc);
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// GET

Result<json> ResourceService::get(const ResourceId& id) {
  json out;
  Status st = store_.read([&](store::ReadView& view) {
    return guarded([&]() -> Status {
      if (id.isSubscription()) {
        ASSIGN_OR_RETURN(auto doc, view.get(id.key()));
        if (!doc) {
          return Status::NotFound("SubscriptionNotFound", "The subscription '" +
                                                              id.subscriptionId() +
                                                              "' could not be found.");
        }
        out = render(view, *doc);
        return Status::Ok();
      }
      if (id.isResourceGroup()) {
        RETURN_IF_ERROR(checkScope(view, id));
        ASSIGN_OR_RETURN(auto doc, view.get(id.key()));
        if (!doc) {
          return Status::NotFound("ResourceGroupNotFound",
                                  "Resource group '" + id.resourceGroup() + "' could not be found.");
        }
        out = render(view, *doc);
        return Status::Ok();
      }
      Status error;
      if (!requireKind(id, &error)) return error;
      ASSIGN_OR_RETURN(auto doc, view.get(id.key()));
      if (!doc) {
        RETURN_IF_ERROR(checkScope(view, id));
        return resourceNotFound(id);
      }
      out = render(view, *doc);
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return out;
}

// ---------------------------------------------------------------------------------------------
// PATCH (tags)

Result<json> ResourceService::patchTags(const Caller& caller, const ResourceId& id,
                                        const json& body, const Preconditions& pre) {
  if (!body.is_object()) return invalidBody("tags to change ({\"tags\":{...}})");
  if (id.isSubscription()) {
    return Status::InvalidArgument("InvalidRequest", "Subscriptions cannot be changed here.");
  }
  const ResourceKind* kind = nullptr;
  if (!id.isResourceGroup()) {
    Status error;
    kind = requireKind(id, &error);
    if (!kind) return error;
    if (!kind->tracked()) {
      return Status::InvalidArgument("InvalidRequest",
                                     "Resources of type '" + std::string(kind->type()) +
                                         "' have no tags; PATCH is not supported for them.");
    }
  }
  if (body.contains("tags") && !body["tags"].is_null()) RETURN_IF_ERROR(checkTags(body["tags"]));
  json out;
  Status st = store_.write([&](store::Transaction& txn) {
    return guarded([&]() -> Status {
      RETURN_IF_ERROR(checkScope(txn, id));
      ASSIGN_OR_RETURN(std::optional<Document> existing, txn.get(id.key()));
      if (!existing) {
        if (pre.ifMatch) RETURN_IF_ERROR(checkPreconditions(pre, existing, id));
        if (id.isResourceGroup()) {
          return Status::NotFound("ResourceGroupNotFound", "Resource group '" +
                                                               id.resourceGroup() +
                                                               "' could not be found.");
        }
        return resourceNotFound(id);
      }
      RETURN_IF_ERROR(checkPreconditions(Preconditions{pre.ifMatch, false}, existing, id));
      json stored = existing->body;
      if (body.contains("tags")) {
        stored["tags"] = body["tags"].is_null() ? json::object() : body["tags"];
      }
      ASSIGN_OR_RETURN(Document doc, txn.put(existing->id, existing->type, std::move(stored)));
      out = render(txn, doc);
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return out;
}

// ---------------------------------------------------------------------------------------------
// DELETE

Status ResourceService::removeIn(KindContext& ctx, const ResourceId& id, const Document& doc) {
  if (ResourceKind* kind = findKind(doc.type)) {
    RETURN_IF_ERROR(kind->remove(ctx, id, doc));
  }
  ASSIGN_OR_RETURN(std::vector<Document> children, ctx.txn.listPrefix(doc.key + "/"));
  // Reverse key order visits grandchildren before their parents.
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    ASSIGN_OR_RETURN(std::optional<Document> child, ctx.txn.get(it->key));
    if (!child) continue;  // an earlier remove() took it
    if (ResourceKind* childKind = findKind(child->type)) {
      ASSIGN_OR_RETURN(ResourceId childId, ResourceId::parse(child->id));
      RETURN_IF_ERROR(childKind->remove(ctx, childId, *child));
    }
    ASSIGN_OR_RETURN(std::optional<Document> still, ctx.txn.get(it->key));
    if (still) RETURN_IF_ERROR(ctx.txn.erase(it->key));
  }
  ASSIGN_OR_RETURN(std::optional<Document> self, ctx.txn.get(doc.key));
  if (self) RETURN_IF_ERROR(ctx.txn.erase(doc.key));
  return Status::Ok();
}

Result<DeleteOutcome> ResourceService::remove(const Caller& caller, const ResourceId& id,
                                              const Preconditions& pre) {
  if (id.isSubscription()) {
    return Status::InvalidArgument("InvalidRequest", "Subscriptions cannot be deleted here.");
  }
  if (id.isResourceGroup()) return removeGroup(caller, id, pre);
  Status error;
  if (!requireKind(id, &error)) return error;
  DeleteOutcome outcome;
  Status st = store_.write([&](store::Transaction& txn) {
    return guarded([&]() -> Status {
      ASSIGN_OR_RETURN(std::optional<Document> existing, txn.get(id.key()));
      if (!existing) {
        RETURN_IF_ERROR(checkPreconditions(pre, existing, id));
        RETURN_IF_ERROR(checkScope(txn, id));
        outcome.existed = false;
        return Status::Ok();
      }
      RETURN_IF_ERROR(checkPreconditions(Preconditions{pre.ifMatch, false}, existing, id));
      outcome.existed = true;
      outcome.location = locationOf(txn, *existing);
      KindContext ctx{txn, caller, config_, *this, authorizer_};
      RETURN_IF_ERROR(removeIn(ctx, id, *existing));
      ASSIGN_OR_RETURN(outcome.operationId,
                       recordOperation(txn, id, existing->key, true, outcome.location));
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return outcome;
}

Status ResourceService::removeWithin(KindContext& ctx, const ResourceId& id) {
  return guarded([&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<Document> existing, ctx.txn.get(id.key()));
    if (!existing) return resourceNotFound(id);
    return removeIn(ctx, id, *existing);
  });
}

Result<DeleteOutcome> ResourceService::removeGroup(const Caller& caller, const ResourceId& id,
                                                   const Preconditions& pre) {
  DeleteOutcome outcome;
  Status st = store_.write([&](store::Transaction& txn) {
    return guarded([&]() -> Status {
      RETURN_IF_ERROR(checkScope(txn, id));
      ASSIGN_OR_RETURN(std::optional<Document> group, txn.get(id.key()));
      if (!group) {
        RETURN_IF_ERROR(checkPreconditions(pre, group, id));
        return Status::NotFound("ResourceGroupNotFound",
                                "Resource group '" + id.resourceGroup() + "' could not be found.");
      }
      RETURN_IF_ERROR(checkPreconditions(Preconditions{pre.ifMatch, false}, group, id));
      KindContext ctx{txn, caller, config_, *this, authorizer_};
      ASSIGN_OR_RETURN(std::vector<Document> docs, txn.listPrefix(group->key + "/"));
      std::vector<Document> pending(docs.rbegin(), docs.rend());
      // Resources may refer to each other across the group (a NIC on a subnet); a kind refuses
      // with Conflict while something still uses its resource, so retry those after the rest,
      // for as long as each pass makes progress.
      while (!pending.empty()) {
        std::vector<Document> deferred;
        Status lastConflict;
        bool progress = false;
        for (const Document& doc : pending) {
          ASSIGN_OR_RETURN(std::optional<Document> current, txn.get(doc.key));
          if (!current) continue;
          ASSIGN_OR_RETURN(ResourceId docId, ResourceId::parse(current->id));
          Status removed = removeIn(ctx, docId, *current);
          if (removed.ok()) {
            progress = true;
          } else if (removed.code() == StatusCode::kConflict) {
            deferred.push_back(*current);
            lastConflict = removed;
          } else {
            return removed;
          }
        }
        if (!progress && !deferred.empty()) return lastConflict;
        pending = std::move(deferred);
      }
      RETURN_IF_ERROR(txn.erase(group->key));
      outcome.existed = true;
      outcome.location = group->body.value("location", config_.defaultLocation);
      ASSIGN_OR_RETURN(outcome.operationId,
                       recordOperation(txn, id, group->key, true, outcome.location));
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Lists

Result<Page> ResourceService::list(const ListRequest& request) {
  std::string type = toLower(request.type);
  size_t top = request.top == 0 ? kDefaultPageSize : std::min(request.top, kMaxPageSize);
  std::string after;
  if (!request.skipToken.empty()) {
    auto decoded = hexDecode(request.skipToken);
    if (!decoded) {
      return Status::InvalidArgument("InvalidSkipToken",
                                     "The $skipToken '" + request.skipToken +
                                         "' is not one this server issued; follow nextLink "
                                         "exactly as returned.")
          .withTarget("$skipToken");
    }
    after = *decoded;
  }
  Page page;
  Status st = store_.read([&](store::ReadView& view) {
    return guarded([&]() -> Status {
      std::string docType;
      std::string prefix;
      if (type == kSubscriptionDocType) {
        docType = type;
        prefix = "/subscriptions/";
      } else if (type == kResourceGroupDocType) {
        ASSIGN_OR_RETURN(ResourceId scope, ResourceId::parse(request.scopeKey));
        RETURN_IF_ERROR(checkScope(view, scope));
        docType = type;
        prefix = scope.key() + "/";
      } else {
        const ResourceKind* kind = kindFor(type);
        if (!kind) {
          return Status::InvalidArgument(
              "InvalidResourceType", "The resource type '" + request.type + "' is not supported.");
        }
        docType = toLower(kind->type());
        if (request.parent) {
          RETURN_IF_ERROR(checkScope(view, *request.parent));
          ASSIGN_OR_RETURN(auto parentDoc, view.get(request.parent->key()));
          if (!parentDoc) return resourceNotFound(*request.parent);
          prefix = request.parent->key() + "/";
        } else {
          ASSIGN_OR_RETURN(ResourceId scope, ResourceId::parse(request.scopeKey));
          RETURN_IF_ERROR(checkScope(view, scope));
          if (scope.isResourceGroup()) {
            ASSIGN_OR_RETURN(auto group, view.get(scope.key()));
            if (!group) {
              return Status::NotFound("ResourceGroupNotFound", "Resource group '" +
                                                                   scope.resourceGroup() +
                                                                   "' could not be found.");
            }
          }
          prefix = scope.key() + "/";
        }
      }
      ASSIGN_OR_RETURN(std::vector<Document> docs, view.listType(docType, prefix));
      for (const Document& doc : docs) {
        if (!after.empty() && doc.key <= after) continue;
        if (page.value.size() == top) {
          page.nextSkipToken = hexEncode(after);
          break;
        }
        page.value.push_back(render(view, doc));
        after = doc.key;
      }
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return page;
}

Result<std::vector<json>> ResourceService::listTenants() {
  std::vector<json> out;
  Status st = store_.read([&](store::ReadView& view) {
    return guarded([&]() -> Status {
      ASSIGN_OR_RETURN(std::vector<Document> docs, view.listType(kTenantType));
      for (const Document& doc : docs) {
        json body = doc.body.is_object() ? doc.body : json::object();
        std::string tenant = body.value("tenantId", doc.key.substr(kTenantKeyPrefix.size()));
        body["tenantId"] = tenant;
        body["id"] = "/tenants/" + tenant;
        if (!body.contains("tenantCategory")) body["tenantCategory"] = "Home";
        out.push_back(std::move(body));
      }
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Operations

Result<OperationStatus> ResourceService::operation(const std::string& operationId) {
  bool wellFormed = !operationId.empty() && operationId.size() <= 64;
  for (unsigned char c : operationId) wellFormed = wellFormed && (std::isalnum(c) || c == '-');
  auto notFound = Status::NotFound("OperationNotFound", "The operation '" + operationId +
                                                            "' was not found. Poll the URL the "
                                                            "server returned.");
  if (!wellFormed) return notFound;
  OperationStatus out;
  Status st = store_.read([&](store::ReadView& view) {
    return guarded([&]() -> Status {
      ASSIGN_OR_RETURN(auto doc, view.get(std::string(kOperationKeyPrefix) + toLower(operationId)));
      if (!doc || doc->type != kOperationType) return notFound;
      const json& body = doc->body;
      out.operationId = toLower(operationId);
      out.resourceId = body.value("resourceId", "");
      out.isDelete = body.value("isDelete", false);
      out.location = body.value("location", config_.defaultLocation);
      out.startTime = body.value("startTime", "");
      std::string key = body.value("resourceKey", "");
      switch (tracker_.stateOf(key, doc->revision)) {
        case ProvisioningState::kSucceeded: out.status = "Succeeded"; break;
        case ProvisioningState::kFailed:
          out.status = "Failed";
          out.error = tracker_.failureOf(key, doc->revision);
          if (!out.error) {
            out.error = Status::Internal("The operation failed without a recorded reason.");
          }
          break;
        default: out.status = "InProgress"; break;
      }
      return Status::Ok();
    });
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace privlink::control
