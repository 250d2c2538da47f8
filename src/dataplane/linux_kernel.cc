// The real Kernel (makeLinuxKernel): rtnetlink through a cached libmnl socket per namespace,
// sysctls through /proc/sys inside the namespace, nftables through libnftables and conntrack
// through libnetfilter_conntrack inside the namespace, /etc/netns files on disk.
#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <sstream>

#include "dataplane/conntrack.h"
#include "dataplane/kernel.h"
#include "dataplane/kernel_error.h"
#include "dataplane/kernel_names.h"
#include "dataplane/netlink_socket.h"
#include "dataplane/netns.h"
#include "dataplane/nft_batch.h"
#include "dataplane/nft_context.h"
#include "dataplane/rtnetlink.h"
#include "dataplane/tc_bpf.h"

namespace privlink::dataplane {
namespace {

constexpr const char* kEtcNetnsDir = "/etc/netns";

std::string where(const std::string& ns) { return describeNamespace(ns); }

class LinuxKernel final : public Kernel {
 public:
  Result<std::vector<std::string>> listNamespaces() override { return listPersistentNamespaces(); }

  Status createNamespace(const std::string& ns) override {
    sockets_.erase(ns);
    return createPersistentNamespace(ns);
  }

  Status deleteNamespace(const std::string& ns) override {
    RETURN_IF_ERROR(validateNamespaceName(ns));
    // Deleting the veths first makes their peers in other namespaces vanish now rather than
    // whenever the kernel gets round to freeing this namespace, so a re-create of the same names
    // right after does not collide. Best effort: the unmount below frees them anyway.
    auto links = listLinks(ns);
    if (links.ok()) {
      for (const LinkInfo& link : *links) {
        if (link.kind == "veth") (void)deleteLink(ns, link.name);
      }
    }
    sockets_.erase(ns);  // our cached socket would keep the namespace alive
    return deletePersistentNamespace(ns);
  }

  Result<std::vector<LinkInfo>> listLinks(const std::string& ns) override {
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    ASSIGN_OR_RETURN(std::vector<LinkRecord> records, dumpLinks(*socket, ns));
    std::map<int, std::string> names;
    for (const LinkRecord& r : records) names[r.index] = r.info.name;
    std::vector<LinkInfo> links;
    for (LinkRecord& r : records) {
      if (r.masterIndex != 0) {
        auto it = names.find(r.masterIndex);
        r.info.master = it != names.end() ? it->second : "#" + std::to_string(r.masterIndex);
      }
      links.push_back(std::move(r.info));
    }
    return links;
  }

  Status createVethPair(const std::string& ns, const std::string& name, const std::string& peerNs,
                        const std::string& peerName) override {
    RETURN_IF_ERROR(validateLinkName(name));
    RETURN_IF_ERROR(validateLinkName(peerName));
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    std::string what = "RTM_NEWLINK veth " + name + " (peer " + peerName + " in " + where(peerNs) +
                       ") in " + where(ns);
    if (peerNs == ns) return socket->request(newVethRequest(name, peerName, -1), what);
    ASSIGN_OR_RETURN(NetnsHandle peer,
                     peerNs.empty() ? NetnsHandle::current() : NetnsHandle::open(peerNs));
    return socket->request(newVethRequest(name, peerName, peer.fd()), what);
  }

  Status createBridge(const std::string& ns, const std::string& name) override {
    RETURN_IF_ERROR(validateLinkName(name));
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    return socket->request(newBridgeRequest(name),
                           "RTM_NEWLINK bridge " + name + " in " + where(ns));
  }

  Status setLinkMaster(const std::string& ns, const std::string& link,
                       const std::string& master) override {
    RETURN_IF_ERROR(validateLinkName(link));
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    int masterIndex = 0;
    if (!master.empty()) {
      RETURN_IF_ERROR(validateLinkName(master));
      ASSIGN_OR_RETURN(masterIndex, linkIndex(*socket, ns, master));
    }
    return socket->request(setLinkMasterRequest(link, masterIndex),
                           "RTM_SETLINK " + link + " master " + (master.empty() ? "none" : master) +
                               " in " + where(ns));
  }

