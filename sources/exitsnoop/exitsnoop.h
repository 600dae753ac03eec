/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __EXITSNOOP_H
#define __EXITSNOOP_H

#define TASK_COMM_LEN 16

/* A process (or, with trace_by_process off, a thread) that ended. */
struct event {
	__u64 start_time;		/* when it started, boot clock in ns */
	__u32 pid;			/* process id */
	__u32 tid;			/* thread id */
	__u32 ppid;			/* parent's process id */
	int exit_code;			/* the status passed to exit() */
	int sig;			/* the signal that ended it, or 0 */
	__u32 core_dumped;		/* 1 when it dumped core */
	char comm[TASK_COMM_LEN];
};

#endif /* __EXITSNOOP_H */
