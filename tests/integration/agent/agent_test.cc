// The agent on the real kernel (root). Each test fills its own in-memory store with ARM documents
// (no API), runs a real Agent with the namespace prefix agt<pid> (so plbb/plinet of a running
// privlinkd or another test are never touched) and checks traffic with TCP sockets opened inside
// the namespaces in-process (NamespaceGuard on this thread; ping is not installed). TearDown
// removes every namespace of the prefix (Agent::cleanupAll) even when a test fails, and checks
// that the host namespace's links, nft tables and ip_forward did not change.
#include "agent/agent.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/nic_exec.h"
#include "control/provisioning.h"
#include "dataplane/kernel.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "model/host_naming.h"
#include "model/transit.h"
#include "store/store.h"
#include "testing/network_documents.h"

namespace privlink::agent {
namespace {

using dataplane::NamespaceGuard;
using dataplane::NetnsHandle;
using dataplane::UniqueFd;
using namespace privlink::testing;
using namespace std::chrono_literals;

constexpr uint16_t kPort = 8080;

sockaddr_in socketAddress(const std::string& address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  return sa;
}

// A TCP socket created inside `ns` (it stays bound to that namespace).
UniqueFd socketIn(const std::string& ns) {
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
  return UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

UniqueFd listenIn(const std::string& ns, const std::string& address, uint16_t port) {
  UniqueFd fd = socketIn(ns);
  if (!fd.valid()) return fd;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = socketAddress(address, port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0)
      << "bind " << address << " in " << ns << ": " << std::strerror(errno);
  EXPECT_EQ(::listen(fd.get(), 16), 0);
  return fd;
}

// Connects from `ns` to address:port within `timeout`; an invalid fd when it does not connect.
UniqueFd connectFrom(const std::string& ns, const std::string& address, uint16_t port,
                     std::chrono::milliseconds timeout = 2000ms) {
  UniqueFd fd = socketIn(ns);
  if (!fd.valid()) return fd;
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
  sockaddr_in sa = socketAddress(address, port);
  int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (rc != 0 && errno != EINPROGRESS) return UniqueFd();
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return UniqueFd();
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return UniqueFd();
  ::fcntl(fd.get(), F_SETFL, flags);
  return fd;
}

// Accepts one connection within 2 s; sets `peer` to the client address the server sees.
UniqueFd acceptOne(int listener, std::string* peer = nullptr) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return UniqueFd();
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  UniqueFd fd(::accept4(listener, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_CLOEXEC));
  if (peer) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &sa.sin_addr, text, sizeof text);
    *peer = text;
  }
  return fd;
}

// Sends `message` on `from` and reads it back on `to` (2 s timeout).
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

// A full TCP round trip from `clientNs` to a listener in `serverNs` bound to `serverAddress`.
bool tcpWorks(const std::string& clientNs, const std::string& serverNs,
              const std::string& serverAddress, std::string* seenSource = nullptr,
              const std::string& listenAddress = "") {
  static uint16_t port = kPort;
  ++port;
  UniqueFd listener =
      listenIn(serverNs, listenAddress.empty() ? serverAddress : listenAddress, port);
  if (!listener.valid()) return false;
  UniqueFd client = connectFrom(clientNs, serverAddress, port);
  if (!client.valid()) return false;
  UniqueFd server = acceptOne(listener.get(), seenSource);
  return server.valid() && exchange(client.get(), server.get(), "ping") &&
         exchange(server.get(), client.get(), "pong");
}

