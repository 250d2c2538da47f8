// The PPv2 splice proxy on a real topology (root):
//
//   client ns (10.0.1.5) --veth-- VNet ns (10.0.1.1, endpoints 10.0.1.4 and 10.0.1.6 local;
//   nft TPROXY of tcp/8443 to the proxy's listener) --veth-- upstream ns (100.64.0.2, the
//   endpoint's "T_pe", an in-process server that parses the header with parseProxyHeader).
#include "proxy/splice_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/kernel.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "proxy/proxy_protocol.h"

namespace privlink::proxy {
namespace {

using dataplane::Kernel;
using dataplane::NamespaceGuard;
using dataplane::NetnsHandle;
using dataplane::UniqueFd;
using namespace std::chrono_literals;

constexpr uint16_t kServicePort = 8443;
constexpr uint32_t kLinkId = 0x11223344;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

sockaddr_in v4(const char* address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &sa.sin_addr);
  return sa;
}

void removeTestNamespaces(const std::string& prefix) {
  auto names = dataplane::listPersistentNamespaces();
  if (!names.ok()) return;
  for (const std::string& name : *names) {
    bool stale = false;
    if (name.rfind("plppv2", 0) == 0) {
      const int pid = std::atoi(name.c_str() + 6);
      stale = pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
    }
    if (name.rfind(prefix, 0) == 0 || stale) (void)dataplane::deletePersistentNamespace(name);
  }
}

int openFdCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Deterministic payload byte at stream offset i (direction d), so both ends can check content.
uint8_t patternByte(uint64_t i, int d) { return static_cast<uint8_t>((i * 131 + (i >> 12) + d) & 0xff); }

bool sendAll(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads exactly n bytes; false on EOF/error/timeout.
bool recvAll(int fd, void* data, size_t n) {
  auto* p = static_cast<uint8_t*>(data);
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

std::string recvString(int fd, size_t n) {
  std::string s(n, '\0');
  if (!recvAll(fd, s.data(), n)) return "<short read: " + std::string(std::strerror(errno)) + ">";
  return s;
}

void setTimeouts(int fd) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// Sends `total` pattern bytes (direction d) and returns true if all went out.
bool sendPattern(int fd, uint64_t total, int d, std::atomic<uint64_t>* sent = nullptr) {
  std::vector<uint8_t> buf(64 * 1024);
  for (uint64_t off = 0; off < total;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), total - off));
    for (size_t i = 0; i < n; ++i) buf[i] = patternByte(off + i, d);
    if (!sendAll(fd, buf.data(), n)) return false;
    off += n;
    if (sent) sent->store(off);
  }
  return true;
}

// Receives until EOF; returns the byte count, or -1 if the content differs from the pattern.
int64_t recvPatternToEof(int fd, int d) {
  std::vector<uint8_t> buf(64 * 1024);
  uint64_t off = 0;
  for (;;) {
    const ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
    if (r < 0) return -2;
    if (r == 0) return static_cast<int64_t>(off);
    for (ssize_t i = 0; i < r; ++i) {
      if (buf[static_cast<size_t>(i)] != patternByte(off + static_cast<uint64_t>(i), d)) return -1;
    }
    off += static_cast<uint64_t>(r);
  }
}

