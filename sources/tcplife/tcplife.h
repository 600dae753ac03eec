/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __TCPLIFE_H
#define __TCPLIFE_H

#define TASK_COMM_LEN 16

/* One closed TCP connection. */
struct event {
	union {
		__u32 saddr_v4;
		__u8 saddr_v6[16];
	};
	union {
		__u32 daddr_v4;
		__u8 daddr_v6[16];
	};
	char comm[TASK_COMM_LEN];	/* the process that opened or closed it */
	__u64 span_us;			/* from the first state change seen to CLOSE */
	__u64 rx_b;			/* bytes received */
	__u64 tx_b;			/* bytes sent and acknowledged */
	__u32 pid;
	__u16 sport;			/* local port */
	__u16 dport;			/* remote port */
	__u16 family;			/* AF_INET or AF_INET6 */
};

#endif /* __TCPLIFE_H */
