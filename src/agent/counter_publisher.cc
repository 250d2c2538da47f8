#include "agent/counter_publisher.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

#include "agent/endpoint_counters.h"

namespace privlink::agent {
namespace {

std::string protocolName(uint8_t protocol) {
  if (protocol == IPPROTO_TCP) return "Tcp";
  if (protocol == IPPROTO_UDP) return "Udp";
  return std::to_string(protocol);
}

bool sameEndpoint(const CounterTargets::Endpoint& a, const CounterTargets::Endpoint& b) {
  return a.key == b.key && a.id == b.id && a.consumerVnetKey == b.consumerVnetKey &&
         a.targetKey == b.targetKey && a.linkIdentifier == b.linkIdentifier;
}

bool sameService(const CounterTargets::Service& a, const CounterTargets::Service& b) {
  return a.key == b.key && a.id == b.id && a.natAddressesByVnet == b.natAddressesByVnet;
}

}  // namespace

bool CounterTargets::operator==(const CounterTargets& other) const {
  return std::equal(endpoints.begin(), endpoints.end(), other.endpoints.begin(),
                    other.endpoints.end(), sameEndpoint) &&
         std::equal(services.begin(), services.end(), other.services.begin(), other.services.end(),
                    sameService);
}

namespace {

// The services' half of counterTargetsOf (`failures`: a map or set of keys).
template <typename Failed>
std::vector<CounterTargets::Service> servicesOf(const model::NetworkSnapshot& snapshot,
                                                const Failed& failures) {
  std::vector<CounterTargets::Service> services;
  if (snapshot.privateLinkServices.empty()) return services;
  std::map<std::string, std::string> vnetOfSubnet;
  for (const auto& [vnetKey, vnet] : snapshot.vnets) {
    for (const model::Subnet& subnet : vnet.subnets) vnetOfSubnet[subnet.key] = vnetKey;
  }
  for (const auto& [key, pls] : snapshot.privateLinkServices) {
    if (failures.count(key)) continue;
    CounterTargets::Service service{key, pls.id, {}};
    for (size_t i = 0; i < pls.natAddresses.size() && i < pls.natSubnetKeys.size(); ++i) {
      auto vnet = vnetOfSubnet.find(pls.natSubnetKeys[i]);
      if (vnet == vnetOfSubnet.end() || !pls.natAddresses[i].isV4()) continue;
      service.natAddressesByVnet[vnet->second].push_back(pls.natAddresses[i]);
    }
    services.push_back(std::move(service));
  }
  return services;
}

}  // namespace

CounterTargets counterTargetsOf(const model::NetworkSnapshot& snapshot,
                                const std::map<std::string, Status>& failures) {
  std::map<std::string, std::string> vnetOfSubnet;
  for (const auto& [vnetKey, vnet] : snapshot.vnets) {
    for (const model::Subnet& subnet : vnet.subnets) vnetOfSubnet[subnet.key] = vnetKey;
  }
  CounterTargets targets;
  for (const auto& [key, pe] : snapshot.privateEndpoints) {
    if (failures.count(key)) continue;
    auto vnet = vnetOfSubnet.find(pe.subnetKey);
    if (vnet == vnetOfSubnet.end()) continue;
    targets.endpoints.push_back({key, pe.id, vnet->second, pe.targetKey, pe.linkIdentifier});
  }
  targets.services = servicesOf(snapshot, failures);
  return targets;
}

CounterPublisher::CounterPublisher(store::Store& store, model::HostNaming naming,
                                   CounterPublisherOptions options, NatPortReader natPorts)
    : store_(store),
      naming_(std::move(naming)),
      options_(std::move(options)),
      nat_ports_(natPorts ? std::move(natPorts)
                          : NatPortReader(dataplane::countNatPortsInNamespace)) {}

void CounterPublisher::setTargets(CounterTargets targets) {
  if (targets == targets_) return;
  targets_ = std::move(targets);
  targets_changed_ = true;
}

namespace {

std::set<std::string> keysOf(const std::map<std::string, Status>& failures) {
  std::set<std::string> keys;
  for (const auto& [key, status] : failures) keys.insert(keys.end(), key);
  return keys;
}

// The VNet key of `subnetKey`, "" if no VNet of the snapshot has it.
std::string vnetOf(const model::NetworkSnapshot& snapshot, const std::string& subnetKey) {
  for (const auto& [vnetKey, vnet] : snapshot.vnets) {
    for (const model::Subnet& subnet : vnet.subnets) {
      if (subnet.key == subnetKey) return vnetKey;
    }
  }
  return "";
}

}  // namespace

void CounterPublisher::setTargetsOf(const model::NetworkSnapshot& snapshot,
                                    const std::map<std::string, Status>& failures) {
  setTargets(counterTargetsOf(snapshot, failures));
  failed_ = keysOf(failures);
}

void CounterPublisher::patchTargets(const model::NetworkSnapshot& snapshot,
                                    const std::map<std::string, Status>& failures,
                                    const std::set<std::string>& changed) {
  if (!failed_) return setTargetsOf(snapshot, failures);
  std::set<std::string> keys = changed;
  std::set<std::string> failed = keysOf(failures);
  std::set_symmetric_difference(failed.begin(), failed.end(), failed_->begin(), failed_->end(),
                                std::inserter(keys, keys.end()));
  bool changedAny = false;
  std::vector<CounterTargets::Service> services = servicesOf(snapshot, failed);
  if (!std::equal(services.begin(), services.end(), targets_.services.begin(),
                  targets_.services.end(), sameService)) {
    targets_.services = std::move(services);
    changedAny = true;
  }
  auto& endpoints = targets_.endpoints;
  auto byKey = [](const CounterTargets::Endpoint& e, const std::string& key) { return e.key < key; };
  for (const std::string& key : keys) {
    auto at = std::lower_bound(endpoints.begin(), endpoints.end(), key, byKey);
    const bool present = at != endpoints.end() && at->key == key;
    std::optional<CounterTargets::Endpoint> want;
    auto pe = snapshot.privateEndpoints.find(key);
    if (pe != snapshot.privateEndpoints.end() && !failed.count(key)) {
      std::string vnet = vnetOf(snapshot, pe->second.subnetKey);
      if (!vnet.empty()) {
        want = CounterTargets::Endpoint{key, pe->second.id, std::move(vnet),
                                        pe->second.targetKey, pe->second.linkIdentifier};
      }
    }
    if (!want) {
      if (present) {
        endpoints.erase(at);
        changedAny = true;
      }
      continue;
    }
    if (present) {
      if (sameEndpoint(*at, *want)) continue;
      *at = std::move(*want);
    } else {
      endpoints.insert(at, std::move(*want));
    }
    changedAny = true;
  }
  failed_ = std::move(failed);
  if (changedAny) targets_changed_ = true;
}

bool CounterPublisher::due(std::chrono::system_clock::time_point now) const {
  if (!last_round_ || now < *last_round_) return true;
  const auto spacing = std::max<std::chrono::system_clock::duration>(
      options_.interval,
      std::chrono::duration_cast<std::chrono::system_clock::duration>(4 * last_duration_));
  return now - *last_round_ >= spacing;
}

Result<CounterRound> CounterPublisher::publish(dataplane::Kernel& kernel,
                                               std::chrono::system_clock::time_point now) {
  last_round_ = now;
  const auto started = std::chrono::steady_clock::now();
  struct Timer {
    const std::chrono::steady_clock::time_point& started;
    std::chrono::steady_clock::duration& out;
    ~Timer() { out = std::chrono::steady_clock::now() - started; }
  } timer{started, last_duration_};
  CounterRound round;
  const std::string observedAt = rfc3339Millis(now);
  std::map<std::string, control::CounterSnapshot> fresh;  // by counters key
  std::set<std::string> keep;                             // counters keys of targets, read or not

  std::map<std::string, control::CounterSnapshot> serviceTotals;  // by PLS key
  for (const CounterTargets::Endpoint& e : targets_.endpoints) {
    const std::string docKey = control::countersKeyOf(e.key, options_.host);
    keep.insert(docKey);
    auto counters = readEndpointCounters(kernel, naming_, e.consumerVnetKey, e.linkIdentifier);
    if (!counters.ok()) {
      ++round.skipped;
      if (counters.status().code() != StatusCode::kNotFound) {
        spdlog::warn("agent: counters of {}: {}", e.id, counters.status().toString());
      }
      continue;
    }
    control::CounterSnapshot s;
    s.resourceId = e.id;
    s.host = options_.host;
    s.observedAt = observedAt;
    s.bytesIn = counters->bytesIn;
    s.bytesOut = counters->bytesOut;
    s.packetsIn = counters->packetsIn;
    s.packetsOut = counters->packetsOut;
    s.connections = counters->connections;
    s.rejectedPackets = counters->rejectedPackets;
    serviceTotals[e.targetKey].addValues(s);
    fresh.emplace(docKey, std::move(s));
  }

  for (const CounterTargets::Service& service : targets_.services) {
    const std::string docKey = control::countersKeyOf(service.key, options_.host);
    keep.insert(docKey);
    control::CounterSnapshot s = serviceTotals[service.key];
    s.resourceId = service.id;
    s.host = options_.host;
    s.observedAt = observedAt;
    s.natPorts.emplace();
    bool read = true;
    for (const auto& [vnetKey, addresses] : service.natAddressesByVnet) {
      auto usage = nat_ports_(naming_.vnetNamespace(vnetKey), addresses);
      if (!usage.ok()) {
        if (usage.status().code() != StatusCode::kNotFound) {
          spdlog::warn("agent: NAT ports of {}: {}", service.id, usage.status().toString());
        }
        read = false;
        break;
      }
      for (const dataplane::NatPortUsage& u : *usage) {
        s.natPorts->push_back(control::NatPortCount{u.address.toString(), protocolName(u.protocol),
                                                    u.ports, u.flows});
      }
    }
    if (!read) {
      ++round.skipped;
      continue;
    }
    fresh.emplace(docKey, std::move(s));
  }

  std::vector<const control::CounterSnapshot*> puts;
  std::vector<std::string> putKeys;
  for (const auto& [key, s] : fresh) {
    auto last = published_.find(key);
    if (last == published_.end() || !last->second.snapshot.sameValues(s) ||
        now - last->second.at >= options_.heartbeat || now < last->second.at) {
      puts.push_back(&s);
      putKeys.push_back(key);
    }
  }
  std::vector<std::string> erases;
  if (targets_changed_) {
    RETURN_IF_ERROR(store_.read([&](store::ReadView& view) -> Status {
      ASSIGN_OR_RETURN(std::vector<store::Document> docs, view.listType(control::kCountersType));
      for (const store::Document& doc : docs) {
        if (control::countersHostOf(doc.key) == options_.host && !keep.count(doc.key)) {
          erases.push_back(doc.key);
        }
      }
      return Status::Ok();
    }));
  }
  if (!puts.empty() || !erases.empty()) {
    RETURN_IF_ERROR(store_.write([&](store::Transaction& tx) -> Status {
      for (size_t i = 0; i < puts.size(); ++i) {
        auto put = tx.put(putKeys[i], control::kCountersType, puts[i]->toJson());
        if (!put.ok()) return put.status();
      }
      for (const std::string& key : erases) {
        Status erased = tx.erase(key);
        if (!erased.ok() && erased.code() != StatusCode::kNotFound) return erased;
      }
      return Status::Ok();
    }));
  }
  targets_changed_ = false;
  for (size_t i = 0; i < puts.size(); ++i) published_[putKeys[i]] = {*puts[i], now};
  for (auto it = published_.begin(); it != published_.end();) {
    it = keep.count(it->first) ? std::next(it) : published_.erase(it);
  }
  round.written = static_cast<int>(puts.size());
  round.erased = static_cast<int>(erases.size());
  return round;
}

std::string rfc3339Millis(std::chrono::system_clock::time_point t) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  if (millis % 1000 < 0) --seconds;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ",
                static_cast<int>(((millis % 1000) + 1000) % 1000));
  return buf;
}

}  // namespace privlink::agent
