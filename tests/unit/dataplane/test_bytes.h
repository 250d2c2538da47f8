#pragma once
// Bytes: spells out expected wire bytes field by field (little-endian host, as netlink is), so
// byte-for-byte tests read like the structure they check.

#include <cstdint>
#include <string>
#include <vector>

namespace privlink::dataplane {

class Bytes {
 public:
  Bytes& u8(uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  Bytes& u16(uint16_t v) { return u8(v & 0xff).u8(v >> 8); }
  Bytes& u32(uint32_t v) { return u16(v & 0xffff).u16(v >> 16); }
  Bytes& zeros(size_t n) {
    b_.insert(b_.end(), n, 0);
    return *this;
  }
  // Characters, then a NUL.
  Bytes& cstr(const std::string& s) {
    b_.insert(b_.end(), s.begin(), s.end());
    return u8(0);
  }
  Bytes& raw(std::initializer_list<uint8_t> bytes) {
    b_.insert(b_.end(), bytes);
    return *this;
  }
  // Pads with zeros to a multiple of 4.
  Bytes& pad() { return zeros((4 - b_.size() % 4) % 4); }
  // An attribute header.
  Bytes& attr(uint16_t length, uint16_t type) { return u16(length).u16(type); }
  // A netlink header.
  Bytes& nlmsg(uint32_t length, uint16_t type, uint16_t flags, uint32_t seq = 0, uint32_t pid = 0) {
    return u32(length).u16(type).u16(flags).u32(seq).u32(pid);
  }
  const std::vector<uint8_t>& bytes() const { return b_; }
  size_t size() const { return b_.size(); }

 private:
  std::vector<uint8_t> b_;
};

}  // namespace privlink::dataplane
