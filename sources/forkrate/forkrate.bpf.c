// SPDX-License-Identifier: GPL-2.0
/* forkrate: how many new processes each command creates, counted in the kernel. A shell
 * loop, a crash-looping service or a build forking thousands of compilers shows at the
 * top; the counts are read every interval, so the rate is their growth.
 *
 * sched_process_fork fires in the parent, once the child exists; tp_btf hands over both
 * tasks, which tells a new process from a new thread of the same one. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "forkrate.h"

#define MAX_ENTRIES 10240

/* Count new threads too, not only new processes. */
const volatile bool count_threads = false;
/* Only tasks in the cgroup stored in cgroup_map. */
const volatile bool filter_cg = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

/* Forks per parent command. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct comm_key);
	__type(value, __u64);
} forks SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	static const __u64 zero;
	struct comm_key key = {};
	__u64 *count;

	if (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
		return 0;
	if (!count_threads && BPF_CORE_READ(child, tgid) == BPF_CORE_READ(parent, tgid))
		return 0;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	count = bpf_map_lookup_or_try_init(&forks, &key, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
