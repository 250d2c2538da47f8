#pragma once
// Transit addresses (DESIGN.md §1/§2): the backbone only ever sees addresses from the transit
// range (default 100.64.0.0/10). Layout of the range R:
//   R.at(1)               the backbone's gateway address, on every backbone-side uplink
//   R.at(2)               the internet namespace's address (reached through the backbone)
//   R.at(0..255)          reserved for such infrastructure addresses
//   lower half of R       T_vnet: one per VNet (this allocator), hash-probed
//   upper half of R       reserved for T_pe (private endpoints; another allocator)
// Allocation is deterministic: a VNet's first choice is hash(key) within the pool; collisions
// probe linearly. The chosen address is recorded in the store (privlink/transitaddress documents,
// written by the agent in its own write transaction) so it never changes while the VNet exists,
// whatever VNets come and go later — a hash alone could not promise that after a collision.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"

namespace privlink::model {

IpAddress backboneGatewayAddress(const IpPrefix& transitRange);
IpAddress internetAddress(const IpPrefix& transitRange);
// True iff `address` may be a T_vnet in `transitRange`.
bool isVnetTransitAddress(const IpPrefix& transitRange, const IpAddress& address);

// T_pe of a private endpoint: the upper half of the range at offset `linkIdentifier` (the
// connection's link identifier, unique per host and never reused — control/privatelink/
// connection_record.h), so it is stable for the endpoint's life without a record of its own.
// nullopt when the identifier is 0 or does not fit the upper half.
std::optional<IpAddress> endpointTransitAddress(const IpPrefix& transitRange,
                                                uint32_t linkIdentifier);

// Returns a T_vnet for every key of `vnetKeys`: the `existing` one when it is valid and not
// taken by another VNet, otherwise a new one. Keys are processed in sorted order, so the result
// depends only on the inputs. nullopt for a key only when the pool is exhausted.
std::map<std::string, std::optional<IpAddress>> allocateTransit(
    const std::vector<std::string>& vnetKeys, const std::map<std::string, IpAddress>& existing,
    const IpPrefix& transitRange);

}  // namespace privlink::model
