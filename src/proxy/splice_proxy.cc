#include "proxy/splice_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "proxy/proxy_protocol.h"

namespace privlink::proxy {

using dataplane::NamespaceGuard;
using dataplane::NetnsHandle;
using dataplane::UniqueFd;
using Clock = std::chrono::steady_clock;

namespace {

Status errnoStatus(const std::string& what, int err) {
  return Status::Internal(what + ": " + std::strerror(err));
}

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;
};

Endpoint fromSockaddr(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    e.address = IpAddress::v4(ntohl(sin->sin_addr.s_addr));
    e.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &sin6->sin6_addr, 16);
    e.address = IpAddress::v6(b);
    e.port = ntohs(sin6->sin6_port);
  }
  return e;
}

socklen_t toSockaddr(const IpAddress& a, uint16_t port, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (a.isV4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(a.v4Value());
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, a.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

constexpr int kOne = 1;

void setInt(int fd, int level, int opt, int value) {
  ::setsockopt(fd, level, opt, &value, sizeof(value));
}

// Makes close() send a RST instead of a FIN.
void armReset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

// Epoll tags: low 2 bits say what the fd is, the rest the connection or listener id.
constexpr uint64_t kTagClient = 0;
constexpr uint64_t kTagUpstream = 1;
constexpr uint64_t kTagListener = 2;
constexpr uint64_t kTagWake = 3;

}  // namespace

// One direction: src socket -> (pipe | buffer) -> dst socket.
struct Flow {
  UniqueFd pipeRead;  // kSplice
  UniqueFd pipeWrite;
  // kCopy: bytes [head, head + inPipe) of `buffer` wait for dst; the buffer comes from the loop's
  // pool only while bytes wait.
  std::unique_ptr<uint8_t[]> buffer;
  std::size_t head = 0;
  std::size_t inPipe = 0;    // bytes in the pipe / buffer
  bool pipeFull = false;     // kSplice: splice into the pipe hit EAGAIN with bytes in it
  bool srcEof = false;       // read 0 from src
  bool dstShut = false;      // shutdown(dst, SHUT_WR) done
  bool bulk = false;         // kHybrid: a read filled a whole buffer
  bool spliced = false;      // kHybrid: moves through the pipe now
  uint64_t moved = 0;        // bytes delivered to dst
};

struct Connection {
  uint64_t id = 0;
  std::string ns;
  IpAddress endpoint;  // original destination address, the map key
  UniqueFd client;
  UniqueFd upstream;
  bool connecting = true;
  std::vector<uint8_t> header;
  std::size_t headerSent = 0;
  Flow toUpstream;  // client -> upstream
  Flow toClient;    // upstream -> client
  // Edge-triggered readiness: set by epoll events, cleared when a syscall says EAGAIN (or, for
  // reads, by a short read while the peer has not closed: a later arrival raises a new edge).
  bool clientReadable = false;
  bool clientWritable = false;
  bool upstreamReadable = false;
  bool upstreamWritable = false;
  bool clientHup = false;    // an event said the peer closed or failed: read to EOF/EAGAIN
  bool upstreamHup = false;
  bool queued = false;  // in Loop::again_ (its pump stopped at the budget, not at EAGAIN)
  Clock::time_point started;
  Clock::time_point lastActivity;
  bool headerDone() const { return !connecting && headerSent == header.size(); }
};

struct Listener {
  uint64_t id = 0;
  std::string ns;
  UniqueFd fd;
};

// What every loop reads: the endpoint maps and the namespaces that have listeners.
struct SpliceProxy::Shared {
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<const EndpointMap>> endpoints;
  std::map<std::string, std::shared_ptr<NetnsHandle>> listenerNs;
  // The namespaces of the maps' DirectUpstreams (reopened by setEndpoints).
  std::map<std::string, std::shared_ptr<NetnsHandle>> upstreamNs;

  std::shared_ptr<const EndpointMap> endpointsOf(const std::string& ns) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = endpoints.find(ns);
    return it == endpoints.end() ? nullptr : it->second;
  }
  std::shared_ptr<NetnsHandle> handleOf(const std::string& ns) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = listenerNs.find(ns);
    return it == listenerNs.end() ? nullptr : it->second;
  }
  std::shared_ptr<NetnsHandle> upstreamHandleOf(const std::string& ns) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = upstreamNs.find(ns);
    return it == upstreamNs.end() ? nullptr : it->second;
  }
  // Forgets the upstream namespaces no endpoint map names any more (mu held). True if one went.
  bool pruneUpstreamLocked() {
    std::set<std::string> named;
    for (const auto& [ns, map] : endpoints) {
      for (const auto& [address, target] : *map) {
        if (target.direct) named.insert(target.direct->ns);
      }
    }
    bool pruned = false;
    for (auto it = upstreamNs.begin(); it != upstreamNs.end();) {
      if (named.count(it->first)) {
        ++it;
      } else {
        it = upstreamNs.erase(it);
        pruned = true;
      }
    }
    return pruned;
  }
  // True if `handle` is still the handle of a listener or upstream namespace.
  bool isCurrent(const std::shared_ptr<NetnsHandle>& handle) const {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto* m : {&listenerNs, &upstreamNs}) {
      auto it = m->find(handle->name());
      if (it != m->end() && it->second == handle) return true;
    }
    return false;
  }
};

