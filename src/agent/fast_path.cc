#include "agent/fast_path.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

namespace privlink::agent {
namespace {

using dataplane::Kernel;
using dataplane::TcAttachment;
using Owners = std::vector<std::string>;
using OwnerSet = std::set<std::string>;  // owners of many endpoints: deduplicated in O(log n)
using Elements = std::map<std::string, std::string>;  // key bytes -> value bytes

template <typename T>
std::string bytesOf(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof value);
}

uint32_t wire(const IpAddress& address) { return htonl(address.v4Value()); }

std::string configValue() { return bytesOf(uint32_t{PL_FP_CONFIGURED | PL_FP_DEFAULT}); }

// What one namespace should hold.
struct NamespaceWant {
  std::map<std::string, std::string> attach;  // link -> program
  std::map<std::string, Elements> maps;       // map -> elements (not pl_stats)
  std::set<std::string> stats;                // pl_stats keys
  OwnerSet owners;                            // owners of its translated endpoints
};

void addOwners(OwnerSet& into, const Owners& owners) { into.insert(owners.begin(), owners.end()); }

class Sync {
 public:
  Sync(Kernel& kernel, const HostPlan& plan, const model::HostNaming& naming, ApplyResult& result)
      : kernel_(kernel), plan_(plan), naming_(naming), result_(result) {}

  void withdraw() {
    auto pinned = kernel_.bpfListPinned();
    if (!pinned.ok()) return unowned(pinned.status());
    const auto want = consumerWants();
    for (const std::string& ns : *pinned) {
      if (!naming_.ownsNamespace(ns)) continue;
      auto it = want.find(ns);
      for (const char* map : {PL_FP_MAP_PE, PL_FP_MAP_TPE}) {
        removeExtra(ns, map, it == want.end() ? Elements{} : it->second.maps.at(map), {});
      }
      if (ns == naming_.backboneNamespace()) {
        removeExtra(ns, PL_FP_MAP_BB, backboneKeys(), {});
      }
    }
  }

  void apply() {
    std::map<std::string, NamespaceWant> want = consumerWants();
    // The backbone first: consumer entries go in only when replies have their way back.
    bool backboneOk = true;
    const std::string bb = naming_.backboneNamespace();
    NamespaceWant backbone;
    for (const auto& [key, e] : plan_.fastEndpoints) {
      if (!e.translate) continue;
      backbone.attach[e.consumerBackboneLink] = PL_FP_PROG_BACKBONE;
      backbone.attach[e.providerBackboneLink] = PL_FP_PROG_BACKBONE;
      addOwners(backbone.owners, e.owners);
    }
    if (!backbone.attach.empty()) {
      backbone.maps[PL_FP_MAP_CONFIG][bytesOf(uint32_t{0})] = configValue();
      Elements& bbMap = backbone.maps[PL_FP_MAP_BB];
      std::map<std::string, uint32_t> ifindex;
      for (const auto& [link, program] : backbone.attach) {
        auto index = kernel_.linkIfindex(bb, link);
        if (!index.ok()) {
          fail(backbone.owners, index.status());
          backboneOk = false;
          continue;
        }
        ifindex[link] = *index;
      }
      for (const auto& [key, e] : plan_.fastEndpoints) {
        if (!e.translate || !ifindex.count(e.consumerBackboneLink) ||
            !ifindex.count(e.providerBackboneLink)) {
          continue;
        }
        pl_bb_value v{};
        v.consumer_ifindex = ifindex[e.consumerBackboneLink];
        v.provider_ifindex = ifindex[e.providerBackboneLink];
        v.consumer_transit = wire(e.consumerTransit);
        v.provider_transit = wire(e.providerTransit);
        bbMap[fastPathAddressKey(e.transit)] = bytesOf(v);
      }
      backboneOk = converge(bb, backbone, /*adds=*/true) && backboneOk;
    }
    for (auto& [ns, w] : want) {
      if (w.attach.empty()) continue;  // only counted endpoints: nothing to run
      converge(ns, w, /*adds=*/backboneOk);
    }
    // Namespaces with pins and nothing translated: detach and unpin.
    auto pinned = kernel_.bpfListPinned();
    if (!pinned.ok()) return unowned(pinned.status());
    for (const std::string& ns : *pinned) {
      if (!naming_.ownsNamespace(ns)) continue;
      if (ns == bb ? !backbone.attach.empty() : (want.count(ns) && !want.at(ns).attach.empty())) {
        continue;
      }
      auto attached = kernel_.tcListAttachments(ns);
      if (attached.ok()) {
        for (const TcAttachment& a : *attached) {
          step("detach " + a.program + " from " + a.link + " in " + ns,
               kernel_.tcDetach(ns, a.link), {});
        }
      }
      step("remove the pinned fast path maps of " + ns, kernel_.bpfRemovePinned(ns), {});
    }
  }

