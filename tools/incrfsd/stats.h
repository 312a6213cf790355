/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats.h - where a feeder's time goes, for --stats-file.
 *
 * Why this exists: a lazy start is as fast as its slowest misses, and a
 * miss has stages (the kernel tells the feeder, the blob's bytes come in,
 * they are decoded and filled).  The feeder keeps the time of each stage
 * of each miss it serves, so that a benchmark (and an operator) can see
 * which stage to work on, measured on the machine that ran the start.
 */
#ifndef INCRFSD_STATS_H
#define INCRFSD_STATS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Samples of one stage, in microseconds; the first STAT_SAMPLES_MAX kept. */
#define STAT_SAMPLES_MAX	65536

struct stat_series {
	uint32_t *us;
	size_t n, cap;
	uint64_t count;		/* every sample, also those not kept */
	uint64_t sum_ns;
};

/* Add a sample of @ns nanoseconds (out of memory: only counted). */
void stat_add(struct stat_series *s, uint64_t ns);
void stat_free(struct stat_series *s);
/*
 * { "count", "total_ms", "p50_ms", "p90_ms", "max_ms" } of @s (the
 * percentiles of the kept samples); NULL without memory.
 */
struct json_object *stat_json(struct stat_series *s);

#endif /* INCRFSD_STATS_H */
