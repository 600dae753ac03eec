// SPDX-License-Identifier: GPL-2.0
/* tcplife: one event per TCP connection when it closes, with its addresses
 * and ports, how long it lived and the bytes it moved.
 *
 * A socket's life starts at its first state change before FIN_WAIT1 that we
 * see (SYN_SENT for an active open, SYN_RECV or ESTABLISHED for a passive one)
 * and ends at CLOSE. The process is the one in whose context the connection
 * was opened (SYN_SENT) or closed by the peer first (LAST_ACK); otherwise the
 * one running at CLOSE, which may be unrelated (a softirq). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tcplife.h"

#define AF_INET 2
#define AF_INET6 10
#define MAX_ENTRIES 10240

/* Only connections of this process (0 = every process). */
const volatile pid_t targ_pid = 0;
/* Only this address family: 2 IPv4, 10 IPv6 (0 = both). */
const volatile __u16 targ_family = 0;
/* Only connections with this local or remote port (0 = every port). */
const volatile __u16 targ_port = 0;

struct ident {
	char comm[TASK_COMM_LEN];
	__u32 pid;
};

/* When each socket's life began, in ns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct sock *);
	__type(value, __u64);
} births SEC(".maps");

/* The process that opened (or closed first) each socket. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct sock *);
	__type(value, struct ident);
} idents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline void forget(struct sock *sk)
{
	bpf_map_delete_elem(&births, &sk);
	bpf_map_delete_elem(&idents, &sk);
}

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	__u16 family = ctx->family, sport = ctx->sport, dport = ctx->dport;
	int newstate = ctx->newstate;
	struct event event = {};
	struct tcp_sock *tp;
	struct ident *id;
	__u64 ts, *birth;
	__u32 pid;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (targ_family && family != targ_family)
		return 0;
	if (targ_port && sport != targ_port && dport != targ_port)
		return 0;

	if (newstate < TCP_FIN_WAIT1) {
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&births, &sk, &ts, BPF_NOEXIST);
	}
	if (newstate == TCP_SYN_SENT || newstate == TCP_LAST_ACK) {
		struct ident me = { .pid = bpf_get_current_pid_tgid() >> 32 };

		bpf_get_current_comm(me.comm, sizeof(me.comm));
		bpf_map_update_elem(&idents, &sk, &me, BPF_ANY);
	}
	if (newstate != TCP_CLOSE)
		return 0;

	birth = bpf_map_lookup_elem(&births, &sk);
	if (!birth) {	/* born before we were loaded */
		forget(sk);
		return 0;
	}
	id = bpf_map_lookup_elem(&idents, &sk);
	pid = id ? id->pid : bpf_get_current_pid_tgid() >> 32;
	if (targ_pid && pid != (__u32)targ_pid) {
		forget(sk);
		return 0;
	}

	event.span_us = (bpf_ktime_get_ns() - *birth) / 1000;
	tp = (struct tcp_sock *)sk;
	event.rx_b = BPF_CORE_READ(tp, bytes_received);
	event.tx_b = BPF_CORE_READ(tp, bytes_acked);
	event.pid = pid;
	if (id)
		__builtin_memcpy(event.comm, id->comm, sizeof(event.comm));
	else
		bpf_get_current_comm(event.comm, sizeof(event.comm));
	event.family = family;
	event.sport = sport;
	event.dport = dport;
	/* Copied with a helper: the addresses are arrays of the tracepoint's ctx. */
	if (family == AF_INET) {
		bpf_probe_read_kernel(&event.saddr_v4, sizeof(event.saddr_v4), ctx->saddr);
		bpf_probe_read_kernel(&event.daddr_v4, sizeof(event.daddr_v4), ctx->daddr);
	} else {
		bpf_probe_read_kernel(event.saddr_v6, sizeof(event.saddr_v6), ctx->saddr_v6);
		bpf_probe_read_kernel(event.daddr_v6, sizeof(event.daddr_v6), ctx->daddr_v6);
	}
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
	forget(sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
