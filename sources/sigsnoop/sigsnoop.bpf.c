// SPDX-License-Identifier: GPL-2.0
/* sigsnoop: one event per signal, seen in one of two ways.
 *
 * The syscall programs (kill, tkill, tgkill) see what processes ask for, with the call's
 * result, once it returns. The signal_generate program sees every signal the kernel
 * generates, those user space sends and its own (SIGCHLD, SIGSEGV, SIGPIPE...), with
 * whether it was delivered. A run uses one way or the other: both at once show a sent
 * signal twice. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include "sigsnoop.h"

#define MAX_ENTRIES 10240

/* Only signals sent by this process (0 = every process). */
const volatile pid_t filtered_pid = 0;
/* Only this signal (0 = every signal). */
const volatile int target_signal = 0;
/* Only calls that failed, or signals that were not delivered. */
const volatile bool failed_only = false;

/* A call's arguments between its entry and its return, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct event);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline bool wanted(__u32 pid, int sig)
{
	if (filtered_pid && pid != (__u32)filtered_pid)
		return false;
	if (target_signal && sig != target_signal)
		return false;
	return true;
}

static __always_inline int probe_entry(pid_t tpid, int sig)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct event event = {};

	if (!wanted(pid, sig))
		return 0;
	event.pid = pid;
	event.tpid = tpid;
	event.sig = sig;
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_map_update_elem(&values, &tid, &event, BPF_ANY);
	return 0;
}

static __always_inline int probe_exit(int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *eventp;

	eventp = bpf_map_lookup_elem(&values, &tid);
	if (!eventp)
		return 0;
	if (!failed_only || ret < 0) {
		eventp->ret = ret;
		bpf_ringbuf_output(&events, eventp, sizeof(*eventp), 0);
	}
	bpf_map_delete_elem(&values, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((pid_t)ctx->args[0], (int)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int kill_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_tkill")
int tkill_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((pid_t)ctx->args[0], (int)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_tkill")
int tkill_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

/* tgkill(tgid, tid, sig): the thread is the target. */
SEC("tracepoint/syscalls/sys_enter_tgkill")
int tgkill_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((pid_t)ctx->args[1], (int)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_tgkill")
int tgkill_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

/* The kernel's TRACE_SIGNAL_* result: 0 delivered, then ignored, already pending,
 * queue overflow, info lost. Anything but 0 counts as a failure for failed_only. */
SEC("tracepoint/signal/signal_generate")
int sig_trace(struct trace_event_raw_signal_generate *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	int sig = ctx->sig, result = ctx->result;
	struct event event = {};

	if (!wanted(pid, sig))
		return 0;
	if (failed_only && result == 0)
		return 0;
	event.pid = pid;
	event.tpid = ctx->pid;
	event.sig = sig;
	event.ret = result;
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_ringbuf_output(&events, &event, sizeof(event), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
