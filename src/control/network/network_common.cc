#include "control/network/network_common.h"

#include <cctype>

namespace privlink::control::net {
namespace {

Status wrongType(std::string_view target, std::string_view expected) {
  return badRequest("InvalidRequestFormat",
                    "Cannot parse the request: property '" + std::string(target) + "' must be " +
                        std::string(expected) + ".",
                    std::string(target));
}

const Json* member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

Status badRequest(std::string armCode, std::string message, std::string target) {
  Status s = Status::InvalidArgument(std::move(armCode), std::move(message));
  return target.empty() ? s : s.withTarget(std::move(target));
}

Status inUse(std::string armCode, std::string message, std::string target) {
  Status s = Status::Conflict(std::move(armCode), std::move(message));
  return target.empty() ? s : s.withTarget(std::move(target));
}

Result<std::optional<std::string>> optString(const Json& obj, std::string_view key,
                                             std::string_view target) {
  const Json* v = member(obj, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return wrongType(target, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::optional<bool>> optBool(const Json& obj, std::string_view key,
                                    std::string_view target) {
  const Json* v = member(obj, key);
  if (!v) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  // ARM accepts "true"/"false" strings for booleans from loosely typed clients.
  if (v->is_string()) {
    std::string s = toLower(v->get<std::string>());
    if (s == "true") return std::optional<bool>(true);
    if (s == "false") return std::optional<bool>(false);
  }
  return wrongType(target, "true or false");
}

Result<std::optional<int64_t>> optInt(const Json& obj, std::string_view key,
                                      std::string_view target) {
  const Json* v = member(obj, key);
  if (!v) return std::optional<int64_t>();
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return wrongType(target, "an integer");
    return std::optional<int64_t>(static_cast<int64_t>(u));
  }
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  return wrongType(target, "an integer");
}

Result<const Json*> optArray(const Json& obj, std::string_view key, std::string_view target) {
  const Json* v = member(obj, key);
  if (!v) return static_cast<const Json*>(nullptr);
  if (!v->is_array()) return wrongType(target, "an array");
  return v;
}

Result<const Json*> optObject(const Json& obj, std::string_view key, std::string_view target) {
  const Json* v = member(obj, key);
  if (!v) return static_cast<const Json*>(nullptr);
  if (!v->is_object()) return wrongType(target, "an object");
  return v;
}

Result<std::string> enumValue(const Json& obj, std::string_view key, std::string_view target,
                              std::initializer_list<std::string_view> allowed,
                              std::string_view fallback) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, optString(obj, key, target));
  if (!value) return std::string(fallback);
  for (std::string_view a : allowed) {
    if (iequals(*value, a)) return std::string(a);
  }
  std::string list;
  for (std::string_view a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  return badRequest("InvalidRequestFormat",
                    "Value '" + *value + "' of property '" + std::string(target) +
                        "' is not valid; use one of: " + list + ".",
                    std::string(target));
}

Result<std::optional<ResourceId>> optRef(const Json& obj, std::string_view key,
                                         std::string_view target) {
  const Json* v = member(obj, key);
  if (!v) return std::optional<ResourceId>();
  if (!v->is_object())
    return wrongType(target, "an object of the form {\"id\": \"<resource id>\"}");
  std::string idTarget = std::string(target) + ".id";
  ASSIGN_OR_RETURN(std::optional<std::string> text, optString(*v, "id", idTarget));
  if (!text || text->empty()) {
    return badRequest("InvalidRequestFormat",
                      "Property '" + idTarget + "' is required: give the full resource id.",
                      idTarget);
  }
  Result<ResourceId> parsed = ResourceId::parse(*text);
  if (!parsed.ok()) return parsed.status().withTarget(idTarget);
  return std::optional<ResourceId>(std::move(parsed).value());
}

Result<IpAddress> parseAddress(std::string_view text, std::string_view target) {
  std::optional<IpAddress> a = IpAddress::parse(text);
  if (!a) {
    return badRequest("InvalidRequestFormat",
                      "'" + std::string(text) + "' in property '" + std::string(target) +
                          "' is not a valid IP address; write it like 10.0.0.4.",
                      std::string(target));
  }
  return *a;
}

Status validateChildName(const std::string& name, std::string_view target) {
  auto isWord = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = !name.empty() && name.size() <= 80 && isWord(name.front()) &&
            (isWord(name.back()) || name.back() == '_');
  for (char c : name) {
    if (!(isWord(c) || c == '_' || c == '.' || c == '-')) ok = false;
  }
  if (ok) return Status::Ok();
  return badRequest("InvalidResourceName",
                    "Resource name '" + name + "' in '" + std::string(target) +
                        "' is invalid: use 1 to 80 letters, digits, '_', '.' or '-', starting "
                        "with a letter or digit and ending with a letter, digit or '_'.",
                    std::string(target));
}

Result<store::Document> requireReferenced(store::ReadView& view, const ResourceId& ref,
                                          std::string_view expectedType,
                                          const ResourceId& referrer) {
  auto notFound = [&] {
    return badRequest("InvalidResourceReference",
                      "Resource " + ref.toString() + " referenced by resource " +
                          referrer.toString() +
                          " was not found. Please make sure that the referenced resource exists, "
                          "and that both resources are in the same region.");
  };
  if (!iequals(ref.type(), expectedType)) {
    return badRequest("InvalidResourceReference",
                      "Resource " + ref.toString() + " referenced by resource " +
                          referrer.toString() + " is not a " + std::string(expectedType) +
                          "; give the id of a " + std::string(expectedType) + ".");
  }
  ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(ref.key()));
  if (!doc) return notFound();
  return std::move(*doc);
}

std::string normalizeLocation(std::string_view location) {
  std::string out;
  for (char c : location) {
    if (c != ' ') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

const Json& propertiesOf(const Json& body) {
  static const Json kEmpty = Json::object();
  if (!body.is_object()) return kEmpty;
  auto it = body.find("properties");
  if (it == body.end() || !it->is_object()) return kEmpty;
  return *it;
}

std::vector<IpPrefix> storedSubnetPrefixes(const Json& subnetBody) {
  std::vector<IpPrefix> out;
  const Json& p = propertiesOf(subnetBody);
  auto add = [&](const Json& v) {
    if (!v.is_string()) return;
    Result<IpPrefix> prefix = IpPrefix::parse(v.get<std::string>());
    if (prefix.ok()) out.push_back(*prefix);
  };
  if (auto it = p.find("addressPrefixes"); it != p.end() && it->is_array()) {
    for (const Json& v : *it) add(v);
  } else if (auto it2 = p.find("addressPrefix"); it2 != p.end()) {
    add(*it2);
  }
  return out;
}

std::vector<IpPrefix> storedVnetPrefixes(const Json& vnetBody) {
  std::vector<IpPrefix> out;
  const Json& p = propertiesOf(vnetBody);
  auto space = p.find("addressSpace");
  if (space == p.end() || !space->is_object()) return out;
  auto prefixes = space->find("addressPrefixes");
  if (prefixes == space->end() || !prefixes->is_array()) return out;
  for (const Json& v : *prefixes) {
    if (!v.is_string()) continue;
    Result<IpPrefix> prefix = IpPrefix::parse(v.get<std::string>());
    if (prefix.ok()) out.push_back(*prefix);
  }
  return out;
}

std::string joinPrefixes(const std::vector<IpPrefix>& prefixes) {
  std::string out;
  for (const IpPrefix& p : prefixes) {
    if (!out.empty()) out += ", ";
    out += p.toString();
  }
  return out;
}

std::string ipamKey(const ResourceId& subnet) { return "/privlink/ipam" + subnet.key(); }
std::string lbBackendsKey(const ResourceId& loadBalancer) {
  return "/privlink/lb-backends" + loadBalancer.key();
}

}  // namespace privlink::control::net

namespace privlink::control::net {
namespace {

std::string overlapText(const std::vector<IpPrefix>& a, const std::vector<IpPrefix>& b) {
  std::vector<IpPrefix> hits;
  for (const IpPrefix& x : a) {
    for (const IpPrefix& y : b) {
      if (x.overlaps(y)) hits.push_back(x.length() >= y.length() ? x : y);
    }
  }
  return joinPrefixes(hits);
}

std::optional<ResourceId> remoteOf(const store::Document& peering) {
  const Json& p = propertiesOf(peering.body);
  auto remote = p.find("remoteVirtualNetwork");
  if (remote == p.end() || !remote->is_object()) return std::nullopt;
  auto id = remote->find("id");
  if (id == remote->end() || !id->is_string()) return std::nullopt;
  Result<ResourceId> parsed = ResourceId::parse(id->get<std::string>());
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed).value();
}

}  // namespace

Result<std::vector<ResourceId>> peeredVnets(store::ReadView& view, const ResourceId& vnet) {
  ASSIGN_OR_RETURN(std::vector<store::Document> docs,
                   view.listPrefix(vnet.key() + "/virtualnetworkpeerings/"));
  std::vector<ResourceId> out;
  for (const store::Document& d : docs) {
    if (std::optional<ResourceId> r = remoteOf(d)) out.push_back(*r);
  }
  return out;
}

Result<std::optional<store::Document>> peeringBetween(store::ReadView& view, const ResourceId& from,
                                                      const ResourceId& to) {
  ASSIGN_OR_RETURN(std::vector<store::Document> docs,
                   view.listPrefix(from.key() + "/virtualnetworkpeerings/"));
  for (store::Document& d : docs) {
    std::optional<ResourceId> r = remoteOf(d);
    if (r && r->key() == to.key()) return std::optional<store::Document>(std::move(d));
  }
  return std::optional<store::Document>();
}

Status checkPeerOverlap(store::ReadView& view, const ResourceId& local,
                        const std::vector<IpPrefix>& localSpace, const ResourceId& remote,
                        const std::string& what) {
  auto overlapsSpace = [&](const std::vector<IpPrefix>& other) {
    for (const IpPrefix& x : localSpace) {
      for (const IpPrefix& y : other) {
        if (x.overlaps(y)) return true;
      }
    }
    return false;
  };
  ASSIGN_OR_RETURN(std::optional<store::Document> remoteDoc, view.get(remote.key()));
  if (!remoteDoc) return Status::Ok();  // a peering to a deleted VNet constrains nothing
  const std::vector<IpPrefix> remoteSpace = storedVnetPrefixes(remoteDoc->body);
  if (overlapsSpace(remoteSpace)) {
    return badRequest("VnetAddressSpacesOverlap",
                      what + ". Virtual networks " + local.toString() + " and " +
                          remote.toString() +
                          " cannot be peered because their address spaces overlap. Overlapping "
                          "address prefixes: " +
                          overlapText(localSpace, remoteSpace) +
                          ". Change one address space so that they are disjoint.");
  }
  ASSIGN_OR_RETURN(std::vector<ResourceId> remotePeers, peeredVnets(view, remote));
  for (const ResourceId& peer : remotePeers) {
    if (peer.key() == local.key()) continue;
    ASSIGN_OR_RETURN(std::optional<store::Document> peerDoc, view.get(peer.key()));
    if (!peerDoc) continue;
    const std::vector<IpPrefix> peerSpace = storedVnetPrefixes(peerDoc->body);
    if (overlapsSpace(peerSpace)) {
      return badRequest("VnetAddressSpaceOverlapsWithAlreadyPeeredVnet",
                        what + ". Virtual networks " + local.toString() + " and " +
                            remote.toString() +
                            " cannot be peered because address space of the first virtual "
                            "network overlaps with address space of virtual network " +
                            peer.toString() +
                            " already peered with the second virtual network. Overlapping "
                            "address prefixes: " +
                            overlapText(localSpace, peerSpace) + ".");
    }
  }
  return Status::Ok();
}

}  // namespace privlink::control::net

namespace privlink::control::net {
namespace {

// ".../loadBalancers/lb/backendAddressPools/pool" -> the load balancer id.
ResourceId loadBalancerOf(const ResourceId& pool) { return *pool.parent(); }

Result<std::pair<bool, Json>> loadBackends(store::ReadView& view, const ResourceId& lb) {
  ASSIGN_OR_RETURN(std::optional<store::Document> doc, view.get(lbBackendsKey(lb)));
  Json body = doc && doc->body.is_object() ? doc->body : Json::object();
  body["loadBalancerId"] = lb.toString();
  if (!body.contains("pools") || !body["pools"].is_object()) body["pools"] = Json::object();
  return std::make_pair(doc.has_value(), std::move(body));
}

Status saveBackends(store::Transaction& txn, const ResourceId& lb, bool existed, Json& body) {
  Json& pools = body["pools"];
  for (auto it = pools.begin(); it != pools.end();) {
    if (!it->is_object() || it->empty()) {
      it = pools.erase(it);
    } else {
      ++it;
    }
  }
  if (pools.empty()) return existed ? txn.erase(lbBackendsKey(lb)) : Status::Ok();
  ASSIGN_OR_RETURN(store::Document stored, txn.put(lbBackendsKey(lb), kLbBackendsType, body));
  (void)stored;
  return Status::Ok();
}

}  // namespace

Status addPoolMember(store::Transaction& txn, const ResourceId& pool,
                     const std::string& ipConfigId) {
  const ResourceId lb = loadBalancerOf(pool);
  ASSIGN_OR_RETURN(auto state, loadBackends(txn, lb));
  Json& members = state.second["pools"][toLower(pool.name())];
  if (!members.is_object()) members = Json::object();
  members[toLower(ipConfigId)] = ipConfigId;
  return saveBackends(txn, lb, state.first, state.second);
}

Status removePoolMember(store::Transaction& txn, const ResourceId& pool,
                        const std::string& ipConfigId) {
  const ResourceId lb = loadBalancerOf(pool);
  ASSIGN_OR_RETURN(auto state, loadBackends(txn, lb));
  if (!state.first) return Status::Ok();
  Json& pools = state.second["pools"];
  auto it = pools.find(toLower(pool.name()));
  if (it == pools.end() || !it->is_object()) return Status::Ok();
  it->erase(toLower(ipConfigId));
  return saveBackends(txn, lb, state.first, state.second);
}

Result<std::map<std::string, std::vector<std::string>>> poolMembers(
    store::ReadView& view, const ResourceId& loadBalancer) {
  ASSIGN_OR_RETURN(auto state, loadBackends(view, loadBalancer));
  std::map<std::string, std::vector<std::string>> out;
  const Json& pools = state.second["pools"];
  for (auto it = pools.begin(); it != pools.end(); ++it) {
    if (!it->is_object()) continue;
    for (auto m = it->begin(); m != it->end(); ++m) {
      if (m->is_string()) out[it.key()].push_back(m->get<std::string>());
    }
  }
  return out;
}

}  // namespace privlink::control::net
