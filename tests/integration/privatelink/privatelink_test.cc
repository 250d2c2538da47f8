// Private endpoint -> private link service -> internal load balancer on the real kernel (root),
// DESIGN.md §2. A real Agent over an in-memory store holding the documents the control plane
// writes (VNets, NICs with pool membership, the LB, the PLS with NAT IPs, the endpoint, its
// read-only NIC and its connection record). Consumer and provider VNets both use 10.0.0.0/16 and
// the backend web1 has the very address of the client (10.0.1.4). Traffic is real: curl against
// `python3 -m http.server` in the backends' namespaces, and in-process TCP/UDP sockets.
// Prefix dpn<pid>; TearDown kills the servers and removes every namespace (Agent::cleanupAll),
// also when a test fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "agent/agent.h"
#include "agent/endpoint_counters.h"
#include "agent/fast_path.h"
#include "control/provisioning.h"
#include "dataplane/conntrack.h"
#include "dataplane/kernel.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "model/host_naming.h"
#include "model/transit.h"
#include "proxy/proxy_protocol.h"
#include "store/store.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using dataplane::NamespaceGuard;
using dataplane::NetnsHandle;
using dataplane::UniqueFd;
using namespace privlink::testing;
using namespace std::chrono_literals;

const std::string kConsumer = vnetId("rgc", "consumer");
const std::string kConsumerSubnet = subnetId(kConsumer, "default");
const std::string kProvider = vnetId("rgp", "provider");
const std::string kProviderSubnet = subnetId(kProvider, "backends");
const std::string kOther = vnetId("rgo", "other");
const std::string kOtherSubnet = subnetId(kOther, "default");
const std::string kLb = resourceId("rgp", "Microsoft.Network/loadBalancers", "lb");
const std::string kPool = kLb + "/backendAddressPools/pool";
const std::string kPls = resourceId("rgp", "Microsoft.Network/privateLinkServices", "pls");
const std::string kPe = resourceId("rgc", "Microsoft.Network/privateEndpoints", "pe1");
const std::string kPeAddress = "10.0.1.9";
constexpr uint32_t kLink = 7;
const std::string kTpe = "100.96.0.7";       // endpointTransitAddress(100.64.0.0/10, 7)
const std::string kNatAddress = "10.0.1.21";  // NAT IP [7 % 2]

sockaddr_in socketAddress(const std::string& address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  return sa;
}

UniqueFd socketIn(const std::string& ns, int type) {
  auto handle = NetnsHandle::open(ns);
  if (!handle.ok()) {
    ADD_FAILURE() << handle.status().toString();
    return UniqueFd();
  }
  auto guard = NamespaceGuard::enter(*handle);
  if (!guard.ok()) {
    ADD_FAILURE() << guard.status().toString();
    return UniqueFd();
  }
  return UniqueFd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
}

UniqueFd bindIn(const std::string& ns, int type, uint16_t port) {
  UniqueFd fd = socketIn(ns, type);
  if (!fd.valid()) return fd;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = socketAddress("0.0.0.0", port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0)
      << "bind :" << port << " in " << ns << ": " << std::strerror(errno);
  if (type == SOCK_STREAM) EXPECT_EQ(::listen(fd.get(), 64), 0);
  return fd;
}

// Connects from `ns`; returns the fd, or an invalid fd with `*error` = errno (ETIMEDOUT when
// nothing answered within `timeout`).
UniqueFd connectFrom(const std::string& ns, const std::string& address, uint16_t port,
                     int* error = nullptr, std::chrono::milliseconds timeout = 2000ms) {
  int ignored = 0;
  if (error == nullptr) error = &ignored;
  UniqueFd fd = socketIn(ns, SOCK_STREAM);
  if (!fd.valid()) return fd;
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
  sockaddr_in sa = socketAddress(address, port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 &&
      errno != EINPROGRESS) {
    *error = errno;
    return UniqueFd();
  }
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    *error = ETIMEDOUT;
    return UniqueFd();
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    *error = err;
    return UniqueFd();
  }
  ::fcntl(fd.get(), F_SETFL, flags);
  *error = 0;
  return fd;
}

// Health probes come from the VNet router (the subnet gateway); tests skip them.
const std::string kProbeSource = "10.0.1.1";

// Accepts connections on whichever of `listeners` gets them (2 s in all) until `wanted(fd, peer)`
// takes one (the others, e.g. health probes, are closed). Sets `index` to its listener and `peer`
// to the source address the server sees.
UniqueFd acceptWhere(const std::vector<int>& listeners,
                     const std::function<bool(int fd, const std::string& peer)>& wanted,
                     size_t* index, std::string* peer) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (int l : listeners) fds.push_back({l, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      sockaddr_in sa{};
      socklen_t len = sizeof sa;
      UniqueFd fd(::accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_CLOEXEC));
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &sa.sin_addr, text, sizeof text);
      if (!fd.valid() || !wanted(fd.get(), text)) continue;
      if (index) *index = i;
      if (peer) *peer = text;
      return fd;
    }
  }
  return UniqueFd();
}

