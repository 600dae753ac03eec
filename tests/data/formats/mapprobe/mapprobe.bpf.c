// SPDX-License-Identifier: GPL-2.0
/* Output maps whose keys and values have formats, filled from the target process's
 * openat() calls: a counter keyed by the syscall number the kernel reports, a table keyed
 * by a struct (an IP protocol, the call's errno as an unsigned number), and a histogram
 * per result. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"

#define PROTO_TCP 6

struct call_key {
	__u32 proto;		/* an IP protocol: always TCP here */
	__u32 err;		/* openat()'s result as an unsigned number: -2 is ENOENT */
};

struct call_stat {
	__u64 calls;
	__u64 total_ns;		/* a duration */
};

struct hist {
	__u64 slots[EBPF_HUB_HIST_SLOTS];
};

const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} syscalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct call_key);
	__type(value, struct call_stat);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct hist);
} results SEC(".maps");

SEC("tracepoint/syscalls/sys_exit_openat")
int map_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct call_key key = {.proto = PROTO_TCP, .err = (__u32)ctx->ret};
	struct call_stat *stat, zero_stat = {};
	struct hist *hist, zero_hist = {};
	__u32 id = (__u32)ctx->id, result = (__u32)ctx->ret;
	__u64 *count, one = 1;

	if (target_pid && (bpf_get_current_pid_tgid() >> 32) != target_pid)
		return 0;
	count = bpf_map_lookup_elem(&syscalls, &id);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&syscalls, &id, &one, BPF_NOEXIST);
	bpf_map_update_elem(&calls, &key, &zero_stat, BPF_NOEXIST);
	stat = bpf_map_lookup_elem(&calls, &key);
	if (stat) {
		__sync_fetch_and_add(&stat->calls, 1);
		__sync_fetch_and_add(&stat->total_ns, 1500000);
	}
	bpf_map_update_elem(&results, &result, &zero_hist, BPF_NOEXIST);
	hist = bpf_map_lookup_elem(&results, &result);
	if (hist)
		__sync_fetch_and_add(&hist->slots[ebpf_hub_log2_slot(1000)], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
