// SPDX-License-Identifier: GPL-2.0
/* One event per getpgid() call of target_pid with bitfields and a union: what the runner
 * decodes through its general decoder. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"

const volatile __u32 target_pid = 0;

struct event {
	__u32 pid;
	__u32 low : 4;
	__u32 high : 12;
	union {
		__u32 word;
		__u8 bytes[4];
	} u;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

SEC("tracepoint/syscalls/sys_enter_getpgid")
int bits_getpgid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (pid != target_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->low = 5;
	e->high = 300;
	e->u.word = 0x04030201;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
