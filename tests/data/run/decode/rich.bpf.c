// SPDX-License-Identifier: GPL-2.0
/* One event per getppid() call of target_pid, with a field of every kind the runner decodes
 * on its fast path, sent through a perf event array. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ebpf_hub.h"

const volatile __u32 target_pid = 0;

enum color { RED = 1, GREEN = 2, BLUE = 7 };

struct inner {
	__u16 port;
	__s8 delta;
	char tag[4];
};

struct event {
	__u32 pid;
	__s32 negative;
	__u64 big;
	bool flag;
	enum color color;
	enum color unnamed;
	ipv4_addr_t v4;
	ipv6_addr_t v6;
	struct inner inner;
	__u32 counts[3];
	struct inner pair[2];
	char name[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

SEC("tracepoint/syscalls/sys_enter_getppid")
int rich_getppid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event e = {};

	if (pid != target_pid)
		return 0;
	e.pid = pid;
	e.negative = -5;
	e.big = ~0ULL;
	e.flag = true;
	e.color = BLUE;
	e.unnamed = 99;
	e.v4 = bpf_htonl(0xA9FE0102); /* 169.254.1.2 */
	e.v6.addr[0] = 0xfe;
	e.v6.addr[1] = 0x80;
	e.v6.addr[15] = 1;
	e.inner.port = 8080;
	e.inner.delta = -1;
	e.inner.tag[0] = 'a';
	e.inner.tag[1] = 'b';
	e.counts[0] = 1;
	e.counts[1] = 2;
	e.counts[2] = 3;
	e.pair[0].port = 1;
	e.pair[0].delta = 2;
	e.pair[0].tag[0] = 'x';
	e.pair[1].port = 3;
	e.pair[1].delta = 4;
	e.pair[1].tag[0] = 'y';
	__builtin_memcpy(e.name, "rich", 5);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