// Accepts one connection on whichever of `listeners` gets it first (2 s), skipping health-probe
// connections. Sets `index` to the listener and `peer` to the source address the server sees.
UniqueFd acceptAny(const std::vector<int>& listeners, size_t* index = nullptr,
                   std::string* peer = nullptr) {
  return acceptWhere(
      listeners, [](int, const std::string& from) { return from != kProbeSource; }, index, peer);
}

bool exchange(int from, int to, const std::string& message) {
  if (::send(from, message.data(), message.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(message.size())) {
    return false;
  }
  std::string got;
  while (got.size() < message.size()) {
    pollfd p{to, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return false;
    char buffer[256];
    ssize_t n = ::recv(to, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    got.append(buffer, static_cast<size_t>(n));
  }
  return got == message;
}

// Runs `argv` inside namespace `ns` (ip netns exec), stdout+stderr to `log`.
pid_t spawnIn(const std::string& ns, const std::vector<std::string>& argv,
              const std::string& log, const std::string& directory = "/") {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(directory.c_str()) != 0) ::_exit(126);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<std::string> all = {"ip", "netns", "exec", ns};
    all.insert(all.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& a : all) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp("ip", args.data());
    ::_exit(127);
  }
  return pid;
}

// Runs a command to completion; returns its stdout.
std::string runIn(const std::string& ns, const std::string& command, int* status = nullptr) {
  const std::string full = "ip netns exec " + ns + " " + command + " 2>/dev/null";
  std::string out;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[512];
  while (size_t n = ::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  int rc = ::pclose(pipe);
  if (status) *status = rc;
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The provider's NAT flows in eBPF (pl_flow of the provider VNet namespace) whose NAT IP is
// kNatAddress and protocol `protocol`: (live flows, all flows).
std::pair<uint64_t, uint64_t> natPortsInUse(const std::string& providerNs, uint8_t protocol) {
  auto usage = dataplane::countNatPortsInNamespace(
      providerNs, {IpAddress::parse(kNatAddress).value()});
  EXPECT_TRUE(usage.ok()) << usage.status().toString();
  if (!usage.ok()) return {0, 0};
  for (const dataplane::NatPortUsage& u : *usage) {
    if (u.protocol == protocol) return {u.flows, u.ports};
  }
  return {0, 0};
}

// Provider flow entries (pl_flow) in `providerNs` toward `tpe` (0 when the namespace has no
// pinned fast path maps).
size_t providerFlowsTo(dataplane::Kernel& kernel, const std::string& providerNs,
                       const std::string& tpe) {
  auto flows = kernel.bpfMapDump(providerNs, PL_FP_MAP_FLOW);
  // No pinned map at all (the namespace's last translated endpoint went): no flows. Any other
  // failure is the test's.
  EXPECT_TRUE(flows.ok() || flows.status().code() == StatusCode::kNotFound)
      << flows.status().toString();
  if (!flows.ok()) return 0;
  size_t n = 0;
  const std::string key = fastPathAddressKey(IpAddress::parse(tpe).value());
  for (const auto& [k, v] : *flows) {
    if (k.size() == sizeof(pl_flow_key) && k.compare(4, 4, key) == 0) ++n;
  }
  return n;
}

class PrivateLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "integration tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    prefix_ = "dpn" + std::to_string(::getpid());
    naming_ = model::HostNaming(prefix_);
    kernel_ = dataplane::makeLinuxKernel();
    ASSERT_TRUE(Agent::cleanupAll(*kernel_, prefix_).ok());
    auto store = store::openSqliteStore({":memory:"});
    ASSERT_TRUE(store.ok()) << store.status().toString();
    store_ = std::move(store).value();
    workDir_ = std::filesystem::temp_directory_path() / (prefix_ + "-work");
    std::filesystem::create_directories(workDir_);
  }

  void TearDown() override {
    for (pid_t pid : children_) {
      ::kill(-pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    agent_.reset();
    if (!kernel_) return;
    EXPECT_TRUE(Agent::cleanupAll(*kernel_, prefix_).ok());
    auto names = kernel_->listNamespaces();
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) EXPECT_FALSE(naming_.ownsNamespace(name)) << name << " leaked";
    std::error_code ec;
    std::filesystem::remove_all(workDir_, ec);
  }

  void put(const model::SourceDocument& doc) {
    Status s = store_->write([&](store::Transaction& tx) -> Status {
      return tx.put(doc.id, doc.type, doc.body).status();
    });
    ASSERT_TRUE(s.ok()) << s.toString();
  }
  void erase(const std::string& id) {
    Status s = store_->write(
        [&](store::Transaction& tx) -> Status { return tx.erase(model::normaliseKey(id)); });
    ASSERT_TRUE(s.ok()) << s.toString();
  }

  void converge() {
    const int64_t revision = store_->revision();
    ASSERT_TRUE(tracker_.waitApplied(revision, 30s)) << "agent did not apply " << revision;
    for (const std::string& key : watched_) {
      auto failure = tracker_.failureOf(key, 0);
      EXPECT_FALSE(failure.has_value()) << key << ": " << failure->toString();
    }
  }

  std::string nicNs(const std::string& group, const std::string& name) {
    return naming_.nicNamespace(model::normaliseKey(nicId(group, name)));
  }

  // The whole scenario with the endpoint in `status` (and the PLS's enableProxyProtocol =
  // `proxyProtocol`); starts the agent.
  void build(const std::string& status, bool proxyProtocol = false) {
    put(vnetDocument(kConsumer, {"10.0.0.0/16"}));
    put(subnetDocument(kConsumerSubnet, "10.0.1.0/24"));
    put(nicDocument(nicId("rgc", "client"), kConsumerSubnet, "10.0.1.4"));
    put(vnetDocument(kProvider, {"10.0.0.0/16"}));
    put(subnetDocument(kProviderSubnet, "10.0.1.0/24"));
    put(nicInPoolDocument(nicId("rgp", "web1"), kProviderSubnet, "10.0.1.4", kPool));
    put(nicInPoolDocument(nicId("rgp", "web2"), kProviderSubnet, "10.0.1.5", kPool));
    put(nicDocument(nicId("rgp", "local"), kProviderSubnet, "10.0.1.30"));
    put(vnetDocument(kOther, {"10.0.0.0/16"}));
    put(subnetDocument(kOtherSubnet, "10.0.1.0/24"));
    put(nicDocument(nicId("rgo", "intruder"), kOtherSubnet, "10.0.1.4"));
    put(lbDocument(kLb, kProviderSubnet, "10.0.1.10",
                   {{"http", "Tcp", 80, 8080}, {"dns", "Udp", 53, 5353, false}}, "Tcp", 8080));
    model::SourceDocument pls = plsDocument(kPls, kLb + "/frontendIPConfigurations/fe",
                                            kProviderSubnet, {"10.0.1.20", kNatAddress});
    pls.body["properties"]["enableProxyProtocol"] = proxyProtocol;
    put(pls);
    setEndpoint(status);
    for (const std::string& id : {kConsumer, kProvider, kOther, kLb, kPls, kPe}) {
      watched_.push_back(model::normaliseKey(id));
    }
    AgentOptions o;
    o.namePrefix = prefix_;
    o.realiserName = "privatelink-test";
    o.retryInterval = 200ms;
    o.probeInterval = 300ms;
    agent_ = std::make_unique<Agent>(*store_, tracker_, dataplane::makeLinuxKernel(), o);
    agent_->start();
    converge();
    client_ = nicNs("rgc", "client");
    web1_ = nicNs("rgp", "web1");
    web2_ = nicNs("rgp", "web2");
    local_ = nicNs("rgp", "local");
    intruder_ = nicNs("rgo", "intruder");
    // Debugging aid: PRIVLINK_TEST_PAUSE=<seconds> keeps the topology up for inspection.
    if (const char* pause = std::getenv("PRIVLINK_TEST_PAUSE")) {
      std::this_thread::sleep_for(std::chrono::seconds(std::atoi(pause)));
    }
  }

  void setEndpoint(const std::string& status) {
    auto docs = endpointDocuments(kPe, kConsumerSubnet, kPeAddress, kPls, kLink, status);
    put(docs.endpoint);
    put(docs.nic);
    put(docs.record);
  }

  // Call once web1 and web2 listen on 8080. Their first health probes ran when the agent
  // created them, before anything listened, and took both out of rotation (an empty lb_dnat:
  // the provider resets new flows) until a later probe succeeds and a pass puts their buckets
  // back. This is what made the first connection after an approval fail ("known gap").
  void waitBackendsHealthy() {
    const std::string probe = model::normaliseKey(kLb + "/probes/probe");
    EXPECT_TRUE(agent_->waitForHealthyBackends(
        {probeTargetKey(probe, IpAddress::parse("10.0.1.4").value()),
         probeTargetKey(probe, IpAddress::parse("10.0.1.5").value())},
        10s))
        << "the backends did not come back into rotation";
  }

  // web1 and web2 listen on TCP 8080 (the LB rule's backend port) and are back in rotation.
  std::pair<UniqueFd, UniqueFd> listenOnBackends() {
    std::pair<UniqueFd, UniqueFd> listeners{bindIn(web1_, SOCK_STREAM, 8080),
                                            bindIn(web2_, SOCK_STREAM, 8080)};
    waitBackendsHealthy();
    return listeners;
  }

  // A new TCP connection from the client to the endpoint's port 80 is refused (not dropped).
  void expectEndpointRefuses() {
    int error = 0;
    EXPECT_FALSE(connectFrom(client_, kPeAddress, 80, &error).valid());
    EXPECT_EQ(error, ECONNREFUSED) << std::strerror(error);
  }

  // The endpoint's counters saw at least `connections` connections and bytes both ways.
  void expectEndpointCounted(uint64_t connections) {
    auto counters = readEndpointCounters(*kernel_, naming_, model::normaliseKey(kConsumer), kLink);
    ASSERT_TRUE(counters.ok()) << counters.status().toString();
    EXPECT_GE(counters->connections, connections);
    EXPECT_GT(counters->bytesOut, 0u);
    EXPECT_GT(counters->bytesIn, 0u);
  }

  // The consumer VNet's transit address, as the agent recorded it in the store.
  std::string consumerTransitAddress() {
    std::string address;
    Status s = store_->read([&](store::ReadView& view) -> Status {
      auto doc = view.get(std::string(model::kTransitKeyPrefix) + model::normaliseKey(kConsumer));
      if (doc.ok() && *doc) address = (*doc)->body.value("address", "");
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.toString();
    return address;
  }

  // A datagram client -> endpoint:53 reaches a backend's UDP 5353 translated (source: the PLS NAT
  // IP, payload unchanged, no PROXY header) and the backend's answer comes back.
  void expectUdpThroughNat() {
    UniqueFd u1 = bindIn(web1_, SOCK_DGRAM, 5353);
    UniqueFd u2 = bindIn(web2_, SOCK_DGRAM, 5353);
    UniqueFd client = socketIn(client_, SOCK_DGRAM);
    sockaddr_in pe = socketAddress(kPeAddress, 53);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&pe), sizeof pe), 0);
    ASSERT_EQ(::send(client.get(), "query", 5, 0), 5);
    pollfd fds[2] = {{u1.get(), POLLIN, 0}, {u2.get(), POLLIN, 0}};
    ASSERT_GT(::poll(fds, 2, 2000), 0) << "no backend received the datagram";
    int server = (fds[0].revents & POLLIN) ? u1.get() : u2.get();
    char buffer[64];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n =
        ::recvfrom(server, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &len);
    ASSERT_EQ(n, 5);  // no header: datagrams are translated, never proxied
    EXPECT_EQ(std::string(buffer, 5), "query");
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
    EXPECT_EQ(std::string(text), kNatAddress);
    ASSERT_EQ(::sendto(server, "answer", 6, 0, reinterpret_cast<sockaddr*>(&from), len), 6);
    pollfd c{client.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&c, 1, 2000), 1);
    n = ::recv(client.get(), buffer, sizeof buffer, 0);
    EXPECT_EQ(std::string(buffer, n > 0 ? n : 0), "answer");
  }

  // One TCP round trip client -> address:port, served by whichever backend listener accepts.
  // Returns the backend index (0 web1, 1 web2) or -1.
  int roundTrip(const std::string& from, const std::string& address, uint16_t port,
                const std::vector<int>& listeners, std::string* peer = nullptr) {
    UniqueFd client = connectFrom(from, address, port);
    if (!client.valid()) return -1;
    if (::send(client.get(), "ping", 4, MSG_NOSIGNAL) != 4) return -1;
    // Accept until the connection carrying "ping" shows up (health probes connect too, from the
    // same gateway address a VNet-local client is masqueraded to).
    auto carriesPing = [](int fd, const std::string&) {
      pollfd r{fd, POLLIN, 0};
      char buffer[8];
      return ::poll(&r, 1, 300) == 1 && ::recv(fd, buffer, sizeof buffer, 0) == 4 &&
             std::string(buffer, 4) == "ping";
    };
    size_t index = 0;
    UniqueFd server = acceptWhere(listeners, carriesPing, &index, peer);
    if (!server.valid() || !exchange(server.get(), client.get(), "pong")) return -1;
    return static_cast<int>(index);
  }

  std::string prefix_;
  model::HostNaming naming_;
  std::unique_ptr<dataplane::Kernel> kernel_;
  std::unique_ptr<store::Store> store_;
  control::ProvisioningTracker tracker_;
  std::unique_ptr<Agent> agent_;
  std::vector<std::string> watched_;
  std::vector<pid_t> children_;
  std::filesystem::path workDir_;
  std::string client_, web1_, web2_, local_, intruder_;
};

