#pragma once
// NetlinkSocket: one libmnl socket (mnl_socket) bound in the namespace of the thread that opened
// it — it stays bound to that namespace for its whole life, whatever the thread does afterwards.
// Requests carry increasing sequence numbers; replies are matched by sequence, the final ACK /
// NLMSG_ERROR / NLMSG_DONE is turned into a Status via kernelError() with the kernel's extended
// ack text. Move-only; not thread-safe.

#include <functional>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "dataplane/netlink_message.h"

struct mnl_socket;

namespace privlink::dataplane {

class NetlinkSocket {
 public:
  // Opens and binds a socket of `bus` (NETLINK_ROUTE, ...) in the calling thread's namespace.
  static Result<NetlinkSocket> open(int bus);

  // The descriptor (>= kSelectFdLimit when RLIMIT_NOFILE allows: unique_fd.h).
  int fd() const;

  NetlinkSocket(NetlinkSocket&&) noexcept;
  NetlinkSocket& operator=(NetlinkSocket&&) noexcept;
  ~NetlinkSocket();

  // Called for each reply message of a request (before the ACK) or each message of a dump.
  using ReplyHandler = std::function<Status(const NetlinkMessageView&)>;

  // Sends `message` (sequence assigned here) and waits for its ACK. Reply messages before the
  // ACK (e.g. the answer to a non-dump RTM_GETLINK) go to `onReply`. `what` names the operation
  // for error messages: "RTM_NEWLINK bridge br0 in plv-1".
  Status request(NetlinkMessage message, std::string_view what, const ReplyHandler& onReply = {});
  // Sends a dump request (NLM_F_DUMP) and hands every message to `onMessage` until NLMSG_DONE.
  // If the kernel flags the dump as interrupted by a concurrent change (NLM_F_DUMP_INTR), the
  // dump is repeated (up to 3 times); `onRestart` is called first so the caller drops what it
  // collected. Unavailable if it never completes consistently.
  Status dump(NetlinkMessage message, std::string_view what, const ReplyHandler& onMessage,
              const std::function<void()>& onRestart);

 private:
  struct Closer {
    void operator()(mnl_socket* socket) const;
  };
  explicit NetlinkSocket(std::unique_ptr<mnl_socket, Closer> socket, uint32_t portId);
  // One exchange; sets *interrupted if any message carried NLM_F_DUMP_INTR.
  Status exchange(NetlinkMessage& message, std::string_view what, const ReplyHandler& onReply,
                  bool* interrupted);

  std::unique_ptr<mnl_socket, Closer> socket_;
  uint32_t portId_ = 0;
  uint32_t sequence_ = 0;
};

}  // namespace privlink::dataplane
