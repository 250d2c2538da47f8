#pragma once
// The maps of the private endpoint fast path (issue #6 item 9; DESIGN.md §2), shared by the BPF C
// program (fast_path.bpf.c, compiled with clang -target bpf) and the C++ side (dataplane's
// loader, the agent's sync and endpoint counters). Plain C: fixed-size fields only, addresses in
// network byte order as they are on the wire, no padding holes.
//
// One instance of the BPF object per network namespace; its maps are pinned under
// /sys/fs/bpf/privlink/<namespace>/<map name>.
//
// Consumer VNet namespace (stateless, no conntrack for the endpoint's flows):
//   pl_consumer_out at tc ingress of every subnet bridge: dst PE_IP (a key of pl_pe) becomes T_pe,
//     the client's own address stays; the packet is redirected to the uplink (never reaching
//     netfilter), counted in pl_stats.
//   pl_consumer_in at tc ingress of the uplink: src T_pe (a key of pl_tpe) becomes PE_IP and the
//     packet is redirected to the subnet bridge of the client; a TCP SYN without ACK is dropped
//     (the provider cannot open connections toward the consumer).
// Backbone namespace:
//   pl_backbone at tc ingress of every backbone-side uplink: dst T_pe (a key of pl_bb) arriving
//     from the consumer's uplink is redirected to the provider's; src T_pe arriving from the
//     provider's uplink (a reply: the client address is not routable in the backbone) is
//     redirected to the consumer's uplink, SYN without ACK dropped; src T_pe from anywhere else
//     is dropped. Everything else goes on to the stack.
// Keys that are not in the maps (Pending/Rejected/Disconnected endpoints, PPv2 endpoints, other
// traffic) pass untouched to the nftables rules.

#ifdef __cplusplus
#include <cstdint>
#define PL_U32 std::uint32_t
#define PL_U16 std::uint16_t
#define PL_U64 std::uint64_t
#else
#define PL_U32 __u32
#define PL_U16 __u16
#define PL_U64 __u64
#endif

#define PL_FP_MAX_ENDPOINTS 65536
#define PL_FP_MAX_UDP_FLOWS 65536

// Map names (the pin file names).
#define PL_FP_MAP_PE "pl_pe"
#define PL_FP_MAP_TPE "pl_tpe"
#define PL_FP_MAP_BB "pl_bb"
#define PL_FP_MAP_STATS "pl_stats"
#define PL_FP_MAP_CONFIG "pl_config"
#define PL_FP_MAP_UDP_FLOWS "pl_udp_flows"

// Program names (as the kernel reports them).
#define PL_FP_PROG_CONSUMER_OUT "pl_consumer_out"
#define PL_FP_PROG_CONSUMER_IN "pl_consumer_in"
#define PL_FP_PROG_BACKBONE "pl_backbone"

// pl_pe (consumer): key PE_IP.
struct pl_pe_value {
  PL_U32 transit;  // T_pe
  PL_U32 link_id;  // key of pl_stats
};

// pl_tpe (consumer): key T_pe.
struct pl_tpe_value {
  PL_U32 address;  // PE_IP
  PL_U32 link_id;
};

// pl_bb (backbone): key T_pe.
struct pl_bb_value {
  PL_U32 consumer_ifindex;  // backbone side of the consumer VNet's uplink
  PL_U32 provider_ifindex;  // backbone side of the provider VNet's uplink
  PL_U32 consumer_transit;  // T_vnet of the consumer (next hop of replies)
  PL_U32 provider_transit;  // T_vnet of the provider
};

// pl_stats (consumer, per-CPU hash): key link identifier. The agent creates the entry (zeros);
// the programs only add to it.
struct pl_pe_stats {
  PL_U64 packets_out;  // client -> service
  PL_U64 bytes_out;
  PL_U64 packets_in;  // service -> client
  PL_U64 bytes_in;
  PL_U64 connections;  // TCP SYNs without ACK, plus UDP flows first seen (pl_udp_flows)
};

// pl_udp_flows (consumer, LRU hash; value: one byte, unused): UDP flows already counted.
struct pl_udp_flow_key {
  PL_U32 client;
  PL_U32 address;  // PE_IP
  PL_U16 client_port;
  PL_U16 port;
};

// pl_config (array, key 0): flags; 0 (never written) means PL_FP_DEFAULT.
#define PL_FP_BACKBONE_FORWARD 0x1u  // backbone redirects consumer -> provider (else routed)
#define PL_FP_PEER 0x2u              // bpf_redirect_peer into a veth's peer (else bpf_redirect)
#define PL_FP_CONFIGURED 0x80000000u // set whenever the agent writes the flags
#define PL_FP_DEFAULT (PL_FP_BACKBONE_FORWARD | PL_FP_PEER)