TEST_F(PrivateLinkTest, CurlReachesTheServiceThroughAnApprovedEndpointAcrossOverlappingSpaces) {
  build("Approved");
  // A real HTTP server in each backend, each serving a file that names it.
  for (const auto& [ns, name] : {std::pair{web1_, "web1"}, std::pair{web2_, "web2"}}) {
    const auto dir = workDir_ / name;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "who") << name << "\n";
    children_.push_back(spawnIn(ns, {"python3", "-m", "http.server", "8080"},
                                (workDir_ / (std::string(name) + ".log")).string(), dir.string()));
  }
  std::set<std::string> served;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (served.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    // New source ports spread over both backends by the flow hash.
    std::string body =
        runIn(client_, "curl -s --max-time 2 http://" + kPeAddress + "/who");
    if (!body.empty()) served.insert(body);
    if (body.empty()) std::this_thread::sleep_for(200ms);  // servers still starting
  }
  EXPECT_EQ(served, (std::set<std::string>{"web1\n", "web2\n"}));
  // The backends saw the PLS NAT IP, never the client's (overlapping) address.
  const std::string log = readFile((workDir_ / "web1.log").string()) +
                          readFile((workDir_ / "web2.log").string());
  EXPECT_NE(log.find(kNatAddress + " - - "), std::string::npos) << log;
  EXPECT_EQ(log.find("10.0.1.4 - - "), std::string::npos) << log;

  // Per-endpoint counters saw the traffic.
  expectEndpointCounted(2);
}

