// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_plan_test.c - the fetch order of incrfsd (tools/incrfsd/plan.c):
 * waits first, then the chunks after them up to --amplify bytes, then their
 * read-ahead window (only for a wait that continues a stream), then hints,
 * then prefetch;
 * done chunks never again; failed chunks only when a reader waits anew,
 * released ones (an evicted tail) like missing ones;
 * the prefetch threads and the main thread never fetch against each other
 * except when a reader waits, and two prefetch threads never claim one
 * chunk twice.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test
 * itself.
 */
#include <pthread.h>

#include "tests/kselftest/harness.h"

#include "tools/incrfsd/plan.c"

/* Pop the next chunk; -1 if nothing is queued. */
static long long next(struct plan *p, enum plan_prio *prio)
{
	enum plan_prio dummy;
	uint64_t c;

	if (!plan_next(p, &c, prio ? prio : &dummy))
		return -1;
	return (long long)c;
}

TEST(geometry)
{
	struct plan p;

	ASSERT_EQ(-EINVAL, plan_init(&p, 100, 0, 4));
	ASSERT_EQ(0, plan_init(&p, 100, 16, 4));
	ASSERT_EQ(7, p.nr_chunks);
	ASSERT_EQ(16, plan_chunk_nr_blocks(&p, 0));
	ASSERT_EQ(4, plan_chunk_nr_blocks(&p, 6));
	ASSERT_EQ(0, plan_chunk_nr_blocks(&p, 7));
	ASSERT_EQ(6, plan_chunk_of(&p, 99));
	ASSERT_FALSE(plan_complete(&p));
	plan_free(&p);

	ASSERT_EQ(0, plan_init(&p, 64, 16, 4));
	ASSERT_EQ(4, p.nr_chunks);
	ASSERT_EQ(16, plan_chunk_nr_blocks(&p, 3));
	plan_free(&p);

	/* an empty image is complete from the start */
	ASSERT_EQ(0, plan_init(&p, 0, 16, 4));
	ASSERT_EQ(0, p.nr_chunks);
	ASSERT_TRUE(plan_complete(&p));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(miss_then_window_in_order)
{
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 3));
	ASSERT_EQ(0, plan_add_present(&p, 16, 32));	/* the reader came from 1 */
	/* block 35 is in chunk 2: chunk 2, then 3, 4, 5 */
	ASSERT_EQ(4, plan_record(&p, 35, 1, false));
	ASSERT_EQ(4, plan_queued(&p));
	ASSERT_TRUE(plan_main_busy(&p));
	ASSERT_EQ(2, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(3, next(&p, &prio));
	ASSERT_EQ(PRIO_WINDOW, prio);
	ASSERT_EQ(4, next(&p, NULL));
	ASSERT_EQ(5, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

/*
 * --amplify: a wait, even a random one, brings the missing chunks after it
 * up to the byte budget, stopping at a present or in-flight chunk; a
 * chunk queued for less is promoted.  They come before profiles and
 * windows, right after the waits.
 */
TEST(amplify_after_a_wait)
{
	uint32_t clen[10] = { 100, 100, 100, 100, 100, 250, 100, 100, 100, 100 };
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 0));
	ASSERT_EQ(0, plan_set_amplify(&p, 300, clen));
	/* a random wait in chunk 2: 3, 4 (200 bytes), not 5 (250 more) */
	ASSERT_EQ(3, plan_record(&p, 2 * 16 + 3, 1, false));
	ASSERT_EQ(2, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(3, next(&p, &prio));
	ASSERT_EQ(PRIO_AMPLIFY, prio);
	ASSERT_EQ(4, next(&p, &prio));
	ASSERT_EQ(PRIO_AMPLIFY, prio);
	ASSERT_EQ(-1, next(&p, NULL));
	/* chunk 8 done, chunk 7 hinted: a wait in 6 promotes 7, stops at 8 */
	ASSERT_EQ(0, plan_add_present(&p, 8 * 16, 9 * 16));
	ASSERT_EQ(1, plan_record(&p, 7 * 16, 1, true));
	ASSERT_EQ(1, plan_record(&p, 6 * 16, 1, false));
	ASSERT_EQ(6, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(7, next(&p, &prio));
	ASSERT_EQ(PRIO_AMPLIFY, prio);
	ASSERT_EQ(-1, next(&p, NULL));
	/* in flight (chunk 3, popped above): the run stops before it */
	ASSERT_EQ(0, plan_add_present(&p, 0, 16));
	ASSERT_EQ(0, plan_add_present(&p, 16, 32));
	/* chunk 1 is present, 2 in flight: a wait in 1 brings nothing */
	ASSERT_EQ(0, plan_record(&p, 16 + 1, 1, false));
	ASSERT_EQ(-1, next(&p, NULL));
	/* 0 bytes: off */
	ASSERT_EQ(0, plan_set_amplify(&p, 0, clen));
	ASSERT_EQ(1, plan_record(&p, 9 * 16, 1, false));
	ASSERT_EQ(9, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(later_wait_overtakes_earlier_window)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 2));
	ASSERT_EQ(0, plan_add_present(&p, 0, 16));
	ASSERT_EQ(0, plan_add_present(&p, 49 * 16, 50 * 16));
	ASSERT_EQ(3, plan_record(&p, 16, 1, false));	/* 1; window 2, 3 */
	ASSERT_EQ(3, plan_record(&p, 50 * 16, 1, false)); /* 50; 51, 52 */
	ASSERT_EQ(1, next(&p, NULL));
	ASSERT_EQ(50, next(&p, NULL));	/* before chunk 1's window */
	ASSERT_EQ(2, next(&p, NULL));
	ASSERT_EQ(3, next(&p, NULL));
	ASSERT_EQ(51, next(&p, NULL));
	ASSERT_EQ(52, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(window_promoted_to_wait)
{
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 4));
	ASSERT_EQ(0, plan_add_present(&p, 15 * 16, 16 * 16));
	ASSERT_EQ(5, plan_record(&p, 16 * 16, 1, false));	/* 16; 17..20 */
	/* a reader now waits in chunk 20: it moves up, not queued twice;
	 * chunk 19 is queued, so it continues a stream: 21..24 */
	ASSERT_EQ(4, plan_record(&p, 20 * 16 + 3, 1, false));
	ASSERT_EQ(9, plan_queued(&p));
	ASSERT_EQ(16, next(&p, &prio));
	ASSERT_EQ(20, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(17, next(&p, &prio));
	ASSERT_EQ(PRIO_WINDOW, prio);
	ASSERT_EQ(18, next(&p, NULL));
	ASSERT_EQ(19, next(&p, NULL));
	ASSERT_EQ(21, next(&p, NULL));	/* the stale entry of 20 is skipped */
	ASSERT_EQ(22, next(&p, NULL));
	ASSERT_EQ(23, next(&p, NULL));
	ASSERT_EQ(24, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	ASSERT_EQ(0, plan_queued(&p));
	plan_free(&p);
}

TEST(profile_after_waits_before_windows_and_hints)
{
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 1));
	ASSERT_EQ(0, plan_add_present(&p, 69 * 16, 70 * 16));
	ASSERT_EQ(1, plan_record(&p, 90 * 16, 1, true));	/* hint 90 */
	ASSERT_EQ(2, plan_record(&p, 70 * 16, 1, false));	/* 70; 71 */
	/* profile order, not block order; chunk 9 twice, once queued */
	ASSERT_EQ(1, plan_profile(&p, 9 * 16 + 3, 2));
	ASSERT_EQ(2, plan_profile(&p, 2 * 16, 17));		/* 2, 3 */
	ASSERT_EQ(0, plan_profile(&p, 9 * 16, 1));
	ASSERT_EQ(0, plan_profile(&p, 71 * 16, 1));	/* window: promoted */
	ASSERT_EQ(-ERANGE, plan_profile(&p, 100 * 16, 1));
	ASSERT_EQ(-ERANGE, plan_profile(&p, 99 * 16, 17));
	ASSERT_EQ(-ERANGE, plan_profile(&p, 0, 0));
	/* a reader waits in chunk 3 meanwhile: it goes first */
	ASSERT_EQ(1, plan_record(&p, 3 * 16, 1, false)); /* 3 up; 4 new */
	ASSERT_EQ(70, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(3, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(9, next(&p, &prio));
	ASSERT_EQ(PRIO_PROFILE, prio);
	ASSERT_EQ(2, next(&p, &prio));
	ASSERT_EQ(71, next(&p, &prio));
	ASSERT_EQ(PRIO_PROFILE, prio);
	ASSERT_EQ(4, next(&p, &prio));
	ASSERT_EQ(PRIO_WINDOW, prio);
	ASSERT_EQ(90, next(&p, &prio));
	ASSERT_EQ(PRIO_HINT, prio);
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(next_upto_leaves_less_urgent_work_queued)
{
	enum plan_prio prio;
	struct plan p;
	uint64_t c;

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 0));
	ASSERT_EQ(2, plan_profile(&p, 0, 32));
	ASSERT_TRUE(plan_queued_at(&p, PRIO_PROFILE));
	ASSERT_FALSE(plan_next_upto(&p, PRIO_MISS, &c, &prio));
	ASSERT_EQ(1, plan_record(&p, 5 * 16, 1, false));
	ASSERT_TRUE(plan_next_upto(&p, PRIO_MISS, &c, &prio));
	ASSERT_EQ(5, c);
	ASSERT_FALSE(plan_next_upto(&p, PRIO_MISS, &c, &prio));
	ASSERT_EQ(0, next(&p, NULL));
	ASSERT_EQ(1, next(&p, NULL));
	ASSERT_FALSE(plan_queued_at(&p, PRIO_PROFILE));
	plan_free(&p);
}

TEST(window_clipped_and_disabled)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 4));
	ASSERT_EQ(0, plan_add_present(&p, 7 * 16, 8 * 16));
	ASSERT_EQ(2, plan_record(&p, 8 * 16, 1, false));	/* 8, 9 */
	ASSERT_EQ(8, next(&p, NULL));
	ASSERT_EQ(9, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	/* the last chunk: no window at all */
	plan_finish(&p, 8, true);
	plan_finish(&p, 9, true);
	ASSERT_EQ(0, plan_record(&p, 9 * 16 + 15, 1, false));
	plan_free(&p);

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 0));
	ASSERT_EQ(1, plan_record(&p, 3 * 16, 1, false));
	ASSERT_EQ(3, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);

	/* a huge window is clipped, not wrapped */
	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 4096));
	ASSERT_EQ(0, plan_add_present(&p, 0, 16));
	ASSERT_EQ(9, plan_record(&p, 16, 1, false));
	plan_free(&p);
}