  Status setLinkUp(const std::string& ns, const std::string& link, bool up) override {
    RETURN_IF_ERROR(validateLinkName(link));
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    return socket->request(setLinkUpRequest(link, up),
                           "RTM_SETLINK " + link + (up ? " up" : " down") + " in " + where(ns));
  }

  Status deleteLink(const std::string& ns, const std::string& link) override {
    RETURN_IF_ERROR(validateLinkName(link));
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    return socket->request(deleteLinkRequest(link), "RTM_DELLINK " + link + " in " + where(ns));
  }

  Result<std::vector<InterfaceAddress>> listAddresses(const std::string& ns) override {
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    ASSIGN_OR_RETURN(std::vector<LinkRecord> links, dumpLinks(*socket, ns));
    std::map<int, std::string> names;
    for (const LinkRecord& r : links) names[r.index] = r.info.name;
    std::vector<InterfaceAddress> addresses;
    Status parsed;
    RETURN_IF_ERROR(socket->dump(
        dumpAddressesRequest(), "RTM_GETADDR dump in " + where(ns),
        [&](const NetlinkMessageView& m) -> Status {
          ASSIGN_OR_RETURN(std::optional<AddressRecord> r, parseAddress(m));
          if (!r) return Status::Ok();
          auto it = names.find(r->linkIndex);
          InterfaceAddress a;
          a.link = it != names.end() ? it->second : "#" + std::to_string(r->linkIndex);
          a.address = r->address;
          a.prefixLength = r->prefixLength;
          a.kernelCreated = r->kernelCreated;
          addresses.push_back(std::move(a));
          return Status::Ok();
        },
        [&] { addresses.clear(); }));
    return addresses;
  }

  Status addAddress(const std::string& ns, const InterfaceAddress& address) override {
    return modifyAddress(ns, address, true);
  }
  Status deleteAddress(const std::string& ns, const InterfaceAddress& address) override {
    return modifyAddress(ns, address, false);
  }

  Result<std::vector<Route>> listRoutes(const std::string& ns, uint32_t table) override {
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    ASSIGN_OR_RETURN(std::vector<LinkRecord> links, dumpLinks(*socket, ns));
    std::map<int, std::string> names;
    for (const LinkRecord& r : links) names[r.index] = r.info.name;
    std::vector<Route> routes;
    RETURN_IF_ERROR(socket->dump(
        dumpRoutesRequest(), "RTM_GETROUTE dump in " + where(ns),
        [&](const NetlinkMessageView& m) -> Status {
          ASSIGN_OR_RETURN(std::optional<RouteRecord> r, parseRoute(m));
          if (!r || r->route.table != table) return Status::Ok();
          if (r->outputIndex != 0) {
            auto it = names.find(r->outputIndex);
            r->route.device = it != names.end() ? it->second : "#" + std::to_string(r->outputIndex);
          }
          routes.push_back(std::move(r->route));
          return Status::Ok();
        },
        [&] { routes.clear(); }));
    return routes;
  }

  Status addRoute(const std::string& ns, const Route& route) override {
    return modifyRoute(ns, route, true);
  }
  Status deleteRoute(const std::string& ns, const Route& route) override {
    return modifyRoute(ns, route, false);
  }

  Result<std::vector<RoutingRule>> listRules(const std::string& ns) override {
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    std::vector<RoutingRule> rules;
    RETURN_IF_ERROR(socket->dump(
        dumpRulesRequest(), "RTM_GETRULE dump in " + where(ns),
        [&](const NetlinkMessageView& m) -> Status {
          ASSIGN_OR_RETURN(std::optional<RoutingRule> rule, parseRule(m));
          if (rule) rules.push_back(*rule);
          return Status::Ok();
        },
        [&] { rules.clear(); }));
    return rules;
  }

