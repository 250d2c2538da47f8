// The 168.63.129.16 resolver on the real kernel (root): a real Agent and a real dns::Responder
// over one in-memory store filled with documents, under the namespace prefix dns<pid>. Queries
// are real `dig` runs inside NIC namespaces (execInNamespace, so the NIC's resolv.conf is used).
// The responder is started from a namespace the test makes (<prefix>fwd), so its forwards stay
// there: the "upstream" is an in-process UDP responder on 127.0.0.1:5354 inside that namespace.
// TearDown stops everything and removes every namespace of the prefix, also when a test fails.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/agent.h"
#include "agent/nic_exec.h"
#include "control/provisioning.h"
#include "dataplane/kernel.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "dns/responder.h"
#include "model/host_naming.h"
#include "store/store.h"
#include "testing/network_documents.h"

namespace privlink::dns {
namespace {

using agent::Agent;
using dataplane::NamespaceGuard;
using dataplane::NetnsHandle;
using dataplane::UniqueFd;
using namespace privlink::testing;
using namespace std::chrono_literals;

constexpr uint16_t kUpstreamPort = 5354;
const std::string kZone = "privatelink.database.windows.net";

// A minimal authoritative server for tests: answers every A query for "*.outside.test." with
// 192.0.2.77 and never answers "silent.outside.test." (to exercise the forward timeout).
class TestUpstream {
 public:
  bool start(const std::string& ns) {
    auto handle = NetnsHandle::open(ns);
    if (!handle.ok()) return false;
    {
      auto guard = NamespaceGuard::enter(*handle);
      if (!guard.ok()) return false;
      fd_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(kUpstreamPort);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return false;
    thread_ = std::thread([this] { serve(); });
    return true;
  }
  ~TestUpstream() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int queries() const { return queries_.load(); }

 private:
  void serve() {
    uint8_t buf[4096];
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      ++queries_;
      ldns_pkt* q = nullptr;
      if (ldns_wire2pkt(&q, buf, static_cast<size_t>(n)) != LDNS_STATUS_OK) continue;
      ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
      char* name = ldns_rdf2str(ldns_rr_owner(question));
      std::string qname = name;
      free(name);
      if (qname == "silent.outside.test.") {
        ldns_pkt_free(q);
        continue;
      }
      ldns_pkt* r = ldns_pkt_new();
      ldns_pkt_set_id(r, ldns_pkt_id(q));
      ldns_pkt_set_qr(r, true);
      ldns_pkt_set_rd(r, true);
      ldns_pkt_set_ra(r, true);
      ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
      ldns_rr* rr = nullptr;
      std::string text = qname + " 30 IN A 192.0.2.77";
      if (ldns_rr_get_type(question) == LDNS_RR_TYPE_A &&
          ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) == LDNS_STATUS_OK) {
        ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
      }
      uint8_t* wire = nullptr;
      size_t size = 0;
      if (ldns_pkt2wire(&wire, r, &size) == LDNS_STATUS_OK) {
        ::sendto(fd_.get(), wire, size, 0, reinterpret_cast<sockaddr*>(&from), len);
      }
      free(wire);
      ldns_pkt_free(r);
      ldns_pkt_free(q);
    }
  }
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

class DnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "integration tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    prefix_ = "dns" + std::to_string(::getpid());
    naming_ = model::HostNaming(prefix_);
    fwdNs_ = prefix_ + "fwd";
    kernel_ = dataplane::makeLinuxKernel();
    ASSERT_TRUE(Agent::cleanupAll(*kernel_, prefix_).ok());
    (void)dataplane::deletePersistentNamespace(fwdNs_);
    ASSERT_TRUE(dataplane::createPersistentNamespace(fwdNs_).ok());
    ASSERT_EQ(std::system(("ip -n " + fwdNs_ + " link set lo up").c_str()), 0);
    auto store = store::openSqliteStore({":memory:"});
    ASSERT_TRUE(store.ok()) << store.status().toString();
    store_ = std::move(store).value();
    outDir_ = std::filesystem::temp_directory_path() / ("privlink-" + prefix_);
    std::filesystem::create_directories(outDir_);
  }

