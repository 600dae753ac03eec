/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __STATSNOOP_H
#define __STATSNOOP_H

#define TASK_COMM_LEN 16
#define NAME_MAX 255

/* One stat-family call: which one, on which path, and its result. */
struct event {
	__u32 pid;
	int ret;			/* 0 or -errno */
	int syscall_id;			/* the architecture's syscall number */
	char comm[TASK_COMM_LEN];
	char pathname[NAME_MAX];
};

#endif /* __STATSNOOP_H */
