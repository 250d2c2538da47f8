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
  std::string operationId;  // for Azure-AsyncOperation
};

struct DeleteOutcome {
  bool existed = false;     // false -> 204
  std::string operationId;  // when existed
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
};

class ResourceService {
 public:
  ResourceService(store::Store& store, ProvisioningTracker& tracker, ControlConfig config);

  void registerKind(std::unique_ptr<ResourceKind> kind);
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
};

}  // namespace privlink::control
