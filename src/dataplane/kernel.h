#pragma once
// Kernel: the seam between the agent and the Linux kernel (DESIGN.md §3 dataplane/). The agent
// never touches the kernel except through this interface; tests use a fake with fault injection
// (tests/testing/fake_kernel.h). The real implementation (makeLinuxKernel) speaks netlink through
// libmnl, nftables through libnftables, conntrack through libnetfilter_conntrack — it never runs
// `ip` or `nft`.
//
// Conventions
// - `ns` names a persistent network namespace (/run/netns/<ns>, as `ip netns add` makes them).
//   The empty string means the namespace privlinkd itself runs in; callers use it only to list.
// - Every mutating call is a single kernel change. Creating what exists returns
//   AlreadyExists; deleting what is absent returns NotFound; the applier treats those as
//   idempotent success where that is right. Kernel errors come back as Status with the errno
//   name and the object, e.g. "Internal: RTM_NEWLINK veth plu-1a2b3c4d in plv-1a2b3c4d: EBUSY".
// - Not thread-safe: one applier thread owns a Kernel.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/status.h"

namespace privlink::dataplane {

// Members all have default initializers so that designated initializers may omit any of them
// without -Wmissing-field-initializers noise.
struct LinkInfo {
  std::string name{};
  std::string kind{};    // "veth", "bridge", "loopback", ... ("" when the kernel says none)
  std::string master{};  // bridge it is enslaved to, "" if none
  bool up = false;
  int mtu = 0;
  std::string macAddress{};  // "aa:bb:cc:dd:ee:ff"

  bool operator==(const LinkInfo&) const = default;
};

struct InterfaceAddress {
  std::string link{};
  IpAddress address{};
  int prefixLength = 32;
  // Set by listAddresses for host- or link-scope addresses, which the kernel makes itself
  // (127.0.0.1/8 and ::1 when lo goes up, fe80::/64 on every IPv6 link that goes up). privlink
  // adds only global-scope addresses; the applier must leave these alone. Ignored when adding.
  bool kernelCreated = false;

  bool operator==(const InterfaceAddress&) const = default;
};

enum class RouteType { kUnicast, kLocal, kBlackhole };

struct Route {
  IpPrefix destination{};
  std::optional<IpAddress> gateway{};
  std::string device{};  // "" when the route has none (blackhole)
  uint32_t table = 254;  // RT_TABLE_MAIN
  RouteType type = RouteType::kUnicast;
  std::optional<IpAddress> preferredSource{};
  // Set by listRoutes for routes the kernel made itself (protocol "kernel": the connected route of
  // each address, local routes of addresses in table 255, IPv6 fe80::/64). The applier must leave
  // them alone and must not add them (addRoute would return AlreadyExists). Ignored when adding.
  bool kernelCreated = false;

  bool operator==(const Route&) const = default;
};

// Policy-routing rule ("ip rule"): fwmark -> table.
struct RoutingRule {
  uint32_t fwmark = 0;
  uint32_t table = 0;
  uint32_t priority = 0;
  bool operator==(const RoutingRule&) const = default;
};

// Conntrack entries to delete: every field that is set must match the original direction.
struct ConntrackFilter {
  std::optional<IpAddress> originalSource{};
  std::optional<IpAddress> originalDestination{};
  // Any of these original destinations (sorted ascending; ignored when empty): one dump deletes
  // the entries of many addresses (each dump walks the kernel's global conntrack hash table).
  std::vector<IpAddress> originalDestinationIn{};
  std::optional<IpAddress> replySource{};
  std::optional<uint16_t> zone{};
};

// One of the private endpoint fast path's BPF programs (dataplane/bpf/fast_path_maps.h) attached
// at tc ingress of a link: a pinned tcx link (Linux 6.6+), else a clsact qdisc with a cls_bpf
// direct-action filter of privlink's fixed handle and priority (dataplane/tc_bpf.h; other
// programs and filters on the link are left alone).
struct TcAttachment {
  std::string link{};
  std::string program{};  // "pl_consumer_out", "pl_consumer_in" or "pl_backbone"

  bool operator==(const TcAttachment&) const = default;
};

// One change of nftUpdateElements: an element of a named set or map, or a named counter object.
// Texts are written exactly as `nft list table` prints them (addresses, marks as 0x%08x,
// protocols by name, ports as numbers, concatenations " . ", counter references quoted).
struct NftElementChange {
  bool add = true;    // false: delete
  std::string set{};  // set or map name; "" for a named counter object (`key` is its name)
  std::string key{};
  std::string value{};  // map value; "" for a set element or a counter

