#pragma once
// CounterPublisher (issue #6 item 7): the agent's half of the resource counters. Every interval
// it reads, on this host, the traffic counters of every realised private endpoint
// (readEndpointCounters) and the NAT ports in use per NAT IP and protocol of every realised
// private link service (conntrack of the provider VNet namespace), and writes them to the store
// as control/resource_counters.h documents keyed by this host, where the API (in this process or
// another one sharing the store) serves them read-only on the resources.
//
// Store load: a document is written only when its values changed, or when its last write is
// older than `heartbeat` (so observedAt never lags more than that); documents of resources that
// are no longer realised here are erased. All writes of one round are one transaction. These
// writes are not changes the agent must realise: control::countersOnlyThrough() lets the agent
// loop (and the DNS responder) skip them instead of running a pass for each.
//
// A private link service's traffic values are the sums over the endpoints connected to it that
// this host realises (PLSBytesIn/Out); its natPorts rows come from countNatPortsInNamespace.
//
// Thread-safety: none; the agent thread (or a test) owns it and passes the Kernel it owns.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/status.h"
#include "control/resource_counters.h"
#include "dataplane/conntrack.h"
#include "dataplane/kernel.h"
#include "model/host_naming.h"
#include "model/network.h"
#include "store/store.h"

namespace privlink::agent {

// What one round reads: the resources the last pass realised.
struct CounterTargets {
  struct Endpoint {
    std::string key;  // store key of the private endpoint
    std::string id;
    std::string consumerVnetKey;
    std::string targetKey;  // its private link service (or PaaS resource)
    uint32_t linkIdentifier = 0;
  };
  struct Service {
    std::string key;  // store key of the private link service
    std::string id;
    // NAT IPs by the VNet (key) whose namespace source-NATs to them.
    std::map<std::string, std::vector<IpAddress>> natAddressesByVnet;
  };
  std::vector<Endpoint> endpoints;
  std::vector<Service> services;
  bool operator==(const CounterTargets& other) const;
};

// The endpoints and private link services of `snapshot` that have no entry in `failures` (what
// the pass could not realise) and whose subnets exist.
CounterTargets counterTargetsOf(const model::NetworkSnapshot& snapshot,
                                const std::map<std::string, Status>& failures);

// Reads NAT port usage in a namespace; the default is dataplane::countNatPortsInNamespace.
// NotFound when the namespace does not exist (not realised yet).
using NatPortReader = std::function<Result<std::vector<dataplane::NatPortUsage>>(
    const std::string& ns, const std::vector<IpAddress>& natAddresses)>;

struct CounterPublisherOptions {
  std::string host = "agent";  // the realiser name: one document per resource and host
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds heartbeat{60000};
};

// What one round did (for tests and logs).
struct CounterRound {
  int written = 0;  // documents put
  int erased = 0;   // documents of resources no longer realised here
  int skipped = 0;  // targets without counters yet (NotFound) or whose read failed
};

class CounterPublisher {
 public:
  CounterPublisher(store::Store& store, model::HostNaming naming, CounterPublisherOptions options,
                   NatPortReader natPorts = {});

  // Replaces what the next rounds read.
  void setTargets(CounterTargets targets);
  const CounterTargets& targets() const { return targets_; }
  // setTargets(counterTargetsOf(snapshot, failures)), remembering which keys failed.
  void setTargetsOf(const model::NetworkSnapshot& snapshot,
                    const std::map<std::string, Status>& failures);
  // The same result for a snapshot that differs from the one of the last setTargetsOf/
  // patchTargets only in the private endpoints `changed` (keys; an incremental pass's): only
  // those endpoints, and those whose entry in `failures` appeared or went since, are recomputed;
  // the services always (they are few). O((changed + failures) log N + services) plus moving the
  // endpoint vector's tail. Without an earlier setTargetsOf it is setTargetsOf.
  void patchTargets(const model::NetworkSnapshot& snapshot,
                    const std::map<std::string, Status>& failures,
                    const std::set<std::string>& changed);
  // True when `interval` has passed since the last round began (or none ran yet). Rounds run on
  // the agent thread, so a slow round (many endpoints: one table listing each) spaces the next
  // ones out: at least 4 x the last round's duration, keeping publishing under ~20 % of the
  // thread.
  bool due(std::chrono::system_clock::time_point now) const;
  // One round at `now` (observedAt). Fails only when the store cannot be read or written;
  // kernel read failures skip the resource (its last document stays) and are logged.
  Result<CounterRound> publish(dataplane::Kernel& kernel,
                               std::chrono::system_clock::time_point now);

 private:
  struct Published {
    control::CounterSnapshot snapshot;
    std::chrono::system_clock::time_point at;
  };
  store::Store& store_;
  model::HostNaming naming_;
  CounterPublisherOptions options_;
  NatPortReader nat_ports_;
  CounterTargets targets_;
  bool targets_changed_ = true;  // look for stale documents in the store on the next round
  std::optional<std::set<std::string>> failed_;  // failure keys of the last setTargetsOf/patch
  std::optional<std::chrono::system_clock::time_point> last_round_;
  std::chrono::steady_clock::duration last_duration_{0};
  std::map<std::string, Published> published_;  // by counters key
};

// RFC 3339 UTC with milliseconds, e.g. "2026-11-29T16:54:18.123Z".
std::string rfc3339Millis(std::chrono::system_clock::time_point t);

}  // namespace privlink::agent
