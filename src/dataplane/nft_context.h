#pragma once
// NftContext: one libnftables context (nft_ctx_new / nft_ctx_free) with output and errors
// buffered. libnftables talks to the kernel through its own netlink socket in the namespace of the
// calling thread, so create and use a context inside a NamespaceGuard for the namespace it is
// meant for. Move-only; not thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct nft_ctx;

namespace privlink::dataplane {

class NftContext {
 public:
  static Result<NftContext> create();

  // Runs `commands` (nft syntax, several lines). The whole buffer is one transaction: either every
  // command takes effect or none does. Returns what nft printed (for `list ...`); on failure the
  // Status carries nft's own error text, prefixed with `what`: NotFound when nft reports a missing
  // object, AlreadyExists for an existing one, else Internal.
  Result<std::string> run(const std::string& commands, std::string_view what);

 private:
  struct Deleter {
    void operator()(nft_ctx* ctx) const;
  };
  explicit NftContext(std::unique_ptr<nft_ctx, Deleter> ctx) : ctx_(std::move(ctx)) {}
  std::unique_ptr<nft_ctx, Deleter> ctx_;
};

}  // namespace privlink::dataplane
