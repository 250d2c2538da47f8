#include "agent/compile.h"

#include <sstream>

#include "model/naming.h"
#include "model/transit.h"

namespace privlink::agent {
namespace {

using dataplane::InterfaceAddress;
using dataplane::Route;
using Owners = std::vector<std::string>;

constexpr const char* kResolvConf = "nameserver 168.63.129.16\n";
constexpr const char* kVnetTable = "plvnet";
constexpr const char* kBackboneTable = "plbb";

IpPrefix hostPrefix(const IpAddress& address) { return IpPrefix::of(address, 32); }
IpPrefix defaultPrefix() { return IpPrefix::of(IpAddress(), 0); }
IpAddress gatewayOf(const IpPrefix& prefix) { return prefix.at(1); }

class PlanBuilder {
 public:
  explicit PlanBuilder(HostPlan& plan) : plan_(plan) {}

  void addNamespace(const std::string& ns, const Owners& owners) {
    plan_.namespaces[namespaceKey(ns)] = PlannedNamespace{ns, owners};
    // Loopback is always wanted up (sockets bound to local addresses need it).
    plan_.links[linkKey(ns, "lo")] = PlannedLink{ns, "lo", LinkKind::kLoopback, "", "", "", owners};
  }
  void addBridge(const std::string& ns, const std::string& name, const Owners& owners) {
    plan_.links[linkKey(ns, name)] = PlannedLink{ns, name, LinkKind::kBridge, "", "", "", owners};
  }
  // A veth pair; `master` applies to the first end.
  void addVeth(const std::string& ns, const std::string& name, const std::string& peerNs,
               const std::string& peerName, const Owners& owners, const std::string& master = "") {
    plan_.links[linkKey(ns, name)] =
        PlannedLink{ns, name, LinkKind::kVeth, peerNs, peerName, master, owners};
    plan_.links[linkKey(peerNs, peerName)] =
        PlannedLink{peerNs, peerName, LinkKind::kVeth, ns, name, "", owners};
  }
  void addAddress(const std::string& ns, const std::string& link, const IpAddress& address,
                  int length, const Owners& owners) {
    InterfaceAddress a{link, address, length};
    plan_.addresses[addressKey(ns, a)] = PlannedAddress{ns, a, owners};
  }
  void addRoute(const std::string& ns, const IpPrefix& destination,
                const std::optional<IpAddress>& gateway, const std::string& device,
                const Owners& owners, const std::optional<IpAddress>& source = std::nullopt) {
    Route r;
    r.destination = destination;
    r.gateway = gateway;
    r.device = device;
    r.preferredSource = source;
    plan_.routes[routeKey(ns, r)] = PlannedRoute{ns, r, owners};
  }
  void addSysctl(const std::string& ns, const std::string& key, const std::string& value,
                 const Owners& owners) {
    plan_.sysctls[sysctlKey(ns, key)] = PlannedSysctl{ns, key, value, owners};
  }
  // `body` is the table's contents (chains); the fingerprint comment is added here.
  void addNftTable(const std::string& ns, const std::string& family, const std::string& name,
                   const std::string& body, const Owners& owners) {
    const std::string fingerprint = model::shortHash(family + " " + name + "\n" + body);
    std::string text = "table " + family + " " + name + " {\n  comment \"privlink " + fingerprint +
                       "\"\n" + body + "}\n";
    plan_.nftTables[nftTableKey(ns, family, name)] =
        PlannedNftTable{ns, family, name, std::move(text), fingerprint, owners};
  }
  void addFile(const std::string& ns, const std::string& name, const std::string& content,
               const Owners& owners) {
    plan_.files[fileKey(ns, name)] = PlannedFile{ns, name, content, owners};
  }
  void fail(const std::string& key, Status status) {
    plan_.failures.emplace(key, std::move(status));
  }

 private:
  HostPlan& plan_;
};

Status notRealisable(const std::string& message) {
  return Status::InvalidArgument("InvalidResourceReference", message);
}

// One uplink's nft table: SNAT everything leaving through the uplink to the VNet's transit
// address; nothing new may enter through it (DESIGN.md §2 one-direction rule).
std::string vnetTableBody(const std::string& uplink, const IpAddress& transit) {
  std::ostringstream out;
  out << "  chain postrouting {\n"
      << "    type nat hook postrouting priority srcnat; policy accept;\n"
      << "    oifname \"" << uplink << "\" snat ip to " << transit.toString() << "\n"
      << "  }\n"
      << "  chain forward {\n"
      << "    type filter hook forward priority filter; policy accept;\n"
      << "    iifname \"" << uplink << "\" ct state established,related accept\n"
      << "    iifname \"" << uplink << "\" drop\n"
      << "  }\n"
      << "  chain input {\n"
      << "    type filter hook input priority filter; policy accept;\n"
      << "    iifname \"" << uplink << "\" ct state established,related accept\n"
      << "    iifname \"" << uplink << "\" drop\n"
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

}  // namespace

HostPlan compile(const model::NetworkSnapshot& snapshot, const CompileOptions& options) {
  HostPlan plan;
  PlanBuilder b(plan);
  const model::HostNaming& naming = options.naming;
  const IpPrefix& range = options.transitRange;
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
      b.addNftTable(ns, "inet", kVnetTable, vnetTableBody(uplink, t), owners);
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
