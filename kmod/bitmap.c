// SPDX-License-Identifier: GPL-2.0-only
/*
 * bitmap.c - the persisted block bitmap: one bit per data block, set when
 * the block's data is in the image.
 *
 * The whole bitmap is loaded at mount, so "is this block present?" on the
 * read path is one lockless test_bit with no I/O.  The in-memory copy is
 * the truth while mounted; a commit writes the changed 4 KiB pages of it
 * back to the image after the data they describe is on disk.
 *
 * What a commit guarantees: a bit reaches the image only after a sync of
 * the image that reported no writeback error since the previous commit.
 * Writeback errors are read from the image mapping's errseq with a cursor
 * of the mount's own (an fsync reports an error to each file only once, so
 * the return value of the next fsync cannot be trusted after a failure).
 * When an error is seen, every block filled since the last good commit
 * may have lost its data: those bits are cleared in memory, the blocks
 * are missing again and their readers wait for them to be fetched and
 * verified again; sb->stats.fills_lost counts them.
 *
 * Which bits those are needs no memory of its own: the image's copy of
 * the bitmap (its page cache) holds exactly the bits of the last good
 * commit, because only a commit writes it and only after a clean sync.
 * A bit set in memory and clear in the image is uncommitted.  If the
 * image's copy cannot be read, every bit of that page is forgotten: the
 * blocks are fetched and verified again, nothing wrong is ever served.
 */
#include <linux/bitops.h>
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/workqueue.h>
#include "internal.h"

/* Bitmap bytes written together: a dirty "page" of the on-disk bitmap. */
#define INCRFS_BITMAP_PAGE	4096u
/* Data blocks one such page describes, as a shift. */
#define INCRFS_BITMAP_PAGE_SHIFT	(12 + 3)

/* How long a filled block may stay committed only in memory. */
#define INCRFS_COMMIT_INTERVAL	(5 * HZ)

/* Commits of every mount: they sync files, keep them off system_wq. */
static struct workqueue_struct *incrfs_commit_wq;

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
	sbi->wb_err = errseq_sample(&sbi->image->f_mapping->wb_err);

	/* a complete image is never filled: it needs no commit state */
	if (atomic64_read(&sbi->nr_present) == sbi->nr_blocks)
		return 0;
	sbi->nr_bitmap_pages = DIV_ROUND_UP(sbi->bitmap_size,
					    INCRFS_BITMAP_PAGE);
	sbi->committed_page = kmalloc(INCRFS_BITMAP_PAGE, GFP_KERNEL_ACCOUNT);
	sbi->dirty_pages = bitmap_zalloc(sbi->nr_bitmap_pages,
					 GFP_KERNEL_ACCOUNT);
	sbi->writing_pages = bitmap_zalloc(sbi->nr_bitmap_pages,
					   GFP_KERNEL_ACCOUNT);
	if (sbi->committed_page && sbi->dirty_pages && sbi->writing_pages)
		return 0;
	/* commit() tells "never filled" by writing_pages == NULL */
	bitmap_free(sbi->writing_pages);
	sbi->writing_pages = NULL;
	return -ENOMEM;
}

