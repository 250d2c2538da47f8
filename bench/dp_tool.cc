// dp_tool: the traffic programs of the data-plane benchmarks (bench/network_bench.sh,
// bench/privatelink_bench.sh). Not a test. Run it inside a namespace with `ip netns exec NS`.
//
//   dp_tool server IP PORT [plain|ppv2] [THREADS]
//       epoll echo/sink server, one SO_REUSEPORT listener per thread (default 2). A connection
//       whose first payload byte is 'S' is a sink (stream test), any other is echoed. With ppv2
//       a PROXY protocol v2 header is stripped first (a connection without one is closed).
//   dp_tool client IP PORT stream|rr|crr SECONDS [THREADS]
//       stream: Gbit/s sent over THREADS connections; rr: 64-byte ping-pong on one connection,
//       prints p50 p99 in µs; crr: connections/s (connect, 64 bytes each way, close) over
//       THREADS loops.
//   dp_tool probe IP PORT TIMEOUT_SECONDS
//       TCP-connects to IP:PORT again and again until the peer answers (connected, or refused by
//       an RST: a closed port answers too); prints the CLOCK_REALTIME nanoseconds of the first
//       answer and exits 0; exits 1 on timeout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }

sockaddr_in v4(const char* address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
    std::fprintf(stderr, "dp_tool: bad address %s\n", address);
    std::exit(2);
  }
  return sa;
}

bool writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd pf{fd, POLLOUT, 0};
      ::poll(&pf, 1, 1000);
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool readAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// ---- server ----

constexpr uint8_t kPpv2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

struct Conn {
  bool ppv2Pending = false;  // still reading the PPv2 header
  std::string header;        // header bytes read so far
  int mode = 0;              // 0 undecided, 1 echo, 2 sink
};

void serveLoop(const sockaddr_in& sa, bool ppv2) {
  int l = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(l, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 || ::listen(l, 4096)) {
    std::perror("dp_tool server: bind/listen");
    std::exit(1);
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = l;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  std::unordered_map<int, Conn> conns;
  std::vector<char> buf(256 * 1024);
  std::vector<epoll_event> events(256);
  auto closeConn = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  while (!gStop) {
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == l) {
        for (;;) {
          int c = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          conns[c].ppv2Pending = ppv2;
        }
        continue;
      }
      Conn& conn = conns[fd];
      ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        closeConn(fd);
        continue;
      }
      size_t off = 0;
      size_t have = static_cast<size_t>(r);
      if (conn.ppv2Pending) {
        conn.header.append(buf.data(), have);
        if (conn.header.size() < 16) continue;
        if (std::memcmp(conn.header.data(), kPpv2Signature, 12) != 0) {
          closeConn(fd);
          continue;
        }
        const size_t total = 16 + ((static_cast<uint8_t>(conn.header[14]) << 8) |
                                   static_cast<uint8_t>(conn.header[15]));
        if (conn.header.size() < total) continue;
        // Whatever followed the header is payload (it came in this read).
        const size_t extra = conn.header.size() - total;
        off = have - extra;
        conn.ppv2Pending = false;
        conn.header.clear();
      }
      if (off >= have) continue;
      if (conn.mode == 0) conn.mode = buf[off] == 'S' ? 2 : 1;
      if (conn.mode == 1 && !writeAll(fd, buf.data() + off, have - off)) closeConn(fd);
    }
  }
  for (auto& [fd, c] : conns) ::close(fd);
  ::close(l);
  ::close(ep);
}

int runServer(const char* ip, uint16_t port, bool ppv2, int threads) {
  const sockaddr_in sa = v4(ip, port);
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) ts.emplace_back(serveLoop, sa, ppv2);
  for (auto& t : ts) t.join();
  return 0;
}

// ---- client ----

