// ppv2_tool: the programs bench/ppv2_bench.sh drives (not a test by itself).
//   ppv2_tool proxy  NS PE_IP UPSTREAM_IP LINKID [PIPE_BYTES]  run SpliceProxy in NS; prints
//                                                  the TPROXY port
//   ppv2_tool server NS IP PORT header|plain        sink+echo server in NS (strips a PPv2 header)
//   ppv2_tool client NS IP PORT stream|rr|crr SECONDS [THREADS]
//     stream: Gbit/s sent by THREADS connections; rr: 64-byte ping-pong p50/p99 µs on one
//     connection; crr: connections/s (connect, 64 bytes each way, close) over THREADS loops.
// The server echoes whatever it reads unless the client's first payload byte is 'S' (stream:
// discard). All sockets are created inside NS with dataplane::NamespaceGuard.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "proxy/proxy_protocol.h"
#include "proxy/splice_proxy.h"

using namespace privlink;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }

sockaddr_in v4(const char* address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &sa.sin_addr);
  return sa;
}

bool enterNs(const std::string& ns, std::optional<dataplane::NamespaceGuard>* guard) {
  auto handle = dataplane::NetnsHandle::open(ns);
  if (!handle.ok()) return false;
  auto g = dataplane::NamespaceGuard::enter(*handle);
  if (!g.ok()) return false;
  guard->emplace(std::move(g).value());
  return true;
}

int die(const std::string& what) {
  std::fprintf(stderr, "ppv2_tool: %s\n", what.c_str());
  return 1;
}

bool writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
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

int runProxy(const std::string& ns, const char* pe, const char* upstream, uint32_t linkId,
             int pipeCapacity) {
  proxy::SpliceProxyOptions options;
  if (const char* mode = std::getenv("PPV2_MODE")) {  // "splice" or "copy"; default: options'
    if (std::string(mode) == "copy") options.mode = proxy::ProxyCopyMode::kCopy;
    if (std::string(mode) == "splice") options.mode = proxy::ProxyCopyMode::kSplice;
  }
  if (pipeCapacity > 0) options.pipeCapacity = pipeCapacity;
  proxy::SpliceProxy p(options);
  auto port = p.addListener(ns, 0);
  if (!port.ok()) return die(port.status().toString());
  p.setEndpoints(ns, {{*IpAddress::parse(pe), {*IpAddress::parse(upstream), linkId}}});
  if (!p.start().ok()) return die("start failed");
  std::printf("%u\n", *port);
  std::fflush(stdout);
  while (!gStop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  p.stop();
  auto c = p.counters();
  std::fprintf(stderr, "proxy: accepted %lu closed %lu resets %lu\n",
               (unsigned long)c.connectionsAccepted, (unsigned long)c.connectionsClosed,
               (unsigned long)c.resets);
  return 0;
}

// One thread per connection: simple, and the same for every path measured.
void serveConnection(int fd, bool header) {
  dataplane::UniqueFd owner(fd);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::vector<char> buf(256 * 1024);
  size_t have = 0;
  if (header) {
    for (;;) {
      auto parsed = proxy::parseProxyHeader(
          std::span<const uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), have));
      if (!parsed.ok()) return;
      if (parsed->complete) {
        std::memmove(buf.data(), buf.data() + parsed->size, have - parsed->size);
        have -= parsed->size;
        break;
      }
      ssize_t r = ::recv(fd, buf.data() + have, buf.size() - have, 0);
      if (r <= 0) return;
      have += static_cast<size_t>(r);
    }
  }
  bool sink = false;
  bool decided = false;
  for (;;) {
    if (have == 0) {
      ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
      if (r <= 0) return;
      have = static_cast<size_t>(r);
    }
    if (!decided) {
      sink = buf[0] == 'S';
      decided = true;
    }
    if (!sink && !writeAll(fd, buf.data(), have)) return;
    have = 0;
  }
}