  bool operator==(const NftElementChange&) const = default;
};

class Kernel {
 public:
  virtual ~Kernel() = default;

  // Namespaces. Names: 1..64 of [A-Za-z0-9_.-]. A new namespace holds only `lo`, down (bring it
  // up with setLinkUp if anything in the namespace talks to itself or needs local routes).
  // deleteNamespace first deletes the namespace's veths, so their peers in other namespaces are
  // gone when it returns (the kernel frees the rest of a namespace asynchronously), then unmounts
  // it; nft tables, routes and conntrack entries go with it. /etc/netns files stay
  // (removeNamespaceFiles).
  virtual Result<std::vector<std::string>> listNamespaces() = 0;
  virtual Status createNamespace(const std::string& ns) = 0;
  virtual Status deleteNamespace(const std::string& ns) = 0;

  // Links. Names are at most 15 characters (InvalidArgument otherwise). Order constraints: a
  // bridge must exist before setLinkMaster; a link must exist before addresses and routes on it;
  // an IPv4 route through a device needs the device up, and one via a gateway needs the gateway
  // on a connected subnet (address added + link up), else Internal ENETDOWN / ENETUNREACH.
  // Taking a link down or deleting it removes the routes through it, and taking it down also
  // removes its IPv6 addresses (Linux default; IPv4 addresses stay). Deleting either end of a
  // veth deletes both.
  virtual Result<std::vector<LinkInfo>> listLinks(const std::string& ns) = 0;
  // A veth pair: `name` in `ns`, `peerName` in `peerNs` (which may equal ns). Both start down.
  virtual Status createVethPair(const std::string& ns, const std::string& name,
                                const std::string& peerNs, const std::string& peerName) = 0;
  virtual Status createBridge(const std::string& ns, const std::string& name) = 0;
  // Enslaves `link` to bridge `master` ("" releases it).
  virtual Status setLinkMaster(const std::string& ns, const std::string& link,
                               const std::string& master) = 0;
  virtual Status setLinkUp(const std::string& ns, const std::string& link, bool up) = 0;
  virtual Status deleteLink(const std::string& ns, const std::string& link) = 0;

  // Addresses (IPv4 and IPv6). IPv6 addresses are added without duplicate address detection, so
  // they are usable at once. Adding the same address twice to a link is AlreadyExists.
  virtual Result<std::vector<InterfaceAddress>> listAddresses(const std::string& ns) = 0;
  virtual Status addAddress(const std::string& ns, const InterfaceAddress& address) = 0;
  virtual Status deleteAddress(const std::string& ns, const InterfaceAddress& address) = 0;

  // Routes (IPv4 and IPv6) of one table. listRoutes returns unicast, local and blackhole routes
  // only (no broadcast/multicast/cache/multipath entries), kernel-made ones marked kernelCreated.
  // One route per destination and table: adding a second with another gateway is AlreadyExists.
  // deleteRoute matches destination, table and type, plus gateway/device when given.
  virtual Result<std::vector<Route>> listRoutes(const std::string& ns, uint32_t table) = 0;
  virtual Status addRoute(const std::string& ns, const Route& route) = 0;
  virtual Status deleteRoute(const std::string& ns, const Route& route) = 0;

  // Policy routing rules (IPv4), "fwmark M lookup T priority P" (mask 0xffffffff). listRules
  // returns only rules of that shape, so the kernel's default local/main/default rules are never
  // listed (and never deleted by a converging applier). Use a non-zero priority.
  virtual Result<std::vector<RoutingRule>> listRules(const std::string& ns) = 0;
  virtual Status addRule(const std::string& ns, const RoutingRule& rule) = 0;
  virtual Status deleteRule(const std::string& ns, const RoutingRule& rule) = 0;

  // Sysctls under /proc/sys/net (the per-namespace part), e.g. "net/ipv4/ip_forward", read and
  // written inside `ns`; other keys are refused (InvalidArgument). Values come back without the
  // trailing newline.
  virtual Result<std::string> getSysctl(const std::string& ns, const std::string& key) = 0;
  virtual Status setSysctl(const std::string& ns, const std::string& key,
                           const std::string& value) = 0;

  // nftables. `commands` is one batch in nft syntax, applied atomically (all or nothing) inside
  // `ns` through libnftables. Errors carry nft's own message; NotFound when nft reports "No such
  // file or directory" (e.g. deleting a missing table), AlreadyExists for "File exists".
  virtual Status nftApply(const std::string& ns, const std::string& commands) = 0;
  // "family name" of every table in `ns`, e.g. "inet plvnet".
  virtual Result<std::vector<std::string>> nftListTables(const std::string& ns) = 0;
  // The table's ruleset as `nft list table` prints it (for diffing and tests).
  virtual Result<std::string> nftListTable(const std::string& ns, const std::string& family,
                                           const std::string& table) = 0;

