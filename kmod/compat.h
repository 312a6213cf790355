/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compat.h - the only place where incrfs deals with the differences
 * between the kernels it supports: Debian bookworm's 6.1 and 6.12 from
 * bookworm-backports.  Everything else in the module is written against
 * the helpers defined here.
 */
#ifndef _INCRFS_COMPAT_H
#define _INCRFS_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/splice.h>

/* 6.6 put the ctime behind accessors (struct inode has __i_ctime). */
#if KERNEL_VERSION(6, 6, 0) <= LINUX_VERSION_CODE
static inline void incrfs_set_ctime(struct inode *inode, struct timespec64 ts)
{
	inode_set_ctime_to_ts(inode, ts);
}
#else
static inline void incrfs_set_ctime(struct inode *inode, struct timespec64 ts)
{
	inode->i_ctime = ts;
}
#endif

/* 6.7 put the mtime and atime behind accessors (commit 077c212f0344). */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
static inline void incrfs_set_inode_times(struct inode *inode,
					  struct timespec64 mtime,
					  struct timespec64 ctime)
{
	inode_set_mtime_to_ts(inode, mtime);
	inode_set_atime_to_ts(inode, mtime);
	incrfs_set_ctime(inode, ctime);
}
#else
static inline void incrfs_set_inode_times(struct inode *inode,
					  struct timespec64 mtime,
					  struct timespec64 ctime)
{
	inode->i_mtime = mtime;
	inode->i_atime = mtime;
	incrfs_set_ctime(inode, ctime);
}
#endif

#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
#define incrfs_splice_read	filemap_splice_read
#else
#define incrfs_splice_read	generic_file_splice_read
#endif

/* 6.7 made the xattr handler table const all the way down. */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
#define INCRFS_XATTR_HANDLERS(h)	(h)
#else
#define INCRFS_XATTR_HANDLERS(h)	((const struct xattr_handler **)(h))
#endif

#endif /* _INCRFS_COMPAT_H */
