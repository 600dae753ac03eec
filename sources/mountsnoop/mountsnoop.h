/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __MOUNTSNOOP_H
#define __MOUNTSNOOP_H

#define TASK_COMM_LEN 16
#define FS_NAME_LEN 16
#define KEY_LEN 32
#define DATA_LEN 128
#define PATH_LEN 128

/* Which call: the classic pair, then the mount API of Linux 5.2 (util-linux 2.39 and later
 * mount through it: fsopen, fsconfig for each option, fsmount, move_mount). */
enum op {
	MOUNT = 1,
	UMOUNT,
	FSOPEN,
	FSCONFIG,
	FSMOUNT,
	MOVE_MOUNT,
};

/* A mount-related call; `op` says which member of the union holds its arguments. */
struct event {
	__u64 delta;			/* how long the call took, ns */
	__u32 pid;
	__u32 tid;
	__u32 mnt_ns;			/* the caller's mount namespace (inode number) */
	int ret;			/* 0, a new file descriptor (fsopen, fsmount), or -errno */
	enum op op;
	char comm[TASK_COMM_LEN];
	union {
		struct {
			__u64 flags;	/* MS_* */
			char fs[FS_NAME_LEN];
			char src[PATH_LEN];
			char dest[PATH_LEN];
			char data[DATA_LEN];
		} mount;
		struct {
			__u64 flags;	/* MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW */
			char dest[PATH_LEN];
		} umount;
		struct {
			__u64 flags;	/* FSOPEN_CLOEXEC */
			char fs[FS_NAME_LEN];
		} fsopen;
		struct {
			int fd;
			unsigned int cmd;	/* FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE... */
			char key[KEY_LEN];
			char value[DATA_LEN];	/* for the commands that pass a string */
			int aux;
		} fsconfig;
		struct {
			__u64 flags;		/* FSMOUNT_CLOEXEC */
			__u64 attr_flags;	/* MOUNT_ATTR_* */
			int fs_fd;
		} fsmount;
		struct {
			__u64 flags;	/* MOVE_MOUNT_* */
			int from_dfd;
			int to_dfd;
			char from_path[PATH_LEN];
			char to_path[PATH_LEN];
		} move_mount;
	};
};

#endif /* __MOUNTSNOOP_H */
