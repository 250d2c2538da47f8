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
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PL_FP_MAX_NICS);
  __type(key, __u32);
  __type(value, struct pl_nic_value);
} pl_nic SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PL_FP_MAX_ENDPOINTS);
  __type(key, __u32);
  __type(value, struct pl_svc_value);
} pl_svc SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PL_FP_MAX_ENDPOINTS);
  __type(key, struct pl_lb_key);
  __type(value, struct pl_lb_value);
} pl_lb SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PL_FP_MAX_FLOWS);
  __type(key, struct pl_flow_key);
  __type(value, struct pl_flow_value);
} pl_flow SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, PL_FP_MAX_FLOWS);
  __type(key, struct pl_flow_key);
  __type(value, struct pl_rflow_value);
} pl_rflow SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} pl_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pl_uplink_value);
} pl_uplink SEC(".maps");

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
  __u8 fin;       // TCP FIN
  __u8 rst;       // TCP RST
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
  p->fin = 0;
  p->rst = 0;
  if (ip->protocol == IPPROTO_TCP) {
    struct tcphdr* tcp = (void*)(ip + 1);
    if ((void*)(tcp + 1) > end) return 0;
    p->sport = tcp->source;
    p->dport = tcp->dest;
    p->syn_only = tcp->syn && !tcp->ack;
    p->fin = tcp->fin;
    p->rst = tcp->rst;
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

// One's complement arithmetic (RFC 1624) for the checksum helpers' "by difference" form (size
// 0): the difference of replacing 32-bit words is the sum of ~old and new, so one helper call
// fixes a checksum for several rewritten fields, and the fields themselves are written directly.
static __always_inline __u32 csum_add(__u32 sum, __u32 addend) {
  sum += addend;
  return sum + (sum < addend);
}
static __always_inline __u32 csum_replace(__u32 from, __u32 to) { return csum_add(~from, to); }

// Fixes the L4 checksum for addresses changed by `address_diff` (part of the pseudo header) and
// the port word (source and destination port as they lie in memory) changed from `old_ports` to
// `new_ports`. A UDP datagram without a checksum keeps none.
static __always_inline int l4_checksum(struct __sk_buff* skb, const struct packet* p,
                                       __u32 address_diff, __u32 old_ports, __u32 new_ports) {
  __u32 offset;
  __u64 mangled = 0;
  if (p->protocol == IPPROTO_TCP) {
    offset = TCP_CSUM_OFF;
  } else if (p->udp_csum) {
    offset = UDP_CSUM_OFF;
    mangled = BPF_F_MARK_MANGLED_0;
  } else {
    return 0;
  }
  if (bpf_l4_csum_replace(skb, offset, 0, address_diff, BPF_F_PSEUDO_HDR | mangled) < 0) return -1;
  if (old_ports != new_ports &&
      bpf_l4_csum_replace(skb, offset, 0, csum_replace(old_ports, new_ports), mangled) < 0)
    return -1;
  return 0;
}

// The headers of a parsed packet, for direct writes (after helpers that may move the data).
struct headers {
  struct ethhdr* eth;
  struct iphdr* ip;
  __u32* ports;  // source and destination port
};
static __always_inline int headers(struct __sk_buff* skb, struct headers* h) {
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  h->eth = data;
  h->ip = data + ETH_HLEN;
  h->ports = data + L4_OFF;
  return (void*)(h->ports + 1) <= end;
}

// Rewrites the source (offset IP_SRC_OFF) or destination address, fixing both checksums.
static __always_inline int rewrite(struct __sk_buff* skb, const struct packet* p, __u32 offset,
                                   __u32 from, __u32 to) {
  const __u32 diff = csum_replace(from, to);
  if (l4_checksum(skb, p, diff, 0, 0) < 0) return -1;
  if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, diff, 0) < 0) return -1;
  struct headers h;
  if (!headers(skb, &h)) return -1;
  if (offset == IP_SRC_OFF)
    h.ip->saddr = to;
  else
    h.ip->daddr = to;
  return 0;
}

