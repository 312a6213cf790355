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

static int write_block(struct incrfs_sb_info *sbi, const u8 *buf, u64 pblk)
{
	loff_t pos = sbi->data_off + (pblk << INCRFS_BLOCK_BITS);
	size_t done = 0;
	ssize_t ret;

	while (done < INCRFS_BLOCK_SIZE) {
		ret = kernel_write(sbi->image, buf + done,
				   INCRFS_BLOCK_SIZE - done, &pos);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -EIO;
		done += ret;
	}
	return 0;
}

/* Returns 1 if newly filled, 0 if it was present already, or -errno. */
static int fill_one(struct incrfs_sb_info *sbi,
		    const struct incrfs_fill_block *fb, u8 *buf)
{
	u8 want[INCRFS_HASH_SIZE], got[INCRFS_HASH_SIZE];
	struct inode *inode;
	u64 pblk;
	u32 run;
	int err;

	if (fb->len != INCRFS_BLOCK_SIZE)
		return -EINVAL;
	if (fb->ino == 0) {
		/* addressed by data block */
		if (fb->block >= sbi->nr_blocks)
			return -EINVAL;
		pblk = fb->block;
	} else {
		if (fb->ino > sbi->inode_count)
			return -ENOENT;
		inode = incrfs_iget(sbi->sb, fb->ino);
		if (IS_ERR(inode))
			return PTR_ERR(inode);
		if (!S_ISREG(inode->i_mode)) {
			iput(inode);
			return -EINVAL;
		}
		incrfs_map_block(inode, fb->block, &pblk, &run);
		iput(inode);
		if (pblk == U64_MAX)
			return -EINVAL;	/* a hole or past the end */
	}
	if (incrfs_block_present(sbi, pblk))
		return 0;

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
	err = write_block(sbi, buf, pblk);
	if (err)
		return err;
	if (!incrfs_bitmap_set(sbi, pblk))
		return 0;	/* somebody else filled it meanwhile */
	atomic64_inc(&sbi->stats.fills);
	incrfs_wake_block(sbi, pblk);
	return 1;
}

long incrfs_ioc_fill(struct incrfs_sb_info *sbi, struct incrfs_fill __user *uarg)
{
	struct incrfs_fill_block __user *ublocks;
	struct incrfs_fill arg;
	struct incrfs_fill_block fb;
	u32 i, filled = 0;
	long err = 0;
	u8 *buf;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.count > INCRFS_FILL_MAX || arg.flags & ~INCRFS_FILL_SYNC ||
	    arg.reserved || arg.filled)
		return -EINVAL;
	ublocks = u64_to_user_ptr(arg.blocks);
	buf = kmalloc(INCRFS_BLOCK_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	down_read(&sbi->fill_rwsem);
	if (sbi->dead) {
		err = -ENODEV;
		goto out;
	}
	for (i = 0; i < arg.count; i++) {
		int ret;

		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		if (copy_from_user(&fb, &ublocks[i], sizeof(fb))) {
			err = -EFAULT;
			break;
		}
		ret = fill_one(sbi, &fb, buf);
		if (ret > 0)
			filled++;
		fb.result = min(ret, 0);
		if (put_user(fb.result, &ublocks[i].result)) {
			err = -EFAULT;
			break;
		}
		cond_resched();
	}
	if (!err && (arg.flags & INCRFS_FILL_SYNC))
		err = incrfs_bitmap_commit(sbi);
out:
	up_read(&sbi->fill_rwsem);
	kfree(buf);
	if (put_user(filled, &uarg->filled) && !err)
		err = -EFAULT;
	return err;
}
