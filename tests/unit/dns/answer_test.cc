// The resolver's answer logic on hand-built views: every record type, NXDOMAIN vs NODATA, CNAME
// chains across zones, PaaS public names in linked and unlinked VNets, per-VNet endpoint
// attribution, truncation, forwarding decisions and malformed packets.
#include "dns/answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dns_test_util.h"
#include "model/network.h"

namespace privlink::dns {
namespace {

using namespace privlink::dns::testing;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

model::DnsRecordSet set(std::string type, std::string name, std::string zone, uint32_t ttl = 3600) {
  model::DnsRecordSet s;
  s.type = std::move(type);
  s.name = name;
  s.fqdn = (name == "@" ? zone : name + "." + zone) + ".";
  s.ttl = ttl;
  return s;
}

model::DnsZone zoneWithSoa(const std::string& name) {
  model::DnsZone z;
  z.name = name;
  z.key = "/zones/" + name;
  model::DnsRecordSet soa = set("SOA", "@", name);
  soa.soa = model::SoaRecord{};
  soa.soa->host = "azureprivatedns.net";
  soa.soa->email = "azureprivatedns-host.microsoft.com";
  soa.soa->minimumTtl = 10;
  z.recordSets.push_back(soa);
  return z;
}

model::PublicName publicName(const std::string& name, const char* address) {
  model::PublicName pn;
  pn.fqdn = name + ".database.windows.net.";
  pn.cname = name + ".privatelink.database.windows.net.";
  pn.publicAddress = ip(address);
  return pn;
}

// The view of a VNet linked to contoso.internal, privatelink.database.windows.net and a reverse
// zone; db1 has a private endpoint, db2 does not.
model::DnsView linkedView() {
  model::DnsView v;
  v.vnetKey = "/vnets/linked";
  model::DnsZone c = zoneWithSoa("contoso.internal");
  auto www = set("A", "www", "contoso.internal", 60);
  www.addresses = {ip("10.0.0.4")};
  c.recordSets.push_back(www);
  auto www6 = set("AAAA", "www", "contoso.internal");
  www6.addresses = {ip("fd00::4")};
  c.recordSets.push_back(www6);
  auto alias = set("CNAME", "alias", "contoso.internal");
  alias.cname = "www.contoso.internal";
  c.recordSets.push_back(alias);
  auto cross = set("CNAME", "sql", "contoso.internal");
  cross.cname = "db1.privatelink.database.windows.net";
  c.recordSets.push_back(cross);
  auto away = set("CNAME", "away", "contoso.internal");
  away.cname = "example.org";
  c.recordSets.push_back(away);
  auto loop1 = set("CNAME", "loop1", "contoso.internal");
  loop1.cname = "loop2.contoso.internal";
  c.recordSets.push_back(loop1);
  auto loop2 = set("CNAME", "loop2", "contoso.internal");
  loop2.cname = "loop1.contoso.internal";
  c.recordSets.push_back(loop2);
  auto mx = set("MX", "@", "contoso.internal");
  mx.mx = {{10, "mail.contoso.internal"}};
  c.recordSets.push_back(mx);
  auto txt = set("TXT", "@", "contoso.internal");
  txt.txt = {{"v=spf1 -all"}, {"a", "b"}};
  c.recordSets.push_back(txt);
  auto srv = set("SRV", "_sip._tcp", "contoso.internal");
  srv.srv = {{10, 60, 5060, "sip.contoso.internal"}};
  c.recordSets.push_back(srv);
  auto deep = set("A", "host.sub", "contoso.internal");
  deep.addresses = {ip("10.0.0.9")};
  c.recordSets.push_back(deep);
  auto big = set("TXT", "big", "contoso.internal");
  for (int i = 0; i < 40; ++i) big.txt.push_back({std::string(60, static_cast<char>('a' + i % 26))});
  c.recordSets.push_back(big);
  v.zones.push_back(c);

  model::DnsZone pl = zoneWithSoa("privatelink.database.windows.net");
  auto db1 = set("A", "db1", "privatelink.database.windows.net", 10);
  db1.addresses = {ip("10.1.0.5")};
  pl.recordSets.push_back(db1);
  v.zones.push_back(pl);

  model::DnsZone rev = zoneWithSoa("0.10.in-addr.arpa");
  auto ptr = set("PTR", "4.0", "0.10.in-addr.arpa");
  ptr.ptr = {"www.contoso.internal"};
  rev.recordSets.push_back(ptr);
  v.zones.push_back(rev);

  v.publicNames = {publicName("db1", "203.0.113.5"), publicName("db2", "203.0.113.6")};
  return v;
}

model::DnsView unlinkedView() {
  model::DnsView v;
  v.vnetKey = "/vnets/unlinked";
  v.publicNames = {publicName("db1", "203.0.113.5"), publicName("db2", "203.0.113.6")};
  return v;
}

class AnswerTest : public ::testing::Test {
 protected:
  VnetDns linked_{linkedView()};
  VnetDns unlinked_{unlinkedView()};

