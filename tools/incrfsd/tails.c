// SPDX-License-Identifier: GPL-2.0-only
/*
 * tails.c - the store of unfinished chunks (see tails.h).
 *
 * Why this exists: the policy of which tail to fill or evict is small and
 * easy to get wrong; kept apart from the event loop, it is tested alone.
 * A store holds a few tails (tens), so arrays and linear scans do.
 */
#include "tails.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tails_init(struct tails *ts, unsigned int max)
{
	memset(ts, 0, sizeof(*ts));
	ts->max = max ? max : 1;
	ts->v = calloc(ts->max, sizeof(*ts->v));
	return ts->v ? 0 : -ENOMEM;
}

void tails_free(struct tails *ts)
{
	unsigned int i;

	for (i = 0; ts->v && i < ts->nr; i++)
		free(ts->v[i].data);
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

void tails_remove(struct tails *ts, unsigned int i, struct tail *out)
{
	*out = ts->v[i];
	memmove(&ts->v[i], &ts->v[i + 1], (ts->nr - i - 1) * sizeof(*ts->v));
	ts->nr--;
}

bool tails_add(struct tails *ts, const struct tail *t, struct tail *evicted)
{
	bool full = ts->nr == ts->max;

	if (full) {
		unsigned int i = 0;

		while (i < ts->nr && ts->v[i].urgent)
			i++;
		tails_remove(ts, i < ts->nr ? i : 0, evicted);
	}
	ts->v[ts->nr++] = *t;
	return full;
}

bool tails_mark_urgent(struct tails *ts, uint64_t chunk)
{
	unsigned int i;

	for (i = 0; i < ts->nr; i++) {
		if (ts->v[i].chunk == chunk) {
			ts->v[i].urgent = true;
			return true;
		}
	}
	return false;
}

int tails_next(const struct tails *ts, bool quiet)
{
	unsigned int i;
	int lazy = -1;

	for (i = 0; i < ts->nr; i++)
		if (ts->v[i].urgent)
			return (int)i;
	for (i = 0; i < ts->nr; i++) {
		if (!ts->v[i].lazy)
			return (int)i;
		if (lazy < 0)
			lazy = (int)i;
	}
	return quiet ? lazy : -1;
}
