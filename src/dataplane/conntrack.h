#pragma once
// Conntrack deletion through libnetfilter_conntrack, in the namespace of the calling thread (use a
// NamespaceGuard). Used when a private endpoint stops being Approved, so that established flows
// stop too (DESIGN.md §2).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dataplane/kernel.h"

namespace privlink::dataplane {

// True if entry fields (original src/dst, reply src, zone; zone 0 when the entry has none) match
// every field set in `filter`. An empty filter matches everything.
struct ConntrackTuple {
  IpAddress originalSource;
  IpAddress originalDestination;
  IpAddress replySource;
  uint16_t zone = 0;
};
bool conntrackMatches(const ConntrackFilter& filter, const ConntrackTuple& entry);

// Dumps the conntrack table (IPv4 and IPv6), deletes every entry matching `filter` and returns how
// many it deleted (entries that vanished meanwhile are not counted). `what` prefixes errors.
Result<int> deleteConntrackEntries(const ConntrackFilter& filter, std::string_view what);

// NAT ports in use (issue #6 item 7): flows a private link service source-NATs to one of its NAT
// IPs are the conntrack entries of the provider VNet namespace whose reply tuple's destination is
// that NAT IP; the reply destination port is the NAT port the flow holds.
struct NatPortUsage {
  IpAddress address;     // the NAT IP
  uint8_t protocol = 0;  // IPPROTO_TCP, IPPROTO_UDP, ...
  uint64_t flows = 0;    // live conntrack entries
  uint64_t ports = 0;    // distinct NAT ports those entries hold
  bool operator==(const NatPortUsage&) const = default;
};

// The reply direction of one conntrack entry, as tallyNatPorts needs it.
struct ConntrackReplyDestination {
  IpAddress address;
  uint16_t port = 0;     // host order; 0 for protocols without ports
  uint8_t protocol = 0;  // IPPROTO_*
  // False for TCP entries in TIME_WAIT or CLOSE: the connection is over (conntrack keeps the
  // entry up to two minutes longer), so it no longer counts as in use.
  bool live = true;
};

// Pure: one row per address of `natAddresses` (deduplicated, in the given order) for TCP and for
// UDP (zero when nothing uses it), then one row per other protocol seen; only live entries count.
std::vector<NatPortUsage> tallyNatPorts(const std::vector<IpAddress>& natAddresses,
                                        const std::vector<ConntrackReplyDestination>& entries);

// Dumps the conntrack table of the calling thread's namespace (IPv4 and IPv6) and tallies it for
// `natAddresses` (tallyNatPorts). `what` prefixes errors.
Result<std::vector<NatPortUsage>> countNatPorts(const std::vector<IpAddress>& natAddresses,
                                                std::string_view what);

// countNatPorts inside the persistent namespace `ns` (/run/netns/<ns>), plus the provider NAT
// flows of the eBPF fast path (the pinned pl_flow of `ns`, dataplane/bpf/fast_path_maps.h: TCP
// until closed by both FINs or a RST, UDP until idle PL_FP_UDP_IDLE_NS); the calling thread
// returns to its own namespace before this returns. NotFound if the namespace does not exist.
Result<std::vector<NatPortUsage>> countNatPortsInNamespace(
    const std::string& ns, const std::vector<IpAddress>& natAddresses);

}  // namespace privlink::dataplane