  Pkt ask(const VnetDns& dns, const std::string& name, ldns_rr_type type, QueryOptions o = {},
          Transport t = Transport::kUdp) {
    Outcome out = answerQuery(dns, makeQuery(name, type, o), t);
    EXPECT_EQ(out.action, Outcome::Action::kReply) << name;
    if (out.action != Outcome::Action::kReply) return nullptr;
    last_size_ = out.reply.size();
    Pkt p = parseReply(out.reply);
    EXPECT_TRUE(p) << "reply does not parse";
    return p;
  }
  std::vector<std::string> answers(const Pkt& p) { return section(p.get(), LDNS_SECTION_ANSWER); }
  std::vector<std::string> authority(const Pkt& p) {
    return section(p.get(), LDNS_SECTION_AUTHORITY);
  }
  size_t last_size_ = 0;
};

TEST_F(AnswerTest, ARecordIsAuthoritativeAndEchoesIdAndQuestion) {
  Pkt p = ask(linked_, "www.contoso.internal.", LDNS_RR_TYPE_A, {.id = 0xbeef});
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 0xbeef);
  EXPECT_TRUE(ldns_pkt_qr(p.get()));
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_TRUE(ldns_pkt_rd(p.get()));
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_qdcount(p.get()), 1);
  EXPECT_THAT(answers(p), ElementsAre("www.contoso.internal. 60 IN A 10.0.0.4"));
}

TEST_F(AnswerTest, Aaaa) {
  Pkt p = ask(linked_, "www.contoso.internal.", LDNS_RR_TYPE_AAAA);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("www.contoso.internal. 3600 IN AAAA fd00::4"));
}

TEST_F(AnswerTest, NamesAreCaseInsensitive) {
  Pkt p = ask(linked_, "WwW.CONTOSO.Internal.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  // The owner is compressed to the question, so it reads with the asker's casing.
  EXPECT_THAT(answers(p), ElementsAre("WwW.CONTOSO.Internal. 60 IN A 10.0.0.4"));
}

TEST_F(AnswerTest, CnameIsFollowedWithinTheZone) {
  Pkt p = ask(linked_, "alias.contoso.internal.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("alias.contoso.internal. 3600 IN CNAME www.contoso.internal.",
                                      "www.contoso.internal. 60 IN A 10.0.0.4"));
}

TEST_F(AnswerTest, CnameQueryReturnsOnlyTheCname) {
  Pkt p = ask(linked_, "alias.contoso.internal.", LDNS_RR_TYPE_CNAME);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p),
              ElementsAre("alias.contoso.internal. 3600 IN CNAME www.contoso.internal."));
}

TEST_F(AnswerTest, CnameIsFollowedAcrossZones) {
  Pkt p = ask(linked_, "sql.contoso.internal.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("sql.contoso.internal. 3600 IN CNAME "
                                      "db1.privatelink.database.windows.net.",
                                      "db1.privatelink.database.windows.net. 10 IN A 10.1.0.5"));
}

