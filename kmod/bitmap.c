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
	sbi->bitmap = kvcalloc(longs, sizeof(long), GFP_KERNEL);
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
	smp_rmb();
	return true;
}
