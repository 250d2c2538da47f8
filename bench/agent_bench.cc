// agent_bench: the agent in-process (a real Agent over a SQLite store filled with the documents
// the control plane writes, tests/testing/network_documents.h) on the real kernel. Not a test;
// root only. Every mode removes what it created (Agent::cleanupAll) on exit, also on SIGINT/TERM.
//
//   agent_bench converge PREFIX N
//       N VNets (10.0.0.0/16 each, overlapping, one subnet each) converged from empty by one
//       agent pass, then by a fresh Agent over the same kernel (= privlinkd restarted after
//       kill -9: the agent keeps no state but the kernel and the store), then cleanupAll.
//   agent_bench endpoints PREFIX N...
//   agent_bench endpoints-full PREFIX N...     (the same with AgentOptions::incremental off: every
//       pass a full one, as before session 4; the baseline to compare with in the same run)
//       consumer VNet + provider VNet + LB + PLS, then for each N: N approved private endpoints
//       converged, then the time of adding ONE more endpoint (store write + agent pass), with the
//       kernel calls of that pass timed by kind, and one nft element add+delete alone (raw
//       netlink batch, and through libnftables for comparison).
//   agent_bench topology PREFIX [ppv2]
//       the private-link topology of bench/privatelink_bench.sh: consumer VNet 10.0.0.0/16 with
//       client NIC 10.0.1.4 and an approved endpoint 10.0.1.9 -> PLS (NAT IP 10.0.1.20) -> LB
//       frontend 10.0.1.10 TCP 5201, 5202, 5299 -> backend NIC 10.0.1.4 (same ports) in the provider VNet (also
//       10.0.0.0/16). Prints KEY=VALUE lines, then "ready"; runs the agent until SIGTERM/SIGINT
//       (SIGUSR1 stops the agent thread first, leaving the kernel as it is: "frozen").
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "control/provisioning.h"
#include "dataplane/kernel.h"
#include "model/host_naming.h"
#include "model/transit.h"
#include "store/store.h"
#include "testing/network_documents.h"

namespace privlink::bench {
namespace {

using namespace privlink::testing;
using Clock = std::chrono::steady_clock;
std::atomic<bool> gStop{false};
std::atomic<bool> gFreeze{false};
void onSignal(int) { gStop = true; }
void onFreeze(int) { gFreeze = true; }

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A Kernel that forwards to the real one and adds up the time spent per kind of call.
class TimedKernel : public dataplane::Kernel {
 public:
  struct Tally {
    int calls = 0;
    double ms = 0;
  };
  TimedKernel(dataplane::Kernel& inner, std::map<std::string, Tally>& tally)
      : k_(inner), tally_(tally) {}

#define PL_TIMED(kind, call)                 \
  const auto t0 = Clock::now();              \
  auto result = k_.call;                     \
  auto& t = tally_[kind];                    \
  t.calls++;                                 \
  t.ms += msSince(t0);                       \
  return result;

