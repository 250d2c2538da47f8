// NetlinkMessage builder and defensive reply parsing.
#include "dataplane/netlink_message.h"

#include <algorithm>
#include <cassert>

namespace privlink::dataplane {
namespace {

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

Status malformed(std::string what) { return Status::Internal("malformed netlink reply: " + what); }

}  // namespace

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags) : bytes_(sizeof(nlmsghdr), 0) {
  nlmsghdr* h = hdr();
  h->nlmsg_len = sizeof(nlmsghdr);
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
}

void NetlinkMessage::appendPadded(const void* data, size_t length) {
  size_t offset = bytes_.size();
  bytes_.resize(offset + align4(length), 0);
  if (length > 0) std::memcpy(bytes_.data() + offset, data, length);
  hdr()->nlmsg_len = static_cast<uint32_t>(bytes_.size());
}

NetlinkMessage& NetlinkMessage::attr(uint16_t type, const void* data, size_t length) {
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + length);
  a.nla_type = type;
  appendPadded(&a, sizeof a);
  appendPadded(data, length);
  return *this;
}

NetlinkMessage& NetlinkMessage::attrString(uint16_t type, std::string_view value) {
  std::string terminated(value);
  return attr(type, terminated.c_str(), terminated.size() + 1);
}

NetlinkMessage& NetlinkMessage::attrAddress(uint16_t type, const IpAddress& address) {
  const auto& bytes = address.bytes();
  if (address.isV4()) return attr(type, bytes.data() + 12, 4);
  return attr(type, bytes.data(), 16);
}

size_t NetlinkMessage::beginNested(uint16_t type) {
  size_t token = bytes_.size();
  nlattr a{};
  a.nla_type = type;
  appendPadded(&a, sizeof a);
  return token;
}

void NetlinkMessage::endNested(size_t token) {
  assert(token + NLA_HDRLEN <= bytes_.size());
  uint16_t length = static_cast<uint16_t>(bytes_.size() - token);
  std::memcpy(bytes_.data() + token, &length, sizeof length);  // nla_len is the first field
}

void NetlinkMessage::setSequence(uint32_t sequence) { hdr()->nlmsg_seq = sequence; }
uint16_t NetlinkMessage::type() const { return hdr()->nlmsg_type; }
uint16_t NetlinkMessage::flags() const { return hdr()->nlmsg_flags; }
uint32_t NetlinkMessage::sequence() const { return hdr()->nlmsg_seq; }

Result<std::vector<NetlinkMessageView>> splitMessages(std::span<const uint8_t> datagram) {
  std::vector<NetlinkMessageView> messages;
  size_t offset = 0;
  while (offset < datagram.size()) {
    size_t left = datagram.size() - offset;
    if (left < sizeof(nlmsghdr)) {
      return malformed(std::to_string(left) + " trailing bytes are shorter than a header");
    }
    nlmsghdr h;
    std::memcpy(&h, datagram.data() + offset, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > left) {
      return malformed("message length " + std::to_string(h.nlmsg_len) + " with " +
                       std::to_string(left) + " bytes left");
    }
    NetlinkMessageView view;
    view.type = h.nlmsg_type;
    view.flags = h.nlmsg_flags;
    view.sequence = h.nlmsg_seq;
    view.portId = h.nlmsg_pid;
    view.payload = datagram.subspan(offset + sizeof(nlmsghdr), h.nlmsg_len - sizeof(nlmsghdr));
    messages.push_back(view);
    offset += std::min(align4(h.nlmsg_len), left);
  }
  return messages;
}

std::span<const uint8_t> attributesAfter(std::span<const uint8_t> payload, size_t headerSize) {
  size_t start = align4(headerSize);
  if (start >= payload.size()) return {};
  return payload.subspan(start);
}

Result<NetlinkAttributes> NetlinkAttributes::parse(std::span<const uint8_t> data) {
  NetlinkAttributes attrs;
  size_t offset = 0;
  while (offset < data.size()) {
    size_t left = data.size() - offset;
    if (left < NLA_HDRLEN) {
      return malformed(std::to_string(left) + " trailing bytes are shorter than an attribute");
    }
    nlattr a;
    std::memcpy(&a, data.data() + offset, sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > left) {
      return malformed("attribute " + std::to_string(a.nla_type & NLA_TYPE_MASK) + " length " +
                       std::to_string(a.nla_len) + " with " + std::to_string(left) + " bytes left");
    }
    attrs.entries_.push_back(Entry{static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK),
                                   data.subspan(offset + NLA_HDRLEN, a.nla_len - NLA_HDRLEN)});
    offset += std::min(align4(a.nla_len), left);
  }
  return attrs;
}

