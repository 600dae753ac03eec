// SPDX-License-Identifier: GPL-2.0
/* {{name}}: one event per process exit. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "ebpf_hub.h"
#include "{{name}}.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

/* A BTF-enabled tracepoint: the arguments arrive typed (here the exiting task), and
 * its fields are read directly; CO-RE fixes their offsets up for the running kernel. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct event *e;
	int code;

	/* Every thread exits through here; report a process once, when its main thread goes. */
	if (task->pid != task->tgid)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	code = task->exit_code;
	e->pid = task->tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = code & 0x7f ? 128 + (code & 0x7f) : code >> 8;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
