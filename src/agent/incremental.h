#pragma once
// The incremental agent pass (issue #6 item 9: adding the 10,000th endpoint costs what adding the
// 10th does). Two pieces the Agent keeps across passes:
//
// SnapshotCache: the parsed network (model::NetworkSnapshot) of the last pass, followed through
// the store's change feed (Store::changesSince) instead of re-reading and re-parsing every
// document. It follows only changes it can apply exactly; follow() returns nullopt (the caller
// then reads everything again, Agent::readSnapshot, and reset()s the cache) after a gap in the
// feed, and for any change of a document that is not an *endpoint input*:
//   - a private endpoint document (microsoft.network/privateendpoints),
//   - the NIC of a private endpoint (properties.privateEndpoint set and in no backend pool) before
//     and after the change,
//   - a connection record (…/privatelinkservices/privateendpointconnections, or one below a PaaS
//     instance of the snapshot).
// Changes of documents the agent does not read (counters, operations, principals, DNS zones, ...)
// are skipped. Any other change (VNet, subnet, peering, workload NIC, transit record, LB, PLS,
// PaaS instance or the PaaS address record) means a full read. The endpoints whose inputs changed
// are re-read (document, NIC, record) in one read transaction and joined as model::parseNetwork
// joins them, so the followed snapshot equals a fresh parse of the store at the revision it
// reports (the revision of the last change it applied; documents read may be newer, which the
// next pass covers).
//
// IncrementalCompiler: the HostPlan of the last pass and, for each private endpoint, the plan
// items it contributed (items whose owners name it, and its failure). rebuild() compiles the
// whole snapshot (compile()) and indexes it against a compile of the *context* (the snapshot
// without endpoints and endpoint NICs). update() recompiles only the affected endpoints, one at a
// time, as compile(context + that endpoint and its NIC), takes the items that name the endpoint
// as its contribution, and patches the plan: the result equals compile() of the whole snapshot
// (tests/unit/agent/incremental_test.cc checks this over random sequences). Items several
// endpoints share are allowed only where compile() aggregates them (policy-routing rules and
// routes outside the main table, whose owners are the sorted union of the endpoints'); any other
// overlap (an endpoint item that a context item or another endpoint also plans, an item the
// endpoint causes without owning it) makes update() return false, and the caller rebuild()s.
// Not thread-safe (the agent thread owns them).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/compile.h"
#include "agent/host_plan.h"
#include "common/status.h"
#include "model/network.h"
#include "store/store.h"

namespace privlink::agent {

// True for the NIC of a private endpoint that is in no backend pool (compile() realises it only
// through its endpoint).
bool isEndpointNic(const model::Nic& nic);

class SnapshotCache {
 public:
  // Takes a snapshot parsed from a full read (model::parseNetwork) as the new base.
  void reset(model::NetworkSnapshot snapshot);
  bool valid() const { return valid_; }
  void invalidate() { valid_ = false; }
  const model::NetworkSnapshot& snapshot() const { return snapshot_; }

  // Applies the changes after snapshot().revision (at most `limit` of them). Returns the keys of
  // the private endpoints whose inputs changed (empty: only documents the agent does not read
  // changed), or nullopt when there is no change at all (the cache stays valid: a pass without a
  // store change is meant to be a full one) or the changes cannot be followed (see above; the
  // cache is then invalid). Fails only when the store cannot be read (the cache is then invalid
  // too).
  Result<std::optional<std::set<std::string>>> follow(store::Store& store, size_t limit);

 private:
  enum class Kind { kIrrelevant, kStructural, kEndpoint, kNic, kRecord };
  Kind classify(const std::string& key, const std::string& type) const;
  bool recordVisible(const std::string& key, const std::string& type) const;
  void unindex(const model::PrivateEndpoint& pe);
  void index(const model::PrivateEndpoint& pe);

  bool valid_ = false;
  model::NetworkSnapshot snapshot_;
  std::map<std::string, std::set<std::string>> by_nic_;         // NIC key -> endpoint keys
  std::map<std::string, std::set<std::string>> by_connection_;  // record key -> endpoint keys
};

// Which map of a HostPlan an item is in.
enum class PlanPart : uint8_t {
  kNamespace,
  kLink,
  kAddress,
  kRoute,
  kSysctl,
  kNftTable,
  kFile,
  kNftElement,
  kProbe,
  kRule,
  kProxyEndpoint,
  kFastEndpoint,
  kFailure,
};

// What an update() changed, as two partial plans in the HostPlan's maps: `removed` holds the old
// value of every item that left the plan or changed, `added` the new value of every item that
// entered it or changed (items whose owners alone changed are in neither).
struct PlanChanges {
  HostPlan removed;
  HostPlan added;
  bool empty() const;
};

class IncrementalCompiler {
 public:
  // Compiles the whole snapshot and (with `indexed`, else see indexPlan()) indexes the
  // endpoints' items. Returns the plan.
  const HostPlan& rebuild(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                          const ProbeHealth& health, bool indexed = true);
  // The indexing half of rebuild(), for a plan rebuild(..., false) compiled from `snapshot`.
  void indexPlan(const model::NetworkSnapshot& snapshot, const CompileOptions& options,
                 const ProbeHealth& health);
  // Recompiles the endpoints in `affected` (keys; absent from the snapshot = deleted) against
  // `snapshot`, whose context must be the one of the last rebuild() and health the same. Returns
  // false when it cannot (then the plan is unusable until rebuild()); else `changes` says what
  // changed.
  bool update(const model::NetworkSnapshot& snapshot, const std::set<std::string>& affected,
              const CompileOptions& options, const ProbeHealth& health, PlanChanges& changes);
  // False until rebuild(), after a failed update(), and after a rebuild() whose plan has overlaps
  // update() cannot patch (every pass then rebuilds).
  bool usable() const { return usable_; }
  const HostPlan& plan() const { return plan_; }

 private:
  struct Contribution {
    PlanPart part;
    std::string key;
    std::vector<std::string> owners;  // shared items: what this endpoint adds to the owners
  };
  // Shared items only (uses_); any other endpoint item belongs to exactly one endpoint.
  struct Use {
    int count = 0;                      // endpoints contributing the item
    std::map<std::string, int> owners;  // owner -> contributions naming it
  };
  using ItemId = std::pair<PlanPart, std::string>;

  void index(const model::NetworkSnapshot& snapshot);
  void remove(const std::string& endpointKey, PlanChanges& changes);
  bool add(const std::string& endpointKey, HostPlan& mini, PlanChanges& changes);

  bool usable_ = false;
  HostPlan plan_;
  model::NetworkSnapshot context_;  // the snapshot without endpoints and endpoint NICs
  HostPlan context_plan_;
  std::unordered_map<std::string, std::vector<Contribution>> by_endpoint_;
  std::map<ItemId, Use> uses_;
};

// "" when the plans are equal (every map, owners included, and the failures); else the first
// difference, for tests and logs.
std::string planDifference(const HostPlan& a, const HostPlan& b);

}  // namespace privlink::agent