TEST_F(AnswerTest, CnameLoopStopsAtTheDepthBound) {
  Pkt p = ask(linked_, "loop1.contoso.internal.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_EQ(answers(p).size(), static_cast<size_t>(kMaxCnameDepth + 1));
}

TEST_F(AnswerTest, Mx) {
  Pkt p = ask(linked_, "contoso.internal.", LDNS_RR_TYPE_MX);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("contoso.internal. 3600 IN MX 10 mail.contoso.internal."));
}

TEST_F(AnswerTest, Txt) {
  Pkt p = ask(linked_, "contoso.internal.", LDNS_RR_TYPE_TXT);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("contoso.internal. 3600 IN TXT \"v=spf1 -all\"",
                                      "contoso.internal. 3600 IN TXT \"a\" \"b\""));
}

TEST_F(AnswerTest, Srv) {
  Pkt p = ask(linked_, "_sip._tcp.contoso.internal.", LDNS_RR_TYPE_SRV);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p),
              ElementsAre("_sip._tcp.contoso.internal. 3600 IN SRV 10 60 5060 sip.contoso.internal."));
}

TEST_F(AnswerTest, Ptr) {
  Pkt p = ask(linked_, "4.0.0.10.in-addr.arpa.", LDNS_RR_TYPE_PTR);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("4.0.0.10.in-addr.arpa. 3600 IN PTR www.contoso.internal."));
}

TEST_F(AnswerTest, Soa) {
  Pkt p = ask(linked_, "contoso.internal.", LDNS_RR_TYPE_SOA);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("contoso.internal. 3600 IN SOA azureprivatedns.net. "
                                      "azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"));
}

TEST_F(AnswerTest, NxdomainCarriesTheZoneSoa) {
  Pkt p = ask(linked_, "nothing.contoso.internal.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_THAT(answers(p), IsEmpty());
  ASSERT_EQ(authority(p).size(), 1u);
  // ttl = min(SOA ttl 3600, minimum 10).
  EXPECT_EQ(authority(p)[0].rfind("contoso.internal. 10 IN SOA azureprivatedns.net.", 0), 0u)
      << authority(p)[0];
}

TEST_F(AnswerTest, NodataIsNoerrorWithTheSoa) {
  Pkt p = ask(linked_, "www.contoso.internal.", LDNS_RR_TYPE_MX);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_THAT(answers(p), IsEmpty());
  ASSERT_EQ(authority(p).size(), 1u);
  EXPECT_NE(authority(p)[0].find(" IN SOA "), std::string::npos);
}

TEST_F(AnswerTest, EmptyNonTerminalIsNodataNotNxdomain) {
  Pkt p = ask(linked_, "sub.contoso.internal.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_THAT(answers(p), IsEmpty());
  EXPECT_EQ(authority(p).size(), 1u);
}

TEST_F(AnswerTest, PaasPublicNameInALinkedVnetAnswersThePrivateAddress) {
  Pkt p = ask(linked_, "db1.database.windows.net.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("db1.database.windows.net. 300 IN CNAME "
                                      "db1.privatelink.database.windows.net.",
                                      "db1.privatelink.database.windows.net. 10 IN A 10.1.0.5"));
}

TEST_F(AnswerTest, PaasPublicNameInAnUnlinkedVnetAnswersThePublicAddress) {
  Pkt p = ask(unlinked_, "DB1.database.windows.net.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_THAT(answers(p), ElementsAre("DB1.database.windows.net. 300 IN CNAME "
                                      "db1.privatelink.database.windows.net.",
                                      "db1.privatelink.database.windows.net. 300 IN A 203.0.113.5"));
}

TEST_F(AnswerTest, PaasWithoutARecordInTheLinkedZoneFallsBackToThePublicAddress) {
  Pkt p = ask(linked_, "db2.database.windows.net.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), ElementsAre("db2.database.windows.net. 300 IN CNAME "
                                      "db2.privatelink.database.windows.net.",
                                      "db2.privatelink.database.windows.net. 300 IN A 203.0.113.6"));
}

