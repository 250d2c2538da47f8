// Integration tests of makeLinuxKernel() against the real kernel (root). Each test works in
// namespaces named pltest<pid>-*; the fixture deletes them (and /etc/netns/pltest<pid>-*) in
// TearDown, which gtest runs also after a failed assertion, and checks the host namespace's links,
// nft tables and ip_forward are unchanged. Traffic is a TCP connection made in-process by entering
// the namespaces with NamespaceGuard (ping is not installed).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/utsname.h>

#include "dataplane/bpf/fast_path_maps.h"
#include "dataplane/kernel.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"

namespace privlink::dataplane {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

std::vector<std::string> linkNames(Kernel& kernel, const std::string& ns) {
  auto links = kernel.listLinks(ns);
  EXPECT_TRUE(links.ok()) << links.status().toString();
  std::vector<std::string> names;
  if (links.ok()) {
    for (const auto& l : *links) names.push_back(l.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<LinkInfo> findLink(Kernel& kernel, const std::string& ns, const std::string& name) {
  auto links = kernel.listLinks(ns);
  if (!links.ok()) return std::nullopt;
  for (const auto& l : *links) {
    if (l.name == name) return l;
  }
  return std::nullopt;
}

template <typename T>
bool contains(const std::vector<T>& items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Deletes namespaces and /etc/netns dirs named `prefix`*, and those of earlier runs whose process
// is gone (a crashed run cannot clean up after itself).
void removeTestNamespaces(const std::string& prefix) {
  auto names = listPersistentNamespaces();
  if (!names.ok()) return;
  for (const std::string& name : *names) {
    bool ours = name.rfind(prefix, 0) == 0;
    bool stale = false;
    if (name.rfind("pltest", 0) == 0) {
      int pid = std::atoi(name.c_str() + 6);
      stale = pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
    }
    if (ours || stale) (void)deletePersistentNamespace(name);
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/etc/netns", ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

// A TCP socket in `ns`, made by entering it with the guard (the socket stays there).
UniqueFd tcpSocketIn(const std::string& ns) {
  auto handle = NetnsHandle::open(ns);
  EXPECT_TRUE(handle.ok()) << handle.status().toString();
  if (!handle.ok()) return UniqueFd();
  auto guard = NamespaceGuard::enter(*handle);
  EXPECT_TRUE(guard.ok()) << guard.status().toString();
  if (!guard.ok()) return UniqueFd();
  return UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

sockaddr_in socketAddress(const char* address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &sa.sin_addr);
  return sa;
}

class LinuxKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "integration tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    prefix_ = "pltest" + std::to_string(::getpid()) + "-";
    nsA_ = prefix_ + "a";
    nsB_ = prefix_ + "b";
    removeTestNamespaces(prefix_);
    kernel_ = makeLinuxKernel();
    hostLinksBefore_ = linkNames(*kernel_, "");
    auto tables = kernel_->nftListTables("");
    ASSERT_TRUE(tables.ok()) << tables.status().toString();
    hostTablesBefore_ = *tables;
    auto forward = kernel_->getSysctl("", "net/ipv4/ip_forward");
    ASSERT_TRUE(forward.ok()) << forward.status().toString();
    hostForwardBefore_ = *forward;
    auto self = NetnsHandle::current();
    ASSERT_TRUE(self.ok());
    hostInode_ = self->inode();
  }

  void TearDown() override {
    if (!kernel_) return;
    for (const std::string& ns : {nsA_, nsB_}) (void)kernel_->bpfRemovePinned(ns);
    removeTestNamespaces(prefix_);
    auto names = listPersistentNamespaces();
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) EXPECT_NE(name.rfind(prefix_, 0), 0u) << name << " leaked";
    // The host namespace is exactly as before, and this thread is still in it.
    EXPECT_EQ(linkNames(*kernel_, ""), hostLinksBefore_);
    auto tables = kernel_->nftListTables("");
    ASSERT_TRUE(tables.ok());
    EXPECT_EQ(*tables, hostTablesBefore_);
    auto forward = kernel_->getSysctl("", "net/ipv4/ip_forward");
    ASSERT_TRUE(forward.ok());
    EXPECT_EQ(*forward, hostForwardBefore_);
    auto self = NetnsHandle::current();
    ASSERT_TRUE(self.ok());
    EXPECT_EQ(self->inode(), hostInode_);
    kernel_.reset();
  }

  void expectOk(const Status& status) { EXPECT_TRUE(status.ok()) << status.toString(); }

  // ns A --va/vb veth-- ns B, vb enslaved to bridge br0 in B; A 10.99.0.2/24 + fd00:99::2/64 on va,
  // B 10.99.0.1/24 + fd00:99::1/64 on br0; every link up.
  void buildTopology() {
    ASSERT_TRUE(kernel_->createNamespace(nsA_).ok());
    ASSERT_TRUE(kernel_->createNamespace(nsB_).ok());
    expectOk(kernel_->createVethPair(nsA_, "va", nsB_, "vb"));
    expectOk(kernel_->createBridge(nsB_, "br0"));
    expectOk(kernel_->setLinkMaster(nsB_, "vb", "br0"));
    expectOk(kernel_->addAddress(nsA_, {"va", ip("10.99.0.2"), 24}));
    expectOk(kernel_->addAddress(nsA_, {"va", ip("fd00:99::2"), 64}));
    expectOk(kernel_->addAddress(nsB_, {"br0", ip("10.99.0.1"), 24}));
    expectOk(kernel_->addAddress(nsB_, {"br0", ip("fd00:99::1"), 64}));
    for (const auto& [ns, link] : std::vector<std::pair<std::string, std::string>>{
             {nsA_, "lo"}, {nsA_, "va"}, {nsB_, "lo"}, {nsB_, "vb"}, {nsB_, "br0"}}) {
      expectOk(kernel_->setLinkUp(ns, link, true));
    }
  }

  std::string prefix_, nsA_, nsB_;
  std::unique_ptr<Kernel> kernel_;
  std::vector<std::string> hostLinksBefore_;
  std::vector<std::string> hostTablesBefore_;
  std::string hostForwardBefore_;
  ino_t hostInode_ = 0;
};

TEST_F(LinuxKernelTest, NamespacesAreCreatedListedAndDeletedLikeIproute2) {
  ASSERT_TRUE(kernel_->createNamespace(nsA_).ok());
  EXPECT_EQ(kernel_->createNamespace(nsA_).code(), StatusCode::kAlreadyExists);
  auto names = kernel_->listNamespaces();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(contains(*names, nsA_));
  EXPECT_TRUE(std::filesystem::exists("/run/netns/" + nsA_));
  // A fresh namespace holds only lo, down.
  auto links = kernel_->listLinks(nsA_);
  ASSERT_TRUE(links.ok()) << links.status().toString();
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].name, "lo");
  EXPECT_EQ((*links)[0].kind, "loopback");
  EXPECT_FALSE((*links)[0].up);

  expectOk(kernel_->deleteNamespace(nsA_));
  EXPECT_EQ(kernel_->deleteNamespace(nsA_).code(), StatusCode::kNotFound);
  EXPECT_EQ(kernel_->listLinks(nsA_).status().code(), StatusCode::kNotFound);
  names = kernel_->listNamespaces();
  ASSERT_TRUE(names.ok());
  EXPECT_FALSE(contains(*names, nsA_));
  EXPECT_EQ(kernel_->createNamespace("bad/name").code(), StatusCode::kInvalidArgument);
}

TEST_F(LinuxKernelTest, CreateReplacesAPlaceholderLeftByACrash) {
  // What a crash between "create the file" and "mount the namespace on it" leaves behind.
  std::filesystem::create_directories("/run/netns");
  { std::ofstream placeholder("/run/netns/" + nsA_); }
  auto listed = kernel_->listNamespaces();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(contains(*listed, nsA_));
  expectOk(kernel_->createNamespace(nsA_));
  EXPECT_EQ(linkNames(*kernel_, nsA_), std::vector<std::string>{"lo"});
  // A real namespace is never mistaken for a placeholder.
  EXPECT_EQ(kernel_->createNamespace(nsA_).code(), StatusCode::kAlreadyExists);
}

TEST_F(LinuxKernelTest, LinksBridgeAndMasterAreListedWithKindMtuAndMac) {
  buildTopology();
  EXPECT_EQ(kernel_->createVethPair(nsA_, "va", nsB_, "vb").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(kernel_->createBridge(nsB_, "br0").code(), StatusCode::kAlreadyExists);

  auto va = findLink(*kernel_, nsA_, "va");
  ASSERT_TRUE(va.has_value());
  EXPECT_EQ(va->kind, "veth");
  EXPECT_TRUE(va->up);
  EXPECT_EQ(va->mtu, 1500);
  EXPECT_EQ(va->master, "");
  EXPECT_EQ(va->macAddress.size(), 17u) << va->macAddress;
  auto vb = findLink(*kernel_, nsB_, "vb");
  ASSERT_TRUE(vb.has_value());
  EXPECT_EQ(vb->master, "br0");
  auto br = findLink(*kernel_, nsB_, "br0");
  ASSERT_TRUE(br.has_value());
  EXPECT_EQ(br->kind, "bridge");
  EXPECT_TRUE(br->up);
  EXPECT_EQ(linkNames(*kernel_, nsA_), (std::vector<std::string>{"lo", "va"}));
  EXPECT_EQ(linkNames(*kernel_, nsB_), (std::vector<std::string>{"br0", "lo", "vb"}));

  expectOk(kernel_->setLinkUp(nsA_, "va", false));
  EXPECT_FALSE(findLink(*kernel_, nsA_, "va")->up);
  expectOk(kernel_->setLinkMaster(nsB_, "vb", ""));
  EXPECT_EQ(findLink(*kernel_, nsB_, "vb")->master, "");

  // Deleting one end of a veth deletes its peer in the other namespace.
  expectOk(kernel_->deleteLink(nsA_, "va"));
  EXPECT_EQ(linkNames(*kernel_, nsB_), (std::vector<std::string>{"br0", "lo"}));
  EXPECT_EQ(kernel_->deleteLink(nsA_, "va").code(), StatusCode::kNotFound);
}

TEST_F(LinuxKernelTest, MissingObjectsAndBadNamesAreReportedNotCrashed) {
  ASSERT_TRUE(kernel_->createNamespace(nsA_).ok());
  Status s = kernel_->createVethPair(nsA_, "va", prefix_ + "missing", "vb");
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.toString();
  s = kernel_->setLinkMaster(nsA_, "lo", "nobridge");
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.toString();
  EXPECT_NE(s.message().find("nobridge"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("ENODEV"), std::string::npos) << s.message();
  s = kernel_->addAddress(nsA_, {"nolink", ip("10.1.0.1"), 24});
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.toString();
  EXPECT_EQ(kernel_->createBridge(nsA_, "a-name-longer-than-15").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(kernel_->listLinks(prefix_ + "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(kernel_->getSysctl(nsA_, "../etc/passwd").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(kernel_->getSysctl(nsA_, "net/ipv4/no_such_key").status().code(),
            StatusCode::kNotFound);
  // An unreachable gateway: the kernel's reason reaches the caller.
  s = kernel_->addRoute(
      nsA_, Route{.destination = prefix("10.5.0.0/16"), .gateway = ip("10.6.0.1"), .device = "lo"});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("RTM_NEWROUTE unicast 10.5.0.0/16 via 10.6.0.1"), std::string::npos)
      << s.message();
}

TEST_F(LinuxKernelTest, AddressesRoutesAndRulesRoundTrip) {
  buildTopology();
  EXPECT_EQ(kernel_->addAddress(nsA_, {"va", ip("10.99.0.2"), 24}).code(),
            StatusCode::kAlreadyExists);
  auto addresses = kernel_->listAddresses(nsA_);
  ASSERT_TRUE(addresses.ok()) << addresses.status().toString();
  EXPECT_TRUE(contains(*addresses, InterfaceAddress{"va", ip("10.99.0.2"), 24, false}));
  EXPECT_TRUE(contains(*addresses, InterfaceAddress{"va", ip("fd00:99::2"), 64, false}));
  EXPECT_TRUE(contains(*addresses, InterfaceAddress{"lo", ip("127.0.0.1"), 8, true}));

  // Routes in the main table: gateway, IPv6, blackhole; the connected routes are kernel-made.
  Route viaB{.destination = prefix("10.98.0.0/24"), .gateway = ip("10.99.0.1"), .device = "va"};
  Route viaB6{.destination = prefix("fd00:98::/64"), .gateway = ip("fd00:99::1"), .device = "va"};
  Route hole{.destination = prefix("10.97.0.0/24"), .type = RouteType::kBlackhole};
  expectOk(kernel_->addRoute(nsA_, viaB));
  expectOk(kernel_->addRoute(nsA_, viaB6));
  expectOk(kernel_->addRoute(nsA_, hole));
  EXPECT_EQ(kernel_->addRoute(nsA_, viaB).code(), StatusCode::kAlreadyExists);
  auto routes = kernel_->listRoutes(nsA_, 254);
  ASSERT_TRUE(routes.ok()) << routes.status().toString();
  EXPECT_TRUE(contains(*routes, viaB));
  EXPECT_TRUE(contains(*routes, viaB6));
  EXPECT_TRUE(contains(*routes, hole));
  Route connected{.destination = prefix("10.99.0.0/24"),
                  .device = "va",
                  .preferredSource = ip("10.99.0.2"),
                  .kernelCreated = true};
  EXPECT_TRUE(contains(*routes, connected));

  // A local route in another table, with the rule that uses it (the TPROXY recipe).
  Route local{
      .destination = prefix("0.0.0.0/0"), .device = "lo", .table = 100, .type = RouteType::kLocal};
  expectOk(kernel_->addRoute(nsB_, local));
  routes = kernel_->listRoutes(nsB_, 100);
  ASSERT_TRUE(routes.ok());
  EXPECT_EQ(*routes, std::vector<Route>{local});
  RoutingRule rule{1, 100, 1000};
  expectOk(kernel_->addRule(nsB_, rule));
  EXPECT_EQ(kernel_->addRule(nsB_, rule).code(), StatusCode::kAlreadyExists);
  auto rules = kernel_->listRules(nsB_);
  ASSERT_TRUE(rules.ok()) << rules.status().toString();
  EXPECT_EQ(*rules, std::vector<RoutingRule>{rule});  // the default rules are not listed
  expectOk(kernel_->deleteRule(nsB_, rule));
  EXPECT_EQ(kernel_->deleteRule(nsB_, rule).code(), StatusCode::kNotFound);
  expectOk(kernel_->deleteRoute(nsB_, local));
  EXPECT_EQ(kernel_->deleteRoute(nsB_, local).code(), StatusCode::kNotFound);
  EXPECT_TRUE(kernel_->listRoutes(nsB_, 100)->empty());

  expectOk(kernel_->deleteRoute(nsA_, viaB));
  expectOk(kernel_->deleteRoute(nsA_, viaB6));
  EXPECT_FALSE(contains(*kernel_->listRoutes(nsA_, 254), viaB));
  expectOk(kernel_->deleteAddress(nsA_, {"va", ip("10.99.0.2"), 24}));
  EXPECT_EQ(kernel_->deleteAddress(nsA_, {"va", ip("10.99.0.2"), 24}).code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(
      contains(*kernel_->listAddresses(nsA_), InterfaceAddress{"va", ip("10.99.0.2"), 24}));
  // Down: the routes through va go, and so do its IPv6 addresses (IPv4 ones stay).
  expectOk(kernel_->addAddress(nsA_, {"va", ip("10.99.0.3"), 24}));
  expectOk(kernel_->addRoute(nsA_, viaB));
  expectOk(kernel_->setLinkUp(nsA_, "va", false));
  routes = kernel_->listRoutes(nsA_, 254);
  ASSERT_TRUE(routes.ok());
  for (const Route& r : *routes) EXPECT_NE(r.device, "va");
  addresses = kernel_->listAddresses(nsA_);
  ASSERT_TRUE(addresses.ok());
  EXPECT_TRUE(contains(*addresses, InterfaceAddress{"va", ip("10.99.0.3"), 24}));
  EXPECT_FALSE(contains(*addresses, InterfaceAddress{"va", ip("fd00:99::2"), 64}));
  // Nothing of this leaked into the host namespace's main table.
  auto hostRoutes = kernel_->listRoutes("", 254);
  ASSERT_TRUE(hostRoutes.ok());
  for (const Route& r : *hostRoutes) EXPECT_NE(r.destination, prefix("10.98.0.0/24"));
}

TEST_F(LinuxKernelTest, SysctlsAreReadAndWrittenPerNamespace) {
  ASSERT_TRUE(kernel_->createNamespace(nsA_).ok());
  ASSERT_TRUE(kernel_->createNamespace(nsB_).ok());
  expectOk(kernel_->setSysctl(nsB_, "net/ipv4/ip_forward", "1"));
  EXPECT_EQ(*kernel_->getSysctl(nsB_, "net/ipv4/ip_forward"), "1");
  EXPECT_EQ(*kernel_->getSysctl(nsA_, "net/ipv4/ip_forward"), "0");
  expectOk(kernel_->setSysctl(nsB_, "net/ipv4/ip_forward", "0"));
  EXPECT_EQ(*kernel_->getSysctl(nsB_, "net/ipv4/ip_forward"), "0");
  // TearDown checks the host's ip_forward did not move.
}

TEST_F(LinuxKernelTest, NatTrafficFlowsAndConntrackDeleteRemovesTheFlow) {
  buildTopology();
  // A reaches the "service" 10.98.0.5:80 through B, which DNATs it to a listener on br0.
  expectOk(kernel_->addRoute(
      nsA_,
      Route{.destination = prefix("10.98.0.0/24"), .gateway = ip("10.99.0.1"), .device = "va"}));
  expectOk(kernel_->setSysctl(nsB_, "net/ipv4/ip_forward", "1"));

  UniqueFd listener = tcpSocketIn(nsB_);
  ASSERT_TRUE(listener.valid());
  sockaddr_in bindTo = socketAddress("10.99.0.1", 0);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&bindTo), sizeof bindTo), 0)
      << strerror(errno);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  sockaddr_in bound{};
  socklen_t boundLength = sizeof bound;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &boundLength);
  uint16_t port = ntohs(bound.sin_port);

  std::string rules =
      "table ip pltestnat {\n"
      "  chain prerouting {\n"
      "    type nat hook prerouting priority dstnat; policy accept;\n"
      "    ip daddr 10.98.0.5 tcp dport 80 dnat to 10.99.0.1:" +
      std::to_string(port) + "\n  }\n}\n";
  expectOk(kernel_->nftApply(nsB_, rules));
  auto tables = kernel_->nftListTables(nsB_);
  ASSERT_TRUE(tables.ok()) << tables.status().toString();
  EXPECT_EQ(*tables, std::vector<std::string>{"ip pltestnat"});
  EXPECT_TRUE(kernel_->nftListTables(nsA_)->empty());
  auto listed = kernel_->nftListTable(nsB_, "ip", "pltestnat");
  ASSERT_TRUE(listed.ok()) << listed.status().toString();
  EXPECT_NE(listed->find("dnat to 10.99.0.1:" + std::to_string(port)), std::string::npos)
      << *listed;
  EXPECT_EQ(kernel_->nftListTable(nsB_, "ip", "nosuchtable").status().code(),
            StatusCode::kNotFound);

  // A failing batch changes nothing (one transaction) and returns nft's error text.
  Status bad = kernel_->nftApply(nsB_, "add table ip pltestother\nadd chain ip nosuch c\n");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("nft:"), std::string::npos) << bad.message();
  EXPECT_EQ(*kernel_->nftListTables(nsB_), std::vector<std::string>{"ip pltestnat"});
  bad = kernel_->nftApply(nsB_, "this is not nft\n");
  EXPECT_NE(bad.message().find("syntax error"), std::string::npos) << bad.message();

  // Connect from A (client socket created inside A) to the DNATed address.
  UniqueFd client = tcpSocketIn(nsA_);
  ASSERT_TRUE(client.valid());
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in service = socketAddress("10.98.0.5", 80);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&service), sizeof service), 0)
      << strerror(errno);
  pollfd pfd{listener.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  sockaddr_in peer{};
  socklen_t peerLength = sizeof peer;
  UniqueFd server(::accept(listener.get(), reinterpret_cast<sockaddr*>(&peer), &peerLength));
  ASSERT_TRUE(server.valid());
  char peerText[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &peer.sin_addr, peerText, sizeof peerText);
  EXPECT_STREQ(peerText, "10.99.0.2");
  ASSERT_EQ(::write(client.get(), "ping", 4), 4);
  char buffer[8] = {};
  ASSERT_EQ(::read(server.get(), buffer, sizeof buffer), 4);
  EXPECT_STREQ(buffer, "ping");

  // The flow is in B's conntrack table; deleting it by original destination counts it once.
  ConntrackFilter other;
  other.originalDestination = ip("10.98.0.6");
  auto none = kernel_->conntrackDelete(nsB_, other);
  ASSERT_TRUE(none.ok()) << none.status().toString();
  EXPECT_EQ(*none, 0);
  ConntrackFilter flow;
  flow.originalSource = ip("10.99.0.2");
  flow.originalDestination = ip("10.98.0.5");
  auto deleted = kernel_->conntrackDelete(nsB_, flow);
  ASSERT_TRUE(deleted.ok()) << deleted.status().toString();
  EXPECT_EQ(*deleted, 1);
  auto again = kernel_->conntrackDelete(nsB_, flow);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);

  expectOk(kernel_->nftApply(nsB_, "delete table ip pltestnat\n"));
  EXPECT_TRUE(kernel_->nftListTables(nsB_)->empty());
}

