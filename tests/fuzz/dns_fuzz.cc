// Fuzz target for the resolver's wire handling (src/dns/answer.h): any bytes as a query over UDP
// and TCP against a view with zones, CNAME chains and PaaS names, and as an upstream answer to
// relay or splice. Properties beyond "no crash, no hang": every reply keeps the query's id, has
// QR set, and fits the transport (UDP: the client's limit).
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "dns/answer.h"

namespace {

using namespace privlink;

model::DnsRecordSet recordSet(const char* type, const char* name, const char* fqdn) {
  model::DnsRecordSet s;
  s.type = type;
  s.name = name;
  s.fqdn = fqdn;
  s.ttl = 60;
  return s;
}

const dns::VnetDns& view() {
  static const dns::VnetDns kView = [] {
    model::DnsView v;
    model::DnsZone z;
    z.name = "privatelink.database.windows.net";
    auto soa = recordSet("SOA", "@", "privatelink.database.windows.net.");
    soa.soa = model::SoaRecord{"azureprivatedns.net", "azureprivatedns-host.microsoft.com"};
    z.recordSets.push_back(soa);
    auto a = recordSet("A", "db1", "db1.privatelink.database.windows.net.");
    a.addresses = {*IpAddress::parse("10.1.0.5"), *IpAddress::parse("10.1.0.6")};
    z.recordSets.push_back(a);
    auto c = recordSet("CNAME", "loop", "loop.privatelink.database.windows.net.");
    c.cname = "loop.privatelink.database.windows.net";
    z.recordSets.push_back(c);
    auto t = recordSet("TXT", "big", "big.privatelink.database.windows.net.");
    for (int i = 0; i < 30; ++i) t.txt.push_back({std::string(100, 'x')});
    z.recordSets.push_back(t);
    auto away = recordSet("CNAME", "away", "away.privatelink.database.windows.net.");
    away.cname = "example.org";
    z.recordSets.push_back(away);
    v.zones.push_back(z);
    model::PublicName pn;
    pn.fqdn = "db2.database.windows.net.";
    pn.cname = "db2.privatelink.database.windows.net.";
    pn.publicAddress = *IpAddress::parse("203.0.113.5");
    v.publicNames.push_back(pn);
    return dns::VnetDns(std::move(v));
  }();
  return kView;
}

void checkReply(std::span<const uint8_t> query, const std::vector<uint8_t>& reply, size_t limit) {
  if (reply.empty()) return;
  if (reply.size() < 12 || reply.size() > limit) std::abort();
  if (reply[0] != query[0] || reply[1] != query[1] || !(reply[2] & 0x80)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  size_t udpLimit = dns::udpLimitOf(input);
  if (udpLimit < dns::kClassicUdpSize || udpLimit > 65535) std::abort();
  for (dns::Transport t : {dns::Transport::kUdp, dns::Transport::kTcp}) {
    dns::Outcome out = dns::answerQuery(view(), input, t);
    size_t limit = t == dns::Transport::kUdp ? udpLimit : 65535;
    if (out.action == dns::Outcome::Action::kReply) {
      if (out.reply.empty()) std::abort();
      checkReply(input, out.reply, limit);
    } else if (out.action == dns::Outcome::Action::kForward) {
      if (out.forwardQuery.size() < 12) std::abort();
      // The input doubles as the upstream's answer.
      checkReply(input, dns::spliceForwarded(input, out.partialReply, input, t), limit);
    }
  }
  if (size >= 12) {
    std::vector<uint8_t> fail = dns::servfailFor(input);
    checkReply(input, fail, 65535);
  }
  return 0;
}
