/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_util.h - what the guest fuzz tests share: a seeded random number
 * generator, the seed and count from the environment, sets of errnos a
 * call may fail with, the kernel's taint flags, and dumping a file into
 * the TAP output so a crasher found in the guest reaches the host.
 *
 * Why this exists: fuzz_image_test, fuzz_regress_test and
 * fuzz_control_test must agree on how a run is reproduced (one seed, one
 * stream per case) and on what counts as a clean failure.  Header-only
 * because each guest test is compiled alone.
 *
 * Environment (the guest's init passes unknown KEY=VALUE words of the
 * kernel command line on to the tests: run-guest.sh --append
 * "INCRFS_FUZZ_SEED=7 INCRFS_FUZZ_COUNT=50000"):
 *   INCRFS_FUZZ_SEED   the seed; unset, every run picks a new one (from
 *                      getrandom()) and prints it: set it to replay
 *   INCRFS_FUZZ_COUNT  how many cases in total (each test documents its
 *                      default and how it splits the count; on a debug
 *                      kernel -- lockdep or kmemleak present, several
 *                      times slower -- the defaults are a fifth)
 */
#ifndef INCRFS_FUZZ_UTIL_H
#define INCRFS_FUZZ_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

/* ---- random numbers: splitmix64, one independent stream per case ---- */

struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 if n is 0. */
static inline uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	return n ? fz_next(r) % n : 0;
}

/* True with probability 1/n. */
static inline int fz_one_in(struct fz_rng *r, uint64_t n)
{
	return fz_below(r, n) == 0;
}

/*
 * The stream of case @index of kind @kind under @seed: a case can be
 * replayed alone, whatever ran before it.
 */
static inline struct fz_rng fz_rng_for(uint64_t seed, uint64_t kind,
				       uint64_t index)
{
	struct fz_rng r = { seed ^ (kind << 56) ^ (index * 0x2545f4914f6cdd1dULL) };

	fz_next(&r);
	return r;
}

/* ---- environment ---- */

static inline uint64_t fz_env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	char *end;
	uint64_t x;

	if (!v || !*v)
		return def;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "%s: ignoring bad value '%s'\n", name, v);
		return def;
	}
	return x;
}

/* A kernel with lockdep or kmemleak: KASAN and friends slow it down. */
static inline int fz_debug_kernel(void)
{
	return access("/proc/lockdep", F_OK) == 0 ||
	       access("/sys/kernel/debug/kmemleak", F_OK) == 0;
}

/* INCRFS_FUZZ_COUNT, else @def (a fifth of it on a debug kernel). */
static inline uint64_t fz_cases(uint64_t def)
{
	return fz_env_u64("INCRFS_FUZZ_COUNT",
			  fz_debug_kernel() ? (def + 4) / 5 : def);
}

/*
 * INCRFS_FUZZ_SEED, or a new seed for every run: a fixed default would
 * test the same cases forever.  The seed is printed (once per process)
 * with the words that replay it.
 */
static inline uint64_t fz_seed(void)
{
	static uint64_t seed;
	static int have;
	const char *v = getenv("INCRFS_FUZZ_SEED");

	if (have)
		return seed;
	if (v && *v) {
		seed = fz_env_u64("INCRFS_FUZZ_SEED", 1);
	} else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ULL +
		       (uint64_t)ts.tv_nsec;
	}
	seed &= (1ULL << 53) - 1;	/* short enough to retype */
	have = 1;
	printf("# fuzz seed %llu (replay: run-guest.sh --append INCRFS_FUZZ_SEED=%llu)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

/* ---- errno sets ---- */

/* A 0-terminated list of errnos; is @e one of them? */
static inline int fz_errno_in(int e, const int *set)
{
	for (; *set; set++)
		if (*set == e)
			return 1;
	return 0;
}

/* ---- kernel taint ---- */

/*
 * The taint flags that mean the kernel itself went wrong: D (it died: an
 * oops or BUG), W (a WARNING), L (a soft lockup).  Loading an out-of-tree,
 * unsigned module sets O and E; those are expected.
 */
#define FZ_TAINT_BAD	((1UL << 7) | (1UL << 9) | (1UL << 14))

static inline unsigned long fz_tainted(void)
{
	unsigned long t = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	if (f) {
		if (fscanf(f, "%lu", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t;
}

/* ---- getting a file out of the guest ---- */

/*
 * Print @path, gzip'd and base64'd, as TAP diagnostics between two marker
 * lines naming it @name.  tests/fuzz/extract-crashers.sh turns such a
 * block of a guest log back into tests/fuzz/regress/@name.
 */
static inline void fz_dump_file(const char *path, const char *name)
{
	char cmd[1024];
	int ret;

	fflush(stdout);
	printf("# @@FUZZ-FILE-BEGIN %s@@\n", name);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd),
		 "gzip -9c '%s' | base64 | sed 's/^/# b64 /'", path);
	ret = system(cmd);
	printf("# @@FUZZ-FILE-END %s@@%s\n", name, ret ? " (incomplete)" : "");
	fflush(stdout);
}

#endif /* INCRFS_FUZZ_UTIL_H */
