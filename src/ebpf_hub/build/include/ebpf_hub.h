/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ebpf_hub.h - the output convention shared by every eBPF Hub package.
 *
 * The hub's builder puts this header (and vmlinux.h) on the include path, so a
 * package writes `#include "ebpf_hub.h"` and nothing else to be understood by
 * `ebpf-hub run`.
 *
 *  - Events: a map named `events`, a BPF_MAP_TYPE_RINGBUF or a
 *    BPF_MAP_TYPE_PERF_EVENT_ARRAY, carries records of one struct type: the one
 *    named with EBPF_HUB_EVENT(struct T), else `struct event` (the libbpf-tools
 *    convention; the builder names it in the object when only local variables
 *    use it).  Neither map kind has a value type of its own, so the macro records
 *    the type through a pointer variable in the `.ebpf_hub` section, which libbpf
 *    skips at load time but which stays in the object's BTF.
 *  - Addresses: fields typed ipv4_addr_t / ipv6_addr_t (network byte order)
 *    are printed as addresses; char arrays are printed as strings.
 *  - Parameters: `const volatile` globals (.rodata) are the package's
 *    parameters, settable with `ebpf-hub run NAME --param name=value`.
 *  - Output maps: maps listed under `output.maps` in the package metadata are
 *    printed on an interval (counters, tables, log2 histograms).
 */
#ifndef __EBPF_HUB_H
#define __EBPF_HUB_H

typedef __u32 ipv4_addr_t;
typedef struct { __u8 addr[16]; } ipv6_addr_t;

/* Number of log2 slots of a histogram value: `__u64 slots[EBPF_HUB_HIST_SLOTS]`. */
#define EBPF_HUB_HIST_SLOTS 27

#define EBPF_HUB_EVENT(type) \
	type *__ebpf_hub_event __attribute__((unused, section(".ebpf_hub")))

/* The log2 slot of a value, as bcc's tools count them: 0 -> 0, 1 -> 1, 2-3 -> 2, ...
 * A bounded loop: the verifier of any kernel since 5.3 accepts it. */
static __always_inline __u32 ebpf_hub_log2_slot(__u64 v)
{
	__u32 slot = 0;

	for (int i = 0; i < EBPF_HUB_HIST_SLOTS - 1; i++) {
		if (v == 0)
			break;
		v >>= 1;
		slot++;
	}
	return slot;
}

#endif /* __EBPF_HUB_H */
