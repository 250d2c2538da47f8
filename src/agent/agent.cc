#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <set>

#include "agent/fast_path.h"
#include "agent/paas_documents.h"
#include "model/network.h"
#include "model/transit.h"

namespace privlink::agent {
namespace {

constexpr std::chrono::milliseconds kStopPoll{100};
// Changes an incremental pass reads from the feed at most (the rest wait for the next pass), and
// affected endpoints above which a full pass is cheaper (each is compiled with the context).
constexpr size_t kFollowLimit = 4096;
constexpr size_t kMaxIncrementalEndpoints = 128;

// Moves the bodies: a deep copy of every document's JSON each pass is O(N) for nothing.
std::vector<model::SourceDocument> toSource(std::vector<store::Document>&& docs) {
  std::vector<model::SourceDocument> out;
  out.reserve(docs.size());
  for (store::Document& d : docs) {
    out.push_back({std::move(d.key), std::move(d.id), std::move(d.type), std::move(d.body)});
  }
  return out;
}

}  // namespace

Agent::Agent(store::Store& store, control::ProvisioningTracker& tracker,
             std::unique_ptr<dataplane::Kernel> kernel, AgentOptions options)
    : store_(store),
      tracker_(tracker),
      kernel_(std::move(kernel)),
      options_(std::move(options)),
      compile_options_{model::HostNaming(options_.namePrefix), options_.transitRange},
      applier_(*kernel_, model::HostNaming(options_.namePrefix)),
      proxy_(std::make_unique<proxy::SpliceProxy>()),
      counters_(store_, model::HostNaming(options_.namePrefix),
                CounterPublisherOptions{options_.realiserName, options_.countersInterval}) {}

Agent::~Agent() { stop(); }

void Agent::start() {
  if (thread_.joinable()) return;
  tracker_.addRealiser(options_.realiserName, 0);
  stopping_ = false;
  prober_ = std::make_unique<Prober>(
      [this] {
        ++health_version_;
        health_changed_ = true;
      },
      options_.probeInterval);
  Status proxyStarted = proxy_->start();
  if (!proxyStarted.ok()) {
    spdlog::error("agent: the PROXY protocol proxy did not start: {}", proxyStarted.toString());
  }
  thread_ = std::thread([this] { loop(); });
}

void Agent::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  prober_.reset();
  proxy_->stop();  // resets the proxied connections; listeners close
  proxy_maps_.clear();
  proxy_listeners_.clear();
}

ProbeHealth Agent::currentHealth() const { return prober_ ? prober_->health() : ProbeHealth{}; }

ProbeHealth Agent::probeHealth() const { return currentHealth(); }

bool Agent::waitForHealthyBackends(const std::vector<std::string>& targets,
                                   std::chrono::milliseconds timeout) const {
  const auto since = std::chrono::steady_clock::now();
  const auto deadline = since + timeout;
  auto ready = [&] {
    if (!prober_ || realised_version_ != health_version_.load()) return false;
    const ProbeHealth health = prober_->health();
    const auto probed = prober_->lastProbed();
    for (const std::string& target : targets) {
      auto h = health.find(target);
      auto p = probed.find(target);
      if (h == health.end() || !h->second || p == probed.end() || p->second <= since) {
        return false;
      }
    }
    return true;
  };
  std::unique_lock<std::mutex> lock(realised_mutex_);
  while (!ready()) {
    // Passes notify; probes do not, so look again at least every 50 ms.
    if (std::chrono::steady_clock::now() >= deadline) return false;
    realised_changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return true;
}

void Agent::loop() {
  while (!stopping_) {
    auto pass = runOnce();
    int64_t revision = 0;
    auto wait = options_.resyncInterval;
    if (!pass.ok()) {
      spdlog::warn("agent: pass failed: {}", pass.status().toString());
      wait = options_.retryInterval;
    } else {
      revision = pass->revision;
      if (!pass->failures.empty()) wait = options_.retryInterval;
    }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
      if (health_changed_.exchange(false)) break;
      const auto now = std::chrono::system_clock::now();
      if (counters_.due(now)) {
        auto round = counters_.publish(*kernel_, now);
        if (!round.ok()) spdlog::warn("agent: publishing counters: {}", round.status().toString());
      }
      if (pass.ok() && store_.waitForChange(revision, kStopPoll) > revision) {
        // Counter documents need no pass: report them applied and keep waiting.
        const int64_t through = control::countersOnlyThrough(store_, revision);
        if (through == revision) break;
        tracker_.report(options_.realiserName, through, pass->failures);
        revision = through;
      }
      if (!pass.ok()) std::this_thread::sleep_for(kStopPoll);
    }
  }
}

