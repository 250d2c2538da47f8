#pragma once
// ProvisioningTracker: decides when a change is "Succeeded".
//
// A write commits at store revision R. Every *realiser* (a part that must act on changes, such as
// the data-plane agent) reports the highest revision it has fully applied, plus the keys it failed
// to realise (with the ARM error to show). For a document written at revision R:
//   Failed     if some realiser reports a failure for its key at a revision >= R,
//   Succeeded  if every realiser has applied a revision >= R (trivially, with no realisers),
//   Updating   otherwise.
// The provisioning state is therefore derived at read time, never written back to the store,
// and an operation id only needs (key, revision) to be answerable after a restart.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <condition_variable>

#include "common/status.h"

namespace privlink::control {

enum class ProvisioningState { kSucceeded, kUpdating, kDeleting, kFailed };
const char* provisioningStateName(ProvisioningState state);

class ProvisioningTracker {
 public:
  // Registers a realiser; until it reports, nothing newer than `startRevision` succeeds.
  void addRealiser(const std::string& name, int64_t startRevision = 0);
  // Realiser `name` has applied everything up to `revision`; `failures` maps store keys to the
  // error that stopped them (it replaces the realiser's previous failure set).
  void report(const std::string& name, int64_t revision, std::map<std::string, Status> failures);

  // State of a document last written at `revision`.
  ProvisioningState stateOf(const std::string& key, int64_t revision) const;
  // The failure for key at a revision >= `revision`, if any.
  std::optional<Status> failureOf(const std::string& key, int64_t revision) const;
  // Lowest revision every realiser has applied (INT64_MAX with none).
  int64_t appliedRevision() const;
  // Blocks until appliedRevision() >= revision or the timeout passes.
  bool waitApplied(int64_t revision, std::chrono::milliseconds timeout) const;

 private:
  struct Realiser {
    int64_t applied = 0;
    std::map<std::string, std::pair<int64_t, Status>> failures;  // key -> (revision, error)
  };
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Realiser> realisers_;
};

}  // namespace privlink::control