TEST(hints_after_windows_and_promoted)
{
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 1));
	ASSERT_EQ(0, plan_add_present(&p, 9 * 16, 10 * 16));
	ASSERT_EQ(0, plan_add_present(&p, 79 * 16, 80 * 16));
	ASSERT_EQ(1, plan_record(&p, 90 * 16, 1, true));	/* hint 90 */
	ASSERT_EQ(1, plan_record(&p, 80 * 16, 1, true));	/* hint 80 */
	ASSERT_EQ(2, plan_record(&p, 10 * 16, 1, false));	/* 10; 11 */
	ASSERT_EQ(10, next(&p, &prio));
	ASSERT_EQ(11, next(&p, &prio));
	ASSERT_EQ(PRIO_WINDOW, prio);
	/* a reader waits for a hinted chunk: it goes first */
	ASSERT_EQ(1, plan_record(&p, 80 * 16 + 1, 1, false));	/* 81 */
	ASSERT_EQ(80, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(81, next(&p, &prio));
	ASSERT_EQ(PRIO_WINDOW, prio);
	ASSERT_EQ(90, next(&p, &prio));
	ASSERT_EQ(PRIO_HINT, prio);
	ASSERT_EQ(-1, next(&p, NULL));
	/* hints never queue a window */
	ASSERT_EQ(1, plan_record(&p, 50 * 16, 1, true));
	ASSERT_EQ(50, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(present_chunks_never_fetched)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 10 * 16 + 5, 16, 2));
	/* chunk 0 whole; chunk 1 only partly; chunk 2 whole in two ranges,
	 * one of them running on into chunk 3; the short last chunk whole */
	ASSERT_EQ(0, plan_add_present(&p, 0, 16));
	ASSERT_EQ(0, plan_add_present(&p, 17, 32));
	ASSERT_EQ(0, plan_add_present(&p, 32, 40));
	ASSERT_EQ(0, plan_add_present(&p, 40, 50));
	ASSERT_EQ(0, plan_add_present(&p, 160, 165));
	ASSERT_EQ(0, plan_add_present(&p, 7, 7));
	ASSERT_EQ(-ERANGE, plan_add_present(&p, 160, 166));
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 0));
	ASSERT_EQ(CHUNK_MISSING, plan_state_of(&p, 1));
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 2));
	ASSERT_EQ(CHUNK_MISSING, plan_state_of(&p, 3));
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 10));
	ASSERT_EQ(3, plan_nr_done(&p));
	/* a wait in chunk 0 (filled meanwhile): nothing is news */
	ASSERT_EQ(0, plan_record(&p, 3, 1, false));
	/* in chunk 2 (filled): no window, chunk 1 before it is missing */
	ASSERT_EQ(0, plan_record(&p, 2 * 16, 1, false));
	/* in chunk 1, after done chunk 0: 1 and its window (2 is done) */
	ASSERT_EQ(2, plan_record(&p, 16, 1, false));
	ASSERT_EQ(1, next(&p, NULL));
	ASSERT_EQ(3, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(in_flight_not_queued_again)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 0));
	ASSERT_EQ(1, plan_record(&p, 5, 1, false));
	ASSERT_EQ(0, next(&p, NULL));
	/* another reader of the same chunk while it is fetched */
	ASSERT_EQ(0, plan_record(&p, 6, 1, false));
	ASSERT_EQ(0, plan_record(&p, 7, 1, true));
	ASSERT_EQ(-1, next(&p, NULL));
	ASSERT_TRUE(plan_main_busy(&p));
	plan_finish(&p, 0, true);
	ASSERT_FALSE(plan_main_busy(&p));
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 0));
	ASSERT_EQ(0, plan_record(&p, 5, 1, false));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(released_chunk_is_missing_again)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 0));
	ASSERT_EQ(1, plan_record(&p, 2 * 16, 1, false));
	ASSERT_EQ(2, next(&p, NULL));
	/* its tail was evicted unfinished */
	plan_release(&p, 2);
	ASSERT_EQ(CHUNK_MISSING, plan_state_of(&p, 2));
	ASSERT_FALSE(plan_main_busy(&p));
	/* a second release, or one after the prefetch thread made it done,
	 * changes nothing */
	plan_release(&p, 2);
	ASSERT_FALSE(plan_main_busy(&p));
	/* missing, not failed: even a hint queues it again */
	ASSERT_EQ(1, plan_record(&p, 2 * 16 + 5, 1, true));
	ASSERT_EQ(2, next(&p, NULL));
	plan_finish(&p, 2, true);
	plan_release(&p, 2);
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 2));
	ASSERT_FALSE(plan_complete(&p));
	plan_free(&p);
}

