#pragma once
// UniqueFd: sole owner of a file descriptor (seastar file_desc style). Move-only; closes on
// destruction. Not thread-safe (like an int).

#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace privlink::dataplane {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  // Closes the current descriptor (if any) and takes `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Descriptors below this number are left to libraries that still wait on their sockets with
// select(): libnftables 1.0.x does, on the netlink socket of every nft context, and glibc aborts
// the process ("bit out of range 0 - FD_SETSIZE on fd_set") for a descriptor >= FD_SETSIZE.
inline constexpr int kSelectFdLimit = 1024;

// Moves a long-lived descriptor (the resolver's and the proxy's sockets: at least one per VNet)
// to a number >= kSelectFdLimit, so that the short-lived descriptors of those libraries keep
// getting low numbers however many VNets there are. Needs RLIMIT_NOFILE above kSelectFdLimit
// (privlinkd raises its soft limit to the hard one); when the move is not possible the
// descriptor is returned unchanged. Closes the original on success.
inline int moveAboveSelectRange(int fd) {
  if (fd < 0 || fd >= kSelectFdLimit) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, kSelectFdLimit);
  if (moved < 0) return fd;
  ::close(fd);
  return moved;
}
inline UniqueFd moveAboveSelectRange(UniqueFd fd) {
  return UniqueFd(moveAboveSelectRange(fd.release()));
}

}  // namespace privlink::dataplane
