#include <algorithm>
#include <cctype>

#include "control/privatedns/private_dns_internal.h"
#include "model/private_dns_view.h"
#include "model/resource_types.h"

namespace privlink::control::privatedns {

namespace {

bool labelOk(std::string_view label, bool allowStar) {
  if (allowStar && label == "*") return true;
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (unsigned char c : label) {
    if (!(std::isalnum(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

std::vector<std::string_view> splitLabels(std::string_view name) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    out.push_back(name.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                                    : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

model::SourceDocument source(const store::Document& d) {
  return model::SourceDocument{d.key, d.id, d.type, d.body};
}

}  // namespace

std::string recordSetType(std::string_view recordType) {
  std::string upper;
  for (char c : recordType) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return std::string(model::kPrivateDnsZone) + "/" + upper;
}

Status validateZoneName(std::string_view name) {
  std::string_view n = name;
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  auto labels = splitLabels(n);
  bool ok = !n.empty() && n.size() <= 253 && labels.size() >= 2 && labels.size() <= 34;
  for (auto label : labels) ok = ok && labelOk(label, false);
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
             "InvalidResourceName",
             "The private DNS zone name '" + std::string(name) +
                 "' is invalid. A zone name needs 2 to 34 labels separated by '.', e.g. "
                 "'privatelink.database.windows.net' or 'contoso.internal'; each label is 1 to 63 "
                 "letters, digits, '-' or '_' and does not start or end with '-'.")
      .withTarget("name");
}

Status validateRecordSetName(std::string_view name) {
  if (name == "@") return Status::Ok();
  auto labels = splitLabels(name);
  bool ok = !name.empty() && name.size() <= 253;
  for (size_t i = 0; i < labels.size(); ++i) ok = ok && labelOk(labels[i], i == 0);
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
             "InvalidResourceName",
             "The record set name '" + std::string(name) +
                 "' is invalid. Use '@' for the zone apex, or a name relative to the zone made "
                 "of labels of 1 to 63 letters, digits, '-' or '_' separated by '.' (the first "
                 "label may be '*').")
      .withTarget("name");
}

std::string recordFqdn(std::string_view name, std::string_view zone) {
  std::string z = toLower(zone);
  if (!z.empty() && z.back() == '.') z.pop_back();
  return (name == "@" ? z : toLower(name) + "." + z) + ".";
}

ResourceId aRecordSetId(const ResourceId& zone, std::string_view recordName) {
  return zone.child("A", toLower(recordName));
}

Result<std::vector<store::Document>> zoneRecordSets(store::ReadView& view,
                                                    const ResourceId& zone) {
  std::vector<store::Document> out;
  for (const std::string& t : model::privateDnsRecordTypes()) {
    ASSIGN_OR_RETURN(auto docs, view.listType(toLower(recordSetType(t)), zone.key() + "/"));
    for (auto& d : docs) out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(),
            [](const store::Document& a, const store::Document& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<store::Document>> zoneLinks(store::ReadView& view, const ResourceId& zone) {
  return view.listType(kLinkDocType, zone.key() + "/");
}

Result<std::vector<model::DnsRecordSet>> autoRegisteredRecordSets(store::ReadView& view,
                                                                  const ResourceId& zone) {
  std::vector<model::DnsRecordSet> out;
  ASSIGN_OR_RETURN(auto links, zoneLinks(view, zone));
  std::string viewer;
  bool anyRegistration = false;
  std::vector<model::SourceDocument> docs;
  for (const auto& link : links) {
    const Json& p = link.body.value("properties", Json::object());
    if (p.value("registrationEnabled", false)) anyRegistration = true;
    if (viewer.empty() && p.contains("virtualNetwork") && p["virtualNetwork"].is_object()) {
      viewer = p["virtualNetwork"].value("id", "");
    }
    docs.push_back(source(link));
  }
  if (!anyRegistration || viewer.empty()) return out;
  ASSIGN_OR_RETURN(auto zoneDoc, view.get(zone.key()));
  if (!zoneDoc) return out;
  docs.push_back(source(*zoneDoc));
  ASSIGN_OR_RETURN(auto records, view.listType(toLower(recordSetType("A")), zone.key() + "/"));
  for (const auto& r : records) docs.push_back(source(r));
  ASSIGN_OR_RETURN(auto nics, view.listType(toLower(model::kNetworkInterface)));
  for (const auto& n : nics) docs.push_back(source(n));
  // Every VNet linked to the zone sees its auto-registered names, so one linked VNet's view has
  // them all.
  model::DnsView dv = model::dnsView(docs, viewer);
  for (auto& z : dv.zones) {
    if (z.key != zone.key()) continue;
    for (auto& rs : z.recordSets) {
      if (rs.autoRegistered) out.push_back(std::move(rs));
    }
  }
  return out;
}

Result<size_t> autoRegisteredCount(store::ReadView& view, const ResourceId& zone) {
  ASSIGN_OR_RETURN(auto sets, autoRegisteredRecordSets(view, zone));
  return sets.size();
}

Status addEndpointAddress(store::Transaction& txn, const ResourceId& zone,
                          std::string_view recordName, const EndpointAddress& address,
                          std::string_view creator) {
  ResourceId setId = aRecordSetId(zone, recordName);
  ASSIGN_OR_RETURN(auto existing, txn.get(setId.key()));
  Json body;
  std::string idText = setId.toString();
  if (existing) {
    body = existing->body;
    idText = existing->id;
  } else {
    body = {{"id", idText},
            {"name", toLower(recordName)},
            {"type", recordSetType("A")},
            {"properties",
             {{"ttl", kZoneGroupRecordTtl},
              {"metadata", {{"creator", std::string(creator)}}},
              {"aRecords", Json::array()}}}};
  }
  if (!body.contains("properties") || !body["properties"].is_object()) {
    body["properties"] = Json::object();
  }
  Json& p = body["properties"];
  if (!p.contains("aRecords") || !p["aRecords"].is_array()) p["aRecords"] = Json::array();
  bool present = false;
  for (const auto& r : p["aRecords"]) {
    if (r.is_object() && r.value("ipv4Address", "") == address.ipv4Address) present = true;
  }
  if (!present) p["aRecords"].push_back({{"ipv4Address", address.ipv4Address}});
  if (!p.contains("privlink") || !p["privlink"].is_object()) p["privlink"] = Json::object();
  Json& attributions = p["privlink"]["addresses"];
  if (!attributions.is_array()) attributions = Json::array();
  Json entry = {{"ipv4Address", address.ipv4Address},
                {"virtualNetworkId", address.virtualNetworkId},
                {"privateEndpointId", address.privateEndpointId},
                {"zoneGroupId", address.zoneGroupId}};
  Json kept = Json::array();
  for (const auto& a : attributions) {
    bool same = a.is_object() && iequals(a.value("zoneGroupId", ""), address.zoneGroupId) &&
                a.value("ipv4Address", "") == address.ipv4Address;
    if (!same) kept.push_back(a);
  }
  kept.push_back(entry);
  attributions = std::move(kept);
  ASSIGN_OR_RETURN(auto stored, txn.put(idText, toLower(recordSetType("A")), std::move(body)));
  (void)stored;
  return Status::Ok();
}

Status removeZoneGroupAddresses(store::Transaction& txn, const ResourceId& zone,
                                std::string_view recordName, std::string_view zoneGroupId) {
  ResourceId setId = aRecordSetId(zone, recordName);
  ASSIGN_OR_RETURN(auto existing, txn.get(setId.key()));
  if (!existing) return Status::Ok();
  Json body = existing->body;
  if (!body.contains("properties") || !body["properties"].is_object()) return Status::Ok();
  Json& p = body["properties"];
  if (!p.contains("privlink") || !p["privlink"].is_object() ||
      !p["privlink"].contains("addresses") || !p["privlink"]["addresses"].is_array()) {
    return Status::Ok();
  }
  std::vector<std::string> removed;
  Json kept = Json::array();
  for (const auto& a : p["privlink"]["addresses"]) {
    if (a.is_object() && iequals(a.value("zoneGroupId", ""), zoneGroupId)) {
      removed.push_back(a.value("ipv4Address", ""));
    } else {
      kept.push_back(a);
    }
  }
  if (removed.empty()) return Status::Ok();
  auto stillAttributed = [&](const std::string& ip) {
    for (const auto& a : kept) {
      if (a.value("ipv4Address", "") == ip) return true;
    }
    return false;
  };
  Json records = Json::array();
  if (p.contains("aRecords") && p["aRecords"].is_array()) {
    for (const auto& r : p["aRecords"]) {
      std::string ip = r.is_object() ? r.value("ipv4Address", "") : "";
      bool drop = std::find(removed.begin(), removed.end(), ip) != removed.end() &&
                  !stillAttributed(ip);
      if (!drop) records.push_back(r);
    }
  }
  p["aRecords"] = records;
  p["privlink"]["addresses"] = kept;
  std::string creator;
  if (p.contains("metadata") && p["metadata"].is_object()) {
    creator = p["metadata"].value("creator", "");
  }
  if (records.empty() && creator.rfind(kCreatorPrefix, 0) == 0) {
    return txn.erase(existing->key);
  }
  ASSIGN_OR_RETURN(auto stored, txn.put(existing->id, existing->type, std::move(body)));
  (void)stored;
  return Status::Ok();
}

}  // namespace privlink::control::privatedns
