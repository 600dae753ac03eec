// SPDX-License-Identifier: GPL-2.0
/* runqslower: one event for each thread that waited on a run queue longer
 * than min_us before a CPU ran it, with the thread it had to wait for.
 *
 * A thread is stamped when it becomes runnable (woken, new, or preempted while
 * still runnable) and timed when the scheduler switches to it. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "core_fixes.bpf.h"
#include "runqslower.h"

#define TASK_RUNNING 0

/* Report waits longer than this, in usecs (0 = every wait). */
const volatile __u64 min_us = 10000;
/* Only this process (0 = every process). */
const volatile pid_t targ_tgid = 0;
/* Only this thread (0 = every thread). */
const volatile pid_t targ_pid = 0;

/* When each thread (key: thread id) became runnable, in ns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline void trace_enqueue(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid), tid = BPF_CORE_READ(t, pid);
	__u64 ts;

	if (!tid)	/* the idle task */
		return;
	if (targ_tgid && tgid != (__u32)targ_tgid)
		return;
	if (targ_pid && tid != (__u32)targ_pid)
		return;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	trace_enqueue(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	trace_enqueue(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	struct event event = {};
	__u64 *tsp, delta_us;

	/* A preempted thread goes straight back on the run queue. */
	if (get_task_state(prev) == TASK_RUNNING)
		trace_enqueue(prev);

	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	delta_us = (bpf_ktime_get_ns() - *tsp) / 1000;
	bpf_map_delete_elem(&start, &tid);
	if (min_us && delta_us <= min_us)
		return 0;

	event.pid = tid;
	event.prev_pid = BPF_CORE_READ(prev, pid);
	event.delta_us = delta_us;
	BPF_CORE_READ_STR_INTO(&event.task, next, comm);
	BPF_CORE_READ_STR_INTO(&event.prev_task, prev, comm);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
