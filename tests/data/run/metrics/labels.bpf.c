// SPDX-License-Identifier: GPL-2.0
/* Maps keyed by what a traced process chooses (its command name, a path), for the metrics
 * tests: only read, never loaded. One key field is named `le`, as a histogram's bucket label. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"

struct proc_key {
	char comm[16];
	__u32 le;
	char path[200];
};

struct hist {
	__u64 slots[EBPF_HUB_HIST_SLOTS];
};

struct row {
	__u64 calls;
	char last[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct proc_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct proc_key);
	__type(value, struct hist);
} latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct proc_key);
	__type(value, struct row);
} rows SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
