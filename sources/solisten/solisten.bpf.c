// SPDX-License-Identifier: GPL-2.0
/* solisten: one event per listen() call, with the local address and port the socket now
 * accepts connections on, the backlog asked for and the result: which process opens
 * which server port.
 *
 * With no kprobes here (libbpf-tools hooks inet_listen), the socket is found from the
 * call's file descriptor at exit, once listen() succeeded: the caller's file table holds
 * the file, whose private data is the socket. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "solisten.h"

#define MAX_ENTRIES 10240
#define AF_INET 2
#define AF_INET6 10

/* Only this process (0 = every process). */
const volatile pid_t target_pid = 0;

/* listen()'s arguments while it runs, by thread id. */
struct args {
	int fd;
	int backlog;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct args);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* The socket behind the caller's descriptor `fd` (which must be one: listen() accepted it). */
static __always_inline struct sock *fd_sock(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

SEC("tracepoint/syscalls/sys_enter_listen")
int listen_entry(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct args args = {
		.fd = (int)ctx->args[0],
		.backlog = (int)ctx->args[1],
	};

	if (target_pid && (pid_tgid >> 32) != (__u32)target_pid)
		return 0;
	bpf_map_update_elem(&calls, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int listen_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct args *args;
	struct sock *sk;
	struct event *e;
	__u16 family;

	args = bpf_map_lookup_elem(&calls, &tid);
	if (!args)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid_tgid >> 32;
	e->backlog = args->backlog;
	e->ret = (int)ctx->ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	sk = e->ret == 0 ? fd_sock(args->fd) : NULL;
	if (sk) {
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
		e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		if (family == AF_INET) {
			e->family = family;
			bpf_core_read(e->addr, 4, &sk->__sk_common.skc_rcv_saddr);
		} else if (family == AF_INET6) {
			e->family = family;
			bpf_core_read(e->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		}
	}
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
