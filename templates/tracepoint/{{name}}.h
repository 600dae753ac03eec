/* SPDX-License-Identifier: GPL-2.0 */
/* The record {{name}} sends to user space: included by the eBPF program and the loaders. */
#pragma once

#define COMM_LEN 16
#define PATH_LEN 128

struct event {
	__u32 pid;
	__u32 uid;
	char comm[COMM_LEN];	/* printed as a string: it is a char array */
	char filename[PATH_LEN];
};
