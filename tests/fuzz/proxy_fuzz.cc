// Fuzz target for the PROXY v2 parser (src/proxy/proxy_protocol.h). Properties checked beyond
// "no crash, no out-of-bounds read": a complete parse consumes between 16 and input-size bytes, and
// a parsed PROXY header re-encodes to bytes that parse back to the same value.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proxy/proxy_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace privlink::proxy;
  auto parsed = parseProxyHeader(std::span<const uint8_t>(data, size));
  if (!parsed.ok()) {
    if (parsed.status().armCode() != kInvalidProxyHeaderCode) std::abort();
    return 0;
  }
  if (!parsed->complete) {
    if (parsed->size <= size) std::abort();
    return 0;
  }
  if (parsed->size < kProxyV2FixedSize || parsed->size > size) std::abort();
  if (parsed->header.command != ProxyCommand::kProxy) return 0;
  auto encoded = encodeProxyHeader(parsed->header);
  if (!encoded.ok()) std::abort();
  auto again = parseProxyHeader(*encoded);
  if (!again.ok() || !again->complete || again->size != encoded->size() ||
      !(again->header == parsed->header)) {
    std::abort();
  }
  return 0;
}
