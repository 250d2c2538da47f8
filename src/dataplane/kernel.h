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
  std::string kind{};   // "veth", "bridge", "loopback", ... ("" when the kernel says none)
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
  std::optional<IpAddress> replySource{};
  std::optional<uint16_t> zone{};
};

class Kernel {
 public:
  virtual ~Kernel() = default;

  // Namespaces.
  virtual Result<std::vector<std::string>> listNamespaces() = 0;
  virtual Status createNamespace(const std::string& ns) = 0;
  virtual Status deleteNamespace(const std::string& ns) = 0;

  // Links.
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

  // Addresses.
  virtual Result<std::vector<InterfaceAddress>> listAddresses(const std::string& ns) = 0;
  virtual Status addAddress(const std::string& ns, const InterfaceAddress& address) = 0;
  virtual Status deleteAddress(const std::string& ns, const InterfaceAddress& address) = 0;

  // Routes (IPv4 and IPv6) of one table.
  virtual Result<std::vector<Route>> listRoutes(const std::string& ns, uint32_t table) = 0;
  virtual Status addRoute(const std::string& ns, const Route& route) = 0;
  virtual Status deleteRoute(const std::string& ns, const Route& route) = 0;

  // Policy routing rules (IPv4).
  virtual Result<std::vector<RoutingRule>> listRules(const std::string& ns) = 0;
  virtual Status addRule(const std::string& ns, const RoutingRule& rule) = 0;
  virtual Status deleteRule(const std::string& ns, const RoutingRule& rule) = 0;

  // Sysctls under /proc/sys, e.g. "net/ipv4/ip_forward", read and written inside `ns`.
  virtual Result<std::string> getSysctl(const std::string& ns, const std::string& key) = 0;
  virtual Status setSysctl(const std::string& ns, const std::string& key,
                           const std::string& value) = 0;

  // nftables. `commands` is one batch in nft syntax, applied atomically (all or nothing) inside
  // `ns` through libnftables.
  virtual Status nftApply(const std::string& ns, const std::string& commands) = 0;
  // "family name" of every table in `ns`, e.g. "inet plvnet".
  virtual Result<std::vector<std::string>> nftListTables(const std::string& ns) = 0;
  // The table's ruleset as `nft list table` prints it (for diffing and tests).
  virtual Result<std::string> nftListTable(const std::string& ns, const std::string& family,
                                           const std::string& table) = 0;

  // Conntrack: deletes matching entries in `ns`; returns how many.
  virtual Result<int> conntrackDelete(const std::string& ns, const ConntrackFilter& filter) = 0;

  // Per-namespace files under /etc/netns/<ns>/ (bind-mounted over /etc by `privlink nic exec`).
  virtual Status writeNamespaceFile(const std::string& ns, const std::string& name,
                                    const std::string& content) = 0;
  virtual Status removeNamespaceFiles(const std::string& ns) = 0;
};

// The real kernel. Requires CAP_NET_ADMIN and CAP_SYS_ADMIN (root).
std::unique_ptr<Kernel> makeLinuxKernel();

}  // namespace privlink::dataplane