// One event loop: a thread, its epoll, its listeners and the connections they accepted.
class SpliceProxy::Loop {
 public:
  Loop(const SpliceProxyOptions& options, const Shared& shared)
      : options_(options),
        shared_(shared),
        capacity_(static_cast<std::size_t>(std::max(options.pipeCapacity, 4096))) {
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (epoll_.valid() && wake_.valid()) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kTagWake;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
    }
  }
  ~Loop() { stop(); }

  // Hands this loop its listening sockets of `ns` (registered on the loop's thread).
  void addListeners(const std::string& ns, std::vector<UniqueFd> fds) {
    auto shared = std::make_shared<std::vector<UniqueFd>>(std::move(fds));
    post([this, ns, shared] {
      for (auto& fd : *shared) {
        auto l = std::make_unique<Listener>();
        l->id = nextId_++;
        l->ns = ns;
        l->fd = std::move(fd);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = (l->id << 2) | kTagListener;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, l->fd.get(), &ev);
        listeners_.emplace(l->id, std::move(l));
      }
    });
  }

  // Closes the listeners and resets the connections of `ns` (loop thread).
  void dropNamespace(const std::string& ns) {
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      it = it->second->ns == ns ? listeners_.erase(it) : std::next(it);
    }
    std::vector<uint64_t> ids;
    for (const auto& [id, c] : conns_) {
      if (c->ns == ns) ids.push_back(id);
    }
    for (uint64_t id : ids) closeConnection(id, /*reset=*/true);
    if (current_ && current_->name() == ns) leaveNamespace();
  }

  // Leaves the namespace this thread is in if it is no longer a listener or upstream namespace
  // (removed, or deleted and recreated): the thread must not keep a deleted namespace alive.
  void leaveStaleNamespace() {
    if (current_ && !shared_.isCurrent(current_)) leaveNamespace();
  }
  void postLeaveStale() {
    post([this] { leaveStaleNamespace(); });
  }

  // Resets the connections of `ns` to `endpoint` (loop thread).
  void resetEndpoint(const std::string& ns, const IpAddress& endpoint) {
    std::vector<uint64_t> ids;
    for (const auto& [id, c] : conns_) {
      if (c->ns == ns && c->endpoint == endpoint) ids.push_back(id);
    }
    if (!ids.empty()) {
      std::lock_guard<std::mutex> lock(statsMu_);
      counters_.resets += ids.size();
    }
    for (uint64_t id : ids) closeConnection(id, /*reset=*/true);
  }

  // Runs `fn` on the loop thread (the returned future is ready once it ran), or, when the loop
  // is not running, right here after the commands queued so far (the loop-only state is then
  // free) and returns a ready future.
  std::future<void> submit(std::function<void()> fn) {
    std::lock_guard<std::mutex> life(lifecycle_);
    bool running = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      running = thread_.joinable();
    }
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    if (!running) {
      runCommands();
      fn();
      done->set_value();
      return finished;
    }
    post([fn = std::move(fn), done] {
      fn();
      done->set_value();
    });
    return finished;
  }

  Status start() {
    if (!epoll_.valid() || !wake_.valid()) return errnoStatus("epoll/eventfd", errno);
    std::lock_guard<std::mutex> life(lifecycle_);
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return Status::Conflict("ProxyRunning", "the proxy is already running");
    stopping_.store(false);
    thread_ = std::thread([this] { run(); });
    return Status::Ok();
  }

  // True if the loop was running.
  bool stop() {
    std::lock_guard<std::mutex> life(lifecycle_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) return false;
      stopping_.store(true, std::memory_order_release);
    }
    wake();
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    thread_ = std::thread();
    return true;
  }

  bool running() const {
    std::lock_guard<std::mutex> lock(mu_);
    return thread_.joinable();
  }

  SpliceProxyCounters counters() const {
    std::lock_guard<std::mutex> lock(statsMu_);
    return counters_;
  }
  void addEndpointCounters(
      std::map<std::pair<std::string, IpAddress>, EndpointCounters>* into) const {
    std::lock_guard<std::mutex> lock(statsMu_);
    for (const auto& [key, ec] : endpointCounters_) {
      auto& sum = (*into)[key];
      sum.connections += ec.connections;
      sum.upstreamConnectFailures += ec.upstreamConnectFailures;
      sum.bytesToUpstream += ec.bytesToUpstream;
      sum.bytesToClient += ec.bytesToClient;
    }
  }

 private:
  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof(one));
  }

  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(std::move(fn));
      hasCommands_.store(true, std::memory_order_release);
    }
    wake();
  }

  void runCommands() {
    if (!hasCommands_.load(std::memory_order_acquire)) return;
    std::deque<std::function<void()>> cmds;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cmds.swap(commands_);
      hasCommands_.store(false, std::memory_order_relaxed);
    }
    for (auto& fn : cmds) fn();
  }

  void run() {
    // splice() into a socket whose peer is gone raises SIGPIPE; keep it pending on this thread
    // instead of letting it kill the process.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    const auto tick = std::max<std::chrono::milliseconds>(
        std::chrono::milliseconds(10),
        std::min({options_.idleTimeout / 4, options_.connectTimeout / 4,
                  std::chrono::milliseconds(1000)}));
    auto nextSweep = Clock::now() + tick;
    std::vector<epoll_event> events(256);
    std::vector<uint64_t> again;
    for (;;) {
      runCommands();
      if (stopping_.load(std::memory_order_acquire)) break;
      const auto now = Clock::now();
      if (now >= nextSweep) {
        sweep();
        nextSweep = now + tick;
      }
      const int timeoutMs =
          !again_.empty()
              ? 0
              : static_cast<int>(std::max<int64_t>(
                    0, std::chrono::duration_cast<std::chrono::milliseconds>(nextSweep - now)
                               .count() +
                           1));
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                                 timeoutMs);
      if (n < 0 && errno != EINTR) break;
      now_ = Clock::now();  // lastActivity of what moves in this batch and in again_
      for (int i = 0; i < n; ++i) {
        const uint64_t tag = events[i].data.u64 & 3;
        const uint64_t id = events[i].data.u64 >> 2;
        if (tag == kTagWake) {
          uint64_t v;
          [[maybe_unused]] auto r = ::read(wake_.get(), &v, sizeof(v));
        } else if (tag == kTagListener) {
          acceptAll(id);
        } else {
          onSocketEvent(id, tag, events[i].events);
        }
      }
      again.clear();
      again.swap(again_);
      for (uint64_t id : again) {
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        it->second->queued = false;
        pump(*it->second);
      }
    }
    std::vector<uint64_t> ids;
    for (const auto& [id, c] : conns_) ids.push_back(id);
    for (uint64_t id : ids) closeConnection(id, /*reset=*/true);
    listeners_.clear();
    again_.clear();
    leaveNamespace();
  }

  // Moves this thread into the namespace of `handle` (staying there until another namespace is
  // needed, or that one is removed).
  Status enterNamespace(const std::shared_ptr<NetnsHandle>& handle) {
    if (!handle) return Status::NotFound("NamespaceNotFound", "the namespace is gone");
    if (inNs_ && current_ == handle) return Status::Ok();
    leaveNamespace();
    ASSIGN_OR_RETURN(auto guard, NamespaceGuard::enter(*handle));
    inNs_.emplace(std::move(guard));
    current_ = handle;
    return Status::Ok();
  }
  void leaveNamespace() {
    inNs_.reset();
    current_.reset();
  }

  // The bucket of a connection from `from` to `to` among `n` (FNV-1a over both addresses and
  // ports, then murmur3's finaliser: FNV's low bits follow the parity of the bytes, and
  // connect() picks ports of one parity; a client's connections spread as the NAT path's jhash
  // spreads them).
  static std::size_t bucketOf(const Endpoint& from, const Endpoint& to, std::size_t n) {
    uint32_t h = 2166136261u;
    auto mix = [&h](const uint8_t* p, std::size_t len) {
      for (std::size_t i = 0; i < len; ++i) h = (h ^ p[i]) * 16777619u;
    };
    for (const Endpoint* e : {&from, &to}) {
      const auto bytes = e->address.bytes();
      mix(bytes.data(), bytes.size());
      const uint8_t port[2] = {static_cast<uint8_t>(e->port >> 8),
                               static_cast<uint8_t>(e->port & 0xff)};
      mix(port, 2);
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h % n;
  }

  // Opens the upstream socket and starts its connect: in the provider namespace, from the NAT
  // IP to a backend of the endpoint port's buckets, when `target` has a DirectUpstream whose
  // namespace is open (*direct = true; a port without buckets fails), else in `ns` to T_pe.
  UniqueFd connectUpstream(const std::string& ns, const EndpointTarget& target,
                           const Endpoint& from, const Endpoint& to, bool* direct) {
    *direct = false;
    sockaddr_storage dst;
    socklen_t dstLen = 0;
    std::optional<sockaddr_storage> src;
    socklen_t srcLen = 0;
    std::shared_ptr<NetnsHandle> handle;
    if (target.direct) {
      handle = shared_.upstreamHandleOf(target.direct->ns);
      if (handle) {
        *direct = true;
        auto b = target.direct->buckets.find(to.port);
        if (b == target.direct->buckets.end() || b->second.empty()) return UniqueFd();
        const UpstreamBackend& backend = b->second[bucketOf(from, to, b->second.size())];
        dstLen = toSockaddr(backend.address, backend.port, &dst);
        src.emplace();
        srcLen = toSockaddr(target.direct->source, 0, &*src);
      }
    }
    if (!handle) {
      handle = shared_.handleOf(ns);
      dstLen = toSockaddr(target.upstream, to.port, &dst);
    }
    if (!enterNamespace(handle).ok()) return UniqueFd();
    UniqueFd fd(dataplane::moveAboveSelectRange(
        ::socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
    if (!fd.valid()) return fd;
    setInt(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    if (src) {
      // The port is chosen at connect() by the whole 4-tuple, not reserved by bind().
      setInt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
      if (src->ss_family != dst.ss_family ||
          ::bind(fd.get(), reinterpret_cast<sockaddr*>(&*src), srcLen) != 0) {
        return UniqueFd();
      }
    }
    const int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&dst), dstLen);
    if (rc != 0 && errno != EINPROGRESS) return UniqueFd();
    return fd;
  }

  void acceptAll(uint64_t listenerId) {
    auto lit = listeners_.find(listenerId);
    if (lit == listeners_.end()) return;
    Listener& l = *lit->second;
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage peer;
      socklen_t plen = sizeof(peer);
      UniqueFd fd(dataplane::moveAboveSelectRange(::accept4(
          l.fd.get(), reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC)));
      if (!fd.valid()) return;  // EAGAIN, or EMFILE etc.: retried on the next event
      sockaddr_storage local;
      socklen_t llen = sizeof(local);
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &llen);
      onAccepted(l.ns, std::move(fd), fromSockaddr(peer), fromSockaddr(local));
    }
  }

  void onAccepted(const std::string& ns, UniqueFd client, const Endpoint& from,
                  const Endpoint& to) {
    const std::shared_ptr<const EndpointMap> map = shared_.endpointsOf(ns);
    const EndpointTarget* target = nullptr;
    if (map) {
      auto it = map->find(to.address);
      if (it != map->end()) target = &it->second;
    }
    if (!target) {
      armReset(client.get());
      std::lock_guard<std::mutex> lock(statsMu_);
      ++counters_.connectionsAccepted;
      ++counters_.unknownEndpoint;
      ++counters_.connectionsClosed;
      return;
    }
    auto header = encodeProxyHeader(
        ProxyHeader::tcp(from.address, from.port, to.address, to.port, target->linkId));
    UniqueFd upstream;
    bool direct = false;
    if (header.ok()) upstream = connectUpstream(ns, *target, from, to, &direct);
    if (!upstream.valid()) {
      armReset(client.get());
      std::lock_guard<std::mutex> lock(statsMu_);
      ++counters_.connectionsAccepted;
      ++counters_.upstreamConnectFailures;
      ++counters_.connectionsClosed;
      auto& ec = endpointCounters_[{ns, to.address}];
      ++ec.connections;
      ++ec.upstreamConnectFailures;
      return;
    }
    auto c = std::make_unique<Connection>();  // client: TCP_NODELAY from the listener
    c->id = nextId_++;
    c->ns = ns;
    c->endpoint = to.address;
    c->client = std::move(client);
    c->upstream = std::move(upstream);
    c->header = std::move(header).value();
    c->started = c->lastActivity = now_ = Clock::now();
    if (options_.mode == ProxyCopyMode::kSplice) {
      for (Flow* f : {&c->toUpstream, &c->toClient}) {
        int p[2];
        if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
          armReset(c->client.get());
          std::lock_guard<std::mutex> lock(statsMu_);
          ++counters_.connectionsAccepted;
          ++counters_.resets;
          ++counters_.connectionsClosed;
          return;
        }
        f->pipeRead.reset(p[0]);
        f->pipeWrite.reset(p[1]);
        ::fcntl(p[1], F_SETPIPE_SZ, options_.pipeCapacity);
      }
    }
    // Edge-triggered, registered once: no epoll_ctl per state change.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (c->id << 2) | kTagClient;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->client.get(), &ev);
    ev.data.u64 = (c->id << 2) | kTagUpstream;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->upstream.get(), &ev);
    {
      std::lock_guard<std::mutex> lock(statsMu_);
      ++counters_.connectionsAccepted;
      ++counters_.connectionsActive;
      if (direct) ++counters_.directUpstreams;
      ++endpointCounters_[{ns, to.address}].connections;
    }
    conns_.emplace(c->id, std::move(c));
  }

  void onSocketEvent(uint64_t id, uint64_t tag, uint32_t events) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;  // closed earlier in this batch
    Connection& c = *it->second;
    const bool readable = events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
    const bool writable = events & (EPOLLOUT | EPOLLHUP | EPOLLERR);
    const bool hup = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
    if (tag == kTagClient) {
      c.clientReadable |= readable;
      c.clientWritable |= writable;
      c.clientHup |= hup;
    } else {
      c.upstreamReadable |= readable;
      c.upstreamWritable |= writable;
      c.upstreamHup |= hup;
    }
    if (c.connecting) {
      if (tag != kTagUpstream || !writable) return;
      if (hup) {  // EPOLLOUT alone means connected: ask for the error only when there may be one
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & EPOLLHUP)) {
          failConnect(id);
          return;
        }
      }
      c.connecting = false;
    }
    pump(c);
  }

  void failConnect(uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    {
      std::lock_guard<std::mutex> lock(statsMu_);
      ++counters_.upstreamConnectFailures;
      ++endpointCounters_[{it->second->ns, it->second->endpoint}].upstreamConnectFailures;
    }
    closeConnection(id, /*reset=*/true);
  }

  // A buffer of capacity_ bytes from the pool (or new).
  std::unique_ptr<uint8_t[]> takeBuffer() {
    if (pool_.empty()) return std::make_unique_for_overwrite<uint8_t[]>(capacity_);
    auto b = std::move(pool_.back());
    pool_.pop_back();
    return b;
  }
  void giveBack(Flow& f) {
    if (!f.buffer) return;
    if (pool_.size() < kPoolMax) pool_.push_back(std::move(f.buffer));
    f.buffer.reset();
    f.head = 0;
  }
  // Keeps bytes dst did not take: `data` is at most capacity_ bytes and f's buffer is empty.
  void stash(Flow& f, const uint8_t* data, std::size_t n) {
    if (!f.buffer) f.buffer = takeBuffer();
    std::memcpy(f.buffer.get(), data, n);
    f.head = 0;
    f.inPipe = n;
  }

  // Sends the rest of the PPv2 header, together with the client's first bytes when there are
  // some (kCopy/kHybrid): bytes waiting in the flow's buffer, or else what the client has sent
  // so far. The first attempt reads the client even without an event for it yet (the client
  // usually spoke while the upstream connect took its round trip). False on a socket error.
  bool sendHeader(Connection& c, bool* progress) {
    Flow& f = c.toUpstream;
    std::size_t fresh = 0;  // bytes read into scratch_ now
    if (options_.mode != ProxyCopyMode::kSplice && f.inPipe == 0 && !f.srcEof &&
        (c.clientReadable || c.headerSent == 0)) {
      const ssize_t n = ::recv(c.client.get(), scratch_.get(), capacity_, 0);
      if (n > 0) {
        fresh = static_cast<std::size_t>(n);
        if (fresh < capacity_ && !c.clientHup) c.clientReadable = false;
        *progress = true;
      } else if (n == 0) {
        f.srcEof = true;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.clientReadable = false;
      } else {
        return false;
      }
    }
    const std::size_t headerLeft = c.header.size() - c.headerSent;
    iovec iov[2];
    iov[0] = {c.header.data() + c.headerSent, headerLeft};
    int iovcnt = 1;
    if (fresh > 0) {
      iov[iovcnt++] = {scratch_.get(), fresh};
    } else if (f.inPipe > 0) {
      iov[iovcnt++] = {f.buffer.get() + f.head, f.inPipe};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
    const ssize_t n = ::sendmsg(c.upstream.get(), &msg, MSG_NOSIGNAL);
    std::size_t sent = 0;
    if (n > 0) {
      sent = static_cast<std::size_t>(n);
      *progress = true;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.upstreamWritable = false;
    } else {
      return false;
    }
    const std::size_t headerPart = std::min(sent, headerLeft);
    c.headerSent += headerPart;
    const std::size_t dataPart = sent - headerPart;
    f.moved += dataPart;
    if (fresh > 0) {
      if (dataPart < fresh) stash(f, scratch_.get() + dataPart, fresh - dataPart);
    } else if (dataPart > 0) {
      f.inPipe -= dataPart;
      f.head += dataPart;
      if (f.inPipe == 0) giveBack(f);
    }
    if (c.headerDone()) {
      std::lock_guard<std::mutex> lock(statsMu_);
      ++counters_.headersSent;
    }
    return true;
  }

  // Moves what can move without blocking, up to a budget per call so that one fast connection
  // cannot starve the others (a connection that hit the budget is queued in again_). Closes the
  // connection when both directions are finished or a side failed.
  void pump(Connection& c) {
    bool failed = false;
    bool progress = false;
    while (!failed && !c.headerDone() && c.upstreamWritable) failed = !sendHeader(c, &progress);
    bool more = false;
    if (!failed && c.headerDone()) {
      failed = !moveFlow(c.toUpstream, c.client.get(), c.clientReadable, c.clientHup,
                         c.upstream.get(), c.upstreamWritable, &progress, &more) ||
               !moveFlow(c.toClient, c.upstream.get(), c.upstreamReadable, c.upstreamHup,
                         c.client.get(), c.clientWritable, &progress, &more);
    }
    if (progress) c.lastActivity = now_;
    if (failed) {
      std::lock_guard<std::mutex> lock(statsMu_);
      ++counters_.resets;
    }
    if (failed || (c.toUpstream.dstShut && c.toClient.dstShut)) {
      closeConnection(c.id, failed);
      return;
    }
    if (more && !c.queued) {
      c.queued = true;
      again_.push_back(c.id);
    }
  }

  // One direction until it would block or the budget is spent (*more = true). False on a socket
  // error (the connection must go).
  bool moveFlow(Flow& f, int src, bool& srcReadable, bool srcHup, int dst, bool& dstWritable,
                bool* progress, bool* more) {
    if (options_.mode == ProxyCopyMode::kSplice || f.spliced) {
      return spliceFlow(f, src, srcReadable, dst, dstWritable, progress, more);
    }
    return copyFlow(f, src, srcReadable, srcHup, dst, dstWritable, progress, more);
  }

  // kHybrid: the flow turned out to be bulk and its buffer is empty: from now on it moves
  // through a pipe of its own (the buffer goes back to the pool). False if no pipe could be made.
  bool startSplice(Flow& f) {
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    f.pipeRead.reset(p[0]);
    f.pipeWrite.reset(p[1]);
    ::fcntl(p[1], F_SETPIPE_SZ, options_.pipeCapacity);
    giveBack(f);
    f.inPipe = 0;
    f.pipeFull = false;
    f.spliced = true;
    std::lock_guard<std::mutex> lock(statsMu_);
    ++counters_.bulkSwitches;
    return true;
  }

  // moveFlow through the flow's pipe with splice(2) (kSplice, or a bulk kHybrid flow).
  bool spliceFlow(Flow& f, int src, bool& srcReadable, int dst, bool& dstWritable,
                  bool* progress, bool* more) {
    for (int budget = 8; budget > 0; --budget) {
      bool moved = false;
      if (f.inPipe > 0 && dstWritable) {
        const ssize_t n = ::splice(f.pipeRead.get(), nullptr, dst, nullptr, f.inPipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          f.inPipe -= static_cast<std::size_t>(n);
          f.moved += static_cast<uint64_t>(n);
          f.pipeFull = false;
          moved = true;
        } else if (n < 0 && errno == EAGAIN) {
          dstWritable = false;
        } else {
          return false;
        }
      }
      if (!f.srcEof && !f.pipeFull && srcReadable) {
        const ssize_t n = ::splice(src, nullptr, f.pipeWrite.get(), nullptr,
                                   static_cast<std::size_t>(options_.pipeCapacity),
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          f.inPipe += static_cast<std::size_t>(n);
          moved = true;
        } else if (n == 0) {
          f.srcEof = true;
          moved = true;
        } else if (errno == EAGAIN) {
          // EAGAIN means src is empty or the pipe is full. An empty pipe cannot be full, so src
          // is drained; with bytes in the pipe, stop reading src until they drain
          // (backpressure) and retry then: if src was in fact empty, that read says so.
          if (f.inPipe > 0) {
            f.pipeFull = true;
          } else {
            srcReadable = false;
          }
        } else {
          return false;
        }
      }
      if (f.srcEof && f.inPipe == 0 && !f.dstShut) {
        ::shutdown(dst, SHUT_WR);
        f.dstShut = true;
        moved = true;
      }
      if (!moved) return true;
      *progress = true;
    }
    *more = true;
    return true;
  }

  // moveFlow with recv/send (kCopy, and kHybrid until a flow turns bulk). A flow without a
  // buffer (small exchanges) reads into the loop's scratch buffer and sends at once; when dst does not take everything,
  // the rest goes to a buffer of its own, which the flow then keeps until the connection ends
  // (bulk: it reads into that buffer's free space and sends from it, no second copy). src is
  // not read while that buffer is full (backpressure). A short read counts as "drained" (no
  // extra recv to see EAGAIN) unless an event said the peer closed: a later arrival raises a new
  // edge-triggered event.
  bool copyFlow(Flow& f, int src, bool& srcReadable, bool srcHup, int dst, bool& dstWritable,
                bool* progress, bool* more) {
    for (int budget = 8; budget > 0; --budget) {
      if (f.bulk && f.inPipe == 0 && !f.srcEof && options_.mode == ProxyCopyMode::kHybrid) {
        if (startSplice(f)) {
          return spliceFlow(f, src, srcReadable, dst, dstWritable, progress, more);
        }
        f.bulk = false;  // no pipe (fd limit): keep copying
      }
      bool moved = false;
      if (f.inPipe > 0 && dstWritable) {
        const ssize_t n = ::send(dst, f.buffer.get() + f.head, f.inPipe, MSG_NOSIGNAL);
        if (n > 0) {
          f.inPipe -= static_cast<std::size_t>(n);
          f.head = f.inPipe == 0 ? 0 : f.head + static_cast<std::size_t>(n);
          f.moved += static_cast<uint64_t>(n);
          moved = true;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          dstWritable = false;
        } else {
          return false;
        }
      }
      if (f.buffer) {
        const std::size_t space = capacity_ - f.head - f.inPipe;
        if (!f.srcEof && srcReadable && space > 0) {
          const ssize_t n = ::recv(src, f.buffer.get() + f.head + f.inPipe, space, 0);
          if (n > 0) {
            f.inPipe += static_cast<std::size_t>(n);
            if (static_cast<std::size_t>(n) < space && !srcHup) srcReadable = false;
            if (static_cast<std::size_t>(n) == capacity_) f.bulk = true;
            moved = true;
          } else if (n == 0) {
            f.srcEof = true;
            moved = true;
          } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            srcReadable = false;
          } else {
            return false;
          }
        }
      } else if (!f.srcEof && srcReadable) {
        const ssize_t n = ::recv(src, scratch_.get(), capacity_, 0);
        if (n > 0) {
          const auto got = static_cast<std::size_t>(n);
          if (got < capacity_ && !srcHup) srcReadable = false;
          if (got == capacity_) f.bulk = true;
          moved = true;
          std::size_t sent = 0;
          if (dstWritable) {
            const ssize_t w = ::send(dst, scratch_.get(), got, MSG_NOSIGNAL);
            if (w > 0) {
              sent = static_cast<std::size_t>(w);
              f.moved += sent;
            } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
              dstWritable = false;
            } else {
              return false;
            }
          }
          if (sent < got) stash(f, scratch_.get() + sent, got - sent);
        } else if (n == 0) {
          f.srcEof = true;
          moved = true;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
          srcReadable = false;
        } else {
          return false;
        }
      }
      if (f.srcEof && f.inPipe == 0 && !f.dstShut) {
        ::shutdown(dst, SHUT_WR);
        f.dstShut = true;
        moved = true;
      }
      if (!moved) return true;
      *progress = true;
    }
    *more = true;
    return true;
  }

  void closeConnection(uint64_t id, bool reset) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Connection& c = *it->second;
    if (reset) {
      armReset(c.client.get());
      armReset(c.upstream.get());
    }
    {
      std::lock_guard<std::mutex> lock(statsMu_);
      --counters_.connectionsActive;
      ++counters_.connectionsClosed;
      counters_.bytesToUpstream += c.toUpstream.moved;
      counters_.bytesToClient += c.toClient.moved;
      auto& ec = endpointCounters_[{c.ns, c.endpoint}];
      ec.bytesToUpstream += c.toUpstream.moved;
      ec.bytesToClient += c.toClient.moved;
    }
    giveBack(c.toUpstream);
    giveBack(c.toClient);
    conns_.erase(it);  // closing the fds removes them from epoll
  }

  void sweep() {
    const auto now = Clock::now();
    std::vector<std::pair<uint64_t, bool>> expired;  // id, connect timeout
    for (const auto& [id, c] : conns_) {
      if (c->connecting && now - c->started >= options_.connectTimeout) {
        expired.emplace_back(id, true);
      } else if (now - c->lastActivity >= options_.idleTimeout) {
        expired.emplace_back(id, false);
      }
    }
    for (const auto& [id, connect] : expired) {
      if (connect) {
        failConnect(id);
      } else {
        {
          std::lock_guard<std::mutex> lock(statsMu_);
          ++counters_.idleTimeouts;
        }
        closeConnection(id, /*reset=*/true);
      }
    }
  }

  static constexpr std::size_t kPoolMax = 64;  // idle buffers kept per loop

  const SpliceProxyOptions options_;
  const Shared& shared_;
  const std::size_t capacity_;  // kCopy buffer size
  UniqueFd epoll_;
  UniqueFd wake_;
  std::thread thread_;

  // Serialises start()/stop() with submit(), which runs loop-only code inline while stopped.
  std::mutex lifecycle_;
  mutable std::mutex mu_;  // guards commands_ and thread_
  std::atomic<bool> stopping_{false};
  std::deque<std::function<void()>> commands_;
  std::atomic<bool> hasCommands_{false};

  mutable std::mutex statsMu_;  // guards the counters (written by the loop, read by anyone)
  SpliceProxyCounters counters_;
  std::map<std::pair<std::string, IpAddress>, EndpointCounters> endpointCounters_;

  // Loop thread only.
  uint64_t nextId_ = 1;
  Clock::time_point now_ = Clock::now();  // taken once per epoll batch
  std::unique_ptr<uint8_t[]> scratch_ = std::make_unique_for_overwrite<uint8_t[]>(capacity_);
  std::vector<std::unique_ptr<uint8_t[]>> pool_;
  std::unordered_map<uint64_t, std::unique_ptr<Listener>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::vector<uint64_t> again_;
  std::optional<NamespaceGuard> inNs_;
  std::shared_ptr<NetnsHandle> current_;  // the namespace this thread is in (inNs_)
};

