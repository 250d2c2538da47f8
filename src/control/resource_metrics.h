#pragma once
// Azure Monitor metrics of private endpoints and private link services (issue #6 item 7, "ready
// for metrics"): GET {resourceId}/providers/Microsoft.Insights/metrics?metricnames=...
// &api-version=2018-01-01, answered from the resource counters (control/resource_counters.h) in
// Azure Monitor's response shape, so `az monitor metrics list --resource ID --metric PEBytesIn`
// works.
//
// Metrics (names compare case-insensitively; the response spells them as below):
//   private endpoints:      PEBytesIn (bytesIn), PEBytesOut (bytesOut)              unit Count
//   private link services:  PLSBytesIn (bytesIn), PLSBytesOut (bytesOut)            unit Count
//                           PLSNatPortsUsage: NAT ports in use (TCP + UDP) as a percent of
//                           kNatPortsPerIp per NAT IP, averaged over the NAT IPs; with
//                           $filter=PrivateLinkServiceIPAddress eq '*' (or eq '<ip>') one
//                           timeseries per NAT IP, dimension PrivateLinkServiceIPAddress  unit
//                           Percent
// privlink keeps no history: each metric has one data point, at the counters' observedAt
// (truncated to the minute), and byte values are totals since the endpoint was realised, not per
// interval. Every requested aggregation (Total, Average, Maximum, Minimum, Count) of that one
// sample is filled in (Count is 1). Without published counters the timeseries has no data.
// Errors: 404 for a missing resource (as its GET); 400 ResourceNotSupported for other types; 400
// BadRequest for an unknown metric name (the message lists the valid ones).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/resource_id.h"
#include "common/status.h"
#include "control/resource_service.h"

namespace privlink::control {

// Source ports one NAT IP offers a destination (nft SNAT picks from 1024-65535).
inline constexpr uint64_t kNatPortsPerIp = 64512;

struct MetricsQuery {
  std::string metricNames;  // comma-separated; empty: every metric of the type
  std::string aggregation;  // comma-separated; empty: each metric's primary aggregation
  std::string timespan;     // echoed; empty: the hour up to now
  std::string interval;     // echoed; empty: "PT1M"
  std::string filter;       // $filter (only PrivateLinkServiceIPAddress is understood)
};

// The metrics response body for `id` (see the file comment).
Result<nlohmann::json> resourceMetrics(ResourceService& service, const ResourceId& id,
                                       const MetricsQuery& query);

}  // namespace privlink::control
