#include "model/network.h"

#include <algorithm>

namespace privlink::model {
namespace {

using Json = nlohmann::json;

Status malformed(const SourceDocument& doc, const std::string& what) {
  return Status::InvalidArgument("InvalidResourceDocument",
                                 "stored document " + doc.key + " (" + doc.type + "): " + what);
}

// Child `name` of an object, or nullptr when `j` is not an object or lacks it.
const Json* child(const Json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

const Json* path(const Json& j, std::initializer_list<const char*> names) {
  const Json* cur = &j;
  for (const char* n : names) {
    cur = child(*cur, n);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::optional<std::string> stringAt(const Json& j, std::initializer_list<const char*> names) {
  const Json* v = path(j, names);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

// Appends the IPv4 prefixes of `texts` (a string or an array of strings) to `out`.
Status collectPrefixes(const SourceDocument& doc, const Json& texts, const std::string& field,
                       std::vector<IpPrefix>& out) {
  auto one = [&](const Json& t) -> Status {
    if (!t.is_string()) return malformed(doc, field + " must be a string");
    auto prefix = IpPrefix::parse(t.get<std::string>());
    if (!prefix.ok()) return malformed(doc, field + ": " + prefix.status().message());
    if (prefix->family() == IpFamily::kV4 &&
        std::find(out.begin(), out.end(), *prefix) == out.end()) {
      out.push_back(*prefix);
    }
    return Status::Ok();
  };
  if (texts.is_array()) {
    for (const Json& t : texts) RETURN_IF_ERROR(one(t));
    return Status::Ok();
  }
  return one(texts);
}

std::string parentKeyOf(const std::string& key, std::string_view marker) {
  auto pos = key.rfind(marker);
  return pos == std::string::npos ? std::string() : key.substr(0, pos);
}

template <typename T>
Result<T> guarded(const SourceDocument& doc, Result<T> (*fn)(const SourceDocument&)) {
  try {
    return fn(doc);
  } catch (const std::exception& e) {  // nlohmann::json type errors on hostile input
    return malformed(doc, e.what());
  }
}

Result<VNet> parseVNetImpl(const SourceDocument& doc) {
  VNet vnet;
  vnet.key = normaliseKey(doc.key);
  vnet.id = doc.id;
  const Json* prefixes = path(doc.body, {"properties", "addressSpace", "addressPrefixes"});
  if (prefixes == nullptr) {
    return malformed(doc, "properties.addressSpace.addressPrefixes is missing");
  }
  RETURN_IF_ERROR(collectPrefixes(doc, *prefixes, "properties.addressSpace.addressPrefixes",
                                  vnet.addressPrefixes));
  return vnet;
}

Result<Subnet> parseSubnetImpl(const SourceDocument& doc) {
  Subnet subnet;
  subnet.key = normaliseKey(doc.key);
  subnet.vnetKey = parentKeyOf(subnet.key, "/subnets/");
  if (subnet.vnetKey.empty()) return malformed(doc, "key has no /subnets/ segment");
  subnet.name = subnet.key.substr(subnet.key.rfind('/') + 1);
  const Json* props = child(doc.body, "properties");
  if (props == nullptr) return malformed(doc, "properties is missing");
  bool any = false;
  if (const Json* p = child(*props, "addressPrefix"); p != nullptr && !p->is_null()) {
    RETURN_IF_ERROR(collectPrefixes(doc, *p, "properties.addressPrefix", subnet.prefixes));
    any = true;
  }
  if (const Json* p = child(*props, "addressPrefixes"); p != nullptr && !p->is_null()) {
    RETURN_IF_ERROR(collectPrefixes(doc, *p, "properties.addressPrefixes", subnet.prefixes));
    any = true;
  }
  if (!any) return malformed(doc, "properties.addressPrefix is missing");
  return subnet;
}

Result<Nic> parseNicImpl(const SourceDocument& doc) {
  Nic nic;
  nic.key = normaliseKey(doc.key);
  nic.id = doc.id;
  const Json* configs = path(doc.body, {"properties", "ipConfigurations"});
  if (configs == nullptr || !configs->is_array()) {
    return malformed(doc, "properties.ipConfigurations must be an array");
  }
  for (size_t i = 0; i < configs->size(); ++i) {
    const Json& c = (*configs)[i];
    const std::string field = "properties.ipConfigurations[" + std::to_string(i) + "]";
    IpConfiguration config;
    config.name = stringAt(c, {"name"}).value_or("");
    auto subnetId = stringAt(c, {"properties", "subnet", "id"});
    if (!subnetId) return malformed(doc, field + ".properties.subnet.id is missing");
    config.subnetKey = normaliseKey(*subnetId);
    if (const Json* a = path(c, {"properties", "privateIPAddress"});
        a != nullptr && !a->is_null()) {
      if (!a->is_string()) return malformed(doc, field + ".properties.privateIPAddress");
      auto address = IpAddress::parse(a->get<std::string>());
      if (!address) {
        return malformed(doc, field + ".properties.privateIPAddress '" + a->get<std::string>() +
                                  "' is not an IP address");
      }
      config.address = *address;
    }
    if (const Json* p = path(c, {"properties", "primary"}); p != nullptr && p->is_boolean()) {
      config.primary = p->get<bool>();
    }
    if (const Json* pools = path(c, {"properties", "loadBalancerBackendAddressPools"});
        pools != nullptr && pools->is_array()) {
      for (const Json& pool : *pools) {
        if (auto id = stringAt(pool, {"id"})) config.poolKeys.push_back(normaliseKey(*id));
      }
    }
    nic.ipConfigurations.push_back(std::move(config));
  }
  if (auto pe = stringAt(doc.body, {"properties", "privateEndpoint", "id"})) {
    nic.privateEndpointKey = normaliseKey(*pe);
  }
  // ARM: with one configuration it is primary even when the flag is absent.
  if (nic.ipConfigurations.size() == 1) nic.ipConfigurations[0].primary = true;
  return nic;
}

Result<Peering> parsePeeringImpl(const SourceDocument& doc) {
  Peering peering;
  peering.key = normaliseKey(doc.key);
  peering.vnetKey = parentKeyOf(peering.key, "/virtualnetworkpeerings/");
  if (peering.vnetKey.empty()) return malformed(doc, "key has no /virtualNetworkPeerings/ segment");
  auto remote = stringAt(doc.body, {"properties", "remoteVirtualNetwork", "id"});
  if (!remote) return malformed(doc, "properties.remoteVirtualNetwork.id is missing");
  peering.remoteVnetKey = normaliseKey(*remote);
  peering.state = stringAt(doc.body, {"properties", "peeringState"}).value_or("");
  return peering;
}

Result<std::pair<std::string, IpAddress>> parseTransitImpl(const SourceDocument& doc) {
  auto vnetKey = stringAt(doc.body, {"vnetKey"});
  auto text = stringAt(doc.body, {"address"});
  if (!vnetKey || !text) return malformed(doc, "vnetKey and address are required");
  auto address = IpAddress::parse(*text);
  if (!address || !address->isV4()) return malformed(doc, "address is not an IPv4 address");
  return std::make_pair(normaliseKey(*vnetKey), *address);
}


std::optional<int> intAt(const Json& j, std::initializer_list<const char*> names) {
  const Json* v = path(j, names);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int>();
}

std::string refKey(const Json& j, std::initializer_list<const char*> names) {
  auto id = stringAt(j, names);
  return id ? normaliseKey(*id) : std::string();
}

const Json& arrayAt(const Json& j, std::initializer_list<const char*> names) {
  static const Json kEmpty = Json::array();
  const Json* v = path(j, names);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

Result<LoadBalancer> parseLoadBalancerImpl(const SourceDocument& doc) {
  LoadBalancer lb;
  lb.key = normaliseKey(doc.key);
  lb.id = doc.id;
  for (const Json& fe : arrayAt(doc.body, {"properties", "frontendIPConfigurations"})) {
    LbFrontend f;
    f.key = refKey(fe, {"id"});
    f.subnetKey = refKey(fe, {"properties", "subnet", "id"});
    auto text = stringAt(fe, {"properties", "privateIPAddress"});
    auto address = text ? IpAddress::parse(*text) : std::nullopt;
    if (f.key.empty() || !address) {
      return malformed(doc, "frontendIPConfigurations[] need id and properties.privateIPAddress");
    }
    f.address = *address;
    if (f.address.isV4()) lb.frontends.push_back(std::move(f));
  }
  for (const Json& pr : arrayAt(doc.body, {"properties", "probes"})) {
    LbProbe probe;
    probe.key = refKey(pr, {"id"});
    probe.protocol = stringAt(pr, {"properties", "protocol"}).value_or("Tcp");
    probe.port = intAt(pr, {"properties", "port"}).value_or(0);
    probe.intervalSeconds = intAt(pr, {"properties", "intervalInSeconds"}).value_or(15);
    probe.threshold = intAt(pr, {"properties", "probeThreshold"})
                          .value_or(intAt(pr, {"properties", "numberOfProbes"}).value_or(1));
    probe.requestPath = stringAt(pr, {"properties", "requestPath"}).value_or("/");
    if (probe.key.empty() || probe.port <= 0 || probe.port > 65535) {
      return malformed(doc, "probes[] need id and a port from 1 to 65535");
    }
    lb.probes.push_back(std::move(probe));
  }
  for (const Json& ru : arrayAt(doc.body, {"properties", "loadBalancingRules"})) {
    LbRule rule;
    rule.key = refKey(ru, {"id"});
    rule.frontendKey = refKey(ru, {"properties", "frontendIPConfiguration", "id"});
    rule.poolKey = refKey(ru, {"properties", "backendAddressPool", "id"});
    rule.probeKey = refKey(ru, {"properties", "probe", "id"});
    rule.protocol = stringAt(ru, {"properties", "protocol"}).value_or("Tcp");
    rule.frontendPort = intAt(ru, {"properties", "frontendPort"}).value_or(-1);
    rule.backendPort = intAt(ru, {"properties", "backendPort"}).value_or(-1);
    if (rule.key.empty() || rule.frontendKey.empty() || rule.poolKey.empty() ||
        rule.frontendPort < 0 || rule.frontendPort > 65535 || rule.backendPort < 0 ||
        rule.backendPort > 65535) {
      return malformed(doc,
                       "loadBalancingRules[] need id, frontendIPConfiguration.id, "
                       "backendAddressPool.id, frontendPort and backendPort");
    }
    lb.rules.push_back(std::move(rule));
  }
  return lb;
}

Result<PrivateLinkService> parsePrivateLinkServiceImpl(const SourceDocument& doc) {
  PrivateLinkService pls;
  pls.key = normaliseKey(doc.key);
  pls.id = doc.id;
  for (const Json& fe : arrayAt(doc.body, {"properties", "loadBalancerFrontendIpConfigurations"})) {
    std::string key = refKey(fe, {"id"});
    if (!key.empty()) pls.frontendKeys.push_back(std::move(key));
  }
  for (const Json& c : arrayAt(doc.body, {"properties", "ipConfigurations"})) {
    auto text = stringAt(c, {"properties", "privateIPAddress"});
    auto address = text ? IpAddress::parse(*text) : std::nullopt;
    if (address && address->isV4()) {
      pls.natAddresses.push_back(*address);
      pls.natSubnetKeys.push_back(refKey(c, {"properties", "subnet", "id"}));
    }
  }
  if (const Json* p = path(doc.body, {"properties", "enableProxyProtocol"});
      p != nullptr && p->is_boolean()) {
    pls.enableProxyProtocol = p->get<bool>();
  }
  return pls;
}

std::optional<uint32_t> uint32At(const Json& j, std::initializer_list<const char*> names) {
  const Json* v = path(j, names);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) return static_cast<uint32_t>(v->get<uint64_t>());
  if (v->is_string()) {
    const std::string text = v->get<std::string>();
    if (text.empty() || text.size() > 10 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    uint64_t value = std::stoull(text);
    if (value > 0xffffffffULL) return std::nullopt;
    return static_cast<uint32_t>(value);
  }
  return std::nullopt;
}

Result<PrivateEndpoint> parsePrivateEndpointImpl(const SourceDocument& doc) {
  PrivateEndpoint pe;
  pe.key = normaliseKey(doc.key);
  pe.id = doc.id;
  pe.subnetKey = refKey(doc.body, {"properties", "subnet", "id"});
  const Json& nics = arrayAt(doc.body, {"properties", "networkInterfaces"});
  if (!nics.empty()) pe.nicKey = refKey(nics[0], {"id"});
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"}) {
    const Json& connections = arrayAt(doc.body, {"properties", list});
    if (connections.empty()) continue;
    const Json& c = connections[0];
    pe.connectionKey = refKey(c, {"properties", "privlink", "connectionId"});
    pe.targetKey = refKey(c, {"properties", "privlink", "targetId"});
    pe.linkIdentifier = uint32At(c, {"properties", "privlink", "linkIdentifier"}).value_or(0);
    break;
  }
  if (pe.subnetKey.empty()) return malformed(doc, "properties.subnet.id is missing");
  return pe;
}
}  // namespace

bool Peering::connected() const {
  std::string lower;
  for (char c : state)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == "connected";
}

std::string normaliseKey(std::string_view id) {
  std::string out;
  out.reserve(id.size());
  for (char c : id) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<VNet> parseVNet(const SourceDocument& doc) { return guarded(doc, &parseVNetImpl); }
Result<Subnet> parseSubnet(const SourceDocument& doc) { return guarded(doc, &parseSubnetImpl); }
Result<Nic> parseNic(const SourceDocument& doc) { return guarded(doc, &parseNicImpl); }
Result<Peering> parsePeering(const SourceDocument& doc) { return guarded(doc, &parsePeeringImpl); }
Result<std::pair<std::string, IpAddress>> parseTransit(const SourceDocument& doc) {
  return guarded(doc, &parseTransitImpl);
}

Result<LoadBalancer> parseLoadBalancer(const SourceDocument& doc) {
  return guarded(doc, &parseLoadBalancerImpl);
}
Result<PrivateLinkService> parsePrivateLinkService(const SourceDocument& doc) {
  return guarded(doc, &parsePrivateLinkServiceImpl);
}
Result<PrivateEndpoint> parsePrivateEndpoint(const SourceDocument& doc) {
  return guarded(doc, &parsePrivateEndpointImpl);
}

ConnectionState parseConnectionRecord(const nlohmann::json& body) {
  ConnectionState state;
  state.status = stringAt(body, {"properties", "privateLinkServiceConnectionState", "status"})
                     .value_or("Disconnected");
  state.linkIdentifier = uint32At(body, {"properties", "linkIdentifier"});
  return state;
}

bool isConnectionRecordType(std::string_view type) {
  constexpr std::string_view kSuffix = "/privateendpointconnections";
  return type.size() > kSuffix.size() &&
         type.compare(type.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

void joinConnectionState(PrivateEndpoint& pe, uint32_t documentLinkIdentifier,
                         const ConnectionState* record) {
  pe.linkIdentifier = documentLinkIdentifier;
  pe.status = "Disconnected";
  if (record == nullptr) return;
  pe.status = record->status;
  if (record->linkIdentifier) pe.linkIdentifier = *record->linkIdentifier;
}

NetworkSnapshot parseNetwork(const std::vector<SourceDocument>& docs, int64_t revision) {
  NetworkSnapshot snap;
  snap.revision = revision;
  std::vector<Subnet> subnets;
  std::vector<Peering> peerings;
  std::map<std::string, const SourceDocument*> records;  // connection records by key
  for (const SourceDocument& doc : docs) {
    const std::string type = normaliseKey(doc.type);
    const std::string key = normaliseKey(doc.key);
    if (type == kVirtualNetworkType) {
      auto vnet = parseVNet(doc);
      if (vnet.ok()) {
        snap.vnets.emplace(key, std::move(vnet).value());
      } else {
        snap.failures.emplace(key, vnet.status());
      }
    } else if (type == kSubnetType) {
      auto subnet = parseSubnet(doc);
      if (subnet.ok()) {
        subnets.push_back(std::move(subnet).value());
      } else {
        snap.failures.emplace(key, subnet.status());
      }
    } else if (type == kNetworkInterfaceType) {
      auto nic = parseNic(doc);
      if (nic.ok()) {
        snap.nics.emplace(key, std::move(nic).value());
      } else {
        snap.failures.emplace(key, nic.status());
      }
    } else if (type == kPeeringType) {
      auto peering = parsePeering(doc);
      if (peering.ok()) {
        peerings.push_back(std::move(peering).value());
      } else {
        snap.failures.emplace(key, peering.status());
      }
    } else if (type == kLoadBalancerType) {
      auto lb = parseLoadBalancer(doc);
      if (lb.ok()) {
        snap.loadBalancers.emplace(key, std::move(lb).value());
      } else {
        snap.failures.emplace(key, lb.status());
      }
    } else if (type == kPrivateLinkServiceType) {
      auto pls = parsePrivateLinkService(doc);
      if (pls.ok()) {
        snap.privateLinkServices.emplace(key, std::move(pls).value());
      } else {
        snap.failures.emplace(key, pls.status());
      }
    } else if (type == kPrivateEndpointType) {
      auto pe = parsePrivateEndpoint(doc);
      if (pe.ok()) {
        snap.privateEndpoints.emplace(key, std::move(pe).value());
      } else {
        snap.failures.emplace(key, pe.status());
      }
    } else if (isConnectionRecordType(type)) {
      records[key] = &doc;
    } else if (isPaasInstanceBody(doc.body)) {
      auto instance = parsePaasInstance(key, doc.id, doc.body);
      if (instance.ok()) {
        snap.paasInstances.emplace(key, std::move(instance).value());
      } else {
        snap.failures.emplace(key, instance.status());
      }
    } else if (type == kTransitAddressType) {
      auto transit = parseTransit(doc);
      if (transit.ok()) {
        snap.transit.insert(std::move(transit).value());
      } else {
        snap.failures.emplace(key, transit.status());
      }
    }
  }
  std::sort(subnets.begin(), subnets.end(),
            [](const Subnet& a, const Subnet& b) { return a.key < b.key; });
  for (Subnet& subnet : subnets) {
    auto it = snap.vnets.find(subnet.vnetKey);
    if (it != snap.vnets.end()) it->second.subnets.push_back(std::move(subnet));
  }
  for (Peering& peering : peerings) {
    if (snap.vnets.count(peering.vnetKey)) snap.peerings.emplace(peering.key, std::move(peering));
  }
  // Each endpoint's state comes from its connection record (the one place it lives).
  for (auto& [key, pe] : snap.privateEndpoints) {
    auto record = records.find(pe.connectionKey);
    if (record == records.end()) continue;  // deleted by the provider: Disconnected
    const ConnectionState state = parseConnectionRecord(record->second->body);
    joinConnectionState(pe, pe.linkIdentifier, &state);
  }
  // Transit records of VNets that no longer exist are not part of the network.
  for (auto it = snap.transit.begin(); it != snap.transit.end();) {
    it = snap.vnets.count(it->first) ? std::next(it) : snap.transit.erase(it);
  }
  return snap;
}

}  // namespace privlink::model