std::vector<std::string> hostLinks(dataplane::Kernel& kernel) {
  std::vector<std::string> names;
  auto links = kernel.listLinks("");
  if (links.ok()) {
    for (const auto& l : *links) names.push_back(l.name + (l.up ? " up" : " down"));
  }
  std::sort(names.begin(), names.end());
  return names;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "integration tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    prefix_ = "agt" + std::to_string(::getpid());
    naming_ = model::HostNaming(prefix_);
    kernel_ = dataplane::makeLinuxKernel();
    removeStale();
    ASSERT_TRUE(Agent::cleanupAll(*kernel_, prefix_).ok());
    hostLinksBefore_ = hostLinks(*kernel_);
    auto tables = kernel_->nftListTables("");
    ASSERT_TRUE(tables.ok()) << tables.status().toString();
    hostTablesBefore_ = *tables;
    auto forward = kernel_->getSysctl("", "net/ipv4/ip_forward");
    ASSERT_TRUE(forward.ok());
    hostForwardBefore_ = *forward;
    auto store = store::openSqliteStore({":memory:"});
    ASSERT_TRUE(store.ok()) << store.status().toString();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    agent_.reset();
    if (!kernel_) return;
    EXPECT_TRUE(Agent::cleanupAll(*kernel_, prefix_).ok());
    auto names = kernel_->listNamespaces();
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) EXPECT_FALSE(naming_.ownsNamespace(name)) << name << " leaked";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/etc/netns", ec)) {
      EXPECT_FALSE(naming_.ownsNamespace(entry.path().filename().string()))
          << entry.path() << " leaked";
    }
    // Nothing in the host namespace changed.
    EXPECT_EQ(hostLinks(*kernel_), hostLinksBefore_);
    auto tables = kernel_->nftListTables("");
    ASSERT_TRUE(tables.ok());
    EXPECT_EQ(*tables, hostTablesBefore_);
    auto forward = kernel_->getSysctl("", "net/ipv4/ip_forward");
    ASSERT_TRUE(forward.ok());
    EXPECT_EQ(*forward, hostForwardBefore_);
  }

  // Namespaces left by an earlier run of this test binary whose process is gone.
  void removeStale() {
    auto names = kernel_->listNamespaces();
    if (!names.ok()) return;
    std::set<std::string> prefixes;
    for (const std::string& name : *names) {
      if (name.rfind("agt", 0) != 0) continue;
      size_t end = 3;
      while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
      const std::string prefix = name.substr(0, end);
      const int pid = std::atoi(prefix.c_str() + 3);
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH &&
          model::HostNaming(prefix).ownsNamespace(name)) {
        prefixes.insert(prefix);
      }
    }
    for (const std::string& prefix : prefixes) (void)Agent::cleanupAll(*kernel_, prefix);
  }

  AgentOptions options() const {
    AgentOptions o;
    o.namePrefix = prefix_;
    o.realiserName = "agent-test";
    o.retryInterval = 200ms;
    return o;
  }

  void startAgent() {
    agent_ = std::make_unique<Agent>(*store_, tracker_, dataplane::makeLinuxKernel(), options());
    agent_->start();
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

  // Waits until the running agent has applied everything written so far, without failures.
  void converge() {
    const int64_t revision = store_->revision();
    ASSERT_TRUE(tracker_.waitApplied(revision, 30s)) << "agent did not apply " << revision;
    for (const std::string& key : written_) {
      auto failure = tracker_.failureOf(key, 0);
      EXPECT_FALSE(failure.has_value()) << key << ": " << failure->toString();
    }
  }

  // Builders that also remember keys for converge().
  std::string vnet(const std::string& group, const std::string& name,
                   const std::vector<std::string>& prefixes) {
    const std::string id = vnetId(group, name);
    put(vnetDocument(id, prefixes));
    written_.push_back(model::normaliseKey(id));
    return id;
  }
  std::string subnet(const std::string& vnetIdText, const std::string& name,
                     const std::string& prefix) {
    const std::string id = subnetId(vnetIdText, name);
    put(subnetDocument(id, prefix));
    written_.push_back(model::normaliseKey(id));
    return id;
  }
  // Returns the NIC's namespace.
  std::string nic(const std::string& group, const std::string& name,
                  const std::string& subnetIdText, const std::string& address) {
    const std::string id = nicId(group, name);
    put(nicDocument(id, subnetIdText, address));
    written_.push_back(model::normaliseKey(id));
    return naming_.nicNamespace(model::normaliseKey(id));
  }
  void peering(const std::string& vnetIdText, const std::string& name, const std::string& remote,
               const std::string& state) {
    const std::string id = peeringId(vnetIdText, name);
    put(peeringDocument(id, remote, state));
    written_.push_back(model::normaliseKey(id));
  }

  std::string transitOf(const std::string& vnetIdText) {
    std::string address;
    Status s = store_->read([&](store::ReadView& view) -> Status {
      auto doc = view.get(std::string(model::kTransitKeyPrefix) + model::normaliseKey(vnetIdText));
      if (!doc.ok()) return doc.status();
      if (*doc) address = (*doc)->body.value("address", "");
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.toString();
    return address;
  }

  bool namespaceExists(const std::string& ns) {
    auto names = kernel_->listNamespaces();
    return names.ok() && std::find(names->begin(), names->end(), ns) != names->end();
  }

  std::string prefix_;
  model::HostNaming naming_;
  std::unique_ptr<dataplane::Kernel> kernel_;
  std::unique_ptr<store::Store> store_;
  control::ProvisioningTracker tracker_;
  std::unique_ptr<Agent> agent_;
  std::vector<std::string> written_;
  std::vector<std::string> hostLinksBefore_;
  std::vector<std::string> hostTablesBefore_;
  std::string hostForwardBefore_;
};

TEST_F(AgentTest, NicsTalkWithinASubnetAndAcrossSubnets) {
  const std::string v = vnet("rg", "vnet1", {"10.0.0.0/16"});
  const std::string a = subnet(v, "a", "10.0.1.0/24");
  const std::string b = subnet(v, "b", "10.0.2.0/24");
  const std::string n1 = nic("rg", "n1", a, "10.0.1.4");
  const std::string n2 = nic("rg", "n2", a, "10.0.1.5");
  const std::string n3 = nic("rg", "n3", b, "10.0.2.4");
  startAgent();
  converge();
  for (const std::string& key : written_) {
    EXPECT_EQ(tracker_.stateOf(key, 1), control::ProvisioningState::kSucceeded) << key;
  }

  EXPECT_TRUE(tcpWorks(n1, n2, "10.0.1.5"));
  EXPECT_TRUE(tcpWorks(n2, n1, "10.0.1.4"));
  std::string source;
  EXPECT_TRUE(tcpWorks(n1, n3, "10.0.2.4", &source));
  EXPECT_EQ(source, "10.0.1.4");  // routed inside the VNet, not NATed
  // The NIC's resolver is the platform DNS address.
  std::ifstream resolv("/etc/netns/" + n1 + "/resolv.conf");
  std::stringstream content;
  content << resolv.rdbuf();
  EXPECT_EQ(content.str(), "nameserver 168.63.129.16\n");
}

TEST_F(AgentTest, SameAddressSpaceSideBySideWithoutLeaks) {
  const std::string va = vnet("rga", "same", {"10.0.0.0/16"});
  const std::string vb = vnet("rgb", "same", {"10.0.0.0/16"});
  const std::string a1 = nic("rga", "n1", subnet(va, "default", "10.0.1.0/24"), "10.0.1.4");
  const std::string a2 = nic("rga", "n2", subnetId(va, "default"), "10.0.1.5");
  const std::string b1 = nic("rgb", "n1", subnet(vb, "default", "10.0.1.0/24"), "10.0.1.4");
  startAgent();
  converge();

  EXPECT_TRUE(tcpWorks(a1, a2, "10.0.1.5"));
  // b1 has the same address as a1; 10.0.1.5 exists only in VNet a: b1 never reaches it.
  EXPECT_FALSE(tcpWorks(b1, a2, "10.0.1.5", nullptr, "0.0.0.0"));
  // Nor does b1 reach VNet a through the backbone (a's transit address): new connections into
  // a VNet's uplink are dropped.
  EXPECT_FALSE(tcpWorks(b1, a2, transitOf(va), nullptr, "0.0.0.0"));
  EXPECT_FALSE(tcpWorks(b1, naming_.vnetNamespace(model::normaliseKey(va)), transitOf(va), nullptr,
                        "0.0.0.0"));
}

TEST_F(AgentTest, PeeringConnectsOnlyWhenBothSidesAreConnected) {
  const std::string v1 = vnet("rg", "v1", {"10.1.0.0/16"});
  const std::string v2 = vnet("rg", "v2", {"10.2.0.0/16"});
  const std::string n1 = nic("rg", "n1", subnet(v1, "default", "10.1.1.0/24"), "10.1.1.4");
  const std::string n2 = nic("rg", "n2", subnet(v2, "default", "10.2.1.0/24"), "10.2.1.4");
  peering(v1, "to2", v2, "Initiated");
  startAgent();
  converge();
  EXPECT_FALSE(tcpWorks(n1, n2, "10.2.1.4"));

  peering(v1, "to2", v2, "Connected");
  peering(v2, "to1", v1, "Connected");
  converge();
  std::string source;
  EXPECT_TRUE(tcpWorks(n1, n2, "10.2.1.4", &source));
  EXPECT_EQ(source, "10.1.1.4");  // peered traffic keeps its source, as in Azure
  EXPECT_TRUE(tcpWorks(n2, n1, "10.1.1.4"));

  erase(peeringId(v2, "to1"));
  converge();
  EXPECT_FALSE(tcpWorks(n1, n2, "10.2.1.4"));
  auto links = kernel_->listLinks(naming_.vnetNamespace(model::normaliseKey(v1)));
  ASSERT_TRUE(links.ok());
  for (const auto& link : *links) EXPECT_NE(link.name.rfind("p-", 0), 0u) << link.name;
}

TEST_F(AgentTest, OutboundToTheInternetNamespaceIsSourceNatedAndOneWay) {
  const std::string v = vnet("rg", "vnet1", {"10.0.0.0/16"});
  const std::string n1 = nic("rg", "n1", subnet(v, "default", "10.0.1.0/24"), "10.0.1.4");
  startAgent();
  converge();
  const std::string inet = naming_.internetNamespace();
  const std::string inetAddress =
      model::internetAddress(IpPrefix::parse("100.64.0.0/10").value()).toString();
  std::string source;
  EXPECT_TRUE(tcpWorks(n1, inet, inetAddress, &source, "0.0.0.0"));
  EXPECT_EQ(source, transitOf(v));  // the server sees the VNet's transit address, not 10.x
  EXPECT_NE(source.rfind("100.", 0), std::string::npos);
  // Nothing from the internet namespace opens a connection into the VNet.
  EXPECT_FALSE(tcpWorks(inet, n1, transitOf(v), nullptr, "0.0.0.0"));
  EXPECT_FALSE(tcpWorks(inet, naming_.vnetNamespace(model::normaliseKey(v)), transitOf(v), nullptr,
                        "0.0.0.0"));
}

TEST_F(AgentTest, EstablishedConnectionSurvivesAgentRestartAndDeletionsWhileDownAreCleaned) {
  const std::string v = vnet("rg", "vnet1", {"10.0.0.0/16"});
  const std::string n1 = nic("rg", "n1", subnet(v, "a", "10.0.1.0/24"), "10.0.1.4");
  const std::string n2 = nic("rg", "n2", subnet(v, "b", "10.0.2.0/24"), "10.0.2.4");
  const std::string n3 = nic("rg", "n3", subnetId(v, "b"), "10.0.2.5");
  startAgent();
  converge();

  UniqueFd listener = listenIn(n2, "10.0.2.4", kPort);
  UniqueFd client = connectFrom(n1, "10.0.2.4", kPort);
  ASSERT_TRUE(client.valid());
  UniqueFd server = acceptOne(listener.get());
  ASSERT_TRUE(server.valid());
  ASSERT_TRUE(exchange(client.get(), server.get(), "before"));

  // The agent goes away (as after kill -9, it leaves the kernel as it is); a NIC is deleted
  // meanwhile; a new agent with a new kernel handle converges.
  agent_.reset();
  erase(nicId("rg", "n3"));
  written_.erase(
      std::find(written_.begin(), written_.end(), model::normaliseKey(nicId("rg", "n3"))));
  Agent restarted(*store_, tracker_, dataplane::makeLinuxKernel(), options());
  auto pass = restarted.runOnce();
  ASSERT_TRUE(pass.ok()) << pass.status().toString();
  EXPECT_TRUE(pass->failures.empty());
  // Only the deleted NIC's objects changed (and the resolv.conf files, which the kernel seam
  // cannot read back, were rewritten).
  for (const std::string& step : pass->apply.steps) {
    const bool file = step.rfind("write /etc/netns/", 0) == 0;
    const bool n3Object =
        step.find(model::HostNaming::nicLinkName(model::normaliseKey(nicId("rg", "n3")))) !=
            std::string::npos ||
        step.find(n3) != std::string::npos;
    EXPECT_TRUE(file || n3Object) << "restart touched: " << step;
  }
  EXPECT_FALSE(namespaceExists(n3));
  EXPECT_FALSE(std::filesystem::exists("/etc/netns/" + n3));
  EXPECT_TRUE(exchange(client.get(), server.get(), "after restart"));
  EXPECT_TRUE(exchange(server.get(), client.get(), "and back"));

  // A second pass changes nothing at all.
  auto again = restarted.runOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->apply.changes, 0) << again->apply.steps.front();
}

TEST_F(AgentTest, DeletedNicAndVnetLeaveNothingBehind) {
  const std::string v = vnet("rg", "vnet1", {"10.0.0.0/16"});
  const std::string n1 = nic("rg", "n1", subnet(v, "default", "10.0.1.0/24"), "10.0.1.4");
  startAgent();
  converge();
  const std::string vns = naming_.vnetNamespace(model::normaliseKey(v));
  ASSERT_TRUE(namespaceExists(n1));
  ASSERT_TRUE(std::filesystem::exists("/etc/netns/" + n1 + "/resolv.conf"));

  erase(nicId("rg", "n1"));
  written_.clear();
  converge();
  EXPECT_FALSE(namespaceExists(n1));
  EXPECT_FALSE(std::filesystem::exists("/etc/netns/" + n1));
  auto links = kernel_->listLinks(vns);
  ASSERT_TRUE(links.ok());
  for (const auto& link : *links) EXPECT_NE(link.name.rfind("n-", 0), 0u) << link.name;

  erase(subnetId(v, "default"));
  erase(v);
  converge();
  auto names = kernel_->listNamespaces();
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) EXPECT_FALSE(naming_.ownsNamespace(name)) << name;
}

