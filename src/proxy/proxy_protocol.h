#pragma once
// PROXY protocol version 2 (haproxy.org/download/2.6/doc/proxy-protocol.txt §2.2) with Azure's
// private-endpoint TLV (azure-private-link.md §1.3): `EE 00 05 01 <LinkID uint32 little-endian>`.
//
// The header is built as a value (ProxyHeader) and serialised separately (encodeProxyHeader), so
// tests compare bytes. parseProxyHeader reads untrusted input: it never asserts, never reads past
// the span, and reports a short buffer as "need more bytes" rather than an error, so a caller can
// feed it what it has received so far.
//
// Wire layout (all multi-byte fields big-endian except the Azure LinkID):
//   12 signature  0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
//    1 ver_cmd    0x20 LOCAL | 0x21 PROXY
//    1 fam_proto  0x11 TCP/IPv4, 0x12 UDP/IPv4, 0x21 TCP/IPv6, 0x22 UDP/IPv6, 0x00 UNSPEC
//    2 len        bytes that follow (addresses + TLVs)
//   12 | 36       src addr, dst addr, src port, dst port (IPv4 | IPv6)
//    * TLVs       type(1) length(2, big-endian) value(length)

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/ip.h"
#include "common/status.h"

namespace privlink::proxy {

inline constexpr std::size_t kProxyV2SignatureSize = 12;
inline constexpr std::size_t kProxyV2FixedSize = 16;  // signature + ver_cmd + fam + len
inline constexpr uint8_t kPp2TypeAzure = 0xEE;
inline constexpr uint8_t kPp2SubtypeAzurePrivateEndpointLinkId = 0x01;
// The ARM-style error code of every parse and encode failure.
inline constexpr const char* kInvalidProxyHeaderCode = "InvalidProxyProtocolHeader";

const std::array<uint8_t, kProxyV2SignatureSize>& proxyV2Signature();

enum class ProxyCommand : uint8_t { kLocal = 0x0, kProxy = 0x1 };
enum class ProxyTransport : uint8_t { kStream = 0x1, kDatagram = 0x2 };

// A TLV other than the Azure one, kept verbatim (type and value).
struct ProxyTlv {
  uint8_t type = 0;
  std::vector<uint8_t> value{};
  bool operator==(const ProxyTlv&) const = default;
};

// One PROXY v2 header as a value. For kProxy, source and destination must be of the same family
// (that family is the header's). For kLocal the addresses are not sent (family UNSPEC) and the
// other fields are ignored by the encoder; the parser leaves them default.
struct ProxyHeader {
  ProxyCommand command = ProxyCommand::kProxy;
  ProxyTransport transport = ProxyTransport::kStream;
  IpAddress sourceAddress{};
  uint16_t sourcePort = 0;
  IpAddress destinationAddress{};
  uint16_t destinationPort = 0;
  // The Azure private-endpoint LinkID TLV (type 0xEE, subtype 0x01), written first among TLVs.
  std::optional<uint32_t> azureLinkId{};
  // Other TLVs in wire order (the parser puts here every TLV except Azure subtype 0x01).
  std::vector<ProxyTlv> otherTlvs{};

  bool operator==(const ProxyHeader&) const = default;

  // The header privlink's splice proxy sends: PROXY, TCP, client -> private endpoint, LinkID.
  static ProxyHeader tcp(const IpAddress& client, uint16_t clientPort, const IpAddress& endpoint,
                         uint16_t endpointPort, std::optional<uint32_t> linkId);
};

// Serialises `header`. InvalidArgument (kInvalidProxyHeaderCode) if a kProxy header mixes address
// families or the TLVs do not fit the 16-bit length fields.
Result<std::vector<uint8_t>> encodeProxyHeader(const ProxyHeader& header);

// Outcome of parseProxyHeader on a well-formed-so-far input.
struct ProxyParse {
  bool complete = false;
  // complete: the header's total size (consume exactly this many bytes; payload follows).
  // !complete: the minimum total number of bytes needed before calling again (> input size).
  std::size_t size = 0;
  ProxyHeader header{};  // valid when complete
};

// Parses a PROXY v2 header at the start of `input`. Errors (InvalidArgument,
// kInvalidProxyHeaderCode, message naming the fault): bad signature (detected on the first wrong
// byte, without waiting for all 12), version not 2, command not LOCAL/PROXY, family not
// UNSPEC/INET/INET6 or transport not UNSPEC/STREAM/DGRAM, PROXY with UNSPEC or UNIX family,
// length shorter than the family's address block or longer than `maxLength`, a TLV header or
// value running past the end, an Azure TLV without subtype or whose LinkID subtype is not exactly
// 5 bytes, or two LinkID TLVs. For LOCAL the address block and TLVs are skipped unparsed.
Result<ProxyParse> parseProxyHeader(std::span<const uint8_t> input,
                                    std::size_t maxLength = 4096);

}  // namespace privlink::proxy
