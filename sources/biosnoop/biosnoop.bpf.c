// SPDX-License-Identifier: GPL-2.0
/* biosnoop: one event per block I/O request when it completes, with the disk,
 * the operation, the size and how long the device took.
 *
 * A request is remembered when it is queued (block_rq_insert; with
 * targ_queued) or issued to the driver (block_rq_issue; requests sent straight
 * to the driver are never inserted) and reported at block_rq_complete. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "biosnoop.h"

#define REQ_OP_MASK ((1 << 8) - 1)	/* the op is the low 8 bits of cmd_flags */
#define MAX_ENTRIES 10240

/* Also report the time each request waited in the queue before being issued. */
const volatile bool targ_queued = false;
/* Only requests slower than this, in usecs (0 = every request). */
const volatile __u64 min_us = 0;
/* Only requests queued or issued by tasks in the cgroup stored in cgroup_map
 * (run's --cgroup sets both). */
const volatile bool filter_cg = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct piddata {
	char comm[TASK_COMM_LEN];
	__u32 pid;
};

struct stage {
	__u64 insert;	/* ns; 0 if not seen */
	__u64 issue;
};

/* Who queued or issued each request. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct request *);
	__type(value, struct piddata);
} infobyreq SEC(".maps");

/* When each request was queued and issued. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct request *);
	__type(value, struct stage);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline void remember_task(struct request *rq)
{
	struct piddata data = { .pid = bpf_get_current_pid_tgid() >> 32 };

	bpf_get_current_comm(data.comm, sizeof(data.comm));
	bpf_map_update_elem(&infobyreq, &rq, &data, BPF_NOEXIST);
}

static __always_inline void stamp(struct request *rq, bool issue)
{
	struct stage zero = {}, *st;

	st = bpf_map_lookup_or_try_init(&start, &rq, &zero);
	if (!st)
		return;
	if (issue)
		st->issue = bpf_ktime_get_ns();
	else
		st->insert = bpf_ktime_get_ns();
}

/* Whether the current task may start tracking a request (the cgroup filter). */
static __always_inline bool wanted_task(void)
{
	return !filter_cg || bpf_current_task_under_cgroup(&cgroup_map, 0);
}

static __always_inline int on_insert(struct request *rq)
{
	if (!wanted_task())
		return 0;
	remember_task(rq);
	if (targ_queued)
		stamp(rq, false);
	return 0;
}

static __always_inline int on_issue(struct request *rq)
{
	/* A request inserted by a task of the cgroup may be issued by a kernel worker. */
	if (!wanted_task() && !bpf_map_lookup_elem(&infobyreq, &rq))
		return 0;
	remember_task(rq);
	stamp(rq, true);
	return 0;
}

/* Since Linux 5.11 (and in some stable kernels before) the request is the only
 * argument of block_rq_insert and block_rq_issue; before, it came after its queue. */
SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert, struct request *rq)
{
	return on_insert(rq);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue, struct request *rq)
{
	return on_issue(rq);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, blk_status_t status,
	     unsigned int nr_bytes)
{
	struct event event = {};
	struct piddata *data;
	struct gendisk *disk;
	struct stage *st;
	__u64 now = bpf_ktime_get_ns();

	st = bpf_map_lookup_elem(&start, &rq);
	if (!st)
		return 0;
	if (!st->issue)	/* issued before we were loaded */
		goto cleanup;
	event.delta_us = (now - st->issue) / 1000;
	if (min_us && event.delta_us < min_us)
		goto cleanup;
	if (targ_queued && st->insert)
		event.qdelta_us = (st->issue - st->insert) / 1000;

	data = bpf_map_lookup_elem(&infobyreq, &rq);
	if (data) {
		event.pid = data->pid;
		__builtin_memcpy(event.comm, data->comm, sizeof(event.comm));
	}
	disk = get_disk(rq);
	BPF_CORE_READ_STR_INTO(&event.disk, disk, disk_name);
	event.sector = BPF_CORE_READ(rq, __sector);
	event.len = nr_bytes;
	event.op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK;
	event.status = status;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
cleanup:
	bpf_map_delete_elem(&start, &rq);
	bpf_map_delete_elem(&infobyreq, &rq);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
