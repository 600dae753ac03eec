// SPDX-License-Identifier: GPL-2.0
/* argvsnoop: one event per execve() call, with the whole command line.
 *
 * The arguments are walked with bpf_loop() (Linux 5.17): one callback call per argument,
 * so the verifier checks the callback once instead of an unrolled copy per argument, and
 * the number of arguments read is a parameter rather than a compile-time constant.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ebpf_hub.h"

#define TASK_COMM_LEN 16
#define ARGS_SIZE 512	/* the command line kept, a power of two */
#define ARG_LEN 128	/* the part of one argument kept */
#define MAX_ARGS 64

/* How many arguments to read, at most (the rest are counted, not shown). */
const volatile __u32 max_args = 20;
/* Only report processes started by this parent process (0 = all). */
const volatile pid_t target_ppid = 0;

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 argc;	/* the arguments read */
	char comm[TASK_COMM_LEN];
	char args[ARGS_SIZE];	/* separated by spaces */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* The event is built here: it is larger than a program's stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

EBPF_HUB_EVENT(struct event);

struct walk {
	const char *const *argv;	/* user memory */
	struct event *e;
	__u32 off;
};

static long read_arg(__u32 index, void *data)
{
	struct walk *walk = data;
	struct event *e = walk->e;
	const char *arg = NULL;
	__u32 off = walk->off;
	long len;

	if (off > ARGS_SIZE - ARG_LEN)
		return 1;
	if (bpf_probe_read_user(&arg, sizeof(arg), &walk->argv[index]) < 0 || !arg)
		return 1;
	len = bpf_probe_read_user_str(&e->args[off], ARG_LEN, arg);
	if (len <= 0)
		return 1;
	off += len;
	e->args[(off - 1) & (ARGS_SIZE - 1)] = ' ';
	walk->off = off;
	e->argc = index + 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int trace_execve_args(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
	struct walk walk = {};
	__u32 zero = 0;
	struct event *e;

	if (target_ppid && ppid != (__u32)target_ppid)
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = ppid;
	e->argc = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	walk.argv = (const char *const *)ctx->args[1];
	walk.e = e;
	bpf_loop(max_args < MAX_ARGS ? max_args : MAX_ARGS, read_arg, &walk, 0);
	e->args[walk.off ? (walk.off - 1) & (ARGS_SIZE - 1) : 0] = '\0';
	bpf_ringbuf_output(&events, e, sizeof(*e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