 private:
  std::map<std::string, NamespaceWant> consumerWants() const {
    std::map<std::string, NamespaceWant> want;
    for (const auto& [key, e] : plan_.fastEndpoints) {
      NamespaceWant& w = want[e.ns];
      w.maps[PL_FP_MAP_PE];
      w.maps[PL_FP_MAP_TPE];
      w.stats.insert(fastPathLinkKey(e.linkId));
      if (!e.translate) continue;
      for (const std::string& bridge : e.bridges) w.attach[bridge] = PL_FP_PROG_CONSUMER_OUT;
      w.attach[e.uplink] = PL_FP_PROG_CONSUMER_IN;
      w.maps[PL_FP_MAP_PE][fastPathAddressKey(e.address)] =
          bytesOf(pl_pe_value{wire(e.transit), e.linkId});
      w.maps[PL_FP_MAP_TPE][fastPathAddressKey(e.transit)] =
          bytesOf(pl_tpe_value{wire(e.address), e.linkId});
      w.maps[PL_FP_MAP_CONFIG][bytesOf(uint32_t{0})] = configValue();
      addOwners(w.owners, e.owners);
    }
    return want;
  }

  Elements backboneKeys() const {
    Elements keys;
    for (const auto& [key, e] : plan_.fastEndpoints) {
      if (e.translate) keys[fastPathAddressKey(e.transit)] = "";
    }
    return keys;
  }

  // Attaches, then makes every map match; `adds` false only deletes. False on any failure.
  bool converge(const std::string& ns, const NamespaceWant& w, bool adds) {
    bool ok = true;
    auto attached = kernel_.tcListAttachments(ns);
    if (!attached.ok()) {
      fail(w.owners, attached.status());
      return false;
    }
    std::map<std::string, std::string> have;
    for (const TcAttachment& a : *attached) have[a.link] = a.program;
    for (const auto& [link, program] : w.attach) {
      auto it = have.find(link);
      if (it != have.end() && it->second == program) continue;
      ok = step("attach " + program + " to " + link + " in " + ns,
                kernel_.tcAttach(ns, TcAttachment{link, program}), w.owners) &&
           ok;
    }
    for (const auto& [link, program] : have) {
      if (!w.attach.count(link)) {
        ok = step("detach " + program + " from " + link + " in " + ns, kernel_.tcDetach(ns, link),
                  w.owners) &&
             ok;
      }
    }
    for (const auto& [map, elements] : w.maps) {
      auto current = kernel_.bpfMapDump(ns, map);
      if (!current.ok()) {
        fail(w.owners, current.status());
        ok = false;
        continue;
      }
      for (const auto& [key, value] : *current) {
        if (elements.count(key)) continue;
        ok = step("delete an element of " + map + " in " + ns, kernel_.bpfMapDelete(ns, map, key),
                  w.owners) &&
             ok;
      }
      if (!adds) continue;
      for (const auto& [key, value] : elements) {
        auto it = current->find(key);
        if (it != current->end() && it->second == value) continue;
        ok = step("set an element of " + std::string(map) + " in " + ns,
                  kernel_.bpfMapUpdate(ns, map, key, value), w.owners) &&
             ok;
      }
    }
    // pl_stats: create missing (zeros), delete gone; never overwrite counts.
    auto stats = kernel_.bpfMapDump(ns, PL_FP_MAP_STATS);
    if (!stats.ok()) {
      fail(w.owners, stats.status());
      return false;
    }
    for (const std::string& key : w.stats) {
      if (stats->count(key)) continue;
      ok = step("create the counters of an endpoint in " + ns,
                kernel_.bpfMapUpdate(ns, PL_FP_MAP_STATS, key, bytesOf(pl_pe_stats{})), w.owners) &&
           ok;
    }
    for (const auto& [key, value] : *stats) {
      if (w.stats.count(key)) continue;
      ok = step("delete the counters of a gone endpoint in " + ns,
                kernel_.bpfMapDelete(ns, PL_FP_MAP_STATS, key), w.owners) &&
           ok;
    }
    return ok;
  }