TEST_F(LinuxKernelTest, DeletingANamespaceRemovesVethPeersAtOnce) {
  ASSERT_TRUE(kernel_->createNamespace(nsA_).ok());
  ASSERT_TRUE(kernel_->createNamespace(nsB_).ok());
  expectOk(kernel_->createVethPair(nsA_, "va", nsB_, "vb"));
  EXPECT_EQ(linkNames(*kernel_, nsB_), (std::vector<std::string>{"lo", "vb"}));
  expectOk(kernel_->deleteNamespace(nsA_));
  EXPECT_EQ(linkNames(*kernel_, nsB_), (std::vector<std::string>{"lo"}));
  // Re-creating the namespace and the same pair right away works (the level-triggered agent
  // does exactly this after a delete).
  ASSERT_TRUE(kernel_->createNamespace(nsA_).ok());
  expectOk(kernel_->createVethPair(nsA_, "va", nsB_, "vb"));
  EXPECT_EQ(linkNames(*kernel_, nsA_), (std::vector<std::string>{"lo", "va"}));
}

TEST_F(LinuxKernelTest, NamespaceFilesAreWrittenAndRemoved) {
  std::string content = "nameserver 168.63.129.16\n";
  expectOk(kernel_->writeNamespaceFile(nsA_, "resolv.conf", content));
  std::ifstream in("/etc/netns/" + nsA_ + "/resolv.conf");
  std::stringstream read;
  read << in.rdbuf();
  EXPECT_EQ(read.str(), content);
  expectOk(kernel_->writeNamespaceFile(nsA_, "resolv.conf", "nameserver 10.0.0.1\n"));
  EXPECT_EQ(kernel_->writeNamespaceFile(nsA_, "../passwd", "x").code(),
            StatusCode::kInvalidArgument);
  expectOk(kernel_->removeNamespaceFiles(nsA_));
  EXPECT_FALSE(std::filesystem::exists("/etc/netns/" + nsA_));
  EXPECT_EQ(kernel_->removeNamespaceFiles(nsA_).code(), StatusCode::kNotFound);
}

