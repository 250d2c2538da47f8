// The private endpoint fast path at tc (see fast_path_maps.h for what each program does).
// Compiled with clang -target bpf at build time and embedded in privlink's binaries.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fast_path_maps.h"

#ifndef AF_INET
#define AF_INET 2
#endif

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PL_FP_MAX_ENDPOINTS);
  __type(key, __u32);
  __type(value, struct pl_pe_value);
} pl_pe SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PL_FP_MAX_ENDPOINTS);
  __type(key, __u32);
  __type(value, struct pl_tpe_value);
} pl_tpe SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PL_FP_MAX_ENDPOINTS);
  __type(key, __u32);
  __type(value, struct pl_bb_value);
} pl_bb SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, PL_FP_MAX_ENDPOINTS);
  __type(key, __u32);
  __type(value, struct pl_pe_stats);
} pl_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PL_FP_MAX_UDP_FLOWS);
  __type(key, struct pl_udp_flow_key);
  __type(value, __u8);
} pl_udp_flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} pl_config SEC(".maps");

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_SRC_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define L4_OFF (ETH_HLEN + sizeof(struct iphdr))
#define TCP_CSUM_OFF (L4_OFF + offsetof(struct tcphdr, check))
#define UDP_CSUM_OFF (L4_OFF + offsetof(struct udphdr, check))

static __always_inline __u32 config_flags(void) {
  __u32 zero = 0;
  __u32* flags = bpf_map_lookup_elem(&pl_config, &zero);
  if (!flags || !(*flags & PL_FP_CONFIGURED)) return PL_FP_DEFAULT;
  return *flags;
}

// What the parser found: an unfragmented IPv4 TCP/UDP packet without IP options.
struct packet {
  __u32 saddr;
  __u32 daddr;
  __u16 sport;
  __u16 dport;
  __u16 tot_len;
  __u8 protocol;
  __u8 tos;
  __u8 syn_only;  // TCP SYN without ACK
  __u8 udp_csum;  // UDP with a checksum (0 means none)
};

static __always_inline int parse(struct __sk_buff* skb, struct packet* p) {
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > end || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff))) return 0;
  p->saddr = ip->saddr;
  p->daddr = ip->daddr;
  p->protocol = ip->protocol;
  p->tos = ip->tos;
  p->tot_len = bpf_ntohs(ip->tot_len);
  p->syn_only = 0;
  p->udp_csum = 0;
  if (ip->protocol == IPPROTO_TCP) {
    struct tcphdr* tcp = (void*)(ip + 1);
    if ((void*)(tcp + 1) > end) return 0;
    p->sport = tcp->source;
    p->dport = tcp->dest;
    p->syn_only = tcp->syn && !tcp->ack;
    return 1;
  }
  if (ip->protocol == IPPROTO_UDP) {
    struct udphdr* udp = (void*)(ip + 1);
    if ((void*)(udp + 1) > end) return 0;
    p->sport = udp->source;
    p->dport = udp->dest;
    p->udp_csum = udp->check != 0;
    return 1;
  }
  return 0;
}

// Rewrites the source (offset IP_SRC_OFF) or destination address, fixing both checksums.
static __always_inline int rewrite(struct __sk_buff* skb, const struct packet* p, __u32 offset,
                                   __u32 from, __u32 to) {
  if (p->protocol == IPPROTO_TCP) {
    if (bpf_l4_csum_replace(skb, TCP_CSUM_OFF, from, to, BPF_F_PSEUDO_HDR | sizeof(to)) < 0)
      return -1;
  } else if (p->udp_csum) {
    if (bpf_l4_csum_replace(skb, UDP_CSUM_OFF, from, to,
                            BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | sizeof(to)) < 0)
      return -1;
  }
  if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, from, to, sizeof(to)) < 0) return -1;
  if (bpf_skb_store_bytes(skb, offset, &to, sizeof(to), 0) < 0) return -1;
  return 0;
}

// A FIB lookup in this namespace as if the packet came in on skb's device, for `src` -> `dst`.
// Returns the BPF_FIB_LKUP_RET_* code; on success `fib` holds the egress device and MACs.
static __always_inline int lookup(struct __sk_buff* skb, const struct packet* p, __u32 src,
                                  __u32 dst, struct bpf_fib_lookup* fib) {
  __builtin_memset(fib, 0, sizeof(*fib));
  fib->family = AF_INET;
  fib->tos = p->tos;
  fib->l4_protocol = p->protocol;
  fib->sport = p->sport;
  fib->dport = p->dport;
  // tot_len stays 0: no MTU check. GSO packets (64 KiB on veths) are segmented on the way out;
  // with a length the lookup would answer FRAG_NEEDED for every one of them.
  fib->ipv4_src = src;
  fib->ipv4_dst = dst;
  fib->ifindex = skb->ingress_ifindex;
  return bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
}

