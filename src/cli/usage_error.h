#pragma once
// Usage errors found after parsing (a flag combination CLI11 cannot check). The CLI prints them
// as "usage error: ..." and exits 2, like CLI11's own parse errors.

#include <string>

#include "common/status.h"

namespace privlink::cli {

inline constexpr const char* kUsageErrorCode = "UsageError";

inline Status usageError(std::string message) {
  return Status::InvalidArgument(kUsageErrorCode, std::move(message));
}

}  // namespace privlink::cli
