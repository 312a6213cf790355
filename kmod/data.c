// SPDX-License-Identifier: GPL-2.0-only
/*
 * data.c - file data through the page cache: read_folio and readahead.
 *
 * Present blocks are read from the image's data region, with the
 * credentials the image was opened with (the mounter's), not the
 * reader's: a reader confined by an LSM, or a container faulting in a
 * binary of its overlay lower layer, reads an incrfs file and must not be
 * refused for not being allowed to read the image file.  In readahead a
 * run of folios whose blocks sit in consecutive data blocks is read with
 * one asynchronous read of the backing file (see struct ra_req).  Holes
 * are zero-filled without I/O.  readahead never waits: it leaves folios
 * of missing blocks not uptodate, so the present ones around them are not
 * held back, and read_folio (called by the page cache for exactly those
 * folios) waits for the fill.
 */
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <linux/highmem.h>
#include "internal.h"

/* the most blocks one read of the image covers: BIO_MAX_VECS pages */
#define INCRFS_RA_MAX	256
/*
 * The most missing blocks one readahead call tells the feeder about: the
 * window is sized for reading present data (INCRFS_RA_KB); for missing
 * data the feeder reads ahead by its own policy, and hinting the whole
 * window would fetch more of a small file's neighbours than is read.
 */
#define INCRFS_HINT_MAX	32

