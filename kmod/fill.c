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
 * What a call guarantees, for any feeder (Documentation/filesystems/
 * incrfs.rst, "Filling"):
 *  - the entries some reader waits for when the call starts are verified,
 *    written and their readers woken before any other entry is looked at;
 *  - the others follow in array order, in runs of at most INCRFS_FILL_RUN
 *    blocks, and a block a reader waits for ends its run at once;
 *  - once a reader starts to wait, during the call, for a block that is
 *    still missing, the call stops before its next entry: the entries not
 *    reached get -EAGAIN and are counted in @left.  A call that stops early
 *    has settled the first entry the waited pass left, so calling again
 *    with the entries from the first -EAGAIN on always makes progress.
 * So a reader who starts to wait waits for at most one run of a call in
 * progress before the feeder can hear of it.
 *
 * fill_rwsem (FILL against umount) is held only around mapping, verifying
 * and writing: never across a copy from or to user memory, which may fault
 * for as long as the feeder's memory takes (userfaultfd, FUSE, a missing
 * block of this very mount).  umount therefore waits for at most one run's
 * I/O.  A feeder whose buffer maps a missing block of the mount it fills
 * gets -EFAULT for that entry, not a wait for itself (incrfs_wait_block).
 */
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"
#include "incrfs_trace.h"

/* Blocks verified and written together at most: consecutive data blocks. */
#define INCRFS_FILL_RUN		16

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

/* One INCRFS_IOC_FILL call. */
struct fill_batch {
	struct incrfs_sb_info *sbi;
	struct incrfs_fill_block __user *ublocks;
	u32 count;
	u32 filled;
	u32 settled;		/* entries given their final result */
	u32 left;		/* entries given -EAGAIN */
	u64 start_seq;		/* records newer than this began in the call */
	s64 misses_seen;	/* stats.misses when last looked at */
	struct incrfs_filler filler;
	struct fill_run run;
	DECLARE_BITMAP(done, INCRFS_FILL_MAX);	/* by the waited pass */
};

/* Hold off umount; -ENODEV once the mount is gone. */
static int fill_lock(struct incrfs_sb_info *sbi)
{
	down_read(&sbi->fill_rwsem);
	if (!sbi->dead)
		return 0;
	up_read(&sbi->fill_rwsem);
	return -ENODEV;
}

static int write_blocks(struct incrfs_sb_info *sbi, const u8 *buf, u64 pblk,
			size_t len)
{
	loff_t pos = sbi->data_off + (pblk << INCRFS_BLOCK_BITS);
	const struct cred *old = override_creds(sbi->image->f_cred);
	size_t done = 0;
	ssize_t ret = 0;

	while (done < len) {
		ret = kernel_write(sbi->image, buf + done, len - done, &pos);
		if (ret <= 0)
			break;
		done += ret;
	}
	revert_creds(old);
	if (ret < 0)
		return ret;
	return done < len ? -EIO : 0;
}

/* The data block @fb addresses, or -errno (-ENODEV: the mount is gone). */
static int fill_map(struct incrfs_sb_info *sbi,
		    const struct incrfs_fill_block *fb, u64 *pblk)
{
	struct inode *inode;
	u32 run;
	int err;

	if (fb->len != INCRFS_BLOCK_SIZE)
		return -EINVAL;
	if (fb->ino == 0) {
		/* addressed by data block: no inode, no lock needed */
		if (fb->block >= sbi->nr_blocks)
			return -EINVAL;
		*pblk = fb->block;
		return 0;
	}
	if (fb->ino > sbi->inode_count)
		return -ENOENT;
	err = fill_lock(sbi);
	if (err)
		return err;
	inode = incrfs_iget(sbi->sb, fb->ino);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
	} else {
		if (S_ISREG(inode->i_mode))
			incrfs_map_block(inode, fb->block, pblk, &run);
		else
			err = -EINVAL;
		iput(inode);
	}
	up_read(&sbi->fill_rwsem);
	if (!err && *pblk == U64_MAX)
		err = -EINVAL;	/* a hole or past the end */
	return err;
}

/* Give entry @i its final result. */
static int batch_result(struct fill_batch *b, u32 i, int res)
{
	b->settled++;
	return put_user(res, &b->ublocks[i].result) ? -EFAULT : 0;
}

/*
 * Verify the run, write each stretch of good blocks with one write, then
 * set their bits and wake their readers (data before bit), and give each
 * entry its result.  0, -ENODEV (the mount is gone: nothing written), or
 * -EFAULT if a result could not be stored.
 */
static int run_flush(struct fill_batch *b)
{
	struct incrfs_sb_info *sbi = b->sbi;
	struct fill_run *run = &b->run;
	u32 i, end, from;
	int err, ret;

	if (!run->nr)
		return 0;
	ret = fill_lock(sbi);
	if (ret)
		return ret;
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
				b->filled++;
			}
		}
	}
	up_read(&sbi->fill_rwsem);
	for (i = 0; i < run->nr; i++)
		if (batch_result(b, run->idx[i], run->res[i]))
			ret = -EFAULT;
	run->nr = 0;
	return ret;
}

/*
 * Should the call stop before its next entry?  Once the pass in array
 * order has settled an entry, when a reader has started to wait since the
 * call began for a block that is still missing.  One counter read while
 * no wait starts.
 */
