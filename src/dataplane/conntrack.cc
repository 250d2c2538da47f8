// Conntrack dump-filter-destroy over libnetfilter_conntrack.
#include "dataplane/conntrack.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "dataplane/bpf/fast_path_maps.h"
#include "dataplane/kernel_error.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"

namespace privlink::dataplane {
namespace {

struct HandleCloser {
  void operator()(nfct_handle* h) const { nfct_close(h); }
};
struct EntryDeleter {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using Handle = std::unique_ptr<nfct_handle, HandleCloser>;
using Entry = std::unique_ptr<nf_conntrack, EntryDeleter>;

std::optional<IpAddress> addressOf(const nf_conntrack* ct, uint8_t family, nf_conntrack_attr v4,
                                   nf_conntrack_attr v6) {
  if (family == AF_INET) {
    if (!nfct_attr_is_set(ct, v4)) return std::nullopt;
    return IpAddress::v4(ntohl(nfct_get_attr_u32(ct, v4)));
  }
  if (family == AF_INET6) {
    if (!nfct_attr_is_set(ct, v6)) return std::nullopt;
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), nfct_get_attr(ct, v6), 16);
    return IpAddress::v6(bytes);
  }
  return std::nullopt;
}

struct DumpState {
  const ConntrackFilter* filter;
  std::vector<Entry> matches;
  bool outOfMemory = false;
};

int collect(enum nf_conntrack_msg_type, struct nf_conntrack* ct, void* data) {
  auto* state = static_cast<DumpState*>(data);
  uint8_t family = nfct_get_attr_u8(ct, ATTR_L3PROTO);
  auto origSrc = addressOf(ct, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC);
  auto origDst = addressOf(ct, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST);
  auto replSrc = addressOf(ct, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC);
  if (!origSrc || !origDst || !replSrc) return NFCT_CB_CONTINUE;
  ConntrackTuple tuple{
      *origSrc, *origDst, *replSrc,
      nfct_attr_is_set(ct, ATTR_ZONE) ? nfct_get_attr_u16(ct, ATTR_ZONE) : uint16_t{0}};
  if (conntrackMatches(*state->filter, tuple)) {
    Entry copy(nfct_clone(ct));
    if (!copy) {
      state->outOfMemory = true;
      return NFCT_CB_STOP;
    }
    state->matches.push_back(std::move(copy));
  }
  return NFCT_CB_CONTINUE;
}

struct ReplyDumpState {
  std::set<IpAddress> wanted;
  std::vector<ConntrackReplyDestination> entries;
};

int collectReply(enum nf_conntrack_msg_type, struct nf_conntrack* ct, void* data) {
  auto* state = static_cast<ReplyDumpState*>(data);
  uint8_t family = nfct_get_attr_u8(ct, ATTR_L3PROTO);
  auto replyDst = addressOf(ct, family, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST);
  if (!replyDst || !state->wanted.count(*replyDst)) return NFCT_CB_CONTINUE;
  ConntrackReplyDestination entry;
  entry.address = *replyDst;
  entry.protocol = nfct_attr_is_set(ct, ATTR_L4PROTO) ? nfct_get_attr_u8(ct, ATTR_L4PROTO) : 0;
  if ((entry.protocol == IPPROTO_TCP || entry.protocol == IPPROTO_UDP ||
       entry.protocol == IPPROTO_SCTP) &&
      nfct_attr_is_set(ct, ATTR_REPL_PORT_DST)) {
    entry.port = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
  }
  if (entry.protocol == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE)) {
    const uint8_t tcpState = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
    entry.live = tcpState != TCP_CONNTRACK_TIME_WAIT && tcpState != TCP_CONNTRACK_CLOSE;
  }
  state->entries.push_back(entry);
  return NFCT_CB_CONTINUE;
}

}  // namespace

std::vector<NatPortUsage> tallyNatPorts(const std::vector<IpAddress>& natAddresses,
                                        const std::vector<ConntrackReplyDestination>& entries) {
  std::vector<IpAddress> order;
  for (const IpAddress& a : natAddresses) {
    if (std::find(order.begin(), order.end(), a) == order.end()) order.push_back(a);
  }
  struct Tally {
    uint64_t flows = 0;
    std::set<uint16_t> ports;
  };
  std::map<std::pair<IpAddress, uint8_t>, Tally> tallies;
  for (const IpAddress& a : order) {
    tallies[{a, IPPROTO_TCP}];
    tallies[{a, IPPROTO_UDP}];
  }
  for (const ConntrackReplyDestination& e : entries) {
    if (!e.live || std::find(order.begin(), order.end(), e.address) == order.end()) continue;
    Tally& t = tallies[{e.address, e.protocol}];
    ++t.flows;
    t.ports.insert(e.port);
  }
  std::vector<NatPortUsage> out;
  for (const IpAddress& a : order) {
    for (uint8_t protocol : {uint8_t{IPPROTO_TCP}, uint8_t{IPPROTO_UDP}}) {
      const Tally& t = tallies[{a, protocol}];
      out.push_back({a, protocol, t.flows, t.ports.size()});
    }
    for (const auto& [key, t] : tallies) {
      if (key.first != a || key.second == IPPROTO_TCP || key.second == IPPROTO_UDP) continue;
      out.push_back({a, key.second, t.flows, t.ports.size()});
    }
  }
  return out;
}

