// FakeKernel: in-memory namespaces, links, addresses, routes, rules, sysctls, nft tables,
// conntrack entries and /etc/netns files with the real kernel's error semantics.
#include "testing/fake_kernel.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <sstream>

#include "dataplane/bpf/fast_path_maps.h"
#include "dataplane/kernel_error.h"
#include "dataplane/kernel_names.h"
#include "dataplane/netns.h"
#include "dataplane/nft_batch.h"
#include "dataplane/rtnetlink.h"

namespace privlink::testing {

using dataplane::ConntrackFilter;
using dataplane::InterfaceAddress;
using dataplane::kernelError;
using dataplane::LinkInfo;
using dataplane::Route;
using dataplane::RouteType;
using dataplane::RoutingRule;

namespace {

std::string nsText(const std::string& ns) { return ns.empty() ? "<host>" : ns; }

const char* kDefaultSysctls[][2] = {
    {"net/ipv4/ip_forward", "0"},
    {"net/ipv4/ip_nonlocal_bind", "0"},
    {"net/ipv6/ip_nonlocal_bind", "0"},
    {"net/ipv4/conf/all/forwarding", "0"},
    {"net/ipv4/conf/default/forwarding", "0"},
    {"net/ipv4/conf/all/rp_filter", "0"},
    {"net/ipv4/conf/default/rp_filter", "0"},
    {"net/ipv4/conf/all/proxy_arp", "0"},
    {"net/ipv4/conf/all/route_localnet", "0"},
    {"net/ipv4/conf/all/accept_local", "0"},
    {"net/ipv4/conf/all/send_redirects", "1"},
    {"net/ipv4/conf/default/send_redirects", "1"},
    {"net/ipv6/conf/all/forwarding", "0"},
    {"net/ipv6/conf/default/forwarding", "0"},
    {"net/ipv6/conf/all/disable_ipv6", "0"},
    {"net/ipv6/conf/default/disable_ipv6", "0"},
    {"net/ipv6/conf/all/accept_dad", "1"},
    {"net/ipv6/conf/default/accept_dad", "1"},
};

// For "net/ipv4/conf/<link>/x" and "net/ipv6/conf/<link>/x": the link name, else "".
std::string perLinkSysctl(const std::string& key) {
  for (const char* base : {"net/ipv4/conf/", "net/ipv6/conf/"}) {
    std::string b = base;
    if (key.rfind(b, 0) != 0) continue;
    size_t slash = key.find('/', b.size());
    if (slash == std::string::npos) return "";
    std::string link = key.substr(b.size(), slash - b.size());
    return (link == "all" || link == "default") ? "" : link;
  }
  return "";
}

// ---- A small reader for the nft batches an applier writes ----

bool isFamily(const std::string& token) { return dataplane::validateNftFamily(token).ok(); }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

struct NftCommand {
  std::vector<std::string> head;  // tokens before the first '{'
  std::string body;               // inside the outermost braces, trimmed ("" if none)
  bool hasBody = false;
  std::string text;  // the whole command, trimmed
};

// Splits at newlines and ';' outside braces and quotes; drops comments. Error on unbalanced
// braces or quotes.
Result<std::vector<NftCommand>> splitNft(const std::string& batch) {
  std::vector<std::string> pieces;
  std::string current;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    char c = batch[i];
    if (quoted) {
      current += c;
      if (c == '"') quoted = false;
      continue;
    }
    if (c == '#') {
      while (i + 1 < batch.size() && batch[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '"') quoted = true;
    if (c == '{') ++depth;
    if (c == '}' && --depth < 0) break;
    if (depth == 0 && (c == '\n' || c == ';')) {
      pieces.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  if (depth != 0 || quoted) {
    return Status::Internal("nft: Error: syntax error, unbalanced braces or quotes");
  }
  pieces.push_back(current);
  std::vector<NftCommand> commands;
  for (const std::string& piece : pieces) {
    NftCommand command;
    command.text = trim(piece);
    if (command.text.empty()) continue;
    size_t brace = command.text.find('{');
    std::istringstream head(command.text.substr(0, brace));
    std::string token;
    while (head >> token) command.head.push_back(token);
    if (brace != std::string::npos) {
      size_t close = command.text.rfind('}');
      command.hasBody = true;
      command.body = trim(command.text.substr(brace + 1, close - brace - 1));
    }
    commands.push_back(std::move(command));
  }
  return commands;
}

// "F N" from tokens at `at` (F defaults to ip); "" if the tokens do not name a table.
std::string tableKey(const std::vector<std::string>& head, size_t at) {
  if (at < head.size() && isFamily(head[at])) {
    return at + 1 < head.size() ? head[at] + " " + head[at + 1] : "";
  }
  return at < head.size() ? "ip " + head[at] : "";
}

}  // namespace

FakeKernel::FakeKernel() { namespaces_[""] = makeNamespace(true); }

FakeKernel::Namespace FakeKernel::makeNamespace(bool host) {
  Namespace n;
  Link lo;
  lo.index = 1;
  lo.info.name = "lo";
  lo.info.kind = "loopback";
  lo.info.up = host;
  lo.info.mtu = 65536;
  lo.info.macAddress = "00:00:00:00:00:00";
  n.links.push_back(lo);
  for (const auto& [key, value] : kDefaultSysctls) n.sysctls[key] = value;
  return n;
}

// ---- Bookkeeping ----

Status FakeKernel::injected(const std::string& operation, const std::string& what) {
  bool fire = false;
  int err = 0;
  for (auto it = injections_.begin(); it != injections_.end();) {
    if (it->operation == operation && --it->remaining == 0) {
      if (!fire) err = it->err;
      fire = true;
      it = injections_.erase(it);
    } else {
      ++it;
    }
  }
  if (fire) return kernelError(err, what + " (injected)");
  return Status::Ok();
}

void FakeKernel::injectFailure(const std::string& operation, int nth, int err) {
  injections_.push_back(Injection{operation, std::max(nth, 1), err});
}

Status FakeKernel::record(const std::string& call, Status status) {
  std::string line = call;
  if (!status.ok()) {
    size_t newline = line.find('\n');
    std::string suffix = std::string(" => ") + statusCodeName(status.code());
    if (newline == std::string::npos) {
      line += suffix;
    } else {
      line.insert(newline, suffix);
    }
  }
  calls_.push_back(std::move(line));
  return status;
}

Result<FakeKernel::Namespace*> FakeKernel::find(const std::string& ns) {
  if (!ns.empty()) RETURN_IF_ERROR(dataplane::validateNamespaceName(ns));
  auto it = namespaces_.find(ns);
  if (it == namespaces_.end()) {
    return Status::NotFound("KernelObjectNotFound",
                            "network namespace " + ns + " does not exist (/run/netns/" + ns + ")");
  }
  return &it->second;
}

FakeKernel::Link* FakeKernel::findLink(Namespace& n, const std::string& name) {
  for (Link& l : n.links) {
    if (l.info.name == name) return &l;
  }
  return nullptr;
}

std::vector<InterfaceAddress> FakeKernel::allAddresses(const Namespace& n) const {
  std::vector<InterfaceAddress> out;
  for (const Link& l : n.links) {
    if (l.info.kind == "loopback" && l.info.up) {
      out.push_back({"lo", *IpAddress::parse("127.0.0.1"), 8, true});
      out.push_back({"lo", *IpAddress::parse("::1"), 128, true});
    }
  }
  out.insert(out.end(), n.addresses.begin(), n.addresses.end());
  return out;
}

std::vector<Route> FakeKernel::connectedRoutes(const Namespace& n) const {
  std::vector<Route> out;
  for (const InterfaceAddress& a : n.addresses) {
    bool up = false;
    for (const Link& l : n.links) up = up || (l.info.name == a.link && l.info.up);
    if (!up) continue;
    Route r;
    r.destination = IpPrefix::of(a.address, a.prefixLength);
    r.device = a.link;
    if (a.address.isV4()) r.preferredSource = a.address;
    r.kernelCreated = true;
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

void FakeKernel::dropRoutesVia(Namespace& n, const std::string& device) {
  std::erase_if(n.routes, [&](const Route& r) { return r.device == device; });
}

void FakeKernel::removeLink(Namespace& n, const std::string& name) {
  for (Link& l : n.links) {
    if (l.info.master == name) l.info.master.clear();
  }
  std::erase_if(n.addresses, [&](const InterfaceAddress& a) { return a.link == name; });
  dropRoutesVia(n, name);
  for (auto it = n.sysctls.begin(); it != n.sysctls.end();) {
    it = perLinkSysctl(it->first) == name ? n.sysctls.erase(it) : std::next(it);
  }
  std::erase_if(n.links, [&](const Link& l) { return l.info.name == name; });
}

// ---- Namespaces ----

Result<std::vector<std::string>> FakeKernel::listNamespaces() {
  RETURN_IF_ERROR(injected("listNamespaces", "list namespaces"));
  std::vector<std::string> names;
  for (const auto& [name, n] : namespaces_) {
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

Status FakeKernel::createNamespace(const std::string& ns) {
  std::string call = "createNamespace " + ns;
  std::string what = "create network namespace " + ns;
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateNamespaceName(ns));
    RETURN_IF_ERROR(injected("createNamespace", what));
    if (namespaces_.count(ns)) return kernelError(EEXIST, what);
    namespaces_[ns] = makeNamespace(false);
    return Status::Ok();
  }());
}

Status FakeKernel::deleteNamespace(const std::string& ns) {
  std::string call = "deleteNamespace " + ns;
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateNamespaceName(ns));
    RETURN_IF_ERROR(injected("deleteNamespace", "delete network namespace " + ns));
    auto found = find(ns);
    if (!found.ok()) return found.status();
    for (const Link& l : (*found)->links) {
      if (l.info.kind == "veth" && l.peerNs != ns && namespaces_.count(l.peerNs)) {
        removeLink(namespaces_[l.peerNs], l.peerName);
      }
    }
    namespaces_.erase(ns);
    return Status::Ok();
  }());
}

// ---- Links ----

Result<std::vector<LinkInfo>> FakeKernel::listLinks(const std::string& ns) {
  RETURN_IF_ERROR(injected("listLinks", "RTM_GETLINK dump in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  std::vector<LinkInfo> out;
  for (const Link& l : n->links) out.push_back(l.info);
  return out;
}

Status FakeKernel::createVethPair(const std::string& ns, const std::string& name,
                                  const std::string& peerNs, const std::string& peerName) {
  std::string call =
      "createVethPair " + nsText(ns) + " " + name + " " + nsText(peerNs) + " " + peerName;
  std::string what = "RTM_NEWLINK veth " + name + " (peer " + peerName + " in " +
                     dataplane::describeNamespace(peerNs) + ") in " +
                     dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateLinkName(name));
    RETURN_IF_ERROR(dataplane::validateLinkName(peerName));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    auto p = find(peerNs);
    if (!p.ok()) return p.status();
    RETURN_IF_ERROR(injected("createVethPair", what));
    if (findLink(**n, name) || findLink(**p, peerName) || (ns == peerNs && name == peerName)) {
      return kernelError(EEXIST, what);
    }
    auto make = [&](const std::string& linkName, const std::string& otherNs,
                    const std::string& otherName) {
      Link l;
      l.index = ++nextIndex_;
      l.info.name = linkName;
      l.info.kind = "veth";
      l.info.mtu = 1500;
      char mac[18];
      int id = nextMac_++;
      std::snprintf(mac, sizeof mac, "02:00:00:%02x:%02x:%02x", (id >> 16) & 0xff, (id >> 8) & 0xff,
                    id & 0xff);
      l.info.macAddress = mac;
      l.peerNs = otherNs;
      l.peerName = otherName;
      return l;
    };
    (*n)->links.push_back(make(name, peerNs, peerName));
    (*p)->links.push_back(make(peerName, ns, name));
    return Status::Ok();
  }());
}

Status FakeKernel::createBridge(const std::string& ns, const std::string& name) {
  std::string call = "createBridge " + nsText(ns) + " " + name;
  std::string what = "RTM_NEWLINK bridge " + name + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateLinkName(name));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("createBridge", what));
    if (findLink(**n, name)) return kernelError(EEXIST, what);
    Link l;
    l.index = ++nextIndex_;
    l.info.name = name;
    l.info.kind = "bridge";
    l.info.mtu = 1500;
    char mac[18];
    int id = nextMac_++;
    std::snprintf(mac, sizeof mac, "02:00:00:%02x:%02x:%02x", (id >> 16) & 0xff, (id >> 8) & 0xff,
                  id & 0xff);
    l.info.macAddress = mac;
    (*n)->links.push_back(l);
    return Status::Ok();
  }());
}