Result<PassResult> Agent::runOnce() {
  // Wall time per phase, for PassResult::phaseMs.
  std::vector<std::pair<std::string, double>> phases;
  auto phaseStart = std::chrono::steady_clock::now();
  auto phase = [&](const char* name) {
    const auto t = std::chrono::steady_clock::now();
    phases.emplace_back(name, std::chrono::duration<double, std::milli>(t - phaseStart).count());
    phaseStart = t;
  };
  Status transit = ensureTransitAddresses();
  if (!transit.ok()) {
    // Not fatal: VNets without an address report it; the next pass retries.
    spdlog::warn("agent: allocating transit addresses: {}", transit.toString());
  }
  phase("transit");
  const uint64_t healthVersion = health_version_.load();  // before the health it versions
  const ProbeHealth health = currentHealth();
  // Incremental when only endpoint inputs changed since the last pass (see the class comment).
  const auto now = std::chrono::steady_clock::now();
  std::optional<std::set<std::string>> affected;
  if (options_.incremental && snapshot_cache_.valid() && compiler_.usable() && last_pass_clean_ &&
      healthVersion == compiled_health_version_ &&
      now - last_full_pass_ < options_.resyncInterval) {
    ASSIGN_OR_RETURN(affected, snapshot_cache_.follow(store_, kFollowLimit));
    if (affected && affected->size() > kMaxIncrementalEndpoints) affected.reset();
  }
  phase("follow");
  PlanChanges changes;
  const bool incremental =
      affected && compiler_.update(snapshot_cache_.snapshot(), *affected, compile_options_, health,
                                   changes);
  phase(incremental ? "compile" : "failed update");
  if (!incremental) {
    if (!affected) {  // else the followed snapshot is current; only the plan must be rebuilt
      ASSIGN_OR_RETURN(model::NetworkSnapshot fresh, readSnapshot());
      snapshot_cache_.reset(std::move(fresh));
    }
    phase("snapshot");
    compiler_.rebuild(snapshot_cache_.snapshot(), compile_options_, health, /*indexed=*/false);
    phase("compile");
    if (options_.incremental) {
      compiler_.indexPlan(snapshot_cache_.snapshot(), compile_options_, health);
      phase("index");
    }
    compiled_health_version_ = healthVersion;
    last_full_pass_ = now;
  }
  const model::NetworkSnapshot& snapshot = snapshot_cache_.snapshot();
  const HostPlan& plan = compiler_.plan();

  PassResult result;
  result.revision = snapshot.revision;
  result.incremental = incremental;
  withdrawProxyEndpoints(plan);
  const model::HostNaming naming(options_.namePrefix);
  // The fast path follows plan.fastEndpoints alone: an incremental pass that leaves them as they
  // were (and the last pass left the kernel clean) has nothing to do there.
  const bool fastPathUnchanged = incremental && changes.removed.fastEndpoints.empty() &&
                                 changes.added.fastEndpoints.empty();
  ApplyResult withdrawn;  // fast path entries of endpoints that leave it, before the nft changes
  phase("proxy withdraw");
  const HostPlan* removed = incremental ? &changes.removed : nullptr;
  const HostPlan* added = incremental ? &changes.added : nullptr;
  if (!fastPathUnchanged) fast_path_.withdraw(*kernel_, plan, removed, added, naming, withdrawn);
  phase("fast path withdraw");
  result.apply = incremental ? applier_.applyChanges(plan, changes.removed, changes.added)
                             : applier_.apply(plan);
  phase("apply");
  if (!fastPathUnchanged) fast_path_.apply(*kernel_, plan, removed, added, naming, result.apply);
  phase("fast path");
  mergeApplyResult(std::move(withdrawn), result.apply);
  last_pass_clean_ = result.apply.failures.empty() && result.apply.unowned.empty();
  result.failures = snapshot.failures;
  for (const auto& [key, status] : plan.failures) result.failures.emplace(key, status);
  for (const auto& [key, status] : result.apply.failures) result.failures.emplace(key, status);
  if (incremental) {
    counters_.patchTargets(snapshot, result.failures, *affected);
  } else {
    counters_.setTargetsOf(snapshot, result.failures);
  }
  publishProxyEndpoints(plan, result.apply, result.failures);
  // Probe once the namespaces and links exist (a probe into a namespace still being made fails
  // and would take a healthy backend out of rotation for a probe interval).
  if (prober_) prober_->setTargets(plan.probes);
  {
    std::lock_guard<std::mutex> lock(realised_mutex_);
    realised_version_ = healthVersion;
  }
  realised_changed_.notify_all();

  for (const std::string& stepText : result.apply.steps) spdlog::debug("agent: {}", stepText);
  for (const Status& s : result.apply.unowned) spdlog::warn("agent: {}", s.toString());
  for (const auto& [key, status] : result.failures) {
    spdlog::warn("agent: {}: {}", key, status.toString());
  }
  if (result.apply.changes > 0) {
    spdlog::info("agent: revision {} applied with {} kernel changes, {} failures", result.revision,
                 result.apply.changes, result.failures.size());
  }
  tracker_.report(options_.realiserName, result.revision, result.failures);
  phase("counters, proxy, report");
  result.phaseMs = std::move(phases);
  return result;
}

