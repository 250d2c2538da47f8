#pragma once
// PaaS instances (DESIGN.md §1, PaaS row): one generic kind per catalog entry
// (paas_catalog.h), e.g. Microsoft.Sql/servers. Each is a tracked ARM resource with
//   properties.publicNetworkAccess        "Enabled" (default) | "Disabled"
//   properties.fullyQualifiedDomainName   read-only "<name>.<public suffix>"
//   properties.privateEndpointConnections read-only, rendered from the connection records
//                                         (control/privatelink/connection_record.h)
//   properties.privlink.paas              read-only, what the data plane needs
//                                         (model/paas_naming.h): public IP, backend slot,
//                                         address and namespace, port, names
// Other request properties are kept as given (clients send e.g. administratorLogin); top-level
// "sku" and "kind" too.
//
// Rules: instance names follow the catalog's namePattern and are unique per type across all
// subscriptions (the public FQDN is global): 409 NameNotAvailable otherwise. The public IP comes
// from ControlConfig.publicIpRange (never its network address, its first host — the internet
// router — or its last address) and the backend slot from model::kPaasPlatformPrefix; both are
// recorded in "/privlink/paas/addresses" (type "privlink/paas-addresses",
// {"publicIps": {"<ip>": "<instance key>"}, "backendSlots": {"<n>": "<instance key>"}}), unique
// on the host, stable for the instance's life and released on delete. Exhaustion: 409
// PublicIpAddressesExhausted / PaasBackendSlotsExhausted.
//
// Private Link: registerPaasKinds adds every type to the Private Link target registry (groupId,
// requiredMembers [groupId], requiredZoneNames [zone]; visibility by RBAC only; the approval
// action "<type>/privateEndpointConnectionsApproval/action", which the resource's Owner or
// Contributor holds) and registers its `{instance}/privateEndpointConnections` kind, so endpoints,
// approvals and `{instance}/privateLinkResources` work exactly as for private link services.

#include <memory>

#include "control/paas/paas_catalog.h"
#include "control/privatelink/privatelink_kinds.h"
#include "control/resource_kind.h"
#include "control/resource_service.h"

namespace privlink::control::paas {

inline constexpr std::string_view kPaasAddressesKey = "/privlink/paas/addresses";
inline constexpr std::string_view kPaasAddressesType = "privlink/paas-addresses";

std::unique_ptr<ResourceKind> makePaasKind(PaasType type);
// The Private Link target description of a catalog type.
privatelink::PrivateLinkTargetType paasTargetType(const PaasType& type);

// For each catalog type: the instance kind, the target registration and the connection kind.
void registerPaasKinds(ResourceService& service,
                       const std::shared_ptr<privatelink::PrivateLinkContext>& privateLink,
                       const PaasCatalog& catalog);

}  // namespace privlink::control::paas
