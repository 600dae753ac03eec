// SPDX-License-Identifier: GPL-2.0
/* exitsnoop: one record per process exit, libbpf-tools style: the record is a local
 * variable reserved in a ring buffer, and exits are also counted per signal with the
 * common map and bit helpers. No eBPF Hub header is used. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "exitsnoop.h"

const volatile bool trace_failed_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} age_slots SEC(".maps");

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	static const __u64 zero;
	struct event *e;
	__u64 *count;
	__u32 slot;
	int code;

	if ((__u32)(pid_tgid >> 32) != (__u32)pid_tgid)
		return 0; /* a thread, not the process */
	code = BPF_CORE_READ(task, exit_code);
	if (trace_failed_only && code == 0)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->age_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	e->pid = pid_tgid >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = code >> 8;
	e->sig = code & 0x7f;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	slot = log2l(e->age_ns / 1000000);
	bpf_ringbuf_submit(e, 0);

	count = bpf_map_lookup_or_try_init(&age_slots, &slot, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
