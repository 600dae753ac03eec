// SPDX-License-Identifier: GPL-2.0
/* {{name}}: read() latency as a log2 histogram in microseconds. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebpf_hub.h"
#include "{{name}}.h"

/* Only measure the threads of this process (0 = all); a `const volatile` parameter:
 * `ebpf-hub run {{name}} --param target_pid=1234`. */
const volatile pid_t target_pid = 0;

/* The convention for histograms: a value of EBPF_HUB_HIST_SLOTS log2 slots, filled with
 * ebpf_hub_log2_slot(); `ebpf-hub run` draws it as bars. */
struct hist {
	__u64 slots[EBPF_HUB_HIST_SLOTS];
};

/* When each thread's read() started, in ns, keyed by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

/* The output map (output.maps in ebpf-hub.yaml): one histogram at HIST_KEY. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} hist SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_read")
int read_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 ts;

	if (target_pid && (id >> 32) != (__u32)target_pid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int read_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 key = HIST_KEY;
	struct hist *h;
	__u64 *ts;

	ts = bpf_map_lookup_elem(&start, &tid);
	if (!ts)
		return 0;
	h = bpf_map_lookup_elem(&hist, &key);
	if (h)
		__sync_fetch_and_add(&h->slots[ebpf_hub_log2_slot((bpf_ktime_get_ns() - *ts) / 1000)], 1);
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
