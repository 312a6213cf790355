// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile_format_test.c - the access profile format (tools/lib/profile.c):
 * what incrfsctl profile record writes reads back the same, and every
 * malformed line is refused with a message naming the line.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test
 * itself.
 */
#include "tests/kselftest/harness.h"

#include "tools/lib/profile.c"

#define HASH "00112233445566778899aabbccddeeff" \
	     "00112233445566778899AABBCCDDEEFF"

static int parse(struct incrfs_profile *p, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	if (!f)
		return -errno;
	ret = incrfs_profile_read(p, f, "t.profile");
	fclose(f);
	return ret;
}

TEST(write_then_read)
{
	uint8_t hash[INCRFS_HASH_SIZE];
	struct incrfs_profile p;
	char buf[512] = "";
	FILE *f;
	int i;

	for (i = 0; i < INCRFS_HASH_SIZE; i++)
		hash[i] = (uint8_t)(i * 7 + 1);
	f = fmemopen(buf, sizeof(buf) - 1, "w");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, incrfs_profile_write_header(f, hash));
	ASSERT_EQ(0, incrfs_profile_write_range(f, 42, 3));
	ASSERT_EQ(0, incrfs_profile_write_range(f, 0, 1));
	ASSERT_EQ(0, incrfs_profile_write_range(f, UINT64_MAX - 1, 1));
	fclose(f);
	ASSERT_EQ(0, strncmp(buf, "incrfs-profile 1 01080f", 23));
	ASSERT_EQ(0, parse(&p, buf)) TH_LOG("%s", p.err);
	EXPECT_EQ(0, memcmp(p.root_hash, hash, sizeof(hash)));
	ASSERT_EQ(3, p.nr);
	EXPECT_EQ(42, p.ranges[0].start);
	EXPECT_EQ(3, p.ranges[0].len);
	EXPECT_EQ(0, p.ranges[1].start);
	EXPECT_EQ(UINT64_MAX - 1, p.ranges[2].start);
	EXPECT_EQ(5, p.blocks);
	incrfs_profile_free(&p);
}

TEST(comments_blank_lines_and_many_ranges)
{
	struct incrfs_profile p;
	char *text = malloc(1 << 20);
	size_t off;
	int i;

	ASSERT_NE(NULL, text);
	off = (size_t)sprintf(text, "incrfs-profile 1 " HASH "\n# made by hand\n\n");
	for (i = 0; i < 10000; i++)
		off += (size_t)sprintf(text + off, "%d 2\n", i * 3);
	ASSERT_EQ(0, parse(&p, text)) TH_LOG("%s", p.err);
	EXPECT_EQ(0xee, p.root_hash[30]);
	ASSERT_EQ(10000, p.nr);
	EXPECT_EQ(29997, p.ranges[9999].start);
	EXPECT_EQ(20000, p.blocks);
	incrfs_profile_free(&p);
	free(text);
}

TEST(no_final_newline)
{
	struct incrfs_profile p;

	ASSERT_EQ(0, parse(&p, "incrfs-profile 1 " HASH "\n7 1")) TH_LOG("%s", p.err);
	ASSERT_EQ(1, p.nr);
	EXPECT_EQ(7, p.ranges[0].start);
	incrfs_profile_free(&p);
}

TEST(bad_profiles_are_refused_naming_the_line)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "", "empty file" },
		{ "hello\n", "not an incrfs access profile" },
		{ "incrfs-profile 2 " HASH "\n", "version 2" },
		{ "incrfs-profile x " HASH "\n", "line 1: bad version" },
		{ "incrfs-profile 1 0011\n", "not 64 hex digits" },
		{ "incrfs-profile 1 " HASH "0\n", "after the root hash" },
		{ "incrfs-profile 1 " HASH "\n1 1\n5\n", "line 3: expected" },
		{ "incrfs-profile 1 " HASH "\n1 0\n", "line 2: bad range 1 0" },
		{ "incrfs-profile 1 " HASH "\n-1 2\n", "line 2: expected" },
		{ "incrfs-profile 1 " HASH "\n1  2\n", "line 2: expected" },
		{ "incrfs-profile 1 " HASH "\n1 2 3\n", "line 2: expected" },
		{ "incrfs-profile 1 " HASH "\n99999999999999999999 1\n",
		  "line 2: expected" },
		{ "incrfs-profile 1 " HASH "\n18446744073709551615 2\n",
		  "line 2: bad range" },
	};
	struct incrfs_profile p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, parse(&p, bad[i].text)) TH_LOG("case %zu", i);
		EXPECT_NE(NULL, strstr(p.err, bad[i].msg))
			TH_LOG("case %zu: '%s' lacks '%s'", i, p.err, bad[i].msg);
		EXPECT_NE(NULL, strstr(p.err, "t.profile"));
		incrfs_profile_free(&p);
	}
}

TEST_HARNESS_MAIN
