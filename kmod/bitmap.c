// SPDX-License-Identifier: GPL-2.0-only
/*
 * bitmap.c - the persisted block bitmap: one bit per data block, set when
 * the block's data is in the image.
 *
 * The whole bitmap is loaded at mount, so "is this block present?" on the
 * read path is one lockless test_bit with no I/O.  The in-memory copy is
 * the truth while mounted; the fill path writes changed bytes back to the
 * image after the data they describe.
 */
#include <linux/bitops.h>
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include "internal.h"

int incrfs_bitmap_load(struct incrfs_sb_info *sbi)
{
	size_t longs = max_t(size_t, 1, BITS_TO_LONGS(sbi->nr_blocks));
	u64 bit;
	int err;

	if (longs > INT_MAX / sizeof(long))
		return -EFBIG;
	sbi->bitmap = kvcalloc(longs, sizeof(long), GFP_KERNEL_ACCOUNT);
	if (!sbi->bitmap)
		return -ENOMEM;
	err = incrfs_read_image(sbi, sbi->bitmap, sbi->bitmap_size,
				sbi->bitmap_off);
	if (err)
		return err;
	/* Padding bits after the last block mean nothing: clear them. */
	for (bit = sbi->nr_blocks; bit < sbi->bitmap_size * 8; bit++)
		__clear_bit_le(bit, sbi->bitmap);
	atomic64_set(&sbi->nr_present,
		     bitmap_weight(sbi->bitmap, longs * BITS_PER_LONG));
	return 0;
}

void incrfs_bitmap_free(struct incrfs_sb_info *sbi)
{
	kvfree(sbi->bitmap);
	sbi->bitmap = NULL;
}

/*
 * A set bit means the data is in the image: the read barrier orders the
 * bit test before the reader's read of that data.
 */
bool incrfs_block_present(struct incrfs_sb_info *sbi, u64 pblk)
{
	if (pblk >= sbi->nr_blocks || !test_bit_le(pblk, sbi->bitmap))
		return false;
	/* pairs with smp_mb__before_atomic() in incrfs_bitmap_set() */
	smp_rmb();
	return true;
}

/* How long a filled block may stay committed only in memory. */
#define INCRFS_COMMIT_INTERVAL	(5 * HZ)

/* Set @pblk present after its data was written.  True if newly set. */
bool incrfs_bitmap_set(struct incrfs_sb_info *sbi, u64 pblk)
{
	u64 byte = pblk / 8;

	/* the data write is ordered before the bit */
	smp_mb__before_atomic();
	if (test_and_set_bit_le(pblk, sbi->bitmap))
		return false;
	atomic64_inc(&sbi->nr_present);
	spin_lock(&sbi->dirty_lock);
	sbi->dirty_lo = min(sbi->dirty_lo, byte);
	sbi->dirty_hi = max(sbi->dirty_hi, byte + 1);
	spin_unlock(&sbi->dirty_lock);
	schedule_delayed_work(&sbi->commit_work, INCRFS_COMMIT_INTERVAL);
	return true;
}

/*
 * incrfs_bitmap_commit - make every bit set so far durable in the image
 *
 * Copies the dirty bitmap bytes first, then syncs the image so the data of
 * every copied bit is on disk, then writes the copy and syncs again.
 */
int incrfs_bitmap_commit(struct incrfs_sb_info *sbi)
{
	const struct cred *old;
	u64 lo, hi;
	loff_t pos;
	u8 *copy;
	int err;

	mutex_lock(&sbi->commit_mutex);
	spin_lock(&sbi->dirty_lock);
	lo = sbi->dirty_lo;
	hi = sbi->dirty_hi;
	sbi->dirty_lo = U64_MAX;
	sbi->dirty_hi = 0;
	spin_unlock(&sbi->dirty_lock);
	err = 0;
	if (lo >= hi)
		goto out;

	copy = kvmalloc(hi - lo, GFP_KERNEL);
	err = -ENOMEM;
	if (!copy)
		goto redirty;
	memcpy(copy, (u8 *)sbi->bitmap + lo, hi - lo);
	old = override_creds(sbi->image->f_cred);
	err = vfs_fsync(sbi->image, 1);
	if (!err) {
		pos = sbi->bitmap_off + lo;
		err = kernel_write(sbi->image, copy, hi - lo, &pos);
		err = err == hi - lo ? vfs_fsync(sbi->image, 1) :
		      (err < 0 ? err : -EIO);
	}
	revert_creds(old);
	kvfree(copy);
	if (!err)
		goto out;
redirty:
	pr_warn_ratelimited("%s: cannot write the block bitmap: %d\n",
			    sbi->sb->s_id, err);
	spin_lock(&sbi->dirty_lock);
	sbi->dirty_lo = min(sbi->dirty_lo, lo);
	sbi->dirty_hi = max(sbi->dirty_hi, hi);
	spin_unlock(&sbi->dirty_lock);
out:
	mutex_unlock(&sbi->commit_mutex);
	return err;
}

static void incrfs_commit_worker(struct work_struct *work)
{
	struct incrfs_sb_info *sbi = container_of(to_delayed_work(work),
						  struct incrfs_sb_info,
						  commit_work);

	/* the bits stay dirty: try again later rather than never */
	if (incrfs_bitmap_commit(sbi))
		schedule_delayed_work(&sbi->commit_work,
				      INCRFS_COMMIT_INTERVAL);
}

void incrfs_bitmap_init(struct incrfs_sb_info *sbi)
{
	mutex_init(&sbi->commit_mutex);
	spin_lock_init(&sbi->dirty_lock);
	sbi->dirty_lo = U64_MAX;
	sbi->dirty_hi = 0;
	INIT_DELAYED_WORK(&sbi->commit_work, incrfs_commit_worker);
}

/* Last commit before the bitmap goes away. */
void incrfs_bitmap_shutdown(struct incrfs_sb_info *sbi)
{
	cancel_delayed_work_sync(&sbi->commit_work);
	incrfs_bitmap_commit(sbi);
}
