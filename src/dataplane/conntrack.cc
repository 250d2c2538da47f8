// Conntrack dump-filter-destroy over libnetfilter_conntrack.
#include "dataplane/conntrack.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/kernel_error.h"

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

}  // namespace

bool conntrackMatches(const ConntrackFilter& filter, const ConntrackTuple& entry) {
  if (filter.originalSource && *filter.originalSource != entry.originalSource) return false;
  if (filter.originalDestination && *filter.originalDestination != entry.originalDestination) {
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
