// SPDX-License-Identifier: GPL-2.0
/* cpudist: how long threads run on a CPU each time they get one, as a log2
 * histogram in microseconds; with targ_offcpu, how long they wait off it.
 *
 * Every context switch ends one thread's stretch and starts another's: the
 * switch stamps the thread coming in (on-CPU) or going out (off-CPU) and closes
 * the stretch of the other. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "cpudist.h"

#define MAX_ENTRIES 10240

/* Only this process (0 = every process). */
const volatile pid_t targ_tgid = 0;
/* One histogram per process instead of one for all. */
const volatile bool targ_per_process = false;
/* Measure the time off the CPU (between switching out and back in). */
const volatile bool targ_offcpu = false;

/* When each thread (key: thread id) started its current stretch, in ns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

/* Key: the process id with targ_per_process, else 0. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero_hist;

static __always_inline bool wanted(__u32 tgid, __u32 tid)
{
	if (!tid)	/* the idle task */
		return false;
	return !targ_tgid || tgid == (__u32)targ_tgid;
}

static __always_inline void stamp(struct task_struct *t, __u64 now)
{
	__u32 tid = BPF_CORE_READ(t, pid);

	if (wanted(BPF_CORE_READ(t, tgid), tid))
		bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
}

static __always_inline void record(struct task_struct *t, __u64 now)
{
	__u32 tgid = BPF_CORE_READ(t, tgid), tid = BPF_CORE_READ(t, pid), key;
	struct hist *h;
	__u64 *tsp, delta;
	__u32 slot;

	if (!wanted(tgid, tid))
		return;
	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)	/* its stretch began before we were loaded */
		return;
	delta = (now - *tsp) / 1000;
	bpf_map_delete_elem(&start, &tid);

	key = targ_per_process ? tgid : 0;
	h = bpf_map_lookup_or_try_init(&hists, &key, &zero_hist);
	if (!h)
		return;
	slot = delta ? log2l(delta) + 1 : 0;	/* slot 0 holds 0 usecs */
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	/* Checked again where the verifier sees it: older verifiers lose the clamp's
	 * bound once the compiler has folded it. */
	barrier_var(slot);
	if (slot < MAX_SLOTS)
		__sync_fetch_and_add(&h->slots[slot], 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();

	if (targ_offcpu) {
		stamp(prev, now);
		record(next, now);
	} else {
		record(prev, now);
		stamp(next, now);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
