#include "dns/responder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "control/resource_counters.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "dns/answer.h"
#include "model/host_naming.h"
#include "model/network.h"
#include "model/private_dns_view.h"

namespace privlink::dns {

using Clock = std::chrono::steady_clock;
using dataplane::UniqueFd;

namespace {

constexpr size_t kMaxTcpOutput = 256 * 1024;
constexpr size_t kMaxUdpDatagram = 65535;
constexpr auto kFollowPoll = std::chrono::milliseconds(250);

bool wantedDocument(const store::Document& doc) {
  std::string_view type = doc.type;
  if (type.starts_with("microsoft.network/privatednszones") ||
      type == model::kNetworkInterfaceType || type == model::kSubnetType ||
      type == model::kVirtualNetworkType) {
    return true;
  }
  const nlohmann::json& body = doc.body;
  if (!body.is_object()) return false;
  auto props = body.find("properties");
  if (props == body.end() || !props->is_object()) return false;
  auto privlink = props->find("privlink");
  return privlink != props->end() && privlink->is_object() && privlink->contains("paas");
}

sockaddr_storage toSockaddr(const IpAddress& address, uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  if (address.isV4()) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    sa->sin_addr.s_addr = htonl(address.v4Value());
    *len = sizeof(sockaddr_in);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    std::memcpy(&sa->sin6_addr, address.bytes().data(), 16);
    *len = sizeof(sockaddr_in6);
  }
  return ss;
}

// True if `address` is local in the calling thread's network namespace: a socket connected to it
// gets it as its own source, which only a local route (in the local table) gives. Checked
// through the routing table, not the address list: the kernel lists a new address a moment
// before it adds its local route.
bool isLocalAddress(const IpAddress& address) {
  UniqueFd probe(::socket(address.isV4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  socklen_t len = 0;
  sockaddr_storage to = toSockaddr(address, 53, &len);
  if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&to), len) != 0) return false;
  sockaddr_storage self{};
  socklen_t selfLen = sizeof self;
  if (::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&self), &selfLen) != 0) return false;
  if (address.isV4()) {
    return ntohl(reinterpret_cast<const sockaddr_in*>(&self)->sin_addr.s_addr) == address.v4Value();
  }
  return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&self)->sin6_addr,
                     address.bytes().data(), 16) == 0;
}

}  // namespace

std::string Upstream::toString() const {
  return address.isV4() ? address.toString() + ":" + std::to_string(port)
                        : "[" + address.toString() + "]:" + std::to_string(port);
}

Result<Upstream> parseUpstream(std::string_view text) {
  auto invalid = [&] {
    return Status::InvalidArgument(
        "InvalidParameter", "upstream resolver '" + std::string(text) +
                                "' is not an address: use 192.0.2.1, 192.0.2.1:53, 2001:db8::1 "
                                "or [2001:db8::1]:53");
  };
  Upstream up;
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid();
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return invalid();
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto address = IpAddress::parse(host);
  if (!address) return invalid();
  up.address = *address;
  if (port) {
    if (port->empty() || port->size() > 5) return invalid();
    uint32_t value = 0;
    for (char c : *port) {
      if (c < '0' || c > '9') return invalid();
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if (value == 0 || value > 65535) return invalid();
    up.port = static_cast<uint16_t>(value);
  }
  return up;
}

std::vector<Upstream> parseResolvConf(std::string_view text) {
  std::vector<Upstream> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string keyword, value;
    if (!(words >> keyword >> value) || keyword != "nameserver") continue;
    auto up = parseUpstream(value);
    if (up.ok()) out.push_back(*up);
  }
  return out;
}

struct Responder::Snapshot {
  int64_t revision = 0;
  // VNet namespace -> that VNet's resolver view.
  std::map<std::string, std::shared_ptr<const VnetDns>> byNamespace;
};

// The event loop. Runs on io_; owns every socket.
class Responder::Loop {
 public:
  Loop(Responder& owner, UniqueFd epoll) : owner_(owner), epoll_(std::move(epoll)) {
    rng_.seed(std::random_device{}());
  }

