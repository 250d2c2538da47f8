#pragma once
// Helpers for the dns unit tests: queries built and replies parsed with ldns.
#include <ldns/ldns.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace privlink::dns::testing {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

struct QueryOptions {
  uint16_t id = 0x1234;
  uint16_t ednsSize = 0;  // 0: no OPT
  ldns_rr_class cls = LDNS_RR_CLASS_IN;
};

// The wire form of `p`; takes ownership of it (frees it).
inline std::vector<uint8_t> toWire(ldns_pkt* p) {
  uint8_t* buf = nullptr;
  size_t size = 0;
  ldns_pkt2wire(&buf, p, &size);
  std::vector<uint8_t> out(buf, buf + size);
  free(buf);
  ldns_pkt_free(p);
  return out;
}

inline std::vector<uint8_t> makeQuery(const std::string& name, ldns_rr_type type,
                                      QueryOptions o = {}) {
  ldns_pkt* q = ldns_pkt_query_new(ldns_dname_new_frm_str(name.c_str()), type, o.cls, LDNS_RD);
  ldns_pkt_set_id(q, o.id);
  if (o.ednsSize) ldns_pkt_set_edns_udp_size(q, o.ednsSize);
  return toWire(q);
}

inline Pkt parseReply(const std::vector<uint8_t>& wire) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
  return Pkt(p);
}

// "owner ttl IN TYPE rdata" for every rr of a section, in order.
inline std::vector<std::string> section(const ldns_pkt* p, ldns_pkt_section s) {
  std::vector<std::string> out;
  ldns_rr_list* list = ldns_pkt_get_section_clone(p, s);
  for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
    char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string line(text);
    free(text);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    for (char& c : line) {
      if (c == '\t') c = ' ';
    }
    out.push_back(line);
  }
  ldns_rr_list_deep_free(list);
  return out;
}

}  // namespace privlink::dns::testing