std::optional<std::span<const uint8_t>> NetlinkAttributes::get(uint16_t type) const {
  for (const Entry& e : entries_) {
    if (e.type == type) return e.value;
  }
  return std::nullopt;
}

std::optional<uint8_t> NetlinkAttributes::u8(uint16_t type) const {
  auto v = get(type);
  if (!v || v->size() < 1) return std::nullopt;
  return (*v)[0];
}

std::optional<uint16_t> NetlinkAttributes::u16(uint16_t type) const {
  auto v = get(type);
  if (!v || v->size() < 2) return std::nullopt;
  uint16_t out;
  std::memcpy(&out, v->data(), 2);
  return out;
}

std::optional<uint32_t> NetlinkAttributes::u32(uint16_t type) const {
  auto v = get(type);
  if (!v || v->size() < 4) return std::nullopt;
  uint32_t out;
  std::memcpy(&out, v->data(), 4);
  return out;
}

std::optional<std::string> NetlinkAttributes::string(uint16_t type) const {
  auto v = get(type);
  if (!v) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(v->data()), v->size());
  size_t nul = out.find('\0');
  if (nul != std::string::npos) out.resize(nul);
  return out;
}

std::optional<IpAddress> NetlinkAttributes::address(uint16_t type) const {
  auto v = get(type);
  if (!v) return std::nullopt;
  if (v->size() == 4) {
    uint32_t hostOrder = (uint32_t{(*v)[0]} << 24) | (uint32_t{(*v)[1]} << 16) |
                         (uint32_t{(*v)[2]} << 8) | uint32_t{(*v)[3]};
    return IpAddress::v4(hostOrder);
  }
  if (v->size() == 16) {
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), v->data(), 16);
    return IpAddress::v6(bytes);
  }
  return std::nullopt;
}

Result<std::optional<NetlinkAttributes>> NetlinkAttributes::nested(uint16_t type) const {
  auto v = get(type);
  if (!v) return std::optional<NetlinkAttributes>();
  ASSIGN_OR_RETURN(NetlinkAttributes inner, parse(*v));
  return std::optional<NetlinkAttributes>(std::move(inner));
}

Result<std::optional<NetlinkError>> parseNetlinkError(const NetlinkMessageView& message) {
  if (message.type != NLMSG_ERROR) return std::optional<NetlinkError>();
  if (message.payload.size() < sizeof(nlmsgerr)) {
    return malformed("NLMSG_ERROR payload of " + std::to_string(message.payload.size()) + " bytes");
  }
  nlmsgerr err;
  std::memcpy(&err, message.payload.data(), sizeof err);
  NetlinkError out;
  out.error = err.error < 0 ? -err.error : err.error;
  if (message.flags & NLM_F_ACK_TLVS) {
    // The echoed request is only its header when NLM_F_CAPPED, else the whole request.
    size_t echoed = (message.flags & NLM_F_CAPPED) ? sizeof(nlmsghdr) : err.msg.nlmsg_len;
    size_t offset = align4(sizeof(int) + echoed);
    if (echoed < sizeof(nlmsghdr) || offset > message.payload.size()) {
      return malformed("NLMSG_ERROR echoes " + std::to_string(echoed) + " bytes in a payload of " +
                       std::to_string(message.payload.size()));
    }
    ASSIGN_OR_RETURN(NetlinkAttributes tlvs,
                     NetlinkAttributes::parse(message.payload.subspan(offset)));
    if (auto text = tlvs.string(NLMSGERR_ATTR_MSG)) out.message = *text;
  }
  return std::optional<NetlinkError>(std::move(out));
}

int doneError(const NetlinkMessageView& message) {
  if (message.payload.size() < sizeof(int)) return 0;
  int err;
  std::memcpy(&err, message.payload.data(), sizeof err);
  return err < 0 ? -err : err;
}

}  // namespace privlink::dataplane
