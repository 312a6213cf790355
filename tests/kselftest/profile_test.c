// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile_test.c - access profiles end to end: a lazy mount made with
 * -o access_log, served by incrfsd, while a workload reads three files in
 * a known order; incrfsctl profile record lists exactly their data blocks
 * in that order.  Then a fresh lazy copy served with incrfsd
 * --prefetch-profile gets those chunks first, in the profile's order,
 * before anybody reads, and the workload then reads with no miss.  Also:
 * a profile of another image is refused; the log stops at access_log_max
 * and counts what it left out; the ioctl's argument checks.
 *
 * incrfsd, incrfsctl and incrfs-pack are the ones on PATH; every wait is
 * bounded.
 */
#include <signal.h>
#include <stdbool.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"
#include "image.h"
#include "profile.h"

#define TOP	"/tmp/prof"
#define SRC	TOP "/src"
#define IMG	TOP "/lazy.img"
#define BLOB	TOP "/lazy.blob"
#define SRC_B	TOP "/src_b"
#define IMG_B	TOP "/b.img"
#define BLOB_B	TOP "/b.blob"
#define PROFILE	TOP "/app.profile"
#define NFILES	8
#define FBLOCKS	25		/* blocks per file (the last one partial) */
#define CHUNK	4		/* --chunk-blocks */

/* The workload: these files, in this order. */
static const int workload[] = { 5, 2, 7 };
#define NWORK	(int)(sizeof(workload) / sizeof(workload[0]))

static int setup_images(void)
{
	char path[PATH_MAX];
	int i;

	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC " " SRC_B))
		return -1;
	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), SRC "/f%d", i);
		if (iu_pattern_file(path, (FBLOCKS - 1) * 4096 + 100, 40 + i))
			return -1;
	}
	if (iu_pattern_file(SRC_B "/other", 100000, 7) ||
	    iu_sh("incrfs-pack --chunk-blocks %d " SRC " " IMG " --blob " BLOB
		  " >/dev/null", CHUNK) ||
	    iu_sh("incrfs-pack " SRC_B " " IMG_B " --blob " BLOB_B
		  " >/dev/null"))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

/* Data blocks of file fN of the image: [*first, *first + *nr). */
static int data_blocks(const char *mnt, int n, uint64_t *first, uint64_t *nr)
{
	struct incrfs_inode_info ii;
	struct incrfs_image img = { 0 };
	char path[PATH_MAX];
	struct stat st;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/f%d", mnt, n);
	if (stat(path, &st))
		return -1;
	fd = open(IMG, O_RDONLY);
	if (fd < 0)
		return -1;
	ret = incrfs_image_open(&img, fd);
	if (!ret)
		ret = incrfs_image_read_inode(&img, st.st_ino, &ii);
	if (!ret) {
		*first = ii.first_block;
		*nr = ii.nr_blocks;
	}
	incrfs_image_close(&img);
	close(fd);
	return ret;
}

/* Blocks of file fN present in the mount. */
static long present_blocks(const char *mnt, int n)
{
	struct incrfs_block_range r[64];
	struct incrfs_filled_ranges arg = {
		.ranges = (uintptr_t)r, .capacity = 64,
	};
	char path[PATH_MAX];
	long sum = 0;
	uint32_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/f%d", mnt, n);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (ioctl(fd, INCRFS_IOC_GET_FILLED, &arg)) {
		close(fd);
		return -1;
	}
	close(fd);
	for (i = 0; i < arg.count; i++)
		sum += (long)(r[i].end - r[i].begin);
	return sum;
}

/* Read file fN through @mnt and compare it with the source. */
static int read_and_check(const char *mnt, int n)
{
	char a[PATH_MAX], b[PATH_MAX];
	unsigned char *x, *y;
	size_t lx, ly;
	int ret;

	snprintf(a, sizeof(a), SRC "/f%d", n);
	snprintf(b, sizeof(b), "%s/f%d", mnt, n);
	x = iu_slurp(a, &lx);
	y = iu_slurp(b, &ly);
	ret = x && y && lx == ly && !memcmp(x, y, lx) ? 0 : -1;
	free(x);
	free(y);
	return ret;
}

FIXTURE(prof) {
	char img[64], mnt[64], log[64];
	pid_t feeder;
};

FIXTURE_SETUP(prof)
{
	self->feeder = -1;
	ASSERT_EQ(0, setup_images());
	snprintf(self->img, sizeof(self->img), TOP "/t%d.img", getpid());
	snprintf(self->mnt, sizeof(self->mnt), TOP "/m%d", getpid());
	snprintf(self->log, sizeof(self->log), TOP "/feeder%d.log", getpid());
	ASSERT_EQ(0, iu_sh("cp " IMG " %s", self->img));
	mkdir(self->mnt, 0755);
}

