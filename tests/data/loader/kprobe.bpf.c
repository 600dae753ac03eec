// SPDX-License-Identifier: GPL-2.0
/* A kprobe program: refused before load on a kernel built without kprobes. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(ebh_kprobe)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