  // Deletes the elements of `map` in `ns` whose keys `wanted` lacks. A map not pinned is empty.
  bool removeExtra(const std::string& ns, const std::string& map, const Elements& wanted,
                   const OwnerSet& owners) {
    auto current = kernel_.bpfMapDump(ns, map);
    if (!current.ok()) {
      if (current.status().code() == StatusCode::kNotFound) return true;
      fail(owners, current.status());
      return false;
    }
    bool ok = true;
    for (const auto& [key, value] : *current) {
      if (wanted.count(key)) continue;
      ok = step("delete an element of " + map + " in " + ns, kernel_.bpfMapDelete(ns, map, key),
                owners) &&
           ok;
    }
    return ok;
  }

  bool step(const std::string& text, const Status& status, const OwnerSet& owners) {
    result_.changes++;
    result_.steps.push_back(text);
    if (status.ok() || status.code() == StatusCode::kNotFound) return true;
    fail(owners, Status::Internal(text + ": " + status.toString()));
    return false;
  }

  void fail(const OwnerSet& owners, const Status& status) {
    if (owners.empty()) return unowned(status);
    for (const std::string& o : owners) {
      result_.failures.emplace(o, Status::Internal("eBPF fast path: " + status.toString()));
    }
  }
  void unowned(const Status& status) { result_.unowned.push_back(status); }

  Kernel& kernel_;
  const HostPlan& plan_;
  const model::HostNaming& naming_;
  ApplyResult& result_;
};

}  // namespace

void withdrawFastPath(Kernel& kernel, const HostPlan& plan, const model::HostNaming& naming,
                      ApplyResult& result) {
  Sync(kernel, plan, naming, result).withdraw();
}

void applyFastPath(Kernel& kernel, const HostPlan& plan, const model::HostNaming& naming,
                   ApplyResult& result) {
  Sync(kernel, plan, naming, result).apply();
}

Status removeFastPathPins(Kernel& kernel, const model::HostNaming& naming) {
  ASSIGN_OR_RETURN(std::vector<std::string> pinned, kernel.bpfListPinned());
  Status first;
  for (const std::string& ns : pinned) {
    if (!naming.ownsNamespace(ns)) continue;
    Status s = kernel.bpfRemovePinned(ns);
    if (!s.ok() && s.code() != StatusCode::kNotFound && first.ok()) first = s;
  }
  return first;
}

void mergeApplyResult(ApplyResult from, ApplyResult& into) {
  into.changes += from.changes;
  into.steps.insert(into.steps.begin(), from.steps.begin(), from.steps.end());
  for (auto& [key, status] : from.failures) into.failures.emplace(key, std::move(status));
  for (Status& s : from.unowned) into.unowned.push_back(std::move(s));
}

std::string fastPathAddressKey(const IpAddress& address) { return bytesOf(wire(address)); }

std::string fastPathLinkKey(uint32_t linkId) { return bytesOf(linkId); }

pl_pe_stats sumFastPathStats(const std::string& raw) {
  pl_pe_stats sum{};
  constexpr size_t kStride = (sizeof(pl_pe_stats) + 7) / 8 * 8;
  if (raw.empty() || raw.size() % kStride != 0) return sum;
  for (size_t offset = 0; offset < raw.size(); offset += kStride) {
    pl_pe_stats one;
    std::memcpy(&one, raw.data() + offset, sizeof one);
    sum.packets_out += one.packets_out;
    sum.bytes_out += one.bytes_out;
    sum.packets_in += one.packets_in;
    sum.bytes_in += one.bytes_in;
    sum.connections += one.connections;
  }
  return sum;
}

}  // namespace privlink::agent
