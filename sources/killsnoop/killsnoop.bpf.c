// SPDX-License-Identifier: GPL-2.0
/* killsnoop: one event per kill() call: who signalled whom, and the result. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"

#define TASK_COMM_LEN 16

/* Only report kill() calls made by this process (0 = all). */
const volatile pid_t target_pid = 0;
/* Only report this signal number (0 = all). */
const volatile int target_signal = 0;

struct event {
	__u32 pid;		/* sender */
	__s32 target;		/* pid argument of kill(): <= 0 means a group */
	__s32 sig;
	__s32 ret;		/* 0, or -errno */
	char comm[TASK_COMM_LEN];
};

/* What the exit of a call needs from its entry, keyed by thread id. */
struct kill_args {
	__s32 target;
	__s32 sig;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct kill_args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

SEC("tracepoint/syscalls/sys_enter_kill")
int trace_kill_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct kill_args args = {
		.target = (__s32)ctx->args[0],
		.sig = (__s32)ctx->args[1],
	};

	if (target_pid && (id >> 32) != (__u32)target_pid)
		return 0;
	if (target_signal && args.sig != target_signal)
		return 0;
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_kill")
int trace_kill_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct kill_args *args;
	struct event *e;

	args = bpf_map_lookup_elem(&start, &tid);
	if (!args)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = id >> 32;
		e->target = args->target;
		e->sig = args->sig;
		e->ret = (__s32)ctx->ret;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
