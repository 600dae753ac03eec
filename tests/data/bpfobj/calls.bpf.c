// SPDX-License-Identifier: GPL-2.0
/* Test object for ebpf_hub.bpfobj call-graph scanning: helpers reached through bpf-to-bpf
 * calls, a bpf_loop callback and a kfunc, plus dangerous helpers.  Only compiled, never
 * loaded: it would send signals and write user memory. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* Static and in .text: called from another .text function without a relocation. */
static __noinline __u32 pick(void)
{
	return bpf_get_prandom_u32();
}

/* Global and in .text: called from a program section through a relocation. */
__noinline int punish(__u32 sig)
{
	return bpf_send_signal(sig + pick());
}

static int loop_body(__u32 index, void *ctx)
{
	bpf_trace_printk("x", 2);
	return 0;
}

SEC("tp/syscalls/sys_enter_kill")
int kill_caller(void *ctx)
{
	return punish(9);
}

SEC("tp/syscalls/sys_enter_write")
int scribble(void *ctx)
{
	char buf[4] = "pwn";

	bpf_probe_write_user((void *)bpf_get_current_task(), buf, sizeof(buf));
	bpf_loop(4, loop_body, NULL, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int take_task(__u64 *ctx)
{
	struct task_struct *t = bpf_task_acquire((struct task_struct *)ctx[0]);

	if (t)
		bpf_task_release(t);
	return 0;
}
