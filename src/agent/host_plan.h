#pragma once
// HostPlan: the kernel state the agent wants on this host, as plain values. compile() produces it
// from a snapshot without I/O; the Applier diffs it against what the kernel reports and changes
// only the difference. Every item is keyed by its identity (map key), so the diff is a set
// difference. Every item names the store keys it realises (`owners`), so a failed kernel step
// becomes a failure of exactly those resources. Links are always wanted up.
//
// Ownership rule (what the applier may delete): namespaces matching HostNaming::ownsNamespace, and
// inside them every link but `lo`, every IPv4 address outside 127.0.0.0/8, every IPv4 route of the
// main table, of kProxyRouteTable and of kPeReplyRouteTable, every fwmark policy-routing rule
// (Kernel::listRules), and every nft table whose name starts with "pl"; the eBPF fast path
// (agent/fast_path.h) owns our tc attachments and the pinned maps of those namespaces. Nothing in
// any other namespace.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataplane/kernel.h"
#include "proxy/splice_proxy.h"

namespace privlink::agent {

// PROXY protocol v2 interception (DESIGN.md §2): in a consumer VNet namespace with proxied
// endpoints, nft TPROXY marks the endpoints' TCP with kProxyMark and hands it to the agent's
// splice proxy listening on kProxyPort; the rule "fwmark kProxyMark lookup kProxyRouteTable
// priority kProxyRulePriority" and the route `local 0.0.0.0/0 dev lo table kProxyRouteTable`
// deliver such packets locally.
inline constexpr uint32_t kProxyMark = 0x504c0001;
inline constexpr uint32_t kProxyRouteTable = 100;
inline constexpr uint32_t kProxyRulePriority = 100;
inline constexpr uint16_t kProxyPort = 15441;

// Fast path replies (DESIGN.md §2, agent/fast_path.h): in a provider VNet namespace, replies of
// private endpoint flows (conntrack original destination a T_pe) get kPeReplyMark, and the rule
// "fwmark kPeReplyMark lookup kPeReplyRouteTable priority kPeReplyRulePriority" with the route
// `default via <backbone gateway> dev <uplink> table kPeReplyRouteTable` sends them to the
// backbone even when the client's own address is also one of the provider's.
inline constexpr uint32_t kPeReplyMark = 0x504c0002;
inline constexpr uint32_t kPeReplyRouteTable = 101;
inline constexpr uint32_t kPeReplyRulePriority = 101;

enum class LinkKind { kLoopback, kBridge, kVeth };
const char* linkKindName(LinkKind kind);

struct PlannedNamespace {
  std::string name;
  std::vector<std::string> owners;
  bool operator==(const PlannedNamespace&) const = default;
};

struct PlannedLink {
  std::string ns;
  std::string name;
  LinkKind kind = LinkKind::kVeth;
  std::string peerNs;    // veth only: where the other end lives
  std::string peerName;  // veth only
  std::string master;    // bridge to enslave to, "" for none
  std::vector<std::string> owners;
  bool operator==(const PlannedLink&) const = default;
};

struct PlannedAddress {
  std::string ns;
  dataplane::InterfaceAddress address;
  std::vector<std::string> owners;
  bool operator==(const PlannedAddress&) const = default;
};

struct PlannedRoute {
  std::string ns;
  // When route.preferredSource is unset, an actual route matches whatever its source.
  dataplane::Route route;
  std::vector<std::string> owners;
  bool operator==(const PlannedRoute&) const = default;
};

// A policy-routing rule (fwmark -> table) in an owned namespace.
struct PlannedRule {
  std::string ns;
  dataplane::RoutingRule rule;
  std::vector<std::string> owners;
  bool operator==(const PlannedRule&) const = default;
};

// A private endpoint whose TCP the agent's splice proxy serves (its PLS has enableProxyProtocol,
// the endpoint is Approved and translatable): in `ns`, the consumer VNet namespace, TCP to
// `address` is intercepted and proxied to `upstream` (T_pe, same port) with a PPv2 header that
// carries `linkId`. Not kernel state: the Agent hands these to its proxy::SpliceProxy.
// `direct` (set when the provider VNet is realised on this host, as every VNet is now): the
// proxy opens the upstream connection in the provider VNet namespace itself, from the PLS NAT IP
// to the backend of the LB rule's hash bucket (the rule's lb_dnat buckets by frontend port),
// skipping the consumer's NAT, the backbone and the provider's DNAT/SNAT; T_pe stays the path
// when that namespace cannot be opened.
struct PlannedProxyEndpoint {
  std::string ns;
  IpAddress address;
  IpAddress upstream;
  uint32_t linkId = 0;
  std::vector<std::string> owners;
  std::optional<proxy::DirectUpstream> direct;
  bool operator==(const PlannedProxyEndpoint&) const = default;
};

// A private endpoint on the eBPF fast path (agent/fast_path.h, dataplane/bpf/fast_path_maps.h):
// Approved, not proxied, translated statelessly in its consumer VNet namespace `ns` (tc programs
// on `bridges` and `uplink`) and steered by the backbone between the consumer's and the
// provider's backbone-side uplinks, NATed by the provider VNet at tc. With `translate` false
// the endpoint is only counted (it keeps its pl_stats entry while it exists: Pending, Rejected,
// proxied or PaaS endpoints).
struct PlannedFastEndpoint {
  std::string ns;
  IpAddress address;  // PE_IP
  IpAddress transit;  // T_pe
  uint32_t linkId = 0;
  bool translate = false;
  std::vector<std::string> bridges;  // every subnet bridge of the consumer VNet
  std::string uplink;
  std::string backboneNs;
  std::string consumerBackboneLink;
  std::string providerBackboneLink;
  IpAddress consumerTransit;  // T_vnet of the consumer
  IpAddress providerTransit;
  // The provider half (pl_svc/pl_lb in `providerNs`, programs on `providerUplink` and on the
  // NICs' host-side veths there): flows to T_pe on a port of the frontend's rules are balanced
  // over the lb_dnat buckets of `frontendMark` and source-NATed to `natIp` in eBPF.
  std::string providerNs;
  std::string providerUplink;
  IpAddress natIp;
  uint32_t frontendMark = 0;
  std::vector<std::string> owners;
  bool operator==(const PlannedFastEndpoint&) const = default;
};

struct PlannedSysctl {
  std::string ns;
  std::string key;  // "net/ipv4/ip_forward"
  std::string value;
  std::vector<std::string> owners;
  // Set only where the kernel has the key (net/bridge/* exists only while br_netfilter is
  // loaded); a missing key is not a failure.
  bool optional = false;
  bool operator==(const PlannedSysctl&) const = default;
};

struct PlannedNftTable {
  std::string ns;
  std::string family;  // "inet"
  std::string name;    // starts with "pl"
  // Full `nft -f` text of the table. It carries `comment "privlink <fingerprint>"`, which `nft
  // list table` prints back, so the applier can tell an unchanged table without parsing rules.
  std::string text;
  std::string fingerprint;
  std::vector<std::string> owners;
  // Sets/maps whose elements decide a flow's translation: set name -> index of the key component
  // (in a " . " concatenation) that is the conntrack original destination. When such an element
  // is added, removed or changes value, the applier deletes the conntrack entries in `ns` whose
  // original destination is that address (Kernel::conntrackDelete): on removal established flows
  // stop at once; on addition entries made while the address was refused (no NAT binding, which
  // a reused source port would otherwise pick up again) are gone.
  std::map<std::string, int> flushOnChange;
  bool operator==(const PlannedNftTable&) const = default;
};

// One element of a named nft set or map, or one named counter object, inside a planned table.
// Elements are diffed one by one (DESIGN.md §2: adding or removing an endpoint is one small
// transaction, never a table rewrite): the applier lists the table, parses the elements of every
// set/map it plans elements for, and adds/deletes only the difference in one batch per table.
// `key` and `value` are written exactly as `nft list table` prints them (marks as 0x%08x,
// concatenations " . ", counter references quoted).
struct PlannedNftElement {
  std::string ns;
  std::string family;
  std::string table;
  std::string set;    // set or map name; "" for a named counter object (`key` is its name)
  std::string key;
  std::string value;  // map value; "" for a set element or a counter
  std::vector<std::string> owners;
  bool operator==(const PlannedNftElement&) const = default;
};

// A health probe the agent's prober runs from inside a VNet namespace (non-blocking connect, or
// an HTTP GET expecting 200). Results feed compile() (ProbeHealth) on the next pass.
struct PlannedProbe {
  std::string ns;
  IpAddress address;
  int port = 0;
  std::string protocol;  // "Tcp" or "Http" ("Https" is probed as Tcp)
  std::string requestPath;
  int intervalSeconds = 15;
  int threshold = 1;  // consecutive results needed to change state
  std::vector<std::string> owners;
  bool operator==(const PlannedProbe&) const = default;
};

struct PlannedFile {
  std::string ns;
  std::string name;  // "resolv.conf"
  std::string content;
  std::vector<std::string> owners;
  bool operator==(const PlannedFile&) const = default;
};

struct HostPlan {
  std::map<std::string, PlannedNamespace> namespaces;  // by namespaceKey
  std::map<std::string, PlannedLink> links;            // by linkKey
  std::map<std::string, PlannedAddress> addresses;     // by addressKey
  std::map<std::string, PlannedRoute> routes;          // by routeKey
  std::map<std::string, PlannedSysctl> sysctls;        // by sysctlKey
  std::map<std::string, PlannedNftTable> nftTables;    // by nftTableKey
  std::map<std::string, PlannedFile> files;            // by fileKey
  std::map<std::string, PlannedNftElement> nftElements;  // by nftElementKey
  std::map<std::string, PlannedProbe> probes;          // by probe target key (probeTargetKey)
  std::map<std::string, PlannedRule> rules;            // by ruleKey
  std::map<std::string, PlannedProxyEndpoint> proxyEndpoints;  // by proxyEndpointKey
  std::map<std::string, PlannedFastEndpoint> fastEndpoints;    // by proxyEndpointKey
  // Resources compile could not realise (missing subnet, no address, ...), by store key.
  std::map<std::string, Status> failures;

  // One line per item in key order (nft text indented below its line): the golden-test form.
  std::string render() const;
};

std::string namespaceKey(const std::string& ns);
std::string linkKey(const std::string& ns, const std::string& name);
std::string addressKey(const std::string& ns, const dataplane::InterfaceAddress& address);
// Identity of a route for the diff: namespace, table, destination, type, gateway, device.
std::string routeKey(const std::string& ns, const dataplane::Route& route);
std::string sysctlKey(const std::string& ns, const std::string& key);
// "<ns> fwmark 0x<mark> table <table> priority <priority>".
std::string ruleKey(const std::string& ns, const dataplane::RoutingRule& rule);
// "<ns> <address>".
std::string proxyEndpointKey(const std::string& ns, const IpAddress& address);
std::string nftTableKey(const std::string& ns, const std::string& family, const std::string& name);
std::string fileKey(const std::string& ns, const std::string& name);
// "<ns> <family> <table> <set>|<key>"; counters have set "".
std::string nftElementKey(const std::string& ns, const std::string& family,
                          const std::string& table, const std::string& set,
                          const std::string& key);
// Identity of one probed backend: "<probe key>|<address>".
std::string probeTargetKey(const std::string& probeKey, const IpAddress& address);

}  // namespace privlink::agent
