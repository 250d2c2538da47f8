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
//     the client's own address stays; the packet is redirected to the uplink (pl_uplink, else a
//     FIB lookup), never reaching
//     netfilter), counted in pl_stats. pl_backend_in (below) does the same at tc ingress of every
//     NIC's host-side veth, before the bridge.
//   pl_consumer_in at tc ingress of the uplink: src T_pe (a key of pl_tpe) becomes PE_IP and the
//     packet goes into the client NIC's veth peer (pl_nic; else FIB lookup and the subnet
//     bridge); a TCP SYN without ACK is dropped (the provider cannot open connections toward the
//     consumer).
// Provider VNet namespace (the provider's per-flow NAT, no conntrack for these flows):
//   pl_consumer_in (the same program: a VNet may be both) at tc ingress of the uplink: dst T_pe
//     (a key of pl_svc). A known flow (pl_flow) is rewritten to backend:port from NAT IP:port;
//     a TCP SYN without ACK or a UDP datagram without a flow picks the backend of its bucket in
//     pl_lb and a free NAT port in PL_FP_BPF_NAT_PORT_MIN..MAX (looked up first, then a pl_rflow
//     insert with BPF_NOEXIST; a closed or idle flow's port is taken over in place), records
//     pl_flow and pl_rflow and goes, fully NATed, into the backend NIC's veth peer. A TCP
//     flow's entries are deleted as its last packet passes (a RST, or the final ACK after both
//     FINs), so the maps hold live flows only. Other misses (flows the nft path
//     started, ports no rule exposes: no pl_lb key) pass on to the stack and its nft rules.
//   pl_backend_in at tc ingress of every NIC's host-side veth: a reply whose tuple is a key of
//     pl_rflow is un-NATed (T_pe:port -> client) and goes into the uplink's peer (the backbone);
//     FIN/RST mark the flow's state, and the end of the flow deletes its entries. It never
//     creates a flow. A client's packet toward a private endpoint (pl_pe) is checked first.
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
#define PL_U8 std::uint8_t
#else
#define PL_U8 __u8
#define PL_U32 __u32
#define PL_U16 __u16
#define PL_U64 __u64
#endif

#define PL_FP_MAX_ENDPOINTS 65536
#define PL_FP_MAX_UDP_FLOWS 65536
#define PL_FP_MAX_FLOWS 262144   // provider flows (pl_flow, pl_rflow)
#define PL_FP_MAX_NICS 65536      // pl_nic
#define PL_FP_LB_BUCKETS 64       // agent/compile.h kLbBuckets
// NAT ports the provider program picks (host order, inclusive); the nft SNAT of the same VNet
// uses PL_FP_NFT_NAT_PORT_MIN..PL_FP_BPF_NAT_PORT_MIN-1, so the two never pick the same tuple.
#define PL_FP_NFT_NAT_PORT_MIN 1024
#define PL_FP_BPF_NAT_PORT_MIN 32768
#define PL_FP_BPF_NAT_PORT_MAX 65535
#define PL_FP_NAT_PROBES 32       // tries of a free NAT port per new flow
#define PL_FP_UDP_IDLE_NS 120000000000ull  // an idle UDP flow's NAT port is free after this

// Map names (the pin file names).
#define PL_FP_MAP_PE "pl_pe"
#define PL_FP_MAP_TPE "pl_tpe"
#define PL_FP_MAP_BB "pl_bb"
#define PL_FP_MAP_STATS "pl_stats"
#define PL_FP_MAP_CONFIG "pl_config"
#define PL_FP_MAP_UDP_FLOWS "pl_udp_flows"
#define PL_FP_MAP_NIC "pl_nic"
#define PL_FP_MAP_SVC "pl_svc"
#define PL_FP_MAP_LB "pl_lb"
#define PL_FP_MAP_FLOW "pl_flow"
#define PL_FP_MAP_RFLOW "pl_rflow"
#define PL_FP_MAP_UPLINK "pl_uplink"

// Program names (as the kernel reports them).
#define PL_FP_PROG_CONSUMER_OUT "pl_consumer_out"
#define PL_FP_PROG_CONSUMER_IN "pl_consumer_in"
#define PL_FP_PROG_BACKBONE "pl_backbone"
#define PL_FP_PROG_BACKEND_IN "pl_backend_in"

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

// pl_nic (consumer): key a NIC address of the VNet; where pl_consumer_in hands replies to it.
struct pl_nic_value {
  PL_U32 ifindex;    // host-side veth of the NIC (a bridge port) in the VNet namespace
  PL_U8 mac[6];      // the NIC's own MAC (eth0 in its namespace)
  PL_U8 gw_mac[6];   // the subnet bridge's MAC (source of what the NIC receives)
};

