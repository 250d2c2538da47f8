// moveAboveSelectRange: long-lived descriptors leave the numbers below FD_SETSIZE to libraries
// that select() on their sockets (libnftables).
#include "dataplane/unique_fd.h"

#include <linux/netlink.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>

#include "dataplane/netlink_socket.h"

namespace privlink::dataplane {
namespace {

bool openFd(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

void allowHighDescriptors() {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur <= static_cast<rlim_t>(kSelectFdLimit)) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0) << "cannot raise RLIMIT_NOFILE";
  }
}

TEST(UniqueFd, MoveAboveSelectRangeKeepsTheSocketAndFreesTheLowNumber) {
  allowHighDescriptors();
  int low = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(low, 0);
  ASSERT_LT(low, kSelectFdLimit);
  UniqueFd moved = moveAboveSelectRange(UniqueFd(low));
  ASSERT_TRUE(moved.valid());
  EXPECT_GE(moved.get(), kSelectFdLimit);
  EXPECT_FALSE(openFd(low)) << "the low descriptor must be closed";
  int type = 0;
  socklen_t len = sizeof(type);
  ASSERT_EQ(::getsockopt(moved.get(), SOL_SOCKET, SO_TYPE, &type, &len), 0);
  EXPECT_EQ(type, SOCK_DGRAM);
  EXPECT_NE(::fcntl(moved.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(UniqueFd, MoveAboveSelectRangeLeavesInvalidAndHighDescriptorsAlone) {
  EXPECT_EQ(moveAboveSelectRange(-1), -1);
  EXPECT_FALSE(moveAboveSelectRange(UniqueFd()).valid());
}

// The agent caches one netlink socket per namespace; at 1,000 VNets those used to fill every
// descriptor below 1024 and libnftables' select() aborted privlinkd.
TEST(UniqueFd, NetlinkSocketsLiveAboveTheSelectRange) {
  allowHighDescriptors();
  auto socket = NetlinkSocket::open(NETLINK_ROUTE);
  ASSERT_TRUE(socket.ok()) << socket.status().toString();
  EXPECT_GE(socket->fd(), kSelectFdLimit);
}

}  // namespace
}  // namespace privlink::dataplane
