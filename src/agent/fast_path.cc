#include "agent/fast_path.h"

#include <arpa/inet.h>

#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "agent/compile.h"

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

// "aa:bb:cc:dd:ee:ff" -> 6 bytes; false if malformed.
bool parseMac(const std::string& text, uint8_t* out) {
  unsigned b[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) !=
      6) {
    return false;
  }
  for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(b[i]);
  return true;
}

// A NIC as the plan realises it: its host-side veth in the VNet namespace and its namespace.
struct PlannedNic {
  std::string link;
  std::string ns;
};
using NicIndex = std::map<std::string, std::map<uint32_t, PlannedNic>>;  // vnet ns -> wire address

// Every NIC of the plan by VNet namespace and (IPv4) address: veths whose peer is the NIC's eth0.
NicIndex nicIndex(const HostPlan& plan) {
  const std::string eth0(model::HostNaming::kNicInterface);
  std::map<std::string, std::pair<std::string, std::string>> byNicNs;  // nic ns -> vnet ns, link
  for (const auto& [key, link] : plan.links) {
    if (link.kind == LinkKind::kVeth && link.peerName == eth0 && !link.master.empty()) {
      byNicNs[link.peerNs] = {link.ns, link.name};
    }
  }
  NicIndex out;
  for (const auto& [key, a] : plan.addresses) {
    if (a.address.link != eth0 || !a.address.address.isV4()) continue;
    auto it = byNicNs.find(a.ns);
    if (it == byNicNs.end()) continue;
    out[it->second.first][wire(a.address.address)] = PlannedNic{it->second.second, a.ns};
  }
  return out;
}

// lb_dnat's "0x%08x . tcp . 80 . 0x%08x" -> pl_lb_key; false if it is not one.
bool parseLbKey(const std::string& text, pl_lb_key* key) {
  unsigned mark = 0, port = 0, bucket = 0;
  char proto[8] = {};
  if (std::sscanf(text.c_str(), "0x%x . %7s . %u . 0x%x", &mark, proto, &port, &bucket) != 4 ||
      bucket >= PL_FP_LB_BUCKETS || port > 65535) {
    return false;
  }
  *key = pl_lb_key{};
  key->mark = mark;
  key->port = htons(static_cast<uint16_t>(port));
  key->proto = std::string(proto) == "udp" ? IPPROTO_UDP : IPPROTO_TCP;
  key->bucket = static_cast<uint8_t>(bucket);
  return true;
}

// lb_dnat's "10.0.1.4 . 8080" -> address, port (host order).
bool parseLbValue(const std::string& text, IpAddress* address, uint16_t* port) {
  const size_t dot = text.find(" . ");
  if (dot == std::string::npos) return false;
  auto a = IpAddress::parse(text.substr(0, dot));
  if (!a || !a->isV4()) return false;
  *address = *a;
  *port = static_cast<uint16_t>(std::stoul(text.substr(dot + 3)));
  return true;
}

// What one namespace should hold.
struct NamespaceWant {
  std::map<std::string, std::string> attach;  // link -> program
  std::map<std::string, Elements> maps;       // map -> elements (not pl_stats)
  std::set<std::string> stats;                // pl_stats keys
  OwnerSet owners;                            // owners of its translated endpoints
  std::set<uint32_t> marks;                   // provider: frontends of its pl_svc entries
  std::string uplink;                         // consumer: the VNet's uplink (pl_uplink)
  std::string backboneLink;                   // consumer: its peer in the backbone
};

void addOwners(OwnerSet& into, const Owners& owners) { into.insert(owners.begin(), owners.end()); }

class Sync {
 public:
  Sync(Kernel& kernel, const HostPlan& plan, const model::HostNaming& naming, ApplyResult& result,
       FastPathState::Memory* record = nullptr)
      : kernel_(kernel), plan_(plan), naming_(naming), result_(result), record_(record) {}

  // False once a step failed or something could not be read.
  bool clean() const { return clean_; }

