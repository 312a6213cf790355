// SPDX-License-Identifier: GPL-2.0-only
/*
 * data.c - file data through the page cache: read_folio and readahead.
 *
 * Present blocks are read from the image's data region; a run of folios
 * whose blocks sit in consecutive data blocks is read with one call into
 * the backing file.  Holes are zero-filled without I/O.  readahead never
 * waits: it leaves folios of missing blocks not uptodate, so the present
 * ones around them are not held back, and read_folio (called by the page
 * cache for exactly those folios) waits for the fill.
 */
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <linux/highmem.h>
#include "internal.h"

#define INCRFS_RA_BATCH	32

/* Read data blocks starting at @pblk into @nr bvecs totalling @len bytes. */
static int read_data(struct incrfs_sb_info *sbi, struct bio_vec *bv,
		     unsigned int nr, size_t len, u64 pblk)
{
	loff_t pos = sbi->data_off + (pblk << INCRFS_BLOCK_BITS);
	struct iov_iter iter;
	ssize_t ret;

	iov_iter_bvec(&iter, ITER_DEST, bv, nr, len);
	while (iov_iter_count(&iter)) {
		ret = vfs_iter_read(sbi->image, &iter, &pos, 0);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -EIO;
	}
	return 0;
}

static void folio_bvec(struct bio_vec *bv, struct folio *folio, size_t off)
{
	bv->bv_page = folio_page(folio, off >> PAGE_SHIFT);
	bv->bv_offset = offset_in_page(off);
	bv->bv_len = INCRFS_BLOCK_SIZE;
}

/* Fill every block of @folio, waiting for missing ones if @may_wait. */
static int read_folio_blocks(struct inode *inode, struct folio *folio,
			     bool may_wait)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	u64 lblk = folio_pos(folio) >> INCRFS_BLOCK_BITS;
	struct bio_vec bv;
	size_t off;
	int err;

	for (off = 0; off < folio_size(folio); off += INCRFS_BLOCK_SIZE, lblk++) {
		u64 pblk;
		u32 run;

		incrfs_map_block(inode, lblk, &pblk, &run);
		if (pblk == U64_MAX) {
			folio_zero_range(folio, off, INCRFS_BLOCK_SIZE);
			continue;
		}
		incrfs_access_log_add(sbi, pblk);
		if (!incrfs_block_present(sbi, pblk)) {
			if (!may_wait)
				return -EAGAIN;
			err = incrfs_wait_block(inode, lblk, pblk);
			if (err)
				return err;
		}
		folio_bvec(&bv, folio, off);
		err = read_data(sbi, &bv, 1, INCRFS_BLOCK_SIZE, pblk);
		if (err)
			return err;
	}
	return 0;
}

static int incrfs_read_folio(struct file *file, struct folio *folio)
{
	int err = read_folio_blocks(folio->mapping->host, folio, true);

	if (!err) {
		flush_dcache_folio(folio);
		folio_mark_uptodate(folio);
	}
	folio_unlock(folio);
	return err;
}

/* Folios waiting to be read with one backing-file read. */
struct ra_batch {
	struct folio *folios[INCRFS_RA_BATCH];
	struct bio_vec bv[INCRFS_RA_BATCH];
	unsigned int nr;
	u64 pblk;		/* data block of folios[0] */
};

static void ra_flush(struct incrfs_sb_info *sbi, struct ra_batch *b)
{
	unsigned int i;
	int err;

	if (!b->nr)
		return;
	err = read_data(sbi, b->bv, b->nr,
			(size_t)b->nr << INCRFS_BLOCK_BITS, b->pblk);
	for (i = 0; i < b->nr; i++) {
		if (!err) {
			flush_dcache_folio(b->folios[i]);
			folio_mark_uptodate(b->folios[i]);
		}
		folio_unlock(b->folios[i]);
	}
	b->nr = 0;
}

/* A run of missing blocks readahead met, told to the feeder as one hint. */
struct ra_hint {
	u64 lblk, pblk;
	u32 count;
};

static void hint_flush(struct inode *inode, struct ra_hint *h)
{
	if (h->count)
		incrfs_hint_missing(inode, h->lblk, h->pblk, h->count);
	h->count = 0;
}

static void hint_add(struct inode *inode, struct ra_hint *h, u64 lblk,
		     u64 pblk)
{
	if (h->count && (lblk != h->lblk + h->count ||
			 pblk != h->pblk + h->count))
		hint_flush(inode, h);
	if (!h->count) {
		h->lblk = lblk;
		h->pblk = pblk;
	}
	h->count++;
}

static void incrfs_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	struct ra_batch b = { .nr = 0 };
	struct ra_hint h = { .count = 0 };
	struct folio *folio;

	while ((folio = readahead_folio(rac)) != NULL) {
		u64 lblk = folio_pos(folio) >> INCRFS_BLOCK_BITS;
		u64 pblk;
		u32 run;

		if (folio_size(folio) != INCRFS_BLOCK_SIZE) {
			/* large folio: block by block, never waiting */
			ra_flush(sbi, &b);
			if (!read_folio_blocks(inode, folio, false))
				folio_mark_uptodate(folio);
			folio_unlock(folio);
			continue;
		}
		incrfs_map_block(inode, lblk, &pblk, &run);
		if (pblk == U64_MAX) {
			folio_zero_range(folio, 0, INCRFS_BLOCK_SIZE);
			folio_mark_uptodate(folio);
			folio_unlock(folio);
			continue;
		}
		incrfs_access_log_add(sbi, pblk);
		if (!incrfs_block_present(sbi, pblk)) {
			/* read_folio will wait for it; the feeder may start now */
			hint_add(inode, &h, lblk, pblk);
			folio_unlock(folio);
			continue;
		}
		if (b.nr && (b.nr == INCRFS_RA_BATCH || pblk != b.pblk + b.nr))
			ra_flush(sbi, &b);
		if (!b.nr)
			b.pblk = pblk;
		b.folios[b.nr] = folio;
		folio_bvec(&b.bv[b.nr], folio, 0);
		b.nr++;
	}
	ra_flush(sbi, &b);
	hint_flush(inode, &h);
}

const struct address_space_operations incrfs_aops = {
	.read_folio	= incrfs_read_folio,
	.readahead	= incrfs_readahead,
};

const struct file_operations incrfs_file_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= generic_file_read_iter,
	.mmap		= generic_file_readonly_mmap,
	.splice_read	= incrfs_splice_read,
	.unlocked_ioctl	= incrfs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
