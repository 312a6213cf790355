// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench1_populated_test.c - figures 1 and 2 of "make bench": reading a
 * populated tree, sequentially and in random 4 KiB preads, from incrfs vs
 * the same files as plain ext4 files vs an uncompressed EROFS image,
 * mounted straight from its file where the kernel can (6.12), else through
 * a loop device (6.1).  Figure 1 also reads incrfs with its read-ahead
 * window set to ext4's 128 KiB (series incrfs-ra128, information: how much
 * of the sequential figure is only incrfs's larger window).
 *
 * Why this exists: once a layer is fetched, incrfs must read as fast as
 * the file system under it, or lazy loading costs every later start.  All
 * three images live on the same ext4 on the virtio-blk scratch disk, the
 * caches are dropped before every run, and the three systems take turns in
 * every round so drift of a shared host hits them alike.
 */
#include <sys/resource.h>
#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"
#include "tests/kselftest/blockdev_util.h"

#define M_INCRFS "/tmp/b-incrfs"
#define M_EROFS  "/tmp/b-erofs"

struct sys {
	const char *name;
	const char *root;
	int ra_kb;		/* incrfs's read-ahead window for it; 0: its own */
};

/*
 * Set every incrfs mount's read-ahead window (its bdi's read_ahead_kb) to
 * @kb; with @kb 0, back to what it was before the first change.
 */
static int incrfs_ra_kb(int kb)
{
	static int saved;
	FILE *f;

	if (!saved) {
		f = popen("cat /sys/class/bdi/incrfs-*/read_ahead_kb | head -n1",
			  "r");
		if (!f || fscanf(f, "%d", &saved) != 1)
			saved = 0;
		if (f)
			pclose(f);
		if (!saved)
			return -1;
	}
	return iu_sh("for b in /sys/class/bdi/incrfs-*; do echo %d > "
		     "$b/read_ahead_kb || exit 1; done", kb ? kb : saved);
}

/* Mount @img (EROFS) on @dir: from the file, else through a loop device. */
static int mount_erofs(const char *img, const char *dir, const char **how)
{
	char dev[64];
	int lfd;

	*how = "from its file";
	if (!mount(img, dir, "erofs", MS_RDONLY, NULL))
		return 0;
	*how = "through a loop device (this kernel cannot mount a file)";
	lfd = bd_loop_attach(img, dev, sizeof(dev));
	if (lfd < 0)
		return -1;
	/* the mount holds the device; LO_FLAGS_AUTOCLEAR frees it after */
	if (mount(dev, dir, "erofs", MS_RDONLY, NULL)) {
		close(lfd);
		return -1;
	}
	close(lfd);
	return 0;
}

struct rread {
	size_t file;
	off_t off;
};

/* Random 4 KiB reads anywhere in the tree, uniform over its bytes. */
static struct rread *random_reads(const struct b_files *f, size_t n)
{
	struct rread *r = calloc(n, sizeof(*r));
	uint64_t x = 88172645463325252ull;
	size_t i, j;

	for (i = 0; r && i < n; i++) {
		long long pos;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pos = (long long)(x % (uint64_t)f->total);
		for (j = 0; j < f->n && pos >= f->size[j]; j++)
			pos -= f->size[j];
		r[i].file = j < f->n ? j : f->n - 1;
		r[i].off = pos & ~4095LL;
	}
	return r;
}