  // An incremental pass's delta (FastPathState::deltaApplies said it fits `memory`): the changed
  // endpoints' keys only. False on any failure (the memory is then stale).
  bool applyDelta(FastPathState::Memory& memory, const HostPlan& removed, const HostPlan& added) {
    const std::string bb = naming_.backboneNamespace();
    bool backboneOk = true;
    for (const auto& [key, e] : added.fastEndpoints) {  // the backbone first, as in apply()
      if (!e.translate) continue;
      pl_bb_value v{};
      v.consumer_ifindex = memory.backboneIfindex.at(e.consumerBackboneLink);
      v.provider_ifindex = memory.backboneIfindex.at(e.providerBackboneLink);
      v.consumer_transit = wire(e.consumerTransit);
      v.provider_transit = wire(e.providerTransit);
      backboneOk = setElement(memory, bb, PL_FP_MAP_BB, fastPathAddressKey(e.transit), bytesOf(v),
                              e.owners) &&
                   backboneOk;
    }
    bool ok = backboneOk;
    for (const auto& [key, e] : added.fastEndpoints) {
      if (!e.translate || !backboneOk) continue;
      ok = setElement(memory, e.ns, PL_FP_MAP_PE, fastPathAddressKey(e.address),
                      bytesOf(pl_pe_value{wire(e.transit), e.linkId}), e.owners) &&
           ok;
      ok = setElement(memory, e.ns, PL_FP_MAP_TPE, fastPathAddressKey(e.transit),
                      bytesOf(pl_tpe_value{wire(e.address), e.linkId}), e.owners) &&
           ok;
      if (e.providerNs.empty()) continue;
      ok = setElement(memory, e.providerNs, PL_FP_MAP_SVC, fastPathAddressKey(e.transit),
                      bytesOf(pl_svc_value{e.frontendMark, wire(e.natIp)}), e.owners) &&
           ok;
    }
    // pl_stats: created once; deleted when no endpoint of the plan counts there any more.
    for (const auto& [key, e] : added.fastEndpoints) {
      std::set<std::string>& stats = memory.namespaces.at(e.ns).stats;
      const std::string k = fastPathLinkKey(e.linkId);
      if (stats.count(k)) continue;
      if (!step("create the counters of an endpoint in " + e.ns,
                kernel_.bpfMapUpdate(e.ns, PL_FP_MAP_STATS, k, bytesOf(pl_pe_stats{})),
                ownerSet(e.owners))) {
        ok = false;
        continue;
      }
      stats.insert(k);
    }
    for (const auto& [key, r] : removed.fastEndpoints) {
      std::set<std::string>& stats = memory.namespaces.at(r.ns).stats;
      const std::string k = fastPathLinkKey(r.linkId);
      if (!stats.count(k) || countedInPlan(r.ns, r.linkId)) continue;
      if (!step("delete the counters of a gone endpoint in " + r.ns,
                kernel_.bpfMapDelete(r.ns, PL_FP_MAP_STATS, k), ownerSet(r.owners))) {
        ok = false;
        continue;
      }
      stats.erase(k);
    }
    return ok;
  }

