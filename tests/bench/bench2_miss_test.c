// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench2_miss_test.c - figures 3 and 4 of "make bench": incrfs with incrfsd
 * vs a FUSE lazy loader (incrfs-fuse-loader, fuse_loader.c) serving the
 * same blob: the round trip of single missing 4 KiB blocks (latency p50 and
 * p99, misses per second), a cold read of the whole tree (every byte
 * missing at start), and the populated read once everything is fetched.
 * Series "fuse" is the loader as a fair peer (verifying every block,
 * multi-threaded, reading ahead as incrfsd does); "fuse-plain" is its
 * --plain variant (no verification, one thread, no read-ahead, one pread
 * per 4 KiB), kept as info rows.  The data both serve is compared with the
 * source tree, and a second test checks that the verifying loader refuses
 * a block whose hash is not the image's.
 *
 * Why this exists: a lazy loader is only worth its kernel module if a miss
 * costs no more than FUSE's round trip, batching makes a cold read much
 * faster, and the second read runs at native speed.  Every round starts
 * from a fresh image (every block missing) and a fresh FUSE cache, with
 * the page cache dropped.
 */
#include <sys/resource.h>
#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"

#define IMG	B_ROOT "/lazy.img"	/* pristine: every block missing */
#define BLOB	B_ROOT "/lazy.blob"
#define RUNIMG	B_ROOT "/run.img"
#define CACHE	B_ROOT "/fuse.cache"
#define CACHE_P	B_ROOT "/fuse-plain.cache"
#define M_INC	"/tmp/m-incrfs"
#define M_FUSE	"/tmp/m-fuse"
#define M_FUSE_P "/tmp/m-fuse-plain"
#define LOG	"/tmp/bench2.log"

static pid_t start_incrfs(const char *readahead)
{
	const char *argv[] = { "incrfsd", "--source", BLOB, "--readahead",
			       readahead, M_INC, NULL };

	if (b_fresh_image(IMG, RUNIMG) || iu_mount(RUNIMG, M_INC, "timeout=60000"))
		return -1;
	return b_spawn(LOG, argv);
}

/*
 * The FUSE loader serving @img with @blob at @mnt: @opt "--plain" (the old
 * loader), "--readahead=0" or NULL (its defaults).
 */
static pid_t start_loader(const char *opt, const char *img, const char *blob,
			  const char *cache, const char *mnt)
{
	const char *argv[] = { "incrfs-fuse-loader", img, blob, cache, mnt,
			       NULL, NULL };
	struct stat st;
	pid_t pid;

	if (opt) {
		memmove(argv + 2, argv + 1, 4 * sizeof(*argv));
		argv[1] = opt;
	}
	mkdir(mnt, 0755);
	if (stat("/tmp", &st))
		return -1;
	pid = b_spawn(LOG, argv);
	if (pid > 0 && b_wait_mounted(mnt, st.st_dev)) {
		b_stop(pid);
		return -1;
	}
	return pid;
}

static void stop_incrfs(pid_t feeder)
{
	b_stop(feeder);
	umount(M_INC);
}

/* Series "fuse" (verifying, @opt as above) or "fuse-plain". */
static pid_t start_fuse(const char *opt)
{
	return start_loader(opt, IMG, BLOB, CACHE, M_FUSE);
}

static pid_t start_fuse_plain(void)
{
	return start_loader("--plain", IMG, BLOB, CACHE_P, M_FUSE_P);
}

static void stop_loader(pid_t loader, const char *mnt)
{
	int st;

	umount(mnt);
	waitpid(loader, &st, 0);
}

static void stop_fuse(pid_t loader)
{
	stop_loader(loader, M_FUSE);
}

struct miss {
	size_t file;
	off_t off;
};

/* One block every chunk (16 blocks apart) of each 2 MiB file, shuffled. */
static struct miss *miss_list(const struct b_files *f, size_t *n)
{
	struct miss *m = NULL;
	size_t i, cap = 0, k;
	uint32_t x = 2463534242u;
	off_t o;

	*n = 0;
	for (i = 0; i < f->n; i++) {
		if (!strstr(f->path[i], "/big/"))
			continue;
		for (o = 0; o + 4096 <= f->size[i]; o += 16 * 4096) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 1024;
				m = realloc(m, cap * sizeof(*m));
				if (!m)
					return NULL;
			}
			m[*n].file = i;
			m[(*n)++].off = o;
		}
	}
	for (i = *n; i > 1; i--) {
		struct miss t;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		k = x % i;
		t = m[i - 1];
		m[i - 1] = m[k];
		m[k] = t;
	}
	return m;
}

/*
 * Read @n single blocks from @root, one after another, no readahead;
 * sample p50, p99 (microseconds) and misses per second.
 */