int runServer(const std::string& ns, const char* ip, uint16_t port, bool header) {
  std::optional<dataplane::NamespaceGuard> guard;
  if (!enterNs(ns, &guard)) return die("cannot enter " + ns);
  dataplane::UniqueFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(l.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  auto sa = v4(ip, port);
  if (::bind(l.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return die("bind");
  ::listen(l.get(), 4096);
  guard.reset();
  while (!gStop) {
    pollfd p{l.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    int fd = ::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::thread(serveConnection, fd, header).detach();
  }
  return 0;
}

int connectTo(const sockaddr_in& sa) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int runClient(const std::string& ns, const char* ip, uint16_t port, const std::string& test,
              double seconds, int threads) {
  const auto sa = v4(ip, port);
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  auto inNs = [&](auto&& body) {
    std::optional<dataplane::NamespaceGuard> guard;
    if (!enterNs(ns, &guard)) {
      std::fprintf(stderr, "cannot enter %s\n", ns.c_str());
      return;
    }
    body();
  };
  if (test == "stream") {
    std::atomic<uint64_t> total{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        inNs([&] {
          int fd = connectTo(sa);
          if (fd < 0) return;
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
      });
    }
    for (auto& t : ts) t.join();
    std::printf("%.2f\n", total.load() * 8.0 / seconds / 1e9);
  } else if (test == "rr") {
    std::vector<double> us;
    inNs([&] {
      int fd = connectTo(sa);
      if (fd < 0) return;
      char msg[64];
      std::memset(msg, 'r', sizeof(msg));
      while (Clock::now() < deadline) {
        const auto t0 = Clock::now();
        if (!writeAll(fd, msg, 64) || !readAll(fd, msg, 64)) break;
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      ::close(fd);
    });
    if (us.empty()) return die("rr: no round trips");
    std::sort(us.begin(), us.end());
    std::printf("%.1f %.1f\n", us[us.size() / 2], us[us.size() * 99 / 100]);
  } else if (test == "crr") {
    std::atomic<uint64_t> total{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        inNs([&] {
          char msg[64];
          std::memset(msg, 'c', sizeof(msg));
          uint64_t n = 0;
          while (Clock::now() < deadline) {
            int fd = connectTo(sa);
            if (fd < 0) continue;
            if (writeAll(fd, msg, 64) && readAll(fd, msg, 64)) ++n;
            ::close(fd);
          }
          total += n;
        });
      });
    }
    for (auto& t : ts) t.join();
    std::printf("%.0f\n", total.load() / seconds);
  } else {
    return die("unknown test " + test);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGINT, onSignal);
  ::signal(SIGTERM, onSignal);
  ::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> a(argv + 1, argv + argc);
  if ((a.size() == 5 || a.size() == 6) && a[0] == "proxy") {
    return runProxy(a[1], a[2].c_str(), a[3].c_str(),
                    static_cast<uint32_t>(std::stoul(a[4], nullptr, 0)),
                    a.size() == 6 ? std::stoi(a[5]) : 0);
  }
  if (a.size() == 5 && a[0] == "server") {
    return runServer(a[1], a[2].c_str(), static_cast<uint16_t>(std::stoi(a[3])),
                     a[4] == "header");
  }
  if ((a.size() == 6 || a.size() == 7) && a[0] == "client") {
    return runClient(a[1], a[2].c_str(), static_cast<uint16_t>(std::stoi(a[3])), a[4],
                     std::stod(a[5]), a.size() == 7 ? std::stoi(a[6]) : 1);
  }
  std::fprintf(stderr,
               "usage: ppv2_tool proxy NS PE_IP UPSTREAM_IP LINKID [PIPE_BYTES]\n"
               "       ppv2_tool server NS IP PORT header|plain\n"
               "       ppv2_tool client NS IP PORT stream|rr|crr SECONDS [THREADS]\n");
  return 2;
}