TEST_F(PrivateLinkTest, LoadBalancerIsReachableFromTheProviderVnetItself) {
  build("Approved");
  auto [l1, l2] = listenOnBackends();
  EXPECT_GE(roundTrip(local_, "10.0.1.10", 80, {l1.get(), l2.get()}), 0);
  // A port no rule exposes is refused.
  int error = 0;
  EXPECT_FALSE(connectFrom(local_, "10.0.1.10", 81, &error).valid());
}

TEST_F(PrivateLinkTest, PendingAndRejectedEndpointsRefuseRatherThanDrop) {
  build("Pending");
  auto [l1, l2] = listenOnBackends();
  expectEndpointRefuses();
  setEndpoint("Rejected");
  converge();
  expectEndpointRefuses();
  // Approving makes it flow.
  setEndpoint("Approved");
  converge();
  EXPECT_GE(roundTrip(client_, kPeAddress, 80, {l1.get(), l2.get()}), 0);
  auto counters = readEndpointCounters(*kernel_, naming_, model::normaliseKey(kConsumer), kLink);
  ASSERT_TRUE(counters.ok()) << counters.status().toString();
  EXPECT_GT(counters->rejectedPackets, 0u);
}

TEST_F(PrivateLinkTest, RejectCutsAnEstablishedStream) {
  build("Approved");
  auto [l1, l2] = listenOnBackends();
  UniqueFd client = connectFrom(client_, kPeAddress, 80);
  ASSERT_TRUE(client.valid());
  UniqueFd server = acceptAny({l1.get(), l2.get()});
  ASSERT_TRUE(server.valid());
  ASSERT_TRUE(exchange(client.get(), server.get(), "before"));

  const std::string providerNs = naming_.vnetNamespace(model::normaliseKey(kProvider));
  EXPECT_EQ(providerFlowsTo(*kernel_, providerNs, kTpe), 1u);  // NATed by the provider's eBPF
  setEndpoint("Rejected");
  converge();
  EXPECT_EQ(providerFlowsTo(*kernel_, providerNs, kTpe), 0u);  // withdrawn with the endpoint
  // The next segment finds no conntrack entry and no translation: the client gets a reset.
  (void)::send(client.get(), "after", 5, MSG_NOSIGNAL);
  pollfd p{client.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1) << "the stream was not cut";
  char buffer[16];
  ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
  EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << n << " " << std::strerror(errno);
  // Nothing reached the backend after the rejection.
  pollfd s{server.get(), POLLIN, 0};
  if (::poll(&s, 1, 200) == 1) {
    ssize_t got = ::recv(server.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    EXPECT_LE(got, 0);
  }
}

TEST_F(PrivateLinkTest, ProviderCannotConnectBackAndOtherVnetsCannotUseTheEndpoint) {
  build("Approved");
  // Something listening everywhere the provider or an intruder might try to reach.
  UniqueFd consumerListener = bindIn(client_, SOCK_STREAM, 9000);
  auto [l1, l2] = listenOnBackends();
  ASSERT_GE(roundTrip(client_, kPeAddress, 80, {l1.get(), l2.get()}), 0);

  const std::string consumerTransit = consumerTransitAddress();
  ASSERT_FALSE(consumerTransit.empty());
  int error = 0;
  // Provider -> the consumer VNet's transit address, the endpoint's transit address, the client.
  for (const std::string& target : {consumerTransit, kTpe, kPeAddress, std::string("10.0.1.4")}) {
    EXPECT_FALSE(connectFrom(web1_, target, 9000, &error, 1000ms).valid()) << target;
  }
  // Another VNet straight at the endpoint's T_pe: not its endpoint.
  EXPECT_FALSE(connectFrom(intruder_, kTpe, 80, &error, 1000ms).valid());
  EXPECT_FALSE(acceptAny({l1.get(), l2.get()}).valid()) << "an intruder reached a backend";
  // The consumer reaches only the exposed ports: 22 is refused at the provider.
  EXPECT_FALSE(connectFrom(client_, kPeAddress, 22, &error, 1000ms).valid());
  EXPECT_EQ(error, ECONNREFUSED) << std::strerror(error);
}

TEST_F(PrivateLinkTest, UdpFlowsThroughTheEndpoint) {
  build("Approved");
  expectUdpThroughNat();
}

TEST_F(PrivateLinkTest, LoadBalancerFailsOverWhenAProbeFailsWithoutDisturbingOtherFlows) {
  build("Approved");
  auto [l1, l2] = listenOnBackends();
  // Both backends serve; keep one established flow to web1.
  UniqueFd kept;
  UniqueFd keptServer;
  std::set<int> seen;
  for (int i = 0; i < 40 && (seen.size() < 2 || !kept.valid()); ++i) {
    UniqueFd client = connectFrom(client_, kPeAddress, 80);
    ASSERT_TRUE(client.valid());
    size_t index = 0;
    UniqueFd server = acceptAny({l1.get(), l2.get()}, &index);
    ASSERT_TRUE(server.valid());
    seen.insert(static_cast<int>(index));
    if (index == 0 && !kept.valid()) {
      kept = std::move(client);
      keptServer = std::move(server);
    }
  }
  ASSERT_EQ(seen.size(), 2u) << "the hash never picked both backends";
  ASSERT_TRUE(kept.valid());

  // web2 stops listening: its probe fails and it leaves the rotation.
  l2 = UniqueFd();
  const std::string target = probeTargetKey(model::normaliseKey(kLb + "/probes/probe"),
                                            IpAddress::parse("10.0.1.5").value());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto health = agent_->probeHealth();
    if (health.count(target) && !health.at(target)) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(agent_->probeHealth().at(target)) << "probe never failed";
  std::this_thread::sleep_for(1s);  // the next pass moves web2's buckets
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(roundTrip(client_, kPeAddress, 80, {l1.get()}), 0) << "connection " << i;
  }
  // The established flow to web1 was not disturbed.
  EXPECT_TRUE(exchange(kept.get(), keptServer.get(), "still here"));
  EXPECT_TRUE(exchange(keptServer.get(), kept.get(), "yes"));

  // web2 comes back and takes new flows again.
  l2 = bindIn(web2_, SOCK_STREAM, 8080);
  const auto back = std::chrono::steady_clock::now() + 10s;
  bool served = false;
  while (!served && std::chrono::steady_clock::now() < back) {
    served = roundTrip(client_, kPeAddress, 80, {l1.get(), l2.get()}) == 1;
    if (!served) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(served) << "web2 never came back into rotation";
}

// ---- PROXY protocol v2 (PLS enableProxyProtocol): the agent's splice proxy, TPROXY in the
// consumer VNet. The provider still sees the NAT IP on the wire; the header carries the client.

// Reads one complete PPv2 header from `fd` (2 s); empty on failure.
std::vector<uint8_t> readProxyHeader(int fd) {
  std::vector<uint8_t> raw(proxy::kProxyV2FixedSize);
  auto readExactly = [&](uint8_t* out, size_t n) {
    while (n > 0) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 2000) != 1) return false;
      ssize_t got = ::recv(fd, out, n, 0);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  };
  if (!readExactly(raw.data(), raw.size())) return {};
  const size_t length = (size_t{raw[14]} << 8) | raw[15];
  raw.resize(proxy::kProxyV2FixedSize + length);
  if (!readExactly(raw.data() + proxy::kProxyV2FixedSize, length)) return {};
  return raw;
}

