#pragma once
// execInNamespace: runs a program inside a privlink namespace the way `ip netns exec` does, for
// `privlink nic exec NIC -- CMD…` (the namespace of a NIC is model::nicNamespace(nicKey)).
//
// Forks; the child joins the network namespace /run/netns/<ns>, unshares its mount namespace
// (made a recursive slave of the host's), bind-mounts every file of /etc/netns/<ns>/ over the
// same name in /etc (so resolv.conf points at 168.63.129.16), remounts /sys for the namespace and
// execvp()s argv[0] with argv. The caller waits with SIGINT and SIGQUIT ignored (like system()),
// so Ctrl-C reaches only the program.
//
// Returns the program's exit status; 128 + N when signal N killed it; 127 when it could not be
// started (no such namespace, setns failed, command not found — the reason is printed on stderr);
// 2 for an empty argv. Requires root (CAP_SYS_ADMIN). Safe to call from a multi-threaded process.

#include <string>
#include <vector>

namespace privlink::agent {

int execInNamespace(const std::string& ns, const std::vector<std::string>& argv);

}  // namespace privlink::agent
