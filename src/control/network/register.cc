#include "control/network/register.h"

#include "control/network/network_kinds.h"

namespace privlink::control {

void registerNetworkKinds(ResourceService& service) {
  service.registerKind(makeVirtualNetworkKind(service));
  service.registerKind(makeSubnetKind());
  service.registerKind(makeVirtualNetworkPeeringKind());
  service.registerKind(makeNetworkInterfaceKind());
  service.registerKind(makeLoadBalancerKind());
}

}  // namespace privlink::control
