#pragma once
// What an ARM request needs to be allowed: the mapping from HTTP method + path to an Azure RBAC
// action and the scope it is checked at, plus the "linked access" checks for resources that a
// PUT body references (DESIGN.md §4).
//
//   PUT/PATCH {id}        <type>/write     at {id}
//   GET/HEAD  {id}        <type>/read      at {id}
//   DELETE    {id}        <type>/delete    at {id}
//   POST      {id}/{verb} <type>/{verb}/action at {id}
//   GET {scope or parent}/.../{type}  (a collection)  <type>/read at the scope or parent; a caller
//       without it still sees the items it may read one by one (kListFiltered)
//   GET {id}/providers/Microsoft.Insights/metrics  <type of id>/read at {id}
//   resource groups: Microsoft.Resources/subscriptions/resourceGroups/{read,write,delete}
//   GET /subscriptions: no check; only subscriptions where the caller holds a role are shown
//   GET /subscriptions/{s} and operation polling: any role in that subscription
//   GET /tenants and tenant-level roleDefinitions: any authenticated caller
//   other tenant-level paths (/providers/Microsoft.Privlink/..., /providers/Microsoft.Subscription
//   /...): the admin only (kAdmin); anything unrecognised: the admin only (fail closed)
// `<type>` is the resource type with its namespace as the request spells it, e.g.
// "Microsoft.Network/virtualNetworks/subnets".

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"
#include "common/status.h"

namespace privlink::control::authorization {

struct RequiredAccess {
  enum class Mode {
    kNone,                // any authenticated caller
    kAction,              // `action` at `scope`
    kListFiltered,        // a collection read: `action` at `scope`, else per item at its id
    kSubscriptionList,    // filter subscriptions to those where the caller holds a role
    kSubscriptionMember,  // any role in `scope` (a subscription)
    kAdmin,               // the admin principal only
  };
  Mode mode = Mode::kAdmin;
  std::string action;  // kAction, kListFiltered (kAdmin: a descriptive action for the message)
  ResourceId scope;    // kAction, kListFiltered, kSubscriptionMember
};

// `segments` are the decoded path segments ("//" collapsed, no empty segments), `method` upper
// case. Never fails: shapes it cannot place need the admin.
RequiredAccess requiredAccess(std::string_view method, const std::vector<std::string>& segments);

// One linked-access check a PUT body implies.
struct ReferenceCheck {
  std::string action;  // e.g. "Microsoft.Network/virtualNetworks/subnets/join/action"
  ResourceId target;   // the referenced resource
  bool operator==(const ReferenceCheck& o) const { return action == o.action && target == o.target; }
};

// The references in a PUT body of resource `id` that need a join/peer permission on the
// referenced resource (Azure's linked access checks):
//   NIC ipConfigurations[].subnet, LB frontendIPConfigurations[].subnet, private endpoint subnet,
//   private link service ipConfigurations[].subnet   -> .../virtualNetworks/subnets/join/action
//   NIC ipConfigurations[].loadBalancerBackendAddressPools[]
//                                                    -> .../loadBalancers/backendAddressPools/join/action
//   NIC networkSecurityGroup                         -> .../networkSecurityGroups/join/action
//   PLS loadBalancerFrontendIpConfigurations[]       -> .../loadBalancers/frontendIPConfigurations/join/action
//   VNet peering remoteVirtualNetwork (also inline in a VNet's virtualNetworkPeerings[])
//                                                    -> .../virtualNetworks/peer/action
//   private DNS zone virtualNetworkLinks virtualNetwork -> .../virtualNetworks/join/action
// Ids that do not parse are skipped (the resource kind rejects them). Duplicates are removed.
std::vector<ReferenceCheck> referencedAccess(const ResourceId& id, const nlohmann::json& body);

}  // namespace privlink::control::authorization
