// SPDX-License-Identifier: GPL-2.0-only
/*
 * checksum_test.c - CRC-32C and SHA-256 of tools/lib against published
 * check values.
 *
 * Why this exists: the super block and blob header checksums must be the
 * standard CRC-32C the kernel computes, and every block hash the standard
 * SHA-256; a wrong table or a wrong EVP call would otherwise only show up
 * as images the kernel refuses.
 */
#include "tests/kselftest/harness.h"

#include "crc32c.h"
#include "image.h"
#include "blob.h"
#include "sha256.h"

static int hex_eq(const uint8_t *d, const char *hex)
{
	char buf[2 * INCRFS_SHA256_SIZE + 1];

	for (int i = 0; i < INCRFS_SHA256_SIZE; i++)
		sprintf(buf + 2 * i, "%02x", d[i]);
	return !strcmp(buf, hex);
}

TEST(crc32c_check_value)
{
	ASSERT_EQ(0xE3069283u, incrfs_crc32c(0, "123456789", 9));
	ASSERT_EQ(0u, incrfs_crc32c(0, "", 0));
}

/* RFC 3720 B.4: 32 bytes of zeroes, 32 bytes of 0xff. */
TEST(crc32c_rfc3720_vectors)
{
	uint8_t z[32] = { 0 }, f[32];

	memset(f, 0xff, sizeof(f));
	ASSERT_EQ(0x8A9136AAu, incrfs_crc32c(0, z, sizeof(z)));
	ASSERT_EQ(0x62A8AB43u, incrfs_crc32c(0, f, sizeof(f)));
}

TEST(crc32c_chains)
{
	const char *s = "123456789";

	for (size_t cut = 0; cut <= 9; cut++)
		ASSERT_EQ(0xE3069283u,
			  incrfs_crc32c(incrfs_crc32c(0, s, cut), s + cut, 9 - cut));
}

TEST(super_checksum_ignores_its_field)
{
	struct incrfs_super_block sb;
	struct incrfs_blob_header bh;
	uint32_t a;

	memset(&sb, 0x5a, sizeof(sb));
	a = incrfs_super_checksum(&sb);

	sb.s_checksum = 0;
	ASSERT_EQ(a, incrfs_super_checksum(&sb));
	ASSERT_EQ(a, incrfs_crc32c(0, &sb, sizeof(sb)));
	sb.s_major ^= 1;
	ASSERT_NE(a, incrfs_super_checksum(&sb));

	memset(&bh, 0xa5, sizeof(bh));
	a = incrfs_blob_header_checksum(&bh);
	bh.b_checksum = 0;
	ASSERT_EQ(a, incrfs_crc32c(0, &bh, sizeof(bh)));
}

TEST(sha256_known_answers)
{
	uint8_t d[INCRFS_SHA256_SIZE];

	ASSERT_EQ(0, incrfs_sha256("", 0, d));
	ASSERT_TRUE(hex_eq(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	ASSERT_EQ(0, incrfs_sha256("abc", 3, d));
	ASSERT_TRUE(hex_eq(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

TEST(sha256_streaming_matches_one_shot)
{
	static uint8_t buf[3 * 4096 + 17];
	uint8_t a[INCRFS_SHA256_SIZE], b[INCRFS_SHA256_SIZE];
	struct incrfs_sha256_ctx c;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	ASSERT_EQ(0, incrfs_sha256(buf, sizeof(buf), a));
	ASSERT_EQ(0, incrfs_sha256_init(&c));
	for (size_t off = 0; off < sizeof(buf); off += 1000)
		ASSERT_EQ(0, incrfs_sha256_update(&c, buf + off,
			  sizeof(buf) - off < 1000 ? sizeof(buf) - off : 1000));
	ASSERT_EQ(0, incrfs_sha256_final(&c, b));
	ASSERT_EQ(0, memcmp(a, b, sizeof(a)));
	/* freeing twice, or a zeroed context, is harmless */
	incrfs_sha256_free(&c);
}

TEST_HARNESS_MAIN
