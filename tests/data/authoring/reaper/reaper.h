/* SPDX-License-Identifier: GPL-2.0 */
/* The record reaper sends to user space, shared with its loader. */
#ifndef __REAPER_H
#define __REAPER_H

#define TASK_COMM_LEN 16

struct event {
	__u32 pid;
	__u32 ppid;
	__s64 parent_state;
	__u32 pid_slot;
	char comm[TASK_COMM_LEN];
	char parent_comm[TASK_COMM_LEN];
};

#endif /* __REAPER_H */