TEST(failed_retried_only_for_a_waiting_reader)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 1));
	ASSERT_EQ(0, plan_add_present(&p, 3 * 16, 5 * 16));	/* 3, 4 */
	ASSERT_EQ(2, plan_record(&p, 5 * 16, 1, false));	/* 5; 6 */
	ASSERT_EQ(5, next(&p, NULL));
	ASSERT_EQ(6, next(&p, NULL));
	plan_finish(&p, 5, false);
	plan_finish(&p, 6, false);
	ASSERT_EQ(CHUNK_FAILED, plan_state_of(&p, 5));
	ASSERT_FALSE(plan_main_busy(&p));
	/* as a window or a hint: not again */
	ASSERT_EQ(0, plan_record(&p, 5 * 16 + 1, 1, true));
	ASSERT_EQ(0, plan_record(&p, 4 * 16, 1, false));	/* window 5 no */
	ASSERT_EQ(-1, next(&p, NULL));
	/* a reader waits for it anew: tried again; no window after 6, the
	 * chunk before it failed too */
	ASSERT_EQ(1, plan_record(&p, 6 * 16, 1, false));
	ASSERT_EQ(6, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_finish(&p, 6, true);
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 6));
	plan_free(&p);
}

/*
 * A wait no readahead hint announced and that continues no stream is a
 * lone random access (plan_lone): the feeder fills only its waited blocks
 * at once.  A hinted chunk, a stream, or any later claim is not lone.
 */
