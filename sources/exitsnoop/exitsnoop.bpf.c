// SPDX-License-Identifier: GPL-2.0
/* exitsnoop: one event per process exit, with how it ended (its exit code, or the signal
 * that killed it and whether it dumped core) and how long it lived.
 *
 * sched_process_exit fires in the exiting thread, so the task is the current one and its
 * exit_code already holds the wait(2) status: code << 8, or the signal in the low 7 bits
 * and 0x80 for a core dump. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "exitsnoop.h"

/* Only this process (0 = every process). */
const volatile pid_t target_pid = 0;
/* Only exits that failed: a non-zero code or a signal. */
const volatile bool trace_failed_only = false;
/* One event per process (its last thread), not one per thread. */
const volatile bool trace_by_process = true;
/* Only tasks in the cgroup stored in cgroup_map. */
const volatile bool filter_cg = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct task_struct *task;
	struct event *e;
	int status;

	if (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
		return 0;
	if (target_pid && pid != (__u32)target_pid)
		return 0;
	/* A thread that is not the group leader: its process goes on. */
	if (trace_by_process && pid != tid)
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	status = BPF_CORE_READ(task, exit_code);
	if (trace_failed_only && status == 0)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->start_time = BPF_CORE_READ(task, start_boottime);
	e->pid = pid;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = (status >> 8) & 0xff;
	e->sig = status & 0x7f;
	e->core_dumped = !!(status & 0x80);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
