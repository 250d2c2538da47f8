#pragma once
// ResourceService: the generic ARM resource engine over the Store. The API layer calls it after
// authentication with a parsed request; it returns ARM bodies (JSON) or Status errors.
//
// - Resource groups and subscriptions are built in; every other type needs a registered
//   ResourceKind. Unknown types get 400 InvalidResourceType; missing resource groups 404
//   ResourceGroupNotFound; missing parents 404 ParentResourceNotFound.
// - put() stores the body its kind returns and records an operation (key, revision); the body it
//   returns carries the provisioningState the ProvisioningTracker derives (so "Updating" until the
//   realisers have applied it).
// - remove() deletes the resource, its child documents (key prefix) and what its kind owns, in
//   one transaction, and records an operation.
// - Thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"
#include "common/status.h"
#include "control/caller.h"
#include "control/provisioning.h"
#include "control/resource_kind.h"
#include "store/store.h"

namespace privlink::control {

struct Preconditions {
  std::optional<std::string> ifMatch;  // etag or "*"
  bool ifNoneMatchStar = false;        // create only
};

struct PutOutcome {
  nlohmann::json resource;  // rendered, with provisioningState
  bool created = false;
  std::string operationId;  // for Azure-AsyncOperation; empty for synchronous resource groups
  std::string location;     // of the resource or its top-level ancestor (operation URLs)
};

struct DeleteOutcome {
  bool existed = false;     // false -> 204
  std::string operationId;  // when existed
  std::string location;     // when existed
};

struct ListRequest {
  std::string scopeKey;        // subscription or resource-group ResourceId key
  std::string type;            // canonical type to list (or a parent id + child type, see below)
  std::optional<ResourceId> parent;  // for child collections (subnets of a VNet)
  std::string skipToken;       // opaque continuation from a previous page
  size_t top = 100;            // page size
};

struct Page {
  std::vector<nlohmann::json> value;
  std::string nextSkipToken;  // empty on the last page
};

struct OperationStatus {
  std::string status;  // "InProgress" | "Succeeded" | "Failed"
  std::optional<Status> error;
  std::string resourceId;
  bool isDelete = false;
  std::string operationId;
  std::string location;
  std::string startTime;  // RFC 3339 UTC
};

// Operations are store documents "/privlink/operations/<opId>" (type "privlink/operation") with
// body {resourceId, resourceKey, isDelete, location, startTime}, written in the same transaction
// as the change they track. Their own document revision is the last revision of that transaction,
// so ProvisioningTracker::stateOf(resourceKey, <that revision>) answers them after a restart.
inline constexpr std::string_view kOperationKeyPrefix = "/privlink/operations/";
inline constexpr std::string_view kOperationType = "privlink/operation";
// Tenants: "/privlink/tenants/<id>" (type "privlink/tenant"), body {tenantId, displayName?...}.
inline constexpr std::string_view kTenantKeyPrefix = "/privlink/tenants/";
inline constexpr std::string_view kTenantType = "privlink/tenant";
// Subscriptions: "/subscriptions/<id>", type "microsoft.resources/subscriptions", body
// {subscriptionId, tenantId, displayName, state} (written by the server's bootstrap).
inline constexpr std::string_view kSubscriptionDocType = "microsoft.resources/subscriptions";
inline constexpr std::string_view kResourceGroupDocType = "microsoft.resources/resourcegroups";

// Microsoft.Network naming: 1-80 characters; letters, digits, '_', '.', '-'; starts with a letter
// or digit; ends with a letter, digit or '_'. InvalidResourceName (400) otherwise.
Status validateResourceName(std::string_view name);
// Resource group naming: 1-90 characters; letters, digits, '_', '.', '-', '(', ')' (and non-ASCII
// letters); does not end with '.'. InvalidResourceGroup (400) otherwise.
Status validateResourceGroupName(std::string_view name);

class ResourceService {
 public:
  ResourceService(store::Store& store, ProvisioningTracker& tracker, ControlConfig config);

  void registerKind(std::unique_ptr<ResourceKind> kind);
  // Passed to kinds as KindContext::authorizer (nullptr, the default, allows everything).
  void setAuthorizer(const authorization::Authorizer* authorizer) { authorizer_ = authorizer; }
  const ResourceKind* kindFor(std::string_view type) const;  // case-insensitive

  Result<PutOutcome> put(const Caller& caller, const ResourceId& id, nlohmann::json body,
                         const Preconditions& pre = {});
  Result<nlohmann::json> get(const ResourceId& id);
  Result<nlohmann::json> patchTags(const Caller& caller, const ResourceId& id,
                                   const nlohmann::json& body, const Preconditions& pre = {});
  Result<DeleteOutcome> remove(const Caller& caller, const ResourceId& id,
                               const Preconditions& pre = {});
  Result<Page> list(const ListRequest& request);
  Result<OperationStatus> operation(const std::string& operationId);
  // GET /tenants: every tenant document rendered as {id:"/tenants/T", tenantId:T, ...}.
  Result<std::vector<nlohmann::json>> listTenants();

  // For kinds: put/remove another resource inside the caller's transaction (nested semantics,
  // same validation as a top-level request; no separate operation is recorded).
  Result<nlohmann::json> putWithin(KindContext& ctx, const ResourceId& id, nlohmann::json body);
  Status removeWithin(KindContext& ctx, const ResourceId& id);
  // Renders a stored document (envelope + kind render + provisioningState).
  nlohmann::json render(store::ReadView& view, const store::Document& doc) const;

  store::Store& store() { return store_; }
  ProvisioningTracker& tracker() { return tracker_; }
  const ControlConfig& config() const { return config_; }

 private:
  store::Store& store_;
  ProvisioningTracker& tracker_;
  ControlConfig config_;
  std::vector<std::unique_ptr<ResourceKind>> kinds_;
  const authorization::Authorizer* authorizer_ = nullptr;

  struct Stored {
    store::Document doc;
    bool created = false;
  };
  Result<Stored> putIn(store::Transaction& txn, const Caller& caller, const ResourceId& id,
                       nlohmann::json body, const Preconditions& pre);
  Result<PutOutcome> putGroup(const ResourceId& id, nlohmann::json body, const Preconditions& pre);
  Result<DeleteOutcome> removeGroup(const Caller& caller, const ResourceId& id,
                                    const Preconditions& pre);
  // Removes one stored resource: its kind's remove(), then its child documents deepest first
  // (each through its own kind), then the document itself.
  Status removeIn(KindContext& ctx, const ResourceId& id, const store::Document& doc);
  Status checkScope(store::ReadView& view, const ResourceId& id) const;
  Status checkParent(store::ReadView& view, const ResourceId& id) const;
  std::string locationOf(store::ReadView& view, const store::Document& doc) const;
  Result<std::string> recordOperation(store::Transaction& txn, const ResourceId& id,
                                      const std::string& key, bool isDelete,
                                      const std::string& location);
  ResourceKind* findKind(std::string_view type) const;
  ResourceKind* requireKind(const ResourceId& id, Status* error) const;
};

}  // namespace privlink::control
