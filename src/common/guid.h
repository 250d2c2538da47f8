#pragma once
// GUIDs (RFC 4122 version 4 from OpenSSL's CSPRNG) as ARM prints them: lower-case 8-4-4-4-12.

#include <optional>
#include <string>
#include <string_view>

namespace privlink {

std::string newGuid();
// True for 8-4-4-4-12 hex text in either case (callers may send upper-case GUIDs).
bool isGuid(std::string_view text);
// Cryptographically random bytes, hex- or base64url-encoded (secrets, etags, operation ids).
std::string randomHex(size_t bytes);
std::string randomBase64Url(size_t bytes);

}  // namespace privlink
