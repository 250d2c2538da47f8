// Raw nf_tables netlink through libnftnl (message layout) and libmnl (socket): element batches,
// the generation id and the table list, none of which reads a set's elements.
#include "dataplane/nft_batch.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>

#include "dataplane/kernel_error.h"
#include "dataplane/kernel_names.h"
#include "dataplane/unique_fd.h"

namespace privlink::dataplane {
namespace {

// nftables datatype ids (nftables' include/datatype.h) and the width of one concatenation part.
constexpr uint32_t kTypeIpv4 = 7;
constexpr uint32_t kTypeIpv6 = 8;
constexpr uint32_t kTypeInetProto = 12;
constexpr uint32_t kTypeInetService = 13;
constexpr uint32_t kTypeMark = 19;
constexpr uint32_t kTypeBits = 6;
constexpr size_t kReceiveBufferSize = 64 * 1024;

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

std::vector<uint32_t> typeParts(uint32_t type) {
  std::vector<uint32_t> parts;
  int n = 0;
  for (uint32_t t = type; t != 0; t >>= kTypeBits) ++n;
  while (n > 0) {
    const uint32_t id = (type >> (--n * kTypeBits)) & ((1u << kTypeBits) - 1);
    if (id == 0) break;
    parts.push_back(id);
  }
  return parts;
}

bool parseUnsigned(const std::string& text, int base, uint64_t max, uint64_t* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, base);
  if (errno != 0 || end == nullptr || *end != '\0' || v > max || text[0] == '-') return false;
  *out = v;
  return true;
}

// One part, unpadded. Empty on a parse error.
std::vector<uint8_t> encodePart(uint32_t id, const std::string& text) {
  std::vector<uint8_t> out;
  uint64_t v = 0;
  switch (id) {
    case kTypeIpv4: {
      in_addr a{};
      if (inet_pton(AF_INET, text.c_str(), &a) != 1) return {};
      out.resize(4);
      std::memcpy(out.data(), &a, 4);
      return out;
    }
    case kTypeIpv6: {
      in6_addr a{};
      if (inet_pton(AF_INET6, text.c_str(), &a) != 1) return {};
      out.resize(16);
      std::memcpy(out.data(), &a, 16);
      return out;
    }
    case kTypeMark: {
      if (!parseUnsigned(text, 0, 0xffffffffu, &v)) return {};
      const uint32_t mark = static_cast<uint32_t>(v);  // host byte order, as meta mark
      out.resize(4);
      std::memcpy(out.data(), &mark, 4);
      return out;
    }
    case kTypeInetProto: {
      static const std::map<std::string, uint8_t> kNames = {
          {"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47},
          {"esp", 50}, {"ah", 51}, {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136}};
      auto it = kNames.find(text);
      if (it != kNames.end()) return {it->second};
      if (!parseUnsigned(text, 10, 255, &v)) return {};
      return {static_cast<uint8_t>(v)};
    }
    case kTypeInetService: {
      if (!parseUnsigned(text, 10, 65535, &v)) return {};
      const uint16_t port = htons(static_cast<uint16_t>(v));
      out.resize(2);
      std::memcpy(out.data(), &port, 2);
      return out;
    }
    default:
      return {};
  }
}

int familyNumber(const std::string& family) {
  static const std::map<std::string, int> kFamilies = {
      {"ip", NFPROTO_IPV4},     {"ip6", NFPROTO_IPV6},     {"inet", NFPROTO_INET},
      {"arp", NFPROTO_ARP},     {"bridge", NFPROTO_BRIDGE}, {"netdev", NFPROTO_NETDEV}};
  auto it = kFamilies.find(family);
  return it == kFamilies.end() ? -1 : it->second;
}

std::string familyName(int family) {
  switch (family) {
    case NFPROTO_IPV4:
      return "ip";
    case NFPROTO_IPV6:
      return "ip6";
    case NFPROTO_INET:
      return "inet";
    case NFPROTO_ARP:
      return "arp";
    case NFPROTO_BRIDGE:
      return "bridge";
    case NFPROTO_NETDEV:
      return "netdev";
  }
  return "family" + std::to_string(family);
}

struct SocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using Socket = std::unique_ptr<mnl_socket, SocketCloser>;

Result<Socket> openSocket(std::string_view what) {
  // Above the select() range, like NetlinkSocket (unique_fd.h): libnftables uses select().
  int fd = moveAboveSelectRange(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (fd < 0) return kernelError(errno, std::string(what) + " (open netlink socket)");
  Socket socket(mnl_socket_fdopen(fd));
  if (!socket) {
    const int error = errno;
    ::close(fd);
    return kernelError(error, std::string(what) + " (adopt netlink socket)");
  }
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return kernelError(errno, std::string(what) + " (bind netlink socket)");
  }
  int on = 1;
  mnl_socket_setsockopt(socket.get(), NETLINK_EXT_ACK, &on, sizeof on);
  mnl_socket_setsockopt(socket.get(), NETLINK_CAP_ACK, &on, sizeof on);
  timeval timeout{.tv_sec = 30, .tv_usec = 0};
  setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return socket;
}

// The extended-ack message of an NLMSG_ERROR, "" when none.
std::string extackMessage(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  const auto* start = reinterpret_cast<const uint8_t*>(err) + offset;
  const auto* end = reinterpret_cast<const uint8_t*>(nlh) + nlh->nlmsg_len;
  for (const auto* p = start; p + sizeof(nlattr) <= end;) {
    const auto* attr = reinterpret_cast<const nlattr*>(p);
    if (attr->nla_len < sizeof(nlattr) || p + attr->nla_len > end) break;
    if ((attr->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      return std::string(reinterpret_cast<const char*>(p + sizeof(nlattr)),
                         strnlen(reinterpret_cast<const char*>(p + sizeof(nlattr)),
                                 attr->nla_len - sizeof(nlattr)));
    }
    p += NLA_ALIGN(attr->nla_len);
  }
  return "";
}

// Sends `bytes` and reads replies until `acks` acknowledgements arrived (a dump: until
// NLMSG_DONE when `acks` is 0). Data messages go to `onMessage`. The first error wins.
Status exchange(mnl_socket* socket, const void* bytes, size_t size, int acks,
                const std::function<Status(const nlmsghdr*)>& onMessage, std::string_view what) {
  if (mnl_socket_sendto(socket, bytes, size) < 0) {
    return kernelError(errno, std::string(what) + " (send)");
  }
  const uint32_t portId = mnl_socket_get_portid(socket);
  std::vector<char> buffer(kReceiveBufferSize);
  int acked = 0;
  Status handler;
  while (true) {
    ssize_t n = mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return kernelError(errno, std::string(what) + " (receive)");
    }
    int remaining = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
         mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
      if (nlh->nlmsg_pid != portId) continue;
      if (nlh->nlmsg_type == NLMSG_DONE) return handler;
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (err->error != 0) return kernelError(-err->error, what, extackMessage(nlh));
        if (++acked >= acks && acks > 0) return handler;
        continue;
      }
      if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_OVERRUN) continue;
      if (onMessage && handler.ok()) handler = onMessage(nlh);
    }
  }
}

