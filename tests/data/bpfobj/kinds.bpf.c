// SPDX-License-Identifier: GPL-2.0
/* Test object for ebpf_hub.bpfobj without vmlinux.h: BTF kinds the other objects lack
 * (FLOAT, DECL_TAG, TYPE_TAG) and helper ids past the table.  The tests also compile it
 * without -g to get an object with no BTF.  Only compiled, never loaded. */
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"

char LICENSE[] SEC("license") = "GPL";

/* As if this source were written for a kernel with more helpers than today's. */
enum bpf_func_id {
	BPF_FUNC_future_thing = 300,
};
enum bpf_func_id future_id = BPF_FUNC_future_thing;

static long (*bpf_future_thing)(void) = (void *)BPF_FUNC_future_thing;
static long (*bpf_unknown_thing)(void) = (void *)301;

struct sample {
	float ratio;
	double mean;
	int __attribute__((btf_type_tag("user"))) *where;
} __attribute__((btf_decl_tag("a_sample")));

EBPF_HUB_EVENT(struct sample);

SEC("raw_tp/sched_switch")
int future(void *ctx)
{
	return bpf_future_thing() + bpf_unknown_thing();
}