namespace {

int resolveThreads(int requested) {
  if (requested > 0) return std::min(requested, 64);
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = 0;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(n, 1, 64);
}

}  // namespace

SpliceProxy::SpliceProxy(SpliceProxyOptions options)
    : options_(options), shared_(std::make_shared<Shared>()) {
  options_.threads = resolveThreads(options_.threads);
  for (int i = 0; i < options_.threads; ++i) {
    loops_.push_back(std::make_unique<Loop>(options_, *shared_));
  }
}
SpliceProxy::~SpliceProxy() { stop(); }

Result<uint16_t> SpliceProxy::addListener(const std::string& ns, uint16_t port) {
  RETURN_IF_ERROR(dataplane::validateNamespaceName(ns));
  if (shared_->handleOf(ns)) {
    return Status::AlreadyExists("ProxyListenerExists",
                                 "the PROXY protocol listener of namespace " + ns +
                                     " already exists; call removeNamespace first");
  }
  ASSIGN_OR_RETURN(auto handle, NetnsHandle::open(ns));
  const std::size_t loops = loops_.size();
  std::vector<std::vector<UniqueFd>> fds(loops);  // per loop: its IPv4 and IPv6 listeners
  {
    ASSIGN_OR_RETURN(auto guard, NamespaceGuard::enter(handle));
    for (int family : {AF_INET, AF_INET6}) {
      for (std::size_t i = 0; i < loops; ++i) {
        UniqueFd fd = dataplane::moveAboveSelectRange(
            UniqueFd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
        if (!fd.valid()) {
          if (family == AF_INET6 && errno == EAFNOSUPPORT) break;
          return errnoStatus("socket() for the proxy listener in " + ns, errno);
        }
        setInt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
        // Accepted sockets inherit TCP_NODELAY: no setsockopt per connection.
        setInt(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1);
        // One listener per loop on the same port: the kernel picks one per new connection.
        if (loops > 1) setInt(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1);
        int rc;
        if (family == AF_INET) {
          rc = ::setsockopt(fd.get(), SOL_IP, IP_TRANSPARENT, &kOne, sizeof(kOne));
        } else {
          setInt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1);
          rc = ::setsockopt(fd.get(), SOL_IPV6, IPV6_TRANSPARENT, &kOne, sizeof(kOne));
        }
        if (rc != 0) return errnoStatus("IP_TRANSPARENT on the proxy listener in " + ns, errno);
        sockaddr_storage ss;
        const socklen_t len =
            toSockaddr(family == AF_INET ? IpAddress() : IpAddress::v6({}), port, &ss);
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
          return errnoStatus("bind port " + std::to_string(port) + " for the proxy in " + ns,
                             errno);
        }
        if (::listen(fd.get(), options_.listenBacklog) != 0) {
          return errnoStatus("listen() in " + ns, errno);
        }
        if (port == 0) {
          sockaddr_storage bound;
          socklen_t blen = sizeof(bound);
          ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
          port = fromSockaddr(bound).port;
        }
        fds[i].push_back(std::move(fd));
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->listenerNs.count(ns)) {
      return Status::AlreadyExists("ProxyListenerExists",
                                   "the PROXY protocol listener of namespace " + ns +
                                       " already exists");
    }
    shared_->listenerNs.insert({ns, std::make_shared<NetnsHandle>(std::move(handle))});
  }
  for (std::size_t i = 0; i < loops; ++i) loops_[i]->addListeners(ns, std::move(fds[i]));
  return port;
}

