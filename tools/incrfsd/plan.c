// SPDX-License-Identifier: GPL-2.0-only
/*
 * plan.c - chunk states and the fetch order of incrfsd (see plan.h).
 *
 * Why this exists: the scheduling policy of the feeder, without any I/O,
 * so the host tests can drive it record by record.
 */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int queue_push(struct chunk_queue *q, uint64_t c)
{
	if (q->tail == q->cap) {
		if (q->head) {
			memmove(q->v, q->v + q->head,
				(q->tail - q->head) * sizeof(*q->v));
			q->tail -= q->head;
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 64;
			uint64_t *v = realloc(q->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			q->v = v;
			q->cap = cap;
		}
	}
	q->v[q->tail++] = c;
	return 0;
}

static bool queue_pop(struct chunk_queue *q, uint64_t *c)
{
	if (q->head == q->tail)
		return false;
	*c = q->v[q->head++];
	if (q->head == q->tail)
		q->head = q->tail = 0;
	return true;
}

uint32_t plan_chunk_nr_blocks(const struct plan *p, uint64_t c)
{
	uint64_t first = c * p->chunk_blocks;

	if (c >= p->nr_chunks)
		return 0;
	if (p->nr_blocks - first < p->chunk_blocks)
		return (uint32_t)(p->nr_blocks - first);
	return p->chunk_blocks;
}

int plan_init(struct plan *p, uint64_t nr_blocks, uint32_t chunk_blocks,
	      unsigned int readahead)
{
	uint64_t i;

	memset(p, 0, sizeof(*p));
	if (!chunk_blocks)
		return -EINVAL;
	p->nr_blocks = nr_blocks;
	p->chunk_blocks = chunk_blocks;
	p->nr_chunks = nr_blocks / chunk_blocks + !!(nr_blocks % chunk_blocks);
	p->readahead = readahead;
	if (p->nr_chunks > SIZE_MAX / sizeof(uint32_t))
		return -ENOMEM;
	p->state = calloc(p->nr_chunks ? p->nr_chunks : 1, sizeof(*p->state));
	p->prio = malloc(p->nr_chunks ? p->nr_chunks : 1);
	p->hinted = calloc(p->nr_chunks ? p->nr_chunks : 1,
			   sizeof(*p->hinted));
	p->lone = calloc(p->nr_chunks ? p->nr_chunks : 1, sizeof(*p->lone));
	p->waited = calloc(p->nr_chunks ? p->nr_chunks : 1,
			   sizeof(*p->waited));
	if (!p->state || !p->prio || !p->hinted || !p->lone || !p->waited) {
		plan_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < p->nr_chunks; i++) {
		atomic_init(&p->state[i], CHUNK_MISSING);
		p->prio[i] = PRIO_NONE;
	}
	atomic_init(&p->nr_done, 0);
	atomic_init(&p->nr_main, 0);
	return 0;
}

void plan_free(struct plan *p)
{
	int i;

	free((void *)p->state);
	free(p->prio);
	free(p->hinted);
	free(p->lone);
	free(p->waited);
	free(p->present);
	free(p->clen);
	for (i = 0; i < PRIO_NR; i++)
		free(p->q[i].v);
	memset(p, 0, sizeof(*p));
}

/* Whoever moves a chunk to done counts it, once. */
static void set_done(struct plan *p, uint64_t c)
{
	uint8_t old = atomic_exchange(&p->state[c], CHUNK_DONE);

	if (old == CHUNK_DONE)
		return;
	atomic_fetch_add(&p->nr_done, 1);
	if (old == CHUNK_MAIN)
		atomic_fetch_sub(&p->nr_main, 1);
}

int plan_add_present(struct plan *p, uint64_t begin, uint64_t end)
{
	uint64_t c;

	if (begin > end || end > p->nr_blocks)
		return -ERANGE;
	if (begin == end)
		return 0;
	if (!p->present) {
		p->present = calloc(p->nr_chunks, sizeof(*p->present));
		if (!p->present)
			return -ENOMEM;
	}
	for (c = plan_chunk_of(p, begin); c <= plan_chunk_of(p, end - 1); c++) {
		uint64_t cb = c * p->chunk_blocks;
		uint64_t ce = cb + plan_chunk_nr_blocks(p, c);
		uint64_t b = begin > cb ? begin : cb;
		uint64_t e = end < ce ? end : ce;

		p->present[c] += (uint32_t)(e - b);
		if (p->present[c] >= plan_chunk_nr_blocks(p, c))
			set_done(p, c);
	}
	return 0;
}

/*
 * Queue chunk @c at @prio in the main thread if that is news.  Returns 1
 * if it was newly queued, 0 if it was done, in flight, already queued (at
 * most promoted) or not worth queueing at this priority, -ENOMEM.
 */
static int claim(struct plan *p, uint64_t c, enum plan_prio prio)
{
	uint8_t s = atomic_load(&p->state[c]);

	if (prio != PRIO_HINT)
		p->hinted[c] = false;	/* wanted for more than a hint now */
	p->lone[c] = false;		/* plan_record() says if it is */
	for (;;) {
		switch (s) {
		case CHUNK_DONE:
			return 0;
		case CHUNK_MAIN:
			if (p->prio[c] == PRIO_NONE || p->prio[c] <= prio)
				return 0;	/* in flight, or queued as high */
			if (queue_push(&p->q[prio], c))
				return -ENOMEM;
			p->prio[c] = prio;	/* the old entry goes stale */
			return 0;
		case CHUNK_FAILED:
		case CHUNK_PREFETCH:
			/* only a waiting reader retries or overtakes */
			if (prio != PRIO_MISS)
				return 0;
			break;
		case CHUNK_MISSING:
			break;
		}
		if (atomic_compare_exchange_weak(&p->state[c], &s, CHUNK_MAIN))
			break;
	}
	atomic_fetch_add(&p->nr_main, 1);
	p->waited[c] = (struct plan_span){ 0, 0 };
	if (queue_push(&p->q[prio], c)) {
		/* give it back: a later record may try again */
		atomic_store(&p->state[c], s);
		atomic_fetch_sub(&p->nr_main, 1);
		return -ENOMEM;
	}
	p->prio[c] = prio;
	p->hinted[c] = prio == PRIO_HINT;
	p->nr_queued++;
	return 1;
}

/*
 * Does a wait in chunk @c continue a stream of reads?  Yes when the chunk
 * before it is present or on its way: the reader came from there (or the
 * blob is read in its packing order, a tree walk).  A wait anywhere else
 * is a random access, a page fault in a mapped library, and the chunks
 * after it are as likely unused as not.  A chunk before it that is on its
 * way for a readahead hint alone does not count: a page fault's
 * read-around hints the pages on both sides of the faulting one, so every
 * fault would look like a stream.
 */
static bool continues_stream(const struct plan *p, uint64_t c)
{
	uint8_t s;

	if (!c)
		return false;
	s = atomic_load(&p->state[c - 1]);
	if (s == CHUNK_MAIN)
		return !p->hinted[c - 1];
	return s == CHUNK_DONE || s == CHUNK_PREFETCH;
}

/* Readers wait for data blocks [@block, @block + @count), some in @c. */
static void widen_waited(struct plan *p, uint64_t c, uint64_t block,
			 uint32_t count)
{
	uint64_t base = c * p->chunk_blocks;
	uint32_t lo = block > base ? (uint32_t)(block - base) : 0;
	uint32_t hi = plan_chunk_nr_blocks(p, c);
	struct plan_span *w = &p->waited[c];

	if (block + count - base < hi)
		hi = (uint32_t)(block + count - base);
	if (w->lo == w->hi) {
		*w = (struct plan_span){ lo, hi };
		return;
	}
	if (lo < w->lo)
		w->lo = lo;
	if (hi > w->hi)
		w->hi = hi;
}

int plan_set_amplify(struct plan *p, uint64_t bytes, const uint32_t *clen)
{
	free(p->clen);
	p->clen = NULL;
	p->amplify = 0;
	if (!bytes || !p->nr_chunks)
		return 0;
	p->clen = malloc(p->nr_chunks * sizeof(*p->clen));
	if (!p->clen)
		return -ENOMEM;
	memcpy(p->clen, clen, p->nr_chunks * sizeof(*p->clen));
	p->amplify = bytes;
	return 0;
}

/*
 * The missing chunks after @last, up to p->amplify compressed bytes, to
 * go in the same request as the wait in @last.  A chunk queued at a lower
 * priority is promoted; one present or in flight ends the run, since the
 * request could not continue past it.
 */
static int amplify(struct plan *p, uint64_t last)
{
	uint64_t budget = p->amplify, c;
	int n = 0, ret;
	uint8_t s;

	for (c = last + 1; c < p->nr_chunks && p->clen[c] <= budget; c++) {
		s = atomic_load(&p->state[c]);
		if (s != CHUNK_MISSING &&
		    !(s == CHUNK_MAIN && p->prio[c] != PRIO_NONE))
			break;
		ret = claim(p, c, PRIO_AMPLIFY);
		if (ret < 0)
			return ret;
		n += ret;
		budget -= p->clen[c];
	}
	return n;
}

int plan_record(struct plan *p, uint64_t block, uint32_t count, bool hint)
{
	uint64_t first, last, c, end;
	int n = 0, ret;
	bool stream, announced;

	if (!count || block >= p->nr_blocks || count > p->nr_blocks - block)
		return -ERANGE;
	first = plan_chunk_of(p, block);
	last = plan_chunk_of(p, block + count - 1);
	/* (looks at chunk first - 1, which the claims below leave alone) */
	stream = !hint && continues_stream(p, first);
	for (c = first; c <= last; c++) {
		/* the kernel's readahead hinted at it: more reads may come */
		announced = p->hinted[c];
		ret = claim(p, c, hint ? PRIO_HINT : PRIO_MISS);
		if (ret < 0)
			return ret;
		n += ret;
		p->lone[c] = !hint && !announced && !stream;
		if (!hint)
			widen_waited(p, c, block, count);
	}
	if (!hint && p->amplify) {
		ret = amplify(p, last);
		if (ret < 0)
			return ret;
		n += ret;
	}
	if (!stream)
		return n;
	end = p->readahead < p->nr_chunks - 1 - last ?
		last + p->readahead : p->nr_chunks - 1;
	for (c = last + 1; c <= end; c++) {
		ret = claim(p, c, PRIO_WINDOW);
		if (ret < 0)
			return ret;
		n += ret;
	}
	return n;
}

int plan_profile(struct plan *p, uint64_t block, uint64_t count)
{
	uint64_t c;
	int n = 0, ret;

	if (!count || block >= p->nr_blocks || count > p->nr_blocks - block)
		return -ERANGE;
	for (c = plan_chunk_of(p, block);
	     c <= plan_chunk_of(p, block + count - 1); c++) {
		ret = claim(p, c, PRIO_PROFILE);
		if (ret < 0)
			return ret;
		n += ret;
	}
	return n;
}

bool plan_next(struct plan *p, uint64_t *chunk, enum plan_prio *prio)
{
	return plan_next_upto(p, PRIO_NR - 1, chunk, prio);
}

bool plan_next_upto(struct plan *p, enum plan_prio max, uint64_t *chunk,
		    enum plan_prio *prio)
{
	int level;
	uint64_t c;

	for (level = 0; level <= (int)max; level++) {
		while (queue_pop(&p->q[level], &c)) {
			if (p->prio[c] != level)
				continue;	/* promoted: a stale entry */
			p->prio[c] = PRIO_NONE;
			p->nr_queued--;
			if (atomic_load(&p->state[c]) != CHUNK_MAIN)
				continue;	/* a prefetch thread did it */
			*chunk = c;
			*prio = level;
			return true;
		}
	}
	return false;
}

void plan_finish(struct plan *p, uint64_t chunk, bool ok)
{
	uint8_t s = CHUNK_MAIN;

	if (ok) {
		set_done(p, chunk);
		return;
	}
	/* if the prefetch thread made it done meanwhile, keep that */
	if (atomic_compare_exchange_strong(&p->state[chunk], &s, CHUNK_FAILED))
		atomic_fetch_sub(&p->nr_main, 1);
}

void plan_release(struct plan *p, uint64_t chunk)
{
	uint8_t s = CHUNK_MAIN;

	if (atomic_compare_exchange_strong(&p->state[chunk], &s,
					   CHUNK_MISSING))
		atomic_fetch_sub(&p->nr_main, 1);
}

bool plan_claim_prefetch(struct plan *p, uint64_t *cursor, uint64_t *chunk)
{
	while (*cursor < p->nr_chunks) {
		uint64_t c = (*cursor)++;
		uint8_t s = CHUNK_MISSING;

		if (atomic_compare_exchange_strong(&p->state[c], &s,
						   CHUNK_PREFETCH)) {
			*chunk = c;
			return true;
		}
	}
	return false;
}

void plan_finish_prefetch(struct plan *p, uint64_t chunk, bool ok)
{
	uint8_t s = CHUNK_PREFETCH;

	if (ok)
		set_done(p, chunk);
	else
		atomic_compare_exchange_strong(&p->state[chunk], &s,
					       CHUNK_FAILED);
}

void plan_abandon_prefetch(struct plan *p, uint64_t chunk)
{
	uint8_t s = CHUNK_PREFETCH;

	/* (unless the main thread took it over meanwhile) */
	atomic_compare_exchange_strong(&p->state[chunk], &s, CHUNK_MISSING);
}

size_t plan_queued(const struct plan *p)
{
	return p->nr_queued;
}

bool plan_complete(const struct plan *p)
{
	return atomic_load(&p->nr_done) == p->nr_chunks;
}

bool plan_main_busy(const struct plan *p)
{
	return atomic_load(&p->nr_main) != 0;
}

uint64_t plan_nr_done(const struct plan *p)
{
	return atomic_load(&p->nr_done);
}

enum plan_state plan_state_of(const struct plan *p, uint64_t chunk)
{
	return (enum plan_state)atomic_load(&p->state[chunk]);
}
