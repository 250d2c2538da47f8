#pragma once
// SpliceProxy: the PROXY-protocol-v2 TCP proxy of private endpoints whose private link service has
// enableProxyProtocol (DESIGN.md §2). In each consumer VNet namespace, nftables TPROXY hands the
// endpoint's TCP connections to an IP_TRANSPARENT listener of this proxy; for each connection the
// proxy connects, from inside the same namespace, to the endpoint's upstream (its transit address
// T_pe, same port as the original destination), writes a PPv2 header first (source = the client's
// address and port, destination = the endpoint's address and port, TLV EE 00 05 01 <LinkID LE>),
// then moves bytes both ways: recv/send (kCopy), splice(2) through one pipe per direction
// (kSplice, zero copy), or recv/send until a direction turns bulk and splice then (kHybrid,
// default; see ProxyCopyMode). Copying reads into the loop's scratch buffer and sends at once;
// once the destination does not take everything, that direction gets a buffer of its own
// (`pipeCapacity` bytes, from the loop's pool, kept until the connection ends) and reads into
// it and sends from it. The header is sent together with the client's first bytes when they
// are already there (one segment). With EndpointTarget::direct the upstream connection is opened
// in the provider VNet namespace instead, from the PLS NAT IP straight to a load-balanced backend
// (same header, same source address at the backend; see DirectUpstream).
//
// Per connection: memory is bounded by two buffers/pipes of `pipeCapacity` bytes (plus the
// kernel's socket buffers; an idle kCopy/kHybrid connection holds none); a side is not read
// while bytes from it wait for the other side (backpressure); a FIN from one side becomes
// shutdown(SHUT_WR) on the other once its pipe has drained (half-close); a reset or error
// on one side resets the other; a connection with no bytes moving for `idleTimeout` is reset on
// both sides; a client whose destination is not in the namespace's endpoint map, or whose upstream
// refuses or does not answer within `connectTimeout`, is reset. Each connection holds 6 fds
// (kSplice), 2 (kCopy), or 2 plus 2 per bulk direction (kHybrid).
//
// Threading: `threads` event loops (default: one per CPU this process may run on), each a thread
// with its own epoll. Every loop has its own listener per namespace and family, all bound to the
// same port with SO_REUSEPORT (when there is more than one loop), so the kernel spreads new
// connections over the loops by a hash of the 4-tuple (TPROXY's socket lookup included); a
// connection lives on the loop that accepted it, from accept to close, and no lock is taken
// on its byte path. All public methods are thread-safe and may be called before or after start().
// The proxy's sockets are created in their namespace with dataplane::NamespaceGuard (listeners
// on the calling thread, upstream sockets on the loop's thread, which stays in the last namespace
// it needed until no listener or map names that namespace any more). Requires CAP_NET_ADMIN (IP_TRANSPARENT) and CAP_SYS_ADMIN (setns).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/ip.h"
#include "common/status.h"