// Sets the Ethernet addresses (the packet's headers were checked by `headers`).
static __always_inline int set_macs(struct __sk_buff* skb, const __u8* smac, const __u8* dmac) {
  struct headers h;
  if (!headers(skb, &h)) return -1;
  __builtin_memcpy(h.eth->h_dest, dmac, ETH_ALEN);
  __builtin_memcpy(h.eth->h_source, smac, ETH_ALEN);
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
  if (set_macs(skb, fib->smac, fib->dmac) < 0) return TC_ACT_SHOT;
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

// A client's packet to private endpoint `pe` (the value of its pl_pe key p_->daddr).
static __always_inline int consumer_out(struct __sk_buff* skb, const struct packet* p_,
                                        const struct pl_pe_value* pe) {
  struct packet p = *p_;
  const __u32 transit = pe->transit;
  const __u32 link_id = pe->link_id;
  const __u32 flags = config_flags();
  // The way to the uplink: pl_uplink as the agent wrote it, else a FIB lookup.
  __u32 zero = 0;
  struct pl_uplink_value* up = 0;
  if (flags & PL_FP_UPLINK) up = bpf_map_lookup_elem(&pl_uplink, &zero);
  struct bpf_fib_lookup fib;
  int rc = BPF_FIB_LKUP_RET_SUCCESS;
  if (up && up->ifindex) {
    fib.ifindex = up->ifindex;
    __builtin_memcpy(fib.smac, up->smac, ETH_ALEN);
    __builtin_memcpy(fib.dmac, up->dmac, ETH_ALEN);
  } else {
    rc = lookup(skb, &p, p.saddr, transit, &fib);
    if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) return TC_ACT_OK;
  }
  if (rewrite(skb, &p, IP_DST_OFF, p.daddr, transit) < 0) return TC_ACT_SHOT;
  count_out(skb, &p, link_id);
  if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
  return forward(skb, &fib, flags & PL_FP_PEER);
}

SEC("tc")
int pl_consumer_out(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return TC_ACT_OK;
  struct pl_pe_value* pe = bpf_map_lookup_elem(&pl_pe, &p.daddr);
  if (!pe) return TC_ACT_OK;
  return consumer_out(skb, &p, pe);
}

// Full NAT of one packet: both addresses and ports, then the MACs; each checksum is fixed by one
// helper call per kind of field.
static __always_inline int nat4(struct __sk_buff* skb, const struct packet* p, __u32 saddr,
                                __u32 daddr, __u16 sport, __u16 dport, const __u8* smac,
                                const __u8* dmac) {
  const __u32 address_diff =
      csum_add(csum_replace(p->saddr, saddr), csum_replace(p->daddr, daddr));
  const __u32 old_ports = (__u32)p->sport | ((__u32)p->dport << 16);
  const __u32 new_ports = (__u32)sport | ((__u32)dport << 16);
  if (l4_checksum(skb, p, address_diff, old_ports, new_ports) < 0) return -1;
  if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, address_diff, 0) < 0) return -1;
  struct headers h;
  if (!headers(skb, &h)) return -1;
  __builtin_memcpy(h.eth->h_dest, dmac, ETH_ALEN);
  __builtin_memcpy(h.eth->h_source, smac, ETH_ALEN);
  h.ip->saddr = saddr;
  h.ip->daddr = daddr;
  *h.ports = new_ports;
  return 0;
}

// jhash's final mix of three words.
#define ROL32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
static __always_inline __u32 mix3(__u32 a, __u32 b, __u32 c) {
  c ^= b; c -= ROL32(b, 14);
  a ^= c; a -= ROL32(c, 11);
  b ^= a; b -= ROL32(a, 25);
  c ^= b; c -= ROL32(b, 16);
  a ^= c; a -= ROL32(c, 4);
  b ^= a; b -= ROL32(a, 14);
  c ^= b; c -= ROL32(b, 24);
  return c;
}

static __always_inline void flow_key(struct pl_flow_key* k, __u32 saddr, __u32 daddr, __u16 sport,
                                     __u16 dport, __u8 proto) {
  __builtin_memset(k, 0, sizeof(*k));
  k->saddr = saddr;
  k->daddr = daddr;
  k->sport = sport;
  k->dport = dport;
  k->proto = proto;
}

