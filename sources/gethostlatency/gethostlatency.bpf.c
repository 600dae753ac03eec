// SPDX-License-Identifier: GPL-2.0
/* gethostlatency: one event per host name lookup through libc (getaddrinfo(),
 * gethostbyname(), gethostbyname2()), with the name and how long it took.
 *
 * The entry probe keeps the name and the time per thread; the return probe of
 * the same thread closes the lookup. A lookup that calls another (as some libc
 * versions do) is timed once, from the outer call. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "gethostlatency.h"

/* Only lookups made by this process (0 = every process). */
const volatile pid_t targ_tgid = 0;
/* Only processes in the cgroup stored in cgroup_map (run's --cgroup sets both). */
const volatile bool filter_cg = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct event);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline int probe_entry(const char *name)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct event event = {};

	if (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
		return 0;
	if (targ_tgid && tgid != (__u32)targ_tgid)
		return 0;
	event.time = bpf_ktime_get_ns();
	event.pid = tgid;
	event.tid = tid;
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_probe_read_user_str(event.host, sizeof(event.host), name);
	/* BPF_NOEXIST: an inner lookup keeps the outer one's start. */
	bpf_map_update_elem(&starts, &tid, &event, BPF_NOEXIST);
	return 0;
}

static __always_inline int probe_return(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e;

	e = bpf_map_lookup_elem(&starts, &tid);
	if (!e)
		return 0;
	e->time = bpf_ktime_get_ns() - e->time;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, sizeof(*e));
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

SEC("uprobe/libc.so.6:getaddrinfo")
int BPF_KPROBE(getaddrinfo_entry, const char *node)
{
	return probe_entry(node);
}

SEC("uretprobe/libc.so.6:getaddrinfo")
int BPF_KRETPROBE(getaddrinfo_return)
{
	return probe_return(ctx);
}

SEC("uprobe/libc.so.6:gethostbyname")
int BPF_KPROBE(gethostbyname_entry, const char *name)
{
	return probe_entry(name);
}

SEC("uretprobe/libc.so.6:gethostbyname")
int BPF_KRETPROBE(gethostbyname_return)
{
	return probe_return(ctx);
}

SEC("uprobe/libc.so.6:gethostbyname2")
int BPF_KPROBE(gethostbyname2_entry, const char *name)
{
	return probe_entry(name);
}

SEC("uretprobe/libc.so.6:gethostbyname2")
int BPF_KRETPROBE(gethostbyname2_return)
{
	return probe_return(ctx);
}

char LICENSE[] SEC("license") = "GPL";
