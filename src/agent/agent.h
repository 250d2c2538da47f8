#pragma once
// Agent: the realiser that turns the store into kernel state on this host (DESIGN.md §3; a role
// of privlinkd, on by default).
//
// A background thread loops: make sure every VNet has a transit address (model/transit.h; a
// write transaction of the agent's own, only when one is missing or stale), read the network at
// revision R in one read transaction, compile() it, apply the plan (Applier), then
// ProvisioningTracker::report(realiserName, R, failures) and wait for the next change after R.
// Bursts coalesce: the next pass reads the newest revision. The loop is level-triggered: it also
// resyncs every resyncInterval, and retries after retryInterval when a pass had failures.
// failures holds, by store key: documents that could not be parsed (InvalidResourceDocument),
// resources that cannot be realised (InvalidResourceReference), and kernel steps that failed
// (InternalServerError, message naming the step).
//
// Load balancer health probes (HostPlan::probes) run on a Prober while the thread runs; a
// changed result wakes the loop, whose next compile moves only the affected hash buckets.
//
// PROXY protocol v2 (HostPlan::proxyEndpoints): the agent owns a proxy::SpliceProxy, running
// while the thread runs. Every pass, before applying, endpoints that leave a namespace's map (or
// change target) are removed from it and their proxied connections reset (both sides get a RST,
// like the conntrack flush of the NAT path), and namespaces left without proxied endpoints lose
// their listener; after applying, each namespace with proxied endpoints gets its listener on
// kProxyPort (again when the applier recreated the namespace) and its new map. A listener that
// cannot be opened is a failure of the endpoints of that namespace.
//
// Resource counters (issue #6 item 7): while the thread runs, a CounterPublisher writes the
// counters of what the last pass realised to the store every countersInterval (only changed
// ones); store changes that are only counter documents are reported applied without a pass.
//
// Incremental passes (issue #6 item 9; agent/incremental.h): the agent keeps the parsed snapshot
// and the plan of the last pass. When the store changes after it touch only endpoint inputs
// (private endpoint documents, their NICs, connection records), a pass follows the change feed,
// re-reads and recompiles only the affected endpoints, and applies only what changed in the plan
// (Applier::applyChanges, against remembered kernel state), so its cost depends on the change,
// not on how many endpoints exist. Every other pass is a full one (read and parse every document,
// compile, list the kernel and diff): the first, any pass after a change to anything else (VNets,
// subnets, LBs, PLSs, PaaS, ...) or a gap in the change feed, a pass with no store change (the
// resync timer, a retry, a probe health change, runOnce() called again), passes after a failed
// kernel step, and at least one every resyncInterval while changes keep coming.
//
// On start (and every full pass) it converges whatever the kernel holds: creates what is missing,
// deletes owned objects nothing wants (resources deleted while privlinkd was down), and touches
// nothing that matches, so established connections survive kill -9 and a restart.
//
// Thread-safety: start()/stop() from one thread. runOnce() is for tests and tools and must not
// run while the thread is started. The destructor stops the thread; it never removes kernel
// state (that is cleanupAll()).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/applier.h"
#include "agent/compile.h"
#include "agent/counter_publisher.h"
#include "agent/fast_path.h"
#include "agent/incremental.h"
#include "agent/prober.h"
#include "common/ip.h"
#include "common/status.h"
#include "control/provisioning.h"
#include "dataplane/kernel.h"
#include "proxy/splice_proxy.h"
#include "store/store.h"

