#pragma once
// dnsView: what the 168.63.129.16 resolver answers inside one VNet, computed from the same store
// documents the agent compiles (DESIGN.md §1 resolver and Private DNS rows; docs/private-dns.md).
//
// Inputs (lower-case types; any other documents are ignored):
//   microsoft.network/privatednszones                      key ".../privatednszones/<zone>"
//   microsoft.network/privatednszones/virtualnetworklinks  properties.virtualNetwork.id,
//                                                          properties.registrationEnabled
//   microsoft.network/privatednszones/{a,aaaa,cname,mx,ptr,soa,srv,txt}
//                                                          key "<zone key>/<type>/<name>", ARM
//                                                          record-set properties, and for A
//                                                          records written by private endpoint
//                                                          zone groups properties.privlink.addresses
//                                                          = [{"ipv4Address", "virtualNetworkId",
//                                                              "privateEndpointId", "zoneGroupId"}]
//   microsoft.network/networkinterfaces                    for auto-registration
//   microsoft.network/virtualnetworks/subnets              (the NIC's subnet -> its VNet)
//   any document with properties.privlink.paas (model/paas_naming.h) for public PaaS names
//
// Rules
// - A VNet sees exactly the zones it has a virtualNetworkLink to (links whose VNet is the
//   queried one, compared case-insensitively). Zones are returned in name order.
// - Endpoint attribution (the fix for Azure's record-clobbering complaint, reference §4.1): an A
//   record's addresses that carry a privlink attribution belong to the VNet of the endpoint that
//   wrote them. A VNet is answered the unattributed addresses plus the addresses attributed to it;
//   if none is attributed to it, plus every attributed address. So two endpoints for the same
//   resource in two VNets each resolve to their own address, and a third VNet (e.g. a peered hub
//   without an endpoint) gets both.
// - Auto-registration: every NIC (not a private endpoint's NIC) with an IPv4 address in a VNet
//   that has a registrationEnabled link to a zone gets an A record "<nic name lower-cased>"
//   (ttl 10, autoRegistered) in that zone, seen by every VNet linked to the zone. A stored record
//   set of the same name and type wins. They are computed here, at read time, not stored: the
//   NIC kind does not know about DNS, and a computed record can never go stale.
// - Public PaaS names: every PaaS instance contributes `<name>.<public suffix>` CNAME
//   `<name>.privatelink.<...>` (Azure's public DNS chain, reference §1.8) and the instance's
//   public IP as the fallback answer when the VNet's view has no record for the privatelink name.
// Pure; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/network.h"

namespace privlink::model {

inline constexpr std::string_view kPrivateDnsZoneDocType = "microsoft.network/privatednszones";
inline constexpr std::string_view kVirtualNetworkLinkDocType =
    "microsoft.network/privatednszones/virtualnetworklinks";
inline constexpr uint32_t kAutoRegisteredTtl = 10;

struct MxRecord {
  uint32_t preference = 0;
  std::string exchange;
};
struct SrvRecord {
  uint32_t priority = 0;
  uint32_t weight = 0;
  uint32_t port = 0;
  std::string target;
};
struct SoaRecord {
  std::string host;
  std::string email;
  uint64_t serialNumber = 1;
  uint64_t refreshTime = 3600;
  uint64_t retryTime = 300;
  uint64_t expireTime = 2419200;
  uint64_t minimumTtl = 10;
};

struct DnsRecordSet {
  std::string type;  // "A", "AAAA", "CNAME", "MX", "PTR", "SOA", "SRV", "TXT"
  std::string name;  // relative, lower-case; "@" for the apex
  std::string fqdn;  // absolute, lower-case, trailing dot: "db1.privatelink.database.windows.net."
  uint32_t ttl = 3600;
  bool autoRegistered = false;
  std::vector<IpAddress> addresses;  // A (after attribution) or AAAA
  std::string cname;                 // CNAME
  std::vector<MxRecord> mx;
  std::vector<std::string> ptr;
  std::vector<SrvRecord> srv;
  std::vector<std::vector<std::string>> txt;
  std::optional<SoaRecord> soa;
};

struct DnsZone {
  std::string name;  // lower-case, no trailing dot: "privatelink.database.windows.net"
  std::string key;
  bool registrationEnabled = false;  // the queried VNet's link to this zone
  std::vector<DnsRecordSet> recordSets;  // ordered by (name, type)
};

struct PublicName {
  std::string fqdn;             // "db1.database.windows.net." (lower-case, trailing dot)
  std::string cname;            // "db1.privatelink.database.windows.net."
  std::optional<IpAddress> publicAddress;  // answered when the VNet's view has no record for cname
};

struct DnsView {
  std::string vnetKey;
  std::vector<DnsZone> zones;
  std::vector<PublicName> publicNames;  // in fqdn order
  // Documents that could not be used, by key, with the reason (the view leaves them out).
  std::vector<std::pair<std::string, std::string>> skipped;
};

// The view of `vnetKey` (an id or key; compared case-insensitively).
DnsView dnsView(const std::vector<SourceDocument>& docs, std::string_view vnetKey);

// The addresses of one A record set a VNet is answered (the attribution rule above).
// `addresses` is the record set's aRecords; `attributions` pairs address -> VNet key.
std::vector<IpAddress> attributedAddresses(
    const std::vector<IpAddress>& addresses,
    const std::vector<std::pair<IpAddress, std::string>>& attributions, std::string_view vnetKey);

// Record types privlink's private DNS zones hold, canonical spelling.
const std::vector<std::string>& privateDnsRecordTypes();

}  // namespace privlink::model
