#pragma once
// HostPlan: the kernel state the agent wants on this host, as plain values. compile() produces it
// from a snapshot without I/O; the Applier diffs it against what the kernel reports and changes
// only the difference. Every item is keyed by its identity (map key), so the diff is a set
// difference. Every item names the store keys it realises (`owners`), so a failed kernel step
// becomes a failure of exactly those resources. Links are always wanted up.
//
// Ownership rule (what the applier may delete): namespaces matching HostNaming::ownsNamespace, and
// inside them every link but `lo`, every IPv4 address outside 127.0.0.0/8, every IPv4 route of the
// main table, and every nft table whose name starts with "pl". Nothing in any other namespace.

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataplane/kernel.h"

namespace privlink::agent {

enum class LinkKind { kLoopback, kBridge, kVeth };
const char* linkKindName(LinkKind kind);

struct PlannedNamespace {
  std::string name;
  std::vector<std::string> owners;
};

struct PlannedLink {
  std::string ns;
  std::string name;
  LinkKind kind = LinkKind::kVeth;
  std::string peerNs;    // veth only: where the other end lives
  std::string peerName;  // veth only
  std::string master;    // bridge to enslave to, "" for none
  std::vector<std::string> owners;
};

struct PlannedAddress {
  std::string ns;
  dataplane::InterfaceAddress address;
  std::vector<std::string> owners;
};

struct PlannedRoute {
  std::string ns;
  // When route.preferredSource is unset, an actual route matches whatever its source.
  dataplane::Route route;
  std::vector<std::string> owners;
};

struct PlannedSysctl {
  std::string ns;
  std::string key;  // "net/ipv4/ip_forward"
  std::string value;
  std::vector<std::string> owners;
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
};

struct PlannedFile {
  std::string ns;
  std::string name;  // "resolv.conf"
  std::string content;
  std::vector<std::string> owners;
};

struct HostPlan {
  std::map<std::string, PlannedNamespace> namespaces;  // by namespaceKey
  std::map<std::string, PlannedLink> links;            // by linkKey
  std::map<std::string, PlannedAddress> addresses;     // by addressKey
  std::map<std::string, PlannedRoute> routes;          // by routeKey
  std::map<std::string, PlannedSysctl> sysctls;        // by sysctlKey
  std::map<std::string, PlannedNftTable> nftTables;    // by nftTableKey
  std::map<std::string, PlannedFile> files;            // by fileKey
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
std::string nftTableKey(const std::string& ns, const std::string& family, const std::string& name);
std::string fileKey(const std::string& ns, const std::string& name);

}  // namespace privlink::agent
