#pragma once
// Netlink messages as values (katran NetlinkMessage style): NetlinkMessage builds the exact bytes
// of one request, so every request privlink sends is unit-tested byte for byte before any socket
// is involved; splitMessages / NetlinkAttributes / parseNetlinkError read replies defensively —
// replies are external input, so malformed bytes become a Status, never a crash or an assert.

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/status.h"

namespace privlink::dataplane {

class NetlinkMessage {
 public:
  // A message of `type` with NLM_F_REQUEST | `flags`; sequence and port id 0 until set.
  NetlinkMessage(uint16_t type, uint16_t flags);

  // Appends the family header (ifinfomsg, ifaddrmsg, rtmsg, fib_rule_hdr, ...), padded to 4.
  template <typename Header>
  NetlinkMessage& header(const Header& h) {
    appendPadded(&h, sizeof h);
    return *this;
  }
  NetlinkMessage& attr(uint16_t type, const void* data, size_t length);
  NetlinkMessage& attrU8(uint16_t type, uint8_t value) { return attr(type, &value, 1); }
  NetlinkMessage& attrU16(uint16_t type, uint16_t value) { return attr(type, &value, 2); }
  NetlinkMessage& attrU32(uint16_t type, uint32_t value) { return attr(type, &value, 4); }
  // NUL-terminated, as the kernel expects for names.
  NetlinkMessage& attrString(uint16_t type, std::string_view value);
  // 4 bytes for IPv4, 16 for IPv6, network order.
  NetlinkMessage& attrAddress(uint16_t type, const IpAddress& address);
  // Opens a nested attribute; returns a token for endNested. Nesting may be deep.
  size_t beginNested(uint16_t type);
  void endNested(size_t token);

  void setSequence(uint32_t sequence);
  uint16_t type() const;
  uint16_t flags() const;
  uint32_t sequence() const;
  // The complete message, nlmsg_len included.
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  void appendPadded(const void* data, size_t length);
  nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(bytes_.data()); }
  const nlmsghdr* hdr() const { return reinterpret_cast<const nlmsghdr*>(bytes_.data()); }
  std::vector<uint8_t> bytes_;
};

// One message inside a received datagram; `payload` points into the datagram buffer.
struct NetlinkMessageView {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t sequence = 0;
  uint32_t portId = 0;
  std::span<const uint8_t> payload;
};

// Splits a datagram into messages. Internal error if a header is truncated or a length overruns.
Result<std::vector<NetlinkMessageView>> splitMessages(std::span<const uint8_t> datagram);

// Copies the fixed family header at the start of a payload; nullopt if the payload is too short.
template <typename Header>
std::optional<Header> readHeader(std::span<const uint8_t> payload) {
  if (payload.size() < sizeof(Header)) return std::nullopt;
  Header h;
  std::memcpy(&h, payload.data(), sizeof h);
  return h;
}
// The attributes after a family header of `headerSize` bytes (aligned to 4).
std::span<const uint8_t> attributesAfter(std::span<const uint8_t> payload, size_t headerSize);

// Attributes (TLVs) of one level. The first occurrence of a type wins.
class NetlinkAttributes {
 public:
  // Internal error if an attribute is shorter than its header or overruns the data.
  static Result<NetlinkAttributes> parse(std::span<const uint8_t> data);

  bool has(uint16_t type) const { return get(type).has_value(); }
  std::optional<std::span<const uint8_t>> get(uint16_t type) const;
  std::optional<uint8_t> u8(uint16_t type) const;
  std::optional<uint16_t> u16(uint16_t type) const;
  std::optional<uint32_t> u32(uint16_t type) const;  // nullopt if shorter than 4 bytes
  // Up to the first NUL (or the whole payload when there is none).
  std::optional<std::string> string(uint16_t type) const;
  // 4 bytes → IPv4, 16 bytes → IPv6, anything else → nullopt.
  std::optional<IpAddress> address(uint16_t type) const;
  // The nested attributes inside `type`; nullopt if absent, error if malformed.
  Result<std::optional<NetlinkAttributes>> nested(uint16_t type) const;

 private:
  struct Entry {
    uint16_t type;
    std::span<const uint8_t> value;
  };
  std::vector<Entry> entries_;
};

// An NLMSG_ERROR reply: error is 0 for an ACK, else a positive errno; message is the kernel's
// extended-ack text when it sent one.
struct NetlinkError {
  int error = 0;
  std::string message;
};
// nullopt if the message is not NLMSG_ERROR; Internal error if it is but is malformed.
Result<std::optional<NetlinkError>> parseNetlinkError(const NetlinkMessageView& message);
// The errno carried by NLMSG_DONE at the end of a dump (0 when the dump succeeded).
int doneError(const NetlinkMessageView& message);

}  // namespace privlink::dataplane
