/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * vmlinux.h - the kernel's types, as `bpftool btf dump` writes them for the build host,
 * plus the kfunc prototypes that newer bpftool releases add and Debian's 7.1 does not.
 *
 * The hub's builder puts this directory first on the include path: `#include "vmlinux.h"`
 * finds this file, which pulls in the generated header with #include_next. A package that
 * ships its own vmlinux.h uses that one (the source directory is searched first).
 *
 * Each prototype is `__weak`, as bpftool writes them: a program that tests for a kfunc with
 * bpf_ksym_exists() still loads on a kernel without it. One that is not called costs nothing
 * (clang emits only the externs a program uses). Define BPF_NO_KFUNC_PROTOTYPES to leave
 * them out, e.g. when the code declares its own with other parameter names or types.
 */
#ifndef __EBPF_HUB_VMLINUX_H
#define __EBPF_HUB_VMLINUX_H

#include_next "vmlinux.h"

#ifndef BPF_NO_KFUNC_PROTOTYPES
#ifndef __ebpf_hub_kfunc
#define __ebpf_hub_kfunc __attribute__((weak, section(".ksyms")))
#endif

/* Tasks: look up by pid, hold and release a reference. */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ebpf_hub_kfunc;
extern struct task_struct *bpf_task_from_vpid(s32 vpid) __ebpf_hub_kfunc;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ebpf_hub_kfunc;
extern void bpf_task_release(struct task_struct *p) __ebpf_hub_kfunc;

/* Cgroups: by id, ancestors, membership. */
extern struct cgroup *bpf_cgroup_from_id(u64 cgid) __ebpf_hub_kfunc;
extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __ebpf_hub_kfunc;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ebpf_hub_kfunc;
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ebpf_hub_kfunc;
extern long bpf_task_under_cgroup(struct task_struct *task,
				  struct cgroup *ancestor) __ebpf_hub_kfunc;

/* RCU sections and read-only casts of kernel pointers (bpf_core_cast). */
extern void bpf_rcu_read_lock(void) __ebpf_hub_kfunc;
extern void bpf_rcu_read_unlock(void) __ebpf_hub_kfunc;
extern void *bpf_rdonly_cast(const void *obj, u32 btf_id) __ebpf_hub_kfunc;

/* Open-coded number iterators, what bpf_for() and bpf_repeat() loop with. */
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ebpf_hub_kfunc;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ebpf_hub_kfunc;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ebpf_hub_kfunc;

/* Files of a task (LSM programs). */
extern struct file *bpf_get_task_exe_file(struct task_struct *task) __ebpf_hub_kfunc;
extern void bpf_put_file(struct file *file) __ebpf_hub_kfunc;
extern int bpf_path_d_path(const struct path *path, char *buf, size_t buf__sz) __ebpf_hub_kfunc;
#endif /* BPF_NO_KFUNC_PROTOTYPES */

#endif /* __EBPF_HUB_VMLINUX_H */