  void TearDown() override {
    responder_.reset();
    agent_.reset();
    upstream_.reset();
    if (kernel_) EXPECT_TRUE(Agent::cleanupAll(*kernel_, prefix_).ok());
    (void)dataplane::deletePersistentNamespace(fwdNs_);
    std::error_code ec;
    std::filesystem::remove_all(outDir_, ec);
    auto names = dataplane::listPersistentNamespaces();
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) {
      EXPECT_FALSE(naming_.ownsNamespace(name) || name == fwdNs_) << name << " leaked";
    }
  }

  void put(const model::SourceDocument& doc) {
    Status s = store_->write([&](store::Transaction& tx) -> Status {
      return tx.put(doc.id, doc.type, doc.body).status();
    });
    ASSERT_TRUE(s.ok()) << s.toString();
  }
  void put(const std::string& id, const std::string& type, const nlohmann::json& body) {
    put(model::SourceDocument{model::normaliseKey(id), id, type, body});
  }

  // VNet `name` with one subnet and one NIC at `nicAddress`; returns the NIC key.
  std::string network(const std::string& name, const std::string& space, const std::string& sub,
                      const std::string& nicAddress) {
    std::string v = vnetId("rg", name);
    put(vnetDocument(v, {space}));
    std::string s = subnetId(v, "default");
    put(subnetDocument(s, sub));
    std::string n = nicId("rg", name + "-nic");
    put(nicDocument(n, s, nicAddress));
    return model::normaliseKey(n);
  }

  std::string zoneId() const {
    return resourceId("rg", "Microsoft.Network/privateDnsZones", kZone);
  }
  void zoneLinkedTo(const std::string& vnetName) {
    put(zoneId(), "microsoft.network/privatednszones", {{"location", "global"}, {"properties", {}}});
    put(zoneId() + "/virtualNetworkLinks/" + vnetName,
        "microsoft.network/privatednszones/virtualnetworklinks",
        {{"location", "global"},
         {"properties",
          {{"virtualNetwork", {{"id", vnetId("rg", vnetName)}}}, {"registrationEnabled", false}}}});
  }
  void aRecord(const std::string& name, const std::string& address) {
    put(zoneId() + "/A/" + name, "microsoft.network/privatednszones/a",
        {{"properties", {{"ttl", 10}, {"aRecords", {{{"ipv4Address", address}}}}}}});
  }
  void paas(const std::string& name, const std::string& publicIp) {
    put(resourceId("rg", "Microsoft.Sql/servers", name), "microsoft.sql/servers",
        {{"location", "westeurope"},
         {"properties",
          {{"fullyQualifiedDomainName", name + ".database.windows.net"},
           {"privlink",
            {{"paas",
              {{"publicFqdn", name + ".database.windows.net"},
               {"privateLinkFqdn", name + ".privatelink.database.windows.net"},
               {"privateDnsZone", kZone},
               {"publicIpAddress", publicIp}}}}}}}});
  }

  void startAll() {
    startAgent();
    startResponder();
  }

  void startAgent() {
    agent::AgentOptions a;
    a.namePrefix = prefix_;
    a.realiserName = "dns-test-agent";
    a.retryInterval = 200ms;
    agent_ = std::make_unique<Agent>(*store_, tracker_, dataplane::makeLinuxKernel(), a);
    agent_->start();
  }

  void startResponder() {
    upstream_ = std::make_unique<TestUpstream>();
    ASSERT_TRUE(upstream_->start(fwdNs_));

    ResponderOptions o;
    o.namePrefix = prefix_;
    o.upstreams = {*parseUpstream("127.0.0.1:" + std::to_string(kUpstreamPort))};
    o.forwardTimeout = 1000ms;
    o.socketRetry = 200ms;
    responder_ = std::make_unique<Responder>(*store_, o);
    // Started inside fwdNs_: the responder's threads (and so its forwards) live there.
    auto fwd = NetnsHandle::open(fwdNs_);
    ASSERT_TRUE(fwd.ok());
    auto guard = NamespaceGuard::enter(*fwd);
    ASSERT_TRUE(guard.ok());
    ASSERT_TRUE(responder_->start().ok());
  }

  // Waits until the responder serves `count` namespaces (the agent made them).
  void waitServed(size_t count) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (responder_->servedNamespaces().size() >= count) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the responder serves " << responder_->servedNamespaces().size() << " of " << count
           << " VNet namespaces after 20 s";
  }

  // Runs dig inside the NIC's namespace; returns its stdout ("" and a failure if it fails).
  std::string dig(const std::string& nicKey, const std::string& args, int* status = nullptr) {
    std::string out = (outDir_ / ("dig" + std::to_string(++digs_))).string();
    int rc = agent::execInNamespace(naming_.nicNamespace(nicKey),
                                    {"sh", "-c", "dig " + args + " > " + out + " 2>&1"});
    if (status) {
      *status = rc;
    } else {
      EXPECT_EQ(rc, 0) << "dig " << args;
    }
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string prefix_;
  std::string fwdNs_;
  model::HostNaming naming_;
  std::unique_ptr<dataplane::Kernel> kernel_;
  std::unique_ptr<store::Store> store_;
  control::ProvisioningTracker tracker_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<TestUpstream> upstream_;
  std::unique_ptr<Responder> responder_;
  std::filesystem::path outDir_;
  int digs_ = 0;
};

