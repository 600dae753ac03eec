/* SPDX-License-Identifier: GPL-2.0 */
/* The record exitsnoop sends to user space, shared with its loader. */
#ifndef __EXITSNOOP_H
#define __EXITSNOOP_H

#define TASK_COMM_LEN 16

struct event {
	__u64 age_ns;
	__u32 pid;
	__u32 ppid;
	int exit_code;
	__u32 sig;
	char comm[TASK_COMM_LEN];
};

#endif /* __EXITSNOOP_H */