/* Read data blocks starting at @pblk into @nr bvecs totalling @len bytes. */
static int read_data(struct incrfs_sb_info *sbi, struct bio_vec *bv,
		     unsigned int nr, size_t len, u64 pblk)
{
	loff_t pos = sbi->data_off + (pblk << INCRFS_BLOCK_BITS);
	const struct cred *old;
	struct iov_iter iter;
	ssize_t ret = 0;

	iov_iter_bvec(&iter, ITER_DEST, bv, nr, len);
	old = override_creds(sbi->image->f_cred);
	while (iov_iter_count(&iter)) {
		ret = vfs_iter_read(sbi->image, &iter, &pos, 0);
		if (ret <= 0)
			break;
	}
	revert_creds(old);
	if (ret < 0)
		return ret;
	return iov_iter_count(&iter) ? -EIO : 0;
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

/*
 * Folios of present blocks in consecutive data blocks, read from the image
 * with one asynchronous read: readahead returns as soon as it is submitted
 * and the reader copies the folios already uptodate meanwhile, as it would
 * on a block device.  Where the image's own page cache holds none of the
 * range, the read is direct (no second cached copy, no second memcpy);
 * otherwise buffered, which also sees data a FILL just wrote.  The
 * completion may run in interrupt context: it only marks the folios
 * uptodate, unlocks them and frees the request.
 */
struct ra_req {
	struct kiocb iocb;
	unsigned int nr, max;
	u64 pblk;		/* data block of bv[0] */
	struct bio_vec bv[];
};

static void ra_complete(struct kiocb *iocb, long ret)
{
	struct ra_req *rq = container_of(iocb, struct ra_req, iocb);
	bool ok = ret == (long)rq->nr << INCRFS_BLOCK_BITS;
	unsigned int i;

	for (i = 0; i < rq->nr; i++) {
		struct folio *folio = page_folio(rq->bv[i].bv_page);

		/* not uptodate: read_folio tries again and reports the error */
		if (ok) {
			flush_dcache_folio(folio);
			folio_mark_uptodate(folio);
		}
		folio_unlock(folio);
	}
	kfree(rq);
}

static void ra_submit(struct incrfs_sb_info *sbi, struct ra_req *rq)
{
	struct file *image = sbi->image;
	size_t len = (size_t)rq->nr << INCRFS_BLOCK_BITS;
	loff_t pos = sbi->data_off + (rq->pblk << INCRFS_BLOCK_BITS);
	const struct cred *old;
	struct iov_iter iter;
	ssize_t ret;

	init_sync_kiocb(&rq->iocb, image);
	rq->iocb.ki_pos = pos;
	rq->iocb.ki_complete = ra_complete;	/* makes it asynchronous */
	if ((image->f_mode & FMODE_CAN_ODIRECT) &&
	    !filemap_range_has_page(image->f_mapping, pos, pos + len - 1))
		rq->iocb.ki_flags |= IOCB_DIRECT;
	iov_iter_bvec(&iter, ITER_DEST, rq->bv, rq->nr, len);
	old = override_creds(image->f_cred);
	ret = vfs_iocb_iter_read(image, &rq->iocb, &iter);
	revert_creds(old);
	if (ret != -EIOCBQUEUED)
		ra_complete(&rq->iocb, ret);
}

/* Submit the request being built, if any. */
static void ra_flush(struct incrfs_sb_info *sbi, struct ra_req **rqp)
{
	if (*rqp)
		ra_submit(sbi, *rqp);
	*rqp = NULL;
}

/*
 * Add @folio (one block, data block @pblk) to the batch; false if no
 * request could be allocated: the caller leaves the folio to read_folio.
 */
static bool ra_add(struct incrfs_sb_info *sbi, struct ra_req **rqp,
		   struct readahead_control *rac, struct folio *folio, u64 pblk)
{
	struct ra_req *rq = *rqp;

	if (rq && (rq->nr == rq->max || pblk != rq->pblk + rq->nr)) {
		ra_flush(sbi, rqp);
		rq = NULL;
	}
	if (!rq) {
		/* this folio and the ones still to come, at most one bio's worth */
		unsigned int max = min_t(unsigned int, readahead_count(rac) + 1,
					 INCRFS_RA_MAX);

		rq = kmalloc(struct_size(rq, bv, max), GFP_NOFS | __GFP_NOWARN);
		if (!rq)
			return false;
		rq->nr = 0;
		rq->max = max;
		rq->pblk = pblk;
		*rqp = rq;
	}
	folio_bvec(&rq->bv[rq->nr++], folio, 0);
	return true;
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
	struct ra_req *rq = NULL;
	struct ra_hint h = { .count = 0 };
	unsigned int hinted = 0;
	struct folio *folio;

	/*
	 * A readahead of one folio is a reader's own read (POSIX_FADV_RANDOM,
	 * a random mmap fault): if its block is missing, read_folio reports
	 * it a moment later, so a hint would only wake the feeder twice.
	 */
	if (readahead_count(rac) == 1)
		hinted = INCRFS_HINT_MAX;

	while ((folio = readahead_folio(rac)) != NULL) {
		u64 lblk = folio_pos(folio) >> INCRFS_BLOCK_BITS;
		u64 pblk;
		u32 run;

		if (folio_size(folio) != INCRFS_BLOCK_SIZE) {
			/* large folio: block by block, never waiting */
			ra_flush(sbi, &rq);
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
			if (hinted++ < INCRFS_HINT_MAX)
				hint_add(inode, &h, lblk, pblk);
			folio_unlock(folio);
			continue;
		}
		if (!ra_add(sbi, &rq, rac, folio, pblk))
			folio_unlock(folio);	/* read_folio will read it */
	}
	ra_flush(sbi, &rq);
	hint_flush(inode, &h);
}

/*
 * A page fault in a mapping reads around the faulting page, by the
 * file's readahead window: INCRFS_RA_KB, sized for streaming read()s of
 * present data.  Faults in mapped code and data are random: around a
 * missing page, a window that large only had the feeder fetch what is
 * not used (most of every library), so a mapped file reads around by
 * INCRFS_MMAP_RA_KB, what a disk gets by default.
 */
static int incrfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned int pages = INCRFS_MMAP_RA_KB / (PAGE_SIZE / 1024);

	spin_lock(&file->f_lock);
	if (file->f_ra.ra_pages > pages)
		file->f_ra.ra_pages = pages;
	spin_unlock(&file->f_lock);
	return generic_file_readonly_mmap(file, vma);
}

const struct address_space_operations incrfs_aops = {
	.read_folio	= incrfs_read_folio,
	.readahead	= incrfs_readahead,
};

const struct file_operations incrfs_file_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= generic_file_read_iter,
	.mmap		= incrfs_file_mmap,
	.splice_read	= incrfs_splice_read,
	.unlocked_ioctl	= incrfs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
