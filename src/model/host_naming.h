#pragma once
// HostNaming: the names of every kernel object the agent owns on one host, with a configurable
// prefix so that tests (prefix "t<pid>") never collide with each other or a running privlinkd.
// With the default prefix "pl" the namespace names are exactly those of naming.h.
//
// Namespaces (no length limit):   <prefix>v-<8hex>  VNet router        (hash of the VNet key)
//                                 <prefix>n-<8hex>  NIC workload       (hash of the NIC key)
//                                 <prefix>bb        backbone router
//                                 <prefix>inet      internet namespace
//                                 <prefix>paas      PaaS platform router (hidden platform VNet)
//                                 <prefix>p-<8hex>  PaaS instance backend (hash of the lower-cased
//                                                   instance key; model/paas_naming.h)
// Interfaces (<= 15 characters; they live only inside our namespaces, so need no prefix):
//   in a VNet namespace:  br-<subnet hash>  subnet bridge
//                         n-<nic hash>      VNet side of a NIC's veth (eth0 in the NIC namespace)
//                         u-<vnet hash>     uplink to the backbone
//                         p-<remote hash>   peering veth to the remote VNet's namespace
//   in the backbone:      v-<vnet hash>     backbone side of a VNet's uplink
//                         inet0             link to the internet namespace (bb0 on the far side)
// Thread-safe (immutable).

#include <string>
#include <string_view>

namespace privlink::model {

class HostNaming {
 public:
  explicit HostNaming(std::string prefix = "pl") : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }

  std::string vnetNamespace(std::string_view vnetKey) const;
  std::string nicNamespace(std::string_view nicKey) const;
  std::string backboneNamespace() const { return prefix_ + "bb"; }
  std::string internetNamespace() const { return prefix_ + "inet"; }
  std::string paasPlatformNamespace() const { return prefix_ + "paas"; }
  // Same as model::paasBackendNamespace(instanceKey, prefix()).
  std::string paasBackendNamespace(std::string_view instanceKey) const;
  // True iff `ns` is a name this naming could have produced (exact pattern match, so prefix
  // "t1" never claims "t12v-…").
  bool ownsNamespace(std::string_view ns) const;

  static std::string bridgeName(std::string_view subnetKey);
  static std::string nicLinkName(std::string_view nicKey);
  static std::string uplinkName(std::string_view vnetKey);
  static std::string backboneUplinkName(std::string_view vnetKey);
  static std::string peeringLinkName(std::string_view remoteVnetKey);
  static constexpr std::string_view kNicInterface = "eth0";
  static constexpr std::string_view kBackboneInternetLink = "inet0";
  static constexpr std::string_view kInternetBackboneLink = "bb0";

 private:
  std::string prefix_;
};

}  // namespace privlink::model