FIXTURE_TEARDOWN(prof)
{
	pu_kill(&self->feeder);
	if (_metadata->res->failed)
		pu_show_log(self->log);
	umount2(self->mnt, MNT_DETACH);
	rmdir(self->mnt);
	unlink(self->img);
	unlink(self->log);
}

/*
 * incrfsd on @mnt.  With a @profile: one chunk at a time and no read-ahead
 * window, so the order of its fetches shows in its log.  Without: the
 * defaults, which fetch ahead of the readers (the log still sees every
 * first read).
 */
static pid_t feeder(const char *log, const char *mnt, const char *blob,
		    const char *profile)
{
	const char *argv[12] = { "incrfsd", "-v", "--source", blob };
	int n = 4;

	if (profile) {
		argv[n++] = "--depth=1";
		argv[n++] = "--readahead=0";
		argv[n++] = "--prefetch-profile";
		argv[n++] = profile;
	}
	argv[n++] = mnt;
	argv[n] = NULL;
	return pu_spawn(log, argv);
}

/* Record PROFILE: the workload on a lazy access_log mount. */
static int record(const char *img, const char *mnt, const char *log,
		  pid_t *pid)
{
	int i;

	if (iu_mount(img, mnt, "timeout=30000,access_log"))
		return -1;
	*pid = feeder(log, mnt, BLOB, NULL);
	if (*pid < 0 || !pu_wait_file_has(log, "incrfsd: serving", 20000))
		return -2;
	for (i = 0; i < NWORK; i++)
		if (read_and_check(mnt, workload[i]))
			return -3;
	if (iu_sh("incrfsctl profile record %s > " PROFILE " 2>%s.ctl",
		  mnt, log))
		return -4;
	return 0;
}

TEST_F(prof, record_lists_first_reads_in_order)
{
	char hex[2 * INCRFS_HASH_SIZE + 1];
	struct incrfs_profile p;
	struct incrfs_info info;
	uint64_t first, nr;
	int fd, i;
	FILE *f;

	ASSERT_EQ(0, record(self->img, self->mnt, self->log, &self->feeder));
	fd = open(self->mnt, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, INCRFS_IOC_GET_INFO, &info));
	close(fd);
	f = fopen(PROFILE, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, incrfs_profile_read(&p, f, PROFILE)) TH_LOG("%s", p.err);
	fclose(f);
	EXPECT_EQ(0, memcmp(p.root_hash, info.root_hash, INCRFS_HASH_SIZE));
	incrfs_profile_hex(info.root_hash, hex);
	EXPECT_TRUE(pu_file_has(PROFILE, hex));
	/* exactly the workload's files, whole, in its order */
	ASSERT_EQ(NWORK, p.nr);
	for (i = 0; i < NWORK; i++) {
		ASSERT_EQ(0, data_blocks(self->mnt, workload[i], &first, &nr));
		EXPECT_EQ(FBLOCKS, nr);
		EXPECT_EQ(first, p.ranges[i].start) TH_LOG("file f%d", workload[i]);
		EXPECT_EQ(nr, p.ranges[i].len) TH_LOG("file f%d", workload[i]);
	}
	EXPECT_EQ(NWORK * FBLOCKS, p.blocks);
	incrfs_profile_free(&p);
	/* the summary on stderr */
	EXPECT_EQ(0, iu_sh("grep -q '3 ranges, 75 blocks' %s.ctl && rm %s.ctl",
			   self->log, self->log));
	/* the log is there as long as the mount, and says so in mounts */
	EXPECT_EQ(0, iu_sh("grep -q ' %s incrfs .*access_log,access_log_max=65536' /proc/mounts",
			   self->mnt));
}

