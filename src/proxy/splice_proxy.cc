#include "proxy/splice_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <optional>
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

// One direction: src socket -> pipe -> dst socket.
struct Flow {
  UniqueFd pipeRead;  // kSplice
  UniqueFd pipeWrite;
  std::vector<uint8_t> buffer;  // kCopy: bytes [head, head + inPipe) are pending
  std::size_t head = 0;
  std::size_t inPipe = 0;    // bytes in the pipe
  bool pipeFull = false;     // splice into the pipe hit EAGAIN with bytes in it
  bool srcEof = false;       // read 0 from src
  bool dstShut = false;      // shutdown(dst, SHUT_WR) done
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
  // Edge-triggered readiness: set by epoll events, cleared when a syscall says EAGAIN.
  bool clientReadable = false;
  bool clientWritable = false;
  bool upstreamReadable = false;
  bool upstreamWritable = false;
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

class SpliceProxy::Loop {
 public:
  explicit Loop(const SpliceProxyOptions& options) : options_(options) {
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

  Result<uint16_t> addListener(const std::string& ns, uint16_t port) {
    RETURN_IF_ERROR(dataplane::validateNamespaceName(ns));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (listenerNs_.count(ns)) {
        return Status::AlreadyExists("ProxyListenerExists",
                                     "the PROXY protocol listener of namespace " + ns +
                                         " already exists; call removeNamespace first");
      }
    }
    ASSIGN_OR_RETURN(auto handle, NetnsHandle::open(ns));
    std::vector<UniqueFd> fds;
    {
      ASSIGN_OR_RETURN(auto guard, NamespaceGuard::enter(handle));
      for (int family : {AF_INET, AF_INET6}) {
        UniqueFd fd = dataplane::moveAboveSelectRange(
            UniqueFd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
        if (!fd.valid()) {
          if (family == AF_INET6 && errno == EAFNOSUPPORT) continue;
          return errnoStatus("socket() for the proxy listener in " + ns, errno);
        }
        setInt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
        int rc;
        if (family == AF_INET) {
          rc = ::setsockopt(fd.get(), SOL_IP, IP_TRANSPARENT, &kOne, sizeof(kOne));
        } else {
          setInt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1);
          rc = ::setsockopt(fd.get(), SOL_IPV6, IPV6_TRANSPARENT, &kOne, sizeof(kOne));
        }
        if (rc != 0) return errnoStatus("IP_TRANSPARENT on the proxy listener in " + ns, errno);
        sockaddr_storage ss;
        const socklen_t len = toSockaddr(
            family == AF_INET ? IpAddress() : IpAddress::v6({}), port, &ss);
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
        fds.push_back(std::move(fd));
      }
    }
    auto shared = std::make_shared<NetnsHandle>(std::move(handle));
    auto listenerFds = std::make_shared<std::vector<UniqueFd>>(std::move(fds));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (listenerNs_.count(ns)) {
        return Status::AlreadyExists("ProxyListenerExists",
                                     "the PROXY protocol listener of namespace " + ns +
                                         " already exists");
      }
      listenerNs_.insert({ns, shared});
    }
    post([this, ns, listenerFds] {
      for (auto& fd : *listenerFds) {
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
    return port;
  }

  void setEndpoints(const std::string& ns, EndpointMap endpoints) {
    auto map = std::make_shared<const EndpointMap>(std::move(endpoints));
    std::lock_guard<std::mutex> lock(mu_);
    endpoints_[ns] = std::move(map);
  }

  void removeNamespace(const std::string& ns) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      endpoints_.erase(ns);
      listenerNs_.erase(ns);
    }
    execute([this, ns] {
      for (auto it = listeners_.begin(); it != listeners_.end();) {
        it = it->second->ns == ns ? listeners_.erase(it) : std::next(it);
      }
      std::vector<uint64_t> ids;
      for (const auto& [id, c] : conns_) {
        if (c->ns == ns) ids.push_back(id);
      }
      for (uint64_t id : ids) closeConnection(id, /*reset=*/true);
      if (currentNs_ == ns) {
        inNs_.reset();
        currentNs_.clear();
      }
      nsHandles_.erase(ns);
    });
  }

