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
 * SHA-256 comes from the crypto API ("sha256"), allocated once for the
 * module: it picks the fastest implementation the CPU has (SHA-NI, AVX2,
 * SSSE3 when sha256_ssse3 is loaded), where the library function is
 * plain C.
 */
#include <crypto/hash.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"

static struct crypto_shash *incrfs_sha256;

int __init incrfs_fill_init(void)
{
	struct crypto_shash *tfm = crypto_alloc_shash("sha256", 0, 0);

	if (IS_ERR(tfm)) {
		pr_err("no sha256 in the crypto API: %ld\n", PTR_ERR(tfm));
		return PTR_ERR(tfm);
	}
	if (WARN_ON(crypto_shash_digestsize(tfm) != INCRFS_HASH_SIZE)) {
		crypto_free_shash(tfm);
		return -EINVAL;
	}
	incrfs_sha256 = tfm;
	return 0;
}

void incrfs_fill_exit(void)
{
	crypto_free_shash(incrfs_sha256);
}

/* Blocks written with one write at most: verified, consecutive data blocks. */
#define INCRFS_FILL_RUN	32

/* Verified blocks waiting to be written, all in consecutive data blocks. */
struct fill_run {
	u8 *buf;			/* INCRFS_FILL_RUN blocks */
	u64 pblk;			/* data block of the first */
	u32 nr;
	u32 idx[INCRFS_FILL_RUN];	/* their entries in the FILL batch */
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

/* Copy @fb's block to @buf and check it against data block @pblk's hash. */
static int fill_verify(struct incrfs_sb_info *sbi,
		       const struct incrfs_fill_block *fb, u64 pblk, u8 *buf)
{
	u8 want[INCRFS_HASH_SIZE], got[INCRFS_HASH_SIZE];
	int err;

	if (copy_from_user(buf, u64_to_user_ptr(fb->data), INCRFS_BLOCK_SIZE))
		return -EFAULT;
	err = incrfs_read_image(sbi, want, sizeof(want),
				sbi->hash_off + pblk * INCRFS_HASH_SIZE);
	if (err)
		return err;
	err = crypto_shash_tfm_digest(incrfs_sha256, buf, INCRFS_BLOCK_SIZE,
				      got);
	if (err)
		return err;
	if (memcmp(want, got, sizeof(want))) {
		atomic64_inc(&sbi->stats.hash_failures);
		pr_warn_ratelimited("%s: block %llu of inode %llu: SHA-256 mismatch, refused\n",
				    sbi->sb->s_id, fb->block, fb->ino);
		return -EBADMSG;
	}
	return 0;
}

/*
 * Write the run with one write, then set its bits and wake its readers
 * (data before bit, as for a single block), and give each of its entries
 * its result.  0, or -EFAULT if a result could not be stored.
 */
static int run_flush(struct incrfs_sb_info *sbi, struct fill_run *run,
		     struct incrfs_fill_block __user *ublocks, u32 *filled)
{
	int err, ret = 0;
	u32 i;

	if (!run->nr)
		return 0;
	err = write_blocks(sbi, run->buf, run->pblk,
			   (size_t)run->nr << INCRFS_BLOCK_BITS);
	for (i = 0; i < run->nr; i++) {
		/* not newly set: somebody else filled it meanwhile */
		if (!err && incrfs_bitmap_set(sbi, run->pblk + i)) {
			atomic64_inc(&sbi->stats.fills);
			incrfs_wake_block(sbi, run->pblk + i);
			(*filled)++;
		}
		if (put_user(err, &ublocks[run->idx[i]].result))
			ret = -EFAULT;
	}
	run->nr = 0;
	return ret;
}

long incrfs_ioc_fill(struct incrfs_sb_info *sbi, struct incrfs_fill __user *uarg)
{
	struct incrfs_fill_block __user *ublocks;
	struct fill_run *run;
	struct incrfs_fill arg;
	struct incrfs_fill_block fb;
	u32 i, filled = 0;
	long err = 0, ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.count > INCRFS_FILL_MAX || arg.flags & ~INCRFS_FILL_SYNC ||
	    arg.reserved || arg.filled)
		return -EINVAL;
	ublocks = u64_to_user_ptr(arg.blocks);
	run = kmalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	run->nr = 0;
	run->buf = kvmalloc(INCRFS_FILL_RUN * INCRFS_BLOCK_SIZE, GFP_KERNEL);
	if (!run->buf) {
		kfree(run);
		return -ENOMEM;
	}

	down_read(&sbi->fill_rwsem);
	if (sbi->dead) {
		err = -ENODEV;
		goto out;
	}
	for (i = 0; i < arg.count; i++) {
		u64 pblk;
		int res;

		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		if (copy_from_user(&fb, &ublocks[i], sizeof(fb))) {
			err = -EFAULT;
			break;
		}
		res = fill_map(sbi, &fb, &pblk);
		/* a block that does not extend the run: write the run first */
		if (!res && run->nr && (run->nr == INCRFS_FILL_RUN ||
					pblk != run->pblk + run->nr)) {
			err = run_flush(sbi, run, ublocks, &filled);
			if (err)
				break;
		}
		if (!res && !incrfs_block_present(sbi, pblk)) {
			res = fill_verify(sbi, &fb, pblk,
					  run->buf + run->nr * INCRFS_BLOCK_SIZE);
			if (!res) {
				/* its result once the run is written */
				if (!run->nr)
					run->pblk = pblk;
				run->idx[run->nr++] = i;
				/* a reader waits for it: no later than now */
				if (incrfs_block_waited(sbi, pblk)) {
					err = run_flush(sbi, run, ublocks,
							&filled);
					if (err)
						break;
				}
				cond_resched();
				continue;
			}
		}
		fb.result = res;	/* 0: it was present already */
		if (put_user(fb.result, &ublocks[i].result)) {
			err = -EFAULT;
			break;
		}
		cond_resched();
	}
	/* verified blocks are written even if the batch stops early */
	ret = run_flush(sbi, run, ublocks, &filled);
	if (!err)
		err = ret;
	if (!err && (arg.flags & INCRFS_FILL_SYNC))
		err = incrfs_bitmap_commit(sbi);
out:
	up_read(&sbi->fill_rwsem);
	kvfree(run->buf);
	kfree(run);
	if (put_user(filled, &uarg->filled) && !err)
		err = -EFAULT;
	return err;
}
