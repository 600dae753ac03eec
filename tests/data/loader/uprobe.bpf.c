// SPDX-License-Identifier: GPL-2.0
/* Uprobes on ebh_target_fn of the test binary TARGET_BIN (given with -D):
 * two name the binary in their section (auto-attach), one has a bare SEC("uprobe")
 * and is attached to the BINARY:SYMBOL the user gives. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct event {
	__u32 pid;
	__u32 kind; /* 1 entry (section), 2 return (section), 3 entry (explicit) */
	__s64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

static __always_inline void emit(__u32 kind, __s64 value)
{
	struct event e = { .pid = bpf_get_current_pid_tgid() >> 32, .kind = kind, .value = value };

	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
}

SEC("uprobe/" TARGET_BIN ":ebh_target_fn")
int BPF_KPROBE(ebh_uprobe, int x)
{
	emit(1, x);
	return 0;
}

SEC("uretprobe/" TARGET_BIN ":ebh_target_fn")
int BPF_KRETPROBE(ebh_uretprobe, int ret)
{
	emit(2, ret);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ebh_uprobe_x, int x)
{
	emit(3, x);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