  void resetEndpoint(const std::string& ns, const IpAddress& endpoint) {
    execute([this, ns, endpoint] {
      std::vector<uint64_t> ids;
      for (const auto& [id, c] : conns_) {
        if (c->ns == ns && c->endpoint == endpoint) ids.push_back(id);
      }
      if (!ids.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        counters_.resets += ids.size();
      }
      for (uint64_t id : ids) closeConnection(id, /*reset=*/true);
    });
  }

  // Runs `fn` on the loop thread and waits for it (at most 5 s), or, when the loop is not
  // running, right here after the commands queued so far (the loop-only state is then free).
  void execute(std::function<void()> fn) {
    std::unique_lock<std::mutex> life(lifecycle_);
    bool running = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      running = thread_.joinable();
    }
    if (!running) {
      runCommands();
      fn();
      return;
    }
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    post([fn = std::move(fn), done] {
      fn();
      done->set_value();
    });
    life.unlock();
    finished.wait_for(std::chrono::seconds(5));
  }

  Status start() {
    if (!epoll_.valid() || !wake_.valid()) return errnoStatus("epoll/eventfd", errno);
    std::lock_guard<std::mutex> life(lifecycle_);
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return Status::Conflict("ProxyRunning", "the proxy is already running");
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
    return Status::Ok();
  }