  Result<std::vector<std::string>> listNamespaces() override {
    PL_TIMED("listNamespaces", listNamespaces());
  }
  Status createNamespace(const std::string& ns) override {
    PL_TIMED("createNamespace", createNamespace(ns));
  }
  Status deleteNamespace(const std::string& ns) override {
    PL_TIMED("deleteNamespace", deleteNamespace(ns));
  }
  Result<std::vector<dataplane::LinkInfo>> listLinks(const std::string& ns) override {
    PL_TIMED("listLinks", listLinks(ns));
  }
  Status createVethPair(const std::string& ns, const std::string& name, const std::string& peerNs,
                        const std::string& peerName) override {
    PL_TIMED("createVethPair", createVethPair(ns, name, peerNs, peerName));
  }
  Status createBridge(const std::string& ns, const std::string& name) override {
    PL_TIMED("createBridge", createBridge(ns, name));
  }
  Status setLinkMaster(const std::string& ns, const std::string& link,
                       const std::string& master) override {
    PL_TIMED("setLinkMaster", setLinkMaster(ns, link, master));
  }
  Status setLinkUp(const std::string& ns, const std::string& link, bool up) override {
    PL_TIMED("setLinkUp", setLinkUp(ns, link, up));
  }
  Status deleteLink(const std::string& ns, const std::string& link) override {
    PL_TIMED("deleteLink", deleteLink(ns, link));
  }
  Result<std::vector<dataplane::InterfaceAddress>> listAddresses(const std::string& ns) override {
    PL_TIMED("listAddresses", listAddresses(ns));
  }
  Status addAddress(const std::string& ns, const dataplane::InterfaceAddress& a) override {
    PL_TIMED("addAddress", addAddress(ns, a));
  }
  Status deleteAddress(const std::string& ns, const dataplane::InterfaceAddress& a) override {
    PL_TIMED("deleteAddress", deleteAddress(ns, a));
  }
  Result<std::vector<dataplane::Route>> listRoutes(const std::string& ns,
                                                   uint32_t table) override {
    PL_TIMED("listRoutes", listRoutes(ns, table));
  }
  Status addRoute(const std::string& ns, const dataplane::Route& r) override {
    PL_TIMED("addRoute", addRoute(ns, r));
  }
  Status deleteRoute(const std::string& ns, const dataplane::Route& r) override {
    PL_TIMED("deleteRoute", deleteRoute(ns, r));
  }
  Result<std::vector<dataplane::RoutingRule>> listRules(const std::string& ns) override {
    PL_TIMED("listRules", listRules(ns));
  }
  Status addRule(const std::string& ns, const dataplane::RoutingRule& r) override {
    PL_TIMED("addRule", addRule(ns, r));
  }
  Status deleteRule(const std::string& ns, const dataplane::RoutingRule& r) override {
    PL_TIMED("deleteRule", deleteRule(ns, r));
  }
  Result<std::string> getSysctl(const std::string& ns, const std::string& key) override {
    PL_TIMED("getSysctl", getSysctl(ns, key));
  }
  Status setSysctl(const std::string& ns, const std::string& key,
                   const std::string& value) override {
    PL_TIMED("setSysctl", setSysctl(ns, key, value));
  }
  Status nftApply(const std::string& ns, const std::string& commands) override {
    PL_TIMED("nftApply", nftApply(ns, commands));
  }
  Result<std::vector<std::string>> nftListTables(const std::string& ns) override {
    PL_TIMED("nftListTables", nftListTables(ns));
  }
  Result<std::string> nftListTable(const std::string& ns, const std::string& family,
                                   const std::string& table) override {
    PL_TIMED("nftListTable", nftListTable(ns, family, table));
  }
  Status nftUpdateElements(const std::string& ns, const std::string& family,
                           const std::string& table,
                           const std::vector<dataplane::NftElementChange>& changes) override {
    PL_TIMED("nftUpdateElements", nftUpdateElements(ns, family, table, changes));
  }
  Result<uint32_t> nftGeneration(const std::string& ns) override {
    PL_TIMED("nftGeneration", nftGeneration(ns));
  }
  Result<int> conntrackDelete(const std::string& ns,
                              const dataplane::ConntrackFilter& filter) override {
    PL_TIMED("conntrackDelete", conntrackDelete(ns, filter));
  }
  Status writeNamespaceFile(const std::string& ns, const std::string& name,
                            const std::string& content) override {
    PL_TIMED("writeNamespaceFile", writeNamespaceFile(ns, name, content));
  }
  Status removeNamespaceFiles(const std::string& ns) override {
    PL_TIMED("removeNamespaceFiles", removeNamespaceFiles(ns));
  }
  Result<std::vector<dataplane::TcAttachment>> tcListAttachments(const std::string& ns) override {
    PL_TIMED("tcListAttachments", tcListAttachments(ns));
  }
  Status tcAttach(const std::string& ns, const dataplane::TcAttachment& a) override {
    PL_TIMED("tcAttach", tcAttach(ns, a));
  }
  Status tcDetach(const std::string& ns, const std::string& link) override {
    PL_TIMED("tcDetach", tcDetach(ns, link));
  }
  Result<uint32_t> linkIfindex(const std::string& ns, const std::string& link) override {
    PL_TIMED("linkIfindex", linkIfindex(ns, link));
  }
  Result<std::map<std::string, std::string>> bpfMapDump(const std::string& ns,
                                                        const std::string& map) override {
    PL_TIMED("bpfMapDump", bpfMapDump(ns, map));
  }
  Result<std::string> bpfMapLookup(const std::string& ns, const std::string& map,
                                   const std::string& key) override {
    PL_TIMED("bpfMapLookup", bpfMapLookup(ns, map, key));
  }
  Status bpfMapUpdate(const std::string& ns, const std::string& map, const std::string& key,
                      const std::string& value) override {
    PL_TIMED("bpfMapUpdate", bpfMapUpdate(ns, map, key, value));
  }
  Status bpfMapDelete(const std::string& ns, const std::string& map,
                      const std::string& key) override {
    PL_TIMED("bpfMapDelete", bpfMapDelete(ns, map, key));
  }
  Result<std::vector<std::string>> bpfListPinned() override {
    PL_TIMED("bpfListPinned", bpfListPinned());
  }
  Status bpfRemovePinned(const std::string& ns) override {
    PL_TIMED("bpfRemovePinned", bpfRemovePinned(ns));
  }
#undef PL_TIMED