TEST_F(AnswerTest, PaasAaaaIsNodata) {
  Pkt p = ask(unlinked_, "db1.database.windows.net.", LDNS_RR_TYPE_AAAA);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_THAT(answers(p), ElementsAre("db1.database.windows.net. 300 IN CNAME "
                                      "db1.privatelink.database.windows.net."));
}

TEST_F(AnswerTest, ZonesNotLinkedAreNotAnsweredButForwarded) {
  std::vector<uint8_t> q = makeQuery("www.contoso.internal.", LDNS_RR_TYPE_A);
  Outcome out = answerQuery(unlinked_, q, Transport::kUdp);
  EXPECT_EQ(out.action, Outcome::Action::kForward);
  EXPECT_EQ(out.forwardQuery, q);
  EXPECT_THAT(out.partialReply, IsEmpty());
}

TEST_F(AnswerTest, CnameLeavingTheViewForwardsTheTargetAndSplices) {
  std::vector<uint8_t> q = makeQuery("away.contoso.internal.", LDNS_RR_TYPE_A, {.id = 7});
  Outcome out = answerQuery(linked_, q, Transport::kUdp);
  ASSERT_EQ(out.action, Outcome::Action::kForward);
  Pkt fq = parseReply(out.forwardQuery);
  ASSERT_TRUE(fq);
  char* qname = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(fq.get()), 0)));
  EXPECT_STREQ(qname, "example.org.");
  free(qname);

  // The upstream answers example.org; the client gets the chain.
  ldns_pkt* up = ldns_pkt_new();
  ldns_pkt_set_id(up, 99);
  ldns_pkt_set_qr(up, true);
  ldns_rr* rr = nullptr;
  ldns_rr_new_frm_str(&rr, "example.org. 50 IN A 192.0.2.7", 0, nullptr, nullptr);
  ldns_pkt_push_rr(up, LDNS_SECTION_ANSWER, rr);
  std::vector<uint8_t> upstream = toWire(up);

  Pkt p = parseReply(spliceForwarded(q, out.partialReply, upstream, Transport::kUdp));
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 7);
  EXPECT_THAT(answers(p), ElementsAre("away.contoso.internal. 3600 IN CNAME example.org.",
                                      "example.org. 50 IN A 192.0.2.7"));
}

TEST_F(AnswerTest, RelayedUpstreamAnswerGetsTheClientId) {
  std::vector<uint8_t> q = makeQuery("example.org.", LDNS_RR_TYPE_A, {.id = 0x4242});
  std::vector<uint8_t> upstream = makeQuery("example.org.", LDNS_RR_TYPE_A, {.id = 0x1111});
  upstream[2] |= 0x80;
  std::vector<uint8_t> relayed = spliceForwarded(q, {}, upstream, Transport::kUdp);
  ASSERT_EQ(relayed.size(), upstream.size());
  EXPECT_EQ(relayed[0], 0x42);
  EXPECT_EQ(relayed[1], 0x42);
}

TEST_F(AnswerTest, ServfailWhenTheUpstreamAnswerIsGarbage) {
  std::vector<uint8_t> q = makeQuery("example.org.", LDNS_RR_TYPE_A);
  std::vector<uint8_t> garbage = {1, 2, 3};
  Pkt p = parseReply(spliceForwarded(q, {}, garbage, Transport::kUdp));
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_SERVFAIL);
  Pkt s = parseReply(servfailFor(q));
  ASSERT_TRUE(s);
  EXPECT_EQ(ldns_pkt_get_rcode(s.get()), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(ldns_pkt_id(s.get()), 0x1234);
}

TEST_F(AnswerTest, LargeUdpAnswerIsTruncatedWithTc) {
  Pkt p = ask(linked_, "big.contoso.internal.", LDNS_RR_TYPE_TXT);
  ASSERT_TRUE(p);
  EXPECT_TRUE(ldns_pkt_tc(p.get()));
  EXPECT_THAT(answers(p), IsEmpty());
  EXPECT_LE(last_size_, kClassicUdpSize);
  EXPECT_EQ(ldns_pkt_qdcount(p.get()), 1);
}

