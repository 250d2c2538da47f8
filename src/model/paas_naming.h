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
//     "publicFqdn":       "db1.database.windows.net",   (= properties.fullyQualifiedDomainName)
//     "privateLinkFqdn":  "db1.privatelink.database.windows.net",
//     "privateDnsZone":   "privatelink.database.windows.net",
//     "publicIpAddress":  "203.0.113.5",                     (from ControlConfig.publicIpRange)
//     "publicNetworkAccess": "Enabled" | "Disabled",
//     "backend": {"slot": 0, "address": "10.255.0.4", "namespace": "plp-1a2b3c4d"}}
// Backend addresses and public IPs are unique per host and stable for the instance's life.
// The agent realises instances as agent/compile_paas.h describes.
// Pure functions; thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "common/status.h"

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
// The platform address the backend sees as the source of every connection that comes through a
// private endpoint (network + 2; the platform router SNATs to it, so replies return to it).
IpAddress paasPlatformNatAddress();

// The platform router's transit address (DESIGN.md §1: the backbone only sees transit
// addresses): the infrastructure slot R.at(3) of the transit range (model/transit.h reserves
// R.at(0..255); R.at(1) is the backbone gateway, R.at(2) the internet namespace). It sits on the
// platform router's links to the backbone and to the internet namespace.
IpAddress paasPlatformTransitAddress(const IpPrefix& transitRange);

// Interface names of the PaaS data plane (<= 15 characters):
//   platform router <prefix>paas: kPaasBridge (gateway + NAT address), kPaasToBackbone,
//                                 kPaasToInternet, paasBackendLinkName(key) per instance
//   backbone <prefix>bb:          kBackboneToPaas
//   internet <prefix>inet:        kInternetToPaas
//   backend <prefix>p-<8hex>:     eth0
inline constexpr std::string_view kPaasBridge = "br0";
inline constexpr std::string_view kPaasToBackbone = "bb0";
inline constexpr std::string_view kPaasToInternet = "inet0";
inline constexpr std::string_view kBackboneToPaas = "paas0";
inline constexpr std::string_view kInternetToPaas = "paas0";
// "b-<8hex of the instance key>": the platform router's side of a backend's eth0.
std::string paasBackendLinkName(std::string_view instanceKey);

// The data plane's view of one PaaS instance, from the instance document's
// properties.privlink.paas (see above).
struct PaasInstance {
  std::string key;   // normalised instance key
  std::string id;
  std::string type;  // catalogType, e.g. "Microsoft.DBforPostgreSQL/flexibleServers"
  int port = 0;      // the backend server's TCP port
  IpAddress publicAddress;
  bool publicNetworkAccess = true;  // "Enabled"
  uint32_t backendSlot = 0;
  IpAddress backendAddress;  // paasBackendAddress(backendSlot)
};

// True iff `body` carries properties.privlink.paas (the mark of a PaaS instance document).
bool isPaasInstanceBody(const nlohmann::json& body);
// Parses an instance document; InvalidArgument("InvalidResourceDocument", ...) naming the field
// when properties.privlink.paas is missing or malformed (port outside 1..65535, a public or
// backend address that is not IPv4, a backend address that does not match its slot). Never
// throws.
Result<PaasInstance> parsePaasInstance(std::string_view key, std::string_view id,
                                       const nlohmann::json& body);

}  // namespace privlink::model
