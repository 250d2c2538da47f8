#pragma once
// TcBpf: the loader of the private endpoint fast path (dataplane/bpf/fast_path.bpf.c, embedded in
// the binary at build time) through libbpf: one object instance per network namespace with its
// maps pinned under kBpfPinRoot/<ns>/, programs attached at tc ingress from inside the namespace,
// and element access through the pins. The Kernel seam's tc and bpf methods (kernel.h) are these.
// Attaching: a tcx BPF link (Linux 6.6+: no clsact/cls_bpf layers per packet) pinned as
// kBpfPinRoot/<ns>/<kTcxLinkPinPrefix><link>, so that it outlives privlinkd; an older kernel
// (tcx refused with EINVAL) gets a clsact qdisc and a direct-action cls_bpf filter (handle
// kFastPathTcHandle, priority kFastPathTcPriority). Listing reports either; detaching removes
// both; attaching by tcx removes the filter an older privlink left.
// Not thread-safe (one Kernel, one thread). Needs CAP_SYS_ADMIN and CAP_NET_ADMIN.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataplane/kernel.h"

struct bpf_object;

namespace privlink::dataplane {

inline constexpr const char* kBpfFsRoot = "/sys/fs/bpf";
inline constexpr const char* kBpfPinRoot = "/sys/fs/bpf/privlink";
inline constexpr uint32_t kFastPathTcHandle = 0x504c;  // "PL"
inline constexpr uint32_t kFastPathTcPriority = 1;
inline constexpr const char* kTcxLinkPinPrefix = "tcx_";

class TcBpf {
 public:
  TcBpf();
  ~TcBpf();
  TcBpf(const TcBpf&) = delete;
  TcBpf& operator=(const TcBpf&) = delete;

  // Each of these expects the calling thread to be inside `ns` already where it says so (the
  // Kernel enters the namespace); map access goes through bpffs and works from anywhere.
  Result<std::vector<TcAttachment>> listAttachmentsHere(const std::string& ns);  // in ns
  Status attachHere(const std::string& ns, const TcAttachment& attachment);      // in ns
  Status detachHere(const std::string& ns, const std::string& link);            // in ns

  Result<std::map<std::string, std::string>> dump(const std::string& ns, const std::string& map);
  Result<std::string> lookup(const std::string& ns, const std::string& map, const std::string& key);
  Status update(const std::string& ns, const std::string& map, const std::string& key,
                const std::string& value);
  Status erase(const std::string& ns, const std::string& map, const std::string& key);
  Result<std::vector<std::string>> listPinned();
  Status removePinned(const std::string& ns);

 private:
  Result<bpf_object*> object(const std::string& ns);
  void forget(const std::string& ns);
  // Attaches (or replaces the program of) the pinned tcx link of `link`. `error`: the errno of a
  // refused link creation (EINVAL: a kernel without tcx), else 0.
  Status attachTcx(const std::string& ns, const std::string& link, unsigned ifindex,
                   int programFd, int* error);
  enum class Tcx { kUnknown, kSupported, kUnsupported };
  std::map<std::string, bpf_object*> objects_;
  Tcx tcx_ = Tcx::kUnknown;
};

}  // namespace privlink::dataplane
