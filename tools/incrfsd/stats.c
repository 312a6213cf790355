// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats.c - samples of a feeder's stages and their summary in JSON.
 */
#include "stats.h"

#include <stdlib.h>

#include "json_add.h"

void stat_add(struct stat_series *s, uint64_t ns)
{
	uint64_t us = ns / 1000;

	s->count++;
	s->sum_ns += ns;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint32_t *p;

		if (cap > STAT_SAMPLES_MAX)
			return;
		p = realloc(s->us, cap * sizeof(*p));
		if (!p)
			return;
		s->us = p;
		s->cap = cap;
	}
	s->us[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void stat_free(struct stat_series *s)
{
	free(s->us);
	s->us = NULL;
	s->n = s->cap = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The @pct percentile (nearest rank) of the sorted kept samples, in ms. */
static double pct_ms(const struct stat_series *s, unsigned int pct)
{
	size_t rank;

	if (!s->n)
		return 0;
	rank = (s->n * pct + 99) / 100;
	return s->us[rank ? rank - 1 : 0] / 1000.0;
}

static int add_ms(struct json_object *o, const char *key, double ms)
{
	return incrfs_json_add(o, key, json_object_new_double(ms));
}

struct json_object *stat_json(struct stat_series *s)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (s->n)
		qsort(s->us, s->n, sizeof(*s->us), cmp_u32);
	if (incrfs_json_add_u64(o, "count", s->count) ||
	    add_ms(o, "total_ms", s->sum_ns / 1e6) ||
	    add_ms(o, "p50_ms", pct_ms(s, 50)) ||
	    add_ms(o, "p90_ms", pct_ms(s, 90)) ||
	    add_ms(o, "max_ms", s->n ? s->us[s->n - 1] / 1000.0 : 0)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
