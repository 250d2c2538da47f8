#include "dns/answer.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>

namespace privlink::dns {
namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
struct RrFree {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
using RrPtr = std::unique_ptr<ldns_rr, RrFree>;

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxTcpMessage = 65535;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string absolute(std::string_view name) {
  std::string out = lower(name);
  if (out.empty() || out.back() != '.') out.push_back('.');
  return out;
}

// The parent of "a.b.c." is "b.c."; of "c." is "."; of "." is "".
std::string_view parentOf(std::string_view name) {
  if (name == ".") return {};
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot + 1 >= name.size()) return ".";
  return name.substr(dot + 1);
}

std::optional<ldns_rr_type> typeOf(std::string_view type) {
  static const std::pair<std::string_view, ldns_rr_type> kTypes[] = {
      {"A", LDNS_RR_TYPE_A},     {"AAAA", LDNS_RR_TYPE_AAAA}, {"CNAME", LDNS_RR_TYPE_CNAME},
      {"MX", LDNS_RR_TYPE_MX},   {"PTR", LDNS_RR_TYPE_PTR},   {"SOA", LDNS_RR_TYPE_SOA},
      {"SRV", LDNS_RR_TYPE_SRV}, {"TXT", LDNS_RR_TYPE_TXT},
  };
  for (const auto& [name, t] : kTypes) {
    if (name == type) return t;
  }
  return std::nullopt;
}

// A name rdf from text; nullptr if the text is not a valid name.
ldns_rdf* nameRdf(std::string_view name) {
  std::string text(name);
  return ldns_dname_new_frm_str(text.c_str());
}

// An rr of `type` owned by `owner`, or nullptr when the owner is not a valid name.
ldns_rr* newRr(std::string_view owner, ldns_rr_type type, uint32_t ttl) {
  ldns_rdf* ownerRdf = nameRdf(owner);
  if (!ownerRdf) return nullptr;
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ownerRdf);
  ldns_rr_set_type(rr, type);
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr, ttl);
  return rr;
}

bool pushName(ldns_rr* rr, std::string_view name) {
  ldns_rdf* rdf = nameRdf(absolute(name));
  if (!rdf) return false;
  ldns_rr_push_rdf(rr, rdf);
  return true;
}

void pushInt16(ldns_rr* rr, uint32_t value) {
  ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, static_cast<uint16_t>(value)));
}
void pushInt32(ldns_rr* rr, uint64_t value) {
  ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, static_cast<uint32_t>(value)));
}

ldns_rr* addressRr(std::string_view owner, const IpAddress& address, uint32_t ttl) {
  ldns_rr* rr = newRr(owner, address.isV4() ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA, ttl);
  if (!rr) return nullptr;
  if (address.isV4()) {
    const auto& b = address.bytes();
    ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, b.data() + 12));
  } else {
    ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, address.bytes().data()));
  }
  return rr;
}

// An rr whose rdata is `fields` (16-bit each) then the name `target` (CNAME, PTR, MX, SRV);
// nullptr when the owner or the target is not a valid name.
ldns_rr* targetRr(std::string_view owner, ldns_rr_type type, uint32_t ttl,
                  std::initializer_list<uint32_t> fields, std::string_view target) {
  ldns_rr* rr = newRr(owner, type, ttl);
  if (!rr) return nullptr;
  for (uint32_t field : fields) pushInt16(rr, field);
  if (!pushName(rr, target)) {
    ldns_rr_free(rr);
    return nullptr;
  }
  return rr;
}

ldns_rr* cnameRr(std::string_view owner, std::string_view target, uint32_t ttl) {
  return targetRr(owner, LDNS_RR_TYPE_CNAME, ttl, {}, target);
}

ldns_rr* soaRr(std::string_view owner, const model::SoaRecord& soa, uint32_t ttl) {
  ldns_rr* rr = newRr(owner, LDNS_RR_TYPE_SOA, ttl);
  if (!rr) return nullptr;
  if (!pushName(rr, soa.host) || !pushName(rr, soa.email)) {
    ldns_rr_free(rr);
    return nullptr;
  }
  pushInt32(rr, soa.serialNumber);
  pushInt32(rr, soa.refreshTime);
  pushInt32(rr, soa.retryTime);
  pushInt32(rr, soa.expireTime);
  pushInt32(rr, soa.minimumTtl);
  return rr;
}

