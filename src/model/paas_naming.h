#pragma once
// What the data plane needs to realise a platform ("PaaS") resource instance such as
// Microsoft.Sql/servers/db1 (DESIGN.md §1, PaaS row): the instance is a platform-owned private
// link service in a hidden platform VNet whose backend is a real server the operator runs in the
// instance's *backend namespace* (`privlink paas exec RESOURCE -- CMD...`).
//
// The control plane (control/paas/) stores, in every instance document,
//   properties.privlink.paas = {
//     "catalogType":      "Microsoft.Sql/servers",
//     "groupId":          "sqlServer",
//     "port":             1433,
//     "publicFqdn":       "db1.database.windows.net",        (= properties.fullyQualifiedDomainName)
//     "privateLinkFqdn":  "db1.privatelink.database.windows.net",
//     "privateDnsZone":   "privatelink.database.windows.net",
//     "publicIpAddress":  "203.0.113.5",                     (from ControlConfig.publicIpRange)
//     "publicNetworkAccess": "Enabled" | "Disabled",
//     "backend": {"slot": 0, "address": "10.255.0.4", "namespace": "plp-1a2b3c4d"}}
// Backend addresses and public IPs are unique per host and stable for the instance's life.
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/ip.h"

namespace privlink::model {

// The hidden platform network that holds every PaaS backend (never visible to tenants; it lives
// only inside the platform VNet namespace, so it may overlap tenant address spaces).
inline constexpr std::string_view kPaasPlatformPrefix = "10.255.0.0/16";
// Backend slots available in kPaasPlatformPrefix (addresses .4 upward, last address excluded).
inline constexpr uint32_t kPaasBackendSlots = 65536 - 5;

// "<prefix>p-<8hex of the instance key>": the namespace the operator's backend server runs in.
// With the default prefix "pl": "plp-1a2b3c4d". The key is lower-cased first, so any casing of
// the instance id gives the same name.
std::string paasBackendNamespace(std::string_view instanceKey, std::string_view prefix = "pl");

// The backend address of slot n: kPaasPlatformPrefix network + 4 + n (Azure-style reservation of
// the first four addresses: the platform VNet's gateway is network + 1).
IpAddress paasBackendAddress(uint32_t slot);
// The platform VNet's gateway (network + 1), the backend namespace's default route.
IpAddress paasPlatformGateway();

}  // namespace privlink::model
