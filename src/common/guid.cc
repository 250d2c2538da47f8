#include "common/guid.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace privlink {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// OpenSSL's CSPRNG only fails when it cannot be seeded; continuing with predictable "random"
// secrets would be worse than stopping.
std::vector<uint8_t> randomBytes(size_t n) {
  std::vector<uint8_t> bytes(n);
  if (n > 0 && RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) std::abort();
  return bytes;
}

bool isHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string newGuid() {
  std::vector<uint8_t> b = randomBytes(16);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

bool isGuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!isHexDigit(text[i])) {
      return false;
    }
  }
  return true;
}

std::string randomHex(size_t bytes) {
  std::vector<uint8_t> b = randomBytes(bytes);
  std::string out;
  out.reserve(bytes * 2);
  for (uint8_t v : b) {
    out += kHex[v >> 4];
    out += kHex[v & 0xf];
  }
  return out;
}

std::string randomBase64Url(size_t bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<uint8_t> b = randomBytes(bytes);
  std::string out;
  out.reserve((bytes * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = b.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{b[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;  // unpadded, as in JWTs
}

}  // namespace privlink
