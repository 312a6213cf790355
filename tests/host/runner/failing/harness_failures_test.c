// SPDX-License-Identifier: GPL-2.0-only
/*
 * harness_failures_test.c - guest program whose tests fail on purpose.
 *
 * Why this exists: the runner self-test checks that a failed ASSERT, a
 * crash and a per-test timeout inside the guest each count as one failure,
 * next to a pass and a skip.  Expected: 1 passed, 3 failed, 1 skipped.
 */
#include "tests/kselftest/harness.h"

TEST(passes)
{
	ASSERT_EQ(4, 2 * 2);
}

TEST(assert_fails)
{
	ASSERT_EQ(1, 2) TH_LOG("deliberate failure");
}

TEST(crashes)
{
	raise(SIGSEGV);
}

TEST_TIMEOUT(times_out, 2)
{
	pause();
}

TEST(skips)
{
	SKIP(return, "deliberate skip");
}

TEST_HARNESS_MAIN
