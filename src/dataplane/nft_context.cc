// NftContext over libnftables.
#include "dataplane/nft_context.h"

#include <nftables/libnftables.h>

namespace privlink::dataplane {

void NftContext::Deleter::operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }

Result<NftContext> NftContext::create() {
  std::unique_ptr<nft_ctx, Deleter> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return Status::Internal("nft_ctx_new failed (out of memory?)");
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return Status::Internal("libnftables: cannot buffer output");
  }
  return NftContext(std::move(ctx));
}

Result<std::string> NftContext::run(const std::string& commands, std::string_view what) {
  int rc = nft_run_cmd_from_buffer(ctx_.get(), commands.c_str());
  // The buffers are reset by the next nft_run_cmd_*; copy them now.
  std::string output = nft_ctx_get_output_buffer(ctx_.get());
  std::string errors = nft_ctx_get_error_buffer(ctx_.get());
  if (rc == 0) return output;
  while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' ')) errors.pop_back();
  std::string message = std::string(what) + ": nft: " + (errors.empty() ? "failed" : errors);
  if (errors.find("No such file or directory") != std::string::npos) {
    return Status::NotFound("KernelObjectNotFound", std::move(message));
  }
  if (errors.find("File exists") != std::string::npos) {
    return Status::AlreadyExists("KernelObjectAlreadyExists", std::move(message));
  }
  return Status::Internal(std::move(message));
}

}  // namespace privlink::dataplane