Status FakeKernel::setLinkMaster(const std::string& ns, const std::string& link,
                                 const std::string& master) {
  std::string call =
      "setLinkMaster " + nsText(ns) + " " + link + " " + (master.empty() ? "none" : master);
  std::string where = " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateLinkName(link));
    if (!master.empty()) RETURN_IF_ERROR(dataplane::validateLinkName(master));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("setLinkMaster", "RTM_SETLINK " + link + " master " + master + where));
    if (!master.empty()) {
      Link* m = findLink(**n, master);
      if (!m) return kernelError(ENODEV, "link " + master + where);
      if (m->info.kind != "bridge") {
        return kernelError(EOPNOTSUPP,
                           "RTM_SETLINK " + link + " master " + master + where + " (not a bridge)");
      }
    }
    Link* l = findLink(**n, link);
    if (!l) return kernelError(ENODEV, "RTM_SETLINK " + link + where);
    l->info.master = master;
    return Status::Ok();
  }());
}

Status FakeKernel::setLinkUp(const std::string& ns, const std::string& link, bool up) {
  std::string call = "setLinkUp " + nsText(ns) + " " + link + (up ? " up" : " down");
  std::string what =
      "RTM_SETLINK " + link + (up ? " up" : " down") + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateLinkName(link));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("setLinkUp", what));
    Link* l = findLink(**n, link);
    if (!l) return kernelError(ENODEV, what);
    l->info.up = up;
    if (!up) {
      dropRoutesVia(**n, link);
      std::erase_if((*n)->addresses, [&](const InterfaceAddress& address) {
        return address.link == link && !address.address.isV4();
      });
    }
    return Status::Ok();
  }());
}

