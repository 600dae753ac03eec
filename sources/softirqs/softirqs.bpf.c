// SPDX-License-Identifier: GPL-2.0
/* softirqs: time spent in each kind of software interrupt, as totals and, on
 * request, as log2 histograms in nanoseconds.
 *
 * Softirqs do not nest on one CPU, so one start time per CPU is enough: the
 * entry stamps it, the exit of the same kind reads it. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "softirqs.h"

/* Also fill the per-kind histograms (the tool's -d). */
const volatile bool targ_dist = false;
/* Only count softirqs run on this CPU (-1 = every CPU). */
const volatile int targ_cpu = -1;

struct entry {
	__u64 ts;
	__u32 vec;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct entry);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NR_SOFTIRQ_KINDS);
	__type(key, enum softirq_kind);
	__type(value, struct softirq_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NR_SOFTIRQ_KINDS);
	__type(key, enum softirq_kind);
	__type(value, struct hist);
} hists SEC(".maps");

static struct softirq_stat zero_stat;
static struct hist zero_hist;

static __always_inline bool wanted_cpu(void)
{
	return targ_cpu < 0 || bpf_get_smp_processor_id() == (__u32)targ_cpu;
}

SEC("tracepoint/irq/softirq_entry")
int softirq_entry(struct trace_event_raw_softirq *ctx)
{
	struct entry *e;
	__u32 zero = 0;

	if (!wanted_cpu())
		return 0;
	e = bpf_map_lookup_elem(&start, &zero);
	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	e->vec = ctx->vec;
	return 0;
}

SEC("tracepoint/irq/softirq_exit")
int softirq_exit(struct trace_event_raw_softirq *ctx)
{
	enum softirq_kind vec = ctx->vec;
	__u32 zero = 0;
	struct entry *e;
	struct softirq_stat *st;
	struct hist *h;
	__u64 delta;
	__u32 slot;

	if (vec >= NR_SOFTIRQ_KINDS || !wanted_cpu())
		return 0;
	e = bpf_map_lookup_elem(&start, &zero);
	/* No entry seen on this CPU (loaded mid-softirq), or another kind's. */
	if (!e || !e->ts || e->vec != vec)
		return 0;
	delta = bpf_ktime_get_ns() - e->ts;
	e->ts = 0;

	st = bpf_map_lookup_or_try_init(&stats, &vec, &zero_stat);
	if (st) {
		__sync_fetch_and_add(&st->count, 1);
		__sync_fetch_and_add(&st->total_ns, delta);
	}
	if (!targ_dist)
		return 0;
	h = bpf_map_lookup_or_try_init(&hists, &vec, &zero_hist);
	if (!h)
		return 0;
	slot = delta ? log2l(delta) + 1 : 0;	/* slot 0 holds 0 ns */
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	/* Checked again where the verifier sees it: older verifiers lose the clamp's
	 * bound once the compiler has folded it. */
	barrier_var(slot);
	if (slot < MAX_SLOTS)
		__sync_fetch_and_add(&h->slots[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