static int time_misses(const char *root, const char *series,
		       const struct b_files *f, const struct miss *m, size_t n)
{
	int *fd = calloc(f->n, sizeof(int));
	double *lat = calloc(n, sizeof(double)), t0, all;
	char path[PATH_MAX], buf[4096];
	size_t i;

	if (!fd || !lat)
		return -1;
	for (i = 0; i < f->n; i++)
		fd[i] = -1;
	for (i = 0; i < n; i++) {
		int *d = &fd[m[i].file];

		if (*d >= 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", root, f->path[m[i].file]);
		*d = open(path, O_RDONLY);
		if (*d < 0)
			return -1;
		posix_fadvise(*d, 0, 0, POSIX_FADV_RANDOM);
	}
	all = b_now();
	for (i = 0; i < n; i++) {
		t0 = b_now();
		if (pread(fd[m[i].file], buf, sizeof(buf), m[i].off) != 4096)
			return -1;
		lat[i] = (b_now() - t0) * 1e6;
	}
	all = b_now() - all;
	qsort(lat, n, sizeof(*lat), b_cmp_double);
	b_sample("miss_p50", series, lat[n / 2]);
	b_sample("miss_p99", series, lat[n * 99 / 100]);
	b_sample("miss_rate", series, n / all);
	for (i = 0; i < f->n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(fd);
	free(lat);
	return 0;
}

TEST_TIMEOUT(miss_and_cold_reads, 5000)
{
	struct rlimit rl = { 1 << 16, 1 << 16 };
	int runs = b_env("B_RUNS", B_RUNS), run;
	size_t nmiss = b_env("B_MISSES", 1000), total, i;
	struct incrfs_stats st;
	struct b_files f;
	struct miss *m;
	pid_t feeder, loader = -1, plain = -1;
	double t0;

	setrlimit(RLIMIT_NOFILE, &rl);
	ASSERT_EQ(b_tree(), 0);
	ASSERT_EQ(b_list(B_TREE, &f), 0);
	t0 = b_now();
	ASSERT_EQ(iu_sh("incrfs-pack " B_TREE " " IMG " --blob " BLOB
			" >/dev/null"), 0);
	B_INFO("incrfs-pack (lazy image + blob, 16-block chunks): %.1f s",
	       b_now() - t0);
	m = miss_list(&f, &total);
	ASSERT_NOT_NULL(m);
	if (nmiss * runs > total)
		nmiss = total / runs;
	ASSERT_GT(nmiss, 100);
	B_INFO("miss round trip: %zu single-block misses per run, each in "
	       "another chunk, POSIX_FADV_RANDOM, incrfsd --readahead 0, "
	       "incrfs-fuse-loader --readahead=0 (fuse) and --plain "
	       "(fuse-plain)", nmiss);

	/* Figure 3a: single misses, distinct chunks in every run. */
	for (run = 0; run < runs; run++) {
		const struct miss *mr = m + (size_t)run * nmiss;

		b_drop_caches();
		feeder = start_incrfs("0");
		ASSERT_GT(feeder, 0);
		ASSERT_EQ(time_misses(M_INC, "incrfs", &f, mr, nmiss), 0);
		ASSERT_EQ(iu_get_stats(M_INC, &st), 0);
		EXPECT_GE(st.misses, nmiss);
		stop_incrfs(feeder);

		b_drop_caches();
		loader = start_fuse("--readahead=0");
		ASSERT_GT(loader, 0) iu_sh("cat " LOG);
		ASSERT_EQ(time_misses(M_FUSE, "fuse", &f, mr, nmiss), 0);
		stop_fuse(loader);

		b_drop_caches();
		plain = start_fuse_plain();
		ASSERT_GT(plain, 0) iu_sh("cat " LOG);
		ASSERT_EQ(time_misses(M_FUSE_P, "fuse-plain", &f, mr, nmiss), 0);
		stop_loader(plain, M_FUSE_P);
	}

	/* Figure 3b: cold read of the whole tree, every byte missing. */
	B_INFO("cold read: %zu files, %lld MiB; incrfsd with its defaults",
	       f.n, f.total >> 20);
	for (run = 0; run < runs; run++) {
		int last = run == runs - 1;

		b_drop_caches();
		feeder = start_incrfs("4");
		ASSERT_GT(feeder, 0);
		t0 = b_now();
		ASSERT_EQ(b_read_all(M_INC, &f), f.total);
		b_sample("cold", "incrfs", b_now() - t0);
		b_stop(feeder);
		if (!last)
			umount(M_INC);

		b_drop_caches();
		loader = start_fuse(NULL);
		ASSERT_GT(loader, 0);
		t0 = b_now();
		ASSERT_EQ(b_read_all(M_FUSE, &f), f.total);
		b_sample("cold", "fuse", b_now() - t0);
		if (!last)
			stop_fuse(loader);

		b_drop_caches();
		plain = start_fuse_plain();
		ASSERT_GT(plain, 0);
		t0 = b_now();
		ASSERT_EQ(b_read_all(M_FUSE_P, &f), f.total);
		b_sample("cold", "fuse-plain", b_now() - t0);
		if (!last)
			stop_loader(plain, M_FUSE_P);
	}

	/*
	 * Figure 4: both now hold every block (incrfs needs no feeder any
	 * more); read the tree again, cold page cache, next to plain ext4.
	 */
	ASSERT_EQ(iu_get_stats(M_INC, &st), 0);
	EXPECT_EQ(st.complete, 1);
	for (run = 0; run < runs; run++) {
		const char *name[4] = { "ext4", "incrfs", "fuse", "fuse-plain" };
		const char *root[4] = { B_TREE, M_INC, M_FUSE, M_FUSE_P };

		for (i = 0; i < 4; i++) {
			size_t k = (i + run) % 4;

			b_drop_caches();
			t0 = b_now();
			ASSERT_EQ(b_read_all(root[k], &f), f.total);
			b_sample("warm", name[k], b_now() - t0);
		}
	}

	/* What the loaders served is the source tree, byte for byte. */
	b_drop_caches();
	EXPECT_EQ(b_same_tree(M_FUSE, B_TREE, &f), 0);
	EXPECT_EQ(b_same_tree(M_FUSE_P, B_TREE, &f), 0);
	stop_fuse(loader);
	stop_loader(plain, M_FUSE_P);
	EXPECT_EQ(umount(M_INC), 0);
}

/* @len bytes of @path at @off into @buf; what pread() returned. */
static ssize_t read_at(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, off);
	close(fd);
	return n;
}

/*
 * The verifying loader refuses data that is not the image's: a tree and a
 * copy with one byte changed (in block 48 of a 256 KiB file), packed
 * alike; the loader serves the first tree's image with the second tree's
 * blob.  The 16-block chunk holding the changed block answers EIO, the
 * rest is served as the image says; --plain serves the changed data.
 */
#define V	B_ROOT "/verify"
#define M_V	"/tmp/m-fuse-verify"
TEST(loader_verifies_blocks)
{
	char buf[4096], want[4096];
	pid_t pid;

	ASSERT_EQ(b_disk(), 0);
	ASSERT_EQ(iu_sh("set -e; D=" V "; rm -rf $D; mkdir -p $D/a/sub; "
			"head -c 262144 /dev/urandom > $D/a/sub/f; "
			"head -c 20000 /dev/urandom > $D/a/g; "
			"cp -a $D/a $D/b; "
			"printf X | dd of=$D/b/sub/f bs=1 seek=200000 "
			"conv=notrunc 2>/dev/null; "
			"incrfs-pack $D/a $D/a.img --blob $D/a.blob >/dev/null; "
			"incrfs-pack $D/b $D/b.img --blob $D/b.blob >/dev/null"),
		  0);
	ASSERT_EQ(iu_sh("cmp -s " V "/a/sub/f " V "/b/sub/f"), 1);

	pid = start_loader(NULL, V "/a.img", V "/b.blob", V "/cache", M_V);
	ASSERT_GT(pid, 0) iu_sh("cat " LOG);
	EXPECT_EQ(iu_sh("cmp " M_V "/g " V "/a/g"), 0);
	ASSERT_EQ(read_at(V "/a/sub/f", want, sizeof(want), 0), 4096);
	EXPECT_EQ(read_at(M_V "/sub/f", buf, sizeof(buf), 0), 4096);
	EXPECT_EQ(memcmp(buf, want, sizeof(buf)), 0);
	errno = 0;
	EXPECT_EQ(read_at(M_V "/sub/f", buf, sizeof(buf), 48 * 4096), -1);
	EXPECT_EQ(errno, EIO);
	stop_loader(pid, M_V);

	pid = start_loader("--plain", V "/a.img", V "/b.blob", V "/cache", M_V);
	ASSERT_GT(pid, 0) iu_sh("cat " LOG);
	ASSERT_EQ(read_at(V "/b/sub/f", want, sizeof(want), 48 * 4096), 4096);
	EXPECT_EQ(read_at(M_V "/sub/f", buf, sizeof(buf), 48 * 4096), 4096);
	EXPECT_EQ(memcmp(buf, want, sizeof(buf)), 0);
	stop_loader(pid, M_V);
}

TEST_HARNESS_MAIN
