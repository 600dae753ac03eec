// SPDX-License-Identifier: GPL-2.0
/* bashreadline: every command line typed into an interactive bash. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ebpf_hub.h"

#define TASK_COMM_LEN 16
#define LINE_LEN 256

struct event {
	__u32 pid;
	char comm[TASK_COMM_LEN];
	char line[LINE_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

/* readline() returns the line the user typed, or NULL at end of input. */
SEC("uretprobe//bin/bash:readline")
int BPF_KRETPROBE(bash_readline_return, const char *line)
{
	struct event *e;

	if (!line)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->line, sizeof(e->line), line) < 0)
		e->line[0] = '\0';
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