// Whether this kernel has tcx (Linux 6.6+): the fast path attaches by pinned tcx links there.
bool kernelHasTcx() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 6);
}

// The fast path's attachments (dataplane/tc_bpf.h): a pinned tcx link that outlives the Kernel
// object (privlinkd), whose program a later attach replaces in place; a link whose device went
// and came back is attached afresh; detach removes it and its pin.
TEST_F(LinuxKernelTest, FastPathProgramsAttachAsPinnedTcxLinksThatOutliveTheAgent) {
  ASSERT_NO_FATAL_FAILURE(buildTopology());
  auto attached = [&](const std::string& ns) {
    auto list = kernel_->tcListAttachments(ns);
    EXPECT_TRUE(list.ok()) << list.status().toString();
    return list.ok() ? *list : std::vector<TcAttachment>{};
  };
  const std::string pin = "/sys/fs/bpf/privlink/" + nsB_ + "/tcx_vb";
  expectOk(kernel_->tcAttach(nsB_, {"vb", PL_FP_PROG_BACKEND_IN}));
  EXPECT_EQ(attached(nsB_), (std::vector<TcAttachment>{{"vb", PL_FP_PROG_BACKEND_IN}}));
  EXPECT_EQ(std::filesystem::exists(pin), kernelHasTcx()) << pin;

  // A new Kernel (a restarted privlinkd) finds it, and replaces the program in place.
  kernel_ = makeLinuxKernel();
  EXPECT_EQ(attached(nsB_), (std::vector<TcAttachment>{{"vb", PL_FP_PROG_BACKEND_IN}}));
  expectOk(kernel_->tcAttach(nsB_, {"vb", PL_FP_PROG_CONSUMER_IN}));
  EXPECT_EQ(attached(nsB_), (std::vector<TcAttachment>{{"vb", PL_FP_PROG_CONSUMER_IN}}));

  // The device goes and comes back under the same name: nothing attached, then attached afresh.
  expectOk(kernel_->deleteLink(nsB_, "vb"));
  expectOk(kernel_->createVethPair(nsA_, "va", nsB_, "vb"));
  EXPECT_TRUE(attached(nsB_).empty());
  expectOk(kernel_->tcAttach(nsB_, {"vb", PL_FP_PROG_BACKEND_IN}));
  EXPECT_EQ(attached(nsB_), (std::vector<TcAttachment>{{"vb", PL_FP_PROG_BACKEND_IN}}));

  expectOk(kernel_->tcDetach(nsB_, "vb"));
  EXPECT_TRUE(attached(nsB_).empty());
  EXPECT_FALSE(std::filesystem::exists(pin));
  EXPECT_EQ(kernel_->tcDetach(nsB_, "vb").code(), StatusCode::kNotFound);
}

TEST_F(LinuxKernelTest, GuardReturnsToTheOriginalNamespace) {
  ASSERT_TRUE(kernel_->createNamespace(nsA_).ok());
  auto handle = NetnsHandle::open(nsA_);
  ASSERT_TRUE(handle.ok());
  {
    auto guard = NamespaceGuard::enter(*handle);
    ASSERT_TRUE(guard.ok());
    EXPECT_EQ(NetnsHandle::current()->inode(), handle->inode());
    NamespaceGuard moved = std::move(*guard);  // the moved-from guard must not switch back early
    EXPECT_EQ(NetnsHandle::current()->inode(), handle->inode());
  }
  EXPECT_EQ(NetnsHandle::current()->inode(), hostInode_);
}

}  // namespace
}  // namespace privlink::dataplane