TEST_F(AnswerTest, EdnsSizeRaisesTheUdpLimit) {
  Pkt p = ask(linked_, "big.contoso.internal.", LDNS_RR_TYPE_TXT, {.ednsSize = 4096});
  ASSERT_TRUE(p);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(answers(p).size(), 40u);
  EXPECT_GT(last_size_, kClassicUdpSize);
  EXPECT_TRUE(ldns_pkt_edns(p.get()));
  EXPECT_EQ(udpLimitOf(makeQuery("x.", LDNS_RR_TYPE_A, {.ednsSize = 4096})), 4096u);
  EXPECT_EQ(udpLimitOf(makeQuery("x.", LDNS_RR_TYPE_A, {.ednsSize = 100})), kClassicUdpSize);
}

TEST_F(AnswerTest, TcpAnswersAreNotTruncated) {
  Pkt p = ask(linked_, "big.contoso.internal.", LDNS_RR_TYPE_TXT, {}, Transport::kTcp);
  ASSERT_TRUE(p);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(answers(p).size(), 40u);
}

// Two private endpoints to the same resource from two VNets write one A record set; each VNet is
// answered its own endpoint's address (model::dnsView attribution), a third linked VNet both.
TEST(AnswerAttributionTest, TwoEndpointsInTwoVnetsEachGetTheirOwnAddress) {
  const std::string rg = "/subscriptions/s1/resourcegroups/rg";
  const std::string zoneKey = rg + "/providers/microsoft.network/privatednszones/"
                                   "privatelink.database.windows.net";
  auto vnet = [&](const std::string& n) {
    return rg + "/providers/microsoft.network/virtualnetworks/" + n;
  };
  std::vector<model::SourceDocument> docs;
  docs.push_back({zoneKey, zoneKey, "microsoft.network/privatednszones", {{"properties", {}}}});
  for (const char* v : {"a", "b", "hub"}) {
    std::string link = zoneKey + "/virtualnetworklinks/" + v;
    docs.push_back({link, link, "microsoft.network/privatednszones/virtualnetworklinks",
                    {{"properties",
                      {{"virtualNetwork", {{"id", vnet(v)}}}, {"registrationEnabled", false}}}}});
  }
  std::string rec = zoneKey + "/a/db1";
  nlohmann::json body = {
      {"properties",
       {{"ttl", 10},
        {"aRecords", {{{"ipv4Address", "10.1.0.5"}}, {{"ipv4Address", "10.2.0.5"}}}},
        {"privlink",
         {{"addresses",
           {{{"ipv4Address", "10.1.0.5"}, {"virtualNetworkId", vnet("a")}},
            {{"ipv4Address", "10.2.0.5"}, {"virtualNetworkId", vnet("b")}}}}}}}}};
  docs.push_back({rec, rec, "microsoft.network/privatednszones/a", body});

  auto answerIn = [&](const std::string& v) {
    VnetDns dns(model::dnsView(docs, vnet(v)));
    Outcome out = answerQuery(dns, makeQuery("db1.privatelink.database.windows.net.",
                                             LDNS_RR_TYPE_A),
                              Transport::kUdp);
    EXPECT_EQ(out.action, Outcome::Action::kReply);
    Pkt p = parseReply(out.reply);
    return p ? section(p.get(), LDNS_SECTION_ANSWER) : std::vector<std::string>{};
  };
  EXPECT_THAT(answerIn("a"), ElementsAre("db1.privatelink.database.windows.net. 10 IN A 10.1.0.5"));
  EXPECT_THAT(answerIn("b"), ElementsAre("db1.privatelink.database.windows.net. 10 IN A 10.2.0.5"));
  EXPECT_EQ(answerIn("hub").size(), 2u);
}

// ---- Malformed packets: one test each. ----