  Status addRule(const std::string& ns, const RoutingRule& rule) override {
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    return socket->request(ruleRequest(true, rule),
                           "RTM_NEWRULE " + describe(rule) + " in " + where(ns));
  }
  Status deleteRule(const std::string& ns, const RoutingRule& rule) override {
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    return socket->request(ruleRequest(false, rule),
                           "RTM_DELRULE " + describe(rule) + " in " + where(ns));
  }

  Result<std::string> getSysctl(const std::string& ns, const std::string& key) override {
    RETURN_IF_ERROR(validateSysctlKey(key));
    std::string what = "read sysctl " + key + " in " + where(ns);
    return inNamespace(ns, [&]() -> Result<std::string> {
      // /proc/sys/net resolves to the namespace of the thread that opens it.
      UniqueFd fd(::open(("/proc/sys/" + key).c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) return kernelError(errno, what);
      std::string value;
      char buffer[4096];
      while (true) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return kernelError(errno, what);
        if (n == 0) break;
        value.append(buffer, static_cast<size_t>(n));
      }
      while (!value.empty() && value.back() == '\n') value.pop_back();
      return value;
    });
  }

  Status setSysctl(const std::string& ns, const std::string& key,
                   const std::string& value) override {
    RETURN_IF_ERROR(validateSysctlKey(key));
    std::string what = "write sysctl " + key + "=" + value + " in " + where(ns);
    return inNamespace(ns, [&]() -> Status {
      UniqueFd fd(::open(("/proc/sys/" + key).c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd.valid()) return kernelError(errno, what);
      ssize_t n = ::write(fd.get(), value.data(), value.size());
      if (n < 0) return kernelError(errno, what);
      if (static_cast<size_t>(n) != value.size()) {
        return Status::Internal(what + ": short write");
      }
      return Status::Ok();
    });
  }

  Status nftApply(const std::string& ns, const std::string& commands) override {
    return inNamespace(ns, [&]() -> Status {
      ASSIGN_OR_RETURN(NftContext nft, NftContext::create());
      return nft.run(commands, "nft transaction in " + where(ns)).status();
    });
  }

  Result<std::vector<std::string>> nftListTables(const std::string& ns) override {
    // Raw NFT_MSG_GETTABLE: `nft list tables` would first dump every set element into the
    // libnftables cache.
    return inNamespace(ns, [&]() -> Result<std::vector<std::string>> {
      return nftTableNamesHere("nft list tables in " + where(ns));
    });
  }

  Status nftUpdateElements(const std::string& ns, const std::string& family,
                           const std::string& table,
                           const std::vector<NftElementChange>& changes) override {
    return inNamespace(ns, [&]() -> Status {
      return nftUpdateElementsHere(
          family, table, changes,
          "nft element transaction in " + family + " " + table + " in " + where(ns));
    });
  }

  Result<uint32_t> nftGeneration(const std::string& ns) override {
    return inNamespace(ns, [&]() -> Result<uint32_t> {
      return nftGenerationHere("nft generation in " + where(ns));
    });
  }

  Result<std::string> nftListTable(const std::string& ns, const std::string& family,
                                   const std::string& table) override {
    RETURN_IF_ERROR(validateNftFamily(family));
    RETURN_IF_ERROR(validatePlainName(table, "nft table name"));
    return inNamespace(ns, [&]() -> Result<std::string> {
      ASSIGN_OR_RETURN(NftContext nft, NftContext::create());
      return nft.run("list table " + family + " " + table,
                     "nft list table " + family + " " + table + " in " + where(ns));
    });
  }

  Result<int> conntrackDelete(const std::string& ns, const ConntrackFilter& filter) override {
    return inNamespace(ns, [&]() -> Result<int> {
      return deleteConntrackEntries(filter, "conntrack delete in " + where(ns));
    });
  }

  Status writeNamespaceFile(const std::string& ns, const std::string& name,
                            const std::string& content) override {
    RETURN_IF_ERROR(validateNamespaceName(ns));
    RETURN_IF_ERROR(validatePlainName(name, "namespace file name"));
    namespace fs = std::filesystem;
    fs::path dir = fs::path(kEtcNetnsDir) / ns;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return kernelError(ec.value(), "mkdir " + dir.string());
    // Write-then-rename: a process starting in the namespace never sees half a resolv.conf.
    fs::path target = dir / name;
    fs::path temp = dir / ("." + name + ".tmp");
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return kernelError(errno, "write " + temp.string());
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::unlink(temp.c_str());
        return kernelError(err, "write " + temp.string());
      }
      done += static_cast<size_t>(n);
    }
    fd.reset();
    if (::rename(temp.c_str(), target.c_str()) != 0) {
      int err = errno;
      ::unlink(temp.c_str());
      return kernelError(err, "rename " + temp.string() + " to " + target.string());
    }
    return Status::Ok();
  }

