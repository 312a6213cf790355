// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench3_fill_test.c - figure 5 of "make bench": fill throughput,
 * "incrfsd --prefetch all --exit-when-complete" of a whole image (every
 * block missing, blob on the same ext4) vs dd writing the same decompressed
 * bytes to a new file on that ext4, both including the final sync.
 *
 * Why this exists: fetching a whole layer in the background must not cost
 * much more than writing the layer's bytes would; what incrfsd adds
 * (zstd decoding, the kernel's SHA-256 check of every block, the bitmap)
 * is the price measured here.
 */
#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"

#define IMG	B_ROOT "/lazy.img"
#define BLOB	B_ROOT "/lazy.blob"
#define RUNIMG	B_ROOT "/fill.img"
#define RAW	B_ROOT "/data.raw"
#define M_INC	"/tmp/m-fill"

TEST_TIMEOUT(fill_throughput, 3000)
{
	int runs = b_env("B_RUNS", B_RUNS), run;
	struct incrfs_super_block sb;
	struct incrfs_stats st;
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
	}
	unlink(B_ROOT "/dd.out");
	unlink(RAW);
}

TEST_HARNESS_MAIN
