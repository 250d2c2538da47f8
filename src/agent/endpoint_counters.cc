#include "agent/endpoint_counters.h"

#include "agent/applier.h"
#include "agent/compile.h"
#include "agent/fast_path.h"

namespace privlink::agent {

Result<EndpointCounters> readEndpointCounters(dataplane::Kernel& kernel,
                                              const model::HostNaming& naming,
                                              const std::string& consumerVnetKey,
                                              uint32_t linkIdentifier) {
  const std::string ns = naming.vnetNamespace(consumerVnetKey);
  ASSIGN_OR_RETURN(std::string listing, kernel.nftListTable(ns, "inet", kVnetTableName));
  const NftTableContents contents = parseNftTableContents(listing);
  auto find = [&](char which) -> const NftCounterValue* {
    auto it = contents.counters.find(endpointCounterName(linkIdentifier, which));
    return it == contents.counters.end() ? nullptr : &it->second;
  };
  const NftCounterValue* out = find('o');
  const NftCounterValue* in = find('i');
  const NftCounterValue* conn = find('n');
  const NftCounterValue* rej = find('r');
  if (out == nullptr || in == nullptr || conn == nullptr || rej == nullptr) {
    return Status::NotFound("ResourceNotFound", "private endpoint with link identifier " +
                                                    std::to_string(linkIdentifier) +
                                                    " has no counters in " + ns + " yet");
  }
  EndpointCounters c;
  c.packetsOut = out->packets;
  c.bytesOut = out->bytes;
  c.packetsIn = in->packets;
  c.bytesIn = in->bytes;
  c.connections = conn->packets;
  c.rejectedPackets = rej->packets;
  // Traffic of the eBPF fast path never meets these nft counters: add its per-CPU counters
  // (absent while the namespace has no fast path, which counts as zero).
  auto fast = kernel.bpfMapLookup(ns, PL_FP_MAP_STATS, fastPathLinkKey(linkIdentifier));
  if (fast.ok()) {
    const pl_pe_stats s = sumFastPathStats(*fast);
    c.packetsOut += s.packets_out;
    c.bytesOut += s.bytes_out;
    c.packetsIn += s.packets_in;
    c.bytesIn += s.bytes_in;
    c.connections += s.connections;
  }
  return c;
}

}  // namespace privlink::agent
