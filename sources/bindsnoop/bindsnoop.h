/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BINDSNOOP_H
#define __BINDSNOOP_H

#define TASK_COMM_LEN 16

/* A bind() of an IPv4 or IPv6 socket. */
struct event {
	__u8 addr[16];			/* network order; IPv4 uses the first 4 bytes */
	__u32 pid;
	int ret;			/* 0 or -errno */
	__u16 family;			/* AF_INET or AF_INET6 */
	__u16 port;			/* network order; 0 asks for any free port */
	char comm[TASK_COMM_LEN];
};

#endif /* __BINDSNOOP_H */
