#include "control/resource_metrics.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <string_view>
#include <vector>

#include "model/resource_types.h"

namespace privlink::control {
namespace {

using Json = nlohmann::json;

struct MetricDefinition {
  const char* name;
  const char* displayName;
  const char* description;
  const char* unit;
  const char* primaryAggregation;
  const char* counter;  // the counters field; nullptr for the NAT port usage
};

constexpr MetricDefinition kEndpointMetrics[] = {
    {"PEBytesIn", "Bytes In", "Total number of Bytes In (service to client)", "Count", "Total",
     "bytesIn"},
    {"PEBytesOut", "Bytes Out", "Total number of Bytes Out (client to service)", "Count", "Total",
     "bytesOut"},
};
constexpr MetricDefinition kServiceMetrics[] = {
    {"PLSBytesIn", "Bytes In", "Total number of Bytes In (service to clients)", "Count", "Total",
     "bytesIn"},
    {"PLSBytesOut", "Bytes Out", "Total number of Bytes Out (clients to service)", "Count", "Total",
     "bytesOut"},
    {"PLSNatPortsUsage", "Nat Ports Usage", "Nat Ports Usage", "Percent", "Average", nullptr},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string item = trim(text.substr(start, comma - start));
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::string utc(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "2026-11-29T17:03:41.123Z" -> "2026-11-29T17:03:00Z".
std::string minuteOf(const std::string& observedAt) {
  if (observedAt.size() < 16) return observedAt;
  return observedAt.substr(0, 16) + ":00Z";
}

// The NAT IP a $filter selects: nullopt without a PrivateLinkServiceIPAddress clause, "*" for
// every IP, else the address.
std::optional<std::string> natIpFilter(const std::string& filter) {
  const std::string f = lower(filter);
  const std::string dimension = "privatelinkserviceipaddress";
  size_t at = f.find(dimension);
  if (at == std::string::npos) return std::nullopt;
  size_t quote = filter.find('\'', at + dimension.size());
  if (quote == std::string::npos) return std::string("*");
  size_t end = filter.find('\'', quote + 1);
  if (end == std::string::npos) return std::string("*");
  return filter.substr(quote + 1, end - quote - 1);
}

Json dataPoint(const std::string& timeStamp, double value, const std::vector<std::string>& aggs) {
  Json point = {{"timeStamp", timeStamp}};
  for (const std::string& a : aggs) {
    const std::string l = lower(a);
    if (l == "total") point["total"] = value;
    if (l == "average") point["average"] = value;
    if (l == "maximum") point["maximum"] = value;
    if (l == "minimum") point["minimum"] = value;
    if (l == "count") point["count"] = 1;
  }
  return point;
}

}  // namespace

Result<Json> resourceMetrics(ResourceService& service, const ResourceId& id,
                             const MetricsQuery& query) {
  const std::string type = lower(id.type());
  const MetricDefinition* begin = nullptr;
  const MetricDefinition* end = nullptr;
  if (type == lower(model::kPrivateEndpoint)) {
    begin = std::begin(kEndpointMetrics);
    end = std::end(kEndpointMetrics);
  } else if (type == lower(model::kPrivateLinkService)) {
    begin = std::begin(kServiceMetrics);
    end = std::end(kServiceMetrics);
  } else {
    return Status::InvalidArgument(
        "ResourceNotSupported",
        "privlink serves metrics only for Microsoft.Network/privateEndpoints and "
        "Microsoft.Network/privateLinkServices, not " +
            id.type() + ".");
  }
  ASSIGN_OR_RETURN(Json resource, service.get(id));

  std::vector<const MetricDefinition*> wanted;
  const std::vector<std::string> names = splitList(query.metricNames);
  for (const std::string& name : names) {
    const MetricDefinition* found = nullptr;
    for (const MetricDefinition* m = begin; m != end; ++m) {
      if (lower(m->name) == lower(name)) found = m;
    }
    if (!found) {
      std::string valid;
      for (const MetricDefinition* m = begin; m != end; ++m) {
        valid += (valid.empty() ? "" : ", ") + std::string(m->name);
      }
      return Status::InvalidArgument("BadRequest",
                                     "Failed to find metric configuration for "
                                     "provider: Microsoft.Network, resource Type: " +
                                         id.type() + ", metric: " + name +
                                         ". Valid metrics: " + valid);
    }
    if (std::find(wanted.begin(), wanted.end(), found) == wanted.end()) wanted.push_back(found);
  }
  if (names.empty()) {
    for (const MetricDefinition* m = begin; m != end; ++m) wanted.push_back(m);
  }

  const Json* counters = nullptr;
  {
    const Json& props = resource["properties"];
    if (props.is_object() && props.contains("privlink") && props["privlink"].is_object() &&
        props["privlink"].contains("counters") && props["privlink"]["counters"].is_object()) {
      counters = &props["privlink"]["counters"];
    }
  }
  const std::optional<std::string> natFilter = natIpFilter(query.filter);
  const auto now = std::chrono::system_clock::now();
  const std::string timespan =
      query.timespan.empty() ? utc(now - std::chrono::hours(1)) + "/" + utc(now) : query.timespan;

  Json value = Json::array();
  for (const MetricDefinition* m : wanted) {
    const std::vector<std::string> aggs = query.aggregation.empty()
                                              ? std::vector<std::string>{m->primaryAggregation}
                                              : splitList(query.aggregation);
    Json timeseries = Json::array();
    if (m->counter) {
      Json data = Json::array();
      if (counters) {
        const double v = counters->value(m->counter, uint64_t{0});
        data.push_back(dataPoint(minuteOf(counters->value("observedAt", "")), v, aggs));
      }
      timeseries.push_back({{"metadatavalues", Json::array()}, {"data", std::move(data)}});
    } else {
      // PLSNatPortsUsage: ports in use per NAT IP (TCP + UDP), in percent of kNatPortsPerIp.
      std::map<std::string, uint64_t> perIp;
      std::vector<std::string> order;
      if (counters && counters->contains("natPorts") && (*counters)["natPorts"].is_array()) {
        for (const Json& row : (*counters)["natPorts"]) {
          if (!row.is_object()) continue;
          const std::string ip = row.value("ipAddress", "");
          if (!perIp.count(ip)) order.push_back(ip);
          perIp[ip] += row.value("portsInUse", uint64_t{0});
        }
      }
      const std::string stamp = counters ? minuteOf(counters->value("observedAt", "")) : "";
      auto percent = [](uint64_t ports) {
        return static_cast<double>(ports) * 100.0 / static_cast<double>(kNatPortsPerIp);
      };
      if (natFilter) {
        for (const std::string& ip : order) {
          if (*natFilter != "*" && *natFilter != ip) continue;
          Json meta = Json::array({{{"name",
                                     {{"value", "PrivateLinkServiceIPAddress"},
                                      {"localizedValue", "PrivateLinkServiceIPAddress"}}},
                                    {"value", ip}}});
          timeseries.push_back(
              {{"metadatavalues", std::move(meta)},
               {"data", Json::array({dataPoint(stamp, percent(perIp[ip]), aggs)})}});
        }
      } else {
        Json data = Json::array();
        if (counters && !order.empty()) {
          uint64_t sum = 0;
          for (const auto& [ip, ports] : perIp) sum += ports;
          data.push_back(dataPoint(stamp, percent(sum) / static_cast<double>(order.size()), aggs));
        }
        timeseries.push_back({{"metadatavalues", Json::array()}, {"data", std::move(data)}});
      }
    }
    value.push_back({{"id", id.toString() + "/providers/Microsoft.Insights/metrics/" + m->name},
                     {"type", "Microsoft.Insights/metrics"},
                     {"name", {{"value", m->name}, {"localizedValue", m->displayName}}},
                     {"displayDescription", m->description},
                     {"unit", m->unit},
                     {"timeseries", std::move(timeseries)},
                     {"errorCode", "Success"}});
  }
  return Json{{"cost", 0},
              {"timespan", timespan},
              {"interval", query.interval.empty() ? "PT1M" : query.interval},
              {"value", std::move(value)},
              {"namespace", id.type()},
              {"resourceregion", resource.value("location", "")}};
}

}  // namespace privlink::control
