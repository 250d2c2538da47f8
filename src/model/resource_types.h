#pragma once
// Canonical ARM resource type names. Store documents carry the lower-cased form.

#include <string_view>

namespace privlink::model {

inline constexpr std::string_view kSubscription = "Microsoft.Resources/subscriptions";
inline constexpr std::string_view kResourceGroup = "Microsoft.Resources/resourceGroups";
inline constexpr std::string_view kVirtualNetwork = "Microsoft.Network/virtualNetworks";
inline constexpr std::string_view kSubnet = "Microsoft.Network/virtualNetworks/subnets";
inline constexpr std::string_view kVirtualNetworkPeering =
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings";
inline constexpr std::string_view kNetworkInterface = "Microsoft.Network/networkInterfaces";
inline constexpr std::string_view kLoadBalancer = "Microsoft.Network/loadBalancers";
inline constexpr std::string_view kPrivateLinkService = "Microsoft.Network/privateLinkServices";
inline constexpr std::string_view kPrivateEndpoint = "Microsoft.Network/privateEndpoints";
inline constexpr std::string_view kPrivateDnsZone = "Microsoft.Network/privateDnsZones";

// The default transit range used by the backbone (DESIGN.md §1); no VNet may use it.
inline constexpr std::string_view kDefaultTransitRange = "100.64.0.0/10";
// The platform resolver address, local to every VNet namespace.
inline constexpr std::string_view kAzureDnsAddress = "168.63.129.16";

}  // namespace privlink::model
