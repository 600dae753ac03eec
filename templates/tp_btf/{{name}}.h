/* SPDX-License-Identifier: GPL-2.0 */
/* The record {{name}} sends to user space: included by the eBPF program and the loaders. */
#pragma once

#define COMM_LEN 16

struct event {
	__u32 pid;
	__u32 ppid;
	__s32 exit_code;	/* the status passed to exit(), or 128 + the signal that killed it */
	char comm[COMM_LEN];
};