  void run() {
    add(owner_.wake_fd_, EPOLLIN, kWakeId);
    Clock::time_point nextReconcile = Clock::now();
    std::shared_ptr<const Snapshot> seen;
    epoll_event events[64];
    while (!owner_.stopping_.load()) {
      std::shared_ptr<const Snapshot> current;
      {
        std::lock_guard lock(owner_.mutex_);
        current = owner_.snapshot_;
      }
      if (current != seen || Clock::now() >= nextReconcile) {
        seen = current;
        snapshot_ = current;
        reconcile();
        nextReconcile = Clock::now() + owner_.options_.socketRetry;
      }
      int timeout = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(nextDeadline(nextReconcile) -
                                                                Clock::now())
              .count(),
          0, 200));
      int n = ::epoll_wait(epoll_.get(), events, 64, timeout);
      for (int i = 0; i < n && !owner_.stopping_.load(); ++i) dispatch(events[i]);
      expire();
    }
    listeners_.clear();
    conns_.clear();
    forwards_.clear();
  }

 private:
  static constexpr uint64_t kWakeId = 1;

  enum class Kind { kUdp, kTcpListen, kTcpConn, kForward };
  struct Handle {
    Kind kind;
    std::string ns;  // kUdp/kTcpListen: the namespace; kTcpConn: its listener's namespace
  };
  struct Listener {
    dev_t device = 0;
    ino_t inode = 0;
    UniqueFd udp;
    UniqueFd tcp;
    uint64_t udpId = 0;
    uint64_t tcpId = 0;
  };
  struct Conn {
    UniqueFd fd;
    std::string ns;
    std::vector<uint8_t> in;
    std::vector<uint8_t> out;
    Clock::time_point deadline;
    bool wantWrite = false;
  };
  struct Forward {
    UniqueFd sock;
    size_t upstream = 0;
    uint16_t id = 0;
    Clock::time_point deadline;
    Clock::time_point giveUp;
    Transport transport = Transport::kUdp;
    std::vector<uint8_t> clientQuery;
    std::vector<uint8_t> query;
    std::vector<uint8_t> partial;
    // Where the reply goes: the UDP socket + client address, or the TCP connection.
    std::string ns;
    sockaddr_storage client{};
    socklen_t clientLen = 0;
    uint64_t connId = 0;
  };

  uint64_t newId() { return next_id_++; }

  void add(int fd, uint32_t events, uint64_t id) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  void modify(int fd, uint32_t events, uint64_t id) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
  }

  Clock::time_point nextDeadline(Clock::time_point bound) const {
    Clock::time_point next = bound;
    for (const auto& [id, conn] : conns_) next = std::min(next, conn.deadline);
    for (const auto& [id, fwd] : forwards_) next = std::min(next, fwd.deadline);
    return next;
  }

  // Opens sockets for every VNet namespace that exists and closes those no longer wanted.
  void reconcile() {
    static const std::map<std::string, std::shared_ptr<const VnetDns>> kNone;
    const auto& wanted = snapshot_ ? snapshot_->byNamespace : kNone;
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      bool keep = wanted.count(it->first) > 0;
      if (keep) {
        auto handle = dataplane::NetnsHandle::open(it->first);
        keep = handle.ok() && handle->device() == it->second.device &&
               handle->inode() == it->second.inode;
      }
      if (!keep) {
        closeListener(it->first, it->second);
        it = listeners_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [ns, view] : wanted) {
      if (listeners_.count(ns) == 0) openListener(ns);
    }
    std::vector<std::string> served;
    for (const auto& [ns, l] : listeners_) served.push_back(ns);
    std::lock_guard lock(owner_.mutex_);
    owner_.served_ = std::move(served);
  }

  void closeListener(const std::string& ns, Listener& l) {
    handles_.erase(l.udpId);
    handles_.erase(l.tcpId);
    spdlog::info("dns: stopped serving {}", ns);
  }

  void openListener(const std::string& ns) {
    auto handle = dataplane::NetnsHandle::open(ns);
    if (!handle.ok()) return;  // the agent has not made it yet: retry later
    auto address = IpAddress::parse(owner_.options_.listenAddress);
    if (!address) return;
    Listener l;
    l.device = handle->device();
    l.inode = handle->inode();
    {
      auto guard = dataplane::NamespaceGuard::enter(*handle);
      if (!guard.ok()) {
        spdlog::warn("dns: entering {}: {}", ns, guard.status().toString());
        return;
      }
      // Only once the address is local here (the agent put it on lo; retried every socketRetry).
      // A socket bound earlier keeps source address 0 for good: in a namespace that has no local
      // routing table yet the kernel takes any bind address for a broadcast one (even without
      // IP_FREEBIND), so its UDP replies left from the address of the route back to the client
      // (the subnet gateway), and clients dropped them.
      if (!isLocalAddress(*address)) return;
      l.udp = dataplane::moveAboveSelectRange(
          UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
      l.tcp = dataplane::moveAboveSelectRange(
          UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
    }
    if (!l.udp.valid() || !l.tcp.valid()) return;
    socklen_t len = 0;
    sockaddr_storage sa = toSockaddr(*address, owner_.options_.listenPort, &len);
    int one = 1;
    // No IP_FREEBIND: the address is there (above); a bind that fails is retried.
    for (int fd : {l.udp.get(), l.tcp.get()}) {
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
        spdlog::debug("dns: bind {} in {}: {}", owner_.options_.listenAddress, ns,
                      std::strerror(errno));
        return;
      }
    }
    if (::listen(l.tcp.get(), 64) != 0) return;
    l.udpId = newId();
    l.tcpId = newId();
    handles_[l.udpId] = Handle{Kind::kUdp, ns};
    handles_[l.tcpId] = Handle{Kind::kTcpListen, ns};
    add(l.udp.get(), EPOLLIN, l.udpId);
    add(l.tcp.get(), EPOLLIN, l.tcpId);
    spdlog::info("dns: serving {}:{} in {}", owner_.options_.listenAddress,
                 owner_.options_.listenPort, ns);
    listeners_[ns] = std::move(l);
  }

  std::shared_ptr<const VnetDns> viewOf(const std::string& ns) const {
    if (!snapshot_) return nullptr;
    auto it = snapshot_->byNamespace.find(ns);
    return it == snapshot_->byNamespace.end() ? nullptr : it->second;
  }

  void dispatch(const epoll_event& ev) {
    uint64_t id = ev.data.u64;
    if (id == kWakeId) {
      uint64_t value = 0;
      [[maybe_unused]] ssize_t r = ::read(owner_.wake_fd_, &value, sizeof value);
      return;
    }
    auto it = handles_.find(id);
    if (it == handles_.end()) return;
    Handle handle = it->second;
    switch (handle.kind) {
      case Kind::kUdp:
        onUdp(handle.ns);
        break;
      case Kind::kTcpListen:
        onAccept(handle.ns);
        break;
      case Kind::kTcpConn:
        onConn(id, ev.events);
        break;
      case Kind::kForward:
        onForward(id);
        break;
    }
  }

  void onUdp(const std::string& ns) {
    auto lit = listeners_.find(ns);
    if (lit == listeners_.end()) return;
    int fd = lit->second.udp.get();
    std::vector<uint8_t> buf(kMaxUdpDatagram);
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage from{};
      socklen_t fromLen = sizeof from;
      ssize_t n =
          ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n < 0) return;
      std::span<const uint8_t> query(buf.data(), static_cast<size_t>(n));
      auto dns = viewOf(ns);
      if (!dns) continue;
      Outcome outcome = answerQuery(*dns, query, Transport::kUdp);
      if (outcome.action == Outcome::Action::kReply) {
        ::sendto(fd, outcome.reply.data(), outcome.reply.size(), MSG_DONTWAIT,
                 reinterpret_cast<sockaddr*>(&from), fromLen);
      } else if (outcome.action == Outcome::Action::kForward) {
        Forward fwd;
        fwd.transport = Transport::kUdp;
        fwd.ns = ns;
        fwd.client = from;
        fwd.clientLen = fromLen;
        startForward(std::move(fwd), query, std::move(outcome));
      }
    }
  }

  void onAccept(const std::string& ns) {
    auto lit = listeners_.find(ns);
    if (lit == listeners_.end()) return;
    for (int i = 0; i < 64; ++i) {
      int fd = dataplane::moveAboveSelectRange(
          ::accept4(lit->second.tcp.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (fd < 0) return;
      if (conns_.size() >= owner_.options_.maxTcpConnections) {
        ::close(fd);
        continue;
      }
      uint64_t id = newId();
      Conn conn;
      conn.fd = UniqueFd(fd);
      conn.ns = ns;
      conn.deadline = Clock::now() + owner_.options_.tcpIdleTimeout;
      handles_[id] = Handle{Kind::kTcpConn, ns};
      add(fd, EPOLLIN, id);
      conns_.emplace(id, std::move(conn));
    }
  }

  void closeConn(uint64_t id) {
    handles_.erase(id);
    conns_.erase(id);  // closing the fd removes it from epoll
  }

  void onConn(uint64_t id, uint32_t events) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Conn& conn = it->second;
    if (events & (EPOLLERR | EPOLLHUP)) {
      closeConn(id);
      return;
    }
    if (events & EPOLLOUT) {
      if (!flush(id, conn)) return;
    }
    if (!(events & EPOLLIN)) return;
    uint8_t buf[4096];
    while (true) {
      size_t room = 2 + 65535 - conn.in.size();
      ssize_t n = ::read(conn.fd.get(), buf, std::min(sizeof buf, room));
      if (n == 0) {
        closeConn(id);
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        closeConn(id);
        return;
      }
      conn.in.insert(conn.in.end(), buf, buf + n);
      // Complete messages are consumed as they arrive, so `in` never exceeds one message.
      while (conn.in.size() >= 2) {
        size_t len = static_cast<size_t>(conn.in[0] << 8 | conn.in[1]);
        if (len == 0) {
          closeConn(id);
          return;
        }
        if (conn.in.size() < 2 + len) break;
        std::vector<uint8_t> query(conn.in.begin() + 2, conn.in.begin() + 2 + len);
        conn.in.erase(conn.in.begin(), conn.in.begin() + 2 + len);
        conn.deadline = Clock::now() + owner_.options_.tcpIdleTimeout;
        if (!onTcpQuery(id, conn, query)) return;
      }
    }
  }

  // False if the connection was closed.
  bool onTcpQuery(uint64_t id, Conn& conn, const std::vector<uint8_t>& query) {
    auto dns = viewOf(conn.ns);
    if (!dns) return true;
    Outcome outcome = answerQuery(*dns, query, Transport::kTcp);
    if (outcome.action == Outcome::Action::kReply) return sendTcp(id, conn, outcome.reply);
    if (outcome.action == Outcome::Action::kForward) {
      Forward fwd;
      fwd.transport = Transport::kTcp;
      fwd.ns = conn.ns;
      fwd.connId = id;
      startForward(std::move(fwd), query, std::move(outcome));
    }
    return conns_.count(id) > 0;  // an immediate SERVFAIL may have closed it
  }

  bool sendTcp(uint64_t id, Conn& conn, const std::vector<uint8_t>& message) {
    if (message.empty() || message.size() > 65535) return true;
    if (conn.out.size() + message.size() + 2 > kMaxTcpOutput) {
      closeConn(id);  // the client does not read its answers
      return false;
    }
    conn.out.push_back(static_cast<uint8_t>(message.size() >> 8));
    conn.out.push_back(static_cast<uint8_t>(message.size() & 0xff));
    conn.out.insert(conn.out.end(), message.begin(), message.end());
    return flush(id, conn);
  }

  bool flush(uint64_t id, Conn& conn) {
    while (!conn.out.empty()) {
      ssize_t n = ::send(conn.fd.get(), conn.out.data(), conn.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        closeConn(id);
        return false;
      }
      conn.out.erase(conn.out.begin(), conn.out.begin() + n);
    }
    bool want = !conn.out.empty();
    if (want != conn.wantWrite) {
      conn.wantWrite = want;
      modify(conn.fd.get(), EPOLLIN | (want ? EPOLLOUT : 0u), id);
    }
    return true;
  }

  void startForward(Forward fwd, std::span<const uint8_t> clientQuery, Outcome outcome) {
    fwd.clientQuery.assign(clientQuery.begin(), clientQuery.end());
    fwd.query = std::move(outcome.forwardQuery);
    fwd.partial = std::move(outcome.partialReply);
    fwd.giveUp = Clock::now() + owner_.options_.forwardTimeout;
    if (owner_.upstreams_.empty() || forwards_.size() >= owner_.options_.maxPendingForwards ||
        fwd.query.size() < 12) {
      deliver(fwd, servfailFor(fwd.clientQuery));
      return;
    }
    fwd.upstream = 0;
    uint64_t id = newId();
    handles_[id] = Handle{Kind::kForward, fwd.ns};
    forwards_.emplace(id, std::move(fwd));
    attempt(id);
  }

  // Sends the forward to its current upstream; moves on / fails when it cannot.
  void attempt(uint64_t id) {
    auto it = forwards_.find(id);
    if (it == forwards_.end()) return;
    Forward& fwd = it->second;
    const auto& ups = owner_.upstreams_;
    auto perAttempt = owner_.options_.forwardTimeout / static_cast<int>(ups.size());
    while (fwd.upstream < ups.size()) {
      const Upstream& up = ups[fwd.upstream];
      fwd.sock = dataplane::moveAboveSelectRange(UniqueFd(::socket(
          up.address.isV4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
      socklen_t len = 0;
      sockaddr_storage sa = toSockaddr(up.address, up.port, &len);
      fwd.id = static_cast<uint16_t>(rng_());
      fwd.query[0] = static_cast<uint8_t>(fwd.id >> 8);
      fwd.query[1] = static_cast<uint8_t>(fwd.id & 0xff);
      if (fwd.sock.valid() &&
          ::connect(fwd.sock.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0 &&
          ::send(fwd.sock.get(), fwd.query.data(), fwd.query.size(), 0) ==
              static_cast<ssize_t>(fwd.query.size())) {
        add(fwd.sock.get(), EPOLLIN, id);
        fwd.deadline = std::min(Clock::now() + perAttempt, fwd.giveUp);
        return;
      }
      ++fwd.upstream;
    }
    finishForward(id, servfailFor(fwd.clientQuery));
  }

  void onForward(uint64_t id) {
    auto it = forwards_.find(id);
    if (it == forwards_.end()) return;
    Forward& fwd = it->second;
    std::vector<uint8_t> buf(kMaxUdpDatagram);
    while (true) {
      ssize_t n = ::recv(fwd.sock.get(), buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        ++fwd.upstream;  // refused or unreachable: next upstream
        fwd.sock.reset();
        attempt(id);
        return;
      }
      if (n < 12 || buf[0] != (fwd.id >> 8) || buf[1] != (fwd.id & 0xff) || !(buf[2] & 0x80)) {
        continue;  // not the answer to our query
      }
      std::span<const uint8_t> response(buf.data(), static_cast<size_t>(n));
      finishForward(id, spliceForwarded(fwd.clientQuery, fwd.partial, response, fwd.transport));
      return;
    }
  }

  void finishForward(uint64_t id, std::vector<uint8_t> reply) {
    auto it = forwards_.find(id);
    if (it == forwards_.end()) return;
    Forward fwd = std::move(it->second);
    forwards_.erase(it);
    handles_.erase(id);
    deliver(fwd, std::move(reply));
  }

  void deliver(const Forward& fwd, std::vector<uint8_t> reply) {
    if (reply.empty()) return;
    if (fwd.transport == Transport::kUdp) {
      auto listener = listeners_.find(fwd.ns);
      if (listener == listeners_.end()) return;
      ::sendto(listener->second.udp.get(), reply.data(), reply.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&fwd.client), fwd.clientLen);
      return;
    }
    auto conn = conns_.find(fwd.connId);
    if (conn != conns_.end()) sendTcp(fwd.connId, conn->second, reply);
  }

  void expire() {
    Clock::time_point now = Clock::now();
    std::vector<uint64_t> idle;
    for (const auto& [id, conn] : conns_) {
      if (conn.deadline <= now) idle.push_back(id);
    }
    for (uint64_t id : idle) closeConn(id);
    std::vector<uint64_t> late;
    for (const auto& [id, fwd] : forwards_) {
      if (fwd.deadline <= now) late.push_back(id);
    }
    for (uint64_t id : late) {
      auto it = forwards_.find(id);
      if (it == forwards_.end()) continue;
      it->second.sock.reset();
      if (now >= it->second.giveUp) {
        finishForward(id, servfailFor(it->second.clientQuery));
      } else {
        ++it->second.upstream;
        attempt(id);
      }
    }
  }

  Responder& owner_;
  UniqueFd epoll_;
  std::mt19937 rng_;
  uint64_t next_id_ = 2;
  std::shared_ptr<const Snapshot> snapshot_;
  std::map<uint64_t, Handle> handles_;
  std::map<std::string, Listener> listeners_;
  std::map<uint64_t, Conn> conns_;
  std::map<uint64_t, Forward> forwards_;
};

Responder::Responder(store::Store& store, ResponderOptions options)
    : store_(store), options_(std::move(options)) {}

Responder::~Responder() { stop(); }

Status Responder::start() {
  if (io_.joinable() || follower_.joinable()) {
    return Status::Internal("dns responder: already started");
  }
  upstreams_ = options_.upstreams;
  if (upstreams_.empty()) {
    std::ifstream in(options_.resolvConfPath);
    std::stringstream text;
    text << in.rdbuf();
    upstreams_ = parseResolvConf(text.str());
    if (upstreams_.empty()) {
      spdlog::warn("dns: no nameserver in {}; names outside private zones get SERVFAIL",
                   options_.resolvConfPath);
    }
  }
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!epoll.valid() || wake_fd_ < 0) {
    if (wake_fd_ >= 0) ::close(wake_fd_);
    wake_fd_ = -1;
    return Status::Internal(std::string("dns responder: epoll/eventfd: ") + std::strerror(errno));
  }
  stopping_ = false;
  loop_ = std::make_unique<Loop>(*this, std::move(epoll));
  follower_ = std::thread([this] { follow(); });
  io_ = std::thread([this] { loop_->run(); });
  return Status::Ok();
}

void Responder::stop() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
  }
  if (follower_.joinable()) follower_.join();
  if (io_.joinable()) io_.join();
  loop_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
  std::lock_guard lock(mutex_);
  served_.clear();
}

