// SPDX-License-Identifier: GPL-2.0
/* One record per exec, sent through a ring buffer and a perf event array.
 * Two .rodata parameters: target_ppid filters by parent (read with CO-RE), tag is
 * copied into every record, so a test can check that both offsets were written. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ebpf_hub.h"

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 tag;
	char comm[16];
};
EBPF_HUB_EVENT(struct event);

const volatile __u32 target_ppid = 0;
const volatile __u32 tag = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int ebh_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event e = {};

	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.ppid = BPF_CORE_READ(task, real_parent, tgid);
	if (target_ppid && e.ppid != target_ppid)
		return 0;
	e.tag = tag;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
