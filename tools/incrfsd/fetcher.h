/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fetcher.h - fetch blob chunks through a source, decode them, fill them.
 *
 * Why this exists: every feeder thread (the main one serving readers,
 * the --prefetch all ones) does the same with a chunk: read its
 * compressed bytes, zstd-decode them, FILL every block.  A fetcher owns a source, a
 * parsed blob (with its zstd context) and the buffers of the reads in
 * flight; it is used by one thread.
 */
#ifndef INCRFSD_FETCHER_H
#define INCRFSD_FETCHER_H

#include <stdbool.h>
#include <stdint.h>
#include "blob.h"
#include "blobmeta.h"
#include "clock.h"
#include "fill.h"
#include "source.h"

/* Decoded bytes a fetcher's reads in flight may hold, at most. */
#define FETCHER_MEMORY_MAX	(256U << 20)

struct fetch_slot {
	bool busy;
	uint64_t chunk;
	int tag;		/* caller's, returned in fetch_done */
	int fill;		/* enum fetch_fill */
	bool urgent;		/* read with INCRFSD_READ_URGENT */
	uint64_t start_ns;	/* CLOCK_MONOTONIC at start */
	void *cbuf;		/* compressed bytes */
	size_t ccap;
};

struct fetch_done {
	uint64_t chunk;
	int tag;
	/*
	 * 0: every block of the chunk is present now.  -EBADMSG: the kernel
	 * refused blocks (hash mismatch), -EUCLEAN: the chunk does not
	 * decode, -ENODEV: the mount is gone, else the read's or FILL's
	 * error.
	 */
	int err;
	struct fill_result fill;
	/*
	 * Not NULL: a FILL stopped early (FETCH_FILL_STOP) before every
	 * block was filled, or none was tried (FETCH_FILL_NONE: @unfilled);
	 * a malloc'ed copy of the decoded chunk, @nr_blocks from data block
	 * @first_block, now the caller's (tails.h).  @err and @fill then say
	 * how far it got.
	 */
	void *tail;
	bool unfilled;
	uint64_t first_block;
	uint32_t nr_blocks;
	uint64_t start_ns;	/* CLOCK_MONOTONIC when its fetch began */
	uint64_t io_ns;		/* from then until its bytes were in */
	uint64_t elapsed_ns;
	bool urgent;		/* a reader waited when the fetch began */
	char why[INCRFS_ERR_MAX];	/* decode error text, if any */
};

struct fetcher {
	struct incrfsd_source src;
	struct incrfs_blob blob;
	int control_fd;
	unsigned int fill_flags;	/* INCRFS_FILL_* of every FILL */
	unsigned int read_flags;	/* INCRFSD_READ_* for every read */
	struct fetch_slot *slots;
	unsigned int nslots, busy;
	void *dbuf;			/* one decoded chunk */
	size_t dcap;
	struct incrfs_fill_block *scratch;
	char err[INCRFS_ERR_MAX];
};

/*
 * Take over the open source @src (closed by fetcher_destroy, also on
 * failure) and parse @meta.  At most @depth chunks are in flight, fewer if
 * their decoded size would pass FETCHER_MEMORY_MAX.
 */
int fetcher_init(struct fetcher *f, struct incrfsd_source *src,
		 const struct blob_meta *meta, unsigned int depth,
		 int control_fd, unsigned int fill_flags,
		 unsigned int read_flags);
void fetcher_destroy(struct fetcher *f);

static inline bool fetcher_has_room(const struct fetcher *f)
{
	return f->busy < f->nslots;
}

/* Is a chunk fetched with tag @tag in flight? */
bool fetcher_in_flight(const struct fetcher *f, int tag);

/* How much of a chunk the fetcher fills (see fetch_done.tail). */
enum fetch_fill {
	FETCH_FILL_ALL,		/* every block, calling again if a FILL
				 * stops early */
	FETCH_FILL_STOP,	/* until a FILL stops early: the rest is a
				 * tail */
	FETCH_FILL_NONE,	/* nothing: the caller picks the blocks */
};

/*
 * Start fetching chunk @chunk; @urgent: a reader waits for it
 * (INCRFSD_READ_URGENT).  -EBUSY when no slot is free.
 */
int fetcher_start(struct fetcher *f, uint64_t chunk, int tag,
		  enum fetch_fill fill, bool urgent);
/* Hold back (@plugged) or send the reads started meanwhile (source.h). */
static inline void fetcher_plug(struct fetcher *f, bool plugged)
{
	if (f->src.ops->plug)
		f->src.ops->plug(&f->src, plugged);
}

/* A reader now waits for @chunk: if it is in flight, hurry its read. */
void fetcher_hurry(struct fetcher *f, uint64_t chunk);
/*
 * Finish up to @max fetched chunks: decode and fill each, report it in
 * @done.  If @wait and some are in flight, block until one is.  Returns
 * how many, or -errno if the source failed as a whole.  Always clears the
 * source's event_fd of what it has reported.
 */
int fetcher_reap(struct fetcher *f, bool wait, struct fetch_done *done,
		 unsigned int max);

#endif /* INCRFSD_FETCHER_H */