// TXT character-strings: each value split into chunks of at most 255 bytes.
void pushTxt(ldns_rr* rr, const std::vector<std::string>& values) {
  auto pushOne = [&](std::string_view chunk) {
    std::vector<uint8_t> data(chunk.size() + 1);
    data[0] = static_cast<uint8_t>(chunk.size());
    std::memcpy(data.data() + 1, chunk.data(), chunk.size());
    ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, data.size(), data.data()));
  };
  if (values.empty()) pushOne("");
  for (const std::string& value : values) {
    if (value.empty()) pushOne("");
    for (size_t at = 0; at < value.size(); at += 255) {
      pushOne(std::string_view(value).substr(at, 255));
    }
  }
}

// The rrs of one record set (nothing for an invalid name; the view validated them).
void appendRecordSet(const model::DnsRecordSet& set, std::vector<RrPtr>& out) {
  const std::string& owner = set.fqdn;
  auto keep = [&](ldns_rr* rr) {
    if (rr) out.emplace_back(rr);
  };
  if (set.type == "A" || set.type == "AAAA") {
    for (const IpAddress& a : set.addresses) {
      if (a.isV4() == (set.type == "A")) keep(addressRr(owner, a, set.ttl));
    }
  } else if (set.type == "CNAME") {
    if (!set.cname.empty()) keep(cnameRr(owner, set.cname, set.ttl));
  } else if (set.type == "MX") {
    for (const model::MxRecord& mx : set.mx) {
      keep(targetRr(owner, LDNS_RR_TYPE_MX, set.ttl, {mx.preference}, mx.exchange));
    }
  } else if (set.type == "PTR") {
    for (const std::string& target : set.ptr) {
      keep(targetRr(owner, LDNS_RR_TYPE_PTR, set.ttl, {}, target));
    }
  } else if (set.type == "SRV") {
    for (const model::SrvRecord& srv : set.srv) {
      keep(targetRr(owner, LDNS_RR_TYPE_SRV, set.ttl, {srv.priority, srv.weight, srv.port},
                    srv.target));
    }
  } else if (set.type == "TXT") {
    for (const auto& values : set.txt) {
      ldns_rr* rr = newRr(owner, LDNS_RR_TYPE_TXT, set.ttl);
      if (!rr) continue;
      pushTxt(rr, values);
      keep(rr);
    }
  } else if (set.type == "SOA") {
    if (set.soa) keep(soaRr(owner, *set.soa, set.ttl));
  }
}

// The zone's SOA for a negative answer (ttl = min(ttl, minimum), RFC 2308 §3).
ldns_rr* negativeSoa(const VnetDns& dns, const model::DnsZone& zone) {
  std::string apex = absolute(zone.name);
  for (const model::DnsRecordSet* set : dns.recordSetsAt(apex)) {
    if (set->type == "SOA" && set->soa) {
      return soaRr(apex, *set->soa,
                   static_cast<uint32_t>(std::min<uint64_t>(set->ttl, set->soa->minimumTtl)));
    }
  }
  model::SoaRecord soa;
  soa.host = "azureprivatedns.net.";
  soa.email = "azureprivatedns-host.microsoft.com.";
  return soaRr(apex, soa, static_cast<uint32_t>(soa.minimumTtl));
}

struct Resolution {
  std::vector<RrPtr> answer;
  std::vector<RrPtr> authority;
  uint8_t rcode = LDNS_RCODE_NOERROR;
  bool forward = false;
  std::string forwardName;  // set when the chain leaves the view after at least one link
};

bool typeMatches(const model::DnsRecordSet& set, ldns_rr_type qtype) {
  if (qtype == LDNS_RR_TYPE_ANY) return true;
  auto t = typeOf(set.type);
  return t && *t == qtype;
}

