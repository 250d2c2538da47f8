#pragma once
// Private DNS (Microsoft.Network/privateDnsZones, api-version 2024-06-01) and private endpoint
// DNS zone groups (Microsoft.Network/privateEndpoints/privateDnsZoneGroups). docs/private-dns.md
// describes the behaviour; the reference is ../shared/reference/azure-private-link.md §1.8, §2.
//
// Kinds (register with registerPrivateDnsKinds):
//   Microsoft.Network/privateDnsZones                     tracked, location "global"; the name
//       needs >= 2 labels (<= 34); read-only counters; an SOA record set "@" is created with the
//       zone; DELETE refused (409 CannotDeleteZoneWithVirtualNetworkLinks) while links exist.
//   .../privateDnsZones/virtualNetworkLinks               tracked, location "global";
//       virtualNetwork.id must exist and is immutable; one link per (zone, VNet); a VNet may have
//       at most one registrationEnabled link (409 VirtualNetworkAlreadyLinkedForRegistration);
//       virtualNetworkLinkState "Completed".
//   .../privateDnsZones/{A,AAAA,CNAME,MX,PTR,SOA,SRV,TXT} record sets at {zone}/{type}/{name}
//       ("@" = apex); ids and names rendered lower-cased; fqdn with trailing dot; ttl (default
//       3600), metadata; <= 20 records; CNAME alone at its name and never at "@"; SOA only at
//       "@", created with the zone, updatable (not its host), never deletable on its own.
//   Microsoft.Network/privateEndpoints/privateDnsZoneGroups   <= 1 per endpoint, 1-5
//       privateDnsZoneConfigs; writes the endpoint's A record "<target name>" (ttl 10, metadata
//       creator "created by private endpoint <pe> with resource guid <guid>") into every zone,
//       attributing each address to the endpoint's VNet (properties.privlink.addresses of the
//       record set, model/private_dns_view.h); removes exactly its own addresses on update or
//       delete (and with the endpoint). A second endpoint for the same resource therefore adds
//       its address instead of overwriting the first one's.
// If-Match / If-None-Match are the engine's (resource_service.h) for every kind.
// Auto-registered NIC records are computed at read time (model::dnsView) and counted in the
// zone's numberOfRecordSets; they are not stored documents.

#include <memory>
#include <string>
#include <string_view>

#include "control/resource_kind.h"
#include "control/resource_service.h"

namespace privlink::control::privatedns {

inline constexpr std::string_view kVirtualNetworkLinkType =
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks";
inline constexpr std::string_view kZoneGroupType =
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups";
// "Microsoft.Network/privateDnsZones/A" etc.
std::string recordSetType(std::string_view recordType);

// Azure Private DNS limits (reference §1.8); tests lower them.
struct PrivateDnsLimits {
  size_t recordSetsPerZone = 25000;
  size_t recordsPerRecordSet = 20;
  size_t linksPerZone = 1000;
  size_t registrationLinksPerZone = 100;
  size_t zoneGroupsPerEndpoint = 1;
  size_t zonesPerZoneGroup = 5;
};

inline constexpr int kZoneGroupRecordTtl = 10;
inline constexpr std::string_view kSoaHost = "azureprivatedns.net";
inline constexpr std::string_view kSoaEmail = "azureprivatedns-host.microsoft.com";

std::unique_ptr<ResourceKind> makePrivateDnsZoneKind(PrivateDnsLimits limits = {});
std::unique_ptr<ResourceKind> makeVirtualNetworkLinkKind(PrivateDnsLimits limits = {});
// recordType: one of model::privateDnsRecordTypes().
std::unique_ptr<ResourceKind> makeRecordSetKind(std::string recordType,
                                                PrivateDnsLimits limits = {});
std::unique_ptr<ResourceKind> makePrivateDnsZoneGroupKind(PrivateDnsLimits limits = {});

// Registers all of the above.
void registerPrivateDnsKinds(ResourceService& service, PrivateDnsLimits limits = {});

}  // namespace privlink::control::privatedns
