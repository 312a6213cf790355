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
 * are zero-filled without I/O.
 *
 * A reader waits for a missing block with no folio locked and, for a page
 * fault, without mmap_lock where the fault may drop it: neither readahead
 * nor read_folio waits (read_folio fails a missing block with -ENODATA,
 * its folio left not uptodate).  read(), splice and page faults wait in
 * their own wrappers below and then let the page cache go on; so every
 * task waits once, with its own timeout, and may be frozen while it
 * waits.  Only a fault that may not drop mmap_lock (some get_user_pages()
 * callers) waits holding it, as it would for the I/O of any file.
 */
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <linux/highmem.h>
#include <linux/file.h>
#include <linux/mm.h>
#include "internal.h"
#include "incrfs_trace.h"

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
	atomic64_inc(&sbi->stats.image_reads_buffered);
	trace_incrfs_image_read(sbi->sb, pblk, nr, false);
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

/*
 * The bytes of @folio past the end of the file read as zeroes, whatever
 * the image holds there (the block's hash covers them, their value is the
 * packer's): a mapping of the last page shows them.
 */
static void zero_past_eof(struct folio *folio)
{
	loff_t size = i_size_read(folio->mapping->host);
	loff_t pos = folio_pos(folio);

	if (size < pos + (loff_t)folio_size(folio))
		folio_zero_segment(folio, size > pos ? size - pos : 0,
				   folio_size(folio));
}

static void folio_bvec(struct bio_vec *bv, struct folio *folio, size_t off)
{
	bv->bv_page = folio_page(folio, off >> PAGE_SHIFT);
	bv->bv_offset = offset_in_page(off);
	bv->bv_len = INCRFS_BLOCK_SIZE;
}

/* Fill every block of @folio; -ENODATA if one is missing. */
static int read_folio_blocks(struct inode *inode, struct folio *folio)
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
		if (!incrfs_block_present(sbi, pblk))
			return -ENODATA;
		folio_bvec(&bv, folio, off);
		err = read_data(sbi, &bv, 1, INCRFS_BLOCK_SIZE, pblk);
		if (err)
			return err;
	}
	return 0;
}

