// SPDX-License-Identifier: GPL-2.0
/* Counts egress packets of a cgroup in a hash map keyed by IP protocol family. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} egress SEC(".maps");

SEC("cgroup_skb/egress")
int ebh_cgroup(struct __sk_buff *skb)
{
	__u32 family = skb->family;
	__u64 one = 1, *n = bpf_map_lookup_elem(&egress, &family);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&egress, &family, &one, BPF_NOEXIST);
	return 1; /* allow */
}

char LICENSE[] SEC("license") = "GPL";
