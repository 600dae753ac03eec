/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bits.bpf.h - bit helpers libbpf-tools-style code includes by this name: log2 slots of
 * histograms, and the kernel's once-only memory accesses.
 */
#ifndef __EBPF_HUB_BITS_BPF_H
#define __EBPF_HUB_BITS_BPF_H

#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val) ((*(volatile typeof(x) *)&(x)) = (val))
#endif

/* floor(log2(v)) of a 32-bit value (0 for 0), without a loop: five halving steps. */
static __always_inline __u64 log2(__u32 v)
{
	__u32 result = 0, step;

	step = (v >= (1U << 16)) << 4;
	v >>= step;
	result |= step;
	step = (v >= (1U << 8)) << 3;
	v >>= step;
	result |= step;
	step = (v >= (1U << 4)) << 2;
	v >>= step;
	result |= step;
	step = (v >= (1U << 2)) << 1;
	v >>= step;
	result |= step;
	return result | (v >> 1);
}

/* floor(log2(v)) of a 64-bit value: the high half if it has a bit set, else the low one. */
static __always_inline __u64 log2l(__u64 v)
{
	__u32 high = v >> 32;

	return high ? log2(high) + 32 : log2((__u32)v);
}

#endif /* __EBPF_HUB_BITS_BPF_H */
