// SPDX-License-Identifier: GPL-2.0
/* opensnoop: one event per openat() call, with the file name and the result. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"

#define TASK_COMM_LEN 16
#define FILENAME_LEN 256

/* Only trace this process (0 = all). */
const volatile pid_t target_pid = 0;
/* Only report calls that failed. */
const volatile bool failed_only = false;

struct event {
	__u32 pid;
	__u32 uid;
	__s32 flags;
	__s32 ret;	/* file descriptor, or -errno */
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_LEN];
};

/* What the exit of a call needs from its entry, keyed by thread id. */
struct open_args {
	const char *filename;
	__s32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct open_args);
} start SEC(".maps");

/* Big enough to absorb bursts of hundreds of thousands of opens per second
 * while user space is busy printing. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

/* Events lost because the ring buffer was full (key 0). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct open_args args;

	if (target_pid && (id >> 32) != (__u32)target_pid)
		return 0;

	args.filename = (const char *)ctx->args[1];
	args.flags = (__s32)ctx->args[2];
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int trace_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct open_args *args;
	struct event *e;
	__s32 ret = (__s32)ctx->ret;
	__u32 zero = 0;
	__u64 *n;

	args = bpf_map_lookup_elem(&start, &tid);
	if (!args)
		return 0;
	if (failed_only && ret >= 0)
		goto cleanup;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		n = bpf_map_lookup_elem(&lost, &zero);
		if (n)
			__sync_fetch_and_add(n, 1);
		goto cleanup;
	}
	e->pid = id >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->flags = args->flags;
	e->ret = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* The name is read at exit, when the kernel has surely faulted it in. */
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), args->filename) < 0)
		e->filename[0] = '\0';
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
