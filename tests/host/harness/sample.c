// SPDX-License-Identifier: GPL-2.0-only
/*
 * sample.c - a test file that exercises every outcome of harness.h.
 *
 * Why this exists: harness_selftest_test.sh compiles and runs it and
 * compares its TAP output line by line with what the harness must print:
 * passes, failed ASSERT/EXPECT, a crash, a timeout, a heartbeat while a
 * slow test runs, skips, fixtures whose setup fails or skips, and
 * signedness-correct comparisons.  Several tests here fail on purpose.
 */
#include "tests/kselftest/harness.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST(passes)
{
	int x = 2;
	const char *s = "abc";

	ASSERT_EQ(x, 1 + 1);
	ASSERT_NE(x, 3);
	ASSERT_LT(1, x);
	ASSERT_LE(2, x);
	ASSERT_GT(x, 1);
	ASSERT_GE(x, 2);
	ASSERT_TRUE(x == 2);
	ASSERT_FALSE(x == 3);
	ASSERT_NULL(NULL);
	ASSERT_NOT_NULL(s);
	ASSERT_STREQ("abc", s);
	ASSERT_STRNE("abd", s);
	EXPECT_EQ(x, 2);
}

/* A check is one statement: unbraced bodies work; operands run once. */
TEST(single_statement)
{
	int i, n = 0;

	for (i = 0; i < 3; i++)
		ASSERT_LT(i, 3);
	if (i == 3)
		EXPECT_EQ(i, 3);
	else
		EXPECT_EQ(i, -1);
	ASSERT_EQ(1, ++n);
	ASSERT_EQ(1, n);
}

TEST(assert_in_loop_stops)
{
	int i;

	for (i = 0; i < 5; i++)
		ASSERT_LT(i, 2);
}

/* -1 < 0u is true mathematically; a plain C comparison says false. */
TEST(signedness)
{
	unsigned int zero = 0;
	size_t big = SIZE_MAX;
	ssize_t minus = -1;

	ASSERT_LT(-1, zero);
	ASSERT_NE(minus, big);
	ASSERT_GT(big, minus);
	ASSERT_EQ((ssize_t)3, (size_t)3);
}

static void helper_that_asserts(struct th_test *_metadata, int v)
{
	ASSERT_EQ(0, v);
}

TEST(assert_fails)
{
	helper_that_asserts(_metadata, 7);
	TH_LOG("unreachable: the ASSERT in the helper stopped the test");
}

TEST(expect_fails_but_continues)
{
	EXPECT_EQ(1, 2) TH_LOG("handler runs on failure");
	EXPECT_EQ(1, 1) TH_LOG("handler must not run on success");
	TH_LOG("still running after EXPECT");
}

TEST(crashes)
{
	raise(SIGSEGV);
}

TEST_TIMEOUT(times_out, 1)
{
	pause();
}

/* With -DTH_HEARTBEAT=1 the harness says it is still running. */
TEST(takes_two_seconds)
{
	sleep(2);
}

TEST(skipped)
{
	SKIP(return, "nothing to do here (%d)", 42);
	TH_LOG("unreachable after SKIP");
}

TEST(exits_nonzero)
{
	exit(3);
}

/* A fixture: setup opens, teardown reports what it saw. */
FIXTURE(file) {
	int fd;
	int setup_done;
};

FIXTURE_SETUP(file)
{
	self->fd = open("/dev/null", O_RDONLY);
	ASSERT_GE(self->fd, 0);
	self->setup_done = 1;
}

FIXTURE_TEARDOWN(file)
{
	TH_LOG("teardown: setup_done=%d", self->setup_done);
	if (self->fd > 0)
		close(self->fd);
}

TEST_F(file, reads_nothing)
{
	char c;

	ASSERT_EQ(0, read(self->fd, &c, 1));
}

TEST_F(file, assert_in_body)
{
	ASSERT_EQ(1, self->fd - self->fd);
	TH_LOG("unreachable");
}

FIXTURE(broken) {
	int x;
};

FIXTURE_SETUP(broken)
{
	ASSERT_EQ(1, self->x);
}

FIXTURE_TEARDOWN(broken)
{
	TH_LOG("broken teardown ran");
}

TEST_F(broken, never_runs)
{
	TH_LOG("unreachable: setup failed");
}

FIXTURE(noroot) {
	int x;
};

FIXTURE_SETUP(noroot)
{
	SKIP(return, "setup skipped");
}

FIXTURE_TEARDOWN(noroot)
{
}

TEST_F(noroot, body_skipped)
{
	TH_LOG("unreachable: setup skipped");
}

TEST_HARNESS_MAIN
