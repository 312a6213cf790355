/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * plan.h - which blob chunks incrfsd fetches next, and in what order.
 *
 * Why this exists: the order in which chunks are fetched decides how long
 * readers wait.  Keeping that policy apart from the I/O makes it small,
 * deterministic and testable on the host.  The policy:
 *
 *   1. chunks somebody waits for (a pending-read record), oldest first;
 *   1a. with --amplify, the chunks that follow a waited one in the blob,
 *      up to that many compressed bytes: fetched with it, in the same
 *      request, where a request costs a round trip whatever its size;
 *   2. with --prefetch-profile, the chunks of the profile, in its order;
 *   3. the read-ahead window: the @readahead chunks after such a chunk,
 *      when the wait continues a stream (the chunk before it is present
 *      or on its way), not after a random access;
 *   4. chunks the kernel's readahead hinted at (nobody waits yet);
 *   5. with --prefetch all, every other chunk in order, by a separate
 *      low-priority thread, only while 1-4 are empty.
 *
 * A chunk is "done" once all its blocks are present in the mount; done
 * chunks are never fetched again.  A chunk whose fetch or fill failed is
 * only tried again when a reader waits for it anew.
 *
 * Threads: the main thread owns the queues; the prefetch threads only
 * claim chunks with plan_claim_prefetch() and report them with
 * plan_finish_prefetch().  Chunk states are atomic so the threads never
 * lock each other out.  If a reader waits for a chunk a prefetch thread is
 * working on, the main thread fetches it too (at normal priority) rather
 * than wait for an idle-priority thread; the second fill is a no-op.
 */
#ifndef INCRFSD_PLAN_H
#define INCRFSD_PLAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum plan_state {
	CHUNK_MISSING = 0,	/* nobody is on it */
	CHUNK_MAIN,		/* queued or in flight in the main thread */
	CHUNK_PREFETCH,		/* a prefetch thread is on it */
	CHUNK_DONE,		/* every block present */
	CHUNK_FAILED,		/* the last fetch or fill failed */
};

enum plan_prio {
	PRIO_MISS = 0,		/* a reader waits */
	PRIO_AMPLIFY,		/* follows a waited chunk in the blob */
	PRIO_PROFILE,		/* --prefetch-profile */
	PRIO_WINDOW,		/* read-ahead window of a miss */
	PRIO_HINT,		/* kernel readahead hint */
	PRIO_NR,
	PRIO_NONE = PRIO_NR,	/* not queued */
};

/* Blocks of one chunk, as offsets [lo, hi) in it; empty when lo == hi. */
struct plan_span {
	uint32_t lo, hi;
};

/* A FIFO of chunk numbers that grows as needed. */
struct chunk_queue {
	uint64_t *v;
	size_t head, tail, cap;
};

struct plan {
	uint64_t nr_blocks;		/* data blocks in the image */
	uint32_t chunk_blocks;		/* blocks per chunk */
	uint64_t nr_chunks;
	unsigned int readahead;		/* window, in chunks */
	uint64_t amplify;		/* bytes fetched along with a miss */
	uint32_t *clen;			/* compressed bytes per chunk */
	_Atomic uint8_t *state;		/* enum plan_state, per chunk */
	uint8_t *prio;			/* main thread: queue it is in */
	/* main thread: queued (or fetched) for a readahead hint alone */
	bool *hinted;
	/* main thread: queued for a wait no hint announced and that
	 * continues no stream */
	bool *lone;
	/* main thread: the blocks readers waited for since it was queued */
	struct plan_span *waited;
	struct chunk_queue q[PRIO_NR];
	atomic_uint_fast64_t nr_done;	/* chunks in CHUNK_DONE */
	atomic_uint_fast64_t nr_main;	/* chunks in CHUNK_MAIN */
	size_t nr_queued;		/* main thread: live queue entries */
	uint32_t *present;		/* plan_add_present() counts */
};

/* Chunk of data block @block (caller checks @block < nr_blocks). */
static inline uint64_t plan_chunk_of(const struct plan *p, uint64_t block)
{
	return block / p->chunk_blocks;
}

/* Blocks in chunk @c (the last one may be short). */
uint32_t plan_chunk_nr_blocks(const struct plan *p, uint64_t c);

/*
 * Every chunk starts missing.  -EINVAL on chunk_blocks 0, -ENOMEM.
 */
int plan_init(struct plan *p, uint64_t nr_blocks, uint32_t chunk_blocks,
	      unsigned int readahead);