  void withdraw() {
    auto pinned = kernel_.bpfListPinned();
    if (!pinned.ok()) return unowned(pinned.status());
    const auto want = consumerWants();
    for (const std::string& ns : *pinned) {
      if (!naming_.ownsNamespace(ns)) continue;
      for (const char* map : {PL_FP_MAP_PE, PL_FP_MAP_TPE}) {
        removeExtra(ns, map, wantedOf(want, ns, map), {});
      }
      std::set<uint32_t> gone;
      removeExtra(ns, PL_FP_MAP_SVC, wantedOf(want, ns, PL_FP_MAP_SVC), {}, &gone);
      if (!gone.empty()) removeFlowsTo(ns, gone);
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
        if (record_ != nullptr) record_->backboneIfindex[link] = *index;
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
      remember(bb, backbone);
    }
    std::map<std::string, std::string> backboneMacs;  // backbone link -> MAC (pl_uplink)
    if (!backbone.attach.empty()) {
      if (auto links = kernel_.listLinks(bb); links.ok()) {
        for (const dataplane::LinkInfo& l : *links) backboneMacs[l.name] = l.macAddress;
      }
    }
    resolveNics(want, backboneMacs);
    for (auto& [ns, w] : want) {
      if (w.attach.empty()) continue;  // only counted endpoints: nothing to run
      converge(ns, w, /*adds=*/backboneOk);
      remember(ns, w);
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
  static OwnerSet ownerSet(const Owners& owners) { return OwnerSet(owners.begin(), owners.end()); }

  // Whether an endpoint of the plan (a cheap walk, no allocation) counts under `linkId` in `ns`.
  bool countedInPlan(const std::string& ns, uint32_t linkId) const {
    for (const auto& [key, e] : plan_.fastEndpoints) {
      if (e.linkId == linkId && e.ns == ns) return true;
    }
    return false;
  }

  // One element of a map whose content `memory` knows; writes only a difference.
  bool setElement(FastPathState::Memory& memory, const std::string& ns, const char* map,
                  const std::string& key, const std::string& value, const Owners& owners) {
    Elements& elements = memory.namespaces.at(ns).maps[map];
    auto it = elements.find(key);
    if (it != elements.end() && it->second == value) return true;
    if (!step("set an element of " + std::string(map) + " in " + ns,
              kernel_.bpfMapUpdate(ns, map, key, value), ownerSet(owners))) {
      return false;
    }
    elements[key] = value;
    return true;
  }

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
      w.uplink = e.uplink;
      w.backboneLink = e.consumerBackboneLink;
      w.maps[PL_FP_MAP_PE][fastPathAddressKey(e.address)] =
          bytesOf(pl_pe_value{wire(e.transit), e.linkId});
      w.maps[PL_FP_MAP_TPE][fastPathAddressKey(e.transit)] =
          bytesOf(pl_tpe_value{wire(e.address), e.linkId});
      w.maps[PL_FP_MAP_CONFIG][bytesOf(uint32_t{0})] = configValue();
      addOwners(w.owners, e.owners);
      if (e.providerNs.empty()) continue;
      NamespaceWant& p = want[e.providerNs];
      p.maps[PL_FP_MAP_PE];
      p.maps[PL_FP_MAP_TPE];
      p.attach[e.providerUplink] = PL_FP_PROG_CONSUMER_IN;
      p.maps[PL_FP_MAP_SVC][fastPathAddressKey(e.transit)] =
          bytesOf(pl_svc_value{e.frontendMark, wire(e.natIp)});
      p.maps[PL_FP_MAP_CONFIG][bytesOf(uint32_t{0})] = configValue();
      p.marks.insert(e.frontendMark);
      addOwners(p.owners, e.owners);
    }
    return want;
  }

  static Elements wantedOf(const std::map<std::string, NamespaceWant>& want,
                           const std::string& ns, const std::string& map) {
    auto it = want.find(ns);
    if (it == want.end()) return {};
    auto m = it->second.maps.find(map);
    return m == it->second.maps.end() ? Elements{} : m->second;
  }

  // What the kernel has for one NIC (ifindex of its host-side veth, its MAC), resolved once per
  // pass; `known` (from the maps) saves reading the MAC of a NIC whose veth is unchanged.
  struct NicFacts {
    uint32_t ifindex = 0;
    uint8_t mac[6] = {};
  };
  std::optional<NicFacts> nicFacts(const std::string& ns, const PlannedNic& nic,
                                   const std::map<uint32_t, NicFacts>& known, uint32_t address) {
    auto index = kernel_.linkIfindex(ns, nic.link);
    if (!index.ok()) return std::nullopt;  // not created yet: the next pass
    auto k = known.find(address);
    if (k != known.end() && k->second.ifindex == *index) return k->second;
    auto links = kernel_.listLinks(nic.ns);
    if (!links.ok()) return std::nullopt;
    for (const dataplane::LinkInfo& l : *links) {
      if (l.name != model::HostNaming::kNicInterface) continue;
      NicFacts f;
      f.ifindex = *index;
      if (!parseMac(l.macAddress, f.mac)) return std::nullopt;
      return f;
    }
    return std::nullopt;
  }

