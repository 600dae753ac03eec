/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __CPUDIST_H
#define __CPUDIST_H

#define MAX_SLOTS 27	/* log2 slots: up to 2^26 usecs */

/* Times on (or off) a CPU, slot n counting 2^(n-1) to 2^n - 1 usecs; one histogram
 * for everything, or one per process with targ_per_process. */
struct hist {
	__u32 slots[MAX_SLOTS];
};

#endif /* __CPUDIST_H */
