#pragma once
// RecordSetViews: the Private DNS record-set reads that are not "one stored document each", so
// the generic engine cannot answer them alone (docs/private-dns.md). {zone} below is
// /subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/privateDnsZones/Z (any casing):
//
//   GET {zone}/ALL         every record set of the zone, all types (Azure's RecordSets_List),
//                          stored ones plus the auto-registered NIC A records; optional
//                          `$recordsetnamesuffix` keeps names equal to the suffix or ending in
//                          ".<suffix>"; paged like every list ($top, $skipToken).
//   GET {zone}/A           the stored A record sets plus the auto-registered NIC A records.
//   GET {zone}/A/{name}    an auto-registered NIC record, when no stored A record set has the name.
//
// Items are in (type, name) order. Stored record sets render exactly as the engine renders them;
// an auto-registered one as {id: "{zone}/A/<name>", name,
// type: "Microsoft.Network/privateDnsZones/A", properties: {metadata: {}, ttl: 10, fqdn,
// isAutoRegistered: true, aRecords: [{ipv4Address}], provisioningState: "Succeeded"}} (no etag:
// it is computed, not stored).
// The ArmRouter asks these first for GET; nullopt means "not mine, route as usual" (a stored
// record set, another type's list, {zone}/A or {zone}/A/{name} of a zone that does not exist).
// Thread-safe (reads the store through snapshots).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "control/resource_service.h"

namespace privlink::control::privatedns {

struct RecordSetListOptions {
  size_t top = 100;           // page size
  std::string skipToken;      // from a previous page's nextSkipToken
  std::string nameSuffix;     // $recordsetnamesuffix ({zone}/ALL only); empty: all
};

class RecordSetViews {
 public:
  explicit RecordSetViews(ResourceService& service) : service_(service) {}

  // `segments`: the decoded path segments (ArmRouter::Target::segments).
  std::optional<Result<Page>> list(const std::vector<std::string>& segments,
                                   const RecordSetListOptions& options) const;
  std::optional<Result<nlohmann::json>> get(const std::vector<std::string>& segments) const;

 private:
  ResourceService& service_;
};

}  // namespace privlink::control::privatedns
