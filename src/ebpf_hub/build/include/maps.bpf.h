/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps.bpf.h - map helpers libbpf-tools-style code includes by this name. A tool that
 * ships its own maps.bpf.h beside its sources uses that one instead.
 */
#ifndef __EBPF_HUB_MAPS_BPF_H
#define __EBPF_HUB_MAPS_BPF_H

#include <bpf/bpf_helpers.h>

#ifndef EEXIST
#define EEXIST 17 /* the value of every Linux architecture */
#endif

/*
 * The value at `key`, created from `init` first when the map has none. Two CPUs may race
 * to create it: BPF_NOEXIST lets one win, and both then use the value the map holds.
 */
static __always_inline void *
bpf_map_lookup_or_try_init(void *map, const void *key, const void *init)
{
	void *value = bpf_map_lookup_elem(map, key);
	long err;

	if (value)
		return value;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -EEXIST)
		return 0;
	return bpf_map_lookup_elem(map, key);
}

#endif /* __EBPF_HUB_MAPS_BPF_H */
