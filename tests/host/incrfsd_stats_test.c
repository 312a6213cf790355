// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_stats_test.c - the stage samples of incrfsd --stats-file
 * (tools/incrfsd/stats.c): counts, totals, nearest-rank percentiles and
 * the maximum, the cap on kept samples, and an empty series.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test
 * itself.
 */
#include "tests/kselftest/harness.h"

#include "tests/kselftest/json_number.h"
#include "tools/incrfsd/stats.c"

static double member(struct json_object *o, const char *key)
{
	return jn_number(o, NULL, key, -1);
}

TEST(percentiles_of_a_hundred_samples)
{
	struct stat_series s = { 0 };
	struct json_object *o;
	int i;

	/* 100 ms .. 1 ms, in reverse: the summary sorts */
	for (i = 100; i >= 1; i--)
		stat_add(&s, (uint64_t)i * 1000000);
	o = stat_json(&s);
	ASSERT_NOT_NULL(o);
	EXPECT_TRUE(100 == member(o, "count"));
	EXPECT_TRUE(5050 == member(o, "total_ms"));
	EXPECT_TRUE(50 == member(o, "p50_ms"));
	EXPECT_TRUE(90 == member(o, "p90_ms"));
	EXPECT_TRUE(100 == member(o, "max_ms"));
	json_object_put(o);
	stat_free(&s);
}

TEST(empty_series_is_zero)
{
	struct stat_series s = { 0 };
	struct json_object *o = stat_json(&s);

	ASSERT_NOT_NULL(o);
	EXPECT_TRUE(0 == member(o, "count"));
	EXPECT_TRUE(0 == member(o, "p50_ms"));
	EXPECT_TRUE(0 == member(o, "max_ms"));
	json_object_put(o);
}

TEST(samples_beyond_the_cap_are_counted_not_kept)
{
	struct stat_series s = { 0 };
	struct json_object *o;
	size_t i;

	for (i = 0; i < STAT_SAMPLES_MAX + 10; i++)
		stat_add(&s, 2000);	/* 2 us */
	EXPECT_EQ(STAT_SAMPLES_MAX, s.n);
	EXPECT_EQ(STAT_SAMPLES_MAX + 10, s.count);
	o = stat_json(&s);
	ASSERT_NOT_NULL(o);
	EXPECT_TRUE(STAT_SAMPLES_MAX + 10 == member(o, "count"));
	EXPECT_TRUE(0.002 == member(o, "p50_ms"));
	json_object_put(o);
	stat_free(&s);
}

TEST_HARNESS_MAIN
