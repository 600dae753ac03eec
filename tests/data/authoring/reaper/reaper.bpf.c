// SPDX-License-Identifier: GPL-2.0
/* reaper: each process exit with its parent, as current libbpf-tools-style code writes it:
 * a kfunc (bpf_task_from_pid) tested with bpf_ksym_exists(), a renamed kernel field read
 * through core_fixes.bpf.h, and the common map and bit helpers. None of it is in Debian's
 * libbpf 1.1 or bpftool 7.1's vmlinux.h; all of it comes with the hub's builder. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include "reaper.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} pid_slots SEC(".maps");

SEC("tp_btf/sched_process_exit")
int BPF_PROG(reaper_exit, struct task_struct *task)
{
	static const __u64 zero;
	struct task_struct *parent;
	struct event *e;
	__u64 *count;
	__u32 slot;

	if (!bpf_ksym_exists(bpf_task_from_pid) || task->pid != task->tgid)
		return 0;
	parent = bpf_task_from_pid(task->real_parent->tgid);
	if (unlikely(!parent))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		bpf_task_release(parent);
		return 0;
	}
	e->pid = task->tgid;
	e->ppid = parent->tgid;
	e->parent_state = get_task_state(parent);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	bpf_probe_read_kernel_str(e->parent_comm, sizeof(e->parent_comm), parent->comm);
	bpf_task_release(parent);
	slot = log2l(e->pid);
	e->pid_slot = slot;
	bpf_ringbuf_submit(e, 0);

	count = bpf_map_lookup_or_try_init(&pid_slots, &slot, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