struct SetFree {
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};
struct ObjFree {
  void operator()(nftnl_obj* o) const { nftnl_obj_free(o); }
};
struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct GenFree {
  void operator()(nftnl_gen* g) const { nftnl_gen_free(g); }
};

uint32_t initialSequence() { return static_cast<uint32_t>(std::time(nullptr)); }

}  // namespace

Result<std::vector<uint8_t>> encodeNftValue(uint32_t type, uint32_t length,
                                            std::string_view text) {
  const std::vector<uint32_t> parts = typeParts(type);
  if (parts.empty()) {
    return Status::InvalidArgument("InvalidNftElement", "nft datatype " + std::to_string(type) + " is not supported");
  }
  std::vector<std::string> texts;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find(" . ", start);
    texts.push_back(trimmed(text.substr(start, dot == std::string_view::npos ? dot : dot - start)));
    if (dot == std::string_view::npos) break;
    start = dot + 3;
  }
  if (texts.size() != parts.size()) {
    return Status::InvalidArgument("InvalidNftElement", "nft value '" + std::string(text) + "' has " +
                                   std::to_string(texts.size()) + " parts, its type " +
                                   std::to_string(parts.size()));
  }
  std::vector<uint8_t> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<uint8_t> part = encodePart(parts[i], texts[i]);
    if (part.empty()) {
      return Status::InvalidArgument("InvalidNftElement", "nft value '" + texts[i] + "' does not parse as datatype " +
                                     std::to_string(parts[i]));
    }
    if (parts.size() > 1) part.resize((part.size() + 3) / 4 * 4, 0);
    out.insert(out.end(), part.begin(), part.end());
  }
  if (out.size() != length) {
    return Status::InvalidArgument("InvalidNftElement", "nft value '" + std::string(text) + "' encodes to " +
                                   std::to_string(out.size()) + " bytes, the set wants " +
                                   std::to_string(length));
  }
  return out;
}

