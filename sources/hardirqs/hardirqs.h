/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __HARDIRQS_H
#define __HARDIRQS_H

#define IRQ_NAME_LEN 32
#define MAX_SLOTS 27	/* log2 slots: up to 2^26 ns (67 ms) */

/* An interrupt handler, by the name it registered (`virtio1-req.0`, `eth0`...). */
struct irq_key {
	char name[IRQ_NAME_LEN];
};

/* Per handler: how often it ran and for how long in all. */
struct irq_stat {
	__u64 count;
	__u64 total_ns;
};

/* Per handler: its run times, slot n counting 2^(n-1) to 2^n - 1 ns. */
struct hist {
	__u32 slots[MAX_SLOTS];
};

#endif /* __HARDIRQS_H */
