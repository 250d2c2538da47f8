#pragma once
// Shared pieces of the Microsoft.Network kinds (control/network/*): reading untrusted request
// properties without throwing, resolving references to other resources, and the store keys of
// privlink's internal network records.
//
// Every reader returns a Status with Azure's "InvalidRequestFormat" code (400) and a message that
// names the property and the expected form when the input has the wrong JSON type; a missing
// optional property is std::nullopt, never an error.

#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/resource_id.h"
#include "common/status.h"
#include "store/store.h"

namespace privlink::control::net {

using Json = nlohmann::json;

// 400 with the given ARM code.
Status badRequest(std::string armCode, std::string message, std::string target = {});

// StatusCode::kConflict for "InUse..." refusals: the engine's resource-group delete retries a
// resource only when its kind says Conflict (a NIC on a subnet is deleted before the subnet).
// On the wire they are 400, as Azure answers them (api/arm_error.h maps kConflict + "InUse*").
Status inUse(std::string armCode, std::string message, std::string target = {});

// `obj[key]` as a string / bool / integer / array / object; nullopt when absent or null.
Result<std::optional<std::string>> optString(const Json& obj, std::string_view key,
                                             std::string_view target);
Result<std::optional<bool>> optBool(const Json& obj, std::string_view key, std::string_view target);
Result<std::optional<int64_t>> optInt(const Json& obj, std::string_view key,
                                      std::string_view target);
// Returns nullptr when absent or null.
Result<const Json*> optArray(const Json& obj, std::string_view key, std::string_view target);
Result<const Json*> optObject(const Json& obj, std::string_view key, std::string_view target);

// One of `allowed` (compared case-insensitively, returned in the canonical spelling of `allowed`);
// `fallback` when absent.
Result<std::string> enumValue(const Json& obj, std::string_view key, std::string_view target,
                              std::initializer_list<std::string_view> allowed,
                              std::string_view fallback);

// A sub-resource reference `{"id": "..."}` at obj[key]; nullopt when absent or null.
Result<std::optional<ResourceId>> optRef(const Json& obj, std::string_view key,
                                         std::string_view target);

// An IPv4/IPv6 address in text form.
Result<IpAddress> parseAddress(std::string_view text, std::string_view target);

// Names of sub-resources (ipConfigurations, frontends, pools, ...): Azure's rule for network
// resource names — 1 to 80 characters, letters, digits, '_', '.', '-', starting with a letter or
// digit and ending with a letter, digit or '_'.
Status validateChildName(const std::string& name, std::string_view target);

// The referenced resource document, or 400 InvalidResourceReference naming both resources
// ("Resource X referenced by resource Y was not found ...") when it does not exist or is not of
// `expectedType` (canonical type, compared case-insensitively).
Result<store::Document> requireReferenced(store::ReadView& view, const ResourceId& ref,
                                          std::string_view expectedType,
                                          const ResourceId& referrer);

// Azure locations compare without case and spaces ("East US" == "eastus").
std::string normalizeLocation(std::string_view location);

// The address prefixes of a subnet body ({"properties": {"addressPrefix" | "addressPrefixes"}}),
// as stored (already validated).
std::vector<IpPrefix> storedSubnetPrefixes(const Json& subnetBody);
// The address space of a VNet body as stored.
std::vector<IpPrefix> storedVnetPrefixes(const Json& vnetBody);
// "10.0.0.0/16, 10.1.0.0/16"
std::string joinPrefixes(const std::vector<IpPrefix>& prefixes);

// Body properties of a stored document, or an empty object.
const Json& propertiesOf(const Json& body);

// --- VNet peering graph (used by the VNet and peering kinds)

// The VNets `vnet` has peerings to (any peering state), from its peering documents.
Result<std::vector<ResourceId>> peeredVnets(store::ReadView& view, const ResourceId& vnet);
// The peering document of `from` whose remoteVirtualNetwork is `to`, if any.
Result<std::optional<store::Document>> peeringBetween(store::ReadView& view, const ResourceId& from,
                                                      const ResourceId& to);
// Checks that `localSpace` (the address space `local` has or is about to have) overlaps neither
// the address space of `remote` (400 VnetAddressSpacesOverlap) nor that of any other VNet
// already peered with `remote` (400 VnetAddressSpaceOverlapsWithAlreadyPeeredVnet). `what`
// starts the message, e.g. "Cannot create or update peering <id>".
Status checkPeerOverlap(store::ReadView& view, const ResourceId& local,
                        const std::vector<IpPrefix>& localSpace, const ResourceId& remote,
                        const std::string& what);

// --- Load balancer backend pool membership, kept by the NIC kind so a load balancer can render
// backendIPConfigurations[] and refuse deleting a pool in use without scanning NICs. One internal
// document per load balancer (lbBackendsKey), body
//   {"loadBalancerId": "<id>", "pools": {"<pool name lower>": {"<ipconfig key>": "<ipconfig id>"}}}
// written in the caller's transaction (store::Transaction).
Status addPoolMember(store::Transaction& txn, const ResourceId& pool,
                     const std::string& ipConfigId);
Status removePoolMember(store::Transaction& txn, const ResourceId& pool,
                        const std::string& ipConfigId);
// Members (ipConfiguration ids) of every pool of `loadBalancer`, by lower-case pool name.
Result<std::map<std::string, std::vector<std::string>>> poolMembers(store::ReadView& view,
                                                                    const ResourceId& loadBalancer);

// Internal record keys (store.h: "/privlink/..." with type "privlink/...").
inline constexpr std::string_view kIpamType = "privlink/ipam";
inline constexpr std::string_view kLbBackendsType = "privlink/lb-backends";
std::string ipamKey(const ResourceId& subnet);              // "/privlink/ipam" + subnet key
std::string lbBackendsKey(const ResourceId& loadBalancer);  // "/privlink/lb-backends" + lb key

}  // namespace privlink::control::net
