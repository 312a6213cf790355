// SPDX-License-Identifier: GPL-2.0-only
/*
 * access_log.c - the order in which a mount's data blocks were first read,
 * for access profiles (mount option access_log, INCRFS_IOC_GET_ACCESS_LOG).
 *
 * A container or app image is read in much the same order at every cold
 * start.  Recorded once, that order lets the feeder fetch those blocks
 * first, before anybody waits for them.  The log records every data block
 * the page cache asks incrfs for (read_folio or readahead), present or
 * not, so a profile can be recorded on a complete image as well as on a
 * lazy one, whatever the feeder fetched ahead.
 *
 * Bounded: a "seen" bitmap of one bit per data block keeps each block to
 * one entry, and at most access_log_max (INCRFS_ACCESS_LOG_MAX) ranges are
 * kept; after that the log stops and only counts the blocks it leaves out.  Both are
 * allocated at mount (only with the option) and freed at umount.  The
 * lock is a spinlock taken only for a block not seen before.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"

/* Entries copied to userspace per round (one bounce buffer). */
#define ALOG_COPY_BATCH	(PAGE_SIZE / sizeof(struct incrfs_block_range))

struct incrfs_access_log_state {
	spinlock_t lock;		/* everything below */
	unsigned long *seen;		/* one bit per data block */
	struct incrfs_block_range *ranges;	/* @max of them */
	u64 max;
	u64 nr;				/* ranges in use */
	u64 blocks;			/* blocks in @ranges */
	u64 dropped;			/* blocks left out: the log is full */
};

/* @max: ranges to keep, 1 to INCRFS_ACCESS_LOG_MAX (mount options). */
int incrfs_access_log_init(struct incrfs_sb_info *sbi, u32 max)
{
	size_t longs = max_t(size_t, 1, BITS_TO_LONGS(sbi->nr_blocks));
	struct incrfs_access_log_state *log;

	log = kzalloc(sizeof(*log), GFP_KERNEL);
	if (!log)
		return -ENOMEM;
	spin_lock_init(&log->lock);
	log->max = max;
	log->seen = kvcalloc(longs, sizeof(long), GFP_KERNEL_ACCOUNT);
	log->ranges = kvmalloc_array(max, sizeof(*log->ranges), GFP_KERNEL_ACCOUNT);
	if (!log->seen || !log->ranges) {
		kvfree(log->seen);
		kvfree(log->ranges);
		kfree(log);
		return -ENOMEM;
	}
	sbi->access_log = log;
	return 0;
}

u32 incrfs_access_log_max(struct incrfs_sb_info *sbi)
{
	return sbi->access_log ? sbi->access_log->max : 0;
}

/* Umount: no file of the mount is open, nothing reads or records. */
void incrfs_access_log_free(struct incrfs_sb_info *sbi)
{
	struct incrfs_access_log_state *log = sbi->access_log;

	if (!log)
		return;
	kvfree(log->seen);
	kvfree(log->ranges);
	kfree(log);
	sbi->access_log = NULL;
}

/* Data block @pblk is being read; the first time, log it. */
void incrfs_access_log_add(struct incrfs_sb_info *sbi, u64 pblk)
{
	struct incrfs_access_log_state *log = sbi->access_log;
	struct incrfs_block_range *last;

	if (!log || pblk >= sbi->nr_blocks || test_bit(pblk, log->seen))
		return;
	spin_lock(&log->lock);
	if (__test_and_set_bit(pblk, log->seen))
		goto out;
	last = log->nr ? &log->ranges[log->nr - 1] : NULL;
	if (log->dropped) {
		log->dropped++;	/* once full, stay stopped: order is kept */
	} else if (last && last->end == pblk) {
		last->end++;
		log->blocks++;
	} else if (log->nr < log->max) {
		log->ranges[log->nr].begin = pblk;
		log->ranges[log->nr].end = pblk + 1;
		log->nr++;
		log->blocks++;
	} else {
		log->dropped++;
	}
out:
	spin_unlock(&log->lock);
}

/* Copy entries [@from, @from + @max) of the log into @buf; how many. */
static u64 alog_snapshot(struct incrfs_access_log_state *log,
			 struct incrfs_block_range *buf, u64 from, u64 max)
{
	u64 n = 0;

	spin_lock(&log->lock);
	if (from < log->nr) {
		n = min(log->nr - from, max);
		memcpy(buf, &log->ranges[from], n * sizeof(*buf));
	}
	spin_unlock(&log->lock);
	return n;
}

long incrfs_ioc_get_access_log(struct incrfs_sb_info *sbi,
			       struct incrfs_access_log __user *uarg)
{
	struct incrfs_access_log_state *log = sbi->access_log;
	struct incrfs_block_range __user *out;
	struct incrfs_block_range *buf;
	struct incrfs_access_log arg;
	long err = 0;
	u64 n;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (memchr_inv(arg.reserved, 0, sizeof(arg.reserved)))
		return -EINVAL;
	if (!ns_capable(sbi->sb->s_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	if (!log)
		return -ENODATA;	/* mounted without access_log */
	buf = kmalloc_array(ALOG_COPY_BATCH, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	out = u64_to_user_ptr(arg.ranges);
	arg.count = 0;
	while (arg.count < arg.capacity) {
		n = alog_snapshot(log, buf, arg.start + arg.count,
				  min_t(u64, arg.capacity - arg.count,
					ALOG_COPY_BATCH));
		if (!n)
			break;
		/* no lock held: the user buffer may fault into this mount */
		if (copy_to_user(&out[arg.count], buf, n * sizeof(*buf))) {
			err = -EFAULT;
			goto out;
		}
		arg.count += n;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto out;
		}
	}
	spin_lock(&log->lock);
	arg.total = log->nr;
	arg.blocks = log->blocks;
	arg.dropped = log->dropped;
	spin_unlock(&log->lock);
	arg.flags = arg.dropped ? INCRFS_ACCESS_LOG_FULL : 0;
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		err = -EFAULT;
out:
	kfree(buf);
	return err;
}
