#include "model/private_dns_view.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/resource_id.h"

namespace privlink::model {

using nlohmann::json;

namespace {

constexpr std::string_view kRecordTypePrefix = "microsoft.network/privatednszones/";

const json& props(const json& body) {
  static const json kEmpty = json::object();
  if (body.is_object() && body.contains("properties") && body["properties"].is_object()) {
    return body["properties"];
  }
  return kEmpty;
}

std::string str(const json& obj, const char* key) {
  if (obj.is_object() && obj.contains(key) && obj[key].is_string()) return obj[key].get<std::string>();
  return {};
}

uint64_t num(const json& obj, const char* key, uint64_t fallback) {
  if (obj.is_object() && obj.contains(key) && obj[key].is_number_unsigned()) {
    return obj[key].get<uint64_t>();
  }
  if (obj.is_object() && obj.contains(key) && obj[key].is_number_integer() &&
      obj[key].get<int64_t>() >= 0) {
    return static_cast<uint64_t>(obj[key].get<int64_t>());
  }
  return fallback;
}

const json& arr(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  if (obj.is_object() && obj.contains(key) && obj[key].is_array()) return obj[key];
  return kEmpty;
}

std::string refKey(const json& obj, const char* key) {
  if (obj.is_object() && obj.contains(key) && obj[key].is_object()) {
    return normaliseKey(str(obj[key], "id"));
  }
  return {};
}

// "<zone key>/<type>/<name>" -> {zone key, TYPE, name}; nullopt when not a record set key.
struct RecordKey {
  std::string zoneKey;
  std::string type;
  std::string name;
};
std::optional<RecordKey> splitRecordKey(const std::string& key, const std::string& docType) {
  if (docType.rfind(kRecordTypePrefix, 0) != 0) return std::nullopt;
  std::string type = docType.substr(kRecordTypePrefix.size());
  std::string upper;
  for (char c : type) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  const auto& types = privateDnsRecordTypes();
  if (std::find(types.begin(), types.end(), upper) == types.end()) return std::nullopt;
  size_t nameSlash = key.rfind('/');
  if (nameSlash == std::string::npos || nameSlash == 0) return std::nullopt;
  size_t typeSlash = key.rfind('/', nameSlash - 1);
  if (typeSlash == std::string::npos) return std::nullopt;
  return RecordKey{key.substr(0, typeSlash), upper, key.substr(nameSlash + 1)};
}

std::string lastSegment(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

std::string fqdnOf(const std::string& name, const std::string& zone) {
  return (name == "@" ? zone : name + "." + zone) + ".";
}

// The VNet key of a subnet key ".../virtualnetworks/v/subnets/s".
std::string vnetOfSubnet(const std::string& subnetKey) {
  size_t pos = subnetKey.rfind("/subnets/");
  return pos == std::string::npos ? std::string() : subnetKey.substr(0, pos);
}

bool parseRecordSet(const SourceDocument& doc, const RecordKey& rk, const std::string& zoneName,
                    const std::string& vnetKey, DnsRecordSet* out, std::string* error) {
  const json& p = props(doc.body);
  out->type = rk.type;
  out->name = rk.name;
  out->fqdn = fqdnOf(rk.name, zoneName);
  out->ttl = static_cast<uint32_t>(std::min<uint64_t>(num(p, "ttl", 3600), 2147483647));
  if (rk.type == "A") {
    std::vector<IpAddress> all;
    for (const auto& r : arr(p, "aRecords")) {
      auto ip = IpAddress::parse(str(r, "ipv4Address"));
      if (!ip || !ip->isV4()) {
        *error = "aRecords has an entry that is not an IPv4 address";
        return false;
      }
      all.push_back(*ip);
    }
    std::vector<std::pair<IpAddress, std::string>> attributions;
    const json& privlink = p.contains("privlink") ? p["privlink"] : json::object();
    for (const auto& a : arr(privlink, "addresses")) {
      auto ip = IpAddress::parse(str(a, "ipv4Address"));
      std::string vnet = normaliseKey(str(a, "virtualNetworkId"));
      if (ip && !vnet.empty()) attributions.emplace_back(*ip, vnet);
    }
    out->addresses = attributedAddresses(all, attributions, vnetKey);
  } else if (rk.type == "AAAA") {
    for (const auto& r : arr(p, "aaaaRecords")) {
      auto ip = IpAddress::parse(str(r, "ipv6Address"));
      if (!ip || ip->isV4()) {
        *error = "aaaaRecords has an entry that is not an IPv6 address";
        return false;
      }
      out->addresses.push_back(*ip);
    }
  } else if (rk.type == "CNAME") {
    if (p.contains("cnameRecord")) out->cname = toLower(str(p["cnameRecord"], "cname"));
  } else if (rk.type == "MX") {
    for (const auto& r : arr(p, "mxRecords")) {
      out->mx.push_back({static_cast<uint32_t>(num(r, "preference", 0)), toLower(str(r, "exchange"))});
    }
  } else if (rk.type == "PTR") {
    for (const auto& r : arr(p, "ptrRecords")) out->ptr.push_back(toLower(str(r, "ptrdname")));
  } else if (rk.type == "SRV") {
    for (const auto& r : arr(p, "srvRecords")) {
      out->srv.push_back({static_cast<uint32_t>(num(r, "priority", 0)),
                          static_cast<uint32_t>(num(r, "weight", 0)),
                          static_cast<uint32_t>(num(r, "port", 0)), toLower(str(r, "target"))});
    }
  } else if (rk.type == "TXT") {
    for (const auto& r : arr(p, "txtRecords")) {
      std::vector<std::string> strings;
      for (const auto& v : arr(r, "value")) {
        if (v.is_string()) strings.push_back(v.get<std::string>());
      }
      out->txt.push_back(std::move(strings));
    }
  } else if (rk.type == "SOA") {
    if (p.contains("soaRecord") && p["soaRecord"].is_object()) {
      const json& s = p["soaRecord"];
      SoaRecord soa;
      soa.host = str(s, "host");
      soa.email = str(s, "email");
      soa.serialNumber = num(s, "serialNumber", soa.serialNumber);
      soa.refreshTime = num(s, "refreshTime", soa.refreshTime);
      soa.retryTime = num(s, "retryTime", soa.retryTime);
      soa.expireTime = num(s, "expireTime", soa.expireTime);
      soa.minimumTtl = num(s, "minimumTtl", soa.minimumTtl);
      out->soa = soa;
    }
  }
  return true;
}

}  // namespace

const std::vector<std::string>& privateDnsRecordTypes() {
  static const std::vector<std::string> kTypes = {"A",   "AAAA", "CNAME", "MX",
                                                  "PTR", "SOA",  "SRV",   "TXT"};
  return kTypes;
}

std::vector<IpAddress> attributedAddresses(
    const std::vector<IpAddress>& addresses,
    const std::vector<std::pair<IpAddress, std::string>>& attributions, std::string_view vnetKey) {
  const std::string vnet = normaliseKey(vnetKey);
  std::set<IpAddress> attributed;
  std::set<IpAddress> own;
  for (const auto& [ip, owner] : attributions) {
    attributed.insert(ip);
    if (normaliseKey(owner) == vnet) own.insert(ip);
  }
  std::vector<IpAddress> out;
  for (const IpAddress& ip : addresses) {
    bool keep = !attributed.count(ip) || own.empty() || own.count(ip);
    if (keep && std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  return out;
}

DnsView dnsView(const std::vector<SourceDocument>& docs, std::string_view vnetKeyText) {
  DnsView view;
  view.vnetKey = normaliseKey(vnetKeyText);
  const std::string& vnetKey = view.vnetKey;

  // Pass 1: zones, links, NIC subnets.
  std::map<std::string, std::string> zoneNames;            // zone key -> name
  std::map<std::string, bool> linked;                      // zone key -> registration (this VNet)
  std::map<std::string, std::set<std::string>> regVnets;   // zone key -> VNets registering
  std::vector<const SourceDocument*> records;
  std::vector<const SourceDocument*> nics;
  std::vector<const SourceDocument*> paas;
  for (const SourceDocument& doc : docs) {
    try {
      if (doc.type == kPrivateDnsZoneDocType) {
        zoneNames[normaliseKey(doc.key)] = toLower(lastSegment(normaliseKey(doc.key)));
      } else if (doc.type == kVirtualNetworkLinkDocType) {
        const json& p = props(doc.body);
        std::string key = normaliseKey(doc.key);
        size_t pos = key.rfind("/virtualnetworklinks/");
        if (pos == std::string::npos) continue;
        std::string zoneKey = key.substr(0, pos);
        std::string linkVnet = refKey(p, "virtualNetwork");
        bool registration = p.contains("registrationEnabled") &&
                            p["registrationEnabled"].is_boolean() &&
                            p["registrationEnabled"].get<bool>();
        if (linkVnet.empty()) {
          view.skipped.emplace_back(doc.key, "the link has no virtualNetwork.id");
          continue;
        }
        if (registration) regVnets[zoneKey].insert(linkVnet);
        if (linkVnet == vnetKey) linked[zoneKey] = linked[zoneKey] || registration;
      } else if (doc.type == kNetworkInterfaceType) {
        nics.push_back(&doc);
      } else if (doc.type.rfind(kRecordTypePrefix, 0) == 0) {
        records.push_back(&doc);
      } else {
        const json& p = props(doc.body);
        if (p.contains("privlink") && p["privlink"].is_object() &&
            p["privlink"].contains("paas") && p["privlink"]["paas"].is_object()) {
          paas.push_back(&doc);
        }
      }
    } catch (const json::exception& e) {
      view.skipped.emplace_back(doc.key, e.what());
    }
  }

  std::map<std::string, DnsZone> zones;
  for (const auto& [zoneKey, registration] : linked) {
    auto name = zoneNames.find(zoneKey);
    if (name == zoneNames.end()) continue;  // link of a zone being deleted
    DnsZone zone;
    zone.key = zoneKey;
    zone.name = name->second;
    zone.registrationEnabled = registration;
    zones.emplace(zoneKey, std::move(zone));
  }

  // Pass 2: stored record sets of linked zones.
  std::set<std::pair<std::string, std::string>> storedA;  // (zone key, name)
  for (const SourceDocument* doc : records) {
    std::string key = normaliseKey(doc->key);
    auto rk = splitRecordKey(key, doc->type);
    if (!rk) continue;
    if (rk->type == "A") storedA.insert({rk->zoneKey, rk->name});
    auto zone = zones.find(rk->zoneKey);
    if (zone == zones.end()) continue;
    try {
      DnsRecordSet set;
      std::string error;
      if (!parseRecordSet(*doc, *rk, zone->second.name, vnetKey, &set, &error)) {
        view.skipped.emplace_back(doc->key, error);
        continue;
      }
      zone->second.recordSets.push_back(std::move(set));
    } catch (const json::exception& e) {
      view.skipped.emplace_back(doc->key, e.what());
    }
  }

  // Pass 3: auto-registered NIC names.
  for (const SourceDocument* doc : nics) {
    try {
      const json& p = props(doc->body);
      if (p.contains("privateEndpoint") && p["privateEndpoint"].is_object() &&
          !str(p["privateEndpoint"], "id").empty()) {
        continue;
      }
      std::string nicName = toLower(lastSegment(normaliseKey(doc->key)));
      std::string nicVnet;
      std::vector<IpAddress> addresses;
      for (const auto& cfg : arr(p, "ipConfigurations")) {
        const json& cp = props(cfg);
        std::string subnet = refKey(cp, "subnet");
        auto ip = IpAddress::parse(str(cp, "privateIPAddress"));
        if (subnet.empty() || !ip || !ip->isV4()) continue;
        if (nicVnet.empty()) nicVnet = vnetOfSubnet(subnet);
        bool primary = cp.contains("primary") && cp["primary"].is_boolean() && cp["primary"].get<bool>();
        if (primary) {
          addresses.insert(addresses.begin(), *ip);
          nicVnet = vnetOfSubnet(subnet);
        } else {
          addresses.push_back(*ip);
        }
      }
      if (addresses.empty() || nicVnet.empty()) continue;
      for (auto& [zoneKey, zone] : zones) {
        auto reg = regVnets.find(zoneKey);
        if (reg == regVnets.end() || !reg->second.count(nicVnet)) continue;
        if (storedA.count({zoneKey, nicName})) continue;
        DnsRecordSet set;
        set.type = "A";
        set.name = nicName;
        set.fqdn = fqdnOf(nicName, zone.name);
        set.ttl = kAutoRegisteredTtl;
        set.autoRegistered = true;
        set.addresses = {addresses.front()};
        zone.recordSets.push_back(std::move(set));
      }
    } catch (const json::exception& e) {
      view.skipped.emplace_back(doc->key, e.what());
    }
  }

  for (auto& [key, zone] : zones) {
    std::sort(zone.recordSets.begin(), zone.recordSets.end(),
              [](const DnsRecordSet& a, const DnsRecordSet& b) {
                return std::tie(a.name, a.type) < std::tie(b.name, b.type);
              });
  }
  std::vector<DnsZone> ordered;
  for (auto& [key, zone] : zones) ordered.push_back(std::move(zone));
  std::sort(ordered.begin(), ordered.end(),
            [](const DnsZone& a, const DnsZone& b) { return a.name < b.name; });
  view.zones = std::move(ordered);

  // Pass 4: public PaaS names.
  for (const SourceDocument* doc : paas) {
    try {
      const json& p = props(doc->body)["privlink"]["paas"];
      std::string fqdn = toLower(str(p, "publicFqdn"));
      std::string cname = toLower(str(p, "privateLinkFqdn"));
      if (fqdn.empty() || cname.empty()) continue;
      PublicName name;
      name.fqdn = fqdn + ".";
      name.cname = cname + ".";
      auto ip = IpAddress::parse(str(p, "publicIpAddress"));
      if (ip) name.publicAddress = *ip;
      view.publicNames.push_back(std::move(name));
    } catch (const json::exception& e) {
      view.skipped.emplace_back(doc->key, e.what());
    }
  }
  std::sort(view.publicNames.begin(), view.publicNames.end(),
            [](const PublicName& a, const PublicName& b) { return a.fqdn < b.fqdn; });
  return view;
}

}  // namespace privlink::model