class MalformedTest : public AnswerTest {
 protected:
  Outcome send(const std::vector<uint8_t>& packet) {
    return answerQuery(linked_, packet, Transport::kUdp);
  }
  uint8_t rcodeOf(const Outcome& out) {
    EXPECT_EQ(out.action, Outcome::Action::kReply);
    EXPECT_GE(out.reply.size(), 12u);
    return out.reply.size() >= 12 ? out.reply[3] & 0x0f : 0xff;
  }
  // A header with id 0xabcd, RD, the given counts.
  static std::vector<uint8_t> header(uint16_t qd) {
    return {0xab, 0xcd, 0x01, 0x00, 0x00, static_cast<uint8_t>(qd), 0, 0, 0, 0, 0, 0};
  }
};

TEST_F(MalformedTest, ZeroLengthIsDropped) {
  EXPECT_EQ(send({}).action, Outcome::Action::kDrop);
}

TEST_F(MalformedTest, TruncatedHeaderIsDropped) {
  EXPECT_EQ(send({0xab, 0xcd, 0x01, 0x00, 0x00}).action, Outcome::Action::kDrop);
}

TEST_F(MalformedTest, ResponsesAreNeverAnswered) {
  std::vector<uint8_t> q = makeQuery("www.contoso.internal.", LDNS_RR_TYPE_A);
  q[2] |= 0x80;
  EXPECT_EQ(send(q).action, Outcome::Action::kDrop);
}

TEST_F(MalformedTest, LabelPointerLoopIsFormerr) {
  std::vector<uint8_t> p = header(1);
  p.insert(p.end(), {0xc0, 12, 0x00, 0x01, 0x00, 0x01});  // name = pointer to itself
  Outcome out = send(p);
  EXPECT_EQ(rcodeOf(out), LDNS_RCODE_FORMERR);
  EXPECT_EQ(out.reply[0], 0xab);
  EXPECT_EQ(out.reply[1], 0xcd);
  EXPECT_TRUE(out.reply[2] & 0x80);
}

TEST_F(MalformedTest, OverlongLabelIsFormerr) {
  std::vector<uint8_t> p = header(1);
  p.push_back(64);
  p.insert(p.end(), 64, 'a');
  p.insert(p.end(), {0x00, 0x00, 0x01, 0x00, 0x01});
  EXPECT_EQ(rcodeOf(send(p)), LDNS_RCODE_FORMERR);
}

TEST_F(MalformedTest, TruncatedQuestionIsFormerr) {
  std::vector<uint8_t> p = header(1);
  p.insert(p.end(), {3, 'w', 'w'});
  EXPECT_EQ(rcodeOf(send(p)), LDNS_RCODE_FORMERR);
}

TEST_F(MalformedTest, QdcountZeroIsFormerr) {
  EXPECT_EQ(rcodeOf(send(header(0))), LDNS_RCODE_FORMERR);
}

TEST_F(MalformedTest, QdcountTwoIsFormerr) {
  std::vector<uint8_t> p = header(2);
  for (int i = 0; i < 2; ++i) p.insert(p.end(), {1, 'a', 0, 0x00, 0x01, 0x00, 0x01});
  EXPECT_EQ(rcodeOf(send(p)), LDNS_RCODE_FORMERR);
}

TEST_F(MalformedTest, UnknownClassIsRefused) {
  Outcome out = send(makeQuery("www.contoso.internal.", LDNS_RR_TYPE_A,
                               {.cls = static_cast<ldns_rr_class>(42)}));
  EXPECT_EQ(rcodeOf(out), LDNS_RCODE_REFUSED);
  Pkt p = parseReply(out.reply);
  ASSERT_TRUE(p);
  EXPECT_THAT(answers(p), IsEmpty());
}

TEST_F(MalformedTest, UnknownOpcodeIsNotimp) {
  std::vector<uint8_t> q = makeQuery("www.contoso.internal.", LDNS_RR_TYPE_A);
  q[2] = static_cast<uint8_t>((q[2] & 0x87) | (5 << 3));  // UPDATE
  EXPECT_EQ(rcodeOf(send(q)), LDNS_RCODE_NOTIMPL);
}

}  // namespace
}  // namespace privlink::dns
