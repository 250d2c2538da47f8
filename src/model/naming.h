#pragma once
// Names of the kernel objects privlink owns, derived only from resource keys so that the agent,
// the CLI (`privlink nic exec`) and cleanup agree without a lookup. Every name privlink creates
// starts with "pl" and fits the kernel's 15-character interface-name limit.

#include <string>
#include <string_view>

namespace privlink::model {

inline constexpr std::string_view kOwnedPrefix = "pl";
inline constexpr std::string_view kBackboneNamespace = "plbb";
inline constexpr std::string_view kInternetNamespace = "plinet";

// 8 lower-case hex characters of SHA-256(key): stable short id of a resource.
std::string shortHash(std::string_view resourceKey);
// "plv-<8hex>": the namespace acting as a VNet's router.
std::string vnetNamespace(std::string_view vnetKey);
// "pln-<8hex>": the workload namespace of a NIC.
std::string nicNamespace(std::string_view nicKey);

}  // namespace privlink::model