 private:
  dataplane::Kernel& k_;
  std::map<std::string, Tally>& tally_;
};

// Owns the store, the tracker and the kernel objects under one prefix; removes them on exit.
class Bench {
 public:
  explicit Bench(std::string prefix) : prefix_(std::move(prefix)), naming_(prefix_) {
    kernel_ = dataplane::makeLinuxKernel();
    (void)agent::Agent::cleanupAll(*kernel_, prefix_);
    auto store = store::openSqliteStore({":memory:"});
    if (!store.ok()) die("store: " + store.status().toString());
    store_ = std::move(store).value();
  }
  ~Bench() { cleanup(); }

  double cleanup() {
    agent_.reset();
    if (!kernel_) return 0;
    const auto t0 = Clock::now();
    Status s = agent::Agent::cleanupAll(*kernel_, prefix_);
    if (!s.ok()) std::fprintf(stderr, "agent_bench: cleanup: %s\n", s.toString().c_str());
    return msSince(t0);
  }

  [[noreturn]] static void die(const std::string& what) {
    std::fprintf(stderr, "agent_bench: %s\n", what.c_str());
    std::exit(1);
  }

  void put(const std::vector<model::SourceDocument>& docs) {
    Status s = store_->write([&](store::Transaction& tx) -> Status {
      for (const auto& doc : docs) {
        auto r = tx.put(doc.id, doc.type, doc.body);
        if (!r.ok()) return r.status();
      }
      return Status::Ok();
    });
    if (!s.ok()) die("store write: " + s.toString());
  }

  // A fresh Agent (as after a restart) whose kernel calls are tallied in `tally_`.
  agent::Agent& newAgent() {
    agent_.reset();
    agent::AgentOptions o;
    o.namePrefix = prefix_;
    o.incremental = incremental_;
    o.realiserName = "bench";
    o.retryInterval = std::chrono::milliseconds(200);
    agent_ = std::make_unique<agent::Agent>(*store_, tracker_,
                                            std::make_unique<TimedKernel>(*kernel_, tally_), o);
    return *agent_;
  }

  // One synchronous pass; prints failures (there should be none).
  agent::PassResult pass() {
    auto r = agent_->runOnce();
    if (!r.ok()) die("agent pass: " + r.status().toString());
    for (const auto& [key, status] : r->failures) {
      std::fprintf(stderr, "agent_bench: failure %s: %s\n", key.c_str(), status.toString().c_str());
    }
    return std::move(r).value();
  }

  std::string tallyText(double totalMs) const {
    std::vector<std::pair<double, std::string>> rows;
    for (const auto& [kind, t] : tally_) {
      char line[160];
      std::snprintf(line, sizeof line, "%s %dx %.1fms", kind.c_str(), t.calls, t.ms);
      rows.emplace_back(t.ms, line);
    }
    std::sort(rows.rbegin(), rows.rend());
    std::string out;
    double kernelMs = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      kernelMs += rows[i].first;
      if (i < 5) out += (out.empty() ? "" : ", ") + rows[i].second;
    }
    char head[120];
    std::snprintf(head, sizeof head, "kernel calls %.1fms, rest (snapshot, compile, diff) %.1fms; ",
                  kernelMs, totalMs - kernelMs);
    return head + out;
  }

