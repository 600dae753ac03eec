/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * core_fixes.bpf.h - reading kernel fields that were renamed or moved, on any kernel.
 *
 * The pattern: declare the old layout as a struct named `<type>___<suffix>` with
 * preserve_access_index (CO-RE matches it to `<type>` by the name before the triple
 * underscore), ask bpf_core_field_exists() which layout the running kernel has, and read
 * through the one it has. The test is resolved when libbpf loads the object, and the
 * verifier drops the branch that is not taken.
 */
#ifndef __EBPF_HUB_CORE_FIXES_BPF_H
#define __EBPF_HUB_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* task_struct.state became __state (and an unsigned int) in Linux 5.14. */
struct task_struct___before_5_14 {
	volatile long state;
} __attribute__((preserve_access_index));

static __always_inline __s64 get_task_state(void *task)
{
	struct task_struct___before_5_14 *old = task;

	if (bpf_core_field_exists(old->state))
		return BPF_CORE_READ(old, state);
	return BPF_CORE_READ((struct task_struct *)task, __state);
}

/* request.rq_disk went away in Linux 5.17: the disk is the queue's. */
struct request___before_5_17 {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *get_disk(void *request)
{
	struct request___before_5_17 *old = request;

	if (bpf_core_field_exists(old->rq_disk))
		return BPF_CORE_READ(old, rq_disk);
	return BPF_CORE_READ((struct request *)request, q, disk);
}

#endif /* __EBPF_HUB_CORE_FIXES_BPF_H */