void plan_free(struct plan *p);

/*
 * With a wait, also queue the missing chunks that follow the waited ones
 * in the blob, as long as their compressed sizes (@clen, one per chunk,
 * copied) add up to at most @bytes; stopping at the first chunk that is
 * present, in flight or does not fit.  0 or -ENOMEM.
 */
int plan_set_amplify(struct plan *p, uint64_t bytes, const uint32_t *clen);

/*
 * Start-up: data blocks [@begin, @end) are present (a GET_FILLED range;
 * ranges must not overlap).  A chunk whose blocks are all present
 * becomes done.  -ERANGE if the range goes beyond the image.
 */
int plan_add_present(struct plan *p, uint64_t begin, uint64_t end);

/*
 * A pending-read record: data blocks [@block, @block + @count).  A real
 * wait (@hint false) queues their chunks first in line and, if the chunk
 * before them is present or on its way, the read-ahead window behind
 * them (and, with plan_set_amplify(), the chunks that follow them in the
 * blob); a hint queues the chunks after every window.
 * Returns the number of chunks newly queued, or -ERANGE (the record is
 * beyond the image: ignored).
 */
int plan_record(struct plan *p, uint64_t block, uint32_t count, bool hint);

/*
 * An access profile's range: data blocks [@block, @block + @count),
 * queued behind waits and earlier profile ranges, ahead of windows and
 * hints.  Returns the number of chunks newly queued, or -ERANGE.
 */
int plan_profile(struct plan *p, uint64_t block, uint64_t count);

/*
 * Main thread: the next chunk to fetch (it stays CHUNK_MAIN until
 * plan_finish()).  false when nothing is queued.
 */
bool plan_next(struct plan *p, uint64_t *chunk, enum plan_prio *prio);
/* The same, only from queues of priority @max or more urgent. */
bool plan_next_upto(struct plan *p, enum plan_prio max, uint64_t *chunk,
		    enum plan_prio *prio);
/* Are chunks (maybe stale entries) queued at @prio? */
static inline bool plan_queued_at(const struct plan *p, enum plan_prio prio)
{
	return p->q[prio].head != p->q[prio].tail;
}
/*
 * Main thread: was @chunk queued for a random access: a wait that the
 * kernel's readahead did not hint at before (a reader that reads ahead
 * hints the blocks around the one it waits for; one that does not, a
 * file opened with POSIX_FADV_RANDOM, hints nothing) and that continues
 * no stream, and wanted for nothing else since?  Its other blocks are as
 * likely unused as not: they can wait until readers are quiet.
 */
static inline bool plan_lone(const struct plan *p, uint64_t chunk)
{
	return p->lone[chunk];
}

/*
 * Main thread: the blocks of @chunk that readers have waited for (their
 * records' span) since the chunk was queued.  For a random access, the
 * blocks to fill at once (plan_lone()).
 */
static inline struct plan_span plan_waited(const struct plan *p,
					   uint64_t chunk)
{
	return p->waited[chunk];
}

/* Main thread: the fetch of @chunk ended. */
void plan_finish(struct plan *p, uint64_t chunk, bool ok);
/*
 * Main thread: @chunk was fetched but is given up unfinished (its tail was
 * evicted, see tails.h): it is missing again, fetched anew by whatever
 * queues it next, a wait or a window.
 */
void plan_release(struct plan *p, uint64_t chunk);

/*
 * Prefetch threads: claim the first missing chunk at or after *cursor,
 * advancing *cursor past it.  false at the end of the image.  Each thread
 * has its own cursor; a chunk another one claimed first is passed over.
 */
bool plan_claim_prefetch(struct plan *p, uint64_t *cursor, uint64_t *chunk);
void plan_finish_prefetch(struct plan *p, uint64_t chunk, bool ok);
/* Prefetch threads: a claimed chunk left unfinished is missing again. */
void plan_abandon_prefetch(struct plan *p, uint64_t chunk);

/* Chunks queued in the main thread (any priority, still to fetch). */
size_t plan_queued(const struct plan *p);
/* Every chunk done: the image is complete. */
bool plan_complete(const struct plan *p);
/* Any chunk queued or in flight in the main thread (prefetch yields). */
bool plan_main_busy(const struct plan *p);
uint64_t plan_nr_done(const struct plan *p);
enum plan_state plan_state_of(const struct plan *p, uint64_t chunk);

#endif /* INCRFSD_PLAN_H */