  std::string prefix_;
  model::HostNaming naming_;
  std::unique_ptr<dataplane::Kernel> kernel_;
  std::unique_ptr<store::Store> store_;
  control::ProvisioningTracker tracker_;
  std::map<std::string, TimedKernel::Tally> tally_;
  std::unique_ptr<agent::Agent> agent_;
  bool incremental_ = true;
};

int runConverge(const std::string& prefix, int n) {
  Bench b(prefix);
  std::vector<model::SourceDocument> docs;
  for (int i = 0; i < n; ++i) {
    const std::string vnet = vnetId("rg", "vnet" + std::to_string(i));
    docs.push_back(vnetDocument(vnet, {"10.0.0.0/16"}));
    docs.push_back(subnetDocument(subnetId(vnet, "default"), "10.0.1.0/24"));
  }
  b.put(docs);
  b.newAgent();
  auto t0 = Clock::now();
  auto first = b.pass();
  const double fromEmpty = msSince(t0);
  const std::string firstTally = b.tallyText(fromEmpty);
  auto names = b.kernel_->listNamespaces();
  int owned = 0;
  if (names.ok()) {
    for (const auto& ns : *names) owned += b.naming_.ownsNamespace(ns) ? 1 : 0;
  }
  b.tally_.clear();
  b.newAgent();  // restart: a new agent, the kernel as the old one left it
  t0 = Clock::now();
  auto second = b.pass();
  const double restart = msSince(t0);
  const std::string secondTally = b.tallyText(restart);
  const double cleanupMs = b.cleanup();
  std::printf("converge %d VNets from empty: %.0f ms (%d kernel changes, %zu failures, %d namespaces)\n",
              n, fromEmpty, first.apply.changes, first.failures.size(), owned);
  std::printf("  %s\n", firstTally.c_str());
  std::printf("converge %d VNets after restart: %.0f ms (%d kernel changes)\n", n, restart,
              second.apply.changes);
  std::printf("  %s\n", secondTally.c_str());
  std::printf("cleanup %d VNets: %.0f ms\n", n, cleanupMs);
  return first.failures.empty() && second.apply.changes == 0 ? 0 : 1;
}

const std::string kConsumer = vnetId("rgc", "consumer");
const std::string kConsumerSubnet = subnetId(kConsumer, "default");
const std::string kProvider = vnetId("rgp", "provider");
const std::string kProviderSubnet = subnetId(kProvider, "backends");
const std::string kLb = resourceId("rgp", "Microsoft.Network/loadBalancers", "lb");
const std::string kPool = kLb + "/backendAddressPools/pool";
const std::string kPls = resourceId("rgp", "Microsoft.Network/privateLinkServices", "pls");

// Consumer 10.0.0.0/16 (subnet 10.0.0.0/17: client NIC 10.0.1.4, endpoints), provider
// 10.0.0.0/16 (subnet 10.0.1.0/24: backend 10.0.1.4 in the pool, LB frontend 10.0.1.10 TCP 5201,
// NAT IP 10.0.1.20).
std::vector<model::SourceDocument> baseTopology(bool ppv2) {
  std::vector<model::SourceDocument> d;
  d.push_back(vnetDocument(kConsumer, {"10.0.0.0/16"}));
  d.push_back(subnetDocument(kConsumerSubnet, "10.0.0.0/17"));
  d.push_back(nicDocument(nicId("rgc", "client"), kConsumerSubnet, "10.0.1.4"));
  d.push_back(vnetDocument(kProvider, {"10.0.0.0/16"}));
  d.push_back(subnetDocument(kProviderSubnet, "10.0.1.0/24"));
  d.push_back(nicInPoolDocument(nicId("rgp", "backend"), kProviderSubnet, "10.0.1.4", kPool));
  d.push_back(lbDocument(kLb, kProviderSubnet, "10.0.1.10",
                         {{"bench", "Tcp", 5201, 5201, false},
                          {"ppv2", "Tcp", 5202, 5202, false},
                          {"iperf", "Tcp", 5299, 5299, false}}));
  auto pls = plsDocument(kPls, kLb + "/frontendIPConfigurations/fe", kProviderSubnet, {"10.0.1.20"});
  if (ppv2) pls.body["properties"]["enableProxyProtocol"] = true;
  d.push_back(pls);
  return d;
}

std::vector<model::SourceDocument> endpoint(int i, uint32_t link, const std::string& address) {
  auto e = endpointDocuments(resourceId("rgc", "Microsoft.Network/privateEndpoints",
                                        "pe" + std::to_string(i)),
                             kConsumerSubnet, address, kPls, link, "Approved");
  return {e.endpoint, e.nic, e.record};
}

// Endpoint i's address: 10.0.16.0 + i (inside the consumer subnet 10.0.0.0/17).
std::string endpointAddress(int i) {
  const uint32_t a = (10u << 24) | (16u << 8);
  const uint32_t v = a + static_cast<uint32_t>(i);
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." +
         std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255);
}

