/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BIOSNOOP_H
#define __BIOSNOOP_H

#define TASK_COMM_LEN 16
#define DISK_NAME_LEN 32

/* One block I/O request that completed. */
struct event {
	char comm[TASK_COMM_LEN];	/* the task that queued or issued it */
	char disk[DISK_NAME_LEN];	/* `vda`, `nvme0n1`... */
	__u64 delta_us;			/* issued to the device until completed */
	__u64 qdelta_us;		/* queued until issued (with targ_queued) */
	__u64 sector;
	__u32 len;			/* bytes */
	__u32 pid;
	__u32 op;			/* REQ_OP_READ 0, WRITE 1, FLUSH 2, DISCARD 3... */
	__u32 status;			/* blk_status_t: 0 OK, 2 TIMEOUT, 3 NOSPC, 10 IOERR... */
};

#endif /* __BIOSNOOP_H */
