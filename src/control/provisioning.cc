#include "control/provisioning.h"

#include <algorithm>
#include <limits>

namespace privlink::control {

const char* provisioningStateName(ProvisioningState state) {
  switch (state) {
    case ProvisioningState::kSucceeded: return "Succeeded";
    case ProvisioningState::kUpdating: return "Updating";
    case ProvisioningState::kDeleting: return "Deleting";
    case ProvisioningState::kFailed: return "Failed";
  }
  return "Failed";
}

void ProvisioningTracker::addRealiser(const std::string& name, int64_t startRevision) {
  {
    std::lock_guard lock(mu_);
    Realiser& realiser = realisers_[name];
    realiser.applied = startRevision;
    realiser.failures.clear();
  }
  cv_.notify_all();
}

void ProvisioningTracker::report(const std::string& name, int64_t revision,
                                 std::map<std::string, Status> failures) {
  {
    std::lock_guard lock(mu_);
    Realiser& realiser = realisers_[name];
    // A realiser never un-applies; a stale report must not move it backwards.
    realiser.applied = std::max(realiser.applied, revision);
    realiser.failures.clear();
    for (auto& [key, status] : failures) {
      realiser.failures.emplace(key, std::make_pair(revision, std::move(status)));
    }
  }
  cv_.notify_all();
}

ProvisioningState ProvisioningTracker::stateOf(const std::string& key, int64_t revision) const {
  std::lock_guard lock(mu_);
  bool allApplied = true;
  for (const auto& [name, realiser] : realisers_) {
    auto it = realiser.failures.find(key);
    if (it != realiser.failures.end() && it->second.first >= revision) {
      return ProvisioningState::kFailed;
    }
    if (realiser.applied < revision) allApplied = false;
  }
  return allApplied ? ProvisioningState::kSucceeded : ProvisioningState::kUpdating;
}

std::optional<Status> ProvisioningTracker::failureOf(const std::string& key,
                                                     int64_t revision) const {
  std::lock_guard lock(mu_);
  for (const auto& [name, realiser] : realisers_) {
    auto it = realiser.failures.find(key);
    if (it != realiser.failures.end() && it->second.first >= revision) return it->second.second;
  }
  return std::nullopt;
}

int64_t ProvisioningTracker::appliedRevision() const {
  std::lock_guard lock(mu_);
  int64_t lowest = std::numeric_limits<int64_t>::max();
  for (const auto& [name, realiser] : realisers_) lowest = std::min(lowest, realiser.applied);
  return lowest;
}

bool ProvisioningTracker::waitApplied(int64_t revision, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    for (const auto& [name, realiser] : realisers_) {
      if (realiser.applied < revision) return false;
    }
    return true;
  });
}

}  // namespace privlink::control
