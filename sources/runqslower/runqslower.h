/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __RUNQSLOWER_H
#define __RUNQSLOWER_H

#define TASK_COMM_LEN 16

/* A thread that waited on a run queue longer than min_us. */
struct event {
	char task[TASK_COMM_LEN];	/* the thread that waited */
	char prev_task[TASK_COMM_LEN];	/* the thread the CPU ran before it */
	__u64 delta_us;			/* how long it waited */
	__u32 pid;			/* thread id of the waiter */
	__u32 prev_pid;
};

#endif /* __RUNQSLOWER_H */
