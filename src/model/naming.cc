#include "model/naming.h"

#include <openssl/sha.h>

#include "common/resource_id.h"

namespace privlink::model {

std::string shortHash(std::string_view resourceKey) {
  const std::string key = toLower(resourceKey);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string vnetNamespace(std::string_view vnetKey) { return "plv-" + shortHash(vnetKey); }
std::string nicNamespace(std::string_view nicKey) { return "pln-" + shortHash(nicKey); }

}  // namespace privlink::model
