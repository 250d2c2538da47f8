#pragma once
// Responder: the 168.63.129.16 resolver of every VNet on this host (DESIGN.md §1 resolver row), a
// role of privlinkd that runs beside the agent with the same name prefix.
//
// - A follower thread reads the store (snapshot, then waitForChange), computes model::dnsView for
//   every VNet and publishes the views as one immutable snapshot (an atomic pointer swap), so a
//   store change is served within one second (in practice within milliseconds).
// - An event-loop thread (epoll) owns every socket. For every VNet of the snapshot whose
//   namespace HostNaming(prefix).vnetNamespace(vnetKey) exists, it opens a UDP and a TCP socket
//   bound to 168.63.129.16:53 inside that namespace (NamespaceGuard; the sockets stay there),
//   retrying every socketRetry until the agent has made the namespace and put the address on its
//   lo (a socket bound before that would send its UDP replies from another address). A
//   namespace that disappears or is recreated (new inode) gets fresh sockets; a VNet that is
//   deleted loses them.
//   The querying VNet is the one whose socket received the query.
// - Queries are answered by dns::answerQuery; forwards go over UDP from the namespace the
//   Responder was started in (the daemon's) to the upstreams in order, each attempt waiting
//   forwardTimeout / upstreams; when all fail the client gets SERVFAIL.
// - TCP: 2-byte length framing, pipelined queries, at most maxTcpConnections connections, a
//   connection buffers at most one message in and kMaxTcpOutput bytes out and is closed after
//   tcpIdleTimeout without a complete query (slow or silent clients).
// Thread-safety: start()/stop() from one thread; the accessors from any thread. The destructor
// stops. Never touches kernel state other than its own sockets.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/ip.h"
#include "common/status.h"
#include "store/store.h"

namespace privlink::dns {

struct Upstream {
  IpAddress address;
  uint16_t port = 53;
  std::string toString() const;
};

// "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:5353".
Result<Upstream> parseUpstream(std::string_view text);
// The nameserver lines of a resolv.conf text (unparsable ones are skipped).
std::vector<Upstream> parseResolvConf(std::string_view text);

struct ResponderOptions {
  std::string namePrefix = "pl";  // the agent's HostNaming prefix
  // Upstream resolvers; when empty, the nameservers of resolvConfPath (read at start()).
  std::vector<Upstream> upstreams;
  std::string resolvConfPath = "/etc/resolv.conf";
  std::chrono::milliseconds forwardTimeout{2000};
  std::chrono::milliseconds socketRetry{1000};
  std::chrono::milliseconds tcpIdleTimeout{5000};
  size_t maxTcpConnections = 256;
  size_t maxPendingForwards = 1024;
  // Address and port served in each VNet namespace (tests may use another port).
  std::string listenAddress = "168.63.129.16";
  uint16_t listenPort = 53;
};

class Responder {
 public:
  explicit Responder(store::Store& store, ResponderOptions options = {});
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Starts both threads (the calling thread's namespace is the forwarding namespace). Internal
  // if epoll/eventfd cannot be created or the threads are already running.
  Status start();
  // Stops and joins both threads and closes every socket.
  void stop();

  // Namespaces with open sockets now, sorted.
  std::vector<std::string> servedNamespaces() const;
  // Store revision of the snapshot being served (0 before the first).
  int64_t servedRevision() const { return served_revision_.load(); }
  const std::vector<Upstream>& upstreams() const { return upstreams_; }

 private:
  struct Snapshot;
  class Loop;
  void follow();
  Result<std::shared_ptr<const Snapshot>> readSnapshot();

  store::Store& store_;
  ResponderOptions options_;
  std::vector<Upstream> upstreams_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> served_revision_{0};
  mutable std::mutex mutex_;  // guards snapshot_ and served_
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::string> served_;
  int wake_fd_ = -1;
  std::unique_ptr<Loop> loop_;
  std::thread follower_;
  std::thread io_;
};

}  // namespace privlink::dns
