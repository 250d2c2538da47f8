// Network namespace handles, the scoped guard and iproute2-compatible persistent namespaces.
#include "dataplane/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "dataplane/kernel_error.h"

namespace privlink::dataplane {
namespace {

std::string namespacePath(const std::string& ns) { return std::string(kNetnsRunDir) + "/" + ns; }

// Makes /run/netns a shared mount point (creating it if needed), so that unmounting a namespace
// file propagates to other mount namespaces and frees the namespace sooner (iproute2 netns_add).
Status prepareRunDir() {
  if (::mkdir(kNetnsRunDir, 0755) != 0 && errno != EEXIST) {
    return kernelError(errno, std::string("mkdir ") + kNetnsRunDir);
  }
  bool madeMountPoint = false;
  while (::mount("", kNetnsRunDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    // EINVAL: not a mount point yet; bind-mount it onto itself once and retry.
    if (errno != EINVAL || madeMountPoint) {
      return kernelError(errno, std::string("mount --make-rshared ") + kNetnsRunDir);
    }
    if (::mount(kNetnsRunDir, kNetnsRunDir, "none", MS_BIND | MS_REC, nullptr) != 0) {
      return kernelError(errno, std::string("mount --rbind ") + kNetnsRunDir);
    }
    madeMountPoint = true;
  }
  return Status::Ok();
}

// True if `path` exists but is not a mounted namespace (nsfs): an empty placeholder file.
bool isStalePlaceholder(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return false;
  return fs.f_type != NSFS_MAGIC;
}

}  // namespace

Status validateNamespaceName(std::string_view ns) {
  bool valid = !ns.empty() && ns.size() <= 64 && ns != "." && ns != "..";
  for (char c : ns) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    valid = valid && ok;
  }
  if (valid) return Status::Ok();
  return Status::InvalidArgument(
      "InvalidNamespaceName",
      "network namespace name '" + std::string(ns) +
          "' is invalid; use 1 to 64 characters of letters, digits, '-', '_' and '.'");
}

Result<NetnsHandle> NetnsHandle::open(const std::string& ns) {
  RETURN_IF_ERROR(validateNamespaceName(ns));
  std::string path = namespacePath(ns);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return Status::NotFound("KernelObjectNotFound",
                              "network namespace " + ns + " does not exist (" + path + ")");
    }
    return kernelError(errno, "open " + path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return kernelError(errno, "fstat " + path);
  return NetnsHandle(std::move(fd), ns, st.st_dev, st.st_ino);
}

Result<NetnsHandle> NetnsHandle::current() {
  const char* path = "/proc/thread-self/ns/net";
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return kernelError(errno, std::string("open ") + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return kernelError(errno, std::string("fstat ") + path);
  return NetnsHandle(std::move(fd), "", st.st_dev, st.st_ino);
}

Result<NamespaceGuard> NamespaceGuard::enter(const NetnsHandle& target) {
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original.valid()) return kernelError(errno, "open /proc/thread-self/ns/net");
  if (::setns(target.fd(), CLONE_NEWNET) != 0) {
    return kernelError(errno, "setns into network namespace " + target.name());
  }
  return NamespaceGuard(std::move(original));
}

NamespaceGuard::~NamespaceGuard() {
  if (!original_.valid()) return;  // moved from
  if (::setns(original_.get(), CLONE_NEWNET) != 0) {
    // Continuing would apply the next change to the wrong namespace (possibly the host's).
    std::fprintf(stderr,
                 "privlink: cannot return to the original network namespace: %s; aborting\n",
                 strerror(errno));
    std::abort();
  }
}

Status createPersistentNamespace(const std::string& ns) {
  RETURN_IF_ERROR(validateNamespaceName(ns));
  RETURN_IF_ERROR(prepareRunDir());
  std::string path = namespacePath(ns);
  UniqueFd placeholder(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  if (!placeholder.valid() && errno == EEXIST && isStalePlaceholder(path)) {
    // A crash between creating the file and mounting the namespace on it left a plain file
    // that would make every later operation fail; it holds nothing, so replace it.
    ::unlink(path.c_str());
    placeholder.reset(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  }
  if (!placeholder.valid()) {
    return kernelError(errno, "create network namespace " + ns + " (" + path + ")");
  }
  placeholder.reset();

  // unshare() moves only the calling thread, so a throwaway thread makes the namespace and
  // bind-mounts its own ns file (/proc/thread-self, not /proc/self: that is the main thread's).
  int error = 0;
  const char* step = "";
  std::thread maker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      error = errno;
      step = "unshare(CLONE_NEWNET)";
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      error = errno;
      step = "bind-mount namespace";
    }
  });
  maker.join();
  if (error != 0) {
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
    return kernelError(error, std::string(step) + " for network namespace " + ns);
  }
  return Status::Ok();
}

Status deletePersistentNamespace(const std::string& ns) {
  RETURN_IF_ERROR(validateNamespaceName(ns));
  std::string path = namespacePath(ns);
  // A placeholder left by a crash between create and mount is not mounted: EINVAL is fine.
  ::umount2(path.c_str(), MNT_DETACH);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) {
      return Status::NotFound("KernelObjectNotFound",
                              "network namespace " + ns + " does not exist (" + path + ")");
    }
    return kernelError(errno, "delete network namespace " + ns + " (" + path + ")");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> listPersistentNamespaces() {
  std::vector<std::string> names;
  DIR* dir = ::opendir(kNetnsRunDir);
  if (dir == nullptr) {
    if (errno == ENOENT) return names;
    return kernelError(errno, std::string("opendir ") + kNetnsRunDir);
  }
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace privlink::dataplane
