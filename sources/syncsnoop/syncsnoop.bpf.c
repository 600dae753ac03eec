// SPDX-License-Identifier: GPL-2.0
/* syncsnoop: one event per call that flushes data to storage (sync, syncfs, fsync,
 * fdatasync, msync, sync_file_range): who forces writes out, and how often. A burst of
 * them explains a burst of disk writes and the latency that comes with it.
 *
 * The event is emitted at entry: the flush itself can take seconds, and the call is
 * what matters here, not its result. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include "syncsnoop.h"

/* Only this process (0 = every process). */
const volatile pid_t target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

static __always_inline int submit(enum sync_syscalls sys, int fd)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event event = {};

	if (target_pid && pid != (__u32)target_pid)
		return 0;
	event.pid = pid;
	event.fd = fd;
	event.sys = sys;
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_ringbuf_output(&events, &event, sizeof(event), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sync")
int tracepoint__syscalls__sys_enter_sync(struct trace_event_raw_sys_enter *ctx)
{
	return submit(SYS_SYNC, -1);
}

SEC("tracepoint/syscalls/sys_enter_fsync")
int tracepoint__syscalls__sys_enter_fsync(struct trace_event_raw_sys_enter *ctx)
{
	return submit(SYS_FSYNC, (int)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_fdatasync")
int tracepoint__syscalls__sys_enter_fdatasync(struct trace_event_raw_sys_enter *ctx)
{
	return submit(SYS_FDATASYNC, (int)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_msync")
int tracepoint__syscalls__sys_enter_msync(struct trace_event_raw_sys_enter *ctx)
{
	return submit(SYS_MSYNC, -1);
}

SEC("tracepoint/syscalls/sys_enter_sync_file_range")
int tracepoint__syscalls__sys_enter_sync_file_range(struct trace_event_raw_sys_enter *ctx)
{
	return submit(SYS_SYNC_FILE_RANGE, (int)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_syncfs")
int tracepoint__syscalls__sys_enter_syncfs(struct trace_event_raw_sys_enter *ctx)
{
	return submit(SYS_SYNCFS, (int)ctx->args[0]);
}

char LICENSE[] SEC("license") = "GPL";
