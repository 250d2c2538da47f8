#pragma once
// Applier: makes the kernel match a HostPlan, changing only the difference (DESIGN.md §3, crash
// safety). Each apply() lists what exists in the namespaces privlink owns (HostNaming::
// ownsNamespace; see host_plan.h for what inside them is owned), then runs ordered steps:
//   deletions, innermost first: nft tables, rules, routes, addresses, links, namespaces (files
//   first); creations: namespaces, links, masters, addresses, links up, routes, rules, sysctls,
//   nft, files.
// Anything that already matches is not touched, so established connections survive a restart.
// AlreadyExists on a create and NotFound on a delete count as success (another pass, or the
// kernel, got there first). Any other error becomes a failure of the plan item's owners (store
// keys), with the step named: "creating bridge br-1a2b3c4d in plv-…: <kernel error>"; the
// remaining steps still run and the next apply() retries.
//
// nftables memory (issue #6: adding the 10,000th endpoint costs what adding the 10th does). The
// Applier remembers, per namespace, the elements and fingerprint of every table it loaded or
// updated and the namespace's nf_tables generation (Kernel::nftGeneration) after its last
// commit. While the generation is unchanged (nobody else committed an nftables transaction
// there) a pass diffs the plan against that memory instead of listing the table (`nft list
// table` reads every element); element changes go out as one raw netlink batch
// (Kernel::nftUpdateElements; nftApply text when the kernel cannot encode an element). The
// memory is dropped, and the kernel listed again, for a namespace whose generation moved (or
// cannot be read), that was created, deleted or could not be listed, or whose nft step failed;
// and for all namespaces every `verifyInterval` (a periodic full verification). Failures of
// other steps (routes, links) do not touch it: they are retried from their own listings.
// Not thread-safe (one agent thread owns it, like the Kernel).

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/host_plan.h"
#include "common/status.h"
#include "dataplane/kernel.h"
#include "model/host_naming.h"

namespace privlink::agent {

struct ApplyResult {
  // Mutating kernel calls made (successful or not). 0 means the kernel already matched the plan.
  int changes = 0;
  // One line per mutating call, in order: "create bridge br-… in plv-…" (logs and tests).
  std::vector<std::string> steps;
  // Planned namespaces that did not exist when the pass began (it created them, or failed to: see
  // `failures`); whatever lived in an earlier namespace of that name, e.g. a socket, is gone.
  std::set<std::string> newNamespaces;
  // Failures by store key; the first failure of a key wins (later ones usually follow from it).
  std::map<std::string, Status> failures;
  // Failures of objects no store key owns (orphans that could not be deleted), for logs.
  std::vector<Status> unowned;
};

// What the Applier committed to one nft table: its fingerprint and its elements, keyed as the
// plan keys them (nftElementKey) -> value.
struct AppliedNftTable {
  std::string fingerprint;
  std::map<std::string, std::string> elements;
};
// What it committed in one namespace, valid while the namespace's generation is `generation`.
struct AppliedNftNamespace {
  uint32_t generation = 0;
  std::map<std::string, AppliedNftTable> tables;  // by "family name"
};

class Applier {
 public:
  static constexpr std::chrono::milliseconds kDefaultVerifyInterval{300000};

  Applier(dataplane::Kernel& kernel, model::HostNaming naming,
          std::chrono::milliseconds verifyInterval = kDefaultVerifyInterval);

  ApplyResult apply(const HostPlan& plan);

  // The incremental pass (agent/incremental.h): makes the kernel follow a plan that differs from
  // the one of the last apply only by `removed` (old values of items that left or changed) and
  // `added` (new values), without listing the kernel: deletes the removed rules, routes and
  // addresses, adds the added ones, and updates the elements of each touched nft table in one
  // raw batch against the nftables memory (then flushes conntrack of flushOnChange elements,
  // as apply() does). It does apply(plan) instead (a full listing and diff) when that is not
  // safe: the last apply had failures or unowned leftovers (the kernel may not match the old
  // plan), the periodic verification is due, the changes touch namespaces, links, sysctls, nft
  // tables or files, or the nftables memory of a touched namespace is not current (its
  // generation moved: someone else committed there). A failed step fails its owners, as in
  // apply(), and makes the next call a full apply().
  ApplyResult applyChanges(const HostPlan& plan, const HostPlan& removed, const HostPlan& added);
  // Whether the last apply()/applyChanges() had no failures and no unowned leftovers.
  bool lastApplyClean() const { return clean_; }

  // Forgets the nftables memory: the next apply() lists every table it diffs.
  void forgetNftMemory() { nft_memory_.clear(); }

 private:
  dataplane::Kernel& kernel_;
  model::HostNaming naming_;
  std::chrono::milliseconds verify_interval_;
  std::chrono::steady_clock::time_point last_verified_{};
  std::map<std::string, AppliedNftNamespace> nft_memory_;  // by namespace
  bool clean_ = false;  // see lastApplyClean()
  // Namespace files this process wrote (the Kernel cannot read them back); after a restart they
  // are written once more.
  std::map<std::string, std::string> written_files_;
};

// The named sets/maps and counters of one nft table, read from `nft list table` output (nft's
// pretty-printed form, and also `add|delete element|counter F T ...` command lines as the fake
// kernel lists them, applied in order).
struct NftCounterValue {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};
struct NftTableContents {
  // set/map name -> key -> value ("" for set elements); every declared set appears.
  std::map<std::string, std::map<std::string, std::string>> sets;
  std::map<std::string, NftCounterValue> counters;  // by name
};
NftTableContents parseNftTableContents(const std::string& listing);

// Deletes every namespace `naming` owns (and its /etc/netns files), whatever the store says:
// `privlinkd --cleanup`. Returns the first error; continues past errors.
Status removeOwnedNamespaces(dataplane::Kernel& kernel, const model::HostNaming& naming);

}  // namespace privlink::agent
