// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench5_mount_test.c - figure 7 of "make bench": mount(2) time of an
 * image of 100 000 files vs one of 100 files, page cache dropped first.
 *
 * Why this exists: a runtime mounts a layer before it starts anything;
 * incrfs reads metadata on demand, so mounting must not depend on how
 * many files the layer has.  The files are empty (only metadata matters)
 * and packed lazily.
 */
#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"

#define D	B_ROOT "/mnt-bench"

/* @n empty files in directories of 1000. */
static int make_tree(const char *dir, long n)
{
	char path[PATH_MAX + 32];
	long i;

	for (i = 0; i < n; i++) {
		int fd;

		if (i % 1000 == 0) {
			snprintf(path, sizeof(path), "%s/d%03ld", dir, i / 1000);
			if (mkdir(path, 0755) && errno != EEXIST)
				return -1;
		}
		snprintf(path, sizeof(path), "%s/d%03ld/f%06ld", dir,
			 i / 1000, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

TEST_TIMEOUT(mount_time, 3000)
{
	int runs = b_env("B_RUNS", B_RUNS), run, i;
	const long n[2] = { 100, 100000 };
	char src[256], img[256], mnt[256], series[32];
	double t0, t;

	ASSERT_EQ(b_disk(), 0);
	iu_sh("rm -rf " D);
	ASSERT_EQ(mkdir(D, 0755), 0);
	for (i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), D "/src%ld", n[i]);
		snprintf(img, sizeof(img), D "/files%ld.img", n[i]);
		ASSERT_EQ(mkdir(src, 0755), 0);
		ASSERT_EQ(make_tree(src, n[i]), 0);
		t0 = b_now();
		ASSERT_EQ(iu_sh("incrfs-pack %s %s --blob %s.blob >/dev/null",
				src, img, img), 0);
		B_INFO("mount: packed %ld files in %.1f s", n[i], b_now() - t0);
	}
	for (run = 0; run < runs; run++) {
		for (i = 0; i < 2; i++) {
			snprintf(img, sizeof(img), D "/files%ld.img", n[i]);
			snprintf(mnt, sizeof(mnt), "/tmp/m-files%ld", n[i]);
			snprintf(series, sizeof(series), "files%ld", n[i]);
			mkdir(mnt, 0755);
			b_drop_caches();
			t0 = b_now();
			ASSERT_EQ(mount(img, mnt, "incrfs", MS_RDONLY,
					"timeout=1000"), 0);
			t = (b_now() - t0) * 1e3;
			b_sample("mount", series, t);
			if (n[i] == 100000) {
				b_sample("mount_abs", "files100000", t);
				b_sample("mount_abs", "limit", 50);
			}
			ASSERT_EQ(umount(mnt), 0);
		}
	}
	iu_sh("rm -rf " D);
}

TEST_HARNESS_MAIN