/* Chunks of the profile, in the order a replay should fetch them. */
static int profile_chunks(uint64_t *out, int max)
{
	struct incrfs_profile p;
	int n = 0, j;
	uint64_t c;
	size_t i;
	FILE *f = fopen(PROFILE, "r");

	if (!f)
		return -1;
	if (incrfs_profile_read(&p, f, PROFILE)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (i = 0; i < p.nr; i++) {
		for (c = p.ranges[i].start / CHUNK;
		     c <= (p.ranges[i].start + p.ranges[i].len - 1) / CHUNK;
		     c++) {
			for (j = 0; j < n && out[j] != c; j++)
				;
			if (j == n && n < max)
				out[n++] = c;
		}
	}
	incrfs_profile_free(&p);
	return n;
}

/* Chunks the feeder's log shows fetched for the profile, in order. */
static int logged_profile_chunks(const char *log, uint64_t *out, int max)
{
	char *text = pu_read_text(log), *s;
	unsigned long long c;
	int n = 0;

	if (!text)
		return -1;
	for (s = text; (s = strstr(s, "incrfsd: chunk ")) && n < max; s++) {
		char why[32];

		if (sscanf(s, "incrfsd: chunk %llu (%31[^)])", &c, why) == 2 &&
		    !strcmp(why, "profile"))
			out[n++] = c;
	}
	free(text);
	return n;
}

TEST_F(prof, replay_fetches_profile_first_then_no_misses)
{
	uint64_t want[64], got[64];
	struct incrfs_stats before, after;
	int i, n, m, ms;
	char mnt2[80], img2[80], log2[80];

	/* the profile, from a first mount */
	ASSERT_EQ(0, record(self->img, self->mnt, self->log, &self->feeder));
	pu_kill(&self->feeder);
	ASSERT_EQ(0, umount2(self->mnt, 0));

	/* a fresh lazy copy, served with the profile, nobody reading */
	snprintf(img2, sizeof(img2), "%s.2", self->img);
	snprintf(mnt2, sizeof(mnt2), "%s.2", self->mnt);
	snprintf(log2, sizeof(log2), "%s.2", self->log);
	ASSERT_EQ(0, iu_sh("cp " IMG " %s", img2));
	ASSERT_EQ(0, iu_mount(img2, mnt2, "timeout=30000"));
	self->feeder = feeder(log2, mnt2, BLOB, PROFILE);
	ASSERT_GT(self->feeder, 0);
	EXPECT_TRUE(pu_wait_file_has(log2, "chunks to fetch first", 20000));
	for (ms = 0; ms < 30000; ms += 50) {
		for (i = 0; i < NWORK; i++)
			if (present_blocks(mnt2, workload[i]) != FBLOCKS)
				break;
		if (i == NWORK)
			break;
		pu_msleep(50);
	}
	for (i = 0; i < NWORK; i++)
		EXPECT_EQ(FBLOCKS, present_blocks(mnt2, workload[i]))
			TH_LOG("f%d", workload[i]);
	/* only the profile's chunks: other files at most share edge chunks */
	for (i = 0; i < NFILES; i++)
		if (i != 5 && i != 2 && i != 7)
			EXPECT_GE(2 * (CHUNK - 1), present_blocks(mnt2, i))
				TH_LOG("f%d", i);
	/* in the profile's order (depth 1: one chunk at a time) */
	n = profile_chunks(want, 64);
	m = logged_profile_chunks(log2, got, 64);
	ASSERT_GT(n, 0);
	EXPECT_EQ(n, m);
	for (i = 0; i < n && i < m; i++)
		EXPECT_EQ(want[i], got[i]) TH_LOG("chunk #%d", i);

	/* the workload now reads without a single miss */
	ASSERT_EQ(0, iu_get_stats(mnt2, &before));
	for (i = 0; i < NWORK; i++)
		EXPECT_EQ(0, read_and_check(mnt2, workload[i]));
	ASSERT_EQ(0, iu_get_stats(mnt2, &after));
	EXPECT_EQ(0, after.misses);
	EXPECT_EQ(before.waits, after.waits);
	EXPECT_EQ(0, after.timeouts);

	pu_kill(&self->feeder);
	if (_metadata->res->failed)
		pu_show_log(log2);
	umount2(mnt2, MNT_DETACH);
	rmdir(mnt2);
	unlink(img2);
	unlink(log2);
}

TEST_F(prof, profile_of_another_image_is_refused)
{
	char img2[80], mnt2[80], log2[80];

	if (access(PROFILE, F_OK)) {
		ASSERT_EQ(0, record(self->img, self->mnt, self->log,
				    &self->feeder));
		pu_kill(&self->feeder);
	}
	snprintf(img2, sizeof(img2), "%s.b", self->img);
	snprintf(mnt2, sizeof(mnt2), "%s.b", self->mnt);
	snprintf(log2, sizeof(log2), "%s.b", self->log);
	ASSERT_EQ(0, iu_sh("cp " IMG_B " %s", img2));
	ASSERT_EQ(0, iu_mount(img2, mnt2, "timeout=30000"));
	self->feeder = feeder(log2, mnt2, BLOB_B, PROFILE);
	EXPECT_EQ(3, pu_wait_exit(self->feeder, 20000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(log2, "was recorded for another image"));
	/* not a profile at all: exit 1, says why */
	ASSERT_EQ(0, iu_write_file(TOP "/junk.profile", "hello\n", 6, 0644));
	self->feeder = feeder(log2, mnt2, BLOB_B, TOP "/junk.profile");
	EXPECT_EQ(1, pu_wait_exit(self->feeder, 20000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(log2, "not an incrfs access profile"));
	umount2(mnt2, MNT_DETACH);
	rmdir(mnt2);
	unlink(img2);
	unlink(log2);
}

static int get_log(const char *mnt, struct incrfs_access_log *arg)
{
	return iu_ioctl_path(mnt, INCRFS_IOC_GET_ACCESS_LOG, arg);
}

TEST_F(prof, log_stops_when_full_and_counts_the_rest)
{
	struct incrfs_block_range r[16];
	struct incrfs_access_log arg;
	uint64_t first[NFILES], nr;
	char path[PATH_MAX];
	int i, fd;

	ASSERT_EQ(0, iu_mount(self->img, self->mnt,
			      "timeout=30000,access_log_max=5"));
	for (i = 0; i < NFILES; i++)
		ASSERT_EQ(0, data_blocks(self->mnt, i, &first[i], &nr));
	/*
	 * One block of each file, last file first: 8 ranges into a log of 5.
	 * readahead(2) never waits for the missing blocks (no feeder).
	 */
	for (i = NFILES - 1; i >= 0; i--) {
		snprintf(path, sizeof(path), "%s/f%d", self->mnt, i);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, readahead(fd, 0, 4096));
		if (i == NFILES - 1)	/* twice: recorded once */
			ASSERT_EQ(0, readahead(fd, 0, 4096));
		close(fd);
	}
	memset(&arg, 0, sizeof(arg));
	arg.ranges = (uintptr_t)r;
	arg.capacity = 16;
	ASSERT_EQ(0, get_log(self->mnt, &arg)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(5, arg.count);
	EXPECT_EQ(5, arg.total);
	EXPECT_EQ(5, arg.blocks);
	EXPECT_EQ(3, arg.dropped);
	EXPECT_EQ(INCRFS_ACCESS_LOG_FULL, arg.flags);
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(first[NFILES - 1 - i], r[i].begin);
		EXPECT_EQ(first[NFILES - 1 - i] + 1, r[i].end);
	}
	/* a full log stays stopped, even for the block after its last one */
	snprintf(path, sizeof(path), "%s/f3", self->mnt);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, readahead(fd, 4096, 4096));
	close(fd);
	/* paging: a small buffer from an offset */
	arg.capacity = 2;
	arg.start = 2;
	ASSERT_EQ(0, get_log(self->mnt, &arg));
	EXPECT_EQ(2, arg.count);
	EXPECT_EQ(first[NFILES - 3], r[0].begin);
	EXPECT_EQ(4, arg.dropped);
	arg.start = 4;
	ASSERT_EQ(0, get_log(self->mnt, &arg));
	EXPECT_EQ(1, arg.count);
	arg.start = ~0ULL;
	ASSERT_EQ(0, get_log(self->mnt, &arg));
	EXPECT_EQ(0, arg.count);
	EXPECT_EQ(5, arg.total);
	/* capacity 0 only reports */
	arg.start = 0;
	arg.capacity = 0;
	ASSERT_EQ(0, get_log(self->mnt, &arg));
	EXPECT_EQ(0, arg.count);
	EXPECT_EQ(5, arg.total);
	/* reserved fields must be zero; a bad buffer is EFAULT */
	arg.reserved[3] = 1;
	EXPECT_EQ(-1, get_log(self->mnt, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.reserved[3] = 0;
	arg.ranges = 8;
	arg.capacity = 4;
	EXPECT_EQ(-1, get_log(self->mnt, &arg));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(prof, without_access_log_there_is_no_log)
{
	struct incrfs_access_log arg = { 0 };

	ASSERT_EQ(0, iu_mount(self->img, self->mnt, "timeout=30000"));
	EXPECT_EQ(-1, get_log(self->mnt, &arg));
	EXPECT_EQ(ENODATA, errno);
	/* incrfsctl says what to do and writes nothing to stdout */
	EXPECT_EQ(1, iu_sh("incrfsctl profile record %s > %s 2>%s.ctl",
			   self->mnt, self->log, self->log));
	EXPECT_EQ(0, iu_sh("test ! -s %s && grep -q 'mount it with -o access_log' %s.ctl",
			   self->log, self->log));
	EXPECT_NE(0, iu_sh("grep -q ' %s incrfs .*access_log' /proc/mounts",
			   self->mnt));
	iu_sh("rm -f %s.ctl", self->log);
	umount2(self->mnt, 0);
	/* a log size of 0 or above the limit refuses the mount */
	EXPECT_EQ(-1, iu_mount(self->img, self->mnt, "access_log_max=0"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, iu_mount(self->img, self->mnt, "access_log_max=65537"));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, iu_mount(self->img, self->mnt, "access_log_max=65536"));
}

TEST_HARNESS_MAIN