uint16_t localPortOf(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

// Expects a reset or EOF on `fd` within 3 s.
void expectCut(int fd, const char* side) {
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1) << "the " << side << " side of the stream was not cut";
  char buffer[16];
  ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
  EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET))
      << side << ": " << n << " " << std::strerror(errno);
}

TEST_F(PrivateLinkTest, ProxyProtocolHaproxyBackendSeesTheConsumerClientNotTheNatIp) {
  ASSERT_EQ(::access("/usr/sbin/haproxy", X_OK), 0) << "install haproxy (scripts/install-deps.sh)";
  build("Approved", /*proxyProtocol=*/true);
  // HAProxy 2.6 with accept-proxy in each backend answers with what it took from the header.
  for (const auto& [ns, name] : {std::pair{web1_, "web1"}, std::pair{web2_, "web2"}}) {
    const auto cfg = workDir_ / (std::string(name) + ".cfg");
    std::ofstream(cfg) << "global\n  maxconn 100\n"
                          "defaults\n  mode http\n  timeout connect 5s\n  timeout client 10s\n"
                          "  timeout server 10s\n"
                          "frontend fe\n  bind 0.0.0.0:8080 accept-proxy\n"
                          "  http-request return status 200 content-type text/plain lf-string "
                          "\"client=%[src]:%[src_port] endpoint=%[dst]:%[dst_port] "
                       << name << "\\n\"\n";
    children_.push_back(spawnIn(ns, {"/usr/sbin/haproxy", "-db", "-f", cfg.string()},
                                (workDir_ / (std::string(name) + ".log")).string()));
  }
  std::string body;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (body.empty() && std::chrono::steady_clock::now() < deadline) {
    body = runIn(client_, "curl -s --max-time 2 http://" + kPeAddress + "/");
    if (body.empty()) std::this_thread::sleep_for(200ms);  // haproxy still starting
  }
  EXPECT_EQ(body.rfind("client=10.0.1.4:", 0), 0u) << body;
  EXPECT_NE(body.find(" endpoint=" + kPeAddress + ":80 "), std::string::npos) << body;
  EXPECT_EQ(body.find(kNatAddress), std::string::npos) << body;
  // The proxied connections count as the endpoint's.
  expectEndpointCounted(1);
  EXPECT_GE(agent_->proxyCounters().headersSent, 1u);
}

