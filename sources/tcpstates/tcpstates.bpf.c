// SPDX-License-Identifier: GPL-2.0
/* tcpstates: one event per TCP state change, with the time spent in the
 * state being left. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"

#define TASK_COMM_LEN 16
#define AF_INET 2
#define AF_INET6 10

/* Only this address family: 2 = IPv4, 10 = IPv6 (0 = both). */
const volatile __u16 target_family = 0;
/* Only sockets with this local or remote port (0 = all). */
const volatile __u16 target_port = 0;

struct event {
	__u64 skaddr;		/* identifies the socket across its events */
	__u64 delta_us;		/* time in oldstate; 0 if its start was not seen */
	ipv4_addr_t saddr;	/* IPv4 sockets */
	ipv4_addr_t daddr;
	ipv6_addr_t saddr_v6;	/* IPv6 sockets */
	ipv6_addr_t daddr_v6;
	__u32 pid;		/* the task running when the state changed */
	__s32 oldstate;		/* TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12 */
	__s32 newstate;
	__u16 family;		/* 2 = IPv4, 10 = IPv6 */
	__u16 sport;
	__u16 dport;
	char comm[TASK_COMM_LEN];
};

/* When each socket entered its current state, in ns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} timestamps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	__u64 now = bpf_ktime_get_ns();
	__u16 family = ctx->family;
	struct event *e;
	__u64 *start;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && family != target_family)
		return 0;
	if (target_port && ctx->sport != target_port && ctx->dport != target_port)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto track;
	__builtin_memset(e, 0, sizeof(*e));
	start = bpf_map_lookup_elem(&timestamps, &sk);
	e->skaddr = sk;
	e->delta_us = start ? (now - *start) / 1000 : 0;
	/* Copied with a helper: clang turns a memcpy from ctx into loads
	 * through a moved ctx pointer, which the verifier refuses. */
	if (family == AF_INET) {
		bpf_probe_read_kernel(&e->saddr, sizeof(e->saddr), ctx->saddr);
		bpf_probe_read_kernel(&e->daddr, sizeof(e->daddr), ctx->daddr);
	} else {
		bpf_probe_read_kernel(&e->saddr_v6, sizeof(e->saddr_v6), ctx->saddr_v6);
		bpf_probe_read_kernel(&e->daddr_v6, sizeof(e->daddr_v6), ctx->daddr_v6);
	}
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->oldstate = ctx->oldstate;
	e->newstate = ctx->newstate;
	e->family = family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
track:
	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&timestamps, &sk);
	else
		bpf_map_update_elem(&timestamps, &sk, &now, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