Resolution resolve(const VnetDns& dns, std::string name, ldns_rr_type qtype) {
  Resolution r;
  auto add = [&](ldns_rr* rr) {
    if (rr) r.answer.emplace_back(rr);
  };
  for (int depth = 0; depth <= kMaxCnameDepth; ++depth) {
    const model::DnsZone* zone = dns.zoneOf(name);
    std::vector<const model::DnsRecordSet*> sets;
    if (zone) sets = dns.recordSetsAt(name);

    if (sets.empty()) {
      if (const model::PublicName* pn = dns.publicName(name)) {
        add(cnameRr(name, pn->cname, kPublicNameTtl));
        if (qtype == LDNS_RR_TYPE_CNAME) return r;
        name = absolute(pn->cname);
        continue;
      }
      if (const model::PublicName* pl = dns.privateLinkName(name)) {
        if (pl->publicAddress &&
            (qtype == LDNS_RR_TYPE_ANY ||
             qtype == (pl->publicAddress->isV4() ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA))) {
          add(addressRr(name, *pl->publicAddress, kPublicNameTtl));
        } else if (zone) {
          if (ldns_rr* soa = negativeSoa(dns, *zone)) r.authority.emplace_back(soa);
        }
        return r;
      }
    }
    if (!zone) {
      r.forward = true;
      if (depth > 0) r.forwardName = name;
      return r;
    }
    if (!sets.empty()) {
      bool any = false;
      for (const model::DnsRecordSet* set : sets) {
        if (typeMatches(*set, qtype)) {
          size_t before = r.answer.size();
          appendRecordSet(*set, r.answer);
          any = any || r.answer.size() > before;
        }
      }
      if (any) return r;
      const model::DnsRecordSet* cname = nullptr;
      for (const model::DnsRecordSet* set : sets) {
        if (set->type == "CNAME" && !set->cname.empty()) cname = set;
      }
      if (cname && qtype != LDNS_RR_TYPE_CNAME) {
        add(cnameRr(name, cname->cname, cname->ttl));
        name = absolute(cname->cname);
        continue;
      }
      if (ldns_rr* soa = negativeSoa(dns, *zone)) r.authority.emplace_back(soa);
      return r;
    }
    if (!dns.hasDescendants(name)) r.rcode = LDNS_RCODE_NXDOMAIN;
    if (ldns_rr* soa = negativeSoa(dns, *zone)) r.authority.emplace_back(soa);
    return r;
  }
  // Chain longer than kMaxCnameDepth (or a loop): answer what was found.
  return r;
}

std::vector<uint8_t> toWire(const ldns_pkt* pkt) {
  uint8_t* buf = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&buf, pkt, &size) != LDNS_STATUS_OK || !buf) {
    std::free(buf);
    return {};
  }
  std::vector<uint8_t> out(buf, buf + size);
  std::free(buf);
  return out;
}

ldns_pkt* replySkeleton(const ldns_pkt* query, uint8_t rcode, bool authoritative) {
  ldns_pkt* reply = ldns_pkt_new();
  ldns_pkt_set_id(reply, ldns_pkt_id(query));
  ldns_pkt_set_qr(reply, true);
  ldns_pkt_set_opcode(reply, LDNS_PACKET_QUERY);
  ldns_pkt_set_aa(reply, authoritative);
  ldns_pkt_set_rd(reply, ldns_pkt_rd(query));
  ldns_pkt_set_cd(reply, ldns_pkt_cd(query));
  ldns_pkt_set_ra(reply, true);
  ldns_pkt_set_rcode(reply, rcode);
  ldns_rr_list* question = ldns_pkt_question(query);
  for (size_t i = 0; question && i < ldns_rr_list_rr_count(question); ++i) {
    ldns_pkt_push_rr(reply, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(question, i)));
  }
  if (ldns_pkt_edns(query)) {
    ldns_pkt_set_edns_udp_size(reply, kServerUdpSize);
    ldns_pkt_set_edns_do(reply, ldns_pkt_edns_do(query));
  }
  return reply;
}

size_t limitFor(Transport transport, std::span<const uint8_t> clientQuery) {
  return transport == Transport::kTcp ? kMaxTcpMessage : udpLimitOf(clientQuery);
}

// Serialises; when too large, the same header and question with TC set and empty sections.
std::vector<uint8_t> fitted(const ldns_pkt* reply, size_t limit) {
  std::vector<uint8_t> wire = toWire(reply);
  if (!wire.empty() && wire.size() <= limit) return wire;
  PktPtr small(ldns_pkt_new());
  ldns_pkt_set_id(small.get(), ldns_pkt_id(reply));
  ldns_pkt_set_qr(small.get(), true);
  ldns_pkt_set_opcode(small.get(), ldns_pkt_get_opcode(reply));
  ldns_pkt_set_aa(small.get(), ldns_pkt_aa(reply));
  ldns_pkt_set_rd(small.get(), ldns_pkt_rd(reply));
  ldns_pkt_set_ra(small.get(), ldns_pkt_ra(reply));
  ldns_pkt_set_cd(small.get(), ldns_pkt_cd(reply));
  ldns_pkt_set_rcode(small.get(), ldns_pkt_get_rcode(reply));
  ldns_pkt_set_tc(small.get(), true);
  ldns_rr_list* question = ldns_pkt_question(reply);
  for (size_t i = 0; question && i < ldns_rr_list_rr_count(question); ++i) {
    ldns_pkt_push_rr(small.get(), LDNS_SECTION_QUESTION,
                     ldns_rr_clone(ldns_rr_list_rr(question, i)));
  }
  if (ldns_pkt_edns(reply)) ldns_pkt_set_edns_udp_size(small.get(), kServerUdpSize);
  return toWire(small.get());
}

