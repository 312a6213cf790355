// SPDX-License-Identifier: GPL-2.0-only
/*
 * number_test.c - the strict number and size parsers of tools/lib.
 *
 * Why this exists: every tool reads its counts, uids, timeouts and sizes
 * through these two functions; strtoull() alone takes blanks, signs and
 * trailing junk, and a suffix multiplied past the limit must not wrap.
 */
#include "tests/kselftest/harness.h"

#include <errno.h>
#include <stdint.h>

#include "number.h"

TEST(decimals_and_nothing_else)
{
	uint64_t v = 7;

	ASSERT_EQ(0, incrfs_parse_u64("0", 10, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, incrfs_parse_u64("10", 10, &v));
	EXPECT_EQ(10, v);
	ASSERT_EQ(0, incrfs_parse_u64("18446744073709551615", UINT64_MAX, &v));
	EXPECT_EQ(UINT64_MAX, v);
	v = 7;
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("11", 10, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("18446744073709551616", UINT64_MAX, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("", 10, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64(" 1", 10, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("+1", 10, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("-1", 10, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("1 ", 10, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("1K", 4096, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_u64("0x10", 100, &v));
	EXPECT_EQ(7, v);	/* untouched on error */
}

TEST(sizes_take_powers_of_1024)
{
	uint64_t v = 7;

	ASSERT_EQ(0, incrfs_parse_size("4096", UINT64_MAX, &v));
	EXPECT_EQ(4096, v);
	ASSERT_EQ(0, incrfs_parse_size("64k", UINT64_MAX, &v));
	EXPECT_EQ(64 << 10, v);
	ASSERT_EQ(0, incrfs_parse_size("2G", UINT64_MAX, &v));
	EXPECT_EQ(2ULL << 30, v);
	ASSERT_EQ(0, incrfs_parse_size("15E", UINT64_MAX, &v));
	EXPECT_EQ(15ULL << 60, v);
	ASSERT_EQ(0, incrfs_parse_size("64M", 64 << 20, &v));
	EXPECT_EQ(64 << 20, v);
	v = 7;
	EXPECT_EQ(-EINVAL, incrfs_parse_size("16E", UINT64_MAX, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_size("65M", 64 << 20, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_size("1Q", UINT64_MAX, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_size("1KB", UINT64_MAX, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_size("K", UINT64_MAX, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_size("-1K", UINT64_MAX, &v));
	EXPECT_EQ(-EINVAL, incrfs_parse_size(" 1K", UINT64_MAX, &v));
	EXPECT_EQ(7, v);
}

TEST_HARNESS_MAIN