namespace privlink::proxy {

// One backend of a load-balancing rule.
struct UpstreamBackend {
  IpAddress address{};
  uint16_t port = 0;
  bool operator==(const UpstreamBackend&) const = default;
};

// The upstream connection opened where only privlinkd can open it: inside the provider VNet
// namespace `ns`, bound to `source` (the PLS NAT IP, a local address there), straight to a
// backend of the load balancer - what the T_pe path reaches after the consumer's NAT, the
// backbone and the provider's DNAT/SNAT, without crossing them. The backend sees the same
// source (the NAT IP) and the same PPv2 header. `buckets`: by the endpoint port (a TCP rule's
// frontend port), the rule's hash buckets, each the backend that bucket goes to (the agent's
// lb_dnat elements: healthy backends only, rendezvous-hashed); the proxy picks a bucket by a hash
// of the client's address and port. A port without buckets (no rule, or no healthy backend) is
// refused (the client gets a RST), as the NAT path refuses it.
struct DirectUpstream {
  std::string ns;
  IpAddress source{};
  std::map<uint16_t, std::vector<UpstreamBackend>> buckets;
  bool operator==(const DirectUpstream&) const = default;
};

// Where the connections to one private endpoint address go.
struct EndpointTarget {
  IpAddress upstream{};  // T_pe: connected to on the original destination port
  uint32_t linkId = 0;   // the connection's linkIdentifier, sent in the Azure TLV
  // When set and its namespace exists, connections go there instead of to `upstream` (if the
  // namespace cannot be opened, they take the T_pe path).
  std::optional<DirectUpstream> direct;
  bool operator==(const EndpointTarget&) const = default;
};
// Private endpoint address (the original destination) -> target, for one namespace.
using EndpointMap = std::map<IpAddress, EndpointTarget>;

// How bytes move: splice(2) through a pipe per direction (zero copy), or recv/send through a
// buffer per direction (one copy in, one copy out), or kHybrid: recv/send while the messages are
// small (a 64-byte round trip costs recv + send, against splice in + splice out through a pipe)
// and, for a direction once one read fills a whole `pipeCapacity` buffer, splice(2) from then on
// (bulk moves without copies). kHybrid is the default.
enum class ProxyCopyMode { kSplice, kCopy, kHybrid };

struct SpliceProxyOptions {
  ProxyCopyMode mode = ProxyCopyMode::kHybrid;
  std::chrono::milliseconds idleTimeout{std::chrono::minutes(4)};  // Azure LB's TCP idle default
  std::chrono::milliseconds connectTimeout{std::chrono::seconds(10)};
  // Bytes buffered per direction per connection (kSplice: the pipe size, rounded up to pages by
  // the kernel; kCopy: the buffer size; kHybrid: both).
  int pipeCapacity = 64 * 1024;
  int listenBacklog = 4096;  // per loop's listener
  // Event-loop threads; 0 = the number of CPUs in this process's affinity mask (at most 64).
  int threads = 0;
};

struct SpliceProxyCounters {
  uint64_t connectionsAccepted = 0;
  uint64_t connectionsActive = 0;
  uint64_t connectionsClosed = 0;        // every end: normal, reset, timeout, failure
  uint64_t unknownEndpoint = 0;          // destination not in the map: client reset
  uint64_t upstreamConnectFailures = 0;  // refused, unreachable or connect timeout
  uint64_t idleTimeouts = 0;
  uint64_t resets = 0;                   // a side reset or failed mid-stream
  uint64_t bytesToUpstream = 0;          // payload, PPv2 header excluded
  uint64_t bytesToClient = 0;
  uint64_t headersSent = 0;
  uint64_t bulkSwitches = 0;             // kHybrid: directions that went from copying to splice
  uint64_t directUpstreams = 0;          // upstream connections opened in a provider namespace
};

// Per (namespace, endpoint address). Bytes are added when a connection closes.
struct EndpointCounters {
  uint64_t connections = 0;
  uint64_t upstreamConnectFailures = 0;
  uint64_t bytesToUpstream = 0;
  uint64_t bytesToClient = 0;
  bool operator==(const EndpointCounters&) const = default;
};

class SpliceProxy {
 public:
  explicit SpliceProxy(SpliceProxyOptions options = {});
  ~SpliceProxy();  // stop()s
  SpliceProxy(const SpliceProxy&) = delete;
  SpliceProxy& operator=(const SpliceProxy&) = delete;

  // Opens IP_TRANSPARENT listeners (IPv4 0.0.0.0:port and IPv6 [::]:port, v6-only) inside the
  // persistent namespace `ns`; port 0 picks a free port. Returns the bound port. NotFound if `ns`
  // does not exist, AlreadyExists if `ns` already has a listener, Internal with the errno for
  // socket errors (EADDRINUSE, EPERM without CAP_NET_ADMIN).
  Result<uint16_t> addListener(const std::string& ns, uint16_t port);
  // Replaces the endpoint map of `ns` atomically: connections accepted afterwards use the new map;
  // established connections are not touched. Allowed before addListener. Opens the namespaces
  // of the map's DirectUpstreams again (a recreated namespace is followed; one that does not
  // exist is skipped: its endpoints take the T_pe path until a later call finds it).
  void setEndpoints(const std::string& ns, EndpointMap endpoints);
  // Closes the listeners and resets every connection of `ns`, forgets its map and handle. Returns
  // once the listeners are closed (at most ~5 s while the loop runs), so the port is free again.
  void removeNamespace(const std::string& ns);
  // Resets (RST to both sides) every established connection of `ns` whose original destination
  // is `endpoint`, e.g. after the endpoint was rejected or removed (counted in `resets`). When
  // the loop runs, returns once they are closed (at most ~5 s); connections accepted later use
  // the map of the time (remove the endpoint with setEndpoints first).
  void resetEndpoint(const std::string& ns, const IpAddress& endpoint);

  // Starts the event-loop threads. Internal if epoll/eventfd cannot be created; Conflict if
  // already running.
  Status start();
  // Stops the loops, resets every connection, closes every listener. Idempotent.
  void stop();

  // The number of event loops (options.threads resolved), fixed at construction.
  int loopCount() const;
  // Sum over the loops.
  SpliceProxyCounters counters() const;
  // One entry per loop, in loop order (which loop accepted what).
  std::vector<SpliceProxyCounters> loopCounters() const;
  std::map<std::pair<std::string, IpAddress>, EndpointCounters> endpointCounters() const;

 private:
  class Loop;
  struct Shared;
  SpliceProxyOptions options_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::mutex lifecycle_;  // serialises start()/stop()
};

}  // namespace privlink::proxy
