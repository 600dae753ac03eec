// SPDX-License-Identifier: GPL-2.0
/* hardirqs: time spent in each hardware interrupt handler, by handler name, as
 * totals and, on request, as log2 histograms in nanoseconds.
 *
 * Handlers run with interrupts off, so they do not nest on one CPU: one start
 * per CPU is enough. The exit tracepoint has no name, so the entry keeps it. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "hardirqs.h"

#define MAX_IRQS 256

/* Also fill the per-handler histograms (the tool's -d). */
const volatile bool targ_dist = false;
/* Only count interrupts handled on this CPU (-1 = every CPU). */
const volatile int targ_cpu = -1;

struct entry {
	__u64 ts;
	__s32 irq;
	struct irq_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct entry);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_IRQS);
	__type(key, struct irq_key);
	__type(value, struct irq_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_IRQS);
	__type(key, struct irq_key);
	__type(value, struct hist);
} hists SEC(".maps");

static struct irq_stat zero_stat;
static struct hist zero_hist;

static __always_inline bool wanted_cpu(void)
{
	return targ_cpu < 0 || bpf_get_smp_processor_id() == (__u32)targ_cpu;
}

SEC("tracepoint/irq/irq_handler_entry")
int irq_handler_entry(struct trace_event_raw_irq_handler_entry *ctx)
{
	/* The low 16 bits of a __data_loc field: where the string starts in ctx. */
	__u32 name_off = ctx->__data_loc_name & 0xFFFF;
	struct entry *e;
	__u32 zero = 0;

	if (!wanted_cpu())
		return 0;
	e = bpf_map_lookup_elem(&start, &zero);
	if (!e)
		return 0;
	/* The key is the whole array: clear what a longer name left behind. */
	__builtin_memset(&e->key, 0, sizeof(e->key));
	bpf_probe_read_kernel_str(e->key.name, sizeof(e->key.name), (void *)ctx + name_off);
	e->irq = ctx->irq;
	e->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/irq/irq_handler_exit")
int irq_handler_exit(struct trace_event_raw_irq_handler_exit *ctx)
{
	struct irq_stat *st;
	struct entry *e;
	struct hist *h;
	__u64 delta;
	__u32 slot;
	__u32 zero = 0;

	if (!wanted_cpu())
		return 0;
	e = bpf_map_lookup_elem(&start, &zero);
	/* No entry seen on this CPU (loaded mid-handler), or another interrupt's. */
	if (!e || !e->ts || e->irq != ctx->irq)
		return 0;
	delta = bpf_ktime_get_ns() - e->ts;
	e->ts = 0;

	st = bpf_map_lookup_or_try_init(&stats, &e->key, &zero_stat);
	if (st) {
		__sync_fetch_and_add(&st->count, 1);
		__sync_fetch_and_add(&st->total_ns, delta);
	}
	if (!targ_dist)
		return 0;
	h = bpf_map_lookup_or_try_init(&hists, &e->key, &zero_hist);
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
