#pragma once
// Conntrack deletion through libnetfilter_conntrack, in the namespace of the calling thread (use a
// NamespaceGuard). Used when a private endpoint stops being Approved, so that established flows
// stop too (DESIGN.md §2).

#include <string_view>

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

}  // namespace privlink::dataplane
