// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench3_fill_test.c - figure 5 of "make bench": fill throughput,
 * "incrfsd --prefetch all --exit-when-complete" of a whole image (every
 * block missing, blob on the same ext4), against
 *   tools  the same work done by stock tools, one pipeline over both CPUs:
 *          zstd -dc FRAMES | tee OUT | openssl dgst -sha256
 *          (FRAMES: the blob's zstd frames, cut out of it beforehand; each
 *          decoded byte hashed with SHA-256 by OpenSSL and written to a
 *          new file on that ext4; coreutils' tee, staged as gnu-tee);
 *          incrfs does slightly more: one SHA-256 per 4 KiB block, each
 *          checked against the image's hashes, and a persisted bitmap
 *   dd     writing the same decoded bytes only (dd bs=1M; information)
 * each including the final sync.
 *
 * Why this exists: fetching a whole layer in the background must not cost
 * more than decoding, hashing and writing its bytes with the usual tools
 * would; and how far that is from only writing them.
 */
#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"
#include "blob.h"

#define IMG	B_ROOT "/lazy.img"
#define BLOB	B_ROOT "/lazy.blob"
#define RUNIMG	B_ROOT "/fill.img"
#define RAW	B_ROOT "/data.raw"
#define FRAMES	B_ROOT "/frames.zst"
#define M_INC	"/tmp/m-fill"

TEST_TIMEOUT(fill_throughput, 3000)
{
	int runs = b_env("B_RUNS", B_RUNS), run;
	struct incrfs_super_block sb;
	struct incrfs_chunk_info c0;
	struct incrfs_blob blob;
	struct incrfs_stats st;
	uint64_t frames;
	double t0;
	int fd;

	ASSERT_EQ(b_tree(), 0);
	if (access(IMG, F_OK) || access(BLOB, F_OK))
		ASSERT_EQ(iu_sh("incrfs-pack " B_TREE " " IMG " --blob " BLOB
				" >/dev/null"), 0);
	/* the decompressed data region, from a populated copy */
	ASSERT_EQ(b_fresh_image(IMG, RUNIMG), 0);
	ASSERT_EQ(iu_mount(RUNIMG, M_INC, "timeout=60000"), 0);
	ASSERT_EQ(iu_sh("incrfsd --prefetch all --exit-when-complete "
			"--source " BLOB " " M_INC " 2>/dev/null"), 0);
	ASSERT_EQ(umount(M_INC), 0);
	fd = open(RUNIMG, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pread(fd, &sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	close(fd);
	ASSERT_EQ(iu_sh("dd if=" RUNIMG " of=" RAW " bs=4096 skip=%llu "
			"count=%llu 2>/dev/null",
			(unsigned long long)sb.s_data_off / 4096,
			(unsigned long long)sb.s_nr_blocks), 0);
	B_INFO("fill: %llu blocks (%llu MiB decompressed)",
	       (unsigned long long)sb.s_nr_blocks,
	       (unsigned long long)sb.s_nr_blocks >> 8);
	/* the zstd frames: from chunk 0 to the index (writer_data.c) */
	fd = open(BLOB, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(incrfs_blob_open(&blob, fd), 0);
	ASSERT_EQ(incrfs_blob_chunk(&blob, 0, &c0), 0);
	ASSERT_GT(blob.index_off, c0.off);
	frames = blob.index_off - c0.off;
	incrfs_blob_close(&blob);
	close(fd);
	ASSERT_EQ(iu_sh("tail -c +%llu " BLOB " | head -c %llu > " FRAMES,
			(unsigned long long)c0.off + 1,
			(unsigned long long)frames), 0);
	/* the pipeline's stages alone, once: where the stock tools spend */
	b_drop_caches();
	t0 = b_now();
	ASSERT_EQ(iu_sh("zstd -dcq " FRAMES " >/dev/null"), 0);
	B_INFO("fill: the tools' stages alone: zstd -dc %.2f s", b_now() - t0);
	t0 = b_now();
	ASSERT_EQ(iu_sh("openssl dgst -sha256 " RAW " >/dev/null"), 0);
	B_INFO("fill: the tools' stages alone: openssl dgst -sha256 (cached "
	       "file) %.2f s", b_now() - t0);

	for (run = 0; run < runs; run++) {
		ASSERT_EQ(b_fresh_image(IMG, RUNIMG), 0);
		unlink(B_ROOT "/dd.out");
		b_drop_caches();
		ASSERT_EQ(iu_mount(RUNIMG, M_INC, "timeout=60000"), 0);
		t0 = b_now();
		ASSERT_EQ(iu_sh("incrfsd --prefetch all --exit-when-complete "
				"--source " BLOB " " M_INC " 2>/dev/null && "
				"sync"), 0);
		b_sample("fill", "incrfsd", b_now() - t0);
		ASSERT_EQ(iu_get_stats(M_INC, &st), 0);
		EXPECT_EQ(st.complete, 1);
		ASSERT_EQ(umount(M_INC), 0);

		b_drop_caches();
		t0 = b_now();
		ASSERT_EQ(iu_sh("dd if=" RAW " of=" B_ROOT "/dd.out bs=1M "
				"2>/dev/null && sync"), 0);
		b_sample("fill", "dd", b_now() - t0);

		unlink(B_ROOT "/dd.out");
		b_drop_caches();
		t0 = b_now();
		ASSERT_EQ(iu_sh("zstd -dcq " FRAMES " | gnu-tee " B_ROOT
				"/dd.out | openssl dgst -sha256 >/dev/null "
				"&& sync"), 0);
		b_sample("fill", "tools", b_now() - t0);
		EXPECT_EQ(iu_sh("cmp -s " RAW " " B_ROOT "/dd.out"), 0)
			TH_LOG("the pipeline's output is not the data region");
		unlink(B_ROOT "/dd.out");
	}
	unlink(B_ROOT "/dd.out");
	unlink(RAW);
	unlink(FRAMES);
}

TEST_HARNESS_MAIN