TEST(lone_random_access)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 2));
	/* unannounced, nothing before it: lone */
	ASSERT_EQ(1, plan_record(&p, 40 * 16 + 3, 1, false));
	EXPECT_TRUE(plan_lone(&p, 40));
	/* the kernel's readahead hinted at 60 first: more reads may come */
	ASSERT_EQ(1, plan_record(&p, 60 * 16, 2, true));
	ASSERT_EQ(0, plan_record(&p, 60 * 16 + 1, 1, false));
	EXPECT_FALSE(plan_lone(&p, 60));
	/* a stream: the chunk before 11 is present */
	ASSERT_EQ(0, plan_add_present(&p, 10 * 16, 11 * 16));
	ASSERT_EQ(3, plan_record(&p, 11 * 16, 1, false));	/* 11; 12, 13 */
	EXPECT_FALSE(plan_lone(&p, 11));
	EXPECT_FALSE(plan_lone(&p, 12));
	/* 40 wanted for a stream's window now: no longer lone */
	ASSERT_EQ(0, plan_add_present(&p, 38 * 16, 39 * 16));
	ASSERT_EQ(2, plan_record(&p, 39 * 16, 1, false));	/* 39; 40 no, 41 */
	EXPECT_FALSE(plan_lone(&p, 40));
	plan_free(&p);
}

