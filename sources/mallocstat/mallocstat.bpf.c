// SPDX-License-Identifier: GPL-2.0
/* mallocstat: calls to libc malloc() and bytes asked for, per process. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ebpf_hub.h"

/* Only count this process (0 = all). */
const volatile pid_t target_pid = 0;

struct alloc_stat {
	__u64 count;
	__u64 bytes;
};

/* Per process id: malloc() calls and bytes requested. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct alloc_stat);
} allocs SEC(".maps");

SEC("uprobe/libc.so.6:malloc")
int BPF_KPROBE(malloc_enter, size_t size)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct alloc_stat *st, zero = {};

	if (target_pid && pid != (__u32)target_pid)
		return 0;

	st = bpf_map_lookup_elem(&allocs, &pid);
	if (!st) {
		/* BPF_NOEXIST: another thread may have created it meanwhile. */
		bpf_map_update_elem(&allocs, &pid, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&allocs, &pid);
		if (!st)
			return 0;
	}
	__sync_fetch_and_add(&st->count, 1);
	__sync_fetch_and_add(&st->bytes, size);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