Result<std::vector<NftSetLayout>> nftSetLayouts(const std::string& family,
                                                const std::string& table, std::string_view what) {
  RETURN_IF_ERROR(validateNftFamily(family));
  RETURN_IF_ERROR(validatePlainName(table, "nft table name"));
  ASSIGN_OR_RETURN(Socket socket, openSocket(what));
  char buffer[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETSET, familyNumber(family),
                                        NLM_F_DUMP, initialSequence());
  std::unique_ptr<nftnl_set, SetFree> filter(nftnl_set_alloc());
  if (!filter) return Status::Internal(std::string(what) + ": out of memory");
  nftnl_set_set_str(filter.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_nlmsg_build_payload(nlh, filter.get());
  std::vector<NftSetLayout> out;
  RETURN_IF_ERROR(exchange(
      socket.get(), nlh, nlh->nlmsg_len, 0,
      [&](const nlmsghdr* reply) -> Status {
        std::unique_ptr<nftnl_set, SetFree> s(nftnl_set_alloc());
        if (!s || nftnl_set_nlmsg_parse(reply, s.get()) < 0) {
          return Status::Internal(std::string(what) + ": cannot parse a set");
        }
        const char* t = nftnl_set_get_str(s.get(), NFTNL_SET_TABLE);
        if (t == nullptr || table != t) return Status::Ok();
        NftSetLayout layout;
        layout.name = nftnl_set_get_str(s.get(), NFTNL_SET_NAME);
        layout.keyType = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE);
        layout.keyLength = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN);
        if (nftnl_set_is_set(s.get(), NFTNL_SET_DATA_TYPE)) {
          layout.dataType = nftnl_set_get_u32(s.get(), NFTNL_SET_DATA_TYPE);
          layout.dataLength = nftnl_set_get_u32(s.get(), NFTNL_SET_DATA_LEN);
        }
        const uint32_t flags = nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS);
        layout.objectMap = (flags & NFT_SET_OBJECT) != 0;
        out.push_back(std::move(layout));
        return Status::Ok();
      },
      what));
  return out;
}

Status nftUpdateElementsHere(const std::string& family, const std::string& table,
                             const std::vector<NftElementChange>& changes,
                             std::string_view what) {
  RETURN_IF_ERROR(validateNftFamily(family));
  RETURN_IF_ERROR(validatePlainName(table, "nft table name"));
  if (changes.empty()) return Status::Ok();
  const int fam = familyNumber(family);
  ASSIGN_OR_RETURN(std::vector<NftSetLayout> layouts, nftSetLayouts(family, table, what));
  std::map<std::string, const NftSetLayout*> bySet;
  for (const NftSetLayout& l : layouts) bySet[l.name] = &l;

  // Every message is small (one element); the batch grows as needed.
  std::vector<char> batchBuffer(std::max<size_t>(MNL_SOCKET_BUFFER_SIZE,
                                                 (changes.size() + 2) * 512));
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(batchBuffer.data(), batchBuffer.size());
  struct BatchStop {
    void operator()(mnl_nlmsg_batch* b) const { mnl_nlmsg_batch_stop(b); }
  };
  std::unique_ptr<mnl_nlmsg_batch, BatchStop> batchGuard(batch);
  uint32_t sequence = initialSequence();
  nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch)), sequence++);
  mnl_nlmsg_batch_next(batch);
  for (const NftElementChange& change : changes) {
    auto* at = static_cast<char*>(mnl_nlmsg_batch_current(batch));
    if (change.set.empty()) {
      RETURN_IF_ERROR(validatePlainName(change.key, "nft counter name"));
      std::unique_ptr<nftnl_obj, ObjFree> obj(nftnl_obj_alloc());
      if (!obj) return Status::Internal(std::string(what) + ": out of memory");
      nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table.c_str());
      nftnl_obj_set_str(obj.get(), NFTNL_OBJ_NAME, change.key.c_str());
      nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
      if (change.add) {
        nftnl_obj_set_u64(obj.get(), NFTNL_OBJ_CTR_PKTS, 0);
        nftnl_obj_set_u64(obj.get(), NFTNL_OBJ_CTR_BYTES, 0);
      }
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(
          at, change.add ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ, fam,
          static_cast<uint16_t>((change.add ? NLM_F_CREATE : 0) | NLM_F_ACK), sequence++);
      nftnl_obj_nlmsg_build_payload(nlh, obj.get());
    } else {
      auto layout = bySet.find(change.set);
      if (layout == bySet.end()) {
        return kernelError(ENOENT, std::string(what) + ": set " + change.set + " of table " +
                                       family + " " + table);
      }
      const NftSetLayout& l = *layout->second;
      ASSIGN_OR_RETURN(std::vector<uint8_t> key,
                       encodeNftValue(l.keyType, l.keyLength, change.key));
      std::unique_ptr<nftnl_set, SetFree> set(nftnl_set_alloc());
      nftnl_set_elem* element = nftnl_set_elem_alloc();
      if (!set || element == nullptr) {
        if (element != nullptr) nftnl_set_elem_free(element);
        return Status::Internal(std::string(what) + ": out of memory");
      }
      nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, table.c_str());
      nftnl_set_set_str(set.get(), NFTNL_SET_NAME, change.set.c_str());
      nftnl_set_elem_add(set.get(), element);  // the set owns it from here
      nftnl_set_elem_set(element, NFTNL_SET_ELEM_KEY, key.data(), key.size());
      if (change.add && l.objectMap) {
        std::string name = trimmed(change.value);
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
          name = name.substr(1, name.size() - 2);
        }
        RETURN_IF_ERROR(validatePlainName(name, "nft object name"));
        nftnl_set_elem_set_str(element, NFTNL_SET_ELEM_OBJREF, name.c_str());
      } else if (change.add && l.dataLength > 0) {
        ASSIGN_OR_RETURN(std::vector<uint8_t> data,
                         encodeNftValue(l.dataType, l.dataLength, change.value));
        nftnl_set_elem_set(element, NFTNL_SET_ELEM_DATA, data.data(), data.size());
      } else if (change.add && !change.value.empty()) {
        return Status::InvalidArgument("InvalidNftElement", std::string(what) + ": " + change.set +
                                       " is a set, the element has a value");
      }
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(
          at, change.add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, fam,
          static_cast<uint16_t>((change.add ? NLM_F_CREATE : 0) | NLM_F_ACK), sequence++);
      nftnl_set_elems_nlmsg_build_payload(nlh, set.get());
    }
    if (!mnl_nlmsg_batch_next(batch)) {
      return Status::Internal(std::string(what) + ": batch buffer too small");
    }
  }
  nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch)), sequence++);
  mnl_nlmsg_batch_next(batch);

  ASSIGN_OR_RETURN(Socket socket, openSocket(what));
  return exchange(socket.get(), mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch),
                  static_cast<int>(changes.size()), {}, what);
}

