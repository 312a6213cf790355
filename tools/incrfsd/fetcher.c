// SPDX-License-Identifier: GPL-2.0-only
/*
 * fetcher.c - chunk reads in flight, then decode and FILL (see fetcher.h).
 *
 * Why this exists: the unit of work of the feeder is a whole blob chunk;
 * this is where its bytes are read, checked (one zstd frame of exactly the
 * promised size, by tools/lib) and handed to the kernel.
 */
#include "fetcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool fetcher_in_flight(const struct fetcher *f, int tag)
{
	unsigned int i;

	for (i = 0; i < f->nslots; i++)
		if (f->slots[i].busy && f->slots[i].tag == tag)
			return true;
	return false;
}

int fetcher_init(struct fetcher *f, struct incrfsd_source *src,
		 const struct blob_meta *meta, unsigned int depth,
		 int control_fd, unsigned int fill_flags,
		 unsigned int read_flags)
{
	size_t by_memory;
	int ret;

	memset(f, 0, sizeof(*f));
	f->src = *src;		/* ours now */
	memset(src, 0, sizeof(*src));
	src->event_fd = -1;
	f->control_fd = control_fd;
	f->fill_flags = fill_flags;
	f->read_flags = read_flags;
	/* a source opened again (the prefetch threads') is the same blob */
	if (f->src.size != meta->size) {
		snprintf(f->err, sizeof(f->err),
			 "the blob changed: %llu bytes now, %llu when it was first opened",
			 (unsigned long long)f->src.size,
			 (unsigned long long)meta->size);
		ret = -ESTALE;
		goto fail;
	}
	ret = blob_meta_parse(meta, &f->blob);
	if (ret) {
		snprintf(f->err, sizeof(f->err), "%s", f->blob.err);
		goto fail;
	}
	f->dcap = (size_t)f->blob.chunk_blocks * INCRFS_BLOCK_SIZE;
	by_memory = FETCHER_MEMORY_MAX / f->dcap;
	f->nslots = depth;
	if (f->nslots > by_memory)
		f->nslots = by_memory ? (unsigned int)by_memory : 1;
	if (f->nslots > f->src.depth)
		f->nslots = f->src.depth;
	ret = -ENOMEM;
	f->slots = calloc(f->nslots, sizeof(*f->slots));
	f->dbuf = malloc(f->dcap);
	f->scratch = calloc(INCRFS_FILL_MAX, sizeof(*f->scratch));
	if (!f->slots || !f->dbuf || !f->scratch) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		goto fail;
	}
	return 0;
fail:
	fetcher_destroy(f);
	return ret;
}

void fetcher_destroy(struct fetcher *f)
{
	unsigned int i;

	/* first the source: it waits for reads still writing our buffers */
	incrfsd_source_close(&f->src);
	for (i = 0; f->slots && i < f->nslots; i++)
		free(f->slots[i].cbuf);
	free(f->slots);
	free(f->dbuf);
	free(f->scratch);
	incrfs_blob_close(&f->blob);
	f->slots = NULL;
	f->dbuf = NULL;
	f->scratch = NULL;
	f->nslots = f->busy = 0;
}

void fetcher_hurry(struct fetcher *f, uint64_t chunk)
{
	unsigned int i;

	if (!f->src.ops->hurry)
		return;
	for (i = 0; i < f->nslots; i++)
		if (f->slots[i].busy && f->slots[i].chunk == chunk &&
		    !f->slots[i].urgent) {
			f->slots[i].urgent = true;
			f->src.ops->hurry(&f->src, &f->slots[i]);
		}
}

int fetcher_start(struct fetcher *f, uint64_t chunk, int tag,
		  enum fetch_fill fill, bool urgent)
{
	struct incrfs_chunk_info ci;
	struct fetch_slot *s = NULL;
	unsigned int i;
	int ret;