TEST(random_access_gets_no_window)
{
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 4));
	/* chunk 0 (nothing before it) and 40 (39 missing): no window */
	ASSERT_EQ(1, plan_record(&p, 5, 1, false));
	ASSERT_EQ(1, plan_record(&p, 40 * 16, 1, false));
	/* 41 follows a chunk on its way: a stream, 42..45 */
	ASSERT_EQ(5, plan_record(&p, 41 * 16, 1, false));
	ASSERT_EQ(0, next(&p, &prio));
	ASSERT_EQ(40, next(&p, &prio));
	ASSERT_EQ(41, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(42, next(&p, &prio));
	ASSERT_EQ(PRIO_WINDOW, prio);
	ASSERT_EQ(43, next(&p, NULL));
	ASSERT_EQ(44, next(&p, NULL));
	ASSERT_EQ(45, next(&p, NULL));
	/* 60 after a failed chunk: the reader never came from there */
	ASSERT_EQ(1, plan_record(&p, 59 * 16, 1, false));
	ASSERT_EQ(59, next(&p, NULL));
	plan_finish(&p, 59, false);
	ASSERT_EQ(1, plan_record(&p, 60 * 16, 1, false));
	ASSERT_EQ(60, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(read_around_hint_is_no_stream)
{
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 100 * 16, 16, 4));
	/* a page fault in chunk 41: the read-around hinted 40..42 */
	ASSERT_EQ(3, plan_record(&p, 40 * 16, 48, true));
	/* the wait in 41 is no stream (40 is only hinted): no window */
	ASSERT_EQ(0, plan_record(&p, 41 * 16 + 5, 1, false));
	ASSERT_EQ(41, next(&p, &prio));
	ASSERT_EQ(PRIO_MISS, prio);
	ASSERT_EQ(40, next(&p, &prio));
	ASSERT_EQ(PRIO_HINT, prio);
	ASSERT_EQ(42, next(&p, &prio));
	ASSERT_EQ(-1, next(&p, NULL));
	/* a wait in 42 follows 41, where a reader waited: a stream */
	ASSERT_EQ(4, plan_record(&p, 42 * 16, 1, false));	/* 43..46 */
	ASSERT_EQ(43, next(&p, &prio));
	ASSERT_EQ(PRIO_WINDOW, prio);
	ASSERT_EQ(44, next(&p, NULL));
	ASSERT_EQ(45, next(&p, NULL));
	ASSERT_EQ(46, next(&p, NULL));
	/* a chunk present after a hint counts, as any present one */
	ASSERT_EQ(1, plan_record(&p, 70 * 16, 1, true));
	ASSERT_EQ(70, next(&p, NULL));
	plan_finish(&p, 70, true);
	ASSERT_EQ(5, plan_record(&p, 71 * 16, 1, false));	/* 71; 72..75 */
	plan_free(&p);
}

