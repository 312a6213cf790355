// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_tails_test.c - the store of unfinished chunks of incrfsd
 * (tools/incrfsd/tails.c): urgent tails first, the oldest otherwise,
 * lazy ones only while readers are quiet,
 * eviction of the oldest tail nobody waits for, and no
 * data lost or freed twice on the way.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test
 * itself.
 */
#include "tests/kselftest/harness.h"

#include "tools/incrfsd/tails.c"

static struct tail mk(uint64_t chunk)
{
	struct tail t = { .chunk = chunk, .nr = 16 };

	t.data = malloc(16);
	return t;
}

TEST(empty_store_offers_nothing)
{
	struct tails ts;

	ASSERT_EQ(0, tails_init(&ts, 4));
	EXPECT_EQ(-1, tails_next(&ts, false));
	EXPECT_FALSE(tails_mark_urgent(&ts, 3));
	tails_free(&ts);
	/* a store of 0 holds one */
	ASSERT_EQ(0, tails_init(&ts, 0));
	EXPECT_EQ(1, ts.max);
	tails_free(&ts);
}

TEST(urgent_first_then_oldest)
{
	struct tails ts;
	struct tail t, out;

	ASSERT_EQ(0, tails_init(&ts, 4));
	t = mk(10);
	ASSERT_FALSE(tails_add(&ts, &t, &out));
	t = mk(11);
	ASSERT_FALSE(tails_add(&ts, &t, &out));
	t = mk(12);
	ASSERT_FALSE(tails_add(&ts, &t, &out));
	/* nobody waits: the oldest */
	EXPECT_EQ(0, tails_next(&ts, false));
	/* a reader waits in chunk 12: it goes first */
	EXPECT_TRUE(tails_mark_urgent(&ts, 12));
	EXPECT_FALSE(tails_mark_urgent(&ts, 99));
	EXPECT_EQ(2, tails_next(&ts, false));
	tails_remove(&ts, 2, &out);
	EXPECT_EQ(12, out.chunk);
	EXPECT_TRUE(out.urgent);
	free(out.data);
	EXPECT_EQ(2, ts.nr);
	EXPECT_EQ(0, tails_next(&ts, false));
	tails_free(&ts);	/* frees 10 and 11 */
}

TEST(lazy_tails_wait_for_quiet_readers)
{
	struct tails ts;
	struct tail t, out;

	ASSERT_EQ(0, tails_init(&ts, 4));
	t = mk(20);
	t.lazy = true;		/* the rest of a random access */
	ASSERT_FALSE(tails_add(&ts, &t, &out));
	EXPECT_EQ(-1, tails_next(&ts, false));
	EXPECT_EQ(0, tails_next(&ts, true));
	/* one that is not lazy goes first, though younger */
	t = mk(21);
	ASSERT_FALSE(tails_add(&ts, &t, &out));
	EXPECT_EQ(1, tails_next(&ts, false));
	EXPECT_EQ(1, tails_next(&ts, true));
	/* a reader waits in the lazy one: it goes first, quiet or not */
	EXPECT_TRUE(tails_mark_urgent(&ts, 20));
	EXPECT_EQ(0, tails_next(&ts, false));
	tails_free(&ts);
}

TEST(full_store_evicts_oldest_nobody_waits_for)
{
	struct tails ts;
	struct tail t, out;
	uint64_t c;

	ASSERT_EQ(0, tails_init(&ts, 3));
	for (c = 0; c < 3; c++) {
		t = mk(c);
		ASSERT_FALSE(tails_add(&ts, &t, &out));
	}
	ASSERT_TRUE(tails_mark_urgent(&ts, 0));
	t = mk(3);
	ASSERT_TRUE(tails_add(&ts, &t, &out));
	EXPECT_EQ(1, out.chunk);	/* 0 is waited for: kept */
	free(out.data);
	EXPECT_EQ(3, ts.nr);
	EXPECT_EQ(0, ts.v[0].chunk);
	EXPECT_EQ(2, ts.v[1].chunk);
	EXPECT_EQ(3, ts.v[2].chunk);

	/* every tail waited for: the oldest goes (the caller fills it) */
	ASSERT_TRUE(tails_mark_urgent(&ts, 2));
	ASSERT_TRUE(tails_mark_urgent(&ts, 3));
	t = mk(4);
	ASSERT_TRUE(tails_add(&ts, &t, &out));
	EXPECT_EQ(0, out.chunk);
	EXPECT_TRUE(out.urgent);
	free(out.data);
	EXPECT_EQ(3, ts.nr);
	EXPECT_EQ(4, ts.v[2].chunk);
	EXPECT_FALSE(ts.v[2].urgent);
	tails_free(&ts);
}

TEST_HARNESS_MAIN
