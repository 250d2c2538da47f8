#include "agent/endpoint_counters.h"

#include "agent/applier.h"
#include "agent/compile.h"

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
  return c;
}

}  // namespace privlink::agent