Result<uint32_t> nftGenerationHere(std::string_view what) {
  ASSIGN_OR_RETURN(Socket socket, openSocket(what));
  char buffer[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
                                        initialSequence());
  std::optional<uint32_t> id;
  RETURN_IF_ERROR(exchange(
      socket.get(), nlh, nlh->nlmsg_len, 1,
      [&](const nlmsghdr* reply) -> Status {
        std::unique_ptr<nftnl_gen, GenFree> gen(nftnl_gen_alloc());
        if (!gen || nftnl_gen_nlmsg_parse(reply, gen.get()) < 0) {
          return Status::Internal(std::string(what) + ": cannot parse the generation");
        }
        id = nftnl_gen_get_u32(gen.get(), NFTNL_GEN_ID);
        return Status::Ok();
      },
      what));
  if (!id) return Status::Internal(std::string(what) + ": the kernel sent no generation");
  return *id;
}

Result<std::vector<std::string>> nftTableNamesHere(std::string_view what) {
  ASSIGN_OR_RETURN(Socket socket, openSocket(what));
  char buffer[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP,
                                        initialSequence());
  std::vector<std::string> out;
  RETURN_IF_ERROR(exchange(
      socket.get(), nlh, nlh->nlmsg_len, 0,
      [&](const nlmsghdr* reply) -> Status {
        std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
        if (!t || nftnl_table_nlmsg_parse(reply, t.get()) < 0) {
          return Status::Internal(std::string(what) + ": cannot parse a table");
        }
        out.push_back(familyName(static_cast<int>(nftnl_table_get_u32(t.get(),
                                                                      NFTNL_TABLE_FAMILY))) +
                      " " + nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME));
        return Status::Ok();
      },
      what));
  return out;
}

std::string nftElementChangesText(const std::string& family, const std::string& table,
                                  const std::vector<NftElementChange>& changes) {
  const std::string where = " " + family + " " + table + " ";
  std::string text;
  for (const NftElementChange& c : changes) {
    text += c.add ? "add " : "delete ";
    if (c.set.empty()) {
      text += "counter" + where + c.key + "\n";
    } else {
      text += "element" + where + c.set + " { " + c.key +
              (c.add && !c.value.empty() ? " : " + c.value : "") + " }\n";
    }
  }
  return text;
}

}  // namespace privlink::dataplane
