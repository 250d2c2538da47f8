#pragma once
// kernelError: turns an errno from a kernel call into the Status the Kernel seam promises
// (kernel.h): AlreadyExists for EEXIST, NotFound for the "no such object" family, Internal for the
// rest, always with the errno name and what was being done, e.g.
// "Internal: RTM_NEWLINK veth plu-1a2b3c4d in plv-1a2b3c4d: EBUSY (Device or resource busy)".
// Header-only so the fake kernel (tests/testing) builds the very same statuses.

#include <string.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "common/status.h"

namespace privlink::dataplane {

// "EBUSY"; "E<number>" for an errno glibc does not name.
inline std::string errnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? std::string(name) : "E" + std::to_string(err);
}

// `what` says what was being done ("RTM_NEWLINK veth va in ns1"); `detail` is optional extra text
// from the kernel (a netlink extended-ack message).
inline Status kernelError(int err, std::string_view what, std::string_view detail = {}) {
  std::string message(what);
  message += ": ";
  message += errnoName(err);
  message += " (";
  message += detail.empty() ? std::string_view(strerror(err)) : detail;
  message += ")";
  switch (err) {
    case EEXIST:
      return Status::AlreadyExists("KernelObjectAlreadyExists", std::move(message));
    case ENOENT:
    case ENODEV:
    case ESRCH:
    case EADDRNOTAVAIL:
      return Status::NotFound("KernelObjectNotFound", std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

}  // namespace privlink::dataplane
