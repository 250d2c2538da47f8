#pragma once
// The answer logic of the 168.63.129.16 resolver (DESIGN.md §1 resolver row; reference §1.8):
// one DNS query in wire format + the view of the querying VNet (model::dnsView) -> what to do.
//
// Contract
// - Authoritative names: every name at or below a zone linked to the VNet (longest zone wins),
//   every PaaS public FQDN and every PaaS privatelink name. Everything else is forwarded.
// - Record types A, AAAA, CNAME, MX, PTR, SOA, SRV, TXT (and ANY: every set at the name).
//   Names compare case-insensitively; the question is echoed as asked.
// - A name with record sets but none of the asked type (or an empty non-terminal) is NODATA
//   (NOERROR, empty answer); a name without any is NXDOMAIN. Both carry the zone's SOA in the
//   authority section, with ttl min(SOA ttl, SOA minimum).
// - CNAME chains are followed across linked zones and public names, at most kMaxCnameDepth
//   links (a loop ends there, answered with what was found). A chain that leaves the view ends in
//   a forward of the target (Outcome::kForward with a partial reply; spliceForwarded()).
// - PaaS public names: `<name>.<public suffix>` CNAME `<name>.privatelink.<suffix>` (ttl
//   kPublicNameTtl), then the linked zone's record if there is one, else the public IP (A only).
// - Malformed input: shorter than a header, or a response (QR set) -> kDrop. A header that
//   parses but a body that does not (truncated, pointer loops, overlong labels), qdcount != 1 ->
//   FORMERR echoing the id. Class other than IN (and ANY) -> REFUSED. Opcode other than QUERY
//   -> NOTIMP. Never throws, never loops unbounded.
// - UDP answers larger than max(512, the client's EDNS0 size) are sent with TC set and empty
//   sections (the client retries over TCP). TCP answers up to 65535 bytes.
// - EDNS0: a query with OPT is answered with OPT (udp size kServerUdpSize).
// Pure; thread-safe (a VnetDns is immutable after construction).

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/private_dns_view.h"

namespace privlink::dns {

inline constexpr std::string_view kResolverAddress = "168.63.129.16";
inline constexpr uint16_t kDnsPort = 53;
inline constexpr size_t kClassicUdpSize = 512;
inline constexpr uint16_t kServerUdpSize = 1232;
inline constexpr uint32_t kPublicNameTtl = 300;
inline constexpr int kMaxCnameDepth = 8;

enum class Transport { kUdp, kTcp };

// One VNet's view, indexed for lookups. Immutable.
class VnetDns {
 public:
  explicit VnetDns(model::DnsView view);

  const model::DnsView& view() const { return view_; }
  // The linked zone that holds `fqdn` (lower-case, trailing dot), longest match; nullptr if none.
  const model::DnsZone* zoneOf(std::string_view fqdn) const;
  // Record sets whose owner is exactly `fqdn`.
  std::vector<const model::DnsRecordSet*> recordSetsAt(std::string_view fqdn) const;
  // True iff some record set is strictly below `fqdn` (an empty non-terminal).
  bool hasDescendants(std::string_view fqdn) const;
  const model::PublicName* publicName(std::string_view fqdn) const;
  // The PublicName whose cname (privatelink name) is `fqdn`.
  const model::PublicName* privateLinkName(std::string_view fqdn) const;

 private:
  model::DnsView view_;
  std::map<std::string, const model::DnsZone*, std::less<>> zones_;  // "zone." -> zone
  std::multimap<std::string, const model::DnsRecordSet*, std::less<>> sets_;
  std::map<std::string, const model::PublicName*, std::less<>> public_;
  std::map<std::string, const model::PublicName*, std::less<>> private_link_;
};

struct Outcome {
  enum class Action { kReply, kForward, kDrop };
  Action action = Action::kDrop;
  // kReply: the answer to send (already fitted to the transport).
  std::vector<uint8_t> reply;
  // kForward: the query to send upstream (the client's own packet when nothing was answered
  // locally, else a recursive query for the chain's target), and the partial reply holding the
  // local part of the chain (empty when the whole query is forwarded).
  std::vector<uint8_t> forwardQuery;
  std::vector<uint8_t> partialReply;
};

Outcome answerQuery(const VnetDns& dns, std::span<const uint8_t> query, Transport transport);

// The reply to send for a forwarded query once the upstream answered: `upstream` (its id
// replaced by the client's) when `partialReply` is empty, else the partial chain followed by the
// upstream's answer records and rcode. Fitted to the transport. SERVFAIL if upstream is garbage or
// not a response (QR clear).
std::vector<uint8_t> spliceForwarded(std::span<const uint8_t> clientQuery,
                                     std::span<const uint8_t> partialReply,
                                     std::span<const uint8_t> upstream, Transport transport);

// SERVFAIL for `clientQuery` (the forward timed out or every upstream failed); empty if the
// query has no usable header.
std::vector<uint8_t> servfailFor(std::span<const uint8_t> clientQuery);

// The largest UDP answer the client accepts: max(512, its EDNS0 size); 512 if unparsable.
size_t udpLimitOf(std::span<const uint8_t> clientQuery);

}  // namespace privlink::dns