  // pl_nic and pl_uplink of consumer namespaces, pl_lb and the NIC programs of provider
  // namespaces. A pl_uplink that cannot be resolved yet (a link or MAC missing) is left as it is:
  // the programs look the route up while its ifindex is 0.
  void resolveNics(std::map<std::string, NamespaceWant>& want,
                   const std::map<std::string, std::string>& backboneMacs) {
    const NicIndex nics = nicIndex(plan_);
    for (auto& [ns, w] : want) {
      if (w.attach.empty()) continue;
      auto planned = nics.find(ns);
      if (planned == nics.end()) continue;
      std::map<uint32_t, NicFacts> known;
      if (auto current = kernel_.bpfMapDump(ns, PL_FP_MAP_NIC); current.ok()) {
        for (const auto& [key, value] : *current) {
          if (key.size() != 4 || value.size() != sizeof(pl_nic_value)) continue;
          uint32_t a;
          pl_nic_value v;
          std::memcpy(&a, key.data(), 4);
          std::memcpy(&v, value.data(), sizeof v);
          NicFacts f;
          f.ifindex = v.ifindex;
          std::memcpy(f.mac, v.mac, 6);
          known[a] = f;
        }
      }
      if (auto current = kernel_.bpfMapDump(ns, PL_FP_MAP_LB); current.ok()) {
        for (const auto& [key, value] : *current) {
          if (value.size() != sizeof(pl_lb_value)) continue;
          pl_lb_value v;
          std::memcpy(&v, value.data(), sizeof v);
          NicFacts f;
          f.ifindex = v.ifindex;
          std::memcpy(f.mac, v.mac, 6);
          known[v.backend] = f;
        }
      }
      std::map<uint32_t, std::optional<NicFacts>> facts;
      auto factsOf = [&](uint32_t address) -> std::optional<NicFacts> {
        auto it = facts.find(address);
        if (it != facts.end()) return it->second;
        auto nic = planned->second.find(address);
        std::optional<NicFacts> f;
        if (nic != planned->second.end()) f = nicFacts(ns, nic->second, known, address);
        facts[address] = f;
        return f;
      };
      const bool consumer = w.maps.count(PL_FP_MAP_PE) && !w.maps.at(PL_FP_MAP_PE).empty();
      if (consumer) {
        // Clients' packets are translated at their NIC's veth already (pl_backend_in).
        for (const auto& [address, nic] : planned->second) {
          w.attach[nic.link] = PL_FP_PROG_BACKEND_IN;
        }
        uint8_t gw[6] = {};
        bool haveGw = false;
        Elements& nicMap = w.maps[PL_FP_MAP_NIC];
        auto links = kernel_.listLinks(ns);
        std::map<std::string, std::string> masterOf, macOf;
        if (links.ok()) {
          for (const dataplane::LinkInfo& l : *links) {
            masterOf[l.name] = l.master;
            macOf[l.name] = l.macAddress;
          }
        }
        for (const auto& [address, nic] : planned->second) {
          auto f = factsOf(address);
          auto master = masterOf.find(nic.link);
          if (!f || master == masterOf.end()) continue;
          pl_nic_value v{};
          v.ifindex = f->ifindex;
          std::memcpy(v.mac, f->mac, 6);
          haveGw = parseMac(macOf[master->second], gw);
          if (!haveGw) continue;
          std::memcpy(v.gw_mac, gw, 6);
          nicMap[bytesOf(address)] = bytesOf(v);
        }
        auto peerMac = backboneMacs.find(w.backboneLink);
        pl_uplink_value up{};
        if (!w.uplink.empty() && peerMac != backboneMacs.end() &&
            parseMac(macOf[w.uplink], up.smac) && parseMac(peerMac->second, up.dmac)) {
          if (auto index = kernel_.linkIfindex(ns, w.uplink); index.ok()) {
            up.ifindex = *index;
            w.maps[PL_FP_MAP_UPLINK][bytesOf(uint32_t{0})] = bytesOf(up);
          }
        }
      }
      if (w.marks.empty()) continue;
      // The provider: NIC programs on every NIC of the VNet, pl_lb from lb_dnat.
      for (const auto& [address, nic] : planned->second) {
        w.attach[nic.link] = PL_FP_PROG_BACKEND_IN;
      }
      Elements& lb = w.maps[PL_FP_MAP_LB];
      const std::string prefix = nftElementKey(ns, "inet", kVnetTableName, "lb_dnat", "");
      for (auto it = plan_.nftElements.lower_bound(prefix);
           it != plan_.nftElements.end() && it->first.compare(0, prefix.size(), prefix) == 0;
           ++it) {
        pl_lb_key key;
        IpAddress backend;
        uint16_t port = 0;
        if (!parseLbKey(it->second.key, &key) || !w.marks.count(key.mark) ||
            !parseLbValue(it->second.value, &backend, &port)) {
          continue;
        }
        auto f = factsOf(wire(backend));
        if (!f) continue;  // no NIC here (yet): the nft rules serve that bucket's flows
        pl_lb_value v{};
        v.backend = wire(backend);
        v.ifindex = f->ifindex;
        v.port = htons(port);
        std::memcpy(v.mac, f->mac, 6);
        lb[bytesOf(key)] = bytesOf(v);
      }
    }
  }