// Whether a TCP packet ends its flow: a RST, or the final ACK (no FIN) after both FINs, whichever
// side closed first. The flow's entries are deleted once the packet is translated, so that the
// maps hold live flows only: the next SYN finds a free NAT port at its first probe and reuses a
// recently freed (cache-warm) element. A FIN retransmitted after that, or the second final ACK
// of a simultaneous close, meets the nft rules and is dropped there; the peer's retransmission
// timer ends that connection, as it would have anyway.
static __always_inline int tcp_flow_ends(const struct packet* p, __u8 state) {
  return p->protocol == IPPROTO_TCP && (p->rst || ((state & 0x3u) == 0x3u && !p->fin));
}

// Whether the flow behind a reverse entry no longer holds its NAT port (closed TCP, idle UDP or
// already gone from pl_flow).
static __always_inline int rflow_free(const struct pl_rflow_value* r, __u8 proto, __u64 now) {
  struct pl_flow_key k;
  flow_key(&k, r->client, r->tpe, r->client_port, r->port, proto);
  struct pl_flow_value* f = bpf_map_lookup_elem(&pl_flow, &k);
  if (!f) return 1;
  if (proto == IPPROTO_TCP) return PL_FLOW_CLOSED(f->state);
  return now - f->last_seen > PL_FP_UDP_IDLE_NS;
}

// A new provider flow for `p` (dst T_pe of `svc`): the backend of the flow's bucket, a free NAT
// port of svc->nat_ip in the BPF range (reverse entry inserted first, BPF_NOEXIST), then the
// forward entry. Returns 0 with `out` filled, -1 when there is no backend or no free port.
static __always_inline int new_flow(struct __sk_buff* skb, const struct packet* p,
                                    const struct pl_svc_value* svc, const struct pl_flow_key* fk,
                                    struct pl_flow_value* out) {
  const __u32 h = mix3(p->saddr, p->daddr ^ ((__u32)p->protocol << 24),
                       ((__u32)p->sport << 16) | p->dport);
  struct pl_lb_key lk = {};
  lk.mark = svc->mark;
  lk.port = p->dport;
  lk.proto = p->protocol;
  lk.bucket = h % PL_FP_LB_BUCKETS;
  struct pl_lb_value* be = bpf_map_lookup_elem(&pl_lb, &lk);
  if (!be) return -1;
  const __u64 now = bpf_ktime_get_ns();
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return -1;
  struct pl_rflow_value rv = {};
  rv.client = p->saddr;
  rv.tpe = p->daddr;
  rv.client_port = p->sport;
  rv.port = p->dport;
  rv.ifindex = skb->ingress_ifindex;
  __builtin_memcpy(rv.smac, eth->h_dest, ETH_ALEN);
  __builtin_memcpy(rv.dmac, eth->h_source, ETH_ALEN);
  __builtin_memset(out, 0, sizeof(*out));
  out->backend = be->backend;
  out->nat_ip = svc->nat_ip;
  out->backend_port = be->port;
  out->ifindex = be->ifindex;
  __builtin_memcpy(out->mac, be->mac, ETH_ALEN);
  out->proto = p->protocol;
  out->last_seen = now;
  const __u32 span = PL_FP_BPF_NAT_PORT_MAX - PL_FP_BPF_NAT_PORT_MIN + 1;
  const __u32 start = mix3(h, be->backend, svc->nat_ip);
  // Each probe looks the port up first: a free port is inserted (BPF_NOEXIST, so that a flow
  // started at the same time on another CPU keeps its port), and a port whose flow has closed is
  // taken over in place, its old forward entry deleted. No failed insert, no replaced element:
  // an LRU insert or replace costs a node of the LRU lists each.
  struct pl_flow_key rk;
  for (__u32 i = 0; i < PL_FP_NAT_PROBES; i++) {
    const __u16 port = bpf_htons((__u16)(PL_FP_BPF_NAT_PORT_MIN + (start + i * 7919u) % span));
    flow_key(&rk, be->backend, svc->nat_ip, be->port, port, p->protocol);
    struct pl_rflow_value* old = bpf_map_lookup_elem(&pl_rflow, &rk);
    if (!old) {
      if (bpf_map_update_elem(&pl_rflow, &rk, &rv, BPF_NOEXIST) == 0) {
        out->nat_port = port;
        break;
      }
      continue;
    }
    if (!rflow_free(old, p->protocol, now)) continue;
    struct pl_flow_key ok;
    flow_key(&ok, old->client, old->tpe, old->client_port, old->port, p->protocol);
    if (ok.saddr != fk->saddr || ok.daddr != fk->daddr || ok.sport != fk->sport ||
        ok.dport != fk->dport)
      bpf_map_delete_elem(&pl_flow, &ok);
    __builtin_memcpy(old, &rv, sizeof(rv));
    out->nat_port = port;
    break;
  }
  if (!out->nat_port) return -1;
  if (bpf_map_update_elem(&pl_flow, fk, out, BPF_ANY) != 0) {
    bpf_map_delete_elem(&pl_rflow, &rk);
    return -1;
  }
  return 0;
}