TEST_F(PrivateLinkTest, ProxyProtocolHeaderIsByteExactWithTheLinkIdTlv) {
  build("Approved", /*proxyProtocol=*/true);
  auto [l1, l2] = listenOnBackends();
  UniqueFd client = connectFrom(client_, kPeAddress, 80);
  ASSERT_TRUE(client.valid());
  const uint16_t clientPort = localPortOf(client.get());
  std::string peer;
  UniqueFd server = acceptAny({l1.get(), l2.get()}, nullptr, &peer);
  ASSERT_TRUE(server.valid()) << "no proxied connection reached a backend";
  EXPECT_EQ(peer, kNatAddress);  // on the wire the backend still sees the PLS NAT IP
  const std::vector<uint8_t> header = readProxyHeader(server.get());
  auto expected = proxy::encodeProxyHeader(proxy::ProxyHeader::tcp(
      IpAddress::parse("10.0.1.4").value(), clientPort, IpAddress::parse(kPeAddress).value(), 80,
      kLink));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(header, *expected);
  // Spelled out: signature, v2 PROXY, TCP over IPv4, length 12 + 8, addresses, ports, TLV.
  const std::vector<uint8_t> spelled = {
      0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,  // signature
      0x21, 0x11, 0x00, 0x14,                                                  // ver/cmd fam len
      10, 0, 1, 4,                                                             // client
      10, 0, 1, 9,                                                             // endpoint
      static_cast<uint8_t>(clientPort >> 8), static_cast<uint8_t>(clientPort & 0xff),
      0x00, 0x50,                                                              // port 80
      0xEE, 0x00, 0x05, 0x01, 0x07, 0x00, 0x00, 0x00};                         // LinkID 7 LE
  EXPECT_EQ(header, spelled);
  auto parsed = proxy::parseProxyHeader(header);
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->header.azureLinkId, std::optional<uint32_t>(kLink));
  // Payload follows the header unchanged, both ways.
  EXPECT_TRUE(exchange(client.get(), server.get(), "hello through the proxy"));
  EXPECT_TRUE(exchange(server.get(), client.get(), "and back"));
}

