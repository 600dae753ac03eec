// SPDX-License-Identifier: GPL-2.0
/* xdpfilter: drops the TCP and UDP packets (IPv4 or IPv6) received for one
 * destination port, at the earliest point, and counts what it dropped and
 * what it passed.
 *
 * IPv6 packets whose transport header follows extension headers are passed:
 * only a fixed header directly followed by TCP or UDP is matched. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"
#include "xdpfilter.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* The destination port whose packets are dropped (0 = drop nothing, only count). */
const volatile __u16 targ_port = 0;
/* Only drop this transport protocol: 6 TCP, 17 UDP (0 = both). */
const volatile __u8 targ_proto = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, enum xdp_action);
	__type(value, struct verdict_stat);
} verdicts SEC(".maps");

/* The transport protocol and the header after the IP header, or 0 when the packet
 * is not IPv4/IPv6 carrying TCP or UDP straight after its IP header. */
static __always_inline __u8 transport(void *data, void *data_end, void **l4)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return 0;
		/* Only the first fragment carries the ports. */
		if (ip->frag_off & bpf_htons(0x1FFF))
			return 0;
		*l4 = (void *)ip + ip->ihl * 4;
		return ip->protocol;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return 0;
		*l4 = ip6 + 1;
		return ip6->nexthdr;
	}
	return 0;
}

static __always_inline bool matches(void *data, void *data_end)
{
	void *l4 = NULL;
	__u8 proto = transport(data, data_end, &l4);
	__be16 dest;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false;
	if (targ_proto && proto != targ_proto)
		return false;
	/* TCP and UDP headers both start with the source, then the destination port. */
	if (l4 + 4 > data_end)
		return false;
	dest = ((__be16 *)l4)[1];
	return bpf_ntohs(dest) == targ_port;
}

SEC("xdp")
int xdp_filter_port(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	enum xdp_action verdict = XDP_PASS;
	struct verdict_stat *st, zero = {};

	if (targ_port && matches(data, data_end))
		verdict = XDP_DROP;
	st = bpf_map_lookup_or_try_init(&verdicts, &verdict, &zero);
	if (st) {
		st->packets++;
		st->bytes += data_end - data;
	}
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
