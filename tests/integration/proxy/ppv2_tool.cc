// ppv2_tool: runs privlink's SpliceProxy for bench/ppv2_bench.sh (not a test by itself); the
// upstream server and the load client of that benchmark are bench/dp_tool.
//   ppv2_tool proxy NS PE_IP UPSTREAM_IP LINKID [PIPE_BYTES]   run SpliceProxy in NS (TPROXY
//                                                              listener); prints its port
// env PPV2_MODE=splice|copy|hybrid, PPV2_THREADS=<event loops, default one per CPU>,
// PPV2_DIRECT=PROVIDER_NS,NAT_IP,BACKEND_IP:PORT (the upstream connection opened in PROVIDER_NS
// from NAT_IP to that backend for every port, EndpointTarget::direct; default: to UPSTREAM_IP).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "proxy/splice_proxy.h"

using namespace privlink;

namespace {

std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }

int die(const std::string& what) {
  std::fprintf(stderr, "ppv2_tool: %s\n", what.c_str());
  return 1;
}

int runProxy(const std::string& ns, const char* pe, const char* upstream, uint32_t linkId,
             int pipeCapacity) {
  proxy::SpliceProxyOptions options;
  if (const char* mode = std::getenv("PPV2_MODE")) {  // splice, copy, hybrid
    if (std::string(mode) == "copy") options.mode = proxy::ProxyCopyMode::kCopy;
    if (std::string(mode) == "splice") options.mode = proxy::ProxyCopyMode::kSplice;
    if (std::string(mode) == "hybrid") options.mode = proxy::ProxyCopyMode::kHybrid;
  }
  if (pipeCapacity > 0) options.pipeCapacity = pipeCapacity;
  if (const char* threads = std::getenv("PPV2_THREADS")) options.threads = std::atoi(threads);
  proxy::SpliceProxy p(options);
  auto port = p.addListener(ns, 0);
  if (!port.ok()) return die(port.status().toString());
  proxy::EndpointTarget target{*IpAddress::parse(upstream), linkId, std::nullopt};
  if (const char* direct = std::getenv("PPV2_DIRECT")) {
    const std::string d(direct);
    const auto c1 = d.find(','), c2 = d.find(',', c1 + 1), colon = d.rfind(':');
    if (c1 == std::string::npos || c2 == std::string::npos || colon < c2) {
      return die("PPV2_DIRECT=PROVIDER_NS,NAT_IP,BACKEND_IP:PORT");
    }
    auto nat = IpAddress::parse(d.substr(c1 + 1, c2 - c1 - 1));
    auto backend = IpAddress::parse(d.substr(c2 + 1, colon - c2 - 1));
    if (!nat || !backend) return die("PPV2_DIRECT: bad address");
    proxy::DirectUpstream up{d.substr(0, c1), *nat, {}};
    const auto port = static_cast<uint16_t>(std::stoi(d.substr(colon + 1)));
    for (uint32_t dport = 1; dport <= 65535; ++dport) {
      up.buckets[static_cast<uint16_t>(dport)] = {proxy::UpstreamBackend{*backend, port}};
    }
    target.direct = std::move(up);
  }
  p.setEndpoints(ns, {{*IpAddress::parse(pe), target}});
  if (!p.start().ok()) return die("start failed");
  std::fprintf(stderr, "ppv2_tool: %d event loop(s)\n", p.loopCount());
  std::printf("%u\n", *port);
  std::fflush(stdout);
  while (!gStop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  p.stop();
  auto c = p.counters();
  std::fprintf(stderr, "proxy: accepted %lu closed %lu resets %lu direct %lu\n",
               (unsigned long)c.connectionsAccepted, (unsigned long)c.connectionsClosed,
               (unsigned long)c.resets, (unsigned long)c.directUpstreams);
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
  std::fprintf(stderr, "usage: ppv2_tool proxy NS PE_IP UPSTREAM_IP LINKID [PIPE_BYTES]\n");
  return 2;
}