TEST_F(PrivateLinkTest, ProxyProtocolRejectCutsAnEstablishedProxiedStream) {
  build("Approved", /*proxyProtocol=*/true);
  auto [l1, l2] = listenOnBackends();
  UniqueFd client = connectFrom(client_, kPeAddress, 80);
  ASSERT_TRUE(client.valid());
  UniqueFd server = acceptAny({l1.get(), l2.get()});
  ASSERT_TRUE(server.valid());
  ASSERT_FALSE(readProxyHeader(server.get()).empty());
  ASSERT_TRUE(exchange(client.get(), server.get(), "before"));

  setEndpoint("Rejected");
  converge();
  // The proxy reset both of its connections: the client and the backend see the stream end.
  expectCut(client.get(), "client");
  expectCut(server.get(), "backend");
  // New connections are refused like any rejected endpoint's.
  expectEndpointRefuses();
  EXPECT_FALSE(acceptAny({l1.get(), l2.get()}).valid()) << "a connection got through";
}

TEST_F(PrivateLinkTest, ProxyProtocolPendingEndpointRefusesThenApprovalProxies) {
  build("Pending", /*proxyProtocol=*/true);
  auto [l1, l2] = listenOnBackends();
  expectEndpointRefuses();
  EXPECT_EQ(agent_->proxyCounters().connectionsAccepted, 0u);

  setEndpoint("Approved");
  converge();
  int error = 0;
  UniqueFd client = connectFrom(client_, kPeAddress, 80, &error);
  ASSERT_TRUE(client.valid()) << std::strerror(error);
  UniqueFd server = acceptAny({l1.get(), l2.get()});
  ASSERT_TRUE(server.valid());
  auto parsed = proxy::parseProxyHeader(readProxyHeader(server.get()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->header.sourceAddress.toString(), "10.0.1.4");
  EXPECT_EQ(parsed->header.sourcePort, localPortOf(client.get()));
  EXPECT_EQ(parsed->header.destinationAddress.toString(), kPeAddress);
  EXPECT_EQ(parsed->header.destinationPort, 80);
}

TEST_F(PrivateLinkTest, ProxyProtocolUdpThroughTheSameEndpointStillUsesNat) {
  build("Approved", /*proxyProtocol=*/true);
  ASSERT_NO_FATAL_FAILURE(expectUdpThroughNat());
  EXPECT_EQ(agent_->proxyCounters().connectionsAccepted, 0u);
}

TEST_F(PrivateLinkTest, ProxyProtocolKeepsOneDirection) {
  build("Approved", /*proxyProtocol=*/true);
  UniqueFd consumerListener = bindIn(client_, SOCK_STREAM, 9000);
  auto [l1, l2] = listenOnBackends();
  const std::string consumerTransit = consumerTransitAddress();
  ASSERT_FALSE(consumerTransit.empty());
  int error = 0;
  // The provider reaches neither the consumer (transit address, endpoint, client) nor the
  // proxy's listener in the consumer VNet namespace.
  for (const std::string& target : {consumerTransit, kTpe, kPeAddress, std::string("10.0.1.4")}) {
    for (uint16_t port : {uint16_t{9000}, kProxyPort}) {
      EXPECT_FALSE(connectFrom(web1_, target, port, &error, 1000ms).valid())
          << target << ":" << port;
    }
  }
  // Another VNet cannot use the endpoint's T_pe.
  EXPECT_FALSE(connectFrom(intruder_, kTpe, 80, &error, 1000ms).valid());
  EXPECT_FALSE(acceptAny({l1.get(), l2.get()}).valid()) << "an intruder reached a backend";
}

// The eBPF fast path (agent/fast_path.h): an endpoint flow leaves no conntrack entry in the
// consumer VNet (translated statelessly at tc ingress) nor in the provider VNet (load-balanced
// and source-NATed at tc: pl_flow/pl_rflow), the BPF counters and the PLS's natPorts count it,
// and a new agent (privlinkd after kill -9) finds programs and pinned maps as they are: the
// established stream keeps flowing through the restart and the pass changes nothing.
TEST_F(PrivateLinkTest, FastPathKeepsTheConsumerStatelessAndSurvivesAnAgentRestart) {
  build("Approved");
  auto [l1, l2] = listenOnBackends();
  UniqueFd client = connectFrom(client_, kPeAddress, 80);
  ASSERT_TRUE(client.valid());
  UniqueFd server = acceptAny({l1.get(), l2.get()});
  ASSERT_TRUE(server.valid());
  ASSERT_TRUE(exchange(client.get(), server.get(), "before"));

  const std::string consumerNs = naming_.vnetNamespace(model::normaliseKey(kConsumer));
  const std::string providerNs = naming_.vnetNamespace(model::normaliseKey(kProvider));
  const std::string consumerTable = runIn(consumerNs, "conntrack -L");
  EXPECT_EQ(consumerTable.find(kPeAddress), std::string::npos) << consumerTable;
  EXPECT_EQ(consumerTable.find(kTpe), std::string::npos) << consumerTable;
  const std::string providerTable = runIn(providerNs, "conntrack -L -p tcp");
  EXPECT_EQ(providerTable.find("dst=" + kTpe), std::string::npos) << providerTable;
  EXPECT_EQ(providerTable.find(kNatAddress), std::string::npos) << providerTable;
  EXPECT_EQ(providerFlowsTo(*kernel_, providerNs, kTpe), 1u);
  // The held connection holds one NAT port of the PLS (natPorts).
  EXPECT_EQ(natPortsInUse(providerNs, IPPROTO_TCP), (std::pair<uint64_t, uint64_t>{1, 1}));

  auto stats = kernel_->bpfMapLookup(consumerNs, PL_FP_MAP_STATS, fastPathLinkKey(kLink));
  ASSERT_TRUE(stats.ok()) << stats.status().toString();
  const pl_pe_stats counted = sumFastPathStats(*stats);
  EXPECT_GE(counted.connections, 1u);
  EXPECT_GT(counted.packets_out, 0u);
  EXPECT_GT(counted.packets_in, 0u);
  expectEndpointCounted(1);

  // kill -9 leaves everything in the kernel; a new agent with a new Kernel converges to it.
  agent_->stop();
  agent_.reset();
  ASSERT_TRUE(exchange(client.get(), server.get(), "between"));
  AgentOptions o;
  o.namePrefix = prefix_;
  o.realiserName = "privatelink-test";
  o.retryInterval = 200ms;
  o.probeInterval = 300ms;
  agent_ = std::make_unique<Agent>(*store_, tracker_, dataplane::makeLinuxKernel(), o);
  auto pass = agent_->runOnce();
  ASSERT_TRUE(pass.ok()) << pass.status().toString();
  for (const std::string& step : pass->apply.steps) {
    EXPECT_EQ(step.find("pl_"), std::string::npos) << step;  // no program or map change
  }
  agent_->start();
  ASSERT_TRUE(exchange(client.get(), server.get(), "after"));
  auto after = kernel_->bpfMapLookup(consumerNs, PL_FP_MAP_STATS, fastPathLinkKey(kLink));
  ASSERT_TRUE(after.ok()) << after.status().toString();
  EXPECT_GT(sumFastPathStats(*after).packets_out, counted.packets_out);

  // Closed both ways (FIN each way, then the client's final ACK): the NAT port is free again at
  // once, and the flow's entries are gone from pl_flow and pl_rflow (the maps hold live flows).
  ::shutdown(client.get(), SHUT_WR);
  char buffer[8];
  pollfd p{server.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_EQ(::recv(server.get(), buffer, sizeof buffer, 0), 0);
  server = UniqueFd();
  pollfd c{client.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&c, 1, 2000), 1);
  EXPECT_EQ(::recv(client.get(), buffer, sizeof buffer, 0), 0);
  for (int i = 0; i < 50 && providerFlowsTo(*kernel_, providerNs, kTpe) != 0; ++i) {
    std::this_thread::sleep_for(20ms);  // the final ACK is on its way
  }
  EXPECT_EQ(providerFlowsTo(*kernel_, providerNs, kTpe), 0u);
  EXPECT_EQ(natPortsInUse(providerNs, IPPROTO_TCP), (std::pair<uint64_t, uint64_t>{0, 0}));
}

// UDP through the provider's eBPF NAT: no conntrack entry in the provider VNet, one live flow on
// the NAT IP's UDP row of natPorts.
TEST_F(PrivateLinkTest, FastPathUdpIsNatedByTheProviderWithoutConntrack) {
  build("Approved");
  ASSERT_NO_FATAL_FAILURE(expectUdpThroughNat());
  const std::string providerNs = naming_.vnetNamespace(model::normaliseKey(kProvider));
  const std::string providerTable = runIn(providerNs, "conntrack -L -p udp");
  EXPECT_EQ(providerTable.find("dst=" + kTpe), std::string::npos) << providerTable;
  EXPECT_EQ(providerFlowsTo(*kernel_, providerNs, kTpe), 1u);
  EXPECT_EQ(natPortsInUse(providerNs, IPPROTO_UDP), (std::pair<uint64_t, uint64_t>{1, 1}));
}

}  // namespace
}  // namespace privlink::agent