TEST(records_spanning_and_out_of_range)
{
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 10 * 16, 16, 0));
	ASSERT_EQ(-ERANGE, plan_record(&p, 160, 1, false));
	ASSERT_EQ(-ERANGE, plan_record(&p, 159, 2, false));
	ASSERT_EQ(-ERANGE, plan_record(&p, 0, 0, false));
	ASSERT_EQ(-ERANGE, plan_record(&p, UINT64_MAX, 1, false));
	ASSERT_EQ(-ERANGE, plan_record(&p, 1, UINT32_MAX, false));
	ASSERT_EQ(-1, next(&p, NULL));
	/* blocks 15..33: chunks 0, 1, 2 */
	ASSERT_EQ(3, plan_record(&p, 15, 19, false));
	ASSERT_EQ(0, next(&p, NULL));
	ASSERT_EQ(1, next(&p, NULL));
	ASSERT_EQ(2, next(&p, NULL));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_free(&p);
}

TEST(prefetch_claims_in_order_and_yields)
{
	uint64_t cursor = 0, c;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 6 * 16, 16, 0));
	ASSERT_EQ(0, plan_add_present(&p, 16, 32));	/* 1 done */
	ASSERT_EQ(1, plan_record(&p, 2 * 16, 1, false));	/* 2 main */
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(0, c);
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(3, c);		/* 1 done, 2 the main thread's */
	ASSERT_EQ(CHUNK_PREFETCH, plan_state_of(&p, 3));
	/* a hint or window does not steal it ... */
	ASSERT_EQ(0, plan_record(&p, 3 * 16, 1, true));
	/* ... a waiting reader does: fetched at normal priority too */
	ASSERT_EQ(1, plan_record(&p, 3 * 16, 1, false));
	ASSERT_EQ(CHUNK_MAIN, plan_state_of(&p, 3));
	ASSERT_EQ(2, next(&p, NULL));
	plan_finish(&p, 2, true);
	/* prefetch finishes 3 first: the main thread's entry is dropped */
	plan_finish_prefetch(&p, 3, true);
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 3));
	ASSERT_FALSE(plan_main_busy(&p));
	ASSERT_EQ(-1, next(&p, NULL));
	plan_finish_prefetch(&p, 0, true);
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(4, c);
	plan_finish_prefetch(&p, 4, false);
	ASSERT_EQ(CHUNK_FAILED, plan_state_of(&p, 4));
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(5, c);
	plan_finish_prefetch(&p, 5, true);
	ASSERT_FALSE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(5, plan_nr_done(&p));
	ASSERT_FALSE(plan_complete(&p));
	/* the failed one comes back when a reader waits for it */
	ASSERT_EQ(1, plan_record(&p, 4 * 16, 1, false));
	ASSERT_EQ(4, next(&p, NULL));
	plan_finish(&p, 4, true);
	ASSERT_TRUE(plan_complete(&p));
	plan_free(&p);
}

TEST(main_failure_does_not_undo_prefetch_success)
{
	uint64_t cursor = 0, c;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 16, 16, 0));
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(1, plan_record(&p, 0, 1, false));
	ASSERT_EQ(0, next(&p, NULL));	/* both on it now */
	plan_finish_prefetch(&p, 0, true);
	plan_finish(&p, 0, false);
	ASSERT_EQ(CHUNK_DONE, plan_state_of(&p, 0));
	ASSERT_TRUE(plan_complete(&p));
	ASSERT_EQ(1, plan_nr_done(&p));
	ASSERT_FALSE(plan_main_busy(&p));
	plan_free(&p);
}

