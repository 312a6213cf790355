/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clock.h - the one clock incrfsd's stages are timed with.
 *
 * Why this exists: the feeder's stage times (--stats-file), the fetcher's
 * per-read times and the HTTP source's redirect ages must be comparable,
 * and a source must not pull in the fetcher's headers to read a clock.
 */
#ifndef INCRFSD_CLOCK_H
#define INCRFSD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns: never goes back, not set by anybody. */
static inline uint64_t incrfsd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif
