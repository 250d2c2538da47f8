#pragma once
// FakeKernel: an in-memory dataplane::Kernel for unit and golden tests of the agent, no root
// needed (STYLE.md "Kernel handles and side effects"; leveldb FaultInjectionTestEnv).
//
// It enforces the real kernel's contract (dataplane/kernel.h): the same input validation
// (InvalidArgument), AlreadyExists for creating what exists, NotFound for touching what is absent,
// and the side effects an applier must plan around:
//   - a new namespace holds only `lo`, down; the host namespace "" holds `lo`, up;
//   - deleting one end of a veth deletes the peer; deleting a namespace deletes the peers of its
//     veths; deleting a bridge releases its ports;
//   - an up link with a global address gets the connected route (kernelCreated, table 254, with
//     src for IPv4); `lo` up shows 127.0.0.1/8 and ::1/128 (kernelCreated);
//   - an IPv4 route via a gateway needs a connected route to it on an up link (else ENETUNREACH,
//     ENETDOWN if its device is down), an IPv4 preferred source must be a local address (EINVAL);
//   - taking a link down or deleting it removes the routes through it, and taking it down
//     removes its IPv6 addresses (Linux's default); deleting an address removes the routes that
//     use it as source;
//   - two routes with the same destination in one table collide (EEXIST), whatever the gateway;
//   - sysctl keys must exist: net/ipv4/ip_forward and friends are preset, per-link keys
//     (net/ipv{4,6}/conf/<link>/...) exist for existing links, any other key under net/ exists
//     once set (so tests can preset what the real kernel has);
//   - nftApply is one transaction: the whole batch applies or nothing does (see nftApply below);
//   - conntrack entries are added by tests (addConntrackEntry) and removed by conntrackDelete.
// Link local IPv6 addresses (fe80::/64) and routes other than the connected ones are not modelled.
//
// Every mutating call is recorded in order as one line of text (calls()), with " => <code>"
// appended when it failed, for golden tests. Failures can be injected on the Nth call of an
// operation. Not thread-safe, like the real one.

#include <map>
#include <string>
#include <vector>

#include "dataplane/conntrack.h"
#include "dataplane/kernel.h"

namespace privlink::testing {

class FakeKernel : public dataplane::Kernel {
 public:
  FakeKernel();

  // ---- dataplane::Kernel ----
  Result<std::vector<std::string>> listNamespaces() override;
  Status createNamespace(const std::string& ns) override;
  Status deleteNamespace(const std::string& ns) override;
  Result<std::vector<dataplane::LinkInfo>> listLinks(const std::string& ns) override;
  Status createVethPair(const std::string& ns, const std::string& name, const std::string& peerNs,
                        const std::string& peerName) override;
  Status createBridge(const std::string& ns, const std::string& name) override;
  Status setLinkMaster(const std::string& ns, const std::string& link,
                       const std::string& master) override;
  Status setLinkUp(const std::string& ns, const std::string& link, bool up) override;
  Status deleteLink(const std::string& ns, const std::string& link) override;
  Result<std::vector<dataplane::InterfaceAddress>> listAddresses(const std::string& ns) override;
  Status addAddress(const std::string& ns, const dataplane::InterfaceAddress& address) override;
  Status deleteAddress(const std::string& ns, const dataplane::InterfaceAddress& address) override;
  Result<std::vector<dataplane::Route>> listRoutes(const std::string& ns, uint32_t table) override;
  Status addRoute(const std::string& ns, const dataplane::Route& route) override;
  Status deleteRoute(const std::string& ns, const dataplane::Route& route) override;
  Result<std::vector<dataplane::RoutingRule>> listRules(const std::string& ns) override;
  Status addRule(const std::string& ns, const dataplane::RoutingRule& rule) override;
  Status deleteRule(const std::string& ns, const dataplane::RoutingRule& rule) override;
  Result<std::string> getSysctl(const std::string& ns, const std::string& key) override;
  Status setSysctl(const std::string& ns, const std::string& key,
                   const std::string& value) override;
  // Understands the top-level commands an applier sends, each on its own line or `;`-separated,
  // `{...}` bodies may span lines, `#` starts a comment:
  //   [add] table F N [{ body }]   create the table or merge `body` into it
  //   create table F N [{ body }]  AlreadyExists if it exists
  //   delete table F N             NotFound if absent      destroy table F N   never fails
  //   flush table F N              empties it (NotFound if absent)
  //   flush ruleset                removes every table
  //   add|insert|create|replace|delete|flush <chain|rule|set|map|element|...> F N ...
  //                                appended to table F N's text (NotFound if the table is absent)
  // F defaults to ip when omitted, as in nft. Anything else is a syntax error (Internal, with
  // "syntax error" in the message). A table's text is the bodies and commands applied to it since
  // it was created, one per line, not nft's pretty-printed form.
  Status nftApply(const std::string& ns, const std::string& commands) override;
  Result<std::vector<std::string>> nftListTables(const std::string& ns) override;
  // "table F N {\n<text>}\n".
  Result<std::string> nftListTable(const std::string& ns, const std::string& family,
                                   const std::string& table) override;
  // Applies the changes to table F N's text as the nft command lines they stand for ("add element
  // F N S { k : v }", "delete counter F N k", ...), all or nothing; recorded as
  // "nftUpdateElements <ns> F N" followed by those lines. NotFound when the table is absent,
  // InvalidArgument for an element without a key or a counter with a value. Like nftApply it does
  // not check that a deleted element exists.
  Status nftUpdateElements(const std::string& ns, const std::string& family,
                           const std::string& table,
                           const std::vector<dataplane::NftElementChange>& changes) override;
  // Starts at 1 in a new namespace; +1 for every successful nftApply or nftUpdateElements there.
  Result<uint32_t> nftGeneration(const std::string& ns) override;
  Result<int> conntrackDelete(const std::string& ns,
                              const dataplane::ConntrackFilter& filter) override;
  Status writeNamespaceFile(const std::string& ns, const std::string& name,
                            const std::string& content) override;
  Status removeNamespaceFiles(const std::string& ns) override;
  // The fast path: attachments live on links (gone with the link); pinned maps are per namespace
  // name and outlive it, as on bpffs. tcAttach creates the pins of `ns` (all maps of
  // fast_path_maps.h, empty) when absent. Key and value sizes are checked against the structs.
  // The per-CPU map (pl_stats) has kFakeCpus CPUs: a value reads back as kFakeCpus copies.
  // linkIfindex is the fake link index.
  Result<std::vector<dataplane::TcAttachment>> tcListAttachments(const std::string& ns) override;
  Status tcAttach(const std::string& ns, const dataplane::TcAttachment& attachment) override;
  Status tcDetach(const std::string& ns, const std::string& link) override;
  Result<uint32_t> linkIfindex(const std::string& ns, const std::string& link) override;
  Result<std::map<std::string, std::string>> bpfMapDump(const std::string& ns,
                                                        const std::string& map) override;
  Result<std::string> bpfMapLookup(const std::string& ns, const std::string& map,
                                   const std::string& key) override;
  Status bpfMapUpdate(const std::string& ns, const std::string& map, const std::string& key,
                      const std::string& value) override;
  Status bpfMapDelete(const std::string& ns, const std::string& map,
                      const std::string& key) override;
  Result<std::vector<std::string>> bpfListPinned() override;
  Status bpfRemovePinned(const std::string& ns) override;