namespace {

std::map<std::string, proxy::EndpointMap> proxyMapsOf(const HostPlan& plan) {
  std::map<std::string, proxy::EndpointMap> maps;
  for (const auto& [key, e] : plan.proxyEndpoints) {
    maps[e.ns][e.address] = proxy::EndpointTarget{e.upstream, e.linkId, e.direct};
  }
  return maps;
}

// True if connections made for `a` stay right under `b`: the same T_pe, LinkID, and direct
// namespace and NAT IP. Backends moving between buckets (health, pool changes) only steer new
// connections, as lb_dnat changes do on the NAT path, whose conntrack they do not flush.
bool sameRoute(const proxy::EndpointTarget& a, const proxy::EndpointTarget& b) {
  if (a.upstream != b.upstream || a.linkId != b.linkId ||
      a.direct.has_value() != b.direct.has_value()) {
    return false;
  }
  return !a.direct || (a.direct->ns == b.direct->ns && a.direct->source == b.direct->source);
}

}  // namespace

void Agent::withdrawProxyEndpoints(const HostPlan& plan) {
  const auto wanted = proxyMapsOf(plan);
  for (auto it = proxy_maps_.begin(); it != proxy_maps_.end();) {
    const std::string& ns = it->first;
    auto want = wanted.find(ns);
    if (want == wanted.end()) {
      // No proxied endpoint left here: the listener goes, its connections are reset.
      proxy_->removeNamespace(ns);
      proxy_listeners_.erase(ns);
      it = proxy_maps_.erase(it);
      continue;
    }
    proxy::EndpointMap kept;
    std::vector<IpAddress> gone;
    for (const auto& [address, target] : it->second) {
      auto w = want->second.find(address);
      if (w != want->second.end() && sameRoute(w->second, target)) {
        kept.emplace(address, target);
      } else {
        gone.push_back(address);
      }
    }
    if (!gone.empty()) {
      proxy_->setEndpoints(ns, kept);  // new connections to them are refused from now on
      for (const IpAddress& address : gone) {
        spdlog::info("agent: resetting proxied connections to {} in {}", address.toString(), ns);
        proxy_->resetEndpoint(ns, address);
      }
      it->second = std::move(kept);
    }
    ++it;
  }
}

void Agent::publishProxyEndpoints(const HostPlan& plan, const ApplyResult& applied,
                                  std::map<std::string, Status>& failures) {
  std::map<std::string, std::vector<std::string>> owners;  // by namespace
  for (const auto& [key, e] : plan.proxyEndpoints) {
    owners[e.ns].insert(owners[e.ns].end(), e.owners.begin(), e.owners.end());
  }
  for (auto& [ns, map] : proxyMapsOf(plan)) {
    if (applied.newNamespaces.count(ns) && proxy_listeners_.count(ns)) {
      proxy_->removeNamespace(ns);  // its listener was in the namespace that is gone
      proxy_listeners_.erase(ns);
      proxy_maps_.erase(ns);
    }
    if (!proxy_listeners_.count(ns)) {
      auto port = proxy_->addListener(ns, kProxyPort);
      if (!port.ok()) {
        const Status failure = Status::Internal(
            "opening the PROXY protocol listener on port " + std::to_string(kProxyPort) + " in " +
            ns + ": " + port.status().message());
        for (const std::string& key : owners[ns]) failures.emplace(key, failure);
        continue;
      }
      proxy_listeners_.insert(ns);
    }
    proxy_->setEndpoints(ns, map);
    proxy_maps_[ns] = std::move(map);
  }
}

