#pragma once
// IP address management for subnets: the one allocator for every user of subnet addresses (NIC
// ipConfigurations, load balancer frontends, private endpoints, private link service NAT IPs).
//
// State: one internal document per subnet, key net::ipamKey(subnet) = "/privlink/ipam<subnet
// key>", type "privlink/ipam", body
//   {"subnetId": "<subnet id>",
//    "addresses": {"10.0.0.4": {"owner": "<owner id>", "privateEndpoint": "<pe id>"?}, ...}}
// written in the caller's transaction, so an allocation commits or rolls back with the resource
// that asked for it. Allocation reads the subnet and its IPAM document only (O(addresses in use
// in that subnet)), never other resources.
//
// Rules (Azure's): the network address, the first three host addresses and (IPv4) the last
// address of each subnet prefix are reserved; Dynamic allocation takes the lowest free usable
// address of the requested family, searching the subnet's prefixes in order. An owner (normally
// the full id of an ipConfiguration or frontend, compared case-insensitively) holds at most one
// address per subnet and family, and keeps it across calls: allocate() without a requested
// address returns the held one, and with a different requested address moves the owner to it.
//
// The subnet's rendered ipConfigurations[] lists every owner; privateEndpoints[] lists the
// distinct `privateEndpointId`s given at allocation. A subnet with any allocation is in use
// (InUseSubnetCannotBeDeleted).

#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/resource_id.h"
#include "common/status.h"
#include "control/resource_kind.h"
#include "store/store.h"

namespace privlink::control::ipam {

struct AllocateOptions {
  IpFamily family = IpFamily::kV4;  // used for Dynamic allocation; a requested address wins
  std::string privateEndpointId;    // set by private endpoints: listed in subnet.privateEndpoints
};

struct Allocation {
  IpAddress address;
  std::string ownerId;
  std::string privateEndpointId;  // empty unless given at allocation
};

// Allocates (or confirms) an address of `subnet` for `ownerId`.
// Errors (400): InvalidResourceReference (no such subnet), PrivateIPAddressNotInSubnet (requested
// address outside every prefix), InvalidPrivateIPAddress (requested address reserved; the message
// names the first usable address), PrivateIPAddressInUse (held by another owner, named),
// SubnetIsFull (no free usable address of the family).
Result<IpAddress> allocate(KindContext& ctx, const ResourceId& subnet, const std::string& ownerId,
                           std::optional<IpAddress> requested, const AllocateOptions& options = {});

// Releases every address `ownerId` holds in `subnet`. Ok when it holds none or the subnet has no
// IPAM document.
Status release(KindContext& ctx, const ResourceId& subnet, const std::string& ownerId);

// Every allocation of `subnet`, in address order (empty when none).
Result<std::vector<Allocation>> allocations(store::ReadView& view, const ResourceId& subnet);

// Removes the subnet's IPAM document (when the subnet is deleted). Ok when absent.
Status dropSubnet(KindContext& ctx, const ResourceId& subnet);

}  // namespace privlink::control::ipam
