/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __SYNCSNOOP_H
#define __SYNCSNOOP_H

#define TASK_COMM_LEN 16

/* Which call asked for the flush. */
enum sync_syscalls {
	SYS_SYNC = 1,
	SYS_FSYNC,
	SYS_FDATASYNC,
	SYS_MSYNC,
	SYS_SYNC_FILE_RANGE,
	SYS_SYNCFS,
};

/* A call that flushes data to storage. */
struct event {
	__u32 pid;
	int fd;				/* the file (or -1: sync and msync take none) */
	enum sync_syscalls sys;
	char comm[TASK_COMM_LEN];
};

#endif /* __SYNCSNOOP_H */
