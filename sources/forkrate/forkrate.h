/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __FORKRATE_H
#define __FORKRATE_H

#define TASK_COMM_LEN 16

/* The key of the counts (struct key is the kernel's): the command that forked. */
struct comm_key {
	char comm[TASK_COMM_LEN];
};

#endif /* __FORKRATE_H */