int connectTo(const sockaddr_in& sa) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int runClient(const char* ip, uint16_t port, const std::string& test, double seconds,
              int threads) {
  const sockaddr_in sa = v4(ip, port);
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  if (test == "stream") {
    std::atomic<uint64_t> total{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        int fd = connectTo(sa);
        if (fd < 0) {
          ++failed;
          return;
        }
        std::vector<char> buf(128 * 1024, 'S');
        uint64_t sent = 0;
        while (Clock::now() < deadline) {
          ssize_t w = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
          if (w <= 0) break;
          sent += static_cast<uint64_t>(w);
        }
        total += sent;
        ::close(fd);
      });
    }
    for (auto& t : ts) t.join();
    if (failed == threads) {
      std::fprintf(stderr, "dp_tool: stream: cannot connect\n");
      return 1;
    }
    std::printf("%.2f\n", total.load() * 8.0 / seconds / 1e9);
  } else if (test == "rr") {
    std::vector<double> us;
    us.reserve(1 << 20);
    int fd = connectTo(sa);
    if (fd < 0) {
      std::fprintf(stderr, "dp_tool: rr: cannot connect\n");
      return 1;
    }
    char msg[64];
    std::memset(msg, 'r', sizeof msg);
    while (Clock::now() < deadline) {
      const auto t0 = Clock::now();
      if (!writeAll(fd, msg, 64) || !readAll(fd, msg, 64)) break;
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    ::close(fd);
    if (us.empty()) {
      std::fprintf(stderr, "dp_tool: rr: no round trips\n");
      return 1;
    }
    std::sort(us.begin(), us.end());
    std::printf("%.1f %.1f\n", us[us.size() / 2], us[us.size() * 99 / 100]);
  } else if (test == "crr") {
    std::atomic<uint64_t> total{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        char msg[64];
        std::memset(msg, 'c', sizeof msg);
        uint64_t n = 0;
        while (Clock::now() < deadline) {
          int fd = connectTo(sa);
          if (fd < 0) continue;
          if (writeAll(fd, msg, 64) && readAll(fd, msg, 64)) ++n;
          ::close(fd);
        }
        total += n;
      });
    }
    for (auto& t : ts) t.join();
    if (total == 0) {
      std::fprintf(stderr, "dp_tool: crr: no connection completed\n");
      return 1;
    }
    std::printf("%.0f\n", total.load() / seconds);
  } else {
    std::fprintf(stderr, "dp_tool: unknown test %s\n", test.c_str());
    return 2;
  }
  return 0;
}

// ---- probe ----

int runProbe(const char* ip, uint16_t port, double timeoutSeconds) {
  const sockaddr_in sa = v4(ip, port);
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeoutSeconds);
  while (Clock::now() < deadline && !gStop) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 20) == 1) {
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      } else {
        err = ETIMEDOUT;
      }
    }
    ::close(fd);
    if (err == 0 || err == ECONNREFUSED) {
      timespec ts{};
      ::clock_gettime(CLOCK_REALTIME, &ts);
      std::printf("%lld\n", static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec);
      return 0;
    }
    // Unreachable (no route / ARP failed): the network is not there yet; retry at once-ish.
    if (err != ETIMEDOUT) ::usleep(1000);
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGINT, onSignal);
  ::signal(SIGTERM, onSignal);
  ::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 3 && a[0] == "server") {
    const bool ppv2 = a.size() >= 4 && a[3] == "ppv2";
    const int threads = a.size() >= 5 ? std::stoi(a[4]) : 2;
    return runServer(a[1].c_str(), static_cast<uint16_t>(std::stoi(a[2])), ppv2, threads);
  }
  if ((a.size() == 5 || a.size() == 6) && a[0] == "client") {
    return runClient(a[1].c_str(), static_cast<uint16_t>(std::stoi(a[2])), a[3],
                     std::stod(a[4]), a.size() == 6 ? std::stoi(a[5]) : 1);
  }
  if (a.size() == 4 && a[0] == "probe") {
    return runProbe(a[1].c_str(), static_cast<uint16_t>(std::stoi(a[2])), std::stod(a[3]));
  }
  std::fprintf(stderr,
               "usage: dp_tool server IP PORT [plain|ppv2] [THREADS]\n"
               "       dp_tool client IP PORT stream|rr|crr SECONDS [THREADS]\n"
               "       dp_tool probe IP PORT TIMEOUT_SECONDS\n");
  return 2;
}
