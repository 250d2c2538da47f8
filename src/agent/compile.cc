#include "agent/compile.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "agent/compile_paas.h"
#include "agent/plan_builder.h"
#include "dataplane/bpf/fast_path_maps.h"
#include "model/naming.h"
#include "model/transit.h"

namespace privlink::agent {
namespace {

using dataplane::InterfaceAddress;
using dataplane::Route;
using Owners = PlanBuilder::Owners;

constexpr const char* kResolvConf = "nameserver 168.63.129.16\n";
constexpr const char* kVnetTable = kVnetTableName;
constexpr const char* kBackboneTable = "plbb";

IpAddress gatewayOf(const IpPrefix& prefix) { return prefix.at(1); }

std::string markText(uint32_t mark);

Status notRealisable(const std::string& message) {
  return Status::InvalidArgument("InvalidResourceReference", message);
}

// One VNet's nft table (see compile.h for its sets and maps). The body depends only on the
// uplink and T_vnet; endpoints, frontends and backends are elements of its maps, so adding or
// removing one is an element change, never a table rewrite. One direction: nothing new enters
// through the uplink unless it was translated by tpe_fe/lb_dnat (a T_pe this VNet serves, from
// the consumer VNet it belongs to); a known T_pe on a port no rule exposes is rejected.
// Endpoints on the eBPF fast path (fast_path.h) arrive with the client's own address, which is
// never a transit address (their consumer translates statelessly and the backbone only lets the
// owning consumer's uplink reach T_pe that way): tpe_fast maps their T_pe to the frontend. Replies
// of every endpoint flow get kPeReplyMark, routed to the uplink by kPeReplyRouteTable (the client
// address may be one of this VNet's own).
std::string vnetTableBody(const std::string& uplink, const IpAddress& transit,
                          const IpPrefix& range) {
  const std::string u = "\"" + uplink + "\"";
  const std::string pm = markText(kProxyMark);
  // T_pe addresses: the upper half of the transit range (model/transit.h).
  const IpPrefix tpeHalf =
      IpPrefix::of(range.at(uint64_t{1} << (31 - range.length())), range.length() + 1);
  std::ostringstream out;
  out << "  map pe_dnat { type ipv4_addr : ipv4_addr; }\n"
      << "  set pe_blocked { type ipv4_addr; }\n"
      << "  set pe_proxy { type ipv4_addr; }\n"
      << "  map tpe_fe { type ipv4_addr . ipv4_addr : mark; }\n"
      << "  map tpe_fast { type ipv4_addr : mark; }\n"
      << "  map tpe_snat { type ipv4_addr : ipv4_addr; }\n"
      << "  map fe_id { type ipv4_addr : mark; }\n"
      << "  map lb_dnat { type mark . inet_proto . inet_service . mark : ipv4_addr . "
         "inet_service; }\n"
      << "  map pe_out { type ipv4_addr : counter; }\n"
      << "  map pe_in { type ipv4_addr : counter; }\n"
      << "  map pe_conn { type ipv4_addr : counter; }\n"
      << "  map pe_rej { type ipv4_addr : counter; }\n"
      << "  chain proxy {\n"
      << "    type filter hook prerouting priority mangle; policy accept;\n"
      << "    iifname != " << u << " ip daddr @pe_proxy meta l4proto tcp meta mark set " << pm
      << " tproxy ip to :" << kProxyPort << "\n"
      << "    iifname != " << u << " ct direction reply ct original ip daddr " << tpeHalf.toString()
      << " meta mark set " << markText(kPeReplyMark) << "\n"
      << "  }\n"
      << "  chain prerouting {\n"
      << "    type nat hook prerouting priority dstnat; policy accept;\n"
      << "    meta mark " << pm << " accept\n"
      << "    iifname != " << u << " dnat ip to ip daddr map @pe_dnat\n"
      << "    iifname " << u << " meta mark set ip saddr . ip daddr map @tpe_fe\n"
      << "    iifname " << u << " ip saddr != " << range.toString()
      << " meta mark set ip daddr map @tpe_fast\n"
      << "    iifname != " << u << " meta mark set ip daddr map @fe_id\n"
      << "    meta mark != 0 meta l4proto { tcp, udp } ct mark set jhash ip saddr . th sport . "
         "ip daddr . th dport mod "
      << kLbBuckets << "\n"
      << "    meta mark != 0 meta l4proto { tcp, udp } dnat ip to meta mark . meta l4proto . "
         "th dport . ct mark map @lb_dnat\n"
      << "  }\n"
      << "  chain postrouting {\n"
      << "    type nat hook postrouting priority srcnat; policy accept;\n"
      // TCP/UDP NAT ports below PL_FP_BPF_NAT_PORT_MIN: the provider's eBPF NAT picks the rest.
      << "    iifname " << u << " ct status dnat meta l4proto { tcp, udp } snat ip to ct original "
      << "ip daddr map @tpe_snat : " << PL_FP_NFT_NAT_PORT_MIN << "-" << PL_FP_BPF_NAT_PORT_MIN - 1
      << "\n"
      << "    iifname " << u << " ct status dnat snat ip to ct original ip daddr map @tpe_snat\n"
      << "    oifname " << u << " snat ip to " << transit.toString() << "\n"
      << "    meta mark != 0 ct status dnat masquerade\n"
      << "  }\n"
      << "  chain forward {\n"
      << "    type filter hook forward priority filter; policy accept;\n"
      << "    ct direction original counter name ct original ip daddr map @pe_out\n"
      << "    ct direction reply counter name ct original ip daddr map @pe_in\n"
      << "    ct state new counter name ct original ip daddr map @pe_conn\n"
      << "    iifname " << u << " ct state established,related accept\n"
      << "    iifname " << u << " ct status dnat accept\n"
      << "    iifname " << u << " meta mark != 0 meta l4proto tcp reject with tcp reset\n"
      << "    iifname " << u << " meta mark != 0 reject with icmp type admin-prohibited\n"
      << "    iifname " << u << " drop\n"
      << "  }\n"
      << "  chain input {\n"
      << "    type filter hook input priority filter; policy accept;\n"
      << "    meta mark " << pm << " counter name ip daddr map @pe_out\n"
      << "    meta mark " << pm << " ct state new counter name ip daddr map @pe_conn\n"
      << "    ip daddr @pe_blocked counter name ip daddr map @pe_rej\n"
      << "    ip daddr @pe_blocked meta l4proto tcp reject with tcp reset\n"
      << "    ip daddr @pe_blocked reject with icmp type admin-prohibited\n"
      << "    iifname " << u << " ct state established,related accept\n"
      << "    iifname " << u << " drop\n"
      << "  }\n"
      << "  chain output {\n"
      << "    type filter hook output priority filter; policy accept;\n"
      << "    ct direction reply ip saddr @pe_proxy counter name ip saddr map @pe_in\n"
      << "  }\n"
      // Resets this namespace sends for a T_pe (a port no rule exposes) go where replies go.
      << "  chain reroute {\n"
      << "    type route hook output priority mangle; policy accept;\n"
      << "    ip saddr " << tpeHalf.toString() << " meta mark set " << markText(kPeReplyMark)
      << "\n"
      << "  }\n";
  return out.str();
}

std::string backboneTableBody(const std::string& internetLink) {
  std::ostringstream out;
  out << "  chain forward {\n"
      << "    type filter hook forward priority filter; policy accept;\n"
      << "    iifname \"" << internetLink << "\" ct state established,related accept\n"
      << "    iifname \"" << internetLink << "\" drop\n"
      << "  }\n";
  return out.str();
}

struct SubnetRef {
  const model::VNet* vnet;
  const model::Subnet* subnet;
};

std::string markText(uint32_t mark) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", mark);
  return buffer;
}

uint32_t hash32(const std::string& text) {
  return static_cast<uint32_t>(std::stoul(model::shortHash(text), nullptr, 16));
}

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

// The realisation of one load balancer frontend: where it lives and its rules' elements.
struct FrontendRef {
  const model::LoadBalancer* lb;
  const model::LbFrontend* frontend;
  std::string vnetKey;
  uint32_t mark;
};

}  // namespace

