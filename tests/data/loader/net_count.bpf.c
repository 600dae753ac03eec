// SPDX-License-Identifier: GPL-2.0
/* Counts packets seen by XDP (slot 0) and TC ingress (slot 1) in a per-CPU array. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&counts, &slot);

	if (n)
		*n += 1;
}

SEC("xdp")
int ebh_xdp(struct xdp_md *ctx)
{
	count(0);
	return XDP_PASS;
}

SEC("tc")
int ebh_tc(struct __sk_buff *skb)
{
	count(1);
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