// Sends the packet out of fib->ifindex with the MACs of a successful lookup: into the veth's
// peer directly when `peer` (the peer's ingress runs at once, no backlog), else through the
// device's transmit path.
static __always_inline int forward(struct __sk_buff* skb, struct bpf_fib_lookup* fib, int peer) {
  if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), fib->dmac, ETH_ALEN, 0) < 0 ||
      bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_source), fib->smac, ETH_ALEN, 0) < 0)
    return TC_ACT_SHOT;
  if (peer) return bpf_redirect_peer(fib->ifindex, 0);
  return bpf_redirect(fib->ifindex, 0);
}

static __always_inline void count_out(struct __sk_buff* skb, const struct packet* p,
                                      __u32 link_id) {
  struct pl_pe_stats* s = bpf_map_lookup_elem(&pl_stats, &link_id);
  if (!s) return;
  s->packets_out += 1;
  s->bytes_out += skb->len - ETH_HLEN;  // IP bytes, as the nft counters count
  if (p->syn_only) {
    s->connections += 1;
  } else if (p->protocol == IPPROTO_UDP) {
    struct pl_udp_flow_key k = {p->saddr, p->daddr, p->sport, p->dport};
    if (!bpf_map_lookup_elem(&pl_udp_flows, &k)) {
      __u8 one = 1;
      bpf_map_update_elem(&pl_udp_flows, &k, &one, BPF_ANY);
      s->connections += 1;
    }
  }
}

SEC("tc")
int pl_consumer_out(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return TC_ACT_OK;
  struct pl_pe_value* pe = bpf_map_lookup_elem(&pl_pe, &p.daddr);
  if (!pe) return TC_ACT_OK;
  const __u32 transit = pe->transit;
  const __u32 link_id = pe->link_id;
  struct bpf_fib_lookup fib;
  int rc = lookup(skb, &p, p.saddr, transit, &fib);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) return TC_ACT_OK;
  if (rewrite(skb, &p, IP_DST_OFF, p.daddr, transit) < 0) return TC_ACT_SHOT;
  count_out(skb, &p, link_id);
  if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
  return forward(skb, &fib, config_flags() & PL_FP_PEER);
}

SEC("tc")
int pl_consumer_in(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return TC_ACT_OK;
  struct pl_tpe_value* tpe = bpf_map_lookup_elem(&pl_tpe, &p.saddr);
  if (!tpe) return TC_ACT_OK;
  if (p.syn_only) return TC_ACT_SHOT;
  const __u32 address = tpe->address;
  const __u32 link_id = tpe->link_id;
  struct bpf_fib_lookup fib;
  int rc = lookup(skb, &p, address, p.daddr, &fib);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) return TC_ACT_SHOT;
  if (rewrite(skb, &p, IP_SRC_OFF, p.saddr, address) < 0) return TC_ACT_SHOT;
  struct pl_pe_stats* s = bpf_map_lookup_elem(&pl_stats, &link_id);
  if (s) {
    s->packets_in += 1;
    s->bytes_in += skb->len - ETH_HLEN;
  }
  if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
  return forward(skb, &fib, 0);  // the client is behind a bridge, not a veth peer
}

SEC("tc")
int pl_backbone(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return TC_ACT_OK;
  const __u32 flags = config_flags();
  struct bpf_fib_lookup fib;
  struct pl_bb_value* to = bpf_map_lookup_elem(&pl_bb, &p.daddr);
  if (to) {
    if (!(flags & PL_FP_BACKBONE_FORWARD) || skb->ingress_ifindex != to->consumer_ifindex)
      return TC_ACT_OK;  // routed; the provider's rules decide
    int rc = lookup(skb, &p, p.saddr, p.daddr, &fib);
    if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
    if (rc != BPF_FIB_LKUP_RET_SUCCESS) return TC_ACT_OK;
    return forward(skb, &fib, flags & PL_FP_PEER);
  }
  struct pl_bb_value* from = bpf_map_lookup_elem(&pl_bb, &p.saddr);
  if (!from) return TC_ACT_OK;
  if (skb->ingress_ifindex != from->provider_ifindex || p.syn_only) return TC_ACT_SHOT;
  const __u32 ifindex = from->consumer_ifindex;
  const __u32 next_hop = from->consumer_transit;
  // The client's address means nothing here: look up the consumer's T_vnet instead.
  int rc = lookup(skb, &p, p.saddr, next_hop, &fib);
  if (rc == BPF_FIB_LKUP_RET_SUCCESS && fib.ifindex == ifindex)
    return forward(skb, &fib, flags & PL_FP_PEER);
  struct bpf_redir_neigh nh = {};
  nh.nh_family = AF_INET;
  nh.ipv4_nh = next_hop;
  return bpf_redirect_neigh(ifindex, &nh, sizeof(nh), 0);
}

char LICENSE[] SEC("license") = "GPL";