void SpliceProxy::setEndpoints(const std::string& ns, EndpointMap endpoints) {
  // Open the direct upstream namespaces outside the lock (a recreated namespace gets a new
  // handle; an unchanged one keeps its handle, so loops inside it stay there).
  std::map<std::string, std::shared_ptr<NetnsHandle>> opened;
  for (const auto& [address, target] : endpoints) {
    if (!target.direct || opened.count(target.direct->ns)) continue;
    auto handle = NetnsHandle::open(target.direct->ns);
    opened[target.direct->ns] =
        handle.ok() ? std::make_shared<NetnsHandle>(std::move(handle).value()) : nullptr;
  }
  auto map = std::make_shared<const EndpointMap>(std::move(endpoints));
  bool dropped = false;  // a handle went or was replaced: loops must not stay in it
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->endpoints[ns] = std::move(map);
    for (auto& [name, handle] : opened) {
      auto it = shared_->upstreamNs.find(name);
      if (it != shared_->upstreamNs.end() && handle && it->second->device() == handle->device() &&
          it->second->inode() == handle->inode()) {
        continue;
      }
      if (it != shared_->upstreamNs.end()) dropped = true;
      if (handle) {
        shared_->upstreamNs[name] = handle;
      } else if (it != shared_->upstreamNs.end()) {
        shared_->upstreamNs.erase(it);
      }
    }
    dropped = shared_->pruneUpstreamLocked() || dropped;
  }
  if (dropped) {
    for (auto& loop : loops_) {
      Loop* l = loop.get();
      l->postLeaveStale();
    }
  }
}

