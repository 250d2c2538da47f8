#include "agent/compile_paas.h"

#include <sstream>
#include <vector>

#include "agent/plan_builder.h"
#include "model/naming.h"
#include "model/paas_naming.h"
#include "model/transit.h"

namespace privlink::agent {
namespace {

using Owners = PlanBuilder::Owners;

IpPrefix platformPrefix() { return IpPrefix::parse(model::kPaasPlatformPrefix).value(); }

std::string q(std::string_view name) { return "\"" + std::string(name) + "\""; }

// The platform router's table (see compile_paas.h).
std::string paasTableBody() {
  const std::string bb = q(model::kPaasToBackbone);
  const std::string inet = q(model::kPaasToInternet);
  const std::string br = q(model::kPaasBridge);
  std::ostringstream out;
  out << "  map tpe_dnat { type ipv4_addr . ipv4_addr . inet_service : ipv4_addr . "
         "inet_service; }\n"
      << "  set tpe_known { type ipv4_addr . ipv4_addr; }\n"
      << "  chain prerouting {\n"
      << "    type nat hook prerouting priority dstnat; policy accept;\n"
      << "    iifname " << bb << " dnat ip to ip saddr . ip daddr . tcp dport map @tpe_dnat\n"
      << "  }\n"
      << "  chain postrouting {\n"
      << "    type nat hook postrouting priority srcnat; policy accept;\n"
      << "    iifname " << bb << " ct status dnat snat ip to "
      << model::paasPlatformNatAddress().toString() << "\n"
      << "  }\n"
      << "  chain forward {\n"
      << "    type filter hook forward priority filter; policy accept;\n"
      << "    ct state established,related accept\n"
      << "    iifname " << bb << " oifname " << br << " ct status dnat accept\n"
      << "    iifname " << inet << " oifname " << br << " accept\n"
      << "    iifname " << bb << " ip saddr . ip daddr @tpe_known meta l4proto tcp "
         "reject with tcp reset\n"
      << "    iifname " << bb << " ip saddr . ip daddr @tpe_known "
         "reject with icmp type admin-prohibited\n"
      << "    drop\n"
      << "  }\n"
      << "  chain input {\n"
      << "    type filter hook input priority filter; policy accept;\n"
      << "    ct state established,related accept\n"
      << "    iifname { " << bb << ", " << inet << " } drop\n"
      << "  }\n";
  return out.str();
}

// The internet namespace's table: public endpoints (see compile_paas.h).
std::string publicTableBody(const IpAddress& internetAddress) {
  const std::string link = q(model::kInternetToPaas);
  std::ostringstream out;
  out << "  map pub_dnat { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
      << "  set pub_closed { type ipv4_addr; }\n"
      << "  chain prerouting {\n"
      << "    type nat hook prerouting priority dstnat; policy accept;\n"
      << "    dnat ip to ip daddr . tcp dport map @pub_dnat\n"
      << "  }\n"
      << "  chain postrouting {\n"
      << "    type nat hook postrouting priority srcnat; policy accept;\n"
      << "    oifname " << link << " ct status dnat snat ip to " << internetAddress.toString()
      << "\n"
      << "  }\n"
      << "  chain input {\n"
      << "    type filter hook input priority filter; policy accept;\n"
      << "    ip daddr @pub_closed meta l4proto tcp reject with tcp reset\n"
      << "    ip daddr @pub_closed reject with icmp type admin-prohibited\n"
      << "  }\n"
      << "  chain forward {\n"
      << "    type filter hook forward priority filter; policy accept;\n"
      << "    ct state established,related accept\n"
      << "    iifname " << link << " drop\n"
      << "  }\n";
  return out.str();
}

}  // namespace

void compilePaas(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                 HostPlan& plan) {
  if (snapshot.paasInstances.empty()) return;
  const model::HostNaming& naming = options.naming;
  const IpPrefix& range = options.transitRange;
  PlanBuilder b(plan);
  Owners all;
  for (const auto& [key, instance] : snapshot.paasInstances) all.push_back(key);

  const std::string platform = naming.paasPlatformNamespace();
  const std::string bridge(model::kPaasBridge);
  const IpAddress gateway = model::paasPlatformGateway();
  const int platformLength = platformPrefix().length();
  b.addNamespace(platform, all);
  b.addSysctl(platform, "net/ipv4/ip_forward", "1", all);
  // As in VNet namespaces: with br_netfilter loaded, frames bridged on br0 must not meet the
  // router's forward chain (which drops what it does not know).
  for (const char* key :
       {"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"}) {
    b.addSysctl(platform, key, "0", all, /*optional=*/true);
  }
  b.addBridge(platform, bridge, all);
  b.addAddress(platform, bridge, gateway, platformLength, all);
  b.addAddress(platform, bridge, model::paasPlatformNatAddress(), 32, all);
  b.addNftTable(platform, "inet", kPaasTableName, paasTableBody(), all, {{"tpe_dnat", 1}});

  const std::string eth0(model::HostNaming::kNicInterface);
  for (const auto& [key, instance] : snapshot.paasInstances) {
    const Owners owners{key};
    const std::string ns = naming.paasBackendNamespace(key);
    b.addNamespace(ns, owners);
    b.addVeth(platform, model::paasBackendLinkName(key), ns, eth0, owners, bridge);
    b.addAddress(ns, eth0, instance.backendAddress, platformLength, owners);
    b.addRoute(ns, defaultPrefix(), gateway, eth0, owners);
  }

  // The backbone and internet namespaces exist iff a VNet does (compile.cc); without them there
  // is nobody to reach the instances yet.
  if (snapshot.vnets.empty()) return;
  const std::string bb = naming.backboneNamespace();
  const std::string inet = naming.internetNamespace();
  const std::string toBb(model::kPaasToBackbone);
  const std::string toInet(model::kPaasToInternet);
  const std::string bbSide(model::kBackboneToPaas);
  const std::string inetSide(model::kInternetToPaas);
  const IpAddress tPlat = model::paasPlatformTransitAddress(range);
  const IpAddress bbAddress = model::backboneGatewayAddress(range);
  const IpAddress inetAddress = model::internetAddress(range);

  b.addVeth(platform, toBb, bb, bbSide, all);
  b.addAddress(platform, toBb, tPlat, 32, all);
  b.addAddress(bb, bbSide, bbAddress, 32, all);
  b.addRoute(platform, hostPrefix(bbAddress), std::nullopt, toBb, all);
  b.addRoute(platform, range, bbAddress, toBb, all);
  b.addRoute(bb, hostPrefix(tPlat), std::nullopt, bbSide, all);

  b.addVeth(platform, toInet, inet, inetSide, all);
  b.addAddress(platform, toInet, tPlat, 32, all);
  b.addAddress(inet, inetSide, inetAddress, 32, all);
  b.addRoute(platform, hostPrefix(inetAddress), std::nullopt, toInet, all);
  b.addRoute(inet, hostPrefix(tPlat), std::nullopt, inetSide, all);
  b.addRoute(inet, platformPrefix(), tPlat, inetSide, all);
  b.addSysctl(inet, "net/ipv4/ip_forward", "1", all);  // public IP -> platform router
  b.addNftTable(inet, "inet", kPublicTableName, publicTableBody(inetAddress), all,
                {{"pub_dnat", 0}, {"pub_closed", 0}});

  for (const auto& [key, instance] : snapshot.paasInstances) {
    const Owners owners{key};
    const std::string publicIp = instance.publicAddress.toString();
    b.addAddress(inet, "lo", instance.publicAddress, 32, owners);
    if (instance.publicNetworkAccess) {
      b.addElement(inet, kPublicTableName, "pub_dnat",
                   publicIp + " . " + std::to_string(instance.port),
                   instance.backendAddress.toString() + " . " + std::to_string(instance.port),
                   owners);
    } else {
      b.addElement(inet, kPublicTableName, "pub_closed", publicIp, "", owners);
    }
  }
}

Status compilePaasEndpoint(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                           const model::PrivateEndpoint& pe, const std::string& consumerVnetKey,
                           const IpAddress& endpointAddress, HostPlan& plan) {
  const model::HostNaming& naming = options.naming;
  const IpPrefix& range = options.transitRange;
  auto instance = snapshot.paasInstances.find(pe.targetKey);
  auto consumerTransit = snapshot.transit.find(consumerVnetKey);
  const auto tpe = model::endpointTransitAddress(range, pe.linkIdentifier);
  if (instance == snapshot.paasInstances.end() || consumerTransit == snapshot.transit.end() ||
      !tpe) {
    return Status::InvalidArgument(
        "InvalidResourceReference",
        "private endpoint " + pe.id + " is approved but its target " + pe.targetKey +
            " is not a realisable PaaS instance, or a transit address or link identifier is "
            "missing yet");
  }
  const std::string consumerNs = naming.vnetNamespace(consumerVnetKey);
  const std::string platform = naming.paasPlatformNamespace();
  const std::string port = std::to_string(instance->second.port);
  const std::string pair = consumerTransit->second.toString() + " . " + tpe->toString();
  const Owners owners{pe.key};
  const Owners both{pe.key, instance->first};
  PlanBuilder b(plan);
  b.addElement(consumerNs, kVnetTableName, "pe_dnat", endpointAddress.toString(), tpe->toString(),
               owners);
  b.addRoute(naming.backboneNamespace(), hostPrefix(*tpe),
             model::paasPlatformTransitAddress(range), std::string(model::kBackboneToPaas), both);
  b.addElement(platform, kPaasTableName, "tpe_dnat", pair + " . " + port,
               instance->second.backendAddress.toString() + " . " + port, both);
  b.addElement(platform, kPaasTableName, "tpe_known", pair, "", both);
  return Status::Ok();
}

}  // namespace privlink::agent
