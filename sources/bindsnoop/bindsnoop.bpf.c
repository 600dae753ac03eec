// SPDX-License-Identifier: GPL-2.0
/* bindsnoop: one event per bind() of an IPv4 or IPv6 socket, with the address and port
 * asked for and the result: which process takes which port, and who fails to.
 *
 * This kernel offers no kprobes, so the tool reads the sockaddr the caller passes to the
 * syscall (at entry, from its memory) rather than the socket inside inet_bind(); the
 * result comes at exit. Other families (unix, netlink) are left out. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bindsnoop.h"

#define MAX_ENTRIES 10240
#define AF_INET 2
#define AF_INET6 10

/* Only this process (0 = every process). */
const volatile pid_t target_pid = 0;
/* Only binds of this port (0 = every port). */
const volatile __u16 target_port = 0;
/* Leave out binds that failed. */
const volatile bool ignore_errors = false;

/* The event of a call in progress, its result still missing, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct event);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_bind")
int bind_entry(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	const void *uaddr = (const void *)ctx->args[1];
	struct sockaddr_in6 sa = {};
	struct event event = {};

	if (target_pid && pid != (__u32)target_pid)
		return 0;
	/* sockaddr_in6 is the larger of the two; a shorter one leaves the rest zero. */
	if (bpf_probe_read_user(&sa, sizeof(sa), uaddr) &&
	    bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr))
		return 0;
	if (sa.sin6_family == AF_INET)
		__builtin_memcpy(event.addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
	else if (sa.sin6_family == AF_INET6)
		__builtin_memcpy(event.addr, &sa.sin6_addr, 16);
	else
		return 0;
	if (target_port && sa.sin6_port != bpf_htons(target_port))
		return 0;
	event.pid = pid;
	event.family = sa.sin6_family;
	event.port = sa.sin6_port;
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_map_update_elem(&calls, &tid, &event, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int bind_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *eventp;

	eventp = bpf_map_lookup_elem(&calls, &tid);
	if (!eventp)
		return 0;
	eventp->ret = (int)ctx->ret;
	if (!ignore_errors || eventp->ret == 0)
		bpf_ringbuf_output(&events, eventp, sizeof(*eventp), 0);
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