  Status removeNamespaceFiles(const std::string& ns) override {
    RETURN_IF_ERROR(validateNamespaceName(ns));
    namespace fs = std::filesystem;
    fs::path dir = fs::path(kEtcNetnsDir) / ns;
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
      return Status::NotFound("KernelObjectNotFound", dir.string() + " does not exist");
    }
    fs::remove_all(dir, ec);
    if (ec) return kernelError(ec.value(), "remove " + dir.string());
    return Status::Ok();
  }

  Result<std::vector<TcAttachment>> tcListAttachments(const std::string& ns) override {
    RETURN_IF_ERROR(validateNamespaceName(ns));
    return inNamespace(ns, [&] { return bpf_.listAttachmentsHere(ns); });
  }
  Status tcAttach(const std::string& ns, const TcAttachment& attachment) override {
    RETURN_IF_ERROR(validateNamespaceName(ns));
    return inNamespace(ns, [&] { return bpf_.attachHere(ns, attachment); });
  }
  Status tcDetach(const std::string& ns, const std::string& link) override {
    RETURN_IF_ERROR(validateNamespaceName(ns));
    return inNamespace(ns, [&] { return bpf_.detachHere(ns, link); });
  }
  Result<uint32_t> linkIfindex(const std::string& ns, const std::string& link) override {
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    ASSIGN_OR_RETURN(int index, linkIndex(*socket, ns, link));
    return static_cast<uint32_t>(index);
  }
  Result<std::map<std::string, std::string>> bpfMapDump(const std::string& ns,
                                                        const std::string& map) override {
    return bpf_.dump(ns, map);
  }
  Result<std::string> bpfMapLookup(const std::string& ns, const std::string& map,
                                   const std::string& key) override {
    return bpf_.lookup(ns, map, key);
  }
  Status bpfMapUpdate(const std::string& ns, const std::string& map, const std::string& key,
                      const std::string& value) override {
    return bpf_.update(ns, map, key, value);
  }
  Status bpfMapDelete(const std::string& ns, const std::string& map,
                      const std::string& key) override {
    return bpf_.erase(ns, map, key);
  }
  Result<std::vector<std::string>> bpfListPinned() override { return bpf_.listPinned(); }
  Status bpfRemovePinned(const std::string& ns) override { return bpf_.removePinned(ns); }

 private:
  TcBpf bpf_;
  struct CachedSocket {
    dev_t device;
    ino_t inode;
    NetlinkSocket socket;
  };

