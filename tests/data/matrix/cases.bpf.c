// Programs whose fate differs by kernel, for tests/test_matrix.py.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// Loads and attaches on every kernel of the matrix.
SEC("tracepoint/syscalls/sys_enter_openat")
int passes(void *ctx)
{
	return 0;
}

static long step(__u32 index, void *data)
{
	return 0;
}

// bpf_loop came in 5.17: the 5.10 verifier refuses the callback.
SEC("tracepoint/syscalls/sys_enter_close")
int loops(void *ctx)
{
	bpf_loop(4, step, 0, 0);
	return 0;
}

// No kernel has this tracepoint: verified, then its attach finds no hook.
SEC("tracepoint/nosuch/hook_here")
int missing(void *ctx)
{
	return 0;
}

// TC on lo: 5.10 has no tcx, so the guest loads the kernel's clsact and cls_bpf modules.
SEC("tc")
int classifies(struct __sk_buff *skb)
{
	return 0;
}