Status FakeKernel::doDeleteLink(const std::string& ns, const std::string& link) {
  std::string what = "RTM_DELLINK " + link + " in " + dataplane::describeNamespace(ns);
  RETURN_IF_ERROR(dataplane::validateLinkName(link));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  RETURN_IF_ERROR(injected("deleteLink", what));
  Link* l = findLink(*n, link);
  if (!l) return kernelError(ENODEV, what);
  if (l->info.kind == "loopback") return kernelError(EOPNOTSUPP, what);
  if (l->info.kind == "veth" && namespaces_.count(l->peerNs)) {
    std::string peerNs = l->peerNs;
    std::string peerName = l->peerName;
    removeLink(namespaces_[peerNs], peerName);
  }
  removeLink(*n, link);
  return Status::Ok();
}

Status FakeKernel::deleteLink(const std::string& ns, const std::string& link) {
  return record("deleteLink " + nsText(ns) + " " + link, doDeleteLink(ns, link));
}

// ---- Addresses ----

Result<std::vector<InterfaceAddress>> FakeKernel::listAddresses(const std::string& ns) {
  RETURN_IF_ERROR(injected("listAddresses", "RTM_GETADDR dump in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  return allAddresses(*n);
}

Status FakeKernel::addAddress(const std::string& ns, const InterfaceAddress& address) {
  std::string call = "addAddress " + nsText(ns) + " " + dataplane::describe(address);
  std::string what =
      "RTM_NEWADDR " + dataplane::describe(address) + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateInterfaceAddress(address));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    if (!findLink(**n, address.link)) {
      return kernelError(ENODEV,
                         "link " + address.link + " in " + dataplane::describeNamespace(ns));
    }
    RETURN_IF_ERROR(injected("addAddress", what));
    InterfaceAddress stored = address;
    stored.kernelCreated = false;
    for (const InterfaceAddress& a : (*n)->addresses) {
      if (a.link == stored.link && a.address == stored.address) {
        return kernelError(EEXIST, what);
      }
    }
    (*n)->addresses.push_back(stored);
    return Status::Ok();
  }());
}