uint32_t frontendMark(const std::string& frontendKey) {
  uint32_t mark = hash32("frontend " + frontendKey);
  // 0 means "no frontend"; kProxyMark is the TPROXY mark, routed locally.
  return mark == 0 || mark == kProxyMark ? 1 : mark;
}

std::string endpointCounterName(uint32_t linkIdentifier, char which) {
  return "pe" + std::to_string(linkIdentifier) + which;
}

namespace {

// Highest-random-weight choice of a backend for one bucket: removing a backend moves only the
// buckets it had, adding one takes only the buckets it wins.
const IpAddress* rendezvous(const std::string& ruleKey, int bucket,
                            const std::vector<IpAddress>& backends) {
  const IpAddress* best = nullptr;
  uint32_t bestWeight = 0;
  for (const IpAddress& backend : backends) {
    uint32_t weight =
        hash32(ruleKey + "#" + std::to_string(bucket) + "#" + backend.toString());
    if (best == nullptr || weight > bestWeight) {
      best = &backend;
      bestWeight = weight;
    }
  }
  return best;
}

}  // namespace

HostPlan compile(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                 const ProbeHealth& health) {
  HostPlan plan;
  PlanBuilder b(plan);
  const model::HostNaming& naming = options.naming;
  const IpPrefix& range = options.transitRange;
  compilePaas(snapshot, options, plan);  // PaaS platform router, backends, public endpoints
  if (snapshot.vnets.empty()) return plan;

  Owners allVnets;
  for (const auto& [key, vnet] : snapshot.vnets) allVnets.push_back(key);

  // Backbone and internet namespaces.
  const std::string bb = naming.backboneNamespace();
  const std::string inet = naming.internetNamespace();
  const std::string bbLink(model::HostNaming::kBackboneInternetLink);
  const std::string inetLink(model::HostNaming::kInternetBackboneLink);
  const IpAddress bbAddress = model::backboneGatewayAddress(range);
  const IpAddress inetAddress = model::internetAddress(range);
  b.addNamespace(bb, allVnets);
  b.addNamespace(inet, allVnets);
  b.addVeth(bb, bbLink, inet, inetLink, allVnets);
  b.addAddress(bb, bbLink, bbAddress, 32, allVnets);
  b.addAddress(inet, inetLink, inetAddress, 32, allVnets);
  b.addRoute(bb, hostPrefix(inetAddress), std::nullopt, bbLink, allVnets);
  b.addRoute(bb, defaultPrefix(), inetAddress, bbLink, allVnets);
  b.addRoute(inet, hostPrefix(bbAddress), std::nullopt, inetLink, allVnets);
  b.addRoute(inet, range, bbAddress, inetLink, allVnets);
  b.addSysctl(bb, "net/ipv4/ip_forward", "1", allVnets);
  b.addNftTable(bb, "inet", kBackboneTable, backboneTableBody(bbLink), allVnets);

  std::map<std::string, SubnetRef> subnets;
  const IpAddress dnsAddress = IpAddress::parse("168.63.129.16").value();

  for (const auto& [key, vnet] : snapshot.vnets) {
    const Owners owners{key};
    const std::string ns = naming.vnetNamespace(key);
    b.addNamespace(ns, owners);
    b.addAddress(ns, "lo", dnsAddress, 32, owners);
    b.addSysctl(ns, "net/ipv4/ip_forward", "1", owners);
    // With br_netfilter loaded, IPv4/IPv6 hooks would also run in the subnet bridges' own path:
    // a TPROXY socket assigned there is dropped again when the frame goes up to IP (ip_rcv
    // orphans it), so proxied endpoints would be refused; this VNet's tables are meant for routed
    // traffic only.
    b.addSysctl(ns, "net/bridge/bridge-nf-call-iptables", "0", owners, /*optional=*/true);
    b.addSysctl(ns, "net/bridge/bridge-nf-call-ip6tables", "0", owners, /*optional=*/true);

    auto transit = snapshot.transit.find(key);
    if (transit == snapshot.transit.end()) {
      b.fail(key, Status::Unavailable("virtual network " + vnet.id +
                                      " has no transit address yet; the agent retries"));
    } else {
      const IpAddress& t = transit->second;
      const std::string uplink = model::HostNaming::uplinkName(key);
      const std::string bbSide = model::HostNaming::backboneUplinkName(key);
      b.addVeth(ns, uplink, bb, bbSide, owners);
      b.addAddress(ns, uplink, t, 32, owners);
      b.addAddress(bb, bbSide, bbAddress, 32, owners);
      b.addRoute(ns, hostPrefix(bbAddress), std::nullopt, uplink, owners);
      b.addRoute(ns, defaultPrefix(), bbAddress, uplink, owners);
      b.addRoute(bb, hostPrefix(t), std::nullopt, bbSide, owners);
      b.addNftTable(ns, "inet", kVnetTable, vnetTableBody(uplink, t, range), owners,
                    {{"pe_dnat", 0}, {"pe_proxy", 0}, {"tpe_fe", 1}, {"tpe_fast", 0}});
    }

    for (const model::Subnet& subnet : vnet.subnets) {
      const Owners subnetOwners{subnet.key};
      const std::string bridge = model::HostNaming::bridgeName(subnet.key);
      b.addBridge(ns, bridge, subnetOwners);
      for (const IpPrefix& prefix : subnet.prefixes) {
        if (prefix.length() > 30) {
          b.fail(subnet.key, notRealisable("subnet prefix " + prefix.toString() +
                                           " is too small; use /29 or larger"));
          continue;
        }
        // The kernel adds (and owns) the connected route of the address.
        b.addAddress(ns, bridge, gatewayOf(prefix), prefix.length(), subnetOwners);
      }
      subnets[subnet.key] = SubnetRef{&vnet, &subnet};
    }
  }

  // NICs.
  for (const auto& [key, nic] : snapshot.nics) {
    if (!nic.privateEndpointKey.empty()) continue;  // a private endpoint's NIC: no workload
    if (nic.ipConfigurations.empty()) {
      b.fail(key, notRealisable("network interface " + nic.id + " has no IP configuration"));
      continue;
    }
    const model::IpConfiguration* primary = &nic.ipConfigurations.front();
    for (const auto& config : nic.ipConfigurations) {
      if (config.primary) {
        primary = &config;
        break;
      }
    }
    auto ref = subnets.find(primary->subnetKey);
    if (ref == subnets.end()) {
      b.fail(key, notRealisable("subnet " + primary->subnetKey + " of network interface " + nic.id +
                                " does not exist; create it or pick another subnet"));
      continue;
    }
    const model::Subnet& subnet = *ref->second.subnet;
    // Addresses of every IPv4 configuration in the primary's subnet, each with its prefix.
    std::vector<std::pair<IpAddress, IpPrefix>> addresses;
    Status problem;
    for (const auto& config : nic.ipConfigurations) {
      if (config.subnetKey != primary->subnetKey) {
        problem = notRealisable("IP configuration " + config.name + " of " + nic.id +
                                " is in another subnet than the primary one; privlink realises "
                                "one subnet per network interface");
        break;
      }
      if (!config.address) {
        problem = notRealisable("IP configuration " + config.name + " of " + nic.id +
                                " has no privateIPAddress yet");
        break;
      }
      if (!config.address->isV4()) continue;
      const IpPrefix* within = nullptr;
      for (const IpPrefix& prefix : subnet.prefixes) {
        if (prefix.contains(*config.address)) within = &prefix;
      }
      if (within == nullptr) {
        problem = notRealisable("private IP address " + config.address->toString() + " of " +
                                nic.id + " is outside subnet " + subnet.key);
        break;
      }
      addresses.emplace_back(*config.address, *within);
    }
    if (problem.ok() && addresses.empty()) {
      problem = notRealisable("network interface " + nic.id + " has no IPv4 address");
    }
    if (!problem.ok()) {
      b.fail(key, problem);
      continue;
    }
    const Owners owners{key};
    const std::string vnetNs = naming.vnetNamespace(ref->second.vnet->key);
    const std::string ns = naming.nicNamespace(key);
    const std::string eth0(model::HostNaming::kNicInterface);
    b.addNamespace(ns, owners);
    b.addVeth(vnetNs, model::HostNaming::nicLinkName(key), ns, eth0, owners,
              model::HostNaming::bridgeName(subnet.key));
    for (const auto& [address, prefix] : addresses) {
      b.addAddress(ns, eth0, address, prefix.length(), owners);
    }
    b.addRoute(ns, defaultPrefix(), gatewayOf(addresses.front().second), eth0, owners);
    b.addFile(ns, "resolv.conf", kResolvConf, owners);
  }


  // Load balancers: frontends answer in their subnet (a /32 on the bridge, so the VNet router
  // answers ARP) and map to their id; every rule spreads kLbBuckets hash buckets over its
  // healthy backends.
  std::map<std::string, std::vector<IpAddress>> poolMembers;  // pool key -> addresses
  std::map<std::string, std::string> memberVnet;              // address@pool -> vnet key
  for (const auto& [key, nic] : snapshot.nics) {
    for (const model::IpConfiguration& config : nic.ipConfigurations) {
      if (!config.address || !config.address->isV4()) continue;
      auto ref = subnets.find(config.subnetKey);
      if (ref == subnets.end()) continue;
      for (const std::string& pool : config.poolKeys) {
        poolMembers[pool].push_back(*config.address);
        memberVnet[config.address->toString() + "@" + pool] = ref->second.vnet->key;
      }
    }
  }
  for (auto& [pool, members] : poolMembers) {
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
  }
  std::map<std::string, FrontendRef> frontends;  // frontend key -> where it is realised
  // Frontend key -> TCP frontend port -> the backend of each lb_dnat bucket (the PPv2 proxy's
  // direct upstream, PlannedProxyEndpoint::direct).
  std::map<std::string, std::map<uint16_t, std::vector<proxy::UpstreamBackend>>> proxyBuckets;
  for (const auto& [key, lb] : snapshot.loadBalancers) {
    const Owners owners{key};
    std::map<uint32_t, std::string> marksInVnet;
    for (const model::LbFrontend& fe : lb.frontends) {
      auto ref = subnets.find(fe.subnetKey);
      if (ref == subnets.end()) {
        b.fail(key, notRealisable("frontend " + fe.key + " of load balancer " + lb.id +
                                  " is in subnet " + fe.subnetKey + ", which does not exist"));
        continue;
      }
      const std::string vnetKey = ref->second.vnet->key;
      const std::string ns = naming.vnetNamespace(vnetKey);
      const uint32_t mark = frontendMark(fe.key);
      b.addAddress(ns, model::HostNaming::bridgeName(fe.subnetKey), fe.address, 32, owners);
      b.addElement(ns, kVnetTable, "fe_id", fe.address.toString(), markText(mark), owners);
      frontends[fe.key] = FrontendRef{&lb, &fe, vnetKey, mark};
    }
    for (const model::LbRule& rule : lb.rules) {
      auto fe = frontends.find(rule.frontendKey);
      if (fe == frontends.end()) continue;  // reported with the frontend
      if (rule.protocol == "All") {
        b.fail(key, notRealisable("load balancing rule " + rule.key +
                                  " uses protocol All (HA ports), which privlink does not "
                                  "realise yet; use one Tcp or Udp rule per port"));
        continue;
      }
      const model::LbProbe* probe = nullptr;
      for (const model::LbProbe& p : lb.probes) {
        if (p.key == rule.probeKey) probe = &p;
      }
      const std::string ns = naming.vnetNamespace(fe->second.vnetKey);
      std::vector<IpAddress> healthy;
      for (const IpAddress& member : poolMembers[rule.poolKey]) {
        if (memberVnet[member.toString() + "@" + rule.poolKey] != fe->second.vnetKey) {
          b.fail(key, notRealisable("backend " + member.toString() + " of pool " +
                                    rule.poolKey +
                                    " is in another virtual network than the frontend"));
          continue;
        }
        if (probe != nullptr) {
          const std::string target = probeTargetKey(probe->key, member);
          const bool tcp = probe->protocol != "Http";
          b.addProbe(target, PlannedProbe{ns, member, probe->port, tcp ? "Tcp" : "Http",
                                          tcp ? std::string() : probe->requestPath,
                                          probe->intervalSeconds, probe->threshold, owners});
          auto known = health.find(target);
          if (known != health.end() && !known->second) continue;
        }
        healthy.push_back(member);
      }
      const std::string proto = rule.protocol == "Udp" ? "udp" : "tcp";
      std::vector<proxy::UpstreamBackend>* proxyTable =
          proto == "tcp"
              ? &proxyBuckets[rule.frontendKey][static_cast<uint16_t>(rule.frontendPort)]
              : nullptr;
      for (int bucket = 0; bucket < kLbBuckets; ++bucket) {
        const IpAddress* backend = rendezvous(rule.key, bucket, healthy);
        if (backend == nullptr) break;
        if (proxyTable) {
          proxyTable->push_back({*backend, static_cast<uint16_t>(rule.backendPort)});
        }
        b.addElement(ns, kVnetTable, "lb_dnat",
                     markText(fe->second.mark) + " . " + proto + " . " +
                         std::to_string(rule.frontendPort) + " . " + markText(bucket),
                     backend->toString() + " . " + std::to_string(rule.backendPort), owners);
      }
    }
  }

  // Private link services: their NAT IPs answer ARP on their subnet's bridge (backends reply to
  // them), in the VNet of the load balancer frontend they front.
  for (const auto& [key, pls] : snapshot.privateLinkServices) {
    for (size_t i = 0; i < pls.natAddresses.size(); ++i) {
      auto ref = subnets.find(pls.natSubnetKeys[i]);
      if (ref == subnets.end()) {
        b.fail(key, notRealisable("NAT IP " + pls.natAddresses[i].toString() + " of " + pls.id +
                                  " is in subnet " + pls.natSubnetKeys[i] +
                                  ", which does not exist"));
        continue;
      }
      b.addAddress(naming.vnetNamespace(ref->second.vnet->key),
                   model::HostNaming::bridgeName(pls.natSubnetKeys[i]), pls.natAddresses[i], 32,
                   Owners{key});
    }
  }

  std::map<std::string, Owners> proxied;  // consumer namespace -> owners of proxied endpoints
  std::map<std::string, Owners> fastProviders;  // provider VNet key -> owners of fast endpoints
  // Private endpoints (DESIGN.md §2): the PE address answers on its subnet bridge; approved
  // ones translate PE_IP -> T_pe at the consumer, T_pe is routed by the backbone to the
  // provider VNet, which maps (T_consumer, T_pe) to the PLS's frontend and SNATs to a NAT IP.
  // Others are rejected.
  for (const auto& [key, pe] : snapshot.privateEndpoints) {
    const Owners owners{key};
    auto nic = snapshot.nics.find(pe.nicKey);
    std::optional<IpAddress> address;
    if (nic != snapshot.nics.end() && !nic->second.ipConfigurations.empty()) {
      address = nic->second.ipConfigurations.front().address;
    }
    auto ref = subnets.find(pe.subnetKey);
    if (ref == subnets.end() || !address || !address->isV4()) {
      b.fail(key, notRealisable("private endpoint " + pe.id +
                                " has no IPv4 address in an existing subnet yet"));
      continue;
    }
    const std::string consumerKey = ref->second.vnet->key;
    const std::string ns = naming.vnetNamespace(consumerKey);
    const std::string ip = address->toString();
    b.addAddress(ns, model::HostNaming::bridgeName(pe.subnetKey), *address, 32, owners);
    if (pe.linkIdentifier != 0) {
      for (auto [set, which] : {std::pair{"pe_out", 'o'}, std::pair{"pe_in", 'i'},
                                std::pair{"pe_conn", 'n'}, std::pair{"pe_rej", 'r'}}) {
        const std::string counter = endpointCounterName(pe.linkIdentifier, which);
        b.addElement(ns, kVnetTable, "", counter, "", owners);
        b.addElement(ns, kVnetTable, set, ip, quoted(counter), owners);
      }
    }
    auto blocked = [&] { b.addElement(ns, kVnetTable, "pe_blocked", ip, "", owners); };
    if (pe.linkIdentifier != 0) {  // counted in pl_stats while it exists (fast_path.h)
      PlannedFastEndpoint counted;
      counted.ns = ns;
      counted.address = *address;
      counted.linkId = pe.linkIdentifier;
      counted.owners = owners;
      plan.fastEndpoints[proxyEndpointKey(ns, *address)] = std::move(counted);
    }
    if (!pe.approved()) {
      blocked();
      continue;
    }
    if (snapshot.paasInstances.count(pe.targetKey)) {  // a PaaS instance (compile_paas.h)
      Status paas = compilePaasEndpoint(snapshot, options, pe, consumerKey, *address, plan);
      if (!paas.ok()) {
        blocked();
        b.fail(key, paas);
      }
      continue;
    }
    auto pls = snapshot.privateLinkServices.find(pe.targetKey);
    const auto consumerTransit = snapshot.transit.find(consumerKey);
    const auto tpe = model::endpointTransitAddress(range, pe.linkIdentifier);
    const FrontendRef* fe = nullptr;
    if (pls != snapshot.privateLinkServices.end()) {
      for (const std::string& feKey : pls->second.frontendKeys) {
        auto it = frontends.find(feKey);
        if (it != frontends.end()) {
          fe = &it->second;
          break;
        }
      }
    }
    if (pls == snapshot.privateLinkServices.end() || fe == nullptr ||
        pls->second.natAddresses.empty() || consumerTransit == snapshot.transit.end() || !tpe) {
      blocked();
      b.fail(key, notRealisable("private endpoint " + pe.id +
                                " is approved but its target " + pe.targetKey +
                                " has no realisable load balancer frontend and NAT IP (or a "
                                "transit address is missing) yet"));
      continue;
    }
    auto providerTransit = snapshot.transit.find(fe->vnetKey);
    if (providerTransit == snapshot.transit.end()) {
      blocked();
      continue;  // the provider VNet reports its missing transit address
    }
    const std::string providerNs = naming.vnetNamespace(fe->vnetKey);
    const IpAddress& natIp =
        pls->second.natAddresses[pe.linkIdentifier % pls->second.natAddresses.size()];
    const Owners both{key, pls->first};
    // UDP (and TCP of endpoints without PROXY protocol) is translated; with enableProxyProtocol
    // TCP is intercepted by TPROXY instead (pe_proxy marks it, the nat chain then skips it) and
    // the agent's splice proxy connects on to T_pe from this namespace.
    b.addElement(ns, kVnetTable, "pe_dnat", ip, tpe->toString(), owners);
    if (pls->second.enableProxyProtocol) {
      b.addElement(ns, kVnetTable, "pe_proxy", ip, "", both);
      b.addProxyEndpoint(PlannedProxyEndpoint{
          ns, *address, *tpe, pe.linkIdentifier, both,
          proxy::DirectUpstream{providerNs, natIp, proxyBuckets[fe->frontend->key]}});
      proxied[ns].insert(proxied[ns].end(), both.begin(), both.end());
    } else {
      // The eBPF fast path: stateless at the consumer, steered by the backbone (fast_path.h);
      // the nft elements above and below stay as the path of whatever the programs pass on
      // (traffic from peered VNets, the endpoint while the programs are not attached).
      PlannedFastEndpoint& fast = plan.fastEndpoints[proxyEndpointKey(ns, *address)];
      fast.translate = true;
      fast.transit = *tpe;
      fast.bridges.clear();
      for (const model::Subnet& subnet : ref->second.vnet->subnets) {
        fast.bridges.push_back(model::HostNaming::bridgeName(subnet.key));
      }
      fast.uplink = model::HostNaming::uplinkName(consumerKey);
      fast.backboneNs = bb;
      fast.consumerBackboneLink = model::HostNaming::backboneUplinkName(consumerKey);
      fast.providerBackboneLink = model::HostNaming::backboneUplinkName(fe->vnetKey);
      fast.consumerTransit = consumerTransit->second;
      fast.providerTransit = providerTransit->second;
      fast.providerNs = providerNs;
      fast.providerUplink = model::HostNaming::uplinkName(fe->vnetKey);
      fast.natIp = natIp;
      fast.frontendMark = fe->mark;
      fast.owners = both;
      b.addElement(providerNs, kVnetTable, "tpe_fast", tpe->toString(), markText(fe->mark), both);
      fastProviders[fe->vnetKey].insert(fastProviders[fe->vnetKey].end(), both.begin(),
                                        both.end());
    }
    // Via the provider's T_vnet: the provider namespace owns no T_pe address to answer ARP.
    b.addRoute(bb, hostPrefix(*tpe), providerTransit->second,
               model::HostNaming::backboneUplinkName(fe->vnetKey), both);
    b.addElement(providerNs, kVnetTable, "tpe_fe",
                 consumerTransit->second.toString() + " . " + tpe->toString(), markText(fe->mark),
                 both);
    b.addElement(providerNs, kVnetTable, "tpe_snat", tpe->toString(), natIp.toString(), both);
  }

  // TPROXY delivers marked packets locally: one rule and one local route per namespace that has
  // proxied endpoints, gone with the last of them.
  for (auto& [ns, owners] : proxied) {
    std::sort(owners.begin(), owners.end());
    owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
    b.addRule(ns, dataplane::RoutingRule{kProxyMark, kProxyRouteTable, kProxyRulePriority},
              owners);
    Route local;
    local.destination = defaultPrefix();
    local.device = "lo";
    local.table = kProxyRouteTable;
    local.type = dataplane::RouteType::kLocal;
    b.addLocalRoute(ns, local, owners);
  }

  // Replies of fast path flows leave a provider VNet through its uplink whatever their
  // destination (vnetTableBody marks them): one rule and one route per provider VNet.
  for (auto& [vnetKey, owners] : fastProviders) {
    std::sort(owners.begin(), owners.end());
    owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
    const std::string ns = naming.vnetNamespace(vnetKey);
    b.addRule(ns, dataplane::RoutingRule{kPeReplyMark, kPeReplyRouteTable, kPeReplyRulePriority},
              owners);
    Route reply;
    reply.destination = defaultPrefix();
    reply.gateway = bbAddress;
    reply.device = model::HostNaming::uplinkName(vnetKey);
    reply.table = kPeReplyRouteTable;
    b.addLocalRoute(ns, reply, owners);
  }

  // Peerings: one link per pair of VNets whose peerings on both sides are Connected.
  std::map<std::pair<std::string, std::string>, const model::Peering*> connected;
  for (const auto& [key, peering] : snapshot.peerings) {
    if (peering.connected()) connected[{peering.vnetKey, peering.remoteVnetKey}] = &peering;
  }
  for (const auto& [pair, peering] : connected) {
    const auto& [a, bKey] = pair;
    if (a >= bKey) continue;  // each pair once, from its smaller key
    auto back = connected.find({bKey, a});
    if (back == connected.end()) continue;  // the remote side is not Connected (yet)
    auto vnetA = snapshot.vnets.find(a);
    auto vnetB = snapshot.vnets.find(bKey);
    auto transitA = snapshot.transit.find(a);
    auto transitB = snapshot.transit.find(bKey);
    if (vnetB == snapshot.vnets.end() || transitA == snapshot.transit.end() ||
        transitB == snapshot.transit.end()) {
      continue;  // the VNet itself reports what is missing
    }
    const Owners owners{peering->key, back->second->key};
    const std::string nsA = naming.vnetNamespace(a);
    const std::string nsB = naming.vnetNamespace(bKey);
    const std::string linkA = model::HostNaming::peeringLinkName(bKey);  // in A, towards B
    const std::string linkB = model::HostNaming::peeringLinkName(a);     // in B, towards A
    b.addVeth(nsA, linkA, nsB, linkB, owners);
    b.addAddress(nsA, linkA, transitA->second, 32, owners);
    b.addAddress(nsB, linkB, transitB->second, 32, owners);
    b.addRoute(nsA, hostPrefix(transitB->second), std::nullopt, linkA, owners);
    b.addRoute(nsB, hostPrefix(transitA->second), std::nullopt, linkB, owners);
    for (const IpPrefix& prefix : vnetB->second.addressPrefixes) {
      b.addRoute(nsA, prefix, transitB->second, linkA, owners);
    }
    for (const IpPrefix& prefix : vnetA->second.addressPrefixes) {
      b.addRoute(nsB, prefix, transitA->second, linkB, owners);
    }
  }
  return plan;
}

}  // namespace privlink::agent
