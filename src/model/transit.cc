#include "model/transit.h"

#include <algorithm>
#include <set>

#include "model/naming.h"

namespace privlink::model {
namespace {

constexpr uint64_t kInfrastructureSize = 256;

uint64_t poolSize(const IpPrefix& range) {
  const uint64_t half = range.size() / 2;
  return half > kInfrastructureSize ? half - kInfrastructureSize : 0;
}

uint32_t hash32(const std::string& key) {
  return static_cast<uint32_t>(std::stoul(shortHash(key), nullptr, 16));
}

}  // namespace

IpAddress backboneGatewayAddress(const IpPrefix& transitRange) { return transitRange.at(1); }
IpAddress internetAddress(const IpPrefix& transitRange) { return transitRange.at(2); }

bool isVnetTransitAddress(const IpPrefix& transitRange, const IpAddress& address) {
  if (!transitRange.contains(address) || !address.isV4()) return false;
  const uint64_t offset = address.v4Value() - transitRange.network().v4Value();
  return offset >= kInfrastructureSize && offset < kInfrastructureSize + poolSize(transitRange);
}

std::optional<IpAddress> endpointTransitAddress(const IpPrefix& transitRange,
                                                uint32_t linkIdentifier) {
  const uint64_t half = transitRange.size() / 2;
  if (linkIdentifier == 0 || !transitRange.network().isV4() || linkIdentifier >= half - 1) {
    return std::nullopt;
  }
  return transitRange.at(half + linkIdentifier);
}

std::map<std::string, std::optional<IpAddress>> allocateTransit(
    const std::vector<std::string>& vnetKeys, const std::map<std::string, IpAddress>& existing,
    const IpPrefix& transitRange) {
  std::vector<std::string> keys = vnetKeys;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());

  std::map<std::string, std::optional<IpAddress>> out;
  std::set<IpAddress> taken;
  // Keep every valid recorded address first, so a new VNet never displaces an old one.
  for (const std::string& key : keys) {
    auto it = existing.find(key);
    if (it != existing.end() && isVnetTransitAddress(transitRange, it->second) &&
        taken.insert(it->second).second) {
      out[key] = it->second;
    }
  }
  const uint64_t size = poolSize(transitRange);
  for (const std::string& key : keys) {
    if (out.count(key)) continue;
    out[key] = std::nullopt;
    if (size == 0) continue;
    const uint64_t start = hash32(key) % size;
    for (uint64_t i = 0; i < size; ++i) {
      IpAddress candidate = transitRange.at(kInfrastructureSize + (start + i) % size);
      if (taken.insert(candidate).second) {
        out[key] = candidate;
        break;
      }
    }
  }
  return out;
}

}  // namespace privlink::model
