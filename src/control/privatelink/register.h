#pragma once
// Registers the Private Link kinds (privatelink_kinds.h) with a ResourceService:
// Microsoft.Network/privateLinkServices, .../privateLinkServices/privateEndpointConnections and
// Microsoft.Network/privateEndpoints, and the PLS private-link target type. Returns the shared
// context, whose registry platform types (PaaS) extend:
//
//   auto pl = privatelink::registerPrivateLinkKinds(service);
//   pl->registry.add(sqlServerTargetType);
//   service.registerKind(privatelink::makePrivateEndpointConnectionKind(pl, "Microsoft.Sql/servers"));
//
// Call once per ResourceService, before it serves requests. The context lives as long as the
// kinds (shared ownership); keep the returned pointer for discovery (discovery.h).

#include <memory>

#include "control/privatelink/privatelink_kinds.h"
#include "control/resource_service.h"

namespace privlink::control::privatelink {

std::shared_ptr<PrivateLinkContext> registerPrivateLinkKinds(ResourceService& service,
                                                             PrivateLinkLimits limits = {});

}  // namespace privlink::control::privatelink
