/* SPDX-License-Identifier: GPL-2.0 */
/* The record {{name}} sends to user space: included by the eBPF program and the loaders. */
#pragma once

#define COMM_LEN 16
#define HOST_LEN 80

struct event {
	__u32 pid;
	char comm[COMM_LEN];
	char host[HOST_LEN];	/* the name looked up */
};