static double time_random(const char *root, const struct b_files *f,
			  const struct rread *r, size_t n)
{
	int *fd = calloc(f->n, sizeof(int));
	char path[PATH_MAX], buf[4096];
	double t0, t;
	size_t i;

	if (!fd)
		return -1;
	for (i = 0; i < f->n; i++)
		fd[i] = -1;
	/* open first: figure 2 measures data reads, not lookups */
	for (i = 0; i < n; i++) {
		if (fd[r[i].file] >= 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", root, f->path[r[i].file]);
		fd[r[i].file] = open(path, O_RDONLY);
		if (fd[r[i].file] < 0) {
			B_INFO("random: open %s: %s", path, strerror(errno));
			return -1;
		}
	}
	t0 = b_now();
	for (i = 0; i < n; i++)
		if (pread(fd[r[i].file], buf, sizeof(buf), r[i].off) < 0) {
			B_INFO("random: pread %s%s at %lld: %s", root,
			       f->path[r[i].file], (long long)r[i].off,
			       strerror(errno));
			return -1;
		}
	t = b_now() - t0;
	for (i = 0; i < f->n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(fd);
	return t;
}

TEST_TIMEOUT(populated_reads, 3000)
{
	struct rlimit rl = { 1 << 16, 1 << 16 };
	struct sys sys[4] = { { "ext4", B_TREE, 0 }, { "incrfs", M_INCRFS, 0 },
			      { "erofs", M_EROFS, 0 } };
	const struct sys ra128 = { "incrfs-ra128", M_INCRFS, 128 };
	const char *how;
	size_t nsys = 2, nseq, nrand = b_env("B_RANDOM_READS", 4000), i;
	int runs = b_env("B_RUNS", B_RUNS), run;
	struct b_files f;
	struct rread *rr;
	long long got;
	double t0;

	setrlimit(RLIMIT_NOFILE, &rl);
	ASSERT_EQ(b_tree(), 0);
	ASSERT_EQ(b_list(B_TREE, &f), 0);
	B_INFO("tree: %zu files, %lld MiB (Python stdlib + 2 MiB files), "
	       "on ext4 on virtio-blk", f.n, f.total >> 20);

	t0 = b_now();
	ASSERT_EQ(iu_sh("incrfs-pack --full " B_TREE " " B_ROOT "/full.img "
			">/dev/null"), 0);
	B_INFO("incrfs-pack --full: %.1f s", b_now() - t0);
	ASSERT_EQ(iu_mount(B_ROOT "/full.img", M_INCRFS, "timeout=10000"), 0)
		TH_LOG("mount incrfs: %s", strerror(errno));

	/* EROFS from its file: 6.12 (EROFS_FS_BACKED_BY_FILE); 6.1: loop */
	if (!iu_sh("mkfs.erofs --quiet " B_ROOT "/tree.erofs " B_TREE
		   " >/dev/null")) {
		mkdir(M_EROFS, 0755);
		if (!mount_erofs(B_ROOT "/tree.erofs", M_EROFS, &how)) {
			nsys = 3;
			B_INFO("erofs: mounted %s", how);
		} else {
			B_INFO("erofs: mounting failed (%s): no EROFS baseline "
			       "on this kernel", strerror(errno));
		}
	} else {
		B_INFO("erofs: mkfs.erofs failed: no EROFS baseline");
	}

	/* the same bytes everywhere */
	for (i = 0; i < nsys; i++) {
		got = b_read_all(sys[i].root, &f);
		ASSERT_EQ(got, f.total) TH_LOG("%s: read %lld", sys[i].name, got);
	}

	/* Figure 1: whole tree, sequentially, file after file. */
	nseq = nsys;
	if (!incrfs_ra_kb(128) && !incrfs_ra_kb(0))
		sys[nseq++] = ra128;
	else
		B_INFO("incrfs-ra128: cannot set the read-ahead window");
	for (run = 0; run < runs; run++) {
		for (i = 0; i < nseq; i++) {
			const struct sys *s = &sys[(i + run) % nseq];

			if (s->ra_kb)
				ASSERT_EQ(incrfs_ra_kb(s->ra_kb), 0);
			b_drop_caches();
			t0 = b_now();
			got = b_read_all(s->root, &f);
			ASSERT_EQ(got, f.total);
			b_sample("seq", s->name, b_now() - t0);
			if (s->ra_kb)
				ASSERT_EQ(incrfs_ra_kb(0), 0);
		}
	}

	/* Figure 2: random 4 KiB preads over the whole tree. */
	rr = random_reads(&f, nrand);
	ASSERT_NOT_NULL(rr);
	B_INFO("random reads: %zu x 4 KiB per run", nrand);
	for (run = 0; run < runs; run++) {
		for (i = 0; i < nsys; i++) {
			const struct sys *s = &sys[(i + run) % nsys];
			double t;

			b_drop_caches();
			t = time_random(s->root, &f, rr, nrand);
			ASSERT_TRUE(t > 0);
			b_sample("rand", s->name, t);
		}
	}

	if (nsys == 3)
		EXPECT_EQ(umount(M_EROFS), 0);
	EXPECT_EQ(umount(M_INCRFS), 0);
}

TEST_HARNESS_MAIN
