// SPDX-License-Identifier: GPL-2.0
/* syscount: how many times each system call is entered. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ebpf_hub.h"

/* Only count this process (0 = all). */
const volatile pid_t target_pid = 0;

/* Calls per system call number. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(count_syscall_enter, struct pt_regs *regs, long id)
{
	__u32 nr = (__u32)id;
	__u64 one = 1, *count;

	if (id < 0)
		return 0;
	if (target_pid && (bpf_get_current_pid_tgid() >> 32) != (__u32)target_pid)
		return 0;

	count = bpf_map_lookup_elem(&counts, &nr);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	/* First call of this number: a racing CPU may create it first. */
	if (bpf_map_update_elem(&counts, &nr, &one, BPF_NOEXIST)) {
		count = bpf_map_lookup_elem(&counts, &nr);
		if (count)
			__sync_fetch_and_add(count, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