int runEndpoints(const std::string& prefix, const std::vector<int>& counts, bool incremental) {
  int rc = 0;
  for (int n : counts) {
    Bench b(prefix);
    b.incremental_ = incremental;
    auto docs = baseTopology(false);
    for (int i = 0; i < n; ++i) {
      auto e = endpoint(i, static_cast<uint32_t>(1000 + i), endpointAddress(i));
      docs.insert(docs.end(), e.begin(), e.end());
    }
    b.put(docs);
    b.newAgent();
    auto t0 = Clock::now();
    auto first = b.pass();
    const double build = msSince(t0);
    if (!first.failures.empty()) rc = 1;
    std::printf("endpoints: %d existing converged in %.0f ms (%d kernel changes)\n", n, build,
                first.apply.changes);
    std::printf("  phases (%s):", first.incremental ? "incremental" : "full");
    for (const auto& [name, ms] : first.phaseMs) std::printf(" %s %.1fms", name.c_str(), ms);
    std::printf("\n");
    // Add the (n+1)-th endpoint: median of 5 adds (each a new endpoint) and 5 deletes.
    std::vector<double> adds, passes, deletes;
    std::string addTally, passKinds, passTimes;
    for (int k = 0; k < 5; ++k) {
      const int i = n + k;
      b.tally_.clear();
      t0 = Clock::now();
      b.put(endpoint(i, static_cast<uint32_t>(1000 + i), endpointAddress(i)));
      const auto tPass = Clock::now();
      auto r = b.pass();
      passes.push_back(msSince(tPass));
      adds.push_back(msSince(t0));
      passKinds += r.incremental ? 'i' : 'F';
      char each[16];
      std::snprintf(each, sizeof each, " %.0f", passes.back());
      passTimes += each;
      if (k == 0) {
        addTally = b.tallyText(passes.back());
        addTally += std::string("\n  phases (") + (r.incremental ? "incremental" : "full") + "):";
        for (const auto& [name, ms] : r.phaseMs) {
          char part[80];
          std::snprintf(part, sizeof part, " %s %.1fms", name.c_str(), ms);
          addTally += part;
        }
      }
      if (!r.failures.empty()) rc = 1;
    }
    // One nft element add + delete alone, in the consumer VNet's table, which now holds n + 5
    // endpoints: the raw netlink batch the agent's step sends (Kernel::nftUpdateElements), and
    // for comparison the same change through libnftables (nftApply, which dumps the table into
    // its cache first).
    const std::string ns = b.naming_.vnetNamespace(model::normaliseKey(kConsumer));
    const dataplane::NftElementChange add{true, "pe_blocked", "10.0.120.1", ""};
    const dataplane::NftElementChange del{false, "pe_blocked", "10.0.120.1", ""};
    std::vector<double> nftAdds, nftLibAdds;
    for (int k = 0; k < 5; ++k) {
      t0 = Clock::now();
      Status s = b.kernel_->nftUpdateElements(ns, "inet", "plvnet", {add});
      nftAdds.push_back(msSince(t0));
      if (!s.ok()) {
        std::fprintf(stderr, "agent_bench: raw nft add element: %s\n", s.toString().c_str());
        rc = 1;
      }
      (void)b.kernel_->nftUpdateElements(ns, "inet", "plvnet", {del});
      t0 = Clock::now();
      s = b.kernel_->nftApply(ns, "add element inet plvnet pe_blocked { 10.0.120.1 }\n");
      nftLibAdds.push_back(msSince(t0));
      if (!s.ok()) {
        std::fprintf(stderr, "agent_bench: nft add element: %s\n", s.toString().c_str());
        rc = 1;
      }
      (void)b.kernel_->nftApply(ns, "delete element inet plvnet pe_blocked { 10.0.120.1 }\n");
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("endpoints: add one to %d: %.1f ms median (agent pass %.1f ms; nft element add "
                "alone %.3f ms raw batch, %.2f ms through libnftables)\n",
                n, median(adds), median(passes), median(nftAdds), median(nftLibAdds));
    std::printf("  first add pass: %s\n", addTally.c_str());
    std::printf("  the 5 passes (i incremental, F full): %s, ms:%s\n", passKinds.c_str(),
                passTimes.c_str());
    std::printf("RESULT endpoints=%d add_ms=%.2f pass_ms=%.2f nft_ms=%.3f nftlib_ms=%.3f\n", n,
                median(adds), median(passes), median(nftAdds), median(nftLibAdds));
    b.cleanup();
  }
  return rc;
}

int runTopology(const std::string& prefix, bool ppv2) {
  Bench b(prefix);
  auto docs = baseTopology(ppv2);
  auto e = endpoint(0, 7, "10.0.1.9");
  docs.insert(docs.end(), e.begin(), e.end());
  b.put(docs);
  b.newAgent().start();
  if (!b.tracker_.waitApplied(b.store_->revision(), std::chrono::seconds(60))) {
    Bench::die("topology did not converge within 60 s");
  }
  for (const auto& key : {kConsumer, kProvider, kLb, kPls}) {
    if (auto f = b.tracker_.failureOf(model::normaliseKey(key), 0)) {
      Bench::die(key + ": " + f->toString());
    }
  }
  std::printf("client_ns=%s\n", b.naming_.nicNamespace(model::normaliseKey(nicId("rgc", "client"))).c_str());
  std::printf("backend_ns=%s\n", b.naming_.nicNamespace(model::normaliseKey(nicId("rgp", "backend"))).c_str());
  std::printf("consumer_ns=%s\n", b.naming_.vnetNamespace(model::normaliseKey(kConsumer)).c_str());
  std::printf("provider_ns=%s\n", b.naming_.vnetNamespace(model::normaliseKey(kProvider)).c_str());
  std::printf("backbone_ns=%s\n", b.naming_.backboneNamespace().c_str());
  auto tpe = model::endpointTransitAddress(IpPrefix::parse("100.64.0.0/10").value(), 7);
  std::printf("endpoint_transit=%s\n", tpe ? tpe->toString().c_str() : "");
  std::printf("endpoint=10.0.1.9\nbackend=10.0.1.4\nready\n");
  std::fflush(stdout);
  // SIGUSR1: stop the agent thread (the kernel keeps what it holds), so that diagnostic changes
  // the benchmark makes to the topology are not converged back; prints "frozen".
  bool frozen = false;
  while (!gStop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (gFreeze && !frozen) {
      b.agent_->stop();
      frozen = true;
      std::printf("frozen\n");
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace privlink::bench

int main(int argc, char** argv) {
  using namespace privlink::bench;
  ::signal(SIGINT, onSignal);
  ::signal(SIGTERM, onSignal);
  ::signal(SIGUSR1, onFreeze);
  spdlog::set_level(spdlog::level::warn);  // the agent's per-pass info lines would interleave
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (::geteuid() != 0) {
    std::fprintf(stderr, "agent_bench: needs root\n");
    return 1;
  }
  if (a.size() == 3 && a[0] == "converge") return runConverge(a[1], std::stoi(a[2]));
  if (a.size() >= 3 && (a[0] == "endpoints" || a[0] == "endpoints-full")) {
    std::vector<int> counts;
    for (size_t i = 2; i < a.size(); ++i) counts.push_back(std::stoi(a[i]));
    return runEndpoints(a[1], counts, a[0] == "endpoints");
  }
  if ((a.size() == 2 || a.size() == 3) && a[0] == "topology") {
    return runTopology(a[1], a.size() == 3 && a[2] == "ppv2");
  }
  std::fprintf(stderr,
               "usage: agent_bench converge PREFIX N\n"
               "       agent_bench endpoints|endpoints-full PREFIX N...\n"
               "       agent_bench topology PREFIX [ppv2]\n");
  return 2;
}