  // The NETLINK_ROUTE socket bound inside `ns`, opened on first use and reused while
  // /run/netns/<ns> still names the same namespace (checked by inode on every call, so a
  // namespace deleted and re-created behind our back gets a fresh socket).
  Result<NetlinkSocket*> routeSocket(const std::string& ns) {
    if (ns.empty()) {
      auto it = sockets_.find(ns);
      if (it == sockets_.end()) {
        ASSIGN_OR_RETURN(NetlinkSocket socket, NetlinkSocket::open(NETLINK_ROUTE));
        it = sockets_.emplace(ns, CachedSocket{0, 0, std::move(socket)}).first;
      }
      return &it->second.socket;
    }
    ASSIGN_OR_RETURN(NetnsHandle handle, NetnsHandle::open(ns));
    auto it = sockets_.find(ns);
    if (it != sockets_.end() && it->second.device == handle.device() &&
        it->second.inode == handle.inode()) {
      return &it->second.socket;
    }
    if (it != sockets_.end()) sockets_.erase(it);
    ASSIGN_OR_RETURN(NamespaceGuard guard, NamespaceGuard::enter(handle));
    ASSIGN_OR_RETURN(NetlinkSocket socket, NetlinkSocket::open(NETLINK_ROUTE));
    it = sockets_.emplace(ns, CachedSocket{handle.device(), handle.inode(), std::move(socket)})
             .first;
    return &it->second.socket;
  }

  // Runs `body` with the calling thread inside `ns` ("" = where we are).
  template <typename Body>
  auto inNamespace(const std::string& ns, Body&& body) -> decltype(body()) {
    if (ns.empty()) return body();
    ASSIGN_OR_RETURN(NetnsHandle handle, NetnsHandle::open(ns));
    ASSIGN_OR_RETURN(NamespaceGuard guard, NamespaceGuard::enter(handle));
    return body();
  }

  Result<std::vector<LinkRecord>> dumpLinks(NetlinkSocket& socket, const std::string& ns) {
    std::vector<LinkRecord> records;
    RETURN_IF_ERROR(socket.dump(
        dumpLinksRequest(), "RTM_GETLINK dump in " + where(ns),
        [&](const NetlinkMessageView& m) -> Status {
          ASSIGN_OR_RETURN(LinkRecord record, parseLink(m));
          records.push_back(std::move(record));
          return Status::Ok();
        },
        [&] { records.clear(); }));
    return records;
  }

  Result<int> linkIndex(NetlinkSocket& socket, const std::string& ns, const std::string& link) {
    int index = 0;
    RETURN_IF_ERROR(socket.request(getLinkRequest(link), "link " + link + " in " + where(ns),
                                   [&](const NetlinkMessageView& m) -> Status {
                                     ASSIGN_OR_RETURN(LinkRecord record, parseLink(m));
                                     index = record.index;
                                     return Status::Ok();
                                   }));
    if (index <= 0)
      return Status::Internal("RTM_GETLINK " + link + " in " + where(ns) +
                              ": the kernel sent no link");
    return index;
  }

  Status modifyAddress(const std::string& ns, const InterfaceAddress& address, bool add) {
    RETURN_IF_ERROR(validateInterfaceAddress(address));
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    ASSIGN_OR_RETURN(int index, linkIndex(*socket, ns, address.link));
    std::string what =
        std::string(add ? "RTM_NEWADDR " : "RTM_DELADDR ") + describe(address) + " in " + where(ns);
    return socket->request(addressRequest(add, index, address.address, address.prefixLength), what);
  }

  Status modifyRoute(const std::string& ns, const Route& route, bool add) {
    RETURN_IF_ERROR(validateRoute(route));
    ASSIGN_OR_RETURN(NetlinkSocket * socket, routeSocket(ns));
    int index = 0;
    if (!route.device.empty()) {
      ASSIGN_OR_RETURN(index, linkIndex(*socket, ns, route.device));
    }
    std::string what =
        std::string(add ? "RTM_NEWROUTE " : "RTM_DELROUTE ") + describe(route) + " in " + where(ns);
    return socket->request(routeRequest(add, route, index), what);
  }

  std::map<std::string, CachedSocket> sockets_;
};

}  // namespace

std::unique_ptr<Kernel> makeLinuxKernel() { return std::make_unique<LinuxKernel>(); }

}  // namespace privlink::dataplane
