#pragma once
// Shared pieces of the private DNS kinds (control/privatedns/*). Not a public contract.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"
#include "common/status.h"
#include "control/privatedns/private_dns_kinds.h"
#include "model/private_dns_view.h"
#include "store/store.h"

namespace privlink::control::privatedns {

using Json = nlohmann::json;

inline constexpr std::string_view kZoneDocType = "microsoft.network/privatednszones";
inline constexpr std::string_view kLinkDocType =
    "microsoft.network/privatednszones/virtualnetworklinks";
inline constexpr std::string_view kZoneGroupDocType =
    "microsoft.network/privateendpoints/privatednszonegroups";
inline constexpr std::string_view kCreatorPrefix = "created by private endpoint ";

// Zone names: 2-34 labels, each 1-63 letters, digits, '-' or '_' (not starting or ending with
// '-'), at most 253 characters. 400 InvalidResourceName otherwise.
Status validateZoneName(std::string_view name);
// Relative record set names: "@", or labels as above separated by '.', the first label may be
// "*"; at most 253 characters with the zone. 400 InvalidResourceName otherwise.
Status validateRecordSetName(std::string_view name);

// "<name>.<zone>." ("<zone>." for "@"), lower-case.
std::string recordFqdn(std::string_view name, std::string_view zone);

// The A record set key/id of `recordName` in `zone`.
ResourceId aRecordSetId(const ResourceId& zone, std::string_view recordName);

// All record set documents of a zone (every type), in key order.
Result<std::vector<store::Document>> zoneRecordSets(store::ReadView& view, const ResourceId& zone);
// All virtualNetworkLinks documents of a zone.
Result<std::vector<store::Document>> zoneLinks(store::ReadView& view, const ResourceId& zone);
// The NIC A records auto-registered in the zone right now (model::dnsView rule: NICs of VNets
// with a registrationEnabled link; a stored A record set of the same name wins), name order.
Result<std::vector<model::DnsRecordSet>> autoRegisteredRecordSets(store::ReadView& view,
                                                                  const ResourceId& zone);
// Their number.
Result<size_t> autoRegisteredCount(store::ReadView& view, const ResourceId& zone);

// One endpoint address a zone group contributes to an A record set.
struct EndpointAddress {
  std::string ipv4Address;
  std::string virtualNetworkId;
  std::string privateEndpointId;
  std::string zoneGroupId;
};
// Adds the address (and its attribution) to the A record `recordName` of `zone`, creating the
// record set (ttl 10, creator metadata) when absent.
Status addEndpointAddress(store::Transaction& txn, const ResourceId& zone,
                          std::string_view recordName, const EndpointAddress& address,
                          std::string_view creator);
// Removes every address attributed to `zoneGroupId` from the A record `recordName` of `zone`;
// deletes the record set when it is left empty and was created by a private endpoint.
// Ok when the zone or record set is gone.
Status removeZoneGroupAddresses(store::Transaction& txn, const ResourceId& zone,
                                std::string_view recordName, std::string_view zoneGroupId);

}  // namespace privlink::control::privatedns
