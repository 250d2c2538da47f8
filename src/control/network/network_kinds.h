#pragma once
// The Microsoft.Network kinds privlink implements (DESIGN.md §1). register.cc registers them;
// tests may build them one by one.
//
// Interface facts for other kinds:
// - Stored bodies are ARM bodies ({"location"?, "tags"?, "sku"?, "properties": {...}}); parts of
//   a resource (NIC ipConfigurations, LB frontendIPConfigurations / backendAddressPools / probes
//   / loadBalancingRules) live inline in their resource's document, each with its full "id"
//   (".../loadBalancers/lb/frontendIPConfigurations/fe") and "type"; findLoadBalancerPart()
//   resolves such an id.
// - Subnet addresses are allocated only through control/network/ip_allocation.h.
// - A NIC whose stored properties.privateEndpoint.id names an existing private endpoint is
//   read-only to clients (PUT and DELETE refused): the private endpoint kind writes and erases
//   that NIC document itself through ctx.txn (allocating its address with ipam::allocate).

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/resource_id.h"
#include "common/status.h"
#include "control/resource_kind.h"
#include "store/store.h"

namespace privlink::control {

// `service` renders the inline subnets[] and virtualNetworkPeerings[]; it must outlive the kind.
std::unique_ptr<ResourceKind> makeVirtualNetworkKind(const ResourceService& service);
std::unique_ptr<ResourceKind> makeSubnetKind();
std::unique_ptr<ResourceKind> makeVirtualNetworkPeeringKind();
std::unique_ptr<ResourceKind> makeNetworkInterfaceKind();
std::unique_ptr<ResourceKind> makeLoadBalancerKind();

// The stored JSON of one load balancer part, e.g. a frontend from
// ".../loadBalancers/lb/frontendIPConfigurations/fe" (collection names compared
// case-insensitively). 400 InvalidResourceReference naming `referrer` when the load balancer or
// the part does not exist.
Result<nlohmann::json> findLoadBalancerPart(store::ReadView& view, const ResourceId& partId,
                                            const ResourceId& referrer);

}  // namespace privlink::control
