#pragma once
// Per private endpoint traffic counters (issue #6 item 7), read from the named nft counters the
// agent plans in the consumer VNet's table (compile.h: pe<link id>{o,i,n,r}, keyed by the
// endpoint's address in the maps pe_out, pe_in, pe_conn, pe_rej) plus, for traffic on the eBPF
// fast path (fast_path.h), the endpoint's per-CPU entry in the namespace's pinned pl_stats map.
// Ready for the API to serve read-only on the endpoint, and for metrics.

#include <cstdint>
#include <string>

#include "common/status.h"
#include "dataplane/kernel.h"
#include "model/host_naming.h"

namespace privlink::agent {

struct EndpointCounters {
  uint64_t packetsOut = 0;  // client -> service
  uint64_t bytesOut = 0;
  uint64_t packetsIn = 0;  // service -> client
  uint64_t bytesIn = 0;
  uint64_t connections = 0;      // new flows through the endpoint
  uint64_t rejectedPackets = 0;  // packets refused while the endpoint was not Approved
};

// Reads the counters of the endpoint with `linkIdentifier` in the namespace of
// `consumerVnetKey`. NotFound when the endpoint has no counters there (not realised yet).
// Uses `kernel` for one nftListTable and one bpfMapLookup call; callers must not share a Kernel
// across threads. Fast path bytes are IP bytes like the nft counters'; fast path connections are
// TCP SYNs and new UDP flows (4-tuple, LRU), the nft ones new conntrack entries.
Result<EndpointCounters> readEndpointCounters(dataplane::Kernel& kernel,
                                              const model::HostNaming& naming,
                                              const std::string& consumerVnetKey,
                                              uint32_t linkIdentifier);

}  // namespace privlink::agent
