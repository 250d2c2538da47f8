#include "proxy/proxy_protocol.h"

#include <algorithm>
#include <string>

namespace privlink::proxy {
namespace {

constexpr uint8_t kVersion2 = 0x2;
constexpr uint8_t kFamilyUnspec = 0x0;
constexpr uint8_t kFamilyInet = 0x1;
constexpr uint8_t kFamilyInet6 = 0x2;
constexpr uint8_t kFamilyUnix = 0x3;
constexpr std::size_t kInetBlock = 12;   // 4 + 4 + 2 + 2
constexpr std::size_t kInet6Block = 36;  // 16 + 16 + 2 + 2
constexpr std::size_t kTlvHeader = 3;

Status invalid(std::string message) {
  return Status::InvalidArgument(kInvalidProxyHeaderCode, std::move(message));
}

void putU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

uint16_t getU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

void putAddress(std::vector<uint8_t>& out, const IpAddress& a) {
  const auto& b = a.bytes();
  if (a.isV4()) {
    out.insert(out.end(), b.end() - 4, b.end());
  } else {
    out.insert(out.end(), b.begin(), b.end());
  }
}

IpAddress readAddress(const uint8_t* p, bool v4) {
  if (v4) {
    return IpAddress::v4((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
                         uint32_t{p[3]});
  }
  std::array<uint8_t, 16> bytes{};
  std::copy(p, p + 16, bytes.begin());
  return IpAddress::v6(bytes);
}

std::string hexByte(uint8_t b) {
  static const char* kHex = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 0xf];
}

}  // namespace

const std::array<uint8_t, kProxyV2SignatureSize>& proxyV2Signature() {
  static const std::array<uint8_t, kProxyV2SignatureSize> kSig = {
      0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  return kSig;
}

ProxyHeader ProxyHeader::tcp(const IpAddress& client, uint16_t clientPort,
                             const IpAddress& endpoint, uint16_t endpointPort,
                             std::optional<uint32_t> linkId) {
  ProxyHeader h;
  h.command = ProxyCommand::kProxy;
  h.transport = ProxyTransport::kStream;
  h.sourceAddress = client;
  h.sourcePort = clientPort;
  h.destinationAddress = endpoint;
  h.destinationPort = endpointPort;
  h.azureLinkId = linkId;
  return h;
}

Result<std::vector<uint8_t>> encodeProxyHeader(const ProxyHeader& header) {
  // Values first: the family byte, the body length; then bytes.
  uint8_t famProto = 0;
  std::size_t body = 0;
  if (header.command == ProxyCommand::kProxy) {
    if (header.sourceAddress.family() != header.destinationAddress.family()) {
      return invalid("PROXY header source " + header.sourceAddress.toString() +
                     " and destination " + header.destinationAddress.toString() +
                     " are of different address families; use two IPv4 or two IPv6 addresses");
    }
    const bool v4 = header.sourceAddress.isV4();
    famProto = static_cast<uint8_t>(((v4 ? kFamilyInet : kFamilyInet6) << 4) |
                                    static_cast<uint8_t>(header.transport));
    body = v4 ? kInetBlock : kInet6Block;
  }
  if (header.azureLinkId) body += kTlvHeader + 5;
  for (const auto& tlv : header.otherTlvs) {
    if (tlv.value.size() > 0xffff) {
      return invalid("PROXY header TLV type " + hexByte(tlv.type) + " has " +
                     std::to_string(tlv.value.size()) + " bytes; a TLV value holds at most 65535");
    }
    body += kTlvHeader + tlv.value.size();
  }
  if (body > 0xffff) {
    return invalid("PROXY header body of " + std::to_string(body) +
                   " bytes exceeds 65535; send fewer or smaller TLVs");
  }

  std::vector<uint8_t> out;
  out.reserve(kProxyV2FixedSize + body);
  const auto& sig = proxyV2Signature();
  out.insert(out.end(), sig.begin(), sig.end());
  out.push_back(static_cast<uint8_t>((kVersion2 << 4) | static_cast<uint8_t>(header.command)));
  out.push_back(famProto);
  putU16(out, static_cast<uint16_t>(body));
  if (header.command == ProxyCommand::kProxy) {
    putAddress(out, header.sourceAddress);
    putAddress(out, header.destinationAddress);
    putU16(out, header.sourcePort);
    putU16(out, header.destinationPort);
  }
  if (header.azureLinkId) {
    const uint32_t id = *header.azureLinkId;
    out.push_back(kPp2TypeAzure);
    putU16(out, 5);
    out.push_back(kPp2SubtypeAzurePrivateEndpointLinkId);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(id >> (8 * i)));  // LE
  }
  for (const auto& tlv : header.otherTlvs) {
    out.push_back(tlv.type);
    putU16(out, static_cast<uint16_t>(tlv.value.size()));
    out.insert(out.end(), tlv.value.begin(), tlv.value.end());
  }
  return out;
}

Result<ProxyParse> parseProxyHeader(std::span<const uint8_t> input, std::size_t maxLength) {
  const auto& sig = proxyV2Signature();
  const std::size_t sigAvail = std::min(input.size(), sig.size());
  for (std::size_t i = 0; i < sigAvail; ++i) {
    if (input[i] != sig[i]) {
      return invalid("PROXY v2 signature mismatch at byte " + std::to_string(i) + " (got " +
                     hexByte(input[i]) + ", want " + hexByte(sig[i]) +
                     "); the peer is not sending a PROXY protocol v2 header");
    }
  }
  if (input.size() < kProxyV2FixedSize) {
    return ProxyParse{.complete = false, .size = kProxyV2FixedSize, .header = {}};
  }
  const uint8_t verCmd = input[12];
  if ((verCmd >> 4) != kVersion2) {
    return invalid("PROXY protocol version " + std::to_string(verCmd >> 4) +
                   " is not supported; only version 2 is");
  }
  const uint8_t cmd = verCmd & 0x0f;
  if (cmd != static_cast<uint8_t>(ProxyCommand::kLocal) &&
      cmd != static_cast<uint8_t>(ProxyCommand::kProxy)) {
    return invalid("PROXY command " + hexByte(cmd) + " is unknown; expected LOCAL (0x0) or PROXY (0x1)");
  }
  const uint8_t famProto = input[13];
  const uint8_t family = famProto >> 4;
  const uint8_t transport = famProto & 0x0f;
  if (family > kFamilyUnix) {
    return invalid("PROXY address family " + hexByte(family) + " is unknown");
  }
  if (transport > static_cast<uint8_t>(ProxyTransport::kDatagram)) {
    return invalid("PROXY transport protocol " + hexByte(transport) + " is unknown");
  }
  const std::size_t length = getU16(&input[14]);
  if (length > maxLength) {
    return invalid("PROXY header length " + std::to_string(length) + " exceeds the limit of " +
                   std::to_string(maxLength) + " bytes");
  }
  ProxyParse result;
  result.size = kProxyV2FixedSize + length;
  result.header.command = static_cast<ProxyCommand>(cmd);
  if (cmd == static_cast<uint8_t>(ProxyCommand::kProxy)) {
    if (family != kFamilyInet && family != kFamilyInet6) {
      return invalid("PROXY command with address family " + hexByte(family) +
                     " is not supported; privlink accepts only INET and INET6");
    }
    if (transport == 0) {
      return invalid("PROXY command with UNSPEC transport; expected STREAM or DGRAM");
    }
    const std::size_t block = family == kFamilyInet ? kInetBlock : kInet6Block;
    if (length < block) {
      return invalid("PROXY header length " + std::to_string(length) + " is shorter than the " +
                     std::to_string(block) + "-byte address block of its family");
    }
  }
  if (input.size() < result.size) {
    result.complete = false;
    return result;
  }
  result.complete = true;
  if (cmd == static_cast<uint8_t>(ProxyCommand::kLocal)) return result;

  const uint8_t* p = input.data() + kProxyV2FixedSize;
  const bool v4 = family == kFamilyInet;
  const std::size_t alen = v4 ? 4 : 16;
  ProxyHeader& h = result.header;
  h.transport = static_cast<ProxyTransport>(transport);
  h.sourceAddress = readAddress(p, v4);
  h.destinationAddress = readAddress(p + alen, v4);
  h.sourcePort = getU16(p + 2 * alen);
  h.destinationPort = getU16(p + 2 * alen + 2);

  std::size_t off = 2 * alen + 4;
  const uint8_t* body = p;
  while (off < length) {
    if (length - off < kTlvHeader) {
      return invalid("PROXY TLV header at offset " + std::to_string(kProxyV2FixedSize + off) +
                     " is truncated: " + std::to_string(length - off) + " bytes left, need 3");
    }
    const uint8_t type = body[off];
    const std::size_t vlen = getU16(body + off + 1);
    off += kTlvHeader;
    if (vlen > length - off) {
      return invalid("PROXY TLV type " + hexByte(type) + " declares " + std::to_string(vlen) +
                     " bytes but only " + std::to_string(length - off) + " remain in the header");
    }
    const uint8_t* value = body + off;
    off += vlen;
    if (type == kPp2TypeAzure) {
      if (vlen < 1) return invalid("PROXY Azure TLV (0xee) is empty; it must carry a subtype");
      if (value[0] == kPp2SubtypeAzurePrivateEndpointLinkId) {
        if (vlen != 5) {
          return invalid("PROXY Azure LinkID TLV has " + std::to_string(vlen) +
                         " bytes; it must be exactly 5 (subtype + uint32 LinkID)");
        }
        if (h.azureLinkId) return invalid("PROXY header carries two Azure LinkID TLVs");
        h.azureLinkId = uint32_t{value[1]} | (uint32_t{value[2]} << 8) |
                        (uint32_t{value[3]} << 16) | (uint32_t{value[4]} << 24);
        continue;
      }
    }
    h.otherTlvs.push_back(ProxyTlv{type, std::vector<uint8_t>(value, value + vlen)});
  }
  return result;
}

}  // namespace privlink::proxy
