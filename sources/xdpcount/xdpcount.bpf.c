// SPDX-License-Identifier: GPL-2.0
/* xdpcount: packets and bytes received per IP protocol; every packet passes. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ebpf_hub.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
/* Key of the packets that are neither IPv4 nor IPv6 (IP protocols are 0-255). */
#define PROTO_NON_IP 256

struct proto_stat {
	__u64 packets;
	__u64 bytes;
};

/* Per IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 256 non-IP). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 257);
	__type(key, __u32);
	__type(value, struct proto_stat);
} counts SEC(".maps");

/* The IP protocol of a packet, or PROTO_NON_IP. */
static __always_inline __u32 ip_protocol(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip;

	if ((void *)(eth + 1) > data_end)
		return PROTO_NON_IP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return PROTO_NON_IP;
		return ip->protocol;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return PROTO_NON_IP;
		return ip6->nexthdr;
	}
	return PROTO_NON_IP;
}

SEC("xdp")
int xdp_count_protocols(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 proto = ip_protocol(data, data_end);
	struct proto_stat *st, zero = {};

	st = bpf_map_lookup_elem(&counts, &proto);
	if (!st) {
		bpf_map_update_elem(&counts, &proto, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&counts, &proto);
		if (!st)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, data_end - data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