Status FakeKernel::deleteAddress(const std::string& ns, const InterfaceAddress& address) {
  std::string call = "deleteAddress " + nsText(ns) + " " + dataplane::describe(address);
  std::string what =
      "RTM_DELADDR " + dataplane::describe(address) + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateInterfaceAddress(address));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    if (!findLink(**n, address.link)) {
      return kernelError(ENODEV,
                         "link " + address.link + " in " + dataplane::describeNamespace(ns));
    }
    RETURN_IF_ERROR(injected("deleteAddress", what));
    auto& list = (*n)->addresses;
    auto it = std::find_if(list.begin(), list.end(), [&](const InterfaceAddress& a) {
      return a.link == address.link && a.address == address.address &&
             a.prefixLength == address.prefixLength;
    });
    if (it == list.end()) return kernelError(EADDRNOTAVAIL, what);
    list.erase(it);
    std::erase_if((*n)->routes, [&](const Route& r) {
      return r.preferredSource && *r.preferredSource == address.address;
    });
    return Status::Ok();
  }());
}

// ---- Routes ----

Result<std::vector<Route>> FakeKernel::listRoutes(const std::string& ns, uint32_t table) {
  RETURN_IF_ERROR(injected("listRoutes", "RTM_GETROUTE dump in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  std::vector<Route> out;
  if (table == 254) out = connectedRoutes(*n);
  for (const Route& r : n->routes) {
    if (r.table == table) out.push_back(r);
  }
  return out;
}

Status FakeKernel::addRoute(const std::string& ns, const Route& route) {
  std::string call = "addRoute " + nsText(ns) + " " + dataplane::describe(route);
  std::string what =
      "RTM_NEWROUTE " + dataplane::describe(route) + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateRoute(route));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    const Link* device = nullptr;
    if (!route.device.empty()) {
      device = findLink(**n, route.device);
      if (!device) {
        return kernelError(ENODEV,
                           "link " + route.device + " in " + dataplane::describeNamespace(ns));
      }
    }
    RETURN_IF_ERROR(injected("addRoute", what));
    Route stored = route;
    stored.kernelCreated = false;
    bool v4 = route.destination.network().isV4();
    if (v4 && route.type == RouteType::kUnicast) {
      if (device && !device->info.up) return kernelError(ENETDOWN, what);
      if (route.gateway) {
        bool reachable = false;
        for (const Route& c : connectedRoutes(**n)) {
          reachable = reachable || ((!device || c.device == route.device) &&
                                    c.destination.contains(*route.gateway));
        }
        // As in the kernel (fib_check_nh), any link-scope route (a device route without a
        // gateway) on the device also makes the gateway reachable; for a route of another table
        // the kernel looks in that table, then in all (here: main).
        for (const Route& c : (*n)->routes) {
          reachable =
              reachable || (!c.gateway && c.type == RouteType::kUnicast &&
                            (c.table == route.table || c.table == 254) &&
                            !c.device.empty() && (!device || c.device == route.device) &&
                            c.destination.contains(*route.gateway));
        }
        if (!reachable) return kernelError(ENETUNREACH, what);
      }
    }
    if (v4 && route.preferredSource) {
      bool local = false;
      for (const InterfaceAddress& a : allAddresses(**n))
        local = local || a.address == *route.preferredSource;
      if (!local) return kernelError(EINVAL, what, "Invalid prefsrc address");
    }
    std::vector<Route> existing = (*n)->routes;
    if (route.table == 254) {
      for (const Route& c : connectedRoutes(**n)) existing.push_back(c);
    }
    for (const Route& r : existing) {
      if (r.table == route.table && r.destination == route.destination) {
        return kernelError(EEXIST, what);
      }
    }
    (*n)->routes.push_back(stored);
    return Status::Ok();
  }());
}

