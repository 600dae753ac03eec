// SPDX-License-Identifier: GPL-2.0
/* {{name}}: one event per call of libc's getaddrinfo(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ebpf_hub.h"
#include "{{name}}.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

/* A uprobe: the section names the library (found on the library path) and the function.
 * BPF_KPROBE gives the function's arguments by name, read from the registers of the
 * calling convention (which is why the build defines __TARGET_ARCH_*). */
SEC("uprobe/libc.so.6:getaddrinfo")
int BPF_KPROBE(handle_getaddrinfo, const char *node)
{
	struct event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* node points into the process's memory: read it with the user-memory helper. */
	if (!node || bpf_probe_read_user_str(e->host, sizeof(e->host), node) < 0)
		e->host[0] = '\0';
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
