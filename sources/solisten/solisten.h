/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __SOLISTEN_H
#define __SOLISTEN_H

#define TASK_COMM_LEN 16

/* A listen() call: the socket that starts accepting connections, and its queue length. */
struct event {
	__u8 addr[16];			/* local address, network order; IPv4: first 4 bytes */
	__u32 pid;
	int backlog;			/* the queue length asked for */
	int ret;			/* 0 or -errno */
	__u16 family;			/* AF_INET or AF_INET6; 0 when the call failed */
	__u16 port;			/* local port, host order */
	char comm[TASK_COMM_LEN];
};

#endif /* __SOLISTEN_H */
