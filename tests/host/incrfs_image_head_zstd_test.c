// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfs_image_head_zstd_test.c - an image head compressed for the
 * registry and expanded by pull (tools/image/head_zstd.c): the round trip
 * is exact, also across zstd's buffer sizes and for several frames in a
 * row; a head that is not zstd, junk after a frame, a frame cut short, or
 * one that expands past the caller's limit is refused
 * with the errno pull maps to "not an image", before more than the limit
 * is written.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test
 * itself.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "tests/kselftest/harness.h"

#include "tools/image/head_zstd.c"

/* A memfd holding @len bytes of @buf. */
static int mem_with(const void *buf, size_t len)
{
	int fd = memfd_create("head", MFD_CLOEXEC);

	if (fd >= 0 && incrfs_pwrite_full(fd, buf, len, 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* @len bytes that compress somewhat, as metadata and hashes do. */
static unsigned char *head_like(size_t len)
{
	unsigned char *b = malloc(len);
	uint32_t x = 12345;
	size_t i;

	for (i = 0; b && i < len; i++) {
		x = x * 1103515245 + 12345;
		b[i] = (i / 4096) % 2 ? (unsigned char)(x >> 16) :
					(unsigned char)(i % 61);
	}
	return b;
}

/* Compress @len bytes of head_like(), into a memfd; its size in *@zlen. */
static int compressed(size_t len, size_t *zlen, unsigned char **plain)
{
	char err[256] = "";
	void *z = NULL;
	int in, fd;

	*plain = head_like(len);
	in = mem_with(*plain, len);
	if (in < 0 || head_compress(in, len, &z, zlen, err, sizeof(err)))
		return -1;
	close(in);
	fd = mem_with(z, *zlen);
	free(z);
	return fd;
}

TEST(round_trip_is_exact)
{
	/*
	 * smaller than zstd's stream buffers, many of them, and an end
	 * that fills the last one exactly (a frame's end then must not
	 * be taken for a new frame's start)
	 */
	static const size_t sizes[] = { 4096, (3u << 20) + 4096, 3u << 20,
					12u << 20 };
	size_t i;

	/* 12 MiB: beyond level 9's 4 MiB window, within the decoder's */
	for (i = 0; i < 4; i++) {
		unsigned char *plain, *back;
		char err[256] = "";
		uint64_t n = 0;
		size_t zlen;
		int z = compressed(sizes[i], &zlen, &plain), out;

		ASSERT_GE(z, 0);
		EXPECT_LT(zlen, sizes[i]);
		out = memfd_create("out", MFD_CLOEXEC);
		ASSERT_GE(out, 0);
		ASSERT_EQ(0, head_expand(z, zlen, out, sizes[i], &n, err,
					 sizeof(err))) TH_LOG("%s", err);
		EXPECT_EQ(sizes[i], n);
		back = malloc(sizes[i]);
		ASSERT_EQ(0, incrfs_pread_full(out, back, sizes[i], 0));
		EXPECT_EQ(0, memcmp(plain, back, sizes[i]));
		free(plain);
		free(back);
		close(z);
		close(out);
	}
}

TEST(frames_one_after_another_expand_whole)
{
	static const char a[] = "the first frame ", b[] = "and the second";
	size_t za = ZSTD_compressBound(sizeof(a)), zb = ZSTD_compressBound(
		sizeof(b));
	unsigned char *z = malloc(za + zb), back[64] = "";
	char err[256] = "";
	uint64_t n = 0;
	int in, out = memfd_create("out", MFD_CLOEXEC);

	ASSERT_NOT_NULL(z);
	za = ZSTD_compress(z, za, a, sizeof(a) - 1, 9);
	zb = ZSTD_compress(z + za, zb, b, sizeof(b), 9);
	ASSERT_FALSE(ZSTD_isError(za) || ZSTD_isError(zb));
	in = mem_with(z, za + zb);
	ASSERT_GE(in, 0);
	ASSERT_EQ(0, head_expand(in, za + zb, out, 1 << 20, &n, err,
				 sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(sizeof(a) - 1 + sizeof(b), n);
	ASSERT_EQ(0, incrfs_pread_full(out, back, n, 0));
	EXPECT_STREQ("the first frame and the second", (char *)back);
	/* junk after a whole frame is refused too */
	close(in);
	memcpy(z + za, "junk", 4);
	in = mem_with(z, za + 4);
	EXPECT_EQ(-EBADMSG, head_expand(in, za + 4, out, 1 << 20, &n, err,
					sizeof(err)));
	free(z);
	close(in);
	close(out);
}

TEST(not_zstd_is_refused)
{
	static const char junk[] = "this is not zstd, it is a head\n";
	char err[256] = "";
	uint64_t n = 0;
	int in = mem_with(junk, sizeof(junk));
	int out = memfd_create("out", MFD_CLOEXEC);

	ASSERT_GE(in, 0);
	EXPECT_EQ(-EBADMSG, head_expand(in, sizeof(junk), out, 1 << 20, &n,
					err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "is not zstd"));
	/* nothing at all is no head either */
	EXPECT_EQ(-EBADMSG, head_expand(in, 0, out, 1 << 20, &n, err,
					sizeof(err)));
	close(in);
	close(out);
}

/* A 1 MiB head compressed (z, zlen), and an empty file to expand into. */
FIXTURE(mib) {
	unsigned char *plain;
	size_t zlen;
	int z, out;
};

FIXTURE_SETUP(mib)
{
	self->z = compressed(1u << 20, &self->zlen, &self->plain);
	self->out = memfd_create("out", MFD_CLOEXEC);
	ASSERT_GE(self->z, 0);
	ASSERT_GE(self->out, 0);
}

FIXTURE_TEARDOWN(mib)
{
	free(self->plain);
	close(self->z);
	close(self->out);
}

TEST_F(mib, a_frame_cut_short_is_refused)
{
	char err[256] = "";
	uint64_t n = 0;

	EXPECT_EQ(-EBADMSG, head_expand(self->z, self->zlen - 7, self->out,
					1u << 20, &n, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "ends inside a frame")) TH_LOG("%s", err);
}

TEST_F(mib, expanding_past_the_limit_stops_there)
{
	char err[256] = "";
	uint64_t n = 0;
	struct stat st;

	EXPECT_EQ(-EFBIG, head_expand(self->z, self->zlen, self->out, 300000,
				      &n, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "expands past 300000 bytes"));
	ASSERT_EQ(0, fstat(self->out, &st));
	EXPECT_LE(st.st_size, 300000);
}

TEST_HARNESS_MAIN