namespace {

// Waits for every future, at most ~5 s in all.
void waitAll(std::vector<std::future<void>>& done) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  for (auto& f : done) f.wait_until(deadline);
}

}  // namespace

void SpliceProxy::removeNamespace(const std::string& ns) {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->endpoints.erase(ns);
    shared_->listenerNs.erase(ns);
    shared_->pruneUpstreamLocked();
  }
  std::vector<std::future<void>> done;
  for (auto& loop : loops_) {
    Loop* l = loop.get();
    done.push_back(l->submit([l, ns] {
      l->dropNamespace(ns);
      l->leaveStaleNamespace();
    }));
  }
  waitAll(done);
}

void SpliceProxy::resetEndpoint(const std::string& ns, const IpAddress& endpoint) {
  std::vector<std::future<void>> done;
  for (auto& loop : loops_) {
    Loop* l = loop.get();
    done.push_back(l->submit([l, ns, endpoint] { l->resetEndpoint(ns, endpoint); }));
  }
  waitAll(done);
}

Status SpliceProxy::start() {
  std::lock_guard<std::mutex> life(lifecycle_);
  for (auto& loop : loops_) {
    if (loop->running()) return Status::Conflict("ProxyRunning", "the proxy is already running");
  }
  for (auto& loop : loops_) {
    Status st = loop->start();
    if (!st.ok()) {
      for (auto& l : loops_) l->stop();
      return st;
    }
  }
  return Status::Ok();
}