// Provider side of the uplink (see pl_consumer_in): dst T_pe of pl_svc.
static __always_inline int provider_in(struct __sk_buff* skb, const struct packet* p) {
  struct pl_svc_value* svc = bpf_map_lookup_elem(&pl_svc, &p->daddr);
  if (!svc) return TC_ACT_OK;
  struct pl_flow_key fk;
  flow_key(&fk, p->saddr, p->daddr, p->sport, p->dport, p->protocol);
  struct pl_flow_value flow;
  struct pl_flow_value* f = bpf_map_lookup_elem(&pl_flow, &fk);
  if (f && p->syn_only && PL_FLOW_CLOSED(f->state)) {
    // The client reuses a closed flow's tuple: a new connection, chosen afresh.
    struct pl_flow_key rk;
    flow_key(&rk, f->backend, f->nat_ip, f->backend_port, f->nat_port, p->protocol);
    bpf_map_delete_elem(&pl_rflow, &rk);
    bpf_map_delete_elem(&pl_flow, &fk);
    f = 0;
  }
  int ends = 0;
  if (f) {
    __u8 state = f->state;
    if (p->fin) state |= PL_FLOW_FIN_OUT;
    if (p->rst) state |= PL_FLOW_RST;
    if (state != f->state) f->state = state;
    ends = tcp_flow_ends(p, state);
    if (p->protocol == IPPROTO_UDP) {
      const __u64 now = bpf_ktime_get_ns();
      if (now - f->last_seen > 1000000000ull) f->last_seen = now;
    }
    __builtin_memcpy(&flow, f, sizeof(flow));
  } else {
    // Only a TCP SYN or a UDP datagram starts a flow; anything else (a flow the nft path
    // started) goes on to the stack.
    if (!p->syn_only && p->protocol != IPPROTO_UDP) return TC_ACT_OK;
    if (new_flow(skb, p, svc, &fk, &flow) < 0) return TC_ACT_OK;
  }
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return TC_ACT_SHOT;
  __u8 smac[ETH_ALEN];
  __builtin_memcpy(smac, eth->h_dest, ETH_ALEN);
  if (nat4(skb, p, flow.nat_ip, flow.backend, flow.nat_port, flow.backend_port, smac, flow.mac) <
      0)
    return TC_ACT_SHOT;
  if (ends) {
    struct pl_flow_key rk;
    flow_key(&rk, flow.backend, flow.nat_ip, flow.backend_port, flow.nat_port, p->protocol);
    bpf_map_delete_elem(&pl_rflow, &rk);
    bpf_map_delete_elem(&pl_flow, &fk);
  }
  return bpf_redirect_peer(flow.ifindex, 0);
}