// pl_uplink (consumer, array, key 0): the VNet's uplink, where a client's translated packet goes
// (into its peer, the backbone) without a FIB lookup per packet. Every T_pe is routed there.
// ifindex 0 (never written) means: look the route up.
struct pl_uplink_value {
  PL_U32 ifindex;  // the uplink in the VNet namespace
  PL_U8 smac[6];   // its MAC
  PL_U8 dmac[6];   // its backbone-side peer's MAC
};

// pl_svc (provider): key T_pe of a translated endpoint whose PLS fronts a frontend of this VNet.
struct pl_svc_value {
  PL_U32 mark;    // the frontend's mark (agent/compile.h frontendMark): key part of pl_lb
  PL_U32 nat_ip;  // the PLS NAT IP the endpoint's flows are source-NATed to
};

// pl_lb (provider): the rendezvous buckets of every load-balancing rule, as the nft lb_dnat map
// holds them (only healthy backends). A missing key: port not exposed or no healthy backend.
struct pl_lb_key {
  PL_U32 mark;
  PL_U16 port;  // frontend port, network order
  PL_U8 proto;  // IPPROTO_TCP / IPPROTO_UDP
  PL_U8 bucket; // 0 .. PL_FP_LB_BUCKETS-1
};
struct pl_lb_value {
  PL_U32 backend;  // backend address
  PL_U32 ifindex;  // host-side veth of the backend's NIC in the VNet namespace
  PL_U16 port;     // backend port, network order
  PL_U8 mac[6];    // the backend NIC's MAC
};

// pl_flow / pl_rflow (provider, LRU hashes): one provider NAT flow each way. Forward key: the
// original tuple (client, T_pe, client port, frontend port); reverse key: the backend side
// (backend, NAT IP, backend port, NAT port). Ports network order; pad zero.
struct pl_flow_key {
  PL_U32 saddr;
  PL_U32 daddr;
  PL_U16 sport;
  PL_U16 dport;
  PL_U8 proto;
  PL_U8 pad[3];
};
#define PL_FLOW_FIN_OUT 0x1u  // FIN seen client -> service
#define PL_FLOW_FIN_IN 0x2u   // FIN seen service -> client
#define PL_FLOW_RST 0x4u      // RST seen either way
// A TCP flow is closed (no longer holds its NAT port) with both FINs or a RST.
#define PL_FLOW_CLOSED(state) ((((state) & 0x3u) == 0x3u) || ((state) & PL_FLOW_RST))
struct pl_flow_value {
  PL_U32 backend;
  PL_U32 nat_ip;
  PL_U16 backend_port;  // network order
  PL_U16 nat_port;      // network order
  PL_U32 ifindex;       // backend NIC's host-side veth
  PL_U8 mac[6];         // backend NIC's MAC
  PL_U8 proto;
  PL_U8 state;          // PL_FLOW_*
  PL_U64 last_seen;     // bpf_ktime_get_ns (CLOCK_MONOTONIC) of the last packet (UDP only)
};
struct pl_rflow_value {
  PL_U32 client;
  PL_U32 tpe;
  PL_U16 client_port;  // network order
  PL_U16 port;         // frontend port, network order
  PL_U32 ifindex;      // the VNet's uplink
  PL_U8 smac[6];       // the uplink's MAC
  PL_U8 dmac[6];       // its backbone-side peer's MAC
  PL_U32 pad;
};

// pl_config (array, key 0): flags; 0 (never written) means PL_FP_DEFAULT.
#define PL_FP_BACKBONE_FORWARD 0x1u  // backbone redirects consumer -> provider (else routed)
#define PL_FP_PEER 0x2u              // bpf_redirect_peer into a veth's peer (else bpf_redirect)
#define PL_FP_PROVIDER 0x4u          // provider NAT in eBPF (pl_svc/pl_lb/pl_flow; else nft)
#define PL_FP_CLIENT_PEER 0x8u       // pl_consumer_in into the client NIC's veth peer (pl_nic)
#define PL_FP_NIC_OUT 0x10u          // pl_backend_in translates clients' packets (skips the bridge)
#define PL_FP_UPLINK 0x20u           // clients' translated packets go to pl_uplink (no FIB lookup)
#define PL_FP_CONFIGURED 0x80000000u // set whenever the agent writes the flags
#define PL_FP_DEFAULT \
  (PL_FP_BACKBONE_FORWARD | PL_FP_PEER | PL_FP_PROVIDER | PL_FP_CLIENT_PEER | PL_FP_NIC_OUT | \
   PL_FP_UPLINK)
