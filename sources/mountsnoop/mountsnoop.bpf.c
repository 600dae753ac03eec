// SPDX-License-Identifier: GPL-2.0
/* mountsnoop: one event per mount-related call, with its arguments, the time it took and
 * its result: what mounted what where, in which mount namespace. The classic mount() and
 * umount2(), and the mount API that newer mount(8) uses instead: fsopen() a file system,
 * fsconfig() its options, fsmount() it, move_mount() it into place.
 *
 * Entry keeps the arguments (pointers into the caller's memory); exit reads the strings
 * (still there) into the event, whose union holds the arguments of the call `op` names. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "mountsnoop.h"

#define MAX_ENTRIES 10240

/* Only this process (0 = every process). */
const volatile pid_t target_pid = 0;

/* What a call in progress was given, by thread id; which fields hold what depends on op. */
struct arg {
	__u64 ts;
	__u64 flags;
	__u64 attr_flags;	/* fsmount */
	const char *src;	/* mount's source, fsconfig's key, move_mount's from path */
	const char *dest;	/* the target path */
	const char *fs;		/* the file system type */
	const char *data;	/* mount's options, fsconfig's value */
	int fd;			/* fsconfig's and fsmount's fs fd, move_mount's from_dfd */
	int to_fd;		/* move_mount's to_dfd */
	int aux;		/* fsconfig */
	unsigned int cmd;	/* fsconfig */
	enum op op;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct arg);
} args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline int probe_entry(struct arg *arg)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;

	if (target_pid && pid != (__u32)target_pid)
		return 0;
	arg->ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&args, &tid, arg, BPF_ANY);
	return 0;
}

/* FSCONFIG_SET_STRING, FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY: the value is a string. */
static __always_inline bool fsconfig_has_string(unsigned int cmd)
{
	return cmd == 1 || cmd == 3 || cmd == 4;
}

static __always_inline void fill_details(struct event *e, const struct arg *argp)
{
	switch (argp->op) {
	case MOUNT:
		e->mount.flags = argp->flags;
		bpf_probe_read_user_str(e->mount.fs, sizeof(e->mount.fs), argp->fs);
		bpf_probe_read_user_str(e->mount.src, sizeof(e->mount.src), argp->src);
		bpf_probe_read_user_str(e->mount.dest, sizeof(e->mount.dest), argp->dest);
		bpf_probe_read_user_str(e->mount.data, sizeof(e->mount.data), argp->data);
		break;
	case UMOUNT:
		e->umount.flags = argp->flags;
		bpf_probe_read_user_str(e->umount.dest, sizeof(e->umount.dest), argp->dest);
		break;
	case FSOPEN:
		e->fsopen.flags = argp->flags;
		bpf_probe_read_user_str(e->fsopen.fs, sizeof(e->fsopen.fs), argp->fs);
		break;
	case FSCONFIG:
		e->fsconfig.fd = argp->fd;
		e->fsconfig.cmd = argp->cmd;
		e->fsconfig.aux = argp->aux;
		bpf_probe_read_user_str(e->fsconfig.key, sizeof(e->fsconfig.key), argp->src);
		if (fsconfig_has_string(argp->cmd))
			bpf_probe_read_user_str(e->fsconfig.value, sizeof(e->fsconfig.value),
						argp->data);
		else
			e->fsconfig.value[0] = '\0';
		break;
	case FSMOUNT:
		e->fsmount.flags = argp->flags;
		e->fsmount.attr_flags = argp->attr_flags;
		e->fsmount.fs_fd = argp->fd;
		break;
	case MOVE_MOUNT:
		e->move_mount.flags = argp->flags;
		e->move_mount.from_dfd = argp->fd;
		e->move_mount.to_dfd = argp->to_fd;
		bpf_probe_read_user_str(e->move_mount.from_path, sizeof(e->move_mount.from_path),
					argp->src);
		bpf_probe_read_user_str(e->move_mount.to_path, sizeof(e->move_mount.to_path),
					argp->dest);
		break;
	}
}

