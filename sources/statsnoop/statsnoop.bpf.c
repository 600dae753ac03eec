// SPDX-License-Identifier: GPL-2.0
/* statsnoop: one event per stat-family call (stat, lstat, fstatat, statx, statfs), with
 * the path asked about and the result: who probes which files, and which are missing.
 *
 * The path is remembered at entry and read at exit, where the result is known. stat()
 * and lstat() exist as syscalls only on older architectures (x86_64 has them, arm64
 * does not: its C library calls fstatat), so their programs are optional. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include "statsnoop.h"

#define MAX_ENTRIES 10240

/* Only this process (0 = every process). */
const volatile pid_t target_pid = 0;
/* Only calls that failed. */
const volatile bool trace_failed_only = false;

/* The path argument of a call in progress, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, const char *);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline int probe_entry(const char *pathname)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;

	if (target_pid && pid != (__u32)target_pid)
		return 0;
	bpf_map_update_elem(&values, &tid, &pathname, BPF_ANY);
	return 0;
}

static __always_inline int probe_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	int ret = (int)ctx->ret;
	const char **pathname;
	struct event *e;

	pathname = bpf_map_lookup_elem(&values, &tid);
	if (!pathname)
		return 0;
	if (trace_failed_only && ret >= 0)
		goto cleanup;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->pid = pid_tgid >> 32;
	e->ret = ret;
	e->syscall_id = (int)ctx->id;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->pathname, sizeof(e->pathname), *pathname);
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&values, &tid);
	return 0;
}

/* statfs(path, buf) */
SEC("tracepoint/syscalls/sys_enter_statfs")
int handle_statfs_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((const char *)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_statfs")
int handle_statfs_return(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit(ctx);
}

/* stat(path, buf): not on arm64 */
SEC("tracepoint/syscalls/sys_enter_newstat")
int handle_newstat_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((const char *)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_newstat")
int handle_newstat_return(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit(ctx);
}

/* lstat(path, buf): not on arm64 */
SEC("tracepoint/syscalls/sys_enter_newlstat")
int handle_newlstat_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((const char *)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_newlstat")
int handle_newlstat_return(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit(ctx);
}

/* fstatat(dirfd, path, buf, flags) */
SEC("tracepoint/syscalls/sys_enter_newfstatat")
int handle_newfstatat_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((const char *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_newfstatat")
int handle_newfstatat_return(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit(ctx);
}

/* statx(dirfd, path, flags, mask, buf) */
SEC("tracepoint/syscalls/sys_enter_statx")
int handle_statx_entry(struct trace_event_raw_sys_enter *ctx)
{
	return probe_entry((const char *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_statx")
int handle_statx_return(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit(ctx);
}

char LICENSE[] SEC("license") = "GPL";