void SpliceProxy::stop() {
  std::lock_guard<std::mutex> life(lifecycle_);
  bool wasRunning = false;
  for (auto& loop : loops_) wasRunning = loop->stop() || wasRunning;
  if (wasRunning) {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->listenerNs.clear();  // listeners are closed: addListener may open them again
  }
}

int SpliceProxy::loopCount() const { return static_cast<int>(loops_.size()); }

SpliceProxyCounters SpliceProxy::counters() const {
  SpliceProxyCounters sum;
  for (const auto& c : loopCounters()) {
    sum.connectionsAccepted += c.connectionsAccepted;
    sum.connectionsActive += c.connectionsActive;
    sum.connectionsClosed += c.connectionsClosed;
    sum.unknownEndpoint += c.unknownEndpoint;
    sum.upstreamConnectFailures += c.upstreamConnectFailures;
    sum.idleTimeouts += c.idleTimeouts;
    sum.resets += c.resets;
    sum.bytesToUpstream += c.bytesToUpstream;
    sum.bytesToClient += c.bytesToClient;
    sum.headersSent += c.headersSent;
    sum.bulkSwitches += c.bulkSwitches;
    sum.directUpstreams += c.directUpstreams;
  }
  return sum;
}

std::vector<SpliceProxyCounters> SpliceProxy::loopCounters() const {
  std::vector<SpliceProxyCounters> out;
  for (const auto& loop : loops_) out.push_back(loop->counters());
  return out;
}

std::map<std::pair<std::string, IpAddress>, EndpointCounters> SpliceProxy::endpointCounters()
    const {
  std::map<std::pair<std::string, IpAddress>, EndpointCounters> out;
  for (const auto& loop : loops_) loop->addEndpointCounters(&out);
  return out;
}

}  // namespace privlink::proxy
