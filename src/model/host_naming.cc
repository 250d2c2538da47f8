#include "model/host_naming.h"

#include "model/naming.h"
#include "model/paas_naming.h"

namespace privlink::model {
namespace {

bool isHashSuffix(std::string_view s) {
  if (s.size() != 8) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string HostNaming::vnetNamespace(std::string_view vnetKey) const {
  return prefix_ + "v-" + shortHash(vnetKey);
}

std::string HostNaming::nicNamespace(std::string_view nicKey) const {
  return prefix_ + "n-" + shortHash(nicKey);
}

std::string HostNaming::paasBackendNamespace(std::string_view instanceKey) const {
  return model::paasBackendNamespace(instanceKey, prefix_);
}

bool HostNaming::ownsNamespace(std::string_view ns) const {
  if (ns.substr(0, prefix_.size()) != prefix_) return false;
  std::string_view rest = ns.substr(prefix_.size());
  if (rest == "bb" || rest == "inet" || rest == "paas") return true;
  if (rest.size() == 10 &&
      (rest.substr(0, 2) == "v-" || rest.substr(0, 2) == "n-" || rest.substr(0, 2) == "p-")) {
    return isHashSuffix(rest.substr(2));
  }
  return false;
}

std::string HostNaming::bridgeName(std::string_view subnetKey) {
  return "br-" + shortHash(subnetKey);
}
std::string HostNaming::nicLinkName(std::string_view nicKey) { return "n-" + shortHash(nicKey); }
std::string HostNaming::uplinkName(std::string_view vnetKey) { return "u-" + shortHash(vnetKey); }
std::string HostNaming::backboneUplinkName(std::string_view vnetKey) {
  return "v-" + shortHash(vnetKey);
}
std::string HostNaming::peeringLinkName(std::string_view remoteVnetKey) {
  return "p-" + shortHash(remoteVnetKey);
}

}  // namespace privlink::model
