#pragma once
// The eBPF fast path of private endpoints (issue #6 item 9; DESIGN.md §2; the programs and maps:
// dataplane/bpf/fast_path_maps.h). compile() lists in HostPlan::fastEndpoints every endpoint with a
// link identifier; the Approved, non-proxied ones that target a private link service are marked
// `translate`. These functions make the kernel match:
//   - in each consumer VNet namespace with a translated endpoint: pl_consumer_out on every subnet
//     bridge, pl_consumer_in on the uplink (tc ingress); pl_pe (PE_IP -> T_pe, link id) and pl_tpe
//     (T_pe -> PE_IP, link id) hold its translated endpoints; pl_stats one zeroed entry per
//     endpoint of the namespace (created once, never overwritten, deleted when the endpoint goes);
//     pl_backend_in on every NIC's host-side veth (translates clients' packets before the
//     bridge); pl_nic: every NIC address of the VNet -> its host-side veth's ifindex, its MAC and its
//     bridge's MAC (the MAC is read from the NIC namespace only when the veth's ifindex changed);
//   - in each provider VNet namespace of a translated endpoint: pl_consumer_in on its uplink,
//     pl_backend_in on every NIC's host-side veth; pl_svc (T_pe -> frontend mark, NAT IP) and
//     pl_lb (the plan's lb_dnat elements of those frontends, each backend with its NIC's veth
//     ifindex and MAC; a backend without a NIC here is left to nft). pl_flow/pl_rflow belong to
//     the programs; withdrawFastPath deletes the entries of flows to a T_pe leaving pl_svc;
//   - in the backbone namespace: pl_backbone on the backbone side of both uplinks of each
//     translated endpoint; pl_bb (T_pe -> those two ifindexes and T_vnets);
//   - pl_config (key 0) = PL_FP_CONFIGURED | PL_FP_DEFAULT in both kinds;
//   - owned namespaces with nothing translated lose our attachments and their pinned maps (also
//     when the namespace itself is gone).
// Endpoints not in the maps fall through to the nft rules of the VNet table (compile.cc), which
// still carry every endpoint: Pending/Rejected/Disconnected ones are refused there.
// Consumer entries are written only when the backbone's went in, so a translated packet always
// has its way back. Failures are failures of the translated endpoints' owners (the PE and PLS).

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "agent/applier.h"
#include "agent/host_plan.h"
#include "dataplane/bpf/fast_path_maps.h"
#include "dataplane/kernel.h"
#include "model/host_naming.h"

namespace privlink::agent {

// Before the applier runs: deletes the map entries of endpoints that leave the fast path (Reject,
// Remove, Delete), so their next packet meets the nft rules (RST / admin-prohibited) at once;
// in provider namespaces also their pl_svc keys and the pl_flow/pl_rflow entries of their flows.
void withdrawFastPath(dataplane::Kernel& kernel, const HostPlan& plan,
                      const model::HostNaming& naming, ApplyResult& result);

// After the applier: everything above. Adds its calls, steps and failures to `result`.
void applyFastPath(dataplane::Kernel& kernel, const HostPlan& plan,
                   const model::HostNaming& naming, ApplyResult& result);

// The same across passes, proportional to the change (issue #6 item 9). A full pass
// (`removed`/`added` null) runs withdrawFastPath/applyFastPath (which read the kernel: maps,
// attachments, ifindexes) and remembers what each namespace then holds. An incremental pass whose
// plan delta only adds/changes/removes endpoints inside already converged namespaces - removed
// versions untranslated (Pending, Rejected, ...), added ones whose programs, backbone links and
// provider frontend are already in place, no NIC or lb_dnat change - writes only the changed
// endpoints' keys (pl_bb before pl_pe/pl_tpe/pl_svc, pl_stats created once, a removed
// endpoint's pl_stats deleted) against that memory: no dump, no listing. Any other delta, a
// failed step, or a pass that was not clean, makes it forget and run the full functions.
// Failures of a delta step are the changed endpoints' owners'.
class FastPathState {
 public:
  // Before the applier. Decides whether this pass is a delta pass (then apply() is one too).
  void withdraw(dataplane::Kernel& kernel, const HostPlan& plan, const HostPlan* removed,
                const HostPlan* added, const model::HostNaming& naming, ApplyResult& result);
  // After the applier; the same plan and delta as withdraw(). A remembered namespace the applier
  // (re)created in this pass (result.newNamespaces) makes it a full apply.
  void apply(dataplane::Kernel& kernel, const HostPlan& plan, const HostPlan* removed,
             const HostPlan* added, const model::HostNaming& naming, ApplyResult& result);
  // The next pass reads the kernel again.
  void forget() { valid_ = false; }
  bool lastPassWasDelta() const { return delta_; }

  // What one namespace holds as far as the fast path wrote it (public for fast_path.cc).
  struct Namespace {
    std::map<std::string, std::string> attach;                       // link -> program
    std::map<std::string, std::map<std::string, std::string>> maps;  // not pl_stats
    std::set<std::string> stats;
    std::set<uint32_t> marks;
  };
  struct Memory {
    std::map<std::string, Namespace> namespaces;
    std::map<std::string, uint32_t> backboneIfindex;  // backbone link -> ifindex
  };

 private:
  bool deltaApplies(const HostPlan& plan, const HostPlan& removed, const HostPlan& added,
                    const model::HostNaming& naming) const;
  Memory memory_;
  bool valid_ = false;
  bool delta_ = false;
};

// Removes the pinned maps of every namespace `naming` owns (privlinkd --cleanup; the programs go
// with the namespaces' links). Continues past errors and returns the first.
Status removeFastPathPins(dataplane::Kernel& kernel, const model::HostNaming& naming);

// Adds `from` (an earlier phase of the same pass) to `into`.
void mergeApplyResult(ApplyResult from, ApplyResult& into);

// Map keys and values as the kernel holds them (fast_path_maps.h).
std::string fastPathAddressKey(const IpAddress& address);  // 4 bytes, network order
std::string fastPathLinkKey(uint32_t linkId);               // 4 bytes, host order
// Sums the per-CPU values of one pl_stats element (bpfMapLookup's bytes); all zeros if malformed.
pl_pe_stats sumFastPathStats(const std::string& raw);

}  // namespace privlink::agent