Status FakeKernel::deleteRoute(const std::string& ns, const Route& route) {
  std::string call = "deleteRoute " + nsText(ns) + " " + dataplane::describe(route);
  std::string what =
      "RTM_DELROUTE " + dataplane::describe(route) + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateRoute(route));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    if (!route.device.empty() && !findLink(**n, route.device)) {
      return kernelError(ENODEV,
                         "link " + route.device + " in " + dataplane::describeNamespace(ns));
    }
    RETURN_IF_ERROR(injected("deleteRoute", what));
    auto& list = (*n)->routes;
    auto it = std::find_if(list.begin(), list.end(), [&](const Route& r) {
      return r.table == route.table && r.destination == route.destination && r.type == route.type &&
             (!route.gateway || r.gateway == route.gateway) &&
             (route.device.empty() || r.device == route.device);
    });
    if (it == list.end()) return kernelError(ESRCH, what);
    list.erase(it);
    return Status::Ok();
  }());
}

// ---- Rules ----

Result<std::vector<RoutingRule>> FakeKernel::listRules(const std::string& ns) {
  RETURN_IF_ERROR(injected("listRules", "RTM_GETRULE dump in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  return n->rules;
}

Status FakeKernel::addRule(const std::string& ns, const RoutingRule& rule) {
  std::string call = "addRule " + nsText(ns) + " " + dataplane::describe(rule);
  std::string what =
      "RTM_NEWRULE " + dataplane::describe(rule) + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("addRule", what));
    auto& list = (*n)->rules;
    if (std::find(list.begin(), list.end(), rule) != list.end()) {
      return kernelError(EEXIST, what);
    }
    list.push_back(rule);
    return Status::Ok();
  }());
}

Status FakeKernel::deleteRule(const std::string& ns, const RoutingRule& rule) {
  std::string call = "deleteRule " + nsText(ns) + " " + dataplane::describe(rule);
  std::string what =
      "RTM_DELRULE " + dataplane::describe(rule) + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("deleteRule", what));
    auto& list = (*n)->rules;
    auto it = std::find(list.begin(), list.end(), rule);
    if (it == list.end()) return kernelError(ENOENT, what);
    list.erase(it);
    return Status::Ok();
  }());
}

// ---- Sysctls ----

Result<std::string> FakeKernel::getSysctl(const std::string& ns, const std::string& key) {
  RETURN_IF_ERROR(dataplane::validateSysctlKey(key));
  std::string what = "read sysctl " + key + " in " + dataplane::describeNamespace(ns);
  RETURN_IF_ERROR(injected("getSysctl", what));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  auto it = n->sysctls.find(key);
  if (it != n->sysctls.end()) return it->second;
  std::string link = perLinkSysctl(key);
  if (!link.empty() && findLink(*n, link)) return std::string("0");
  return kernelError(ENOENT, what);
}

Status FakeKernel::setSysctl(const std::string& ns, const std::string& key,
                             const std::string& value) {
  std::string call = "setSysctl " + nsText(ns) + " " + key + "=" + value;
  std::string what =
      "write sysctl " + key + "=" + value + " in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateSysctlKey(key));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("setSysctl", what));
    std::string link = perLinkSysctl(key);
    if (!link.empty() && !findLink(**n, link)) return kernelError(ENOENT, what);
    (*n)->sysctls[key] = value;
    return Status::Ok();
  }());
}

// ---- nftables ----

