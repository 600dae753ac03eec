// SPDX-License-Identifier: GPL-2.0
/* One event per field format, emitted when the target process returns from openat():
 * the result and the syscall number are the kernel's, the other fields fixed values a
 * test knows the text of. Two records per call: the union's tag chooses `first`, then
 * `second`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct first {
	__u32 a;
	__u32 b;
};

struct second {
	__u64 c;
};

struct event {
	__u32 pid;
	__s32 ret;		/* errno: -2 is ENOENT */
	__s64 id;		/* syscall number */
	__s32 sig;		/* signal */
	__s32 perr;		/* a positive errno */
	__u32 mflags;		/* mount flags */
	__u32 oflags;		/* flags of an inline set */
	__u32 state;		/* a TCP state */
	__u16 family;		/* the address family of saddr */
	__u16 dport;		/* network byte order */
	__u32 saddr;		/* IPv4, network byte order */
	__u8 daddr[16];		/* IPv6 */
	__u64 lat;		/* ns */
	__u64 ts;		/* bpf_ktime_get_ns() */
	__u64 start;		/* bpf_ktime_get_ns() two seconds ago */
	__u64 size;		/* bytes */
	__u64 pad;		/* hidden */
	__u32 kind;		/* chooses the member of u */
	union {
		struct first first;
		struct second second;
	} u;
	char comm[16];
};

const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_exit_openat")
int fmt_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct event e = {};
	__u64 now = bpf_ktime_get_ns();

	e.pid = bpf_get_current_pid_tgid() >> 32;
	if (target_pid && e.pid != target_pid)
		return 0;
	e.ret = ctx->ret;
	e.id = ctx->id;
	e.sig = 9;
	e.perr = 13;
	e.mflags = 0x1000 | 0x4000;	/* MS_BIND | MS_REC */
	e.oflags = 1 | 8 | 0x100;
	e.state = 1;
	e.family = 2;
	e.dport = bpf_htons(8080);
	e.saddr = bpf_htonl(0x7f000001);
	e.daddr[15] = 1;
	e.lat = 1500000;
	e.ts = now;
	e.start = now - 2000000000ULL;
	e.size = 1536;
	e.pad = 77;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	e.kind = 1;
	e.u.first.a = 7;
	e.u.first.b = 8;
	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
	e.kind = 2;
	e.u.second.c = 2048;
	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