  void stop() {
    std::lock_guard<std::mutex> life(lifecycle_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) return;
      stopping_ = true;
    }
    wake();
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    thread_ = std::thread();
  }

  SpliceProxyCounters counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
  }
  std::map<std::pair<std::string, IpAddress>, EndpointCounters> endpointCounters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return endpointCounters_;
  }

 private:
  static constexpr int kOne = 1;

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof(one));
  }

  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(std::move(fn));
    }
    wake();
  }

  void runCommands() {
    std::deque<std::function<void()>> cmds;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cmds.swap(commands_);
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
    for (;;) {
      runCommands();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
      }
      const auto now = Clock::now();
      const int timeoutMs =
          !again_.empty()
              ? 0
              : static_cast<int>(std::max<int64_t>(
                    0, std::chrono::duration_cast<std::chrono::milliseconds>(nextSweep - now)
                           .count()));
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                                 timeoutMs);
      if (n < 0 && errno != EINTR) break;
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
      std::vector<uint64_t> again;
      again.swap(again_);
      for (uint64_t id : again) {
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        it->second->queued = false;
        pump(*it->second);
      }
      if (Clock::now() >= nextSweep) {
        sweep();
        nextSweep = Clock::now() + tick;
      }
    }
    std::vector<uint64_t> ids;
    for (const auto& [id, c] : conns_) ids.push_back(id);
    for (uint64_t id : ids) closeConnection(id, /*reset=*/true);
    listeners_.clear();
    again_.clear();
    inNs_.reset();
    currentNs_.clear();
    nsHandles_.clear();
    std::lock_guard<std::mutex> lock(mu_);
    listenerNs_.clear();  // listeners are closed: addListener may open them again
  }

  // Moves this thread into `ns` (staying there until another namespace is needed).
  Status enterNamespace(const std::string& ns) {
    if (currentNs_ == ns && inNs_) return Status::Ok();
    inNs_.reset();
    currentNs_.clear();
    auto it = nsHandles_.find(ns);
    if (it == nsHandles_.end()) {
      std::shared_ptr<NetnsHandle> handle;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto h = listenerNs_.find(ns);
        if (h != listenerNs_.end()) handle = h->second;
      }
      if (!handle) return Status::NotFound("NamespaceNotFound", "namespace " + ns + " is gone");
      it = nsHandles_.emplace(ns, std::move(handle)).first;
    }
    ASSIGN_OR_RETURN(auto guard, NamespaceGuard::enter(*it->second));
    inNs_.emplace(std::move(guard));
    currentNs_ = ns;
    return Status::Ok();
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
    std::shared_ptr<const EndpointMap> map;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.connectionsAccepted;
      auto it = endpoints_.find(ns);
      if (it != endpoints_.end()) map = it->second;
    }
    const EndpointTarget* target = nullptr;
    if (map) {
      auto it = map->find(to.address);
      if (it != map->end()) target = &it->second;
    }
    if (!target) {
      armReset(client.get());
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.unknownEndpoint;
      ++counters_.connectionsClosed;
      return;
    }
    auto header = encodeProxyHeader(
        ProxyHeader::tcp(from.address, from.port, to.address, to.port, target->linkId));
    UniqueFd upstream;
    bool connected = false;
    if (header.ok() && enterNamespace(ns).ok()) {
      sockaddr_storage ss;
      const socklen_t len = toSockaddr(target->upstream, to.port, &ss);
      upstream.reset(dataplane::moveAboveSelectRange(
          ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
      if (upstream.valid()) {
        setInt(upstream.get(), IPPROTO_TCP, TCP_NODELAY, 1);
        const int rc = ::connect(upstream.get(), reinterpret_cast<sockaddr*>(&ss), len);
        connected = rc == 0 || errno == EINPROGRESS;
      }
    }
    if (!connected) {
      armReset(client.get());
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.upstreamConnectFailures;
      ++counters_.connectionsClosed;
      auto& ec = endpointCounters_[{ns, to.address}];
      ++ec.connections;
      ++ec.upstreamConnectFailures;
      return;
    }
    setInt(client.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    auto c = std::make_unique<Connection>();
    c->id = nextId_++;
    c->ns = ns;
    c->endpoint = to.address;
    c->client = std::move(client);
    c->upstream = std::move(upstream);
    c->header = std::move(header).value();
    c->started = c->lastActivity = Clock::now();
    for (Flow* f : {&c->toUpstream, &c->toClient}) {
      if (options_.mode == ProxyCopyMode::kCopy) {
        f->buffer.resize(static_cast<std::size_t>(options_.pipeCapacity));
        continue;
      }
      int p[2];
      if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
        armReset(c->client.get());
        std::lock_guard<std::mutex> lock(mu_);
        ++counters_.resets;
        ++counters_.connectionsClosed;
        return;
      }
      f->pipeRead.reset(p[0]);
      f->pipeWrite.reset(p[1]);
      ::fcntl(p[1], F_SETPIPE_SZ, options_.pipeCapacity);
    }
    // Edge-triggered, registered once: no epoll_ctl per state change.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (c->id << 2) | kTagClient;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->client.get(), &ev);
    ev.data.u64 = (c->id << 2) | kTagUpstream;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->upstream.get(), &ev);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.connectionsActive;
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
    if (tag == kTagClient) {
      c.clientReadable |= readable;
      c.clientWritable |= writable;
    } else {
      c.upstreamReadable |= readable;
      c.upstreamWritable |= writable;
    }
    if (c.connecting) {
      if (tag != kTagUpstream || !writable) return;
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        failConnect(id);
        return;
      }
      c.connecting = false;
    }
    pump(c);
  }

  void failConnect(uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.upstreamConnectFailures;
      ++endpointCounters_[{it->second->ns, it->second->endpoint}].upstreamConnectFailures;
    }
    closeConnection(id, /*reset=*/true);
  }

  // Moves what can move without blocking, up to a budget per call so that one fast connection
  // cannot starve the others (a connection that hit the budget is queued in again_). Closes the
  // connection when both directions are finished or a side failed.
  void pump(Connection& c) {
    bool failed = false;
    bool progress = false;
    if (!c.headerDone() && c.upstreamWritable) {
      const ssize_t n = ::send(c.upstream.get(), c.header.data() + c.headerSent,
                               c.header.size() - c.headerSent, MSG_NOSIGNAL);
      if (n > 0) {
        c.headerSent += static_cast<std::size_t>(n);
        progress = true;
        if (c.headerDone()) {
          std::lock_guard<std::mutex> lock(mu_);
          ++counters_.headersSent;
        }
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c.upstreamWritable = false;
      } else {
        failed = true;
      }
    }
    bool more = false;
    if (!failed && c.headerDone()) {
      failed = !moveFlow(c.toUpstream, c.client.get(), c.clientReadable, c.upstream.get(),
                         c.upstreamWritable, &progress, &more) ||
               !moveFlow(c.toClient, c.upstream.get(), c.upstreamReadable, c.client.get(),
                         c.clientWritable, &progress, &more);
    }
    if (progress) c.lastActivity = Clock::now();
    if (failed) {
      std::lock_guard<std::mutex> lock(mu_);
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
  bool moveFlow(Flow& f, int src, bool& srcReadable, int dst, bool& dstWritable, bool* progress,
                bool* more) {
    if (options_.mode == ProxyCopyMode::kCopy) {
      return copyFlow(f, src, srcReadable, dst, dstWritable, progress, more);
    }
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

  // moveFlow with recv/send through the flow's bounded buffer (ProxyCopyMode::kCopy).
  bool copyFlow(Flow& f, int src, bool& srcReadable, int dst, bool& dstWritable, bool* progress,
                bool* more) {
    for (int budget = 8; budget > 0; --budget) {
      bool moved = false;
      if (f.inPipe > 0 && dstWritable) {
        const ssize_t n = ::send(dst, f.buffer.data() + f.head, f.inPipe, MSG_NOSIGNAL);
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
      const std::size_t space = f.buffer.size() - f.head - f.inPipe;
      if (!f.srcEof && srcReadable && space > 0) {
        const ssize_t n = ::recv(src, f.buffer.data() + f.head + f.inPipe, space, 0);
        if (n > 0) {
          f.inPipe += static_cast<std::size_t>(n);
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
      std::lock_guard<std::mutex> lock(mu_);
      --counters_.connectionsActive;
      ++counters_.connectionsClosed;
      counters_.bytesToUpstream += c.toUpstream.moved;
      counters_.bytesToClient += c.toClient.moved;
      auto& ec = endpointCounters_[{c.ns, c.endpoint}];
      ec.bytesToUpstream += c.toUpstream.moved;
      ec.bytesToClient += c.toClient.moved;
    }
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
          std::lock_guard<std::mutex> lock(mu_);
          ++counters_.idleTimeouts;
        }
        closeConnection(id, /*reset=*/true);
      }
    }
  }

  const SpliceProxyOptions options_;
  UniqueFd epoll_;
  UniqueFd wake_;
  std::thread thread_;

  // Serialises start()/stop() with execute(), which runs loop-only code inline while stopped.
  std::mutex lifecycle_;
  mutable std::mutex mu_;  // guards the members below up to the loop-only section
  bool stopping_ = false;
  std::deque<std::function<void()>> commands_;
  std::map<std::string, std::shared_ptr<const EndpointMap>> endpoints_;
  std::map<std::string, std::shared_ptr<NetnsHandle>> listenerNs_;
  SpliceProxyCounters counters_;
  std::map<std::pair<std::string, IpAddress>, EndpointCounters> endpointCounters_;

  // Loop thread only.
  uint64_t nextId_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Listener>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::vector<uint64_t> again_;
  std::map<std::string, std::shared_ptr<NetnsHandle>> nsHandles_;
  std::optional<NamespaceGuard> inNs_;
  std::string currentNs_;
};

SpliceProxy::SpliceProxy(SpliceProxyOptions options)
    : options_(options), loop_(std::make_unique<Loop>(options_)) {}
SpliceProxy::~SpliceProxy() { stop(); }

Result<uint16_t> SpliceProxy::addListener(const std::string& ns, uint16_t port) {
  return loop_->addListener(ns, port);
}
void SpliceProxy::setEndpoints(const std::string& ns, EndpointMap endpoints) {
  loop_->setEndpoints(ns, std::move(endpoints));
}
void SpliceProxy::removeNamespace(const std::string& ns) { loop_->removeNamespace(ns); }
void SpliceProxy::resetEndpoint(const std::string& ns, const IpAddress& endpoint) {
  loop_->resetEndpoint(ns, endpoint);
}
Status SpliceProxy::start() { return loop_->start(); }
void SpliceProxy::stop() { loop_->stop(); }
SpliceProxyCounters SpliceProxy::counters() const { return loop_->counters(); }
std::map<std::pair<std::string, IpAddress>, EndpointCounters> SpliceProxy::endpointCounters()
    const {
  return loop_->endpointCounters();
}

}  // namespace privlink::proxy
