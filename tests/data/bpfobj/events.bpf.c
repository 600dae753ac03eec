// SPDX-License-Identifier: GPL-2.0
/* Test object for ebpf_hub.bpfobj: every attach kind, map type, parameter and field kind
 * the inspector must recognise.  Only compiled by the tests, never loaded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ebpf_hub.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum kind {
	KIND_NEGATIVE = -3,
	KIND_OPEN = 1,
	KIND_EXEC = 2,
};

struct inner {
	__u16 port;
	__s8 delta;
};

struct event {
	__u32 pid;
	__s32 ret;
	__u64 ts;
	char comm[16];
	ipv4_addr_t saddr;
	ipv6_addr_t daddr;
	enum kind kind;
	struct inner inner;
	__u32 counts[3];
	__u8 raw[4];
	__u32 flag_a : 3;
	__s32 flag_b : 5;
	bool ok;
	union {
		__u32 as_u32;
		__u8 as_bytes[4];
	};
};

struct op_stat {
	__u64 calls;
	__u64 slots[EBPF_HUB_HIST_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct op_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_out SEC(".maps");

const volatile __u32 target_pid = 0;
const volatile __s64 min_delta = -5;
const volatile bool verbose = true;
const volatile char prefix[8] = "abc";
const volatile enum kind default_kind = KIND_EXEC;

__u64 total_events = 0;  /* .bss: global data, not a parameter */
__u32 sample_rate = 7;   /* .data */

EBPF_HUB_EVENT(struct event);

/* A global function: a bpf-to-bpf call through a relocation into .text. */
__noinline int count_call(__u32 key)
{
	__u64 one = 1, *val;

	val = bpf_map_lookup_elem(&counts, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int handle_exec(void *ctx)
{
	struct event *e;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (target_pid && pid != target_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->ts = bpf_ktime_get_ns();
	e->kind = default_kind;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	count_call(pid);
	total_events++;
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	__u32 key = 0;
	struct op_stat *s = bpf_map_lookup_elem(&stats, &key);

	if (s)
		s->calls += sample_rate;
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_enter(void *ctx) { return 0; }

SEC("tp_btf/sched_switch")
int btf_switch(void *ctx) { return 0; }

SEC("uprobe//bin/bash:readline")
int bash_readline(void *ctx) { return 0; }

SEC("uretprobe")
int any_uretprobe(void *ctx) { return 0; }

SEC("fentry/do_unlinkat")
int unlink_entry(void *ctx) { return 0; }

SEC("kprobe/do_sys_openat2")
int open_kprobe(void *ctx) { return 0; }

SEC("xdp")
int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp")
int xdp_drop(struct xdp_md *ctx) { return XDP_DROP; }

SEC("tc")
int tc_ok(struct __sk_buff *skb) { return 0; }

SEC("classifier")
int cls_ok(struct __sk_buff *skb) { return 0; }

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb) { return 1; }

SEC("socket")
int sock_filter(struct __sk_buff *skb) { return 0; }

SEC("perf_event")
int on_sample(void *ctx) { return 0; }

SEC("lsm/file_open")
int lsm_open(void *ctx) { return 0; }

SEC("iter/task")
int dump_task(void *ctx) { return 0; }

SEC("not_a_known/section")
int mystery(void *ctx) { return 0; }
