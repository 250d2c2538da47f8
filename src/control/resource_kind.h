#pragma once
// ResourceKind: the semantics of one ARM resource type (validation, defaults, read-only and
// derived properties, in-use checks). The generic engine (resource_service.h) does everything
// that is the same for all types: the envelope (id, name, type, location, tags, etag), If-Match,
// parent and resource-group existence, storing, operations, provisioningState, listing, paging.
//
// A kind sees only `properties` semantics and the store through the transaction it is given; it
// never speaks HTTP. Errors are Status values with Azure's error codes and a message that says
// what to fix (STYLE.md), e.g. Status::InvalidArgument("InvalidPrivateIPAddress", "10.0.1.2 is
// reserved in subnet default (10.0.1.0/24); the first usable address is 10.0.1.4").

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"
#include "common/status.h"
#include "control/caller.h"
#include "store/store.h"

namespace privlink::control {

class ResourceService;
namespace authorization {
class Authorizer;
}  // namespace authorization

struct ControlConfig {
  std::string transitRange = "100.64.0.0/10";  // refused as VNet address space
  std::string defaultLocation = "local";
  std::string publicIpRange = "203.0.113.0/24";  // public IPs live in the internet namespace
};

// What a kind gets for one operation. Everything it writes goes through txn and commits (or not)
// together with the resource itself.
struct KindContext {
  store::Transaction& txn;
  const Caller& caller;
  const ControlConfig& config;
  ResourceService& service;  // to put/remove other resources through their own kinds
  // Azure RBAC for checks a kind makes itself (e.g. privateEndpointConnectionsApproval/action on a
  // private link service): authorizer->check(txn, caller, action, scope). Null allows everything
  // (unit tests of kinds); privlinkd always sets it (control/authorization/authorizer.h).
  const authorization::Authorizer* authorizer = nullptr;
};

class ResourceKind {
 public:
  virtual ~ResourceKind() = default;

  // Canonical type, e.g. "Microsoft.Network/virtualNetworks/subnets".
  virtual std::string_view type() const = 0;
  // Tracked (top-level) resources have location and tags; child resources do not.
  virtual bool tracked() const { return true; }

  // Validates a PUT. `desired` is the full body the client sent (already an object, envelope
  // fields included; the engine fills id/name/type/etag afterwards). `existing` is the stored
  // document or nullptr on create. Returns the body to store: properties normalised, defaults
  // filled, read-only properties preserved or computed. May write other documents via ctx.txn
  // (e.g. a VNet's inline subnets, a private endpoint's NIC).
  virtual Result<nlohmann::json> put(KindContext& ctx, const ResourceId& id,
                                     nlohmann::json desired, const store::Document* existing) = 0;

  // Checks a DELETE (e.g. InUseSubnetCannotBeDeleted) and deletes what the resource owns besides
  // its own child documents (which the engine removes by key prefix after this returns ok).
  virtual Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) {
    return Status::Ok();
  }

  // Checks the resource's own (last) name before anything else happens on PUT. The default is
  // Microsoft.Network's rule (validateResourceName in resource_service.h); kinds with other naming
  // rules (e.g. DNS zones) override it. Fails with 400 InvalidResourceName.
  virtual Status validateName(std::string_view name) const;

  // Adds computed read-only properties when the resource is rendered for a GET or list (e.g. a
  // VNet's subnets[] from the subnet documents, a subnet's ipConfigurations[]).
  virtual void render(store::ReadView& view, const ResourceId& id, nlohmann::json& body) const {}
};

}  // namespace privlink::control
