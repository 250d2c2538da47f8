#pragma once
// The PaaS part of compile() (DESIGN.md §1, PaaS row; §2 for the endpoint path). Pure, like
// compile(). Realisation (names from model::HostNaming and model/paas_naming.h; R = the transit
// range, T_plat = R.at(3), GW = 10.255.0.1, NAT = 10.255.0.2):
//
//   platform router <p>paas   lo; ip_forward=1; bridge br0 holding GW/16 and NAT/32 (the hidden
//                             platform VNet, kPaasPlatformPrefix); nft "inet plpaas".
//   backend <p>p-<h>          one per instance: lo; eth0 (veth; b-<h> in <p>paas, enslaved to
//                             br0) with the backend address/16; default route via GW. The
//                             operator runs the real server here (`privlink paas exec`).
//   with the backbone and internet namespaces (present iff any VNet exists):
//     <p>paas bb0 <-> paas0 <p>bb     T_plat/32 on bb0, R.1/32 on paas0; routes: <p>paas
//                                     R.1/32 dev bb0, R via R.1; <p>bb T_plat/32 dev paas0.
//     <p>paas inet0 <-> paas0 <p>inet T_plat/32 on inet0, R.2/32 on paas0; routes: <p>paas
//                                     R.2/32 dev inet0; <p>inet T_plat/32 dev paas0 and the
//                                     platform prefix via T_plat; ip_forward=1 in <p>inet.
//     public endpoint                 the instance's public IP /32 on lo in <p>inet; nft
//                                     "inet plpub" there: while publicNetworkAccess is Enabled,
//                                     pub_dnat {PUBLIC_IP . port : backend . port} (DNAT, then
//                                     SNAT to R.2: the backend sees R.2, and replies return
//                                     through <p>inet); while Disabled, pub_closed {PUBLIC_IP}
//                                     answers with TCP RST / ICMP admin-prohibited. Changing
//                                     either element deletes the public IP's conntrack entries
//                                     in <p>inet, so disabling also stops established flows.
//                                     VNets reach it through their default outbound (SNAT to
//                                     T_vnet, backbone default route to <p>inet).
//   approved private endpoint E (link id L) of a consumer VNet C to instance I:
//     consumer <p>v-<C>   pe_dnat {PE_IP : T_pe}   (the table of compile.h; as for a PLS)
//     backbone            route T_pe/32 via T_plat dev paas0
//     <p>paas             tpe_dnat {T_C . T_pe . port : backend . port} (DNAT) and tpe_known
//                         {T_C . T_pe}; SNAT to NAT, so the backend sees the platform address
//                         10.255.0.2 and its replies return through the platform router.
//                         Other ports of a known (T_C, T_pe) are rejected (RST / ICMP
//                         admin-prohibited); everything else new from bb0 or inet0, and every
//                         new connection a backend opens towards them, is dropped (one
//                         direction). Removing the element deletes T_pe's conntrack entries in
//                         <p>paas (and the consumer's pe_dnat removal those of PE_IP there).
//   Endpoints that are not Approved are rejected at the consumer (pe_blocked), as for a PLS.
// Every element and route is per instance or per endpoint, so adding or removing one is an
// element change, never a table rewrite (the table bodies depend only on the transit range).

#include <string>

#include "agent/compile.h"
#include "agent/host_plan.h"
#include "common/ip.h"
#include "common/status.h"
#include "model/network.h"

namespace privlink::agent {

inline constexpr const char* kPaasTableName = "plpaas";    // in <p>paas
inline constexpr const char* kPublicTableName = "plpub";   // in <p>inet

// Adds the platform router, every instance's backend namespace and (when the backbone exists,
// i.e. the snapshot has a VNet) the links to the backbone and internet namespaces and the public
// endpoints. Does nothing without instances.
void compilePaas(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                 HostPlan& plan);

// The translation of one approved private endpoint whose target is a PaaS instance
// (snapshot.paasInstances holds pe.targetKey): consumer VNet `consumerVnetKey`, endpoint address
// `endpointAddress`. Returns InvalidArgument("InvalidResourceReference", ...) — and adds nothing
// — when it cannot be realised yet (no transit address, link identifier 0); the caller then
// rejects the endpoint (pe_blocked) and reports the status for pe.key.
Status compilePaasEndpoint(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                           const model::PrivateEndpoint& pe, const std::string& consumerVnetKey,
                           const IpAddress& endpointAddress, HostPlan& plan);

}  // namespace privlink::agent