// A header-only reply (no question) echoing the id, RD and opcode of the raw query.
std::vector<uint8_t> headerReply(std::span<const uint8_t> query, uint8_t rcode) {
  std::vector<uint8_t> out(kHeaderSize, 0);
  out[0] = query[0];
  out[1] = query[1];
  out[2] = static_cast<uint8_t>(0x80 | (query[2] & 0x79));  // QR, opcode, RD
  out[3] = static_cast<uint8_t>(0x80 | (rcode & 0x0f));      // RA, rcode
  return out;
}

PktPtr parse(std::span<const uint8_t> wire) {
  if (wire.size() < kHeaderSize) return nullptr;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) {
    if (pkt) ldns_pkt_free(pkt);
    return nullptr;
  }
  return PktPtr(pkt);
}

}  // namespace

VnetDns::VnetDns(model::DnsView view) : view_(std::move(view)) {
  for (const model::DnsZone& zone : view_.zones) {
    zones_.emplace(absolute(zone.name), &zone);
    for (const model::DnsRecordSet& set : zone.recordSets) sets_.emplace(absolute(set.fqdn), &set);
  }
  for (const model::PublicName& pn : view_.publicNames) {
    public_.emplace(absolute(pn.fqdn), &pn);
    private_link_.emplace(absolute(pn.cname), &pn);
  }
}

const model::DnsZone* VnetDns::zoneOf(std::string_view fqdn) const {
  for (std::string_view name = fqdn; !name.empty(); name = parentOf(name)) {
    auto it = zones_.find(name);
    if (it != zones_.end()) return it->second;
  }
  return nullptr;
}