Result<std::vector<NatPortUsage>> countNatPorts(const std::vector<IpAddress>& natAddresses,
                                                std::string_view what) {
  ReplyDumpState state;
  state.wanted.insert(natAddresses.begin(), natAddresses.end());
  if (!state.wanted.empty()) {
    Handle dumper(nfct_open(CONNTRACK, 0));
    if (!dumper) return kernelError(errno, std::string(what) + " (open conntrack socket)");
    if (nfct_callback_register(dumper.get(), NFCT_T_ALL, collectReply, &state) != 0) {
      return kernelError(errno, std::string(what) + " (register conntrack callback)");
    }
    uint32_t family = AF_UNSPEC;
    if (nfct_query(dumper.get(), NFCT_Q_DUMP, &family) != 0) {
      return kernelError(errno, std::string(what) + " (dump conntrack table)");
    }
  }
  return tallyNatPorts(natAddresses, state.entries);
}

// The provider flows of the eBPF fast path in `ns` (its pinned pl_flow, fast_path_maps.h) whose
// NAT IP is one of `natAddresses`; none when the map is not pinned.
static std::vector<ConntrackReplyDestination> fastPathNatFlows(const std::string& ns,
                                                        const std::vector<IpAddress>& natAddresses,
                                                        uint64_t nowNs) {
  std::vector<ConntrackReplyDestination> out;
  const std::string path = std::string("/sys/fs/bpf/privlink/") + ns + "/" + PL_FP_MAP_FLOW;
  const int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return out;  // no provider flows in eBPF here
  UniqueFd map(fd);
  const std::set<IpAddress> wanted(natAddresses.begin(), natAddresses.end());
  pl_flow_key key{};
  pl_flow_key next{};
  pl_flow_value value{};
  const void* previous = nullptr;
  while (bpf_map_get_next_key(map.get(), previous, &next) == 0) {
    key = next;
    previous = &key;
    if (bpf_map_lookup_elem(map.get(), &key, &value) != 0) continue;
    ConntrackReplyDestination e;
    e.address = IpAddress::v4(ntohl(value.nat_ip));
    if (!wanted.count(e.address)) continue;
    e.port = ntohs(value.nat_port);
    e.protocol = value.proto;
    e.live = value.proto == IPPROTO_TCP ? !PL_FLOW_CLOSED(value.state)
                                        : nowNs - value.last_seen <= PL_FP_UDP_IDLE_NS;
    out.push_back(e);
  }
  return out;
}

Result<std::vector<NatPortUsage>> countNatPortsInNamespace(
    const std::string& ns, const std::vector<IpAddress>& natAddresses) {
  std::vector<ConntrackReplyDestination> flows;
  {
    ASSIGN_OR_RETURN(NetnsHandle handle, NetnsHandle::open(ns));
    ASSIGN_OR_RETURN(NamespaceGuard guard, NamespaceGuard::enter(handle));
    ReplyDumpState state;
    state.wanted.insert(natAddresses.begin(), natAddresses.end());
    if (!state.wanted.empty()) {
      const std::string what = "counting NAT ports in namespace " + ns;
      Handle dumper(nfct_open(CONNTRACK, 0));
      if (!dumper) return kernelError(errno, what + " (open conntrack socket)");
      if (nfct_callback_register(dumper.get(), NFCT_T_ALL, collectReply, &state) != 0) {
        return kernelError(errno, what + " (register conntrack callback)");
      }
      uint32_t family = AF_UNSPEC;
      if (nfct_query(dumper.get(), NFCT_Q_DUMP, &family) != 0) {
        return kernelError(errno, what + " (dump conntrack table)");
      }
    }
    flows = std::move(state.entries);
  }
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t nowNs = uint64_t(now.tv_sec) * 1000000000ull + uint64_t(now.tv_nsec);
  for (const ConntrackReplyDestination& e : fastPathNatFlows(ns, natAddresses, nowNs)) {
    flows.push_back(e);
  }
  return tallyNatPorts(natAddresses, flows);
}

bool conntrackMatches(const ConntrackFilter& filter, const ConntrackTuple& entry) {
  if (filter.originalSource && *filter.originalSource != entry.originalSource) return false;
  if (filter.originalDestination && *filter.originalDestination != entry.originalDestination) {
    return false;
  }
  if (!filter.originalDestinationIn.empty() &&
      !std::binary_search(filter.originalDestinationIn.begin(), filter.originalDestinationIn.end(),
                          entry.originalDestination)) {
    return false;
  }
  if (filter.replySource && *filter.replySource != entry.replySource) return false;
  if (filter.zone && *filter.zone != entry.zone) return false;
  return true;
}

Result<int> deleteConntrackEntries(const ConntrackFilter& filter, std::string_view what) {
  DumpState state{&filter, {}, false};
  {
    Handle dumper(nfct_open(CONNTRACK, 0));
    if (!dumper) return kernelError(errno, std::string(what) + " (open conntrack socket)");
    if (nfct_callback_register(dumper.get(), NFCT_T_ALL, collect, &state) != 0) {
      return kernelError(errno, std::string(what) + " (register conntrack callback)");
    }
    uint32_t family = AF_UNSPEC;
    if (nfct_query(dumper.get(), NFCT_Q_DUMP, &family) != 0) {
      return kernelError(errno, std::string(what) + " (dump conntrack table)");
    }
  }
  if (state.outOfMemory) return Status::Internal(std::string(what) + ": out of memory");
  // A second handle: destroying from inside the dump callback would interleave requests.
  Handle destroyer(nfct_open(CONNTRACK, 0));
  if (!destroyer) return kernelError(errno, std::string(what) + " (open conntrack socket)");
  int deleted = 0;
  for (const Entry& entry : state.matches) {
    if (nfct_query(destroyer.get(), NFCT_Q_DESTROY, entry.get()) == 0) {
      ++deleted;
    } else if (errno != ENOENT) {  // ENOENT: it expired meanwhile
      return kernelError(errno, std::string(what) + " (delete conntrack entry)");
    }
  }
  return deleted;
}

}  // namespace privlink::dataplane
