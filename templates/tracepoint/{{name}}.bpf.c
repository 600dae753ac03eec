// SPDX-License-Identifier: GPL-2.0
/* {{name}}: one event per program started with execve(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ebpf_hub.h"
#include "{{name}}.h"

/* A parameter: a `const volatile` global, set before load with
 * `ebpf-hub run {{name}} --param target_ppid=1234`. Only trace the children of
 * this process (0 = all). */
const volatile pid_t target_ppid = 0;

/* Events reach user space through a ring buffer named `events`... */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* ...and this names their type, so `ebpf-hub run` decodes them from the object's BTF. */
EBPF_HUB_EVENT(struct event);

SEC("tracepoint/syscalls/sys_enter_execve")
int handle_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e;

	/* CO-RE: the offsets of real_parent and tgid are fixed up for the running kernel. */
	if (target_ppid && BPF_CORE_READ(task, real_parent, tgid) != target_ppid)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;	/* the ring buffer is full: user space is too slow */
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename),
				    (const char *)ctx->args[0]) < 0)
		e->filename[0] = '\0';
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
