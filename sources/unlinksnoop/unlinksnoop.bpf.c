// SPDX-License-Identifier: GPL-2.0
/* unlinksnoop: one event per file removed, from the kernel's security check that every
 * unlink passes (security_inode_unlink), whichever system call asked for it: unlink(),
 * unlinkat(), rm. Its arguments, the directory and the entry, have kept their types since
 * Linux 2.6, where the system calls' own functions changed. A kprobe: the kernel needs
 * CONFIG_KPROBES. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "ebpf_hub.h"

#define TASK_COMM_LEN 16
#define NAME_LEN 256

/* Only report files removed by this process (0 = all). */
const volatile pid_t target_pid = 0;

struct event {
	__u32 pid;
	__u32 uid;
	__u64 dir;	/* the inode number of the directory */
	char comm[TASK_COMM_LEN];
	char name[NAME_LEN];	/* the entry removed, without its directory */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

SEC("kprobe/security_inode_unlink")
int BPF_KPROBE(trace_unlink, struct inode *dir, struct dentry *dentry)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	const char *name;
	struct event *e;

	if (target_pid && pid != (__u32)target_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->dir = BPF_CORE_READ(dir, i_ino);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	name = (const char *)BPF_CORE_READ(dentry, d_name.name);
	if (bpf_probe_read_kernel_str(e->name, sizeof(e->name), name) < 0)
		e->name[0] = '\0';
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
