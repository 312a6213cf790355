// SPDX-License-Identifier: GPL-2.0-only
/*
 * fill.c - INCRFS_IOC_FILL: the feeder hands in blocks, the kernel checks
 * each against the SHA-256 recorded in the image, writes it into the data
 * region, sets its bitmap bit and wakes the readers waiting for it.
 *
 * Ordering, for crash safety: data is written before the in-memory bit is
 * set, and the bitmap reaches the image only in a commit that first syncs
 * the image's data (incrfs_bitmap_commit).  So a bit on disk always
 * describes data on disk; a crash loses at most fills newer than the last
 * commit, which are fetched again.
 *
 * Verified blocks in consecutive data blocks are written with one write
 * of the image (struct fill_run): fewer calls into the backing file
 * system, and its inode lock, which feeder threads filling at once contend
 * for, is taken once per run instead of once per block.  A block some
 * reader waits for ends its run at once, so readers are not held back.
 *
 * Verifying (verify.c) is the slow part (a 64 KiB chunk takes
 * milliseconds where SHA-256 runs in C), so blocks are copied in and
 * staged in the run first, and the run is verified as a whole when it is
 * written, on two CPUs.  And a feeder can ask that nobody waits behind it:
 * INCRFS_FILL_WAITED_FIRST writes the blocks readers wait for before the
 * rest of the batch is looked at, and INCRFS_FILL_YIELD returns as soon as
 * another reader starts to wait, leaving the rest (-EAGAIN) for later;
 * INCRFS_FILL_WAITED_ONLY leaves the rest at once.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"

/* Blocks verified and written together at most: consecutive data blocks. */
#define INCRFS_FILL_RUN		32
/*
 * With INCRFS_FILL_YIELD, which looks for new readers only between runs:
 * while readers wait, runs of 8 (verified on two CPUs, the readers' CPUs
 * are idle); while none does, runs of 2, on this CPU only, so the readers
 * that run have their CPU and a new one waits for 2 blocks at most.
 */
#define INCRFS_FILL_RUN_BUSY	8
#define INCRFS_FILL_RUN_IDLE	2

/* Blocks copied in, to verify and write, all in consecutive data blocks. */
struct fill_run {
	u8 *buf;			/* @cap blocks */
	u64 pblk;			/* data block of the first */
	u32 nr;
	u32 cap;			/* at most INCRFS_FILL_RUN */
	u32 idx[INCRFS_FILL_RUN];	/* their entries in the FILL batch */
	int res[INCRFS_FILL_RUN];
	u8 want[INCRFS_FILL_RUN][INCRFS_HASH_SIZE];
	u8 got[INCRFS_FILL_RUN][INCRFS_HASH_SIZE];
};

static int write_blocks(struct incrfs_sb_info *sbi, const u8 *buf, u64 pblk,
			size_t len)
{
	loff_t pos = sbi->data_off + (pblk << INCRFS_BLOCK_BITS);
	size_t done = 0;
	ssize_t ret;

	while (done < len) {
		ret = kernel_write(sbi->image, buf + done, len - done, &pos);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -EIO;
		done += ret;
	}
	return 0;
}

/* The data block @fb addresses, or -errno. */
static int fill_map(struct incrfs_sb_info *sbi,
		    const struct incrfs_fill_block *fb, u64 *pblk)
{
	struct inode *inode;
	u32 run;

	if (fb->len != INCRFS_BLOCK_SIZE)
		return -EINVAL;
	if (fb->ino == 0) {
		/* addressed by data block */
		if (fb->block >= sbi->nr_blocks)
			return -EINVAL;
		*pblk = fb->block;
		return 0;
	}
	if (fb->ino > sbi->inode_count)
		return -ENOENT;
	inode = incrfs_iget(sbi->sb, fb->ino);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	if (!S_ISREG(inode->i_mode)) {
		iput(inode);
		return -EINVAL;
	}
	incrfs_map_block(inode, fb->block, pblk, &run);
	iput(inode);
	if (*pblk == U64_MAX)
		return -EINVAL;	/* a hole or past the end */
	return 0;
}

