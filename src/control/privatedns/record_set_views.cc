#include "control/privatedns/record_set_views.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "control/privatedns/private_dns_internal.h"
#include "model/resource_types.h"

namespace privlink::control::privatedns {
namespace {

// The zone id of {zone}/... when `segments` starts with a resource-group private DNS zone path
// of `size` segments in all.
std::optional<ResourceId> zoneOf(const std::vector<std::string>& s, size_t size) {
  if (s.size() != size || size < 9) return std::nullopt;
  if (!iequals(s[0], "subscriptions") || !iequals(s[2], "resourceGroups") ||
      !iequals(s[4], "providers") || !iequals(s[5], "Microsoft.Network") ||
      !iequals(s[6], "privateDnsZones")) {
    return std::nullopt;
  }
  Result<ResourceId> zone =
      ResourceId::parse("/subscriptions/" + s[1] + "/resourceGroups/" + s[3] +
                        "/providers/Microsoft.Network/privateDnsZones/" + s[7]);
  if (!zone.ok()) return std::nullopt;
  return *zone;
}

Json renderAuto(const store::Document& zoneDoc, const model::DnsRecordSet& rs) {
  Json records = Json::array();
  for (const IpAddress& a : rs.addresses) records.push_back({{"ipv4Address", a.toString()}});
  return {{"id", zoneDoc.id + "/A/" + rs.name},
          {"name", rs.name},
          {"type", recordSetType("A")},
          {"properties",
           {{"metadata", Json::object()},
            {"ttl", rs.ttl},
            {"fqdn", rs.fqdn},
            {"isAutoRegistered", true},
            {"aRecords", std::move(records)},
            {"provisioningState", "Succeeded"}}}};
}

bool hasSuffix(const std::string& name, const std::string& suffix) {
  if (suffix.empty()) return true;
  const std::string n = toLower(name);
  std::string s = toLower(suffix);
  while (!s.empty() && s.front() == '.') s.erase(s.begin());
  if (s.empty() || n == s) return true;
  return n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0 &&
         n[n.size() - s.size() - 1] == '.';
}

Result<size_t> offsetOf(const std::string& token) {
  bool digits = !token.empty() && token.size() <= 9;
  for (unsigned char c : token) digits = digits && std::isdigit(c);
  if (token.empty()) return size_t{0};
  if (!digits) {
    return Status::InvalidArgument("InvalidSkipToken",
                                   "The $skipToken '" + token +
                                       "' was not issued by this list; follow the nextLink of "
                                       "the previous page.")
        .withTarget("$skipToken");
  }
  return static_cast<size_t>(std::stoul(token));
}

}  // namespace

std::optional<Result<Page>> RecordSetViews::list(const std::vector<std::string>& segments,
                                                 const RecordSetListOptions& options) const {
  std::optional<ResourceId> zone = zoneOf(segments, 9);
  if (!zone) return std::nullopt;
  const bool all = iequals(segments[8], "ALL");
  if (!all && !iequals(segments[8], "A")) return std::nullopt;
  Result<size_t> offset = offsetOf(options.skipToken);
  if (!offset.ok()) return Result<Page>(offset.status());

  bool zoneExists = false;
  std::vector<std::pair<std::string, Json>> items;  // (sort key, rendered)
  Status st = service_.store().read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::Document> zoneDoc, view.get(zone->key()));
    if (!zoneDoc) return Status::Ok();
    zoneExists = true;
    std::vector<store::Document> stored;
    if (all) {
      ASSIGN_OR_RETURN(stored, zoneRecordSets(view, *zone));
    } else {
      ASSIGN_OR_RETURN(stored, view.listType(toLower(recordSetType("A")), zone->key() + "/"));
    }
    for (const store::Document& d : stored) items.emplace_back(d.key, service_.render(view, d));
    ASSIGN_OR_RETURN(std::vector<model::DnsRecordSet> autos, autoRegisteredRecordSets(view, *zone));
    for (const model::DnsRecordSet& rs : autos) {
      items.emplace_back(zone->key() + "/a/" + rs.name, renderAuto(*zoneDoc, rs));
    }
    return Status::Ok();
  });
  if (!st.ok()) return Result<Page>(st);
  if (!zoneExists) {
    if (!all) return std::nullopt;  // the engine's own 404 for {zone}/A
    return Result<Page>(Status::NotFound(
        "ResourceNotFound", "The Resource 'Microsoft.Network/privateDnsZones/" + zone->name() +
                                "' under resource group '" + zone->resourceGroup() +
                                "' was not found."));
  }
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  if (all && !options.nameSuffix.empty()) {
    std::erase_if(items, [&](const auto& item) {
      return !hasSuffix(item.second.value("name", ""), options.nameSuffix);
    });
  }
  Page page;
  const size_t top = std::max<size_t>(options.top, 1);
  for (size_t i = *offset; i < items.size() && page.value.size() < top; ++i) {
    page.value.push_back(std::move(items[i].second));
  }
  if (*offset + page.value.size() < items.size()) {
    page.nextSkipToken = std::to_string(*offset + page.value.size());
  }
  return Result<Page>(std::move(page));
}

std::optional<Result<Json>> RecordSetViews::get(const std::vector<std::string>& segments) const {
  std::optional<ResourceId> zone = zoneOf(segments, 10);
  if (!zone || !iequals(segments[8], "A")) return std::nullopt;
  const std::string name = toLower(segments[9]);
  std::optional<Json> found;
  Status st = service_.store().read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::Document> zoneDoc, view.get(zone->key()));
    if (!zoneDoc) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::Document> stored,
                     view.get(aRecordSetId(*zone, name).key()));
    if (stored) return Status::Ok();
    ASSIGN_OR_RETURN(std::vector<model::DnsRecordSet> autos, autoRegisteredRecordSets(view, *zone));
    for (const model::DnsRecordSet& rs : autos) {
      if (rs.name == name) found = renderAuto(*zoneDoc, rs);
    }
    return Status::Ok();
  });
  if (!st.ok()) return Result<Json>(st);
  if (!found) return std::nullopt;
  return Result<Json>(std::move(*found));
}

}  // namespace privlink::control::privatedns