Status FakeKernel::nftApply(const std::string& ns, const std::string& commands) {
  std::string call = "nftApply " + nsText(ns) + "\n" + commands;
  std::string what = "nft transaction in " + dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("nftApply", what));
    auto parsed = splitNft(commands);
    if (!parsed.ok()) return Status::Internal(what + ": " + parsed.status().message());
    std::map<std::string, NftTable> tables = (*n)->nftTables;  // applied only if all succeed
    auto syntax = [&](const NftCommand& c) {
      return Status::Internal(what + ": nft: Error: syntax error in '" + c.text + "'");
    };
    for (const NftCommand& c : *parsed) {
      std::vector<std::string> h = c.head;
      if (h[0] == "list") continue;
      if (h[0] == "table") h.insert(h.begin(), "add");  // "table F N {...}" is "add table ..."
      std::string verb = h[0];
      if (h.size() < 2) return syntax(c);
      std::string object = h[1];
      if (object == "ruleset" && verb == "flush") {
        std::string family = h.size() > 2 ? h[2] : "";
        std::erase_if(tables, [&](const auto& t) {
          return family.empty() || t.first.rfind(family + " ", 0) == 0;
        });
        continue;
      }
      std::string key = tableKey(h, 2);
      if (key.empty()) return syntax(c);
      bool exists = tables.count(key) != 0;
      if (object == "table") {
        if (verb == "add" || verb == "create") {
          if (verb == "create" && exists) {
            return kernelError(EEXIST, what + ": create table " + key);
          }
          NftTable& t = tables[key];
          if (c.hasBody && !c.body.empty()) t.text += c.body + "\n";
        } else if (verb == "delete" || verb == "destroy") {
          if (!exists && verb == "delete") {
            return kernelError(ENOENT, what + ": delete table " + key);
          }
          tables.erase(key);
        } else if (verb == "flush") {
          if (!exists) return kernelError(ENOENT, what + ": flush table " + key);
          tables[key].text.clear();
        } else {
          return syntax(c);
        }
        continue;
      }
      static const char* kVerbs[] = {"add",    "create",  "insert", "replace",
                                     "delete", "destroy", "flush",  "reset"};
      bool knownVerb = false;
      for (const char* v : kVerbs) knownVerb = knownVerb || verb == v;
      if (!knownVerb) return syntax(c);
      if (!exists) {
        if (verb == "destroy") continue;
        return kernelError(ENOENT, what + ": " + c.text);
      }
      tables[key].text += c.text + "\n";
    }
    (*n)->nftTables = std::move(tables);
    ++(*n)->nftGeneration;
    return Status::Ok();
  }());
}

Status FakeKernel::nftUpdateElements(const std::string& ns, const std::string& family,
                                     const std::string& table,
                                     const std::vector<dataplane::NftElementChange>& changes) {
  const std::string lines = dataplane::nftElementChangesText(family, table, changes);
  std::string call = "nftUpdateElements " + nsText(ns) + " " + family + " " + table + "\n" + lines;
  std::string what = "nft element transaction in " + family + " " + table + " in " +
                     dataplane::describeNamespace(ns);
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateNftFamily(family));
    RETURN_IF_ERROR(dataplane::validatePlainName(table, "nft table name"));
    auto n = find(ns);
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(injected("nftUpdateElements", what));
    for (const dataplane::NftElementChange& c : changes) {
      if (c.key.empty() || (c.set.empty() && !c.value.empty())) {
        return Status::InvalidArgument("InvalidNftElement",
                                       what + ": malformed change of '" + c.set + "'");
      }
    }
    auto it = (*n)->nftTables.find(family + " " + table);
    if (it == (*n)->nftTables.end()) return kernelError(ENOENT, what);
    if (changes.empty()) return Status::Ok();
    it->second.text += lines;
    ++(*n)->nftGeneration;
    return Status::Ok();
  }());
}

Result<uint32_t> FakeKernel::nftGeneration(const std::string& ns) {
  RETURN_IF_ERROR(injected("nftGeneration", "nft generation in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  return n->nftGeneration;
}

Result<std::vector<std::string>> FakeKernel::nftListTables(const std::string& ns) {
  RETURN_IF_ERROR(injected("nftListTables", "nft list tables in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  std::vector<std::string> out;
  for (const auto& [key, table] : n->nftTables) out.push_back(key);
  return out;
}

Result<std::string> FakeKernel::nftListTable(const std::string& ns, const std::string& family,
                                             const std::string& table) {
  RETURN_IF_ERROR(dataplane::validateNftFamily(family));
  RETURN_IF_ERROR(dataplane::validatePlainName(table, "nft table name"));
  std::string what =
      "nft list table " + family + " " + table + " in " + dataplane::describeNamespace(ns);
  RETURN_IF_ERROR(injected("nftListTable", what));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  auto it = n->nftTables.find(family + " " + table);
  if (it == n->nftTables.end()) return kernelError(ENOENT, what);
  return "table " + it->first + " {\n" + it->second.text + "}\n";
}

// ---- Conntrack ----

Result<int> FakeKernel::conntrackDelete(const std::string& ns, const ConntrackFilter& filter) {
  std::string call = "conntrackDelete " + nsText(ns) + " " + dataplane::describe(filter);
  int deleted = 0;
  Status status = record(call, [&]() -> Status {
    ASSIGN_OR_RETURN(Namespace * n, find(ns));
    RETURN_IF_ERROR(
        injected("conntrackDelete", "conntrack delete in " + dataplane::describeNamespace(ns)));
    deleted = static_cast<int>(std::erase_if(n->conntrack, [&](const dataplane::ConntrackTuple& e) {
      return dataplane::conntrackMatches(filter, e);
    }));
    return Status::Ok();
  }());
  if (!status.ok()) return status;
  return deleted;
}

void FakeKernel::addConntrackEntry(const std::string& ns, const dataplane::ConntrackTuple& entry) {
  namespaces_.at(ns).conntrack.push_back(entry);
}

int FakeKernel::conntrackCount(const std::string& ns) const {
  return static_cast<int>(namespaces_.at(ns).conntrack.size());
}

// ---- /etc/netns files ----

Status FakeKernel::writeNamespaceFile(const std::string& ns, const std::string& name,
                                      const std::string& content) {
  std::string call = "writeNamespaceFile " + ns + " " + name + "\n" + content;
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateNamespaceName(ns));
    RETURN_IF_ERROR(dataplane::validatePlainName(name, "namespace file name"));
    RETURN_IF_ERROR(injected("writeNamespaceFile", "write /etc/netns/" + ns + "/" + name));
    files_[ns][name] = content;
    return Status::Ok();
  }());
}

Status FakeKernel::removeNamespaceFiles(const std::string& ns) {
  std::string call = "removeNamespaceFiles " + ns;
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::validateNamespaceName(ns));
    RETURN_IF_ERROR(injected("removeNamespaceFiles", "remove /etc/netns/" + ns));
    if (files_.erase(ns) == 0) {
      return Status::NotFound("KernelObjectNotFound", "/etc/netns/" + ns + " does not exist");
    }
    return Status::Ok();
  }());
}