static int incrfs_read_folio(struct file *file, struct folio *folio)
{
	int err = read_folio_blocks(folio->mapping->host, folio);

	if (!err) {
		zero_past_eof(folio);
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
 * completion may run in interrupt context: it only zeroes what lies past
 * the end of the file, marks the folios uptodate, unlocks them and frees
 * the request.
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
			zero_past_eof(folio);
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
	    !filemap_range_has_page(image->f_mapping, pos, pos + len - 1)) {
		rq->iocb.ki_flags |= IOCB_DIRECT;
		atomic64_inc(&sbi->stats.image_reads_direct);
	} else {
		atomic64_inc(&sbi->stats.image_reads_buffered);
	}
	trace_incrfs_image_read(sbi->sb, rq->pblk, rq->nr,
				rq->iocb.ki_flags & IOCB_DIRECT);
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
		incrfs_hint_missing(inode, h->lblk, h->pblk, h->count, 0);
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
	trace_incrfs_readahead(inode, readahead_index(rac),
			       readahead_count(rac));

	while ((folio = readahead_folio(rac)) != NULL) {
		u64 lblk = folio_pos(folio) >> INCRFS_BLOCK_BITS;
		u64 pblk;
		u32 run;

		incrfs_map_block(inode, lblk, &pblk, &run);
		if (pblk == U64_MAX) {
			folio_zero_range(folio, 0, INCRFS_BLOCK_SIZE);
			folio_mark_uptodate(folio);
			folio_unlock(folio);
			continue;
		}
		incrfs_access_log_add(sbi, pblk);
		if (!incrfs_block_present(sbi, pblk)) {
			/* its reader will wait for it; the feeder may start now */
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
 * Wait for the first missing block of @inode in @count bytes from @pos,
 * if there is one.  0 when there is none (any more), else
 * incrfs_wait_block()'s error.
 */
static int wait_first_missing(struct inode *inode, loff_t pos, size_t count,
			      bool freezable)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	loff_t size = i_size_read(inode);
	u64 lblk, last, pblk, i;
	u32 run;

	if (pos >= size || !count)
		return 0;
	lblk = pos >> INCRFS_BLOCK_BITS;
	last = (min_t(u64, size, (u64)pos + count) - 1) >> INCRFS_BLOCK_BITS;
	while (lblk <= last) {
		incrfs_map_block(inode, lblk, &pblk, &run);
		for (i = 0; pblk != U64_MAX && i < run && lblk + i <= last; i++)
			if (!incrfs_block_present(sbi, pblk + i))
				return incrfs_wait_block(inode, lblk + i,
							 pblk + i, freezable);
		lblk += run;
	}
	return 0;
}

/*
 * read(): the page cache reads what is present, read_folio stops at the
 * first missing block (-ENODATA); wait for it here, with nothing locked,
 * and go on.  Bytes read before an error are returned, as by any read.
 */
static ssize_t incrfs_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t done = 0, ret;
	int err;

	for (;;) {
		ret = generic_file_read_iter(iocb, to);
		if (ret > 0) {
			done += ret;
			if (!iov_iter_count(to))
				break;
			continue;
		}
		if (ret != -ENODATA)
			break;
		ret = -EAGAIN;
		if (iocb->ki_flags & IOCB_NOWAIT)
			break;
		err = wait_first_missing(inode, iocb->ki_pos,
					 iov_iter_count(to), true);
		if (err) {
			ret = err;
			break;
		}
	}
	return done ? done : ret;
}

/* splice and sendfile: the same as read(). */
static ssize_t incrfs_file_splice_read(struct file *in, loff_t *ppos,
				       struct pipe_inode_info *pipe,
				       size_t len, unsigned int flags)
{
	ssize_t ret;
	int err;

	for (;;) {
		ret = incrfs_splice_read(in, ppos, pipe, len, flags);
		if (ret != -ENODATA)
			return ret;
		err = wait_first_missing(file_inode(in), *ppos, len, true);
		if (err)
			return err;
	}
}

/*
 * A mapped file is faulted in wherever its program jumps or its loader
 * relocates: a page here, a page there, each fault on a missing block one
 * more wait for the feeder, one more round trip to wherever the blob
 * lives.  So its first such fault also hints the whole file, flagged
 * INCRFS_PENDING_MAPPED, if it is at most INCRFS_MAP_HINT_MAX_KB: the
 * feeder knows what a round trip costs it and may fetch the file behind
 * the blocks readers wait for, or ignore the hint.  Once per inode while
 * it is cached, at the first such fault a feeder is there to hear (a hint
 * is never queued for a feeder to come): the faults that follow find
 * their blocks on the way.
 */
static void hint_mapped_file(struct inode *inode)
{
	loff_t size = i_size_read(inode);
	u64 nr = DIV_ROUND_UP_ULL(size, INCRFS_BLOCK_SIZE);
	u64 lblk, pblk;
	u32 run;

	if (size > (loff_t)INCRFS_MAP_HINT_MAX_KB << 10 ||
	    !READ_ONCE(INCRFS_SB(inode->i_sb)->control_open) ||
	    test_and_set_bit(INCRFS_I_MAP_HINTED, &INCRFS_I(inode)->flags))
		return;
	for (lblk = 0; lblk < nr; lblk += run) {
		incrfs_map_block(inode, lblk, &pblk, &run);
		if (pblk != U64_MAX)
			incrfs_hint_missing(inode, lblk, pblk, run,
					    INCRFS_PENDING_MAPPED);
	}
}

/*
 * A page fault on a missing block.  filemap_fault() reads around it
 * (the feeder hears of the missing blocks around it too) and, as it does
 * for I/O, drops mmap_lock and returns VM_FAULT_RETRY when read_folio
 * fails; then the block is waited for, with no lock held, and the fault is
 * retried.  The retry (FAULT_FLAG_TRIED) never waits again: a block still
 * missing then is SIGBUS.  A fault that may not drop the lock waits once
 * before filemap_fault(), holding it.
 */
static vm_fault_t incrfs_filemap_fault(struct vm_fault *vmf)
{
	struct file *file = vmf->vma->vm_file;
	struct inode *inode = file_inode(file);
	loff_t pos = (loff_t)vmf->pgoff << PAGE_SHIFT;
	vm_fault_t ret;

	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		if (wait_first_missing(inode, pos, PAGE_SIZE, false))
			return VM_FAULT_SIGBUS;
		return filemap_fault(vmf);
	}
	get_file(file);		/* the vma may go once the lock is dropped */
	ret = filemap_fault(vmf);
	if ((ret & VM_FAULT_RETRY) &&
	    !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT) &&
	    fault_flag_allow_retry_first(vmf->flags)) {
		hint_mapped_file(inode);
		wait_first_missing(inode, pos, PAGE_SIZE, true);
	}
	fput(file);
	return ret;
}

static const struct vm_operations_struct incrfs_file_vm_ops = {
	.fault		= incrfs_filemap_fault,
	.map_pages	= filemap_map_pages,
};

/*
 * A page fault in a mapping reads around the faulting page, by the
 * file's readahead window: INCRFS_RA_KB, sized for streaming read()s of
 * present data.  Faults in mapped code and data are random: around a
 * missing page, a window that large only had the feeder fetch what is
 * not used (most of every library), so a mapped file reads around by
 * INCRFS_MMAP_RA_KB, what a disk gets by default.  The window is the open
 * file's, shared by faults and read(): its later read()s read ahead by
 * INCRFS_MMAP_RA_KB too, until posix_fadvise() sets the window again.
 */
static int incrfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned int pages = INCRFS_MMAP_RA_KB / (PAGE_SIZE / 1024);

	spin_lock(&file->f_lock);
	if (file->f_ra.ra_pages > pages)
		file->f_ra.ra_pages = pages;
	spin_unlock(&file->f_lock);
	if ((vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE))
		return -EINVAL;
	file_accessed(file);
	vma->vm_ops = &incrfs_file_vm_ops;
	return 0;
}

const struct address_space_operations incrfs_aops = {
	.read_folio	= incrfs_read_folio,
	.readahead	= incrfs_readahead,
};

const struct file_operations incrfs_file_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= incrfs_file_read_iter,
	.mmap		= incrfs_file_mmap,
	.splice_read	= incrfs_file_splice_read,
	.unlocked_ioctl	= incrfs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
