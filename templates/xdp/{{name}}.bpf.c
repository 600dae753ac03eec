// SPDX-License-Identifier: GPL-2.0
/* {{name}}: packets and bytes received per IP protocol; every packet passes. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ebpf_hub.h"
#include "{{name}}.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* An output map (output.maps in ebpf-hub.yaml): `ebpf-hub run` prints it every interval.
 * Key: the IP protocol number; value: what arrived with it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 257);
	__type(key, __u32);
	__type(value, struct counter);
} counts SEC(".maps");

/* The IP protocol of a packet. Every read is checked against data_end first: the
 * verifier refuses a program that could read past the packet. */
static __always_inline __u32 ip_protocol(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip;

	if ((void *)(eth + 1) > data_end)
		return PROTO_NON_IP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		return (void *)(ip + 1) > data_end ? PROTO_NON_IP : ip->protocol;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		return (void *)(ip6 + 1) > data_end ? PROTO_NON_IP : ip6->nexthdr;
	}
	return PROTO_NON_IP;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 proto = ip_protocol(data, data_end);
	struct counter *c, zero = {};

	c = bpf_map_lookup_elem(&counts, &proto);
	if (!c) {
		/* BPF_NOEXIST: another CPU may have created it meanwhile. */
		bpf_map_update_elem(&counts, &proto, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &proto);
		if (!c)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, data_end - data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
