#pragma once
// compile(snapshot) -> HostPlan: what the kernel of this host must hold for the network in the
// snapshot (DESIGN.md §1, §2). Pure: no I/O, no clock, no randomness; the same snapshot always
// gives the same plan (golden-tested in tests/unit/agent/golden/).
//
// Realisation (names from model::HostNaming; T_x = transit address of VNet x):
//   backbone <p>bb   lo; veth inet0 <-> bb0 in <p>inet; inet0 R.1/32; routes R.2/32 dev inet0,
//                    default via R.2; ip_forward=1; nft "inet plbb": nothing new from inet0.
//   internet <p>inet lo; bb0 R.2/32; routes R.1/32 dev bb0, R via R.1. (Present iff any VNet.)
//   VNet             <p>v-<h>: lo (+168.63.129.16/32 for the DNS responder), ip_forward=1;
//                    uplink u-<h> <-> v-<h> in the backbone, T/32 on u-<h>, R.1/32 on v-<h>;
//                    routes R.1/32 dev u-<h>, default via R.1; backbone: T/32 dev v-<h>;
//                    nft "inet plvnet": SNAT to T out of the uplink, drop new connections in.
//   subnet           bridge br-<h> in the VNet namespace with the first host address of each
//                    IPv4 prefix (the kernel adds the connected routes; plans never hold them).
//   NIC              <p>n-<h>: lo, eth0 (veth; n-<h> in the VNet namespace, enslaved to the
//                    subnet bridge), its addresses, default route via the gateway,
//                    file resolv.conf "nameserver 168.63.129.16". Not for the read-only NIC of
//                    a private endpoint (properties.privateEndpoint set).
//   peering          only when both sides exist and are Connected: veth p-<hB> in A <-> p-<hA> in
//                    B, T_A/32 and T_B/32 on them, routes T_peer/32 and the peer's address
//                    prefixes via T_peer.
// Resources that cannot be realised (NIC whose subnet is missing, no address, ...) are left out
// and listed in HostPlan::failures with an error saying what to fix.

#include "agent/host_plan.h"
#include "common/ip.h"
#include "model/host_naming.h"
#include "model/network.h"

namespace privlink::agent {

struct CompileOptions {
  model::HostNaming naming;
  IpPrefix transitRange = IpPrefix::parse("100.64.0.0/10").value();
};

// Health of probed backends by probeTargetKey(probe key, address); absent targets count healthy
// (a backend is in rotation until its probe has failed `threshold` times in a row).
using ProbeHealth = std::map<std::string, bool>;

HostPlan compile(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                 const ProbeHealth& health = {});

// Number of hash buckets per load-balancing rule (nft `jhash ... mod kLbBuckets`).
inline constexpr int kLbBuckets = 64;
// The table every VNet namespace holds and the names of its sets/maps (DESIGN.md §2):
//   pe_dnat    PE_IP : T_pe          consumer: approved endpoints only
//   pe_blocked PE_IP                 consumer: endpoints not approved (reject)
//   pe_proxy   PE_IP                 consumer: approved endpoints whose PLS has
//                                    enableProxyProtocol: their TCP is marked kProxyMark and
//                                    TPROXYed to kProxyPort (host_plan.h; the agent's splice
//                                    proxy), skipping pe_dnat; their UDP still uses pe_dnat.
//                                    Such a namespace also gets the rule fwmark kProxyMark ->
//                                    kProxyRouteTable and `local 0.0.0.0/0 dev lo` in that table,
//                                    and HostPlan::proxyEndpoints says where the proxy connects.
//   tpe_fe     T_vnet . T_pe : mark  provider: who may use which T_pe, and its LB frontend id
//   tpe_snat   T_pe : NAT_IP         provider: the source the backend sees
//   fe_id      FE_IP : mark          provider: the frontend id for clients inside the VNet
//   lb_dnat    mark . proto . port . bucket : backend . port   healthy backends, rendezvous-hashed
//   pe_out, pe_in, pe_conn, pe_rej   PE_IP : counter (named counters pe<link id>{o,i,n,r})
inline constexpr const char* kVnetTableName = "plvnet";
// The frontend id (nft mark) of a load balancer frontend: a stable nonzero hash of its key.
uint32_t frontendMark(const std::string& frontendKey);
// Names of an endpoint's counters (item 7): bytes/packets out (client -> service), in, new
// connections, rejected packets.
std::string endpointCounterName(uint32_t linkIdentifier, char which);  // which: o, i, n, r

}  // namespace privlink::agent
