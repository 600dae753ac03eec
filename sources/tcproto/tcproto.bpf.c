// SPDX-License-Identifier: GPL-2.0
/* tcproto: packets and bytes crossing a traffic-control hook, per direction and
 * IP protocol; every packet passes.
 *
 * One program serves both hooks: a packet the interface received carries that
 * interface as its ingress interface; one leaving it was made here (no ingress
 * interface) or forwarded from another. A packet forwarded back out of the
 * interface it came in on counts as ingress. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"
#include "tcproto.h"

#define TC_ACT_OK 0
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_HLEN 14

/* Only count packets of this direction: 1 ingress, 2 egress (0 = both). */
const volatile __u8 targ_direction = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 2 * 257);
	__type(key, struct tc_key);
	__type(value, struct tc_stat);
} counts SEC(".maps");

static __always_inline enum ip_protocol protocol_of(struct __sk_buff *skb)
{
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol),
				       &proto, sizeof(proto)))
			return NON_IP;
		return proto;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, nexthdr),
				       &proto, sizeof(proto)))
			return NON_IP;
		return proto;
	}
	return NON_IP;
}

SEC("tc")
int tc_count_protocols(struct __sk_buff *skb)
{
	struct tc_key key = {};
	struct tc_stat *st, zero = {};

	key.direction = skb->ingress_ifindex == skb->ifindex ? INGRESS : EGRESS;
	if (targ_direction && key.direction != targ_direction - 1)
		return TC_ACT_OK;
	key.protocol = protocol_of(skb);
	st = bpf_map_lookup_or_try_init(&counts, &key, &zero);
	if (st) {
		st->packets++;
		st->bytes += skb->len;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
