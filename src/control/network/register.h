#pragma once
// Registers the Microsoft.Network kinds for virtual networks, subnets, peerings, network
// interfaces and load balancers (control/network/*).

#include "control/resource_service.h"

namespace privlink::control {

void registerNetworkKinds(ResourceService& service);

}  // namespace privlink::control
