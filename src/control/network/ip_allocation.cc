#include "control/network/ip_allocation.h"

#include <algorithm>
#include <set>

#include "control/network/network_common.h"
#include "model/resource_types.h"

namespace privlink::control::ipam {
namespace {

using net::Json;

struct IpamState {
  bool exists = false;
  Json body;  // {"subnetId", "addresses": {...}}
};

Result<IpamState> loadState(store::ReadView& view, const ResourceId& subnet) {
  ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(net::ipamKey(subnet)));
  IpamState state;
  if (doc && doc->body.is_object()) {
    state.exists = true;
    state.body = std::move(doc->body);
  } else {
    state.body = Json::object();
  }
  state.body["subnetId"] = subnet.toString();
  if (!state.body.contains("addresses") || !state.body["addresses"].is_object()) {
    state.body["addresses"] = Json::object();
  }
  return state;
}

Status saveState(KindContext& ctx, const ResourceId& subnet, IpamState& state) {
  const std::string key = net::ipamKey(subnet);
  if (state.body["addresses"].empty()) {
    if (!state.exists) return Status::Ok();
    return ctx.txn.erase(key);
  }
  ASSIGN_OR_RETURN(store::Document stored, ctx.txn.put(key, net::kIpamType, state.body));
  (void)stored;
  return Status::Ok();
}

std::string ownerOf(const Json& entry) {
  if (entry.is_object()) {
    auto it = entry.find("owner");
    if (it != entry.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

std::string describeSubnet(const ResourceId& subnet, const std::vector<IpPrefix>& prefixes) {
  return subnet.name() + " (" + net::joinPrefixes(prefixes) + ")";
}

}  // namespace

Result<IpAddress> allocate(KindContext& ctx, const ResourceId& subnet, const std::string& ownerId,
                           std::optional<IpAddress> requested, const AllocateOptions& options) {
  ASSIGN_OR_RETURN(std::optional<store::Document> subnetDoc, ctx.txn.get(subnet.key()));
  if (!subnetDoc) {
    return net::badRequest("InvalidResourceReference",
                           "Subnet " + subnet.toString() + " referenced by " + ownerId +
                               " was not found; create the subnet first or fix the id.");
  }
  const IpFamily family = requested ? requested->family() : options.family;
  std::vector<IpPrefix> prefixes;
  for (const IpPrefix& p : net::storedSubnetPrefixes(subnetDoc->body)) {
    if (p.family() == family) prefixes.push_back(p);
  }
  const std::vector<IpPrefix> allPrefixes = net::storedSubnetPrefixes(subnetDoc->body);

  ASSIGN_OR_RETURN(IpamState state, loadState(ctx.txn, subnet));
  Json& addresses = state.body["addresses"];
  const std::string ownerKey = toLower(ownerId);

  // The address this owner already holds in this family, if any.
  std::optional<std::string> held;
  for (auto it = addresses.begin(); it != addresses.end(); ++it) {
    if (toLower(ownerOf(it.value())) != ownerKey) continue;
    std::optional<IpAddress> a = IpAddress::parse(it.key());
    if (a && a->family() == family) held = it.key();
  }

  Json entry = {{"owner", ownerId}};
  if (!options.privateEndpointId.empty()) entry["privateEndpoint"] = options.privateEndpointId;

  if (requested) {
    const std::string text = requested->toString();
    const IpPrefix* within = nullptr;
    for (const IpPrefix& p : prefixes) {
      if (p.contains(*requested)) {
        within = &p;
        break;
      }
    }
    if (!within) {
      return net::badRequest("PrivateIPAddressNotInSubnet",
                             "Private IP address " + text + " is not in subnet " +
                                 describeSubnet(subnet, allPrefixes) +
                                 "; choose an address inside the subnet's address prefix or use "
                                 "Dynamic allocation.");
    }
    if (within->isAzureReserved(*requested)) {
      return net::badRequest("InvalidPrivateIPAddress",
                             text + " is reserved in subnet " + subnet.name() + " (" +
                                 within->toString() + "); the first usable address is " +
                                 within->firstUsable().toString());
    }
    auto taken = addresses.find(text);
    if (taken != addresses.end() && toLower(ownerOf(*taken)) != ownerKey) {
      return net::badRequest("PrivateIPAddressInUse",
                             "Private IP address " + text + " in subnet " + subnet.name() +
                                 " is in use by " + ownerOf(*taken) +
                                 "; choose another address or use Dynamic allocation.");
    }
    if (held && *held != text) addresses.erase(*held);
    addresses[text] = entry;
    RETURN_IF_ERROR(saveState(ctx, subnet, state));
    return *requested;
  }

  if (held) {
    // Refresh the entry (e.g. privateEndpoint) but keep the address: it never moves by itself.
    addresses[*held] = entry;
    RETURN_IF_ERROR(saveState(ctx, subnet, state));
    return *IpAddress::parse(*held);
  }

  std::set<IpAddress> used;
  for (auto it = addresses.begin(); it != addresses.end(); ++it) {
    if (std::optional<IpAddress> a = IpAddress::parse(it.key())) used.insert(*a);
  }
  for (const IpPrefix& p : prefixes) {
    const uint64_t size = p.size();
    // Indices 0-3 are reserved; for IPv4 so is the last one. Each iteration either returns or
    // steps over one used address, so the loop is O(used) in practice.
    const uint64_t end = (family == IpFamily::kV4) ? size - 1 : size;
    for (uint64_t i = 4; i < end; ++i) {
      IpAddress candidate = p.at(i);
      if (used.count(candidate)) continue;
      addresses[candidate.toString()] = entry;
      RETURN_IF_ERROR(saveState(ctx, subnet, state));
      return candidate;
    }
  }
  return net::badRequest(
      "SubnetIsFull",
      "Subnet " + describeSubnet(subnet, allPrefixes) + " has no free " +
          (family == IpFamily::kV4 ? "IPv4" : "IPv6") + " address for " + ownerId +
          "; release addresses in it, add an address prefix to the subnet, or use another subnet.");
}

Status release(KindContext& ctx, const ResourceId& subnet, const std::string& ownerId) {
  ASSIGN_OR_RETURN(IpamState state, loadState(ctx.txn, subnet));
  if (!state.exists) return Status::Ok();
  Json& addresses = state.body["addresses"];
  const std::string ownerKey = toLower(ownerId);
  std::vector<std::string> drop;
  for (auto it = addresses.begin(); it != addresses.end(); ++it) {
    if (toLower(ownerOf(it.value())) == ownerKey) drop.push_back(it.key());
  }
  if (drop.empty()) return Status::Ok();
  for (const std::string& a : drop) addresses.erase(a);
  return saveState(ctx, subnet, state);
}

Result<std::vector<Allocation>> allocations(store::ReadView& view, const ResourceId& subnet) {
  ASSIGN_OR_RETURN(IpamState state, loadState(view, subnet));
  std::vector<Allocation> out;
  const Json& addresses = state.body["addresses"];
  for (auto it = addresses.begin(); it != addresses.end(); ++it) {
    std::optional<IpAddress> a = IpAddress::parse(it.key());
    if (!a) continue;
    Allocation alloc;
    alloc.address = *a;
    alloc.ownerId = ownerOf(it.value());
    if (it.value().is_object()) {
      auto pe = it.value().find("privateEndpoint");
      if (pe != it.value().end() && pe->is_string())
        alloc.privateEndpointId = pe->get<std::string>();
    }
    out.push_back(std::move(alloc));
  }
  std::sort(out.begin(), out.end(),
            [](const Allocation& a, const Allocation& b) { return a.address < b.address; });
  return out;
}

Status dropSubnet(KindContext& ctx, const ResourceId& subnet) {
  const std::string key = net::ipamKey(subnet);
  ASSIGN_OR_RETURN(std::optional<store::Document> doc, ctx.txn.get(key));
  if (!doc) return Status::Ok();
  return ctx.txn.erase(key);
}

}  // namespace privlink::control::ipam