  // ---- Test controls ----

  static constexpr int kFakeCpus = 2;
  // Sets the raw bytes of an element as the kernel would hold them (for a per-CPU map: all CPUs'
  // values, as bpfMapDump returns them), as the BPF programs would by counting. The pins of `ns`
  // must exist.
  void setBpfElementRaw(const std::string& ns, const std::string& map, const std::string& key,
                        const std::string& raw);

  // Mutating calls so far, e.g. "createVethPair plv-1 va plv-2 vb",
  // "addRoute plv-1 unicast 10.1.0.0/16 via 10.0.0.1 dev va table 254",
  // "deleteLink plv-1 va => NotFound". The host namespace is written "<host>". nftApply and
  // writeNamespaceFile records end with the full commands / content after a newline.
  const std::vector<std::string>& calls() const { return calls_; }
  void clearCalls() { calls_.clear(); }

  // The `nth` (1-based, counted from now) call of `operation` (a Kernel method name such as
  // "addRoute" or "listLinks") fails with kernelError(`err`) — AlreadyExists for EEXIST, NotFound
  // for ENOENT/ENODEV/ESRCH, Internal for EPERM, EBUSY, ... — and changes nothing. Injections for
  // the same operation are independent; each fires once.
  void injectFailure(const std::string& operation, int nth, int err);

  // Adds a conntrack entry to `ns` (which must exist) for conntrackDelete to find.
  void addConntrackEntry(const std::string& ns, const dataplane::ConntrackTuple& entry);
  int conntrackCount(const std::string& ns) const;
  // Content of /etc/netns/<ns>/<name>, nullopt if absent.
  std::optional<std::string> namespaceFile(const std::string& ns, const std::string& name) const;
  bool hasNamespace(const std::string& ns) const { return namespaces_.count(ns) != 0; }

 private:
  struct Link {
    int index = 0;
    dataplane::LinkInfo info;
    std::string peerNs;  // veth only
    std::string peerName;
    std::string tcProgram;  // fast path program at tc ingress, "" for none
  };
  struct NftTable {
    std::string text;
  };
  struct Namespace {
    std::vector<Link> links;
    std::vector<dataplane::InterfaceAddress> addresses;  // global ones added by callers
    std::vector<dataplane::Route> routes;
    std::vector<dataplane::RoutingRule> rules;
    std::map<std::string, std::string> sysctls;
    std::map<std::string, NftTable> nftTables;  // key "family name"
    uint32_t nftGeneration = 1;
    std::vector<dataplane::ConntrackTuple> conntrack;
  };
  struct Injection {
    std::string operation;
    int remaining;
    int err;
  };

  // Counts the call against injections; non-ok if one fires.
  Status injected(const std::string& operation, const std::string& what);
  Status record(const std::string& call, Status status);
  Result<Namespace*> find(const std::string& ns);
  Link* findLink(Namespace& n, const std::string& name);
  Namespace makeNamespace(bool host);
  std::vector<dataplane::InterfaceAddress> allAddresses(const Namespace& n) const;
  std::vector<dataplane::Route> connectedRoutes(const Namespace& n) const;
  // Removes a link and what the kernel removes with it (peer, enslavements, addresses, routes).
  void removeLink(Namespace& n, const std::string& name);
  void dropRoutesVia(Namespace& n, const std::string& device);
  Status doDeleteLink(const std::string& ns, const std::string& link);

  std::map<std::string, Namespace> namespaces_;
  std::map<std::string, std::map<std::string, std::string>> files_;
  // Pinned fast path maps: namespace -> map -> key -> raw value.
  std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> bpf_pins_;
  Result<std::map<std::string, std::string>*> pinnedMap(const std::string& ns,
                                                        const std::string& map);
  std::vector<std::string> calls_;
  std::vector<Injection> injections_;
  int nextIndex_ = 1;
  int nextMac_ = 1;
};

}  // namespace privlink::testing
