/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __GETHOSTLATENCY_H
#define __GETHOSTLATENCY_H

#define TASK_COMM_LEN 16
#define HOST_LEN 80

/* One name lookup that returned. */
struct event {
	__u64 time;			/* how long it took, ns */
	__u32 pid;
	__u32 tid;
	char comm[TASK_COMM_LEN];
	char host[HOST_LEN];		/* the name asked for */
};

#endif /* __GETHOSTLATENCY_H */