  // Deletes the provider flows of `ns` (both directions) whose T_pe is in `tpes` (wire order).
  void removeFlowsTo(const std::string& ns, const std::set<uint32_t>& tpes) {
    auto flows = kernel_.bpfMapDump(ns, PL_FP_MAP_FLOW);
    if (!flows.ok()) return;
    for (const auto& [key, value] : *flows) {
      if (key.size() != sizeof(pl_flow_key) || value.size() != sizeof(pl_flow_value)) continue;
      pl_flow_key k;
      pl_flow_value v;
      std::memcpy(&k, key.data(), sizeof k);
      std::memcpy(&v, value.data(), sizeof v);
      if (!tpes.count(k.daddr)) continue;
      pl_flow_key r{};
      r.saddr = v.backend;
      r.daddr = v.nat_ip;
      r.sport = v.backend_port;
      r.dport = v.nat_port;
      r.proto = v.proto;
      step("delete a flow of a withdrawn endpoint from " + std::string(PL_FP_MAP_RFLOW) + " in " +
               ns,
           kernel_.bpfMapDelete(ns, PL_FP_MAP_RFLOW, bytesOf(r)), {});
      step("delete a flow of a withdrawn endpoint from " + std::string(PL_FP_MAP_FLOW) + " in " +
               ns,
           kernel_.bpfMapDelete(ns, PL_FP_MAP_FLOW, key), {});
    }
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
                   const OwnerSet& owners, std::set<uint32_t>* removed = nullptr) {
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
      if (removed != nullptr && key.size() == 4) {
        uint32_t k;
        std::memcpy(&k, key.data(), 4);
        removed->insert(k);
      }
    }
    return ok;
  }

  // What a converged namespace holds now (a failure anywhere makes the memory unused).
  void remember(const std::string& ns, const NamespaceWant& w) {
    if (record_ == nullptr) return;
    FastPathState::Namespace& n = record_->namespaces[ns];
    n.attach = w.attach;
    n.maps = w.maps;
    n.stats = w.stats;
    n.marks = w.marks;
  }

  bool step(const std::string& text, const Status& status, const OwnerSet& owners) {
    result_.changes++;
    result_.steps.push_back(text);
    if (status.ok() || status.code() == StatusCode::kNotFound) return true;
    fail(owners, Status::Internal(text + ": " + status.toString()));
    return false;
  }

  void fail(const OwnerSet& owners, const Status& status) {
    clean_ = false;
    if (owners.empty()) return unowned(status);
    for (const std::string& o : owners) {
      result_.failures.emplace(o, Status::Internal("eBPF fast path: " + status.toString()));
    }
  }
  void unowned(const Status& status) {
    clean_ = false;
    result_.unowned.push_back(status);
  }

  Kernel& kernel_;
  const HostPlan& plan_;
  const model::HostNaming& naming_;
  ApplyResult& result_;
  FastPathState::Memory* record_;
  bool clean_ = true;
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