std::vector<const model::DnsRecordSet*> VnetDns::recordSetsAt(std::string_view fqdn) const {
  std::vector<const model::DnsRecordSet*> out;
  auto [begin, end] = sets_.equal_range(fqdn);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

bool VnetDns::hasDescendants(std::string_view fqdn) const {
  std::string suffix = "." + std::string(fqdn);
  for (const auto& [owner, set] : sets_) {
    if (owner.size() > suffix.size() &&
        owner.compare(owner.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

const model::PublicName* VnetDns::publicName(std::string_view fqdn) const {
  auto it = public_.find(fqdn);
  return it == public_.end() ? nullptr : it->second;
}

const model::PublicName* VnetDns::privateLinkName(std::string_view fqdn) const {
  auto it = private_link_.find(fqdn);
  return it == private_link_.end() ? nullptr : it->second;
}

size_t udpLimitOf(std::span<const uint8_t> clientQuery) {
  PktPtr pkt = parse(clientQuery);
  if (!pkt || !ldns_pkt_edns(pkt.get())) return kClassicUdpSize;
  return std::max<size_t>(kClassicUdpSize, ldns_pkt_edns_udp_size(pkt.get()));
}

std::vector<uint8_t> servfailFor(std::span<const uint8_t> clientQuery) {
  if (clientQuery.size() < kHeaderSize) return {};
  PktPtr query = parse(clientQuery);
  if (!query) return headerReply(clientQuery, LDNS_RCODE_SERVFAIL);
  PktPtr reply(replySkeleton(query.get(), LDNS_RCODE_SERVFAIL, false));
  return fitted(reply.get(), kClassicUdpSize);
}

Outcome answerQuery(const VnetDns& dns, std::span<const uint8_t> query, Transport transport) {
  Outcome out;
  if (query.size() < kHeaderSize) return out;  // no id to answer: drop
  if (query[2] & 0x80) return out;             // a response: never answer one
  auto reply = [&](std::vector<uint8_t> wire) {
    out.action = wire.empty() ? Outcome::Action::kDrop : Outcome::Action::kReply;
    out.reply = std::move(wire);
    return out;
  };
  uint8_t opcode = (query[2] >> 3) & 0x0f;
  uint16_t qdcount = static_cast<uint16_t>(query[4] << 8 | query[5]);
  if (opcode != LDNS_PACKET_QUERY) return reply(headerReply(query, LDNS_RCODE_NOTIMPL));
  if (qdcount != 1) return reply(headerReply(query, LDNS_RCODE_FORMERR));
  PktPtr pkt = parse(query);
  if (!pkt || ldns_rr_list_rr_count(ldns_pkt_question(pkt.get())) != 1) {
    return reply(headerReply(query, LDNS_RCODE_FORMERR));
  }
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  ldns_rr_class qclass = ldns_rr_get_class(question);
  size_t limit = limitFor(transport, query);
  if (qclass != LDNS_RR_CLASS_IN && qclass != LDNS_RR_CLASS_ANY) {
    PktPtr refused(replySkeleton(pkt.get(), LDNS_RCODE_REFUSED, false));
    return reply(fitted(refused.get(), limit));
  }
  ldns_rr_type qtype = ldns_rr_get_type(question);
  char* text = ldns_rdf2str(ldns_rr_owner(question));
  if (!text) return reply(headerReply(query, LDNS_RCODE_FORMERR));
  std::string qname = absolute(text);
  std::free(text);

  Resolution r = resolve(dns, qname, qtype);
  if (r.forward && r.forwardName.empty()) {
    out.action = Outcome::Action::kForward;
    out.forwardQuery.assign(query.begin(), query.end());
    return out;
  }
  PktPtr answer(replySkeleton(pkt.get(), r.rcode, true));
  for (RrPtr& rr : r.answer) ldns_pkt_push_rr(answer.get(), LDNS_SECTION_ANSWER, rr.release());
  for (RrPtr& rr : r.authority) {
    ldns_pkt_push_rr(answer.get(), LDNS_SECTION_AUTHORITY, rr.release());
  }
  if (r.forward) {
    ldns_rdf* target = nameRdf(r.forwardName);
    if (!target) return reply(fitted(answer.get(), limit));
    PktPtr recursive(ldns_pkt_query_new(target, qtype, LDNS_RR_CLASS_IN, LDNS_RD));
    if (ldns_pkt_edns(pkt.get())) ldns_pkt_set_edns_udp_size(recursive.get(), kServerUdpSize);
    out.action = Outcome::Action::kForward;
    out.forwardQuery = toWire(recursive.get());
    out.partialReply = toWire(answer.get());
    if (out.forwardQuery.empty() || out.partialReply.empty()) {
      return reply(fitted(answer.get(), limit));
    }
    return out;
  }
  return reply(fitted(answer.get(), limit));
}

std::vector<uint8_t> spliceForwarded(std::span<const uint8_t> clientQuery,
                                     std::span<const uint8_t> partialReply,
                                     std::span<const uint8_t> upstream, Transport transport) {
  if (clientQuery.size() < kHeaderSize) return {};
  size_t limit = limitFor(transport, clientQuery);
  PktPtr up = parse(upstream);
  if (!up || !ldns_pkt_qr(up.get())) return servfailFor(clientQuery);
  if (partialReply.empty()) {
    std::vector<uint8_t> relayed(upstream.begin(), upstream.end());
    relayed[0] = clientQuery[0];
    relayed[1] = clientQuery[1];
    if (relayed.size() <= limit) return relayed;
    ldns_pkt_set_id(up.get(), static_cast<uint16_t>(clientQuery[0] << 8 | clientQuery[1]));
    return fitted(up.get(), limit);
  }
  PktPtr partial = parse(partialReply);
  if (!partial) return servfailFor(clientQuery);
  ldns_rr_list* answers = ldns_pkt_answer(up.get());
  for (size_t i = 0; answers && i < ldns_rr_list_rr_count(answers); ++i) {
    ldns_pkt_push_rr(partial.get(), LDNS_SECTION_ANSWER, ldns_rr_clone(ldns_rr_list_rr(answers, i)));
  }
  ldns_rr_list* authority = ldns_pkt_authority(up.get());
  for (size_t i = 0; authority && i < ldns_rr_list_rr_count(authority); ++i) {
    ldns_pkt_push_rr(partial.get(), LDNS_SECTION_AUTHORITY,
                     ldns_rr_clone(ldns_rr_list_rr(authority, i)));
  }
  ldns_pkt_set_rcode(partial.get(), ldns_pkt_get_rcode(up.get()));
  ldns_pkt_set_aa(partial.get(), false);
  return fitted(partial.get(), limit);
}

}  // namespace privlink::dns
