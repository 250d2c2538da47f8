#pragma once
// Validation of the names the Kernel seam hands to the kernel, and one-line text forms of kernel
// objects for error messages, logs and the fake kernel's call record. Shared by the real kernel
// (linux_kernel.cc) and the fake (tests/testing/fake_kernel.cc) so both refuse the same input.
// Namespace names: validateNamespaceName (netns.h); link names: validateLinkName (rtnetlink.h).

#include <string>

#include "common/status.h"
#include "dataplane/kernel.h"

namespace privlink::dataplane {

// A path below /proc/sys/net such as "net/ipv4/ip_forward" (only net/ is per namespace):
// components of [A-Za-z0-9_.-], no "." or "..". InvalidArgument otherwise.
Status validateSysctlKey(const std::string& key);
// One path component of [A-Za-z0-9_.-] (file names under /etc/netns/<ns>/, nft table names).
// `what` names the thing in the error ("nft table name").
Status validatePlainName(const std::string& name, const char* what);
// ip, ip6, inet, arp, bridge or netdev.
Status validateNftFamily(const std::string& family);
// Prefix length in range for the address family; link name valid.
Status validateInterfaceAddress(const InterfaceAddress& address);
// Families of destination, gateway and source agree; a unicast route has a gateway or a device.
Status validateRoute(const Route& route);

// "the host namespace" for "", else the name.
std::string describeNamespace(const std::string& ns);
// "10.0.1.4/24 dev br0"
std::string describe(const InterfaceAddress& address);
// "unicast 10.0.0.0/16 via 10.0.0.1 dev eth0 src 10.0.0.4 table 254"
std::string describe(const Route& route);
// "fwmark 1 lookup 100 priority 1000"
std::string describe(const RoutingRule& rule);
// "orig-src 10.0.0.4 orig-dst 100.64.0.9 reply-src ... zone 3" ("all" when nothing is set)
std::string describe(const ConntrackFilter& filter);

}  // namespace privlink::dataplane