void incrfs_bitmap_free(struct incrfs_sb_info *sbi)
{
	bitmap_free(sbi->writing_pages);
	bitmap_free(sbi->dirty_pages);
	kfree(sbi->committed_page);
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

/*
 * Set @pblk present after its data was written.  True if newly set.  The
 * caller holds fill_rwsem for reading: a commit never runs between the
 * write of the data and this.
 */
bool incrfs_bitmap_set(struct incrfs_sb_info *sbi, u64 pblk)
{
	/* the data write is ordered before the bit */
	smp_mb__before_atomic();
	if (test_and_set_bit_le(pblk, sbi->bitmap))
		return false;
	atomic64_inc(&sbi->nr_present);
	set_bit(pblk >> INCRFS_BITMAP_PAGE_SHIFT, sbi->dirty_pages);
	queue_delayed_work(incrfs_commit_wq, &sbi->commit_work,
			   INCRFS_COMMIT_INTERVAL);
	return true;
}

/* Words of the in-memory bitmaps that hold bitmap page @page. */
static void page_words(struct incrfs_sb_info *sbi, unsigned long page,
		       size_t *first, size_t *end)
{
	size_t longs = max_t(size_t, 1, BITS_TO_LONGS(sbi->nr_blocks));
	size_t per_page = INCRFS_BITMAP_PAGE / sizeof(long);

	*first = page * per_page;
	*end = min(*first + per_page, longs);
}

/*
 * The blocks filled since the last good commit (the bits of @pages set in
 * memory and clear in the image) may not be on disk: make them missing
 * again.  Called with fill_rwsem held for writing, so no bit is being set
 * and no commit writes the image's copy.  Returns how many.
 */
static u64 forget_uncommitted(struct incrfs_sb_info *sbi,
			      const unsigned long *pages)
{
	unsigned long *disk = sbi->committed_page;
	unsigned long page, m;
	size_t first, w, end;
	u64 from, len, lost = 0;

	for_each_set_bit(page, pages, sbi->nr_bitmap_pages) {
		from = (u64)page * INCRFS_BITMAP_PAGE;
		len = min_t(u64, INCRFS_BITMAP_PAGE, sbi->bitmap_size - from);
		memset(disk, 0, INCRFS_BITMAP_PAGE);
		if (incrfs_read_image(sbi, disk, len, sbi->bitmap_off + from))
			memset(disk, 0, INCRFS_BITMAP_PAGE);	/* forget all */
		page_words(sbi, page, &first, &end);
		for (w = first; w < end; w++) {
			m = sbi->bitmap[w] & ~disk[w - first];
			if (!m)
				continue;
			WRITE_ONCE(sbi->bitmap[w], sbi->bitmap[w] & ~m);
			lost += hweight_long(m);
		}
	}
	atomic64_sub(lost, &sbi->nr_present);
	atomic64_add(lost, &sbi->stats.fills_lost);
	return lost;
}

/* Copy bitmap pages @pages to the image (page cache), runs at a time. */
static int write_pages(struct incrfs_sb_info *sbi, const unsigned long *pages)
{
	unsigned long start, end = 0;
	u64 from, to;
	ssize_t ret;
	loff_t pos;

	for (;;) {
		start = find_next_bit(pages, sbi->nr_bitmap_pages, end);
		if (start >= sbi->nr_bitmap_pages)
			return 0;
		end = find_next_zero_bit(pages, sbi->nr_bitmap_pages, start);
		from = (u64)start * INCRFS_BITMAP_PAGE;
		to = min_t(u64, (u64)end * INCRFS_BITMAP_PAGE,
			   sbi->bitmap_size);
		pos = sbi->bitmap_off + from;
		ret = kernel_write(sbi->image, (u8 *)sbi->bitmap + from,
				   to - from, &pos);
		if (ret != to - from)
			return ret < 0 ? ret : -EIO;
	}
}

/*
 * commit - make every bit set so far durable in the image
 *
 * Syncs the image once while fills go on (most of the data), then, with
 * fills held off, again, so every set bit's data has been written back;
 * checks the mount's errseq cursor; writes the dirty bitmap pages and
 * syncs them, still with fills held off so that an error of this last
 * sync can only be the bitmap's.  0, or -errno: the writeback error when
 * filled blocks were lost and are missing again, or the bitmap write's
 * error (its pages stay dirty and are written by a later commit).
 */
static int commit(struct incrfs_sb_info *sbi)
{
	unsigned long *pages = sbi->writing_pages;
	struct address_space *mapping = sbi->image->f_mapping;
	const struct cred *old;
	int err, werr;
	u64 lost = 0;

	if (!pages)
		return 0;	/* complete at mount: never filled */
	lockdep_assert_held(&sbi->commit_mutex);
	if (bitmap_empty(sbi->dirty_pages, sbi->nr_bitmap_pages))
		return 0;
	old = override_creds(sbi->image->f_cred);
	/* an error here is seen below through the cursor */
	vfs_fsync(sbi->image, 1);

	down_write(&sbi->fill_rwsem);
	err = vfs_fsync(sbi->image, 1);
	werr = errseq_check_and_advance(&mapping->wb_err, &sbi->wb_err);
	bitmap_copy(pages, sbi->dirty_pages, sbi->nr_bitmap_pages);
	bitmap_zero(sbi->dirty_pages, sbi->nr_bitmap_pages);
	if (err || werr) {
		err = err ?: werr;
		lost = forget_uncommitted(sbi, pages);
	}
	/* after a loss the pages hold only bits whose data is on disk */
	werr = write_pages(sbi, pages);
	if (!werr)
		werr = vfs_fsync(sbi->image, 1);
	/* no data was written since the check: an error now is the bitmap's */
	werr = errseq_check_and_advance(&mapping->wb_err, &sbi->wb_err) ?:
	       werr;
	if (werr)	/* written again by a later commit */
		bitmap_or(sbi->dirty_pages, sbi->dirty_pages, pages,
			  sbi->nr_bitmap_pages);
	up_write(&sbi->fill_rwsem);
	revert_creds(old);
	if (werr) {
		incrfs_err(sbi->sb, "cannot write the block bitmap: %d", werr);
		/* umount sets @dead, then cancels: none is queued after */
		down_read(&sbi->fill_rwsem);
		if (!sbi->dead)
			queue_delayed_work(incrfs_commit_wq, &sbi->commit_work,
					   INCRFS_COMMIT_INTERVAL);
		up_read(&sbi->fill_rwsem);
	}
	if (lost)
		incrfs_err(sbi->sb,
			   "writeback of the image failed (%d): %llu filled blocks are missing again and will be fetched again",
			   err, lost);
	return err ?: werr;
}

/*
 * incrfs_bitmap_commit - commit now (INCRFS_FILL_SYNC, the periodic work).
 * Once the mount is gone its last commit has run: 0, nothing to do.
 */
int incrfs_bitmap_commit(struct incrfs_sb_info *sbi)
{
	int err = 0;

	mutex_lock(&sbi->commit_mutex);
	if (!READ_ONCE(sbi->dead))
		err = commit(sbi);
	mutex_unlock(&sbi->commit_mutex);
	return err;
}

static void incrfs_commit_worker(struct work_struct *work)
{
	struct incrfs_sb_info *sbi = container_of(to_delayed_work(work),
						  struct incrfs_sb_info,
						  commit_work);

	incrfs_bitmap_commit(sbi);
}

void incrfs_bitmap_init(struct incrfs_sb_info *sbi)
{
	mutex_init(&sbi->commit_mutex);
	INIT_DELAYED_WORK(&sbi->commit_work, incrfs_commit_worker);
}

/* Last commit, after @dead is set, while the super block still exists. */
void incrfs_bitmap_shutdown(struct incrfs_sb_info *sbi)
{
	cancel_delayed_work_sync(&sbi->commit_work);
	mutex_lock(&sbi->commit_mutex);
	commit(sbi);
	mutex_unlock(&sbi->commit_mutex);
}

int __init incrfs_bitmap_wq_init(void)
{
	incrfs_commit_wq = alloc_workqueue("incrfs_commit", WQ_UNBOUND, 0);
	return incrfs_commit_wq ? 0 : -ENOMEM;
}

void incrfs_bitmap_wq_exit(void)
{
	destroy_workqueue(incrfs_commit_wq);
}