std::optional<std::string> FakeKernel::namespaceFile(const std::string& ns,
                                                     const std::string& name) const {
  auto dir = files_.find(ns);
  if (dir == files_.end()) return std::nullopt;
  auto file = dir->second.find(name);
  if (file == dir->second.end()) return std::nullopt;
  return file->second;
}

}  // namespace privlink::testing

// ---- eBPF fast path ----

namespace privlink::testing {
namespace {

struct FakeMapShape {
  size_t keySize;
  size_t valueSize;
  bool perCpu;
};

const std::map<std::string, FakeMapShape>& fakeMapShapes() {
  static const std::map<std::string, FakeMapShape> shapes = {
      {PL_FP_MAP_PE, {4, sizeof(pl_pe_value), false}},
      {PL_FP_MAP_TPE, {4, sizeof(pl_tpe_value), false}},
      {PL_FP_MAP_BB, {4, sizeof(pl_bb_value), false}},
      {PL_FP_MAP_STATS, {4, sizeof(pl_pe_stats), true}},
      {PL_FP_MAP_CONFIG, {4, 4, false}},
      {PL_FP_MAP_UDP_FLOWS, {sizeof(pl_udp_flow_key), 1, false}},
      {PL_FP_MAP_NIC, {4, sizeof(pl_nic_value), false}},
      {PL_FP_MAP_SVC, {4, sizeof(pl_svc_value), false}},
      {PL_FP_MAP_LB, {sizeof(pl_lb_key), sizeof(pl_lb_value), false}},
      {PL_FP_MAP_FLOW, {sizeof(pl_flow_key), sizeof(pl_flow_value), false}},
      {PL_FP_MAP_RFLOW, {sizeof(pl_flow_key), sizeof(pl_rflow_value), false}},
      {PL_FP_MAP_UPLINK, {4, sizeof(pl_uplink_value), false}},
  };
  return shapes;
}

bool knownProgram(const std::string& name) {
  return name == PL_FP_PROG_CONSUMER_OUT || name == PL_FP_PROG_CONSUMER_IN ||
         name == PL_FP_PROG_BACKBONE || name == PL_FP_PROG_BACKEND_IN;
}

Status sizeError(const std::string& what, size_t got, size_t want) {
  return Status::InvalidArgument("InvalidParameter", what + " is " + std::to_string(got) + " bytes; the map wants " +
                                 std::to_string(want));
}

}  // namespace

Result<std::map<std::string, std::string>*> FakeKernel::pinnedMap(const std::string& ns,
                                                                  const std::string& map) {
  auto pins = bpf_pins_.find(ns);
  if (pins == bpf_pins_.end() || !pins->second.count(map)) {
    return kernelError(ENOENT, "BPF_OBJ_GET /sys/fs/bpf/privlink/" + ns + "/" + map);
  }
  return &pins->second[map];
}

Result<std::vector<dataplane::TcAttachment>> FakeKernel::tcListAttachments(const std::string& ns) {
  RETURN_IF_ERROR(injected("tcListAttachments", "tc query in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  std::vector<dataplane::TcAttachment> out;
  for (const Link& l : n->links) {
    if (!l.tcProgram.empty()) out.push_back(dataplane::TcAttachment{l.info.name, l.tcProgram});
  }
  return out;
}

Status FakeKernel::tcAttach(const std::string& ns, const dataplane::TcAttachment& attachment) {
  std::string call = "tcAttach " + nsText(ns) + " " + attachment.link + " " + attachment.program;
  return record(call, [&]() -> Status {
    const std::string what =
        "attach " + attachment.program + " to " + attachment.link + " in " + nsText(ns);
    RETURN_IF_ERROR(injected("tcAttach", what));
    ASSIGN_OR_RETURN(Namespace * n, find(ns));
    Link* link = findLink(*n, attachment.link);
    if (link == nullptr) return kernelError(ENODEV, what);
    if (!knownProgram(attachment.program)) {
      return Status::NotFound("KernelObjectNotFound", what + ": no such program");
    }
    auto& pins = bpf_pins_[ns];
    for (const auto& [name, shape] : fakeMapShapes()) pins[name];
    link->tcProgram = attachment.program;
    return Status::Ok();
  }());
}

Status FakeKernel::tcDetach(const std::string& ns, const std::string& link) {
  std::string call = "tcDetach " + nsText(ns) + " " + link;
  return record(call, [&]() -> Status {
    const std::string what = "detach the fast path from " + link + " in " + nsText(ns);
    RETURN_IF_ERROR(injected("tcDetach", what));
    ASSIGN_OR_RETURN(Namespace * n, find(ns));
    Link* l = findLink(*n, link);
    if (l == nullptr || l->tcProgram.empty()) return kernelError(ENOENT, what);
    l->tcProgram.clear();
    return Status::Ok();
  }());
}

Result<uint32_t> FakeKernel::linkIfindex(const std::string& ns, const std::string& link) {
  RETURN_IF_ERROR(injected("linkIfindex", "link " + link + " in " + nsText(ns)));
  ASSIGN_OR_RETURN(Namespace * n, find(ns));
  Link* l = findLink(*n, link);
  if (l == nullptr) return kernelError(ENODEV, "link " + link + " in " + nsText(ns));
  return static_cast<uint32_t>(l->index);
}

Result<std::map<std::string, std::string>> FakeKernel::bpfMapDump(const std::string& ns,
                                                                  const std::string& map) {
  RETURN_IF_ERROR(injected("bpfMapDump", "dump " + map + " of " + ns));
  ASSIGN_OR_RETURN(auto* elements, pinnedMap(ns, map));
  return *elements;
}

Result<std::string> FakeKernel::bpfMapLookup(const std::string& ns, const std::string& map,
                                             const std::string& key) {
  RETURN_IF_ERROR(injected("bpfMapLookup", "lookup in " + map + " of " + ns));
  ASSIGN_OR_RETURN(auto* elements, pinnedMap(ns, map));
  auto it = elements->find(key);
  if (it == elements->end()) return kernelError(ENOENT, "lookup in " + map + " of " + ns);
  return it->second;
}

Status FakeKernel::bpfMapUpdate(const std::string& ns, const std::string& map,
                                const std::string& key, const std::string& value) {
  std::string call = "bpfMapUpdate " + ns + " " + map + " " + std::to_string(key.size()) + "B";
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(injected("bpfMapUpdate", "update " + map + " of " + ns));
    ASSIGN_OR_RETURN(auto* elements, pinnedMap(ns, map));
    const FakeMapShape& shape = fakeMapShapes().at(map);
    if (key.size() != shape.keySize) return sizeError("key", key.size(), shape.keySize);
    if (value.size() != shape.valueSize) return sizeError("value", value.size(), shape.valueSize);
    std::string raw;
    if (shape.perCpu) {
      std::string padded = value;
      padded.resize((value.size() + 7) / 8 * 8, '\0');
      for (int cpu = 0; cpu < kFakeCpus; ++cpu) raw += padded;
    } else {
      raw = value;
    }
    (*elements)[key] = raw;
    return Status::Ok();
  }());
}

Status FakeKernel::bpfMapDelete(const std::string& ns, const std::string& map,
                                const std::string& key) {
  std::string call = "bpfMapDelete " + ns + " " + map + " " + std::to_string(key.size()) + "B";
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(injected("bpfMapDelete", "delete from " + map + " of " + ns));
    ASSIGN_OR_RETURN(auto* elements, pinnedMap(ns, map));
    if (elements->erase(key) == 0) return kernelError(ENOENT, "delete from " + map + " of " + ns);
    return Status::Ok();
  }());
}

Result<std::vector<std::string>> FakeKernel::bpfListPinned() {
  RETURN_IF_ERROR(injected("bpfListPinned", "list /sys/fs/bpf/privlink"));
  std::vector<std::string> out;
  for (const auto& [ns, maps] : bpf_pins_) out.push_back(ns);
  return out;
}

Status FakeKernel::bpfRemovePinned(const std::string& ns) {
  std::string call = "bpfRemovePinned " + ns;
  return record(call, [&]() -> Status {
    RETURN_IF_ERROR(injected("bpfRemovePinned", "remove /sys/fs/bpf/privlink/" + ns));
    if (bpf_pins_.erase(ns) == 0) return kernelError(ENOENT, "/sys/fs/bpf/privlink/" + ns);
    return Status::Ok();
  }());
}

void FakeKernel::setBpfElementRaw(const std::string& ns, const std::string& map,
                                  const std::string& key, const std::string& raw) {
  bpf_pins_.at(ns).at(map)[key] = raw;
}

}  // namespace privlink::testing