/*
 * Verify the run, write each stretch of good blocks with one write, then
 * set their bits and wake their readers (data before bit), and give each
 * entry its result.  0, or -EFAULT if a result could not be stored.
 */
static int run_flush(struct incrfs_sb_info *sbi, struct fill_run *run,
		     struct incrfs_fill_block __user *ublocks, u32 *filled)
{
	u32 i, end, from;
	int err, ret = 0;

	if (!run->nr)
		return 0;
	incrfs_verify_run(sbi, run->buf, run->pblk, run->nr, run->want[0],
			  run->got[0], run->res);
	for (from = 0; from < run->nr; from = end) {
		for (end = from; end < run->nr && !run->res[end]; end++)
			;
		if (end == from) {
			end++;	/* refused */
			continue;
		}
		err = write_blocks(sbi, run->buf + from * INCRFS_BLOCK_SIZE,
				   run->pblk + from,
				   (size_t)(end - from) << INCRFS_BLOCK_BITS);
		for (i = from; i < end; i++) {
			run->res[i] = err;
			/* not newly set: somebody else filled it meanwhile */
			if (!err && incrfs_bitmap_set(sbi, run->pblk + i)) {
				atomic64_inc(&sbi->stats.fills);
				incrfs_block_filled(sbi, run->pblk + i);
				(*filled)++;
			}
		}
	}
	for (i = 0; i < run->nr; i++)
		if (put_user(run->res[i], &ublocks[run->idx[i]].result))
			ret = -EFAULT;
	run->nr = 0;
	return ret;
}

/* One INCRFS_IOC_FILL call. */
struct fill_batch {
	struct incrfs_sb_info *sbi;
	struct incrfs_fill_block __user *ublocks;
	u32 count;
	u32 flags;
	u32 filled;
	struct fill_run run;
	DECLARE_BITMAP(done, INCRFS_FILL_MAX);	/* by the first pass */
};

/* The batch yielded: entries from @from on not done yet get -EAGAIN. */
static int batch_yield(struct fill_batch *b, u32 from)
{
	u32 i;

	for (i = from; i < b->count; i++)
		if (!test_bit(i, b->done) &&
		    put_user(-EAGAIN, &b->ublocks[i].result))
			return -EFAULT;
	return 0;
}

/*
 * Should the batch stop before its next entry?  With INCRFS_FILL_YIELD,
 * when a reader waits that the feeder has not heard of: it would wait
 * behind the rest of this batch.
 */
static bool batch_should_yield(struct fill_batch *b)
{
	return (b->flags & INCRFS_FILL_YIELD) &&
	       READ_ONCE(b->sbi->nr_unread_waits);
}

/* Blocks the run may hold before it is verified and written. */
static u32 batch_run_limit(struct fill_batch *b)
{
	if (!(b->flags & INCRFS_FILL_YIELD))
		return b->run.cap;
	return min(b->run.cap, incrfs_any_waiter(b->sbi) ?
		   INCRFS_FILL_RUN_BUSY : INCRFS_FILL_RUN_IDLE);
}

/*
 * One pass over the batch: with @waited_only just the entries a reader
 * waits for now (marked done), else every entry not done yet.  When a new
 * reader waits, the second pass first looks for its block in the batch
 * (with INCRFS_FILL_WAITED_FIRST): a sequential reader that catches up
 * with the fill is served from it, without a round trip to the feeder.
 * Returns 0, -EAGAIN if the batch yielded, or an error.
 */
