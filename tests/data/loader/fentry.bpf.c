// SPDX-License-Identifier: GPL-2.0
/* An fentry program: a locked-down kernel refuses it at load with EPERM. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 calls;

SEC("fentry/do_unlinkat")
int BPF_PROG(ebh_fentry)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
