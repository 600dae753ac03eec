/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpf/bpf_helpers.h - the system's libbpf header, plus what later libbpf releases added
 * that libbpf-tools-style code relies on. Debian's libbpf 1.1 is the oldest the hub builds
 * with; every addition here is guarded, so a newer libbpf's own definition wins.
 */
#ifndef __EBPF_HUB_BPF_HELPERS_H
#define __EBPF_HUB_BPF_HELPERS_H

#include_next <bpf/bpf_helpers.h>

/*
 * Whether a __weak extern (a kfunc or a __ksym variable) resolved on this kernel: libbpf
 * leaves an unresolved one at zero. Taking the address of something that is not weak is
 * always true, and the assertion says so at compile time.
 */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) ({						\
	_Static_assert(!__builtin_constant_p(!!sym),			\
		       #sym " must be declared __weak to be tested");	\
	!!sym;								\
})
#endif

/* BTF tags on global function arguments, which the verifier reads (kernel 6.8+). */
#ifndef __arg_ctx
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
#define __arg_nullable __attribute__((btf_decl_tag("arg:nullable")))
#define __arg_trusted __attribute__((btf_decl_tag("arg:trusted")))
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#endif

/* Branch hints, as the kernel spells them. */
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#endif /* __EBPF_HUB_BPF_HELPERS_H */