// Consumer VNet uplink: src T_pe of pl_tpe (a reply toward a client). Provider VNet uplink (the
// same program: a VNet can be both): dst T_pe of pl_svc, when PL_FP_PROVIDER.
SEC("tc")
int pl_consumer_in(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return TC_ACT_OK;
  struct pl_tpe_value* tpe = bpf_map_lookup_elem(&pl_tpe, &p.saddr);
  if (!tpe) {
    if (!(config_flags() & PL_FP_PROVIDER)) return TC_ACT_OK;
    return provider_in(skb, &p);
  }
  if (p.syn_only) return TC_ACT_SHOT;
  const __u32 address = tpe->address;
  const __u32 link_id = tpe->link_id;
  struct pl_nic_value* nic = 0;
  if (config_flags() & PL_FP_CLIENT_PEER) nic = bpf_map_lookup_elem(&pl_nic, &p.daddr);
  struct bpf_fib_lookup fib;
  int rc = BPF_FIB_LKUP_RET_SUCCESS;
  if (!nic) {
    rc = lookup(skb, &p, address, p.daddr, &fib);
    if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) return TC_ACT_SHOT;
  }
  if (rewrite(skb, &p, IP_SRC_OFF, p.saddr, address) < 0) return TC_ACT_SHOT;
  struct pl_pe_stats* s = bpf_map_lookup_elem(&pl_stats, &link_id);
  if (s) {
    s->packets_in += 1;
    s->bytes_in += skb->len - ETH_HLEN;
  }
  if (nic) {
    const __u32 ifindex = nic->ifindex;
    if (set_macs(skb, nic->gw_mac, nic->mac) < 0) return TC_ACT_SHOT;
    return bpf_redirect_peer(ifindex, 0);
  }
  if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
  return forward(skb, &fib, 0);  // the client is behind a bridge, not a veth peer
}

// Tc ingress of each NIC's host-side veth. Provider VNet: a reply of a pl_flow flow (reverse
// entry) is un-NATed and sent into the uplink's peer (the backbone); never creates a flow.
// Consumer VNet: what pl_consumer_out does on the bridge. Anything else goes on to the bridge.
SEC("tc")
int pl_backend_in(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return TC_ACT_OK;
  const __u32 flags = config_flags();
  if (flags & PL_FP_NIC_OUT) {
    // A client of this VNet toward a private endpoint leaves here already, without crossing the
    // bridge (else pl_consumer_out on the bridge takes it). A provider reply goes to a NAT IP,
    // never to an endpoint's address: both are addresses of this VNet's subnets.
    struct pl_pe_value* pe = bpf_map_lookup_elem(&pl_pe, &p.daddr);
    if (pe) return consumer_out(skb, &p, pe);
  }
  if (!(flags & PL_FP_PROVIDER)) return TC_ACT_OK;
  struct pl_flow_key rk;
  flow_key(&rk, p.saddr, p.daddr, p.sport, p.dport, p.protocol);
  struct pl_rflow_value* r = bpf_map_lookup_elem(&pl_rflow, &rk);
  if (!r) return TC_ACT_OK;
  struct pl_rflow_value rv;
  __builtin_memcpy(&rv, r, sizeof(rv));
  struct pl_flow_key fk;
  flow_key(&fk, rv.client, rv.tpe, rv.client_port, rv.port, p.protocol);
  struct pl_flow_value* f = bpf_map_lookup_elem(&pl_flow, &fk);
  if (!f || f->nat_port != p.dport || f->backend != p.saddr) return TC_ACT_OK;  // stale
  __u8 state = f->state;
  if (p.fin || p.rst) {
    if (p.fin) state |= PL_FLOW_FIN_IN;
    if (p.rst) state |= PL_FLOW_RST;
    f->state = state;
  }
  if (nat4(skb, &p, rv.tpe, rv.client, rv.port, rv.client_port, rv.smac, rv.dmac) < 0)
    return TC_ACT_SHOT;
  if (tcp_flow_ends(&p, state)) {
    bpf_map_delete_elem(&pl_rflow, &rk);
    bpf_map_delete_elem(&pl_flow, &fk);
  }
  return bpf_redirect_peer(rv.ifindex, 0);
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
    // Into the provider's uplink directly: its ingress runs at once with the packet scrubbed to
    // PACKET_HOST, and the provider's programs set the MACs they send with (no FIB lookup).
    if ((flags & PL_FP_PEER) && (flags & PL_FP_PROVIDER))
      return bpf_redirect_peer(to->provider_ifindex, 0);
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
  // pl_consumer_in sets the MACs toward the client (pl_nic) or looks them up itself.
  if ((flags & PL_FP_PEER) && (flags & PL_FP_CLIENT_PEER)) return bpf_redirect_peer(ifindex, 0);
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