TEST(abandoned_prefetch_chunks_are_missing_again)
{
	uint64_t cursor = 0, c;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, 3 * 16, 16, 0));
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(0, c);
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(1, c);
	/* a reader waits in 1: the main thread takes it over */
	ASSERT_EQ(1, plan_record(&p, 16, 1, false));
	/* the thread stops with both in flight */
	plan_abandon_prefetch(&p, 0);
	plan_abandon_prefetch(&p, 1);
	ASSERT_EQ(CHUNK_MISSING, plan_state_of(&p, 0));
	ASSERT_EQ(CHUNK_MAIN, plan_state_of(&p, 1));
	/* 0 can be queued for a hint again; a new cursor passes over 0 and
	 * 1 (both the main thread's now) and claims 2 */
	ASSERT_EQ(1, plan_record(&p, 0, 1, true));
	ASSERT_EQ(CHUNK_MAIN, plan_state_of(&p, 0));
	cursor = 0;
	ASSERT_TRUE(plan_claim_prefetch(&p, &cursor, &c));
	ASSERT_EQ(2, c);
	plan_free(&p);
}

/* A prefetch thread: claim with its own cursor until the end, count. */
struct claimer {
	struct plan *p;
	unsigned char *claims;	/* per chunk: how many threads claimed it */
	uint64_t n;
};

static void *claim_all(void *arg)
{
	struct claimer *cl = arg;
	uint64_t cursor = 0, c;

	while (plan_claim_prefetch(cl->p, &cursor, &c)) {
		__atomic_fetch_add(&cl->claims[c], 1, __ATOMIC_RELAXED);
		cl->n++;
		plan_finish_prefetch(cl->p, c, true);
	}
	return NULL;
}

TEST(two_prefetch_threads_claim_each_chunk_once)
{
	const uint64_t n = 50000;
	struct claimer cl[2];
	pthread_t t[2];
	struct plan p;
	uint64_t i;
	int k;

	ASSERT_EQ(0, plan_init(&p, n * 4, 4, 0));
	ASSERT_EQ(1, plan_record(&p, 7 * 4, 1, false));	/* the main thread's */
	ASSERT_EQ(7, next(&p, NULL));
	cl[0].claims = calloc(n, 1);
	ASSERT_NOT_NULL(cl[0].claims);
	for (k = 0; k < 2; k++) {
		cl[k].p = &p;
		cl[k].claims = cl[0].claims;
		cl[k].n = 0;
		ASSERT_EQ(0, pthread_create(&t[k], NULL, claim_all, &cl[k]));
	}
	for (k = 0; k < 2; k++)
		ASSERT_EQ(0, pthread_join(t[k], NULL));
	for (i = 0; i < n; i++)
		ASSERT_EQ(i == 7 ? 0 : 1, cl[0].claims[i]) TH_LOG("chunk %llu",
			(unsigned long long)i);
	ASSERT_EQ(n - 1, cl[0].n + cl[1].n);
	ASSERT_FALSE(plan_complete(&p));
	plan_finish(&p, 7, true);
	ASSERT_TRUE(plan_complete(&p));
	free(cl[0].claims);
	plan_free(&p);
}

TEST(many_chunks_queue_growth)
{
	const uint64_t n = 20000;
	uint64_t i, want = 0;
	enum plan_prio prio;
	struct plan p;

	ASSERT_EQ(0, plan_init(&p, n * 4, 4, 0));
	/* hints for the odd chunks, waits for the even ones, interleaved;
	 * popping now and then makes the queues compact, not just grow */
	for (i = 0; i < n; i += 2) {
		ASSERT_EQ(1, plan_record(&p, (i + 1) * 4, 1, true));
		ASSERT_EQ(1, plan_record(&p, i * 4 + 3, 1, false));
		if (i % 6 == 0) {
			ASSERT_EQ((long long)want, next(&p, &prio));
			ASSERT_EQ(PRIO_MISS, prio);
			plan_finish(&p, want, true);
			want += 2;
		}
	}
	for (; want < n; want += 2) {
		ASSERT_EQ((long long)want, next(&p, &prio));
		ASSERT_EQ(PRIO_MISS, prio);
		plan_finish(&p, want, true);
	}
	for (i = 1; i < n; i += 2) {
		ASSERT_EQ((long long)i, next(&p, &prio));
		ASSERT_EQ(PRIO_HINT, prio);
		plan_finish(&p, i, true);
	}
	ASSERT_EQ(-1, next(&p, NULL));
	ASSERT_EQ(0, plan_queued(&p));
	ASSERT_TRUE(plan_complete(&p));
	plan_free(&p);
}

TEST_HARNESS_MAIN