static int batch_pass(struct fill_batch *b, bool waited_only)
{
	struct incrfs_sb_info *sbi = b->sbi;
	struct fill_run *run = &b->run;
	struct incrfs_fill_block fb;
	int err = 0;
	u32 i;

	for (i = 0; i < b->count; i++) {
		u64 pblk;
		int res;

		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		if (!waited_only && batch_should_yield(b)) {
			/* a new reader: maybe for a block of this batch */
			err = run_flush(sbi, run, b->ublocks, &b->filled);
			if (!err && (b->flags & INCRFS_FILL_WAITED_FIRST))
				err = batch_pass(b, true);
			if (!err)
				err = run_flush(sbi, run, b->ublocks,
						&b->filled);
			/* its record is gone once its block is filled */
			if (!err && batch_should_yield(b))
				err = batch_yield(b, i) ?: -EAGAIN;
			if (err)
				break;
		}
		if (test_bit(i, b->done))
			continue;
		if (copy_from_user(&fb, &b->ublocks[i], sizeof(fb))) {
			err = -EFAULT;
			break;
		}
		res = fill_map(sbi, &fb, &pblk);
		if (waited_only) {
			if (res || incrfs_block_present(sbi, pblk) ||
			    !incrfs_block_waited(sbi, pblk))
				continue;
			__set_bit(i, b->done);
		}
		/* a block that does not extend the run: write the run first */
		if (!res && run->nr && (run->nr >= batch_run_limit(b) ||
					pblk != run->pblk + run->nr)) {
			err = run_flush(sbi, run, b->ublocks, &b->filled);
			if (err)
				break;
		}
		if (!res && !incrfs_block_present(sbi, pblk)) {
			res = -EFAULT;
			if (!copy_from_user(run->buf + run->nr * INCRFS_BLOCK_SIZE,
					    u64_to_user_ptr(fb.data),
					    INCRFS_BLOCK_SIZE)) {
				/* its result once the run is written */
				if (!run->nr)
					run->pblk = pblk;
				run->idx[run->nr++] = i;
				/* a reader waits for it: no later than now */
				if (incrfs_block_waited(sbi, pblk)) {
					err = run_flush(sbi, run, b->ublocks,
							&b->filled);
					if (err)
						break;
				}
				cond_resched();
				continue;
			}
		}
		fb.result = res;	/* 0: it was present already */
		if (put_user(fb.result, &b->ublocks[i].result)) {
			err = -EFAULT;
			break;
		}
		cond_resched();
	}
	return err;
}

long incrfs_ioc_fill(struct incrfs_sb_info *sbi, struct incrfs_fill __user *uarg)
{
	struct incrfs_fill arg;
	struct fill_batch *b;
	long err = 0, ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.count > INCRFS_FILL_MAX || arg.flags & ~INCRFS_FILL_FLAGS ||
	    arg.reserved || arg.filled)
		return -EINVAL;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->sbi = sbi;
	b->ublocks = u64_to_user_ptr(arg.blocks);
	b->count = arg.count;
	b->flags = arg.flags;
	/* no more than the batch needs: most calls are one chunk */
	b->run.cap = clamp_t(u32, arg.count, 1, INCRFS_FILL_RUN);
	b->run.buf = kvmalloc(b->run.cap * INCRFS_BLOCK_SIZE, GFP_KERNEL);
	if (!b->run.buf) {
		kfree(b);
		return -ENOMEM;
	}

	down_read(&sbi->fill_rwsem);
	if (sbi->dead) {
		err = -ENODEV;
		goto out;
	}
	if (arg.flags & (INCRFS_FILL_WAITED_FIRST | INCRFS_FILL_WAITED_ONLY)) {
		err = batch_pass(b, true);
		/* its blocks are present before the second pass looks */
		ret = run_flush(sbi, &b->run, b->ublocks, &b->filled);
		if (!err)
			err = ret;
	}
	if (!err && (arg.flags & INCRFS_FILL_WAITED_ONLY))
		err = batch_yield(b, 0);
	else if (!err)
		err = batch_pass(b, false);
	if (err == -EAGAIN)
		err = 0;	/* it yielded: the results say so */
	/* verified blocks are written even if the batch stops early */
	ret = run_flush(sbi, &b->run, b->ublocks, &b->filled);
	if (!err)
		err = ret;
	if (!err && (arg.flags & INCRFS_FILL_SYNC))
		err = incrfs_bitmap_commit(sbi);
out:
	up_read(&sbi->fill_rwsem);
	if (put_user(b->filled, &uarg->filled) && !err)
		err = -EFAULT;
	kvfree(b->run.buf);
	kfree(b);
	return err;
}
