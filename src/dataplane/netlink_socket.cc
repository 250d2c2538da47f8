// NetlinkSocket over libmnl: send, receive, match sequence numbers, turn ACKs into Status.
#include "dataplane/netlink_socket.h"

#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "dataplane/kernel_error.h"
#include "dataplane/unique_fd.h"

namespace privlink::dataplane {
namespace {
// Large enough that the kernel never truncates a dump datagram (it sizes them to at most 32 KiB).
constexpr size_t kReceiveBufferSize = 64 * 1024;
constexpr int kDumpAttempts = 3;
}  // namespace

void NetlinkSocket::Closer::operator()(mnl_socket* socket) const { mnl_socket_close(socket); }

NetlinkSocket::NetlinkSocket(std::unique_ptr<mnl_socket, Closer> socket, uint32_t portId)
    : socket_(std::move(socket)),
      portId_(portId),
      sequence_(static_cast<uint32_t>(std::time(nullptr))) {}
int NetlinkSocket::fd() const { return mnl_socket_get_fd(socket_.get()); }

NetlinkSocket::NetlinkSocket(NetlinkSocket&&) noexcept = default;
NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&&) noexcept = default;
NetlinkSocket::~NetlinkSocket() = default;

Result<NetlinkSocket> NetlinkSocket::open(int bus) {
  // The agent keeps one of these per namespace: its descriptor goes above FD_SETSIZE so that
  // libnftables' select() keeps the low numbers (unique_fd.h).
  int fd = moveAboveSelectRange(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, bus));
  if (fd < 0) return kernelError(errno, "open netlink socket (bus " + std::to_string(bus) + ")");
  std::unique_ptr<mnl_socket, Closer> socket(mnl_socket_fdopen(fd));
  if (!socket) {
    int error = errno;
    ::close(fd);
    return kernelError(error, "adopt netlink socket (bus " + std::to_string(bus) + ")");
  }
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return kernelError(errno, "bind netlink socket");
  }
  int on = 1;
  // Extended acks carry the kernel's reason ("Nexthop has invalid gateway"); capped acks do not
  // echo the whole request back. Both are optional: older kernels simply ignore them.
  mnl_socket_setsockopt(socket.get(), NETLINK_EXT_ACK, &on, sizeof on);
  mnl_socket_setsockopt(socket.get(), NETLINK_CAP_ACK, &on, sizeof on);
  // The kernel always answers; a timeout only guards against a bug here hanging the agent.
  timeval timeout{.tv_sec = 30, .tv_usec = 0};
  setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  uint32_t portId = mnl_socket_get_portid(socket.get());
  return NetlinkSocket(std::move(socket), portId);
}

Status NetlinkSocket::exchange(NetlinkMessage& message, std::string_view what,
                               const ReplyHandler& onReply, bool* interrupted) {
  uint32_t sequence = ++sequence_;
  message.setSequence(sequence);
  const auto& bytes = message.bytes();
  if (mnl_socket_sendto(socket_.get(), bytes.data(), bytes.size()) < 0) {
    return kernelError(errno, std::string(what) + " (send)");
  }
  std::vector<uint8_t> buffer(kReceiveBufferSize);
  Status handlerStatus;  // first handler error; we keep reading to drain the reply
  while (true) {
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return kernelError(errno, std::string(what) + " (receive)");
    }
    ASSIGN_OR_RETURN(std::vector<NetlinkMessageView> messages,
                     splitMessages(std::span<const uint8_t>(buffer.data(), size_t(n))));
    for (const NetlinkMessageView& reply : messages) {
      // Kernel replies carry our sequence number and our port id; skip anything else (stale).
      if (reply.sequence != sequence || reply.portId != portId_) continue;
      if (reply.flags & NLM_F_DUMP_INTR) *interrupted = true;
      if (reply.type == NLMSG_DONE) {
        int err = doneError(reply);
        if (err != 0) return kernelError(err, what);
        return handlerStatus;
      }
      ASSIGN_OR_RETURN(std::optional<NetlinkError> error, parseNetlinkError(reply));
      if (error) {
        if (error->error != 0) return kernelError(error->error, what, error->message);
        return handlerStatus;
      }
      if (reply.type == NLMSG_NOOP || reply.type == NLMSG_OVERRUN) continue;
      if (onReply && handlerStatus.ok()) handlerStatus = onReply(reply);
    }
  }
}

Status NetlinkSocket::request(NetlinkMessage message, std::string_view what,
                              const ReplyHandler& onReply) {
  bool interrupted = false;
  return exchange(message, what, onReply, &interrupted);
}

Status NetlinkSocket::dump(NetlinkMessage message, std::string_view what,
                           const ReplyHandler& onMessage, const std::function<void()>& onRestart) {
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    if (attempt > 0 && onRestart) onRestart();
    bool interrupted = false;
    RETURN_IF_ERROR(exchange(message, what, onMessage, &interrupted));
    if (!interrupted) return Status::Ok();
  }
  return Status::Unavailable(std::string(what) + ": the dump was interrupted by concurrent " +
                             "changes " + std::to_string(kDumpAttempts) + " times; retry");
}

}  // namespace privlink::dataplane