std::vector<std::string> Responder::servedNamespaces() const {
  std::lock_guard lock(mutex_);
  return served_;
}

Result<std::shared_ptr<const Responder::Snapshot>> Responder::readSnapshot() {
  std::vector<model::SourceDocument> docs;
  std::vector<std::string> vnets;
  int64_t revision = 0;
  RETURN_IF_ERROR(store_.read([&](store::ReadView& view) -> Status {
    revision = view.revision();
    ASSIGN_OR_RETURN(std::vector<store::Document> all, view.listPrefix("/subscriptions/"));
    for (store::Document& doc : all) {
      if (!wantedDocument(doc)) continue;
      if (doc.type == model::kVirtualNetworkType) vnets.push_back(doc.key);
      docs.push_back(model::SourceDocument{std::move(doc.key), std::move(doc.id),
                                           std::move(doc.type), std::move(doc.body)});
    }
    return Status::Ok();
  }));
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->revision = revision;
  model::HostNaming naming(options_.namePrefix);
  for (const std::string& vnet : vnets) {
    snapshot->byNamespace[naming.vnetNamespace(vnet)] =
        std::make_shared<const VnetDns>(model::dnsView(docs, vnet));
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

void Responder::follow() {
  int64_t revision = -1;
  while (!stopping_.load()) {
    int64_t now = store_.revision();
    if (now != revision && revision >= 0) {
      // Counter documents (rewritten every few seconds) hold no names: no new snapshot for them.
      const int64_t through = control::countersOnlyThrough(store_, revision);
      if (through > revision) {
        revision = through;
        served_revision_ = revision;
        continue;
      }
    }
    if (now != revision) {
      auto snapshot = readSnapshot();
      if (snapshot.ok()) {
        revision = (*snapshot)->revision;
        {
          std::lock_guard lock(mutex_);
          snapshot_ = *snapshot;
        }
        served_revision_ = revision;
        uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
      } else {
        spdlog::warn("dns: reading the store: {}", snapshot.status().toString());
        std::this_thread::sleep_for(kFollowPoll);
        continue;
      }
    }
    store_.waitForChange(revision, kFollowPoll);
  }
}

}  // namespace privlink::dns
