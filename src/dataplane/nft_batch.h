#pragma once
// Raw nf_tables netlink (libnftnl + libmnl), for the calls whose cost must not grow with the size
// of a table: libnftables fills its cache by dumping the whole table (every set element) before
// each command, these do not. Each function opens a NETLINK_NETFILTER socket in the calling
// thread's network namespace (enter it first: netns.h), does one exchange and closes it.
// Errors are kernelError() statuses naming `what` (kernel_error.h).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dataplane/kernel.h"

namespace privlink::dataplane {

// The key/data layout of one named set or map, as the kernel reports it (NFT_MSG_GETSET).
struct NftSetLayout {
  std::string name;
  uint32_t keyType = 0;  // nftables datatype id; concatenations: 6 bits per part, first highest
  uint32_t keyLength = 0;
  uint32_t dataType = 0;  // 0 for a set
  uint32_t dataLength = 0;
  bool objectMap = false;  // map to named objects (`type K : counter`)
};

// Encodes `text` (as `nft list` prints it) for a key or data of nftables type `type` (a datatype
// id or a concatenation of them) whose total length the kernel says is `length`. Supported parts:
// ipv4_addr (7), ipv6_addr (8), inet_proto (12), inet_service (13), mark (19); every part of a
// concatenation takes a multiple of 4 bytes. InvalidArgument otherwise.
Result<std::vector<uint8_t>> encodeNftValue(uint32_t type, uint32_t length, std::string_view text);

// The sets and maps of table `family table`.
Result<std::vector<NftSetLayout>> nftSetLayouts(const std::string& family,
                                                const std::string& table, std::string_view what);

// Kernel::nftUpdateElements for the calling thread's namespace: one batch (begin, one message
// per change, end), every message acknowledged.
Status nftUpdateElementsHere(const std::string& family, const std::string& table,
                             const std::vector<NftElementChange>& changes, std::string_view what);

// The same changes as nft commands ("add element family table set { key : value }", "delete
// counter family table name", one per line): what libnftables takes when the raw batch cannot
// encode an element, and what the fake kernel records.
std::string nftElementChangesText(const std::string& family, const std::string& table,
                                  const std::vector<NftElementChange>& changes);

// Kernel::nftGeneration for the calling thread's namespace (NFT_MSG_GETGEN).
Result<uint32_t> nftGenerationHere(std::string_view what);

// "family name" of every nftables table of the calling thread's namespace (NFT_MSG_GETTABLE dump;
// no set or element is read).
Result<std::vector<std::string>> nftTableNamesHere(std::string_view what);

}  // namespace privlink::dataplane