	for (i = 0; i < f->nslots; i++) {
		if (!f->slots[i].busy) {
			s = &f->slots[i];
			break;
		}
	}
	if (!s)
		return -EBUSY;
	ret = incrfs_blob_chunk(&f->blob, chunk, &ci);
	if (ret)
		return ret;
	if (s->ccap < ci.len) {
		void *p = realloc(s->cbuf, ci.len);

		if (!p)
			return -ENOMEM;
		s->cbuf = p;
		s->ccap = ci.len;
	}
	ret = f->src.ops->read(&f->src, ci.off, ci.len, s->cbuf,
			       f->read_flags |
			       (urgent ? INCRFSD_READ_URGENT : 0), s);
	if (ret)
		return ret;
	s->busy = true;
	s->urgent = urgent;
	s->chunk = chunk;
	s->tag = tag;
	s->fill = fill;
	s->start_ns = incrfsd_now_ns();
	f->busy++;
	return 0;
}

/*
 * The chunk in f->dbuf is not all filled: hand a copy to the caller as a
 * tail.  Without memory for it, fill the rest now.
 */
static int keep_tail(struct fetcher *f, const struct incrfs_chunk_info *ci,
		     struct fetch_done *d)
{
	size_t len = (size_t)ci->nr_blocks * INCRFS_BLOCK_SIZE;
	uint32_t done = d->fill.done;
	struct fill_result r;
	int ret;

	d->first_block = ci->first_block;
	d->nr_blocks = ci->nr_blocks;
	d->tail = malloc(len);
	if (d->tail) {
		memcpy(d->tail, f->dbuf, len);
		return 0;
	}
	ret = fill_data_blocks(f->control_fd, ci->first_block + done,
			       ci->nr_blocks - done,
			       (char *)f->dbuf + (size_t)done * INCRFS_BLOCK_SIZE,
			       f->fill_flags, false, f->scratch, &r);
	fill_result_add(&d->fill, &r);
	d->unfilled = false;
	return ret;
}

/* Decode and fill the chunk whose bytes arrived in @s. */
static void finish(struct fetcher *f, struct fetch_slot *s, int read_err,
		   struct fetch_done *d)
{
	struct incrfs_chunk_info ci;
	int ret;

	memset(d, 0, sizeof(*d));
	d->chunk = s->chunk;
	d->tag = s->tag;
	d->urgent = s->urgent;
	d->io_ns = incrfsd_now_ns() - s->start_ns;
	ret = read_err;
	if (!ret)
		ret = incrfs_blob_chunk(&f->blob, s->chunk, &ci);
	if (!ret) {
		ret = incrfs_blob_decode_chunk(&f->blob, s->chunk, s->cbuf,
					       ci.len, f->dbuf, f->dcap);
		if (ret)
			snprintf(d->why, sizeof(d->why), "%s", f->blob.err);
	}
	if (!ret && s->fill == FETCH_FILL_NONE) {
		d->fill.deferred = ci.nr_blocks;
		d->unfilled = true;
	} else if (!ret) {
		ret = fill_data_blocks(f->control_fd, ci.first_block,
				       ci.nr_blocks, f->dbuf, f->fill_flags,
				       s->fill == FETCH_FILL_STOP, f->scratch,
				       &d->fill);
	}
	if (!ret && d->fill.deferred)
		ret = keep_tail(f, &ci, d);
	if (!ret && !d->tail)
		ret = fill_result_err(&d->fill);
	d->err = ret;
	d->start_ns = s->start_ns;
	d->elapsed_ns = incrfsd_now_ns() - s->start_ns;
	s->busy = false;
	f->busy--;
}

int fetcher_reap(struct fetcher *f, bool wait, struct fetch_done *done,
		 unsigned int max)
{
	struct incrfsd_read_done rd[16];
	unsigned int i;
	int n;

	if (max > 16)
		max = 16;
	/* even with nothing in flight: the source must clear its eventfd
	 * (earlier reads may have left it readable), or epoll spins */
	n = f->src.ops->reap(&f->src, rd, max, wait && f->busy);
	if (n < 0)
		return n;
	for (i = 0; i < (unsigned int)n; i++)
		finish(f, rd[i].cookie, rd[i].err, &done[i]);
	return n;
}
