/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpf/bpf_core_read.h - the system's libbpf header, plus the CO-RE macros later libbpf
 * releases added. Guarded: a newer libbpf's own definition wins.
 */
#ifndef __EBPF_HUB_BPF_CORE_READ_H
#define __EBPF_HUB_BPF_CORE_READ_H

#include_next <bpf/bpf_core_read.h>

/*
 * Read kernel memory through `ptr` as if it pointed at a `type`, field accesses relocated
 * by CO-RE: the verifier checks each load (bpf_rdonly_cast, kernel 6.4+; its prototype is
 * in the hub's vmlinux.h).
 */
#ifndef bpf_core_cast
#define bpf_core_cast(ptr, type)					\
	((typeof(type) *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))
#endif

#endif /* __EBPF_HUB_BPF_CORE_READ_H */