TEST_F(AgentTest, UnrealisableNicFailsWithAnErrorAndOthersStillWork) {
  const std::string v = vnet("rg", "vnet1", {"10.0.0.0/16"});
  const std::string n1 = nic("rg", "n1", subnet(v, "default", "10.0.1.0/24"), "10.0.1.4");
  const std::string n2 = nic("rg", "n2", subnetId(v, "default"), "10.0.1.5");
  const std::string lostId = nicId("rg", "lost");
  put(nicDocument(lostId, subnetId(v, "missing"), "10.0.1.6"));
  startAgent();
  converge();
  const std::string lostKey = model::normaliseKey(lostId);
  EXPECT_EQ(tracker_.stateOf(lostKey, 1), control::ProvisioningState::kFailed);
  auto failure = tracker_.failureOf(lostKey, 1);
  ASSERT_TRUE(failure.has_value());
  EXPECT_NE(failure->message().find("does not exist"), std::string::npos) << failure->message();
  EXPECT_TRUE(tcpWorks(n1, n2, "10.0.1.5"));
}

TEST_F(AgentTest, NicExecRunsInTheNicNamespaceWithItsResolvConf) {
  const std::string v = vnet("rg", "vnet1", {"10.0.0.0/16"});
  const std::string n1 = nic("rg", "n1", subnet(v, "default", "10.0.1.0/24"), "10.0.1.4");
  startAgent();
  converge();
  EXPECT_EQ(execInNamespace(n1, {"sh", "-c", "grep -q 168.63.129.16 /etc/resolv.conf"}), 0);
  EXPECT_EQ(execInNamespace(n1, {"sh", "-c", "test -d /sys/class/net/eth0"}), 0);
  EXPECT_EQ(execInNamespace(n1, {"sh", "-c", "exit 7"}), 7);
  EXPECT_EQ(execInNamespace(n1, {"/nonexistent/program"}), 127);
  EXPECT_EQ(execInNamespace(prefix_ + "n-00000000", {"true"}), 127);
  // The host's resolv.conf is untouched.
  std::ifstream hostResolv("/etc/resolv.conf");
  std::stringstream content;
  content << hostResolv.rdbuf();
  EXPECT_EQ(content.str().find("168.63.129.16"), std::string::npos);
}

TEST_F(AgentTest, CleanupAllRemovesEverythingOfItsPrefixOnly) {
  const std::string v = vnet("rg", "vnet1", {"10.0.0.0/16"});
  nic("rg", "n1", subnet(v, "default", "10.0.1.0/24"), "10.0.1.4");
  startAgent();
  converge();
  agent_.reset();
  // A namespace of another prefix survives.
  const std::string other = model::HostNaming(prefix_ + "x").backboneNamespace();
  ASSERT_TRUE(kernel_->createNamespace(other).ok());
  EXPECT_TRUE(Agent::cleanupAll(*kernel_, prefix_).ok());
  EXPECT_TRUE(namespaceExists(other));
  EXPECT_TRUE(kernel_->deleteNamespace(other).ok());
  auto names = kernel_->listNamespaces();
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) EXPECT_FALSE(naming_.ownsNamespace(name)) << name;
}

}  // namespace
}  // namespace privlink::agent
