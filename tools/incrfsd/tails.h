/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tails.h - decoded chunks the kernel has not finished filling.
 *
 * Why this exists: verifying a chunk's blocks takes the kernel
 * milliseconds where SHA-256 runs in C, and a reader who starts to wait
 * meanwhile should not wait behind them.  A FILL writes the blocks readers
 * wait for first and stops early as soon as another reader waits (the
 * FILL contract, uapi/incrfs.h).  What it did not reach is the chunk's
 * "tail", kept here (the decoded bytes, so nothing is fetched twice) and
 * filled before any other work, but not while a chunk a reader waits for
 * is on its way, unless a reader waits in the tail: those go first.  Of a
 * random access only the blocks its reader waits for are filled at once;
 * the rest of its chunk is a lazy tail, filled only while readers are
 * quiet.
 *
 * The store is bounded: when it is full, the oldest tail nobody waits for
 * is evicted, its chunk missing again (plan_release), to be fetched anew
 * if somebody wants it.  Pure bookkeeping, no I/O: tested on the host.
 */
#ifndef INCRFSD_TAILS_H
#define INCRFSD_TAILS_H

#include <stdbool.h>
#include <stdint.h>

#include "fill.h"

struct tail {
	uint64_t chunk;
	uint64_t first_block;	/* data block of the chunk's first block */
	uint32_t nr;		/* blocks in the chunk */
	int tag;		/* why it was fetched (enum plan_prio) */
	bool urgent;		/* a reader waits for one of its blocks */
	/* the rest of a random access: filled only while readers are quiet */
	bool lazy;
	struct fill_result fill;	/* so far: @fill.done blocks settled */
	uint64_t start_ns;	/* when its fetch began */
	void *data;		/* @nr decoded blocks, owned */
};

struct tails {
	struct tail *v;		/* oldest first */
	unsigned int nr, max;
};

/* At most @max tails (at least 1).  -ENOMEM. */
int tails_init(struct tails *ts, unsigned int max);
/* Frees every tail's data too. */
void tails_free(struct tails *ts);

/*
 * Keep @t (its data is the store's now).  If the store was full, the
 * oldest tail that is not urgent (or, if all are, the oldest) is moved to
 * *@evicted and true returned: the caller finishes or releases it and
 * frees its data.
 */
bool tails_add(struct tails *ts, const struct tail *t, struct tail *evicted);

/* A reader waits in @chunk: its tail, if any, goes first.  True if any. */
bool tails_mark_urgent(struct tails *ts, uint64_t chunk);

/*
 * The tail to fill next: an urgent one, else the oldest that is not lazy,
 * else, if readers are @quiet, the oldest lazy one; -1 for none.
 */
int tails_next(const struct tails *ts, bool quiet);

/* Take tail @i out (the caller now owns its data). */
void tails_remove(struct tails *ts, unsigned int i, struct tail *out);

#endif /* INCRFSD_TAILS_H */