static __always_inline int probe_exit(int ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct task_struct *task;
	struct event *e;
	struct arg *argp;

	argp = bpf_map_lookup_elem(&args, &tid);
	if (!argp)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	task = (struct task_struct *)bpf_get_current_task();
	e->delta = bpf_ktime_get_ns() - argp->ts;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	e->ret = ret;
	e->op = argp->op;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	fill_details(e, argp);
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&args, &tid);
	return 0;
}

/* mount(source, target, filesystemtype, mountflags, data) */
SEC("tracepoint/syscalls/sys_enter_mount")
int mount_entry(struct trace_event_raw_sys_enter *ctx)
{
	struct arg arg = {
		.op = MOUNT,
		.src = (const char *)ctx->args[0],
		.dest = (const char *)ctx->args[1],
		.fs = (const char *)ctx->args[2],
		.flags = ctx->args[3],
		.data = (const char *)ctx->args[4],
	};

	return probe_entry(&arg);
}

SEC("tracepoint/syscalls/sys_exit_mount")
int mount_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

/* umount2(target, flags); umount() is umount2 with no flags where it exists */
SEC("tracepoint/syscalls/sys_enter_umount")
int umount_entry(struct trace_event_raw_sys_enter *ctx)
{
	struct arg arg = {
		.op = UMOUNT,
		.dest = (const char *)ctx->args[0],
		.flags = ctx->args[1],
	};

	return probe_entry(&arg);
}

SEC("tracepoint/syscalls/sys_exit_umount")
int umount_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

/* fsopen(fsname, flags) */
SEC("tracepoint/syscalls/sys_enter_fsopen")
int fsopen_entry(struct trace_event_raw_sys_enter *ctx)
{
	struct arg arg = {
		.op = FSOPEN,
		.fs = (const char *)ctx->args[0],
		.flags = ctx->args[1],
	};

	return probe_entry(&arg);
}

SEC("tracepoint/syscalls/sys_exit_fsopen")
int fsopen_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

/* fsconfig(fs_fd, cmd, key, value, aux) */
SEC("tracepoint/syscalls/sys_enter_fsconfig")
int fsconfig_entry(struct trace_event_raw_sys_enter *ctx)
{
	struct arg arg = {
		.op = FSCONFIG,
		.fd = (int)ctx->args[0],
		.cmd = (unsigned int)ctx->args[1],
		.src = (const char *)ctx->args[2],
		.data = (const char *)ctx->args[3],
		.aux = (int)ctx->args[4],
	};

	return probe_entry(&arg);
}

SEC("tracepoint/syscalls/sys_exit_fsconfig")
int fsconfig_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

/* fsmount(fs_fd, flags, attr_flags) */
SEC("tracepoint/syscalls/sys_enter_fsmount")
int fsmount_entry(struct trace_event_raw_sys_enter *ctx)
{
	struct arg arg = {
		.op = FSMOUNT,
		.fd = (int)ctx->args[0],
		.flags = ctx->args[1],
		.attr_flags = ctx->args[2],
	};

	return probe_entry(&arg);
}

SEC("tracepoint/syscalls/sys_exit_fsmount")
int fsmount_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

/* move_mount(from_dfd, from_path, to_dfd, to_path, flags) */
SEC("tracepoint/syscalls/sys_enter_move_mount")
int move_mount_entry(struct trace_event_raw_sys_enter *ctx)
{
	struct arg arg = {
		.op = MOVE_MOUNT,
		.fd = (int)ctx->args[0],
		.src = (const char *)ctx->args[1],
		.to_fd = (int)ctx->args[2],
		.dest = (const char *)ctx->args[3],
		.flags = ctx->args[4],
	};

	return probe_entry(&arg);
}

SEC("tracepoint/syscalls/sys_exit_move_mount")
int move_mount_exit(struct trace_event_raw_sys_exit *ctx)
{
	return probe_exit((int)ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
