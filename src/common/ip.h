#pragma once
// IPv4 and IPv6 addresses and prefixes, with Azure's subnet reservation rules.
// Values are immutable and cheap to copy; parsing untrusted text never throws.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace privlink {

enum class IpFamily { kV4, kV6 };

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(uint32_t hostOrder);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  // Accepts dotted quad or RFC 4291/5952 text; rejects leading zeros in IPv4 octets, ranges, etc.
  static std::optional<IpAddress> parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool isV4() const { return family_ == IpFamily::kV4; }
  uint32_t v4Value() const;                       // host order; only for IPv4
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }  // v4 in the last 4 bytes
  std::string toString() const;                   // canonical (RFC 5952 for IPv6)
  // this + n (wraps within the family's width); used for allocation.
  IpAddress plus(uint64_t n) const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  IpFamily family_ = IpFamily::kV4;
  std::array<uint8_t, 16> bytes_{};
};

class IpPrefix {
 public:
  IpPrefix() = default;
  // "10.0.0.0/16". Host bits must be zero (Azure refuses "10.0.0.1/16" with a clear error);
  // parse() reports which form was expected.
  static Result<IpPrefix> parse(std::string_view text);
  // Builds a prefix, clearing host bits.
  static IpPrefix of(const IpAddress& address, int length);

  const IpAddress& network() const { return network_; }
  int length() const { return length_; }
  IpFamily family() const { return network_.family(); }
  IpAddress last() const;  // broadcast for IPv4
  // Number of addresses, saturated at UINT64_MAX.
  uint64_t size() const;
  IpAddress at(uint64_t index) const;  // network().plus(index)
  bool contains(const IpAddress& address) const;
  bool contains(const IpPrefix& other) const;
  bool overlaps(const IpPrefix& other) const;
  std::string toString() const;

  // Azure reserves the network address, the first three host addresses (gateway and DNS) and the
  // last address of every subnet. For IPv6 the last address is not reserved.
  bool isAzureReserved(const IpAddress& address) const;
  IpAddress firstUsable() const { return at(4); }

  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddress network_;
  int length_ = 0;
};

}  // namespace privlink