  // Adds/deletes set or map elements and named counters of one existing table as ONE nf_tables
  // netlink transaction (all or nothing), in the order given, without libnftables and its cache:
  // the cost does not depend on how many elements the table holds. Keys and values are encoded
  // from the set's key/data types as the kernel reports them (ipv4_addr, ipv6_addr, mark,
  // inet_proto, inet_service, their concatenations, counter references); InvalidArgument for
  // anything else or text that does not parse (nothing is changed then: use nftApply). Adding an
  // element that exists with the same value is a no-op; deleting a missing one is NotFound, as
  // in nft.
  virtual Status nftUpdateElements(const std::string& ns, const std::string& family,
                                   const std::string& table,
                                   const std::vector<NftElementChange>& changes) = 0;
  // The nf_tables generation of `ns`: a number the kernel changes on every committed nftables
  // transaction in the namespace (by anyone), and only then; counters counting do not change it.
  // Lets a caller that remembers what it committed tell, in one cheap call, whether anything
  // else touched nftables since.
  virtual Result<uint32_t> nftGeneration(const std::string& ns) = 0;

  // Conntrack: deletes matching entries (IPv4 and IPv6) in `ns`; returns how many (0 is ok).
  virtual Result<int> conntrackDelete(const std::string& ns, const ConntrackFilter& filter) = 0;

  // Per-namespace files under /etc/netns/<ns>/ (bind-mounted over /etc by `privlink nic exec`).
  virtual Status writeNamespaceFile(const std::string& ns, const std::string& name,
                                    const std::string& content) = 0;
  virtual Status removeNamespaceFiles(const std::string& ns) = 0;

  // eBPF fast path (dataplane/bpf/fast_path_maps.h). Each namespace gets its own instance of the
  // BPF object embedded in the binary; its maps are pinned under /sys/fs/bpf/privlink/<ns>/
  // (bpffs is mounted on /sys/fs/bpf when it is not), so programs and maps outlive privlinkd: a
  // restarted privlinkd finds the maps again and attaching again replaces the programs in place
  // (the maps, and the flows they translate, stay). Maps keep their pins when the namespace goes;
  // bpfRemovePinned removes them.
  //
  // Our attachments at tc ingress of every link of `ns` (none when no clsact qdisc).
  virtual Result<std::vector<TcAttachment>> tcListAttachments(const std::string& ns) = 0;
  // Loads the object for `ns` if needed (creating or reusing its pinned maps) and attaches (or
  // replaces) the program on the link. NotFound for an unknown link or program.
  virtual Status tcAttach(const std::string& ns, const TcAttachment& attachment) = 0;
  // Removes our filter from the link's ingress. NotFound when there is none.
  virtual Status tcDetach(const std::string& ns, const std::string& link) = 0;
  // The link's interface index inside `ns` (what the programs compare skb->ingress_ifindex with).
  virtual Result<uint32_t> linkIfindex(const std::string& ns, const std::string& link) = 0;
  // Pinned map `map` of `ns` (PL_FP_MAP_*): keys and values as raw bytes of the structs of
  // fast_path_maps.h. For a per-CPU map a value is one value per possible CPU, each padded to 8
  // bytes, concatenated. NotFound when `ns` has no such pinned map (nothing attached there yet).
  virtual Result<std::map<std::string, std::string>> bpfMapDump(const std::string& ns,
                                                                const std::string& map) = 0;
  virtual Result<std::string> bpfMapLookup(const std::string& ns, const std::string& map,
                                           const std::string& key) = 0;
  // Creates or overwrites one element (for a per-CPU map `value` is one value, written to every
  // CPU).
  virtual Status bpfMapUpdate(const std::string& ns, const std::string& map, const std::string& key,
                              const std::string& value) = 0;
  virtual Status bpfMapDelete(const std::string& ns, const std::string& map,
                              const std::string& key) = 0;
  // Namespaces that have pinned fast path maps (sorted), and removing them (and forgetting the
  // loaded object); removing what is absent is NotFound.
  virtual Result<std::vector<std::string>> bpfListPinned() = 0;
  virtual Status bpfRemovePinned(const std::string& ns) = 0;
};

// The real kernel. Requires CAP_NET_ADMIN and CAP_SYS_ADMIN (root).
std::unique_ptr<Kernel> makeLinuxKernel();

}  // namespace privlink::dataplane