Result<model::NetworkSnapshot> Agent::readSnapshot() {
  std::vector<model::SourceDocument> docs;
  int64_t revision = 0;
  RETURN_IF_ERROR(store_.read([&](store::ReadView& view) -> Status {
    revision = view.revision();
    for (std::string_view type :
         {model::kVirtualNetworkType, model::kSubnetType, model::kPeeringType,
          model::kNetworkInterfaceType, model::kTransitAddressType, model::kLoadBalancerType,
          model::kPrivateLinkServiceType, model::kPrivateEndpointType,
          model::kPlsConnectionType}) {
      ASSIGN_OR_RETURN(std::vector<store::Document> found, view.listType(type));
      auto source = toSource(std::move(found));
      docs.insert(docs.end(), std::make_move_iterator(source.begin()),
                  std::make_move_iterator(source.end()));
    }
    return appendPaasDocuments(view, docs);  // PaaS instances and their connection records
  }));
  return model::parseNetwork(docs, revision);
}

Status Agent::ensureTransitAddresses() {
  // Decides from a list of VNets and transit records what to put and erase; empty when current.
  struct Changes {
    std::map<std::string, IpAddress> put;  // vnet key -> address
    std::vector<std::string> erase;        // transit record keys
  };
  auto plan = [&](store::ReadView& view) -> Result<Changes> {
    ASSIGN_OR_RETURN(std::vector<store::Document> vnets, view.listType(model::kVirtualNetworkType));
    ASSIGN_OR_RETURN(std::vector<store::Document> records,
                     view.listType(model::kTransitAddressType));
    std::vector<std::string> keys;
    for (const auto& d : vnets) keys.push_back(model::normaliseKey(d.key));
    const std::set<std::string> live(keys.begin(), keys.end());
    std::map<std::string, IpAddress> existing;
    Changes changes;
    for (const auto& d : records) {
      auto parsed = model::parseTransit({d.key, d.id, d.type, d.body});
      const std::string expectedKey = model::normaliseKey(
          std::string(model::kTransitKeyPrefix) + (parsed.ok() ? parsed->first : std::string()));
      if (!parsed.ok() || !live.count(parsed->first) || expectedKey != d.key) {
        changes.erase.push_back(d.key);
        continue;
      }
      existing[parsed->first] = parsed->second;
    }
    for (const auto& [key, address] :
         model::allocateTransit(keys, existing, options_.transitRange)) {
      if (!address) continue;  // pool exhausted: the VNet reports it has no transit address
      auto it = existing.find(key);
      if (it == existing.end() || it->second != *address) changes.put[key] = *address;
    }
    return changes;
  };

  bool needed = false;
  RETURN_IF_ERROR(store_.read([&](store::ReadView& view) -> Status {
    ASSIGN_OR_RETURN(Changes changes, plan(view));
    needed = !changes.put.empty() || !changes.erase.empty();
    return Status::Ok();
  }));
  if (!needed) return Status::Ok();
  return store_.write([&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Changes changes, plan(tx));  // again: the world may have moved
    for (const std::string& key : changes.erase) {
      Status erased = tx.erase(key);
      if (!erased.ok() && erased.code() != StatusCode::kNotFound) return erased;
    }
    for (const auto& [vnetKey, address] : changes.put) {
      nlohmann::json body = {{"vnetKey", vnetKey}, {"address", address.toString()}};
      auto put = tx.put(std::string(model::kTransitKeyPrefix) + vnetKey, model::kTransitAddressType,
                        std::move(body));
      if (!put.ok()) return put.status();
    }
    return Status::Ok();
  });
}

Status Agent::cleanupAll(dataplane::Kernel& kernel, const std::string& namePrefix) {
  const model::HostNaming naming(namePrefix);
  Status namespaces = removeOwnedNamespaces(kernel, naming);
  Status pins = removeFastPathPins(kernel, naming);
  return namespaces.ok() ? pins : namespaces;
}

}  // namespace privlink::agent