static bool batch_should_stop(struct fill_batch *b)
{
	s64 misses = atomic64_read(&b->sbi->stats.misses);

	if (!b->settled || misses == b->misses_seen)
		return false;
	b->misses_seen = misses;
	return incrfs_waited_since(b->sbi, b->start_seq);
}

/* The call stops: entries from @from on not done yet get -EAGAIN. */
static int batch_stop(struct fill_batch *b, u32 from)
{
	u32 i;

	for (i = from; i < b->count; i++) {
		if (test_bit(i, b->done))
			continue;
		b->left++;
		if (put_user(-EAGAIN, &b->ublocks[i].result))
			return -EFAULT;
	}
	return 0;
}

/*
 * Stage entry @i, data block @pblk, in the run (which it extends); the run
 * is written right after if a reader waits for the block.
 */
static int batch_stage(struct fill_batch *b, u32 i, u64 pblk, u64 data)
{
	struct fill_run *run = &b->run;

	if (copy_from_user(run->buf + run->nr * INCRFS_BLOCK_SIZE,
			   u64_to_user_ptr(data), INCRFS_BLOCK_SIZE))
		return batch_result(b, i, -EFAULT);
	if (!run->nr)
		run->pblk = pblk;
	run->idx[run->nr++] = i;
	if (incrfs_block_waited(b->sbi, pblk))
		return run_flush(b);
	return 0;
}

/*
 * One pass over the batch: with @waited just the entries a reader waits
 * for now (marked done), else every entry not done yet, stopping early
 * as batch_should_stop() says.  Returns 0, -EAGAIN if the call stopped
 * early, or an error.
 */
static int batch_pass(struct fill_batch *b, bool waited)
{
	struct incrfs_sb_info *sbi = b->sbi;
	struct incrfs_fill_block fb;
	int err = 0, res;
	u32 i;
	u64 pblk;

	for (i = 0; i < b->count && !err; i++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (test_bit(i, b->done))
			continue;
		if (!waited && batch_should_stop(b)) {
			err = run_flush(b) ?: batch_stop(b, i) ?: -EAGAIN;
			break;
		}
		if (copy_from_user(&fb, &b->ublocks[i], sizeof(fb)))
			return -EFAULT;
		res = fill_map(sbi, &fb, &pblk);
		if (res == -ENODEV)
			return res;
		if (waited) {
			if (res || incrfs_block_present(sbi, pblk) ||
			    !incrfs_block_waited(sbi, pblk))
				continue;
			__set_bit(i, b->done);
		}
		/* a block that does not extend the run: write the run first */
		if (!res && b->run.nr && (b->run.nr == b->run.cap ||
					  pblk != b->run.pblk + b->run.nr)) {
			err = run_flush(b);
			if (err)
				break;
		}
		/* (an earlier entry of the batch may have written it) */
		if (!res && !incrfs_block_present(sbi, pblk))
			err = batch_stage(b, i, pblk, fb.data);
		else
			err = batch_result(b, i, res);	/* 0: present already */
		cond_resched();
	}
	return err;
}

long incrfs_ioc_fill(struct incrfs_sb_info *sbi, struct incrfs_fill __user *uarg)
{
	struct incrfs_fill arg;
	struct fill_batch *b;
	long err, ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.count > INCRFS_FILL_MAX || arg.flags & ~INCRFS_FILL_FLAGS ||
	    arg.filled || arg.left)
		return -EINVAL;
	if (READ_ONCE(sbi->dead))
		return -ENODEV;
	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return -ENOMEM;
	b->sbi = sbi;
	b->ublocks = u64_to_user_ptr(arg.blocks);
	b->count = arg.count;
	/* no more than the batch needs: most calls are one chunk */
	b->run.cap = clamp_t(u32, arg.count, 1, INCRFS_FILL_RUN);
	b->run.buf = kvmalloc(b->run.cap * INCRFS_BLOCK_SIZE,
			      GFP_KERNEL_ACCOUNT);
	if (!b->run.buf) {
		kfree(b);
		return -ENOMEM;
	}
	b->misses_seen = atomic64_read(&sbi->stats.misses);
	b->start_seq = incrfs_filler_add(sbi, &b->filler);

	err = batch_pass(b, true);
	/* its blocks are present before the second pass looks */
	ret = run_flush(b);
	if (!err)
		err = ret;
	if (!err) {
		/* progress: the pass settles one entry before it may stop */
		b->settled = 0;
		err = batch_pass(b, false);
	}
	if (err == -EAGAIN)
		err = 0;	/* it stopped early: @left and the results say so */
	/* verified blocks are written even if the call fails */
	ret = run_flush(b);
	if (!err)
		err = ret;
	/* (a commit holds fill_rwsem for writing: not held here) */
	if (!err && (arg.flags & INCRFS_FILL_SYNC))
		err = incrfs_bitmap_commit(sbi);
	incrfs_filler_del(sbi, &b->filler);
	trace_incrfs_fill(sbi->dev, b->count, b->filled, b->left, arg.flags,
			  err);
	if ((put_user(b->filled, &uarg->filled) ||
	     put_user(b->left, &uarg->left)) && !err)
		err = -EFAULT;
	kvfree(b->run.buf);
	kfree(b);
	return err;
}