bool FastPathState::deltaApplies(const HostPlan& plan, const HostPlan& removed,
                                 const HostPlan& added, const model::HostNaming& naming) const {
  if (!valid_) return false;
  const std::string eth0(model::HostNaming::kNicInterface);
  for (const HostPlan* p : {&removed, &added}) {
    // NICs (pl_nic, pl_lb's ifindexes, the NIC programs), balancing and namespaces: a full pass.
    for (const auto& [key, link] : p->links) {
      if (link.peerName == eth0 || link.name == eth0) return false;
    }
    for (const auto& [key, a] : p->addresses) {
      if (a.address.link == eth0) return false;
    }
    for (const auto& [key, e] : p->nftElements) {
      if (e.set == "lb_dnat") return false;
    }
    for (const auto& [key, n] : p->namespaces) {
      if (memory_.namespaces.count(n.name)) return false;
    }
  }
  auto known = [&](const std::string& ns) -> const Namespace* {
    auto it = memory_.namespaces.find(ns);
    return it == memory_.namespaces.end() ? nullptr : &it->second;
  };
  auto has = [](const Namespace* n, const std::string& link, const char* program) {
    auto it = n->attach.find(link);
    return it != n->attach.end() && it->second == program;
  };
  for (const auto& [key, r] : removed.fastEndpoints) {
    if (r.translate || known(r.ns) == nullptr) return false;  // a translated one leaves: full
  }
  const Namespace* bb = known(naming.backboneNamespace());
  for (const auto& [key, a] : added.fastEndpoints) {
    const Namespace* n = known(a.ns);
    if (n == nullptr) return false;
    if (!a.translate) continue;
    auto pe = n->maps.find(PL_FP_MAP_PE);
    if (pe == n->maps.end() || pe->second.empty() || !has(n, a.uplink, PL_FP_PROG_CONSUMER_IN)) {
      return false;  // the namespace's first translated endpoint
    }
    for (const std::string& bridge : a.bridges) {
      if (!has(n, bridge, PL_FP_PROG_CONSUMER_OUT)) return false;
    }
    if (bb == nullptr || !has(bb, a.consumerBackboneLink, PL_FP_PROG_BACKBONE) ||
        !has(bb, a.providerBackboneLink, PL_FP_PROG_BACKBONE) ||
        !memory_.backboneIfindex.count(a.consumerBackboneLink) ||
        !memory_.backboneIfindex.count(a.providerBackboneLink)) {
      return false;
    }
    if (a.providerNs.empty()) continue;
    const Namespace* p = known(a.providerNs);
    if (p == nullptr || !has(p, a.providerUplink, PL_FP_PROG_CONSUMER_IN) ||
        !p->marks.count(a.frontendMark)) {
      return false;  // a new frontend there: pl_lb changes
    }
  }
  (void)plan;
  return true;
}

void FastPathState::withdraw(Kernel& kernel, const HostPlan& plan, const HostPlan* removed,
                             const HostPlan* added, const model::HostNaming& naming,
                             ApplyResult& result) {
  delta_ = removed != nullptr && added != nullptr && deltaApplies(plan, *removed, *added, naming);
  if (delta_) return;  // the removed versions were untranslated: nothing of theirs in the maps
  valid_ = false;
  withdrawFastPath(kernel, plan, naming, result);
}

void FastPathState::apply(Kernel& kernel, const HostPlan& plan, const HostPlan* removed,
                          const HostPlan* added, const model::HostNaming& naming,
                          ApplyResult& result) {
  for (const std::string& ns : result.newNamespaces) {
    if (delta_ && memory_.namespaces.count(ns)) delta_ = false;  // recreated: its maps are new
  }
  if (delta_) {
    Sync sync(kernel, plan, naming, result);
    valid_ = sync.applyDelta(memory_, *removed, *added) && sync.clean();
    return;
  }
  memory_ = Memory{};
  Sync sync(kernel, plan, naming, result, &memory_);
  sync.apply();
  valid_ = sync.clean();
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
