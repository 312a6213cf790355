/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * internal.h - in-memory types and prototypes shared by the files of the
 * incrfs module.  The on-disk format is in uapi/incrfs.h; everything here
 * is the kernel's view of it after validation.
 */
#ifndef _INCRFS_INTERNAL_H
#define _INCRFS_INTERNAL_H

#undef pr_fmt
#define pr_fmt(fmt) "incrfs: " fmt

#include <linux/fs.h>
#include <linux/cred.h>
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/rbtree.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/kobject.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/workqueue.h>
#include <linux/completion.h>
#include "incrfs.h"
#include "compat.h"

/* The image is corrupt: EUCLEAN, as ext4, xfs and erofs answer. */
#define EFSCORRUPTED	EUCLEAN

/*
 * incrfs_err - report a problem of the image or the mount, "incrfs: DEV:
 * ...".  Rate-limited: on-disk data can trigger it from any reader.  An
 * on-disk name is printed with %*pE, never %s.
 */
#define incrfs_err(sb, fmt, ...) \
	pr_err_ratelimited("%s: " fmt "\n", (sb)->s_id, ##__VA_ARGS__)

#define INCRFS_DEFAULT_TIMEOUT_MS	10000
#define INCRFS_WAIT_TABLE_BITS		6
#define INCRFS_RA_KB			512	/* readahead window of a mount */
#define INCRFS_MMAP_RA_KB		128	/* read-around of a page fault */
/* a mapped file at most this big is hinted whole at its first miss */
#define INCRFS_MAP_HINT_MAX_KB		(16 << 10)

/* Per-mount counters; see struct incrfs_stats in the uapi header. */
struct incrfs_counters {
	atomic64_t misses;
	atomic64_t waits;
	atomic64_t timeouts;
	atomic64_t wait_ns;
	atomic64_t fills;
	atomic64_t hash_failures;
	atomic64_t fills_lost;
	atomic64_t image_reads_direct;
	atomic64_t image_reads_buffered;
};

/* Data blocks an image may have: see validate_super(). */
#define INCRFS_MAX_DATA_BLOCKS	((u32)INT_MAX)

/*
 * One mounted image.  Freed when both the super block and the control fd
 * (if any) have let go of it; @dead tells the control fd the mount is gone.
 */
struct incrfs_sb_info {
	struct file *image;		/* the backing image, opened O_RDWR */
	struct super_block *sb;		/* valid while !dead */
	dev_t dev;			/* sb's s_dev, for the control fd */
	refcount_t ref;
	bool dead;			/* written under fill_rwsem */
	struct rw_semaphore fill_rwsem;	/* FILL vs. umount */

	/* validated copy of the on-disk super block, CPU endian */
	u64 inode_count;
	u64 inode_off;
	u64 meta_off;
	u64 meta_size;
	u64 hash_off;
	u64 bitmap_off;
	u64 bitmap_size;
	u64 data_off;
	u64 nr_blocks;
	u8 root_hash[INCRFS_HASH_SIZE];
	u8 uuid[16];

	atomic64_t extent_bytes;	/* loaded extent records (inode.c) */

	/* mount options */
	unsigned int timeout_ms;	/* 0: wait forever */
	unsigned int mount_timeout_ms;	/* as mounted, before any remount */

	/* block bitmap: in memory it is the truth, on disk it is persisted */
	unsigned long *bitmap;
	atomic64_t nr_present;
	/*
	 * Commit state (bitmap.c), NULL for an image complete at mount.
	 * @dirty_pages: 4 KiB pages of the on-disk bitmap to write;
	 * @writing_pages: those a commit is writing; @committed_page: room
	 * for one page of the image's copy.  Bits are set under fill_rwsem
	 * held for reading; a commit holds it for writing.
	 */
	unsigned long *committed_page;	/* under commit_mutex */
	unsigned long *dirty_pages;
	unsigned long *writing_pages;	/* under commit_mutex */
	unsigned long nr_bitmap_pages;
	errseq_t wb_err;		/* the image's writeback errors seen */
	struct mutex commit_mutex;	/* one bitmap commit at a time */
	struct delayed_work commit_work;

	/* missing-block waits (wait.c) */
	wait_queue_head_t block_wq[1 << INCRFS_WAIT_TABLE_BITS];
	/* protects pending, unread, next_seq, control_open, nr_hints, fillers */
	spinlock_t pending_lock;
	struct rb_root pending;		/* struct incrfs_pending by data block */
	struct list_head unread;	/* pending records no feeder has read */
	u64 next_seq;
	wait_queue_head_t control_wq;	/* poll() of the control fd */
	bool control_open;		/* under pending_lock */
	unsigned int nr_hints;		/* readahead hints on @unread */
	struct list_head fillers;	/* struct incrfs_filler, in FILL now */
	struct xarray uid_timeouts;	/* uid -> timeout_ms */

	struct incrfs_counters stats;

	/* mount option access_log: first reads, in order (access_log.c) */
	struct incrfs_access_log_state *access_log;

	struct kobject kobj;		/* /sys/fs/incrfs/<dev> */
	struct completion kobj_released;
	bool kobj_added;
};

/* A range some task waits for (in the rb-tree) or a readahead hint. */
struct incrfs_pending {
	struct rb_node node;		/* in sbi->pending, unless a hint */
	struct list_head unread;	/* in sbi->unread until read */
	unsigned int waiters;
	bool hint;
	bool filled;			/* its block was filled, waiters woken */
	int failed;			/* > 0: INCRFS_IOC_FAIL_READS's errno */
	struct incrfs_pending_read rec;
};

/* A task inside INCRFS_IOC_FILL on a mount (sbi->fillers). */
struct incrfs_filler {
	struct list_head node;
	struct task_struct *task;
};

static inline struct incrfs_sb_info *INCRFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

/* A run of file blocks stored in consecutive data blocks. */
struct incrfs_ext {
	u64 lblk;
	u64 pblk;
	u32 len;
};

struct incrfs_inode_info {
	u64 meta_off;		/* relative to the metadata area */
	u32 meta_len;
	u32 meta_count;
	u64 xattr_off;
	u32 xattr_len;
	u64 first_block;
	u64 nr_blocks;
	u64 parent;		/* directories: parent inode */
	struct incrfs_ext *extents;	/* regular files: meta_count entries */
	unsigned long flags;		/* INCRFS_I_* bits */
	struct inode vfs_inode;
};

/* incrfs_inode_info.flags: the feeder was told to fetch the mapped file */
#define INCRFS_I_MAP_HINTED	0

static inline struct incrfs_inode_info *INCRFS_I(struct inode *inode)
{
	return container_of(inode, struct incrfs_inode_info, vfs_inode);
}

/* super.c */
void incrfs_sbi_free(struct incrfs_sb_info *sbi);
int incrfs_read_image(struct incrfs_sb_info *sbi, void *buf, size_t len,
		      loff_t pos);
int incrfs_read_meta(struct incrfs_sb_info *sbi, void *buf, size_t len,
		     u64 off);

/* inode.c */
struct inode *incrfs_iget(struct super_block *sb, u64 ino);
void incrfs_free_extents(struct inode *inode);
struct inode *incrfs_alloc_inode(struct super_block *sb);
void incrfs_free_inode(struct inode *inode);
void incrfs_map_block(struct inode *inode, u64 lblk, u64 *pblk, u32 *run);

/* dir.c */
extern const struct file_operations incrfs_dir_fops;
extern const struct inode_operations incrfs_dir_iops;

/* xattr.c */
extern const struct xattr_handler * const incrfs_xattr_handlers[];
ssize_t incrfs_listxattr(struct dentry *dentry, char *buf, size_t size);

/* data.c */
extern const struct address_space_operations incrfs_aops;
extern const struct file_operations incrfs_file_fops;

/* bitmap.c */
int incrfs_bitmap_load(struct incrfs_sb_info *sbi);
void incrfs_bitmap_free(struct incrfs_sb_info *sbi);
bool incrfs_block_present(struct incrfs_sb_info *sbi, u64 pblk);
void incrfs_bitmap_init(struct incrfs_sb_info *sbi);
bool incrfs_bitmap_set(struct incrfs_sb_info *sbi, u64 pblk);
int incrfs_bitmap_commit(struct incrfs_sb_info *sbi);
void incrfs_bitmap_shutdown(struct incrfs_sb_info *sbi);
int incrfs_bitmap_wq_init(void);
void incrfs_bitmap_wq_exit(void);

/* wait.c */
void incrfs_wait_init(struct incrfs_sb_info *sbi);
void incrfs_wait_destroy(struct incrfs_sb_info *sbi);
int incrfs_wait_block(struct inode *inode, u64 lblk, u64 pblk,
		      bool freezable);
bool incrfs_block_waited(struct incrfs_sb_info *sbi, u64 pblk);
bool incrfs_waited_since(struct incrfs_sb_info *sbi, u64 seq);
u64 incrfs_filler_add(struct incrfs_sb_info *sbi, struct incrfs_filler *f);
void incrfs_filler_del(struct incrfs_sb_info *sbi, struct incrfs_filler *f);
void incrfs_block_filled(struct incrfs_sb_info *sbi, u64 pblk);
u32 incrfs_fail_waits(struct incrfs_sb_info *sbi, u64 first, u64 count,
		      int err);
void incrfs_unread_add(struct incrfs_sb_info *sbi, struct incrfs_pending *pr);
void incrfs_unread_del(struct incrfs_sb_info *sbi, struct incrfs_pending *pr);

/* control.c */
int incrfs_open_control(struct super_block *sb);
void incrfs_hint_missing(struct inode *inode, u64 lblk, u64 pblk, u32 count,
			 u32 flags);
void incrfs_sbi_put(struct incrfs_sb_info *sbi);

/* verify.c */
int __init incrfs_verify_init(void);
void incrfs_verify_exit(void);
void incrfs_verify_run(struct incrfs_sb_info *sbi, const u8 *buf, u64 pblk,
		       u32 nr, u8 *want, u8 *got, int *res);

/* fill.c */
long incrfs_ioc_fill(struct incrfs_sb_info *sbi,
		     struct incrfs_fill __user *uarg);

/* ioctl.c */
long incrfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
bool incrfs_ioc_is_get_stats(unsigned int cmd);
long incrfs_ioc_get_stats(struct incrfs_sb_info *sbi, unsigned int cmd,
			  struct incrfs_stats __user *uarg);
void incrfs_get_stats(struct incrfs_sb_info *sbi, struct incrfs_stats *st);
long incrfs_ioc_get_info(struct incrfs_sb_info *sbi,
			 struct incrfs_info __user *uarg);
long incrfs_ioc_get_filled_data(struct incrfs_sb_info *sbi,
				struct incrfs_filled_ranges __user *uarg);

/* access_log.c */
int incrfs_access_log_init(struct incrfs_sb_info *sbi, u32 max);
u32 incrfs_access_log_max(struct incrfs_sb_info *sbi);
void incrfs_access_log_free(struct incrfs_sb_info *sbi);
void incrfs_access_log_add(struct incrfs_sb_info *sbi, u64 pblk);
long incrfs_ioc_get_access_log(struct incrfs_sb_info *sbi,
			       struct incrfs_access_log __user *uarg);

/* sysfs.c */
int incrfs_sysfs_register(struct incrfs_sb_info *sbi);
void incrfs_sysfs_unregister(struct incrfs_sb_info *sbi);
int __init incrfs_sysfs_init(void);
void incrfs_sysfs_exit(void);

#endif /* _INCRFS_INTERNAL_H */
