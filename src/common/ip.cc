#include "common/ip.h"

#include <arpa/inet.h>

#include <cstring>
#include <limits>

namespace privlink {
namespace {

int familyBits(IpFamily family) { return family == IpFamily::kV4 ? 32 : 128; }

// Strict dotted quad: exactly four decimal octets, no signs, no leading zeros, each <= 255.
std::optional<uint32_t> parseDottedQuad(std::string_view text) {
  uint32_t value = 0;
  int octets = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    uint32_t octet = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      octet = octet * 10 + static_cast<uint32_t>(text[i] - '0');
      if (i - start >= 3 || octet > 255) return std::nullopt;
      ++i;
    }
    size_t digits = i - start;
    if (digits == 0) return std::nullopt;
    if (digits > 1 && text[start] == '0') return std::nullopt;  // "010" would be octal to some
    value = (value << 8) | octet;
    ++octets;
    if (i == text.size()) break;
    if (text[i] != '.' || octets == 4) return std::nullopt;
    ++i;
  }
  if (octets != 4) return std::nullopt;
  return value;
}

// Clears every bit after the first `length` bits.
std::array<uint8_t, 16> maskBytes(const IpAddress& address, int length) {
  std::array<uint8_t, 16> bytes = address.bytes();
  int bits = familyBits(address.family());
  int offset = 128 - bits;  // IPv4 lives in the last four bytes
  for (int bit = length; bit < bits; ++bit) {
    int absolute = offset + bit;
    bytes[absolute / 8] &= static_cast<uint8_t>(~(0x80u >> (absolute % 8)));
  }
  return bytes;
}

IpAddress fromBytes(IpFamily family, const std::array<uint8_t, 16>& bytes) {
  if (family == IpFamily::kV4) {
    uint32_t v = (uint32_t{bytes[12]} << 24) | (uint32_t{bytes[13]} << 16) |
                 (uint32_t{bytes[14]} << 8) | uint32_t{bytes[15]};
    return IpAddress::v4(v);
  }
  return IpAddress::v6(bytes);
}

Status badPrefix(std::string_view text, std::string_view why) {
  std::string message = "'" + std::string(text) + "' is not a valid address prefix";
  if (!why.empty()) message += " (" + std::string(why) + ")";
  message += "; expected CIDR notation such as 10.0.0.0/16 or fd00::/64";
  return Status::InvalidArgument("InvalidAddressPrefixFormat", std::move(message));
}

}  // namespace

IpAddress IpAddress::v4(uint32_t hostOrder) {
  IpAddress a;
  a.family_ = IpFamily::kV4;
  a.bytes_[12] = static_cast<uint8_t>(hostOrder >> 24);
  a.bytes_[13] = static_cast<uint8_t>(hostOrder >> 16);
  a.bytes_[14] = static_cast<uint8_t>(hostOrder >> 8);
  a.bytes_[15] = static_cast<uint8_t>(hostOrder);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  if (text.find(':') == std::string_view::npos) {
    auto v = parseDottedQuad(text);
    if (!v) return std::nullopt;
    return v4(*v);
  }
  // inet_pton needs a NUL-terminated string; it rejects zone ids ("%eth0"), spaces and garbage.
  std::string copy(text);
  if (copy.find('\0') != std::string::npos) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return v6(bytes);
}

uint32_t IpAddress::v4Value() const {
  return (uint32_t{bytes_[12]} << 24) | (uint32_t{bytes_[13]} << 16) | (uint32_t{bytes_[14]} << 8) |
         uint32_t{bytes_[15]};
}

std::string IpAddress::toString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (isV4()) {
    inet_ntop(AF_INET, bytes_.data() + 12, buffer, sizeof buffer);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), buffer, sizeof buffer);
  }
  return buffer;
}

IpAddress IpAddress::plus(uint64_t n) const {
  if (isV4()) return v4(v4Value() + static_cast<uint32_t>(n));
  std::array<uint8_t, 16> out = bytes_;
  unsigned carry = 0;
  for (int i = 15; i >= 0; --i) {
    unsigned add = (15 - i) < 8 ? static_cast<unsigned>((n >> (8 * (15 - i))) & 0xff) : 0;
    unsigned sum = out[i] + add + carry;
    out[i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  return v6(out);
}

Result<IpPrefix> IpPrefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return badPrefix(text, "missing '/<length>'");
  std::string_view addressText = text.substr(0, slash);
  std::string_view lengthText = text.substr(slash + 1);
  auto address = IpAddress::parse(addressText);
  if (!address) return badPrefix(text, "'" + std::string(addressText) + "' is not an IP address");
  int maxLength = familyBits(address->family());
  if (lengthText.empty() || lengthText.size() > 3 ||
      (lengthText.size() > 1 && lengthText[0] == '0')) {
    return badPrefix(text,
                     "the prefix length must be a number from 0 to " + std::to_string(maxLength));
  }
  int length = 0;
  for (char c : lengthText) {
    if (c < '0' || c > '9') {
      return badPrefix(text,
                       "the prefix length must be a number from 0 to " + std::to_string(maxLength));
    }
    length = length * 10 + (c - '0');
  }
  if (length > maxLength) {
    return badPrefix(text,
                     "the prefix length must be a number from 0 to " + std::to_string(maxLength));
  }
  IpPrefix prefix = of(*address, length);
  if (prefix.network() != *address) {
    return Status::InvalidArgument(
        "InvalidAddressPrefixFormat",
        std::string(text) + " has host bits set; did you mean " + prefix.toString() + "?");
  }
  return prefix;
}

IpPrefix IpPrefix::of(const IpAddress& address, int length) {
  int bits = familyBits(address.family());
  if (length < 0) length = 0;
  if (length > bits) length = bits;
  IpPrefix p;
  p.network_ = fromBytes(address.family(), maskBytes(address, length));
  p.length_ = length;
  return p;
}

IpAddress IpPrefix::last() const {
  std::array<uint8_t, 16> bytes = network_.bytes();
  int bits = familyBits(family());
  int offset = 128 - bits;
  for (int bit = length_; bit < bits; ++bit) {
    int absolute = offset + bit;
    bytes[absolute / 8] |= static_cast<uint8_t>(0x80u >> (absolute % 8));
  }
  return fromBytes(family(), bytes);
}

uint64_t IpPrefix::size() const {
  int hostBits = familyBits(family()) - length_;
  if (hostBits >= 64) return std::numeric_limits<uint64_t>::max();
  return uint64_t{1} << hostBits;
}

IpAddress IpPrefix::at(uint64_t index) const { return network_.plus(index); }

bool IpPrefix::contains(const IpAddress& address) const {
  if (address.family() != family()) return false;
  return maskBytes(address, length_) == network_.bytes();
}

bool IpPrefix::contains(const IpPrefix& other) const {
  return other.family() == family() && other.length_ >= length_ && contains(other.network_);
}

bool IpPrefix::overlaps(const IpPrefix& other) const {
  return contains(other) || other.contains(*this);
}

std::string IpPrefix::toString() const {
  return network_.toString() + "/" + std::to_string(length_);
}

bool IpPrefix::isAzureReserved(const IpAddress& address) const {
  if (!contains(address)) return false;
  for (uint64_t i = 0; i < 4 && i < size(); ++i) {
    if (address == at(i)) return true;
  }
  return family() == IpFamily::kV4 && address == last();
}

}  // namespace privlink
