#pragma once
// Prober: runs the load balancers' health probes (DESIGN.md §1) for the Agent. One background
// thread; every probe socket is created inside the probe's VNet namespace (NamespaceGuard, only
// around socket()) and is non-blocking; probes that are due run one after another, each bounded
// by min(interval, 1 s), so a silent backend delays the others by at most that.
//   Tcp:  a connect() that completes within the timeout is a success.
//   Http: connect, send "GET <path> HTTP/1.0", success iff the status line says 200.
// A backend changes state after `threshold` consecutive opposite results; it starts healthy.
// When any state changes, `onChange` runs (on the prober thread) so the agent recompiles and
// moves only the affected hash buckets (compile.h rendezvous hashing).
//
// Thread-safety: setTargets() and health() may be called from any thread.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "agent/compile.h"
#include "agent/host_plan.h"

namespace privlink::agent {

class Prober {
 public:
  // `interval`, when nonzero, replaces every probe's intervalInSeconds (tests).
  explicit Prober(std::function<void()> onChange,
                  std::chrono::milliseconds interval = std::chrono::milliseconds{0});
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Replaces the probe set (by probeTargetKey); results of kept targets are kept.
  void setTargets(const std::map<std::string, PlannedProbe>& probes);
  // Current health of every target that has a state (all targets, once set).
  ProbeHealth health() const;
  // When each target's last probe finished (targets not probed yet are absent).
  std::map<std::string, std::chrono::steady_clock::time_point> lastProbed() const;

 private:
  struct Target {
    PlannedProbe probe;
    bool healthy = true;
    int streak = 0;  // consecutive results opposite to `healthy`
    std::chrono::steady_clock::time_point due{};
    std::chrono::steady_clock::time_point probed{};  // last probe finished; epoch: never
  };
  void loop();
  // Runs one probe to completion or timeout; true = success. Called without the lock.
  bool runProbe(const PlannedProbe& probe, std::chrono::milliseconds timeout) const;

  std::function<void()> on_change_;
  std::chrono::milliseconds interval_override_;
  mutable std::mutex mutex_;
  std::map<std::string, Target> targets_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace privlink::agent
