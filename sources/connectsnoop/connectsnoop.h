/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __CONNECTSNOOP_H
#define __CONNECTSNOOP_H

#define TASK_COMM_LEN 16

/* A connect() of an IPv4 or IPv6 socket (TCP, or UDP choosing its peer). */
struct event {
	__u8 daddr[16];			/* network order; IPv4 uses the first 4 bytes */
	__u64 delta;			/* how long the call took, ns */
	__u32 pid;
	int ret;			/* 0 or -errno (EINPROGRESS: non-blocking, under way) */
	__u16 family;			/* AF_INET or AF_INET6 */
	__u16 dport;			/* network order */
	char comm[TASK_COMM_LEN];
};

#endif /* __CONNECTSNOOP_H */