TEST_F(DnsTest, LinkedVnetGetsThePrivateAnswerUnlinkedThePublicOne) {
  std::string linkedNic = network("linked", "10.1.0.0/16", "10.1.0.0/24", "10.1.0.4");
  std::string otherNic = network("other", "10.2.0.0/16", "10.2.0.0/24", "10.2.0.4");
  zoneLinkedTo("linked");
  aRecord("contoso-sql", "10.1.0.5");
  paas("contoso-sql", "203.0.113.5");
  startAll();
  waitServed(2);

  // The NIC's resolv.conf points at 168.63.129.16: plain `dig NAME` uses it.
  std::string priv = dig(linkedNic, "+short +timeout=2 +tries=1 contoso-sql.database.windows.net");
  EXPECT_EQ(priv, "contoso-sql.privatelink.database.windows.net.\n10.1.0.5\n");
  std::string pub = dig(otherNic, "+short +timeout=2 +tries=1 contoso-sql.database.windows.net");
  EXPECT_EQ(pub, "contoso-sql.privatelink.database.windows.net.\n203.0.113.5\n");
  // Case-insensitive, explicit server.
  std::string upper = dig(linkedNic, "+short +timeout=2 +tries=1 @168.63.129.16 "
                                     "CONTOSO-SQL.privatelink.DATABASE.windows.net A");
  EXPECT_EQ(upper, "10.1.0.5\n");
  // NXDOMAIN with the SOA in the authority section.
  std::string nx = dig(linkedNic, "+timeout=2 +tries=1 nothing." + kZone);
  EXPECT_NE(nx.find("status: NXDOMAIN"), std::string::npos) << nx;
  EXPECT_NE(nx.find("SOA"), std::string::npos) << nx;
}

TEST_F(DnsTest, TcpQueriesAreAnswered) {
  std::string nic = network("linked", "10.1.0.0/16", "10.1.0.0/24", "10.1.0.4");
  zoneLinkedTo("linked");
  aRecord("db1", "10.1.0.5");
  startAll();
  waitServed(1);
  std::string out = dig(nic, "+tcp +short +timeout=2 +tries=1 db1." + kZone);
  EXPECT_EQ(out, "10.1.0.5\n");
}

TEST_F(DnsTest, OtherNamesAreForwardedToTheUpstreamAndSilenceIsServfail) {
  std::string nic = network("linked", "10.1.0.0/16", "10.1.0.0/24", "10.1.0.4");
  startAll();
  waitServed(1);
  std::string out = dig(nic, "+short +timeout=3 +tries=1 www.outside.test");
  EXPECT_EQ(out, "192.0.2.77\n");
  EXPECT_GE(upstream_->queries(), 1);
  std::string tcp = dig(nic, "+tcp +short +timeout=3 +tries=1 tcp.outside.test");
  EXPECT_EQ(tcp, "192.0.2.77\n");
  auto start = std::chrono::steady_clock::now();
  std::string silent = dig(nic, "+timeout=4 +tries=1 silent.outside.test");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(silent.find("status: SERVFAIL"), std::string::npos) << silent;
  EXPECT_LT(took, 3s);
}

TEST_F(DnsTest, ARecordChangeIsServedWithinOneSecond) {
  std::string nic = network("linked", "10.1.0.0/16", "10.1.0.0/24", "10.1.0.4");
  zoneLinkedTo("linked");
  aRecord("db1", "10.1.0.5");
  startAll();
  waitServed(1);
  ASSERT_EQ(dig(nic, "+short +timeout=2 +tries=1 db1." + kZone), "10.1.0.5\n");

  aRecord("db1", "10.1.0.9");
  auto changed = std::chrono::steady_clock::now();
  std::string now;
  while (std::chrono::steady_clock::now() - changed < 1s) {
    now = dig(nic, "+short +timeout=1 +tries=1 db1." + kZone);
    if (now == "10.1.0.9\n") break;
  }
  EXPECT_EQ(now, "10.1.0.9\n");
  EXPECT_LT(std::chrono::steady_clock::now() - changed, 1s);
}

// Regression (demo step 14, 1 run in 3): the responder bound its socket (IP_FREEBIND) in a VNet
// namespace the agent had just created and not yet configured. Such a namespace has no local
// routing table, so the UDP socket kept source address 0 and its replies left from the subnet
// gateway's address (10.x.x.1:53); the NIC's resolver dropped them and timed out for good. Here
// the namespace exists, empty, for several reconcile rounds before the agent configures it.
TEST_F(DnsTest, UdpRepliesLeaveFromTheResolverAddressWhenTheNamespaceWasBareAtFirst) {
  std::string nic = network("linked", "10.1.0.0/16", "10.1.0.0/24", "10.1.0.4");
  zoneLinkedTo("linked");
  aRecord("db1", "10.1.0.5");
  const std::string vnetNs = naming_.vnetNamespace(model::normaliseKey(vnetId("rg", "linked")));
  ASSERT_TRUE(dataplane::createPersistentNamespace(vnetNs).ok());  // TearDown removes it
  startResponder();
  std::this_thread::sleep_for(1s);  // five reconcile rounds (socketRetry 200 ms) meet it bare
  startAgent();
  waitServed(1);
  // The agent may still be making the NIC: retry for a while; a wrong source never heals.
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    out = dig(nic, "+short +timeout=1 +tries=1 db1." + kZone, &status);
    if (status == 0 && out == "10.1.0.5\n") break;
  }
  EXPECT_EQ(out, "10.1.0.5\n");
  // TCP replies come from the accepted connection's own address: they must work as well.
  EXPECT_EQ(dig(nic, "+tcp +short +timeout=2 +tries=1 db1." + kZone), "10.1.0.5\n");
}

}  // namespace
}  // namespace privlink::dns