namespace privlink::agent {

struct AgentOptions {
  // Prefix of every namespace the agent owns ("pl": plv-…, pln-…, plbb, plinet). Tests use a
  // unique one ("t<pid>") so they never collide with each other or a running privlinkd.
  std::string namePrefix = "pl";
  // Name under which the agent reports to the ProvisioningTracker.
  std::string realiserName = "agent";
  IpPrefix transitRange = IpPrefix::parse("100.64.0.0/10").value();
  std::chrono::milliseconds retryInterval{1000};
  std::chrono::milliseconds resyncInterval{30000};
  // When nonzero, every health probe runs at this interval instead of its intervalInSeconds
  // (Azure's minimum is 5 s; tests use less).
  std::chrono::milliseconds probeInterval{0};
  // Resource counters (agent/counter_publisher.h): how often the running thread publishes them.
  std::chrono::milliseconds countersInterval{5000};
  // Incremental passes when only endpoint inputs changed (see Agent); false makes every pass a
  // full one (benchmarks compare the two).
  bool incremental = true;
};

struct PassResult {
  int64_t revision = 0;                    // store revision the pass realised
  ApplyResult apply;                       // what the applier did
  std::map<std::string, Status> failures;  // everything reported to the tracker
  // The pass followed the change feed and recompiled only the affected endpoints (see below);
  // its apply was Applier::applyChanges (which may still have fallen back to a full apply).
  bool incremental = false;
  // Wall time of the pass's phases in order ("transit", "follow", "snapshot", "compile",
  // "apply", "fast path", ...), for benchmarks and logs.
  std::vector<std::pair<std::string, double>> phaseMs;
};

class Agent {
 public:
  Agent(store::Store& store, control::ProvisioningTracker& tracker,
        std::unique_ptr<dataplane::Kernel> kernel, AgentOptions options = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Registers the realiser (nothing succeeds until its first report) and starts the thread.
  void start();
  // Stops and joins the thread (returns after at most one pass plus ~100 ms).
  void stop();

  // One synchronous pass (transit, snapshot, compile, apply, report). Fails only when the store
  // cannot be read; kernel problems are failures inside the result.
  Result<PassResult> runOnce();

  // Removes every kernel object privlink created under `namePrefix`, whatever the store says
  // (`privlinkd --cleanup`). Continues past errors and returns the first.
  static Status cleanupAll(dataplane::Kernel& kernel, const std::string& namePrefix = "pl");

  // Health of every probed backend (probeTargetKey -> healthy); empty until start() ran a pass.
  ProbeHealth probeHealth() const;
  // Waits until every one of `targets` (probeTargetKey) was probed after this call began, is
  // healthy, and the last completed pass compiled the latest health the prober reported (so the
  // backends' hash buckets are in the kernel); false after `timeout`. Needs start(). For tests
  // and tools that start a backend after the agent probed it: the probe's first failure takes
  // the backend out of rotation until a later probe succeeds and a pass moves its buckets back.
  bool waitForHealthyBackends(const std::vector<std::string>& targets,
                              std::chrono::milliseconds timeout) const;

  // The PROXY protocol v2 proxy's counters (all namespaces).
  proxy::SpliceProxyCounters proxyCounters() const { return proxy_->counters(); }

 private:
  void loop();
  Status ensureTransitAddresses();
  ProbeHealth currentHealth() const;
  Result<model::NetworkSnapshot> readSnapshot();
  // The proxy halves of a pass (see the class comment).
  void withdrawProxyEndpoints(const HostPlan& plan);
  void publishProxyEndpoints(const HostPlan& plan, const ApplyResult& applied,
                             std::map<std::string, Status>& failures);

  store::Store& store_;
  control::ProvisioningTracker& tracker_;
  std::unique_ptr<dataplane::Kernel> kernel_;
  AgentOptions options_;
  CompileOptions compile_options_;
  Applier applier_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> health_changed_{false};
  // Health versions: bumped by every prober change; the version the last completed pass
  // compiled with (waitForHealthyBackends).
  std::atomic<uint64_t> health_version_{0};
  mutable std::mutex realised_mutex_;
  mutable std::condition_variable realised_changed_;
  uint64_t realised_version_ = 0;
  // Runs the health probes while the thread runs (created by start(); runOnce() alone never
  // probes, so unit tests on the fake kernel see every backend healthy).
  std::unique_ptr<Prober> prober_;
  // Created with the agent; its loop runs from start() to stop(). The maps and listeners below
  // are what it was given (agent thread, or runOnce's caller, only).
  std::unique_ptr<proxy::SpliceProxy> proxy_;
  std::map<std::string, proxy::EndpointMap> proxy_maps_;  // by namespace
  std::set<std::string> proxy_listeners_;                 // namespaces with a listener
  // Publishes resource counters of what the last pass realised (agent thread only).
  CounterPublisher counters_;
  // The incremental pass (agent thread, or runOnce's caller, only): the followed snapshot, the
  // plan with its endpoint index, the probe health version it was compiled with and when the
  // last full pass ran.
  SnapshotCache snapshot_cache_;
  IncrementalCompiler compiler_;
  FastPathState fast_path_;  // what the fast path wrote, for delta passes
  uint64_t compiled_health_version_ = 0;
  bool last_pass_clean_ = false;  // no failed kernel step, no unowned leftover
  std::chrono::steady_clock::time_point last_full_pass_{};
  std::thread thread_;
};

}  // namespace privlink::agent
