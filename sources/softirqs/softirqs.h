/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __SOFTIRQS_H
#define __SOFTIRQS_H

#define MAX_SLOTS 27	/* log2 slots: up to 2^26 ns (67 ms) */

/* The kinds of softirq, numbered and named as the kernel's softirq_to_name[]; the
 * maps are keyed by this type, so their keys print as these names. */
enum softirq_kind {
	HI,
	TIMER,
	NET_TX,
	NET_RX,
	BLOCK,
	IRQ_POLL,
	TASKLET,
	SCHED,
	HRTIMER,
	RCU,
	NR_SOFTIRQ_KINDS,
};

/* Per softirq kind: how often it ran and for how long in all. */
struct softirq_stat {
	__u64 count;
	__u64 total_ns;
};

/* Per softirq kind: its run times, slot n counting 2^(n-1) to 2^n - 1 ns. */
struct hist {
	__u32 slots[MAX_SLOTS];
};

#endif /* __SOFTIRQS_H */
