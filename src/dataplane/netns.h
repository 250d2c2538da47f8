#pragma once
// Network namespaces: a handle to one (NetnsHandle), a scoped guard that moves the calling thread
// into it and always back (NamespaceGuard), and persistent namespaces under /run/netns made and
// removed exactly as `ip netns add` / `ip netns del` do, so `ip netns exec` sees ours and vice
// versa.
//
// Namespace membership is per thread: the guard affects only the thread that created it, and a
// socket or nft context created inside stays bound to that namespace after the guard is gone.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dataplane/unique_fd.h"

namespace privlink::dataplane {

inline constexpr const char* kNetnsRunDir = "/run/netns";

// Ok if `ns` can name a persistent namespace: 1..64 characters of [A-Za-z0-9_.-], not "." or
// "..". InvalidArgument otherwise.
Status validateNamespaceName(std::string_view ns);

// An open network-namespace file (/run/netns/<ns> or /proc/thread-self/ns/net). Move-only.
class NetnsHandle {
 public:
  // Opens the persistent namespace `ns`. NotFound if /run/netns/<ns> does not exist.
  static Result<NetnsHandle> open(const std::string& ns);
  // The namespace the calling thread is in now.
  static Result<NetnsHandle> current();

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }  // "" for current()
  // Identity of the namespace (nsfs device + inode): equal for two handles on the same namespace.
  dev_t device() const { return device_; }
  ino_t inode() const { return inode_; }

 private:
  NetnsHandle(UniqueFd fd, std::string name, dev_t device, ino_t inode)
      : fd_(std::move(fd)), name_(std::move(name)), device_(device), inode_(inode) {}
  UniqueFd fd_;
  std::string name_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

// Moves the calling thread into a namespace for the guard's lifetime. The destructor returns the
// thread to the namespace it was in before; if the kernel refuses that, the process aborts rather
// than continue in the wrong namespace. Movable (a moved-from guard does nothing), not copyable.
// Guards nest; destroy them in reverse order (scopes do this).
class [[nodiscard]] NamespaceGuard {
 public:
  static Result<NamespaceGuard> enter(const NetnsHandle& target);

  NamespaceGuard(NamespaceGuard&& other) noexcept = default;
  NamespaceGuard& operator=(NamespaceGuard&&) = delete;
  NamespaceGuard(const NamespaceGuard&) = delete;
  NamespaceGuard& operator=(const NamespaceGuard&) = delete;
  ~NamespaceGuard();

 private:
  explicit NamespaceGuard(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;
};

// Creates /run/netns/<ns> holding a new, empty network namespace (only `lo`, down), like
// `ip netns add`: /run/netns becomes a shared mount point, the namespace is made on a short-lived
// thread and bind-mounted. AlreadyExists if the name is taken; nothing is left behind on failure.
Status createPersistentNamespace(const std::string& ns);
// Unmounts (MNT_DETACH) and unlinks /run/netns/<ns>, like `ip netns del`. The kernel frees the
// namespace and everything in it once no process, socket or mount still holds it. NotFound if
// absent.
Status deletePersistentNamespace(const std::string& ns);
// Names under /run/netns, sorted. Empty if the directory does not exist.
Result<std::vector<std::string>> listPersistentNamespaces();

}  // namespace privlink::dataplane