class SpliceProxyTest : public ::testing::TestWithParam<ProxyCopyMode> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "integration tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    prefix_ = "plppv2" + std::to_string(::getpid()) + "-";
    nsClient_ = prefix_ + "c";
    nsVnet_ = prefix_ + "v";
    nsUp_ = prefix_ + "u";
    removeTestNamespaces(prefix_);
    kernel_ = dataplane::makeLinuxKernel();
    fdsBefore_ = openFdCount();
    for (const auto& ns : {nsClient_, nsVnet_, nsUp_}) {
      ASSERT_TRUE(kernel_->createNamespace(ns).ok());
      ASSERT_TRUE(kernel_->setLinkUp(ns, "lo", true).ok());
    }
    ASSERT_TRUE(kernel_->createVethPair(nsClient_, "c0", nsVnet_, "v0").ok());
    ASSERT_TRUE(kernel_->createVethPair(nsVnet_, "v1", nsUp_, "u0").ok());
    for (const auto& [ns, link] : std::vector<std::pair<std::string, std::string>>{
             {nsClient_, "c0"}, {nsVnet_, "v0"}, {nsVnet_, "v1"}, {nsUp_, "u0"}}) {
      ASSERT_TRUE(kernel_->setLinkUp(ns, link, true).ok());
    }
    auto addr = [&](const std::string& ns, const char* link, const char* a, int len) {
      auto st = kernel_->addAddress(ns, {.link = link, .address = ip(a), .prefixLength = len});
      ASSERT_TRUE(st.ok()) << st.toString();
    };
    addr(nsClient_, "c0", "10.0.1.5", 24);
    addr(nsVnet_, "v0", "10.0.1.1", 24);
    addr(nsVnet_, "v0", "10.0.1.4", 32);  // the private endpoint
    addr(nsVnet_, "v0", "10.0.1.6", 32);  // an address TPROXY catches but the map lacks
    addr(nsVnet_, "v1", "100.64.0.1", 30);
    addr(nsUp_, "u0", "100.64.0.2", 30);
  }

  // The proxy with `options`, listening in the VNet namespace behind the TPROXY rule set.
  void startProxy(SpliceProxyOptions options = {}) {
    options.mode = GetParam();
    proxy_ = std::make_unique<SpliceProxy>(options);
    auto port = proxy_->addListener(nsVnet_, 0);
    ASSERT_TRUE(port.ok()) << port.status().toString();
    proxy_->setEndpoints(nsVnet_, {{ip("10.0.1.4"), {.upstream = ip("100.64.0.2"),
                                                     .linkId = kLinkId}}});
    ASSERT_TRUE(proxy_->start().ok());
    const std::string nft =
        "table ip plppv2 {\n"
        "  chain pre {\n"
        "    type filter hook prerouting priority mangle; policy accept;\n"
        "    ip daddr { 10.0.1.4, 10.0.1.6 } tcp dport " + std::to_string(kServicePort) +
        " meta mark set 1 tproxy to :" + std::to_string(*port) + "\n"
        "  }\n"
        "}\n";
    auto st = kernel_->nftApply(nsVnet_, nft);
    ASSERT_TRUE(st.ok()) << st.toString();
    st = kernel_->addRule(nsVnet_, {.fwmark = 1, .table = 100, .priority = 100});
    ASSERT_TRUE(st.ok()) << st.toString();
    st = kernel_->addRoute(nsVnet_, {.destination = *IpPrefix::parse("0.0.0.0/0"),
                                     .device = "lo",
                                     .table = 100,
                                     .type = dataplane::RouteType::kLocal});
    ASSERT_TRUE(st.ok()) << st.toString();
  }

  void startServer() {
    server_ = socketIn(nsUp_);
    ASSERT_TRUE(server_.valid());
    int one = 1;
    ::setsockopt(server_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    auto sa = v4("100.64.0.2", kServicePort);
    ASSERT_EQ(::bind(server_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0)
        << std::strerror(errno);
    ASSERT_EQ(::listen(server_.get(), 128), 0);
  }

  void TearDown() override {
    proxy_.reset();
    server_.reset();
    if (!kernel_) return;
    for (const auto& ns : {nsClient_, nsVnet_, nsUp_}) (void)kernel_->deleteNamespace(ns);
    removeTestNamespaces(prefix_);
    auto names = dataplane::listPersistentNamespaces();
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) EXPECT_NE(name.rfind(prefix_, 0), 0u) << name << " leaked";
    EXPECT_EQ(openFdCount(), fdsBefore_) << "file descriptors leaked";
  }

  UniqueFd socketIn(const std::string& ns) {
    auto handle = NetnsHandle::open(ns);
    if (!handle.ok()) return UniqueFd();
    auto guard = NamespaceGuard::enter(*handle);
    if (!guard.ok()) return UniqueFd();
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    setTimeouts(fd.get());
    return fd;
  }

  // A client connection from the client namespace to address:kServicePort.
  UniqueFd connectClient(const char* address, uint16_t* localPort = nullptr) {
    UniqueFd fd = socketIn(nsClient_);
    auto sa = v4(address, kServicePort);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      ADD_FAILURE() << "connect " << address << ": " << std::strerror(errno);
      return UniqueFd();
    }
    if (localPort) {
      sockaddr_in local{};
      socklen_t len = sizeof(local);
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len);
      *localPort = ntohs(local.sin_port);
    }
    return fd;
  }

  // Accepts one connection at the upstream server and reads its PPv2 header (exactly).
  UniqueFd acceptWithHeader(std::vector<uint8_t>* raw, ProxyHeader* header) {
    pollfd p{server_.get(), POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) {
      ADD_FAILURE() << "no connection reached the upstream server";
      return UniqueFd();
    }
    UniqueFd fd(::accept4(server_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    setTimeouts(fd.get());
    raw->clear();
    for (;;) {
      auto parsed = parseProxyHeader(*raw);
      if (!parsed.ok()) {
        ADD_FAILURE() << parsed.status().toString();
        return UniqueFd();
      }
      if (parsed->complete) {
        *header = parsed->header;
        return fd;
      }
      const size_t have = raw->size();
      raw->resize(parsed->size);
      if (!recvAll(fd.get(), raw->data() + have, parsed->size - have)) {
        ADD_FAILURE() << "connection closed inside the PROXY header";
        return UniqueFd();
      }
    }
  }

  std::string prefix_, nsClient_, nsVnet_, nsUp_;
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<SpliceProxy> proxy_;
  UniqueFd server_;
  int fdsBefore_ = 0;
};

TEST_P(SpliceProxyTest, BackendSeesClientEndpointAndLinkIdByteExact) {
  startProxy();
  startServer();
  uint16_t clientPort = 0;
  UniqueFd client = connectClient("10.0.1.4", &clientPort);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(sendAll(client.get(), "hello", 5));
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  EXPECT_EQ(header, ProxyHeader::tcp(ip("10.0.1.5"), clientPort, ip("10.0.1.4"), kServicePort,
                                     kLinkId));
  // The whole header, byte for byte: v2 PROXY TCP4, 20 bytes of body, addresses, ports, TLV.
  std::vector<uint8_t> want(proxyV2Signature().begin(), proxyV2Signature().end());
  want.insert(want.end(), {0x21, 0x11, 0x00, 0x14, 10, 0, 1, 5, 10, 0, 1, 4,
                           static_cast<uint8_t>(clientPort >> 8),
                           static_cast<uint8_t>(clientPort & 0xff), 0x20, 0xFB, 0xEE, 0x00, 0x05,
                           0x01, 0x44, 0x33, 0x22, 0x11});
  EXPECT_EQ(raw, want);
  EXPECT_EQ(recvString(backend.get(), 5), "hello");
  ASSERT_TRUE(sendAll(backend.get(), "world", 5));
  EXPECT_EQ(recvString(client.get(), 5), "world");
  client.reset();
  char c;
  EXPECT_EQ(::recv(backend.get(), &c, 1, 0), 0);  // the client's FIN reached the backend
  backend.reset();
  for (int i = 0; i < 100 && proxy_->counters().connectionsActive != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  const auto counters = proxy_->counters();
  EXPECT_EQ(counters.connectionsAccepted, 1u);
  EXPECT_EQ(counters.connectionsActive, 0u);
  EXPECT_EQ(counters.headersSent, 1u);
  EXPECT_EQ(counters.bytesToUpstream, 5u);
  EXPECT_EQ(counters.bytesToClient, 5u);
  const auto perEndpoint = proxy_->endpointCounters();
  const auto it = perEndpoint.find({nsVnet_, ip("10.0.1.4")});
  ASSERT_NE(it, perEndpoint.end());
  EXPECT_EQ(it->second, (EndpointCounters{.connections = 1, .upstreamConnectFailures = 0,
                                          .bytesToUpstream = 5, .bytesToClient = 5}));
}

TEST_P(SpliceProxyTest, LargeTransferBothWaysAtOnce) {
  startProxy();
  startServer();
  constexpr uint64_t kBytes = 64ull << 20;
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  bool clientSent = false, backendSent = false;
  std::thread up([&] {
    clientSent = sendPattern(client.get(), kBytes, 0);
    ::shutdown(client.get(), SHUT_WR);
  });
  std::thread down([&] {
    backendSent = sendPattern(backend.get(), kBytes, 1);
    ::shutdown(backend.get(), SHUT_WR);
  });
  int64_t atBackend = 0;
  std::thread readBackend([&] { atBackend = recvPatternToEof(backend.get(), 0); });
  const int64_t atClient = recvPatternToEof(client.get(), 1);
  up.join();
  down.join();
  readBackend.join();
  EXPECT_TRUE(clientSent);
  EXPECT_TRUE(backendSent);
  EXPECT_EQ(atBackend, static_cast<int64_t>(kBytes));
  EXPECT_EQ(atClient, static_cast<int64_t>(kBytes));
  // kHybrid moved both directions' bulk through pipes after the first full reads.
  const uint64_t switches = proxy_->counters().bulkSwitches;
  if (GetParam() == ProxyCopyMode::kHybrid) {
    EXPECT_EQ(switches, 2u);
  } else {
    EXPECT_EQ(switches, 0u);
  }
}

// kHybrid: small request/response exchanges stay on recv/send (no pipe is made for them).
TEST_P(SpliceProxyTest, SmallExchangesDoNotSwitchToSplice) {
  startProxy();
  startServer();
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  const std::string request(64, 'q'), response(64, 'r');
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(sendAll(client.get(), request.data(), request.size()));
    ASSERT_EQ(recvString(backend.get(), request.size()), request);
    ASSERT_TRUE(sendAll(backend.get(), response.data(), response.size()));
    ASSERT_EQ(recvString(client.get(), response.size()), response);
  }
  EXPECT_EQ(proxy_->counters().bulkSwitches, 0u);
}

TEST_P(SpliceProxyTest, HalfCloseFromClientStillCarriesTheResponse) {
  startProxy();
  startServer();
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  ASSERT_TRUE(sendAll(client.get(), "request", 7));
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  EXPECT_EQ(recvString(backend.get(), 7), "request");
  char c;
  EXPECT_EQ(::recv(backend.get(), &c, 1, 0), 0) << "the client's FIN must reach the backend";
  // After the client's FIN, the backend can still answer (and more than a pipe's worth).
  ASSERT_TRUE(sendPattern(backend.get(), 1 << 20, 1));
  ASSERT_EQ(::shutdown(backend.get(), SHUT_WR), 0);
  EXPECT_EQ(recvPatternToEof(client.get(), 1), 1 << 20);
}

TEST_P(SpliceProxyTest, HalfCloseFromBackendStillCarriesClientData) {
  startProxy();
  startServer();
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  ASSERT_EQ(::shutdown(backend.get(), SHUT_WR), 0);
  char c;
  EXPECT_EQ(::recv(client.get(), &c, 1, 0), 0) << "the backend's FIN must reach the client";
  ASSERT_TRUE(sendPattern(client.get(), 1 << 20, 0));
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  EXPECT_EQ(recvPatternToEof(backend.get(), 0), 1 << 20);
}

TEST_P(SpliceProxyTest, SlowReaderStopsTheSenderAndThenGetsEverything) {
  SpliceProxyOptions options;
  options.pipeCapacity = 64 * 1024;
  startProxy(options);
  startServer();
  constexpr uint64_t kBytes = 256ull << 20;
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  std::atomic<uint64_t> sent{0};
  bool ok = false;
  std::thread writer([&] {
    ok = sendPattern(backend.get(), kBytes, 1, &sent);
    ::shutdown(backend.get(), SHUT_WR);
  });
  // The client does not read: the sender must stall once the kernel buffers and the proxy's
  // pipe are full, instead of the proxy buffering without bound.
  std::this_thread::sleep_for(1000ms);
  const uint64_t stalledAt = sent.load();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(sent.load(), stalledAt) << "the sender kept going while nobody read";
  EXPECT_LT(stalledAt, 48ull << 20) << "more than socket buffers + one pipe in flight";
  EXPECT_EQ(recvPatternToEof(client.get(), 1), static_cast<int64_t>(kBytes));
  writer.join();
  EXPECT_TRUE(ok);
}

TEST_P(SpliceProxyTest, UnknownEndpointIsReset) {
  startProxy();
  startServer();
  UniqueFd client = connectClient("10.0.1.6");
  ASSERT_TRUE(client.valid());
  char c;
  EXPECT_EQ(::recv(client.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(proxy_->counters().unknownEndpoint, 1u);
}

TEST_P(SpliceProxyTest, RefusedUpstreamResetsTheClient) {
  startProxy();  // no server in the upstream namespace
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  char c;
  EXPECT_EQ(::recv(client.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(proxy_->counters().upstreamConnectFailures, 1u);
  auto perEndpoint = proxy_->endpointCounters();
  EXPECT_EQ((perEndpoint[{nsVnet_, ip("10.0.1.4")}].upstreamConnectFailures), 1u);
}

TEST_P(SpliceProxyTest, IdleConnectionIsResetOnBothSides) {
  SpliceProxyOptions options;
  options.idleTimeout = 300ms;
  startProxy(options);
  startServer();
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  char c;
  EXPECT_EQ(::recv(client.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(::recv(backend.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(proxy_->counters().idleTimeouts, 1u);
}

// The agent's Reject/Remove of an endpoint: resetEndpoint cuts that endpoint's established
// connections on both sides and leaves the other endpoint's alone; removeNamespace frees the port
// at once (a listener can be opened on it again).
TEST_P(SpliceProxyTest, ResetEndpointCutsOnlyThatEndpointsConnections) {
  startProxy();
  startServer();
  proxy_->setEndpoints(nsVnet_, {{ip("10.0.1.4"), {.upstream = ip("100.64.0.2"), .linkId = 1}},
                                 {ip("10.0.1.6"), {.upstream = ip("100.64.0.2"), .linkId = 2}}});
  UniqueFd cut = connectClient("10.0.1.4");
  ASSERT_TRUE(cut.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd cutBackend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(cutBackend.valid());
  UniqueFd kept = connectClient("10.0.1.6");
  ASSERT_TRUE(kept.valid());
  UniqueFd keptBackend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(keptBackend.valid());
  EXPECT_EQ(header.azureLinkId, std::optional<uint32_t>(2));

  proxy_->setEndpoints(nsVnet_, {{ip("10.0.1.6"), {.upstream = ip("100.64.0.2"), .linkId = 2}}});
  proxy_->resetEndpoint(nsVnet_, ip("10.0.1.4"));
  // resetEndpoint returned: the connection is closed already.
  EXPECT_EQ(proxy_->counters().connectionsActive, 1u);
  char c;
  EXPECT_EQ(::recv(cut.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(::recv(cutBackend.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  ASSERT_TRUE(sendAll(kept.get(), "still", 5));
  EXPECT_EQ(recvString(keptBackend.get(), 5), "still");
  ASSERT_TRUE(sendAll(keptBackend.get(), "there", 5));
  EXPECT_EQ(recvString(kept.get(), 5), "there");

  proxy_->removeNamespace(nsVnet_);
  EXPECT_EQ(proxy_->counters().connectionsActive, 0u);
  for (int i = 0; i < 2; ++i) {  // the same fixed port twice: closed when removeNamespace returns
    auto port = proxy_->addListener(nsVnet_, 18443);
    EXPECT_TRUE(port.ok()) << i << ": " << port.status().toString();
    proxy_->removeNamespace(nsVnet_);
  }
}

TEST_P(SpliceProxyTest, ManyConnectionsLeaveNoFdsBehind) {
  startProxy();
  startServer();
  // Warm-up: once a loop has handled a connection, its thread holds its namespace guard's fd for
  // good; count fds only after every loop has (connections spread over loops by their ports).
  int warmups = 0;
  auto allLoopsUsed = [&] {
    for (const auto& c : proxy_->loopCounters()) {
      if (c.connectionsAccepted == 0) return false;
    }
    return true;
  };
  for (; warmups < 100 && !allLoopsUsed(); ++warmups) {
    UniqueFd client = connectClient("10.0.1.4");
    ASSERT_TRUE(client.valid());
    std::vector<uint8_t> raw;
    ProxyHeader header;
    UniqueFd backend = acceptWithHeader(&raw, &header);
    ASSERT_TRUE(backend.valid());
  }
  ASSERT_TRUE(allLoopsUsed());
  for (int w = 0; w < 300 && proxy_->counters().connectionsActive != 0; ++w) {
    std::this_thread::sleep_for(10ms);
  }
  const int before = openFdCount();
  for (int i = 0; i < 201; ++i) {
    UniqueFd client = connectClient("10.0.1.4");
    ASSERT_TRUE(client.valid());
    std::vector<uint8_t> raw;
    ProxyHeader header;
    UniqueFd backend = acceptWithHeader(&raw, &header);
    ASSERT_TRUE(backend.valid());
    ASSERT_TRUE(sendAll(client.get(), "x", 1));
    ASSERT_EQ(recvString(backend.get(), 1), "x");
    if (i % 2 == 0) {
      ::shutdown(client.get(), SHUT_WR);  // orderly close from either side
    } else {
      ::shutdown(backend.get(), SHUT_WR);
    }
  }
  for (int i = 0; i < 300 && proxy_->counters().connectionsActive != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(proxy_->counters().connectionsActive, 0u);
  EXPECT_EQ(proxy_->counters().connectionsClosed, 201u + static_cast<uint64_t>(warmups));
  EXPECT_EQ(openFdCount(), before);
}

// Several event loops: concurrent connections land on more than one loop (SO_REUSEPORT
// listeners behind TPROXY), and each carries its own bytes both ways with its own header.
TEST_P(SpliceProxyTest, ConnectionsSpreadOverLoopsAndEachCarriesItsBytes) {
  startProxy({.threads = 2});
  startServer();
  ASSERT_EQ(proxy_->loopCount(), 2);
  constexpr int kConnections = 24;
  std::vector<UniqueFd> clients, backends;
  std::vector<uint16_t> ports(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(connectClient("10.0.1.4", &ports[static_cast<size_t>(i)]));
    ASSERT_TRUE(clients.back().valid());
    std::vector<uint8_t> raw;
    ProxyHeader header;
    backends.push_back(acceptWithHeader(&raw, &header));
    ASSERT_TRUE(backends.back().valid());
    // The connections are accepted in order: this backend connection is client i's.
    EXPECT_EQ(header.sourcePort, ports[static_cast<size_t>(i)]);
  }
  for (int i = 0; i < kConnections; ++i) {
    const std::string up = "up" + std::to_string(i) + std::string(1000 + i, 'u');
    const std::string down = "down" + std::to_string(i) + std::string(3000 + i, 'd');
    ASSERT_TRUE(sendAll(clients[static_cast<size_t>(i)].get(), up.data(), up.size()));
    ASSERT_TRUE(sendAll(backends[static_cast<size_t>(i)].get(), down.data(), down.size()));
    EXPECT_EQ(recvString(backends[static_cast<size_t>(i)].get(), up.size()), up);
    EXPECT_EQ(recvString(clients[static_cast<size_t>(i)].get(), down.size()), down);
  }
  const auto perLoop = proxy_->loopCounters();
  ASSERT_EQ(perLoop.size(), 2u);
  uint64_t accepted = 0;
  for (const auto& c : perLoop) {
    EXPECT_GT(c.connectionsAccepted, 0u) << "a loop accepted nothing";
    EXPECT_EQ(c.connectionsActive, c.connectionsAccepted);
    accepted += c.connectionsAccepted;
  }
  EXPECT_EQ(accepted, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(proxy_->counters().connectionsActive, static_cast<uint64_t>(kConnections));
}

// stop() with live connections on several loops: every client and backend connection is reset,
// nothing is left open, and the port can be listened on again.
TEST_P(SpliceProxyTest, StopWithLiveConnectionsOnSeveralLoopsResetsThemAll) {
  startProxy({.threads = 2});
  startServer();
  const int fdsAtStart = openFdCount();
  constexpr int kConnections = 16;
  std::vector<UniqueFd> clients, backends;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(connectClient("10.0.1.4"));
    ASSERT_TRUE(clients.back().valid());
    std::vector<uint8_t> raw;
    ProxyHeader header;
    backends.push_back(acceptWithHeader(&raw, &header));
    ASSERT_TRUE(backends.back().valid());
    ASSERT_TRUE(sendAll(clients.back().get(), "ping", 4));
    ASSERT_EQ(recvString(backends.back().get(), 4), "ping");
  }
  int loopsUsed = 0;
  for (const auto& c : proxy_->loopCounters()) loopsUsed += c.connectionsActive > 0 ? 1 : 0;
  EXPECT_EQ(loopsUsed, 2);
  proxy_->stop();
  const auto c = proxy_->counters();
  EXPECT_EQ(c.connectionsActive, 0u);
  EXPECT_EQ(c.connectionsClosed, static_cast<uint64_t>(kConnections));
  for (auto* side : {&clients, &backends}) {
    for (auto& fd : *side) {
      char b;
      const ssize_t r = ::recv(fd.get(), &b, 1, 0);
      EXPECT_TRUE(r == 0 || (r < 0 && errno == ECONNRESET))
          << "r=" << r << " " << std::strerror(errno);
    }
  }
  clients.clear();
  backends.clear();
  // The proxy holds no socket of its own any more (its listeners and connections are closed);
  // the loops keep only their epoll/eventfd and the namespace guard fds.
  EXPECT_LE(openFdCount(), fdsAtStart + proxy_->loopCount());
  // Listeners are closed at stop(): the namespace can be given one again (then stopped again).
  auto port = proxy_->addListener(nsVnet_, 0);
  EXPECT_TRUE(port.ok()) << port.status().toString();
  EXPECT_TRUE(proxy_->start().ok());
  proxy_->stop();
}

// A real PPv2-aware server: HAProxy 2.6 with `accept-proxy` in the upstream namespace answers
// with the client and destination addresses it took from our header (src/dst sample fetches).
TEST_P(SpliceProxyTest, HaproxyAcceptProxySeesTheConsumerClient) {
  ASSERT_EQ(::access("/usr/sbin/haproxy", X_OK), 0) << "install haproxy (scripts/install-deps.sh)";
  startProxy();
  const std::string dir = "/tmp/" + prefix_ + "haproxy";
  std::filesystem::create_directories(dir);
  {
    std::ofstream cfg(dir + "/haproxy.cfg");
    cfg << "global\n  maxconn 100\n"
           "defaults\n  mode http\n  timeout connect 5s\n  timeout client 10s\n"
           "  timeout server 10s\n"
           "frontend fe\n  bind 100.64.0.2:"
        << kServicePort
        << " accept-proxy\n"
           "  http-request return status 200 content-type text/plain lf-string "
           "\"client=%[src]:%[src_port] endpoint=%[dst]:%[dst_port]\\n\"\n";
  }
  const std::string cmd = "exec ip netns exec " + nsUp_ + " /usr/sbin/haproxy -db -f " + dir +
                          "/haproxy.cfg";
  pid_t pid = 0;
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  ASSERT_EQ(::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ),
            0);
  struct Reaper {
    pid_t pid;
    std::string dir;
    ~Reaper() {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } reaper{pid, dir};
  std::string response;
  uint16_t clientPort = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until haproxy listens
    std::this_thread::sleep_for(50ms);
    UniqueFd client = connectClient("10.0.1.4", &clientPort);
    ASSERT_TRUE(client.valid());
    const std::string req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (!sendAll(client.get(), req.data(), req.size())) continue;
    response.clear();
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(client.get(), buf, sizeof(buf), 0)) > 0) response.append(buf, n);
    if (!response.empty()) break;
  }
  EXPECT_NE(response.find("200"), std::string::npos) << response;
  EXPECT_NE(response.find("client=10.0.1.5:" + std::to_string(clientPort) +
                          " endpoint=10.0.1.4:" + std::to_string(kServicePort)),
            std::string::npos)
      << response;
}

// Direct upstream (EndpointTarget::direct): the upstream connection is opened in the provider
// namespace (here nsUp_) from the NAT IP 10.1.0.20 (local there) straight to a backend in a
// backend namespace (10.1.0.4 and 10.1.0.5, port 9000) - not to T_pe, where no server listens in
// these tests unless one says so.
class SpliceProxyDirectTest : public SpliceProxyTest {
 protected:
  static constexpr uint16_t kBackendPort = 9000;

  void SetUp() override {
    SpliceProxyTest::SetUp();
    if (HasFatalFailure()) return;
    nsBack_ = prefix_ + "b";
    ASSERT_TRUE(kernel_->createNamespace(nsBack_).ok());
    ASSERT_TRUE(kernel_->setLinkUp(nsBack_, "lo", true).ok());
    ASSERT_TRUE(kernel_->createVethPair(nsUp_, "u1", nsBack_, "b0").ok());
    ASSERT_TRUE(kernel_->setLinkUp(nsUp_, "u1", true).ok());
    ASSERT_TRUE(kernel_->setLinkUp(nsBack_, "b0", true).ok());
    for (const auto& [ns, link, a, len] : std::vector<std::tuple<std::string, const char*,
                                                                 const char*, int>>{
             {nsUp_, "u1", "10.1.0.1", 24},
             {nsUp_, "u1", "10.1.0.20", 32},  // the NAT IP
             {nsBack_, "b0", "10.1.0.4", 24},
             {nsBack_, "b0", "10.1.0.5", 24}}) {
      auto st = kernel_->addAddress(ns, {.link = link, .address = ip(a), .prefixLength = len});
      ASSERT_TRUE(st.ok()) << st.toString();
    }
    for (const char* a : {"10.1.0.4", "10.1.0.5"}) {
      UniqueFd fd = socketIn(nsBack_);
      ASSERT_TRUE(fd.valid());
      int one = 1;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      auto sa = v4(a, kBackendPort);
      ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0)
          << std::strerror(errno);
      ASSERT_EQ(::listen(fd.get(), 128), 0);
      backends_.push_back(std::move(fd));
    }
  }
  void TearDown() override {
    backends_.clear();
    proxy_.reset();
    if (kernel_) (void)kernel_->deleteNamespace(nsBack_);
    SpliceProxyTest::TearDown();
  }

  // Every one of 64 buckets of kServicePort -> `backend`:kBackendPort.
  static DirectUpstream directTo(const std::string& ns, const char* backend) {
    DirectUpstream d{.ns = ns, .source = ip("10.1.0.20"), .buckets = {}};
    d.buckets[kServicePort].assign(64, UpstreamBackend{ip(backend), kBackendPort});
    return d;
  }
  void setDirect(std::optional<DirectUpstream> direct) {
    proxy_->setEndpoints(nsVnet_, {{ip("10.0.1.4"), {.upstream = ip("100.64.0.2"),
                                                     .linkId = kLinkId,
                                                     .direct = std::move(direct)}}});
  }

  // Accepts one connection at backend `i` (0: 10.1.0.4, 1: 10.1.0.5) and reads its header.
  UniqueFd acceptAt(size_t i, sockaddr_in* peer, ProxyHeader* header) {
    pollfd p{backends_[i].get(), POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) {
      ADD_FAILURE() << "no connection reached backend " << i;
      return UniqueFd();
    }
    socklen_t len = sizeof(*peer);
    UniqueFd fd(::accept4(backends_[i].get(), reinterpret_cast<sockaddr*>(peer), &len,
                          SOCK_CLOEXEC));
    setTimeouts(fd.get());
    std::vector<uint8_t> raw(16);
    if (!recvAll(fd.get(), raw.data(), raw.size())) return UniqueFd();
    auto parsed = parseProxyHeader(raw);
    if (!parsed.ok()) return UniqueFd();
    raw.resize(parsed->size);
    if (!recvAll(fd.get(), raw.data() + 16, raw.size() - 16)) return UniqueFd();
    parsed = parseProxyHeader(raw);
    if (!parsed.ok() || !parsed->complete) return UniqueFd();
    *header = parsed->header;
    return fd;
  }
  bool pending(size_t i) {
    pollfd p{backends_[i].get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

  // Inode of the network namespace `ns`, and whether a thread of this process is inside it.
  static ino_t inodeOf(const std::string& ns) {
    struct stat st{};
    return ::stat(("/run/netns/" + ns).c_str(), &st) == 0 ? st.st_ino : 0;
  }
  static bool aThreadIsIn(ino_t inode) {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      struct stat st{};
      if (::stat((task.path() / "ns" / "net").c_str(), &st) == 0 && st.st_ino == inode) {
        return true;
      }
    }
    return false;
  }

  std::string nsBack_;
  std::vector<UniqueFd> backends_;
};

TEST_P(SpliceProxyDirectTest, BackendSeesTheNatIpAndThePpv2HeaderNamesTheClient) {
  startProxy();
  setDirect(directTo(nsUp_, "10.1.0.4"));
  uint16_t clientPort = 0;
  UniqueFd client = connectClient("10.0.1.4", &clientPort);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(sendAll(client.get(), "hello", 5));
  sockaddr_in peer{};
  ProxyHeader header;
  UniqueFd backend = acceptAt(0, &peer, &header);
  ASSERT_TRUE(backend.valid());
  char source[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &peer.sin_addr, source, sizeof(source));
  EXPECT_STREQ(source, "10.1.0.20") << "the backend must see the NAT IP as the source";
  EXPECT_EQ(header, ProxyHeader::tcp(ip("10.0.1.5"), clientPort, ip("10.0.1.4"), kServicePort,
                                     kLinkId));
  EXPECT_EQ(recvString(backend.get(), 5), "hello");
  ASSERT_TRUE(sendAll(backend.get(), "world", 5));
  EXPECT_EQ(recvString(client.get(), 5), "world");
  // Half-close crosses the direct path too.
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  char c;
  EXPECT_EQ(::recv(backend.get(), &c, 1, 0), 0);
  ASSERT_TRUE(sendPattern(backend.get(), 1 << 20, 1));
  ASSERT_EQ(::shutdown(backend.get(), SHUT_WR), 0);
  EXPECT_EQ(recvPatternToEof(client.get(), 1), 1 << 20);
  const auto counters = proxy_->counters();
  EXPECT_EQ(counters.directUpstreams, 1u);
  EXPECT_EQ(counters.headersSent, 1u);
}

// The agent hands new buckets after a health change or a pool change: new connections follow
// them, established ones to the old backend are not touched (as lb_dnat changes on the NAT path).
TEST_P(SpliceProxyDirectTest, NewBucketsSteerNewConnectionsAndKeepEstablishedOnes) {
  startProxy();
  setDirect(directTo(nsUp_, "10.1.0.4"));
  UniqueFd first = connectClient("10.0.1.4");
  ASSERT_TRUE(first.valid());
  sockaddr_in peer{};
  ProxyHeader header;
  UniqueFd firstBackend = acceptAt(0, &peer, &header);
  ASSERT_TRUE(firstBackend.valid());

  setDirect(directTo(nsUp_, "10.1.0.5"));  // 10.1.0.4 failed its probe
  UniqueFd second = connectClient("10.0.1.4");
  ASSERT_TRUE(second.valid());
  UniqueFd secondBackend = acceptAt(1, &peer, &header);
  ASSERT_TRUE(secondBackend.valid());
  EXPECT_FALSE(pending(0));
  ASSERT_TRUE(sendAll(first.get(), "old", 3));
  EXPECT_EQ(recvString(firstBackend.get(), 3), "old");
  ASSERT_TRUE(sendAll(secondBackend.get(), "new", 3));
  EXPECT_EQ(recvString(second.get(), 3), "new");

  // Both backends in the buckets: connections spread over both.
  DirectUpstream both = directTo(nsUp_, "10.1.0.4");
  for (size_t b = 0; b < 64; b += 2) both.buckets[kServicePort][b].address = ip("10.1.0.5");
  setDirect(both);
  std::vector<UniqueFd> clients, accepted;
  int at[2] = {0, 0};
  for (int i = 0; i < 24; ++i) {
    clients.push_back(connectClient("10.0.1.4"));
    ASSERT_TRUE(clients.back().valid());
    ASSERT_TRUE(sendAll(clients.back().get(), "x", 1));
  }
  for (int i = 0; i < 24; ++i) {
    pollfd p[2] = {{backends_[0].get(), POLLIN, 0}, {backends_[1].get(), POLLIN, 0}};
    ASSERT_GT(::poll(p, 2, 10000), 0);
    const size_t b = (p[0].revents & POLLIN) ? 0 : 1;
    accepted.push_back(acceptAt(b, &peer, &header));
    ASSERT_TRUE(accepted.back().valid());
    ++at[b];
  }
  EXPECT_GT(at[0], 0);
  EXPECT_GT(at[1], 0);
  EXPECT_EQ(proxy_->counters().directUpstreams, 26u);
}

// A port no rule exposes (or whose rule has no healthy backend) is refused, as on the NAT path.
TEST_P(SpliceProxyDirectTest, PortWithoutBucketsIsRefused) {
  startProxy();
  DirectUpstream d = directTo(nsUp_, "10.1.0.4");
  d.buckets.clear();
  d.buckets[kServicePort + 1].assign(64, UpstreamBackend{ip("10.1.0.4"), kBackendPort});
  setDirect(d);
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  char c;
  EXPECT_EQ(::recv(client.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(proxy_->counters().upstreamConnectFailures, 1u);
  EXPECT_FALSE(pending(0));
}

// A provider namespace that cannot be opened: the T_pe path carries the connection.
TEST_P(SpliceProxyDirectTest, MissingProviderNamespaceFallsBackToTransit) {
  startProxy();
  startServer();  // T_pe's server
  setDirect(directTo(prefix_ + "gone", "10.1.0.4"));
  UniqueFd client = connectClient("10.0.1.4");
  ASSERT_TRUE(client.valid());
  std::vector<uint8_t> raw;
  ProxyHeader header;
  UniqueFd backend = acceptWithHeader(&raw, &header);
  ASSERT_TRUE(backend.valid());
  EXPECT_EQ(header.azureLinkId, std::optional<uint32_t>(kLinkId));
  EXPECT_EQ(proxy_->counters().directUpstreams, 0u);
  EXPECT_FALSE(pending(0));
}

// The loop threads do not keep a provider namespace alive once no map names it (a deleted
// namespace would otherwise live on with its links).
TEST_P(SpliceProxyDirectTest, LoopsLeaveTheProviderNamespaceWhenNoMapNamesIt) {
  startProxy();
  setDirect(directTo(nsUp_, "10.1.0.4"));
  {
    UniqueFd client = connectClient("10.0.1.4");
    ASSERT_TRUE(client.valid());
    sockaddr_in peer{};
    ProxyHeader header;
    UniqueFd backend = acceptAt(0, &peer, &header);
    ASSERT_TRUE(backend.valid());
  }
  const ino_t provider = inodeOf(nsUp_);
  ASSERT_NE(provider, 0u);
  EXPECT_TRUE(aThreadIsIn(provider)) << "the loop stays in the namespace it last needed";
  setDirect(std::nullopt);
  bool left = false;
  for (int i = 0; i < 200 && !left; ++i) {
    left = !aThreadIsIn(provider);
    if (!left) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(left);
}

INSTANTIATE_TEST_SUITE_P(Modes, SpliceProxyDirectTest,
                         ::testing::Values(ProxyCopyMode::kCopy, ProxyCopyMode::kHybrid),
                         [](const ::testing::TestParamInfo<ProxyCopyMode>& info) {
                           return info.param == ProxyCopyMode::kCopy ? "Copy" : "Hybrid";
                         });

INSTANTIATE_TEST_SUITE_P(Modes, SpliceProxyTest,
                         ::testing::Values(ProxyCopyMode::kSplice, ProxyCopyMode::kCopy,
                                           ProxyCopyMode::kHybrid),
                         [](const ::testing::TestParamInfo<ProxyCopyMode>& info) {
                           switch (info.param) {
                             case ProxyCopyMode::kSplice: return "Splice";
                             case ProxyCopyMode::kCopy: return "Copy";
                             case ProxyCopyMode::kHybrid: return "Hybrid";
                           }
                           return "Unknown";
                         });

}  // namespace
}  // namespace privlink::proxy
