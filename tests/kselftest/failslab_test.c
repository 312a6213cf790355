// SPDX-License-Identifier: GPL-2.0-only
/*
 * failslab_test.c - incrfs under failing allocations: mount, lookup and
 * read of a full image, FILL through the control fd, and a read that
 * waits for a missing block, each run once per slab allocation it makes,
 * with exactly that allocation failing.  Every failure must come back as
 * an error (never wrong data, a crash or a hang), leave nothing behind
 * that breaks the next, uninjected attempt, and leak nothing (kmemleak).
 *
 * Mechanism: /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION) makes
 * the N-th fault-injection point the thread passes fail; with failslab's
 * ignore-gfp-wait off, every slab allocation is such a point.  N runs
 * from 1 until an attempt passes all its allocations without the fault
 * being used: then every allocation of the path has failed once.  The
 * test skips on kernels without failslab (Debian's); "make test-debug"
 * boots a kernel that has it.
 */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "blob.h"

#define TOP	"/tmp/failslab"
#define SRC	TOP "/src"
#define FULL	TOP "/full.img"
#define LAZY	TOP "/lazy.img"
#define BLOB	TOP "/lazy.blob"
#define COPY	TOP "/copy.img"
#define MNT	TOP "/mnt"
#define BS	4096
#define FAILSLAB "/sys/kernel/debug/failslab"
#define FAIL_PAGE_ALLOC "/sys/kernel/debug/fail_page_alloc"
#define KMEMLEAK "/sys/kernel/debug/kmemleak"
/* No path here makes this many slab allocations: a loop that gets this
 * far never ends (the fault is always used). */
#define MAX_NTH	3000
#define BIG_SIZE (20 * BS + 5)	/* "big": 21 blocks */

/* ---- the tree and images, built once ---- */

static int build_tree(void)
{
	char path[PATH_MAX];
	int i;

	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC "/dir/sub " MNT))
		return -1;
	if (iu_write_file(SRC "/empty", "", 0, 0644) ||
	    iu_pattern_file(SRC "/small", 100, 1) ||
	    iu_pattern_file(SRC "/three", 3 * BS + 1, 2) ||
	    iu_pattern_file(SRC "/big", BIG_SIZE, 3) ||
	    iu_pattern_file(SRC "/dir/sub/deep", 5000, 4) ||
	    symlink("three", SRC "/link") ||
	    link(SRC "/big", SRC "/hard") ||
	    mkfifo(SRC "/fifo", 0600) ||
	    setxattr(SRC "/small", "trusted.t1", "value-one", 9, 0))
		return -1;
	memset(path, 'x', 300);
	path[300] = '\0';
	if (symlink(path, SRC "/longlink"))
		return -1;
	for (i = 0; i < 12; i++) {
		snprintf(path, sizeof(path), SRC "/dir/f%02d", i);
		if (iu_pattern_file(path, i * 1000 + 1, 10 + i))
			return -1;
	}
	return 0;
}

static int setup_images(void)
{
	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	if (build_tree() ||
	    iu_sh("incrfs-pack --full " SRC " " FULL " >/dev/null") ||
	    iu_sh("incrfs-pack " SRC " " LAZY " --blob " BLOB " >/dev/null"))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

/* ---- fault injection ---- */

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int have_failslab(void)
{
	return access(FAILSLAB "/ignore-gfp-wait", W_OK) == 0 &&
	       access("/proc/thread-self/fail-nth", W_OK) == 0;
}

/*
 * Every slab allocation may fail (also GFP_KERNEL ones), silently (no
 * "FAULT_INJECTION: forcing a failure" stack dump in the kernel log);
 * page allocations never (their failures warn with a stack trace, and
 * failslab is the subject here).  Only fail-nth injects: probability
 * stays 0.
 */
static int setup_injection(void)
{
	if (write_str(FAILSLAB "/ignore-gfp-wait", "N") ||
	    write_str(FAILSLAB "/verbose", "0") ||
	    write_str(FAILSLAB "/probability", "0"))
		return -1;
	if (access(FAIL_PAGE_ALLOC "/min-order", W_OK) == 0 &&
	    (write_str(FAIL_PAGE_ALLOC "/min-order", "100") ||
	     write_str(FAIL_PAGE_ALLOC "/verbose", "0")))
		return -1;
	return 0;
}

/* The fail-nth file of the calling thread, opened before any arming. */
static int nth_open(void)
{
	return open("/proc/thread-self/fail-nth", O_RDWR);
}

/* Make the @n-th injection point from now on fail (0: none). */
static int nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

/* Was the armed fault used?  Disarms it either way. */
static int nth_used(int fd)
{
	char buf[16] = "";
	int used;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	used = atoi(buf) == 0;
	return nth_arm(fd, 0) ? -1 : used;
}

static int is_mounted(const char *dir)
{
	struct stat a, b;
	char parent[PATH_MAX];

	snprintf(parent, sizeof(parent), "%s/..", dir);
	if (stat(dir, &a) || stat(parent, &b))
		return -1;
	return a.st_dev != b.st_dev;
}

/* ---- what the tree must look like, taken before any injection ---- */

struct entry {
	char rel[64];
	mode_t mode;
	off_t size;
	const unsigned char *data;	/* regular files */
	char target[512];		/* symlinks */
};

static struct entry entries[64];
static int nr_entries;
static unsigned char content[256 * 1024];	/* all files' data */
static size_t content_used;

static int add_entry(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	struct entry *e = &entries[nr_entries];
	const char *rel = path + strlen(SRC);
	size_t len;
	unsigned char *data;

	(void)type;
	(void)ftw;
	if (nr_entries == (int)(sizeof(entries) / sizeof(entries[0])))
		return 1;
	snprintf(e->rel, sizeof(e->rel), "%s", *rel ? rel : "/");
	e->mode = st->st_mode;
	e->size = st->st_size;
	if (S_ISREG(st->st_mode)) {
		data = iu_slurp(path, &len);
		if (!data || len != (size_t)st->st_size ||
		    content_used + len > sizeof(content)) {
			free(data);
			return 1;
		}
		memcpy(content + content_used, data, len);
		e->data = content + content_used;
		content_used += len;
		free(data);
	} else if (S_ISLNK(st->st_mode)) {
		len = readlink(path, e->target, sizeof(e->target) - 1);
		if (len >= sizeof(e->target) - 1)
			return 1;
		e->target[len] = '\0';
	}
	nr_entries++;
	return 0;
}

static int load_entries(void)
{
	nr_entries = 0;
	content_used = 0;
	return nftw(SRC, add_entry, 8, FTW_PHYS) || nr_entries < 10 ? -1 : 0;
}

static const struct entry *find_entry(const char *rel)
{
	int i;

	for (i = 0; i < nr_entries; i++)
		if (!strcmp(entries[i].rel, rel))
			return &entries[i];
	return NULL;
}

/*
 * Walk the mounted tree (entry by entry, plus readdir of each directory)
 * while allocations may fail.  No libc call here allocates, so every
 * injection point is the kernel's.  An operation may fail; one that
 * succeeds must give the right answer, else @wrong says what was wrong.
 * Returns the number of failed operations.
 */
static char wrong[512];
static unsigned char readbuf[256 * 1024];
static unsigned char dentbuf[8192];

static int walk_one(const struct entry *e)
{
	char path[PATH_MAX], name[384], target[512];
	struct stat st;
	ssize_t n, done;
	int fd, errs = 0;
	long pos, got;

	snprintf(path, sizeof(path), MNT "%s", e->rel);
	if (lstat(path, &st))
		return 1;
	if (st.st_mode != e->mode ||
	    (!S_ISDIR(e->mode) && st.st_size != e->size)) {
		snprintf(wrong, sizeof(wrong), "%s: mode %o size %lld", e->rel,
			 st.st_mode, (long long)st.st_size);
		return 0;
	}
	if (S_ISLNK(e->mode)) {
		n = readlink(path, target, sizeof(target));
		if (n < 0)
			return 1;
		if ((size_t)n != strlen(e->target) || memcmp(target, e->target, n))
			snprintf(wrong, sizeof(wrong), "%s: symlink target",
				 e->rel);
		return 0;
	}
	if (S_ISREG(e->mode)) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return 1;
		for (done = 0; done < e->size; done += n) {
			n = read(fd, readbuf + done, sizeof(readbuf) - done);
			if (n <= 0)
				break;
		}
		close(fd);
		if (done != e->size)
			return 1;	/* an error (or a short read) */
		if (memcmp(readbuf, e->data, e->size))
			snprintf(wrong, sizeof(wrong), "%s: content", e->rel);
		if (!strcmp(e->rel, "/small")) {
			n = lgetxattr(path, "trusted.t1", target, sizeof(target));
			if (n < 0)
				errs++;
			else if (n != 9 || memcmp(target, "value-one", 9))
				snprintf(wrong, sizeof(wrong), "/small: xattr");
		}
		return errs;
	}
	if (!S_ISDIR(e->mode))
		return 0;
	fd = open(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return 1;
	for (;;) {
		got = syscall(SYS_getdents64, fd, dentbuf, sizeof(dentbuf));
		if (got <= 0) {
			errs += got < 0;
			break;
		}
		for (pos = 0; pos < got;) {
			struct dirent64 *d = (void *)(dentbuf + pos);

			pos += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			snprintf(name, sizeof(name), "%s/%s",
				 strcmp(e->rel, "/") ? e->rel : "", d->d_name);
			if (!find_entry(name))
				snprintf(wrong, sizeof(wrong),
					 "readdir of %s: %s", e->rel, name);
		}
	}
	close(fd);
	return errs;
}

static int walk_mounted(void)
{
	int i, errs = 0;

	for (i = 0; i < nr_entries; i++)
		errs += walk_one(&entries[i]);
	return errs;
}

/* ---- kmemleak: what was reported before these tests ---- */

static char leaks[16384];

/* Unreferenced objects kmemleak reports, in @leaks; their number. */
static int kmemleak_scan(void)
{
	size_t used = 0;
	int fd, count = 0;
	ssize_t n;
	char *p;

	if (write_str(KMEMLEAK, "scan"))
		return -1;
	fd = open(KMEMLEAK, O_RDONLY);
	if (fd < 0)
		return -1;
	while (used < sizeof(leaks) - 1 &&
	       (n = read(fd, leaks + used, sizeof(leaks) - 1 - used)) > 0)
		used += n;
	close(fd);
	leaks[used] = '\0';
	for (p = leaks; (p = strstr(p, "unreferenced object")); p++)
		count++;
	return count;
}

static int sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return nanosleep(&ts, NULL);
}

/*
 * Leaks kmemleak already reports before the first test are someone
 * else's (the guest's final scan reports them): their addresses are kept
 * in BASELINE so that kmemleak_finds_nothing_new counts only new ones.
 */
#define BASELINE TOP "/kmemleak.before"

static int kmemleak_baseline(void)
{
	if (access(KMEMLEAK, R_OK) || access(BASELINE, F_OK) == 0)
		return 0;
	if (kmemleak_scan() < 0)
		return -1;
	return iu_write_file(BASELINE, leaks, strlen(leaks), 0644);
}

/* ---- the fixture: images, injection set up, entries loaded ---- */

FIXTURE(fs) {
	int nth;
	int cfd;
};

FIXTURE_SETUP(fs)
{
	self->nth = -1;
	self->cfd = -1;
	if (!have_failslab())
		SKIP(return, "no failslab or fail-nth in this kernel "
		     "(CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS): "
		     "run make test-debug");
	ASSERT_EQ(0, setup_images());
	ASSERT_EQ(0, kmemleak_baseline()) TH_LOG("%s: %m", KMEMLEAK);
	ASSERT_EQ(0, setup_injection()) TH_LOG("configuring %s: %m", FAILSLAB);
	ASSERT_EQ(0, load_entries());
	self->nth = nth_open();
	ASSERT_GE(self->nth, 0) TH_LOG("fail-nth: %m");
	ASSERT_EQ(0, nth_arm(self->nth, 0));
}

FIXTURE_TEARDOWN(fs)
{
	if (self->nth >= 0) {
		nth_arm(self->nth, 0);
		close(self->nth);
	}
	if (self->cfd >= 0)
		close(self->cfd);
	umount2(MNT, MNT_DETACH);
}

/*
 * mount(2) of a full image, the N-th allocation failing.  A failed mount
 * leaves nothing mounted; a mount that survived its failed allocation
 * (one the kernel may do without) must be complete.
 */
TEST_F_TIMEOUT(fs, mount_fails_cleanly, 600)
{
	int ret, err, used, failed = 0, survived = 0;
	unsigned int n;

	for (n = 1; n < MAX_NTH; n++) {
		ASSERT_EQ(0, nth_arm(self->nth, n));
		ret = mount(FULL, MNT, "incrfs", MS_RDONLY, "timeout=2000");
		err = errno;
		used = nth_used(self->nth);
		ASSERT_GE(used, 0);
		if (ret) {
			ASSERT_TRUE(used) TH_LOG("mount failed without an "
						 "injected fault: %s",
						 strerror(err));
			ASSERT_NE(0, err);
			ASSERT_EQ(0, is_mounted(MNT))
				TH_LOG("allocation %u: mount failed (%s) but "
				       "left a mount", n, strerror(err));
			failed++;
			continue;
		}
		ASSERT_EQ(0, iu_cmp_tree(SRC, MNT))
			TH_LOG("allocation %u%s: mounted tree: %s", n,
			       used ? " failed" : "", iu_diff);
		ASSERT_EQ(0, umount(MNT)) TH_LOG("umount: %m");
		if (!used)
			break;
		survived++;
	}
	ASSERT_LT(n, MAX_NTH) TH_LOG("the fault was always used");
	TH_LOG("mount: %u allocations; %d failures made it fail, %d were "
	       "survived", n - 1, failed, survived);
	ASSERT_GT(failed, 0);
}

/*
 * Lookup, stat, readdir, readlink, getxattr and read of every file of a
 * freshly mounted full image, the N-th allocation failing: whatever
 * succeeds is right, and afterwards (no fault) the same mount reads back
 * exactly: a failure left no broken inode or page behind.
 */
TEST_F_TIMEOUT(fs, lookup_and_read_fail_cleanly, 900)
{
	int errs, used, failing = 0;
	unsigned int n;

	for (n = 1; n < MAX_NTH; n++) {
		ASSERT_EQ(0, iu_mount(FULL, MNT, "timeout=2000")) TH_LOG("%m");
		wrong[0] = '\0';
		ASSERT_EQ(0, nth_arm(self->nth, n));
		errs = walk_mounted();
		used = nth_used(self->nth);
		ASSERT_GE(used, 0);
		ASSERT_STREQ("", wrong) TH_LOG("allocation %u failed", n);
		ASSERT_TRUE(used || !errs)
			TH_LOG("%d operations failed with no fault injected",
			       errs);
		failing += errs > 0;
		ASSERT_EQ(0, iu_cmp_tree(SRC, MNT))
			TH_LOG("after allocation %u failed: %s", n, iu_diff);
		ASSERT_EQ(0, umount(MNT)) TH_LOG("umount: %m");
		if (!used)
			break;
	}
	ASSERT_LT(n, MAX_NTH) TH_LOG("the fault was always used");
	TH_LOG("walk: %u allocations, %d made an operation fail", n - 1,
	       failing);
	ASSERT_GT(failing, 0);
}

/* ---- FILL through the control fd ---- */

static unsigned char blobdata[64 * BS];
static struct incrfs_fill_block fbs[128];

/* Every data block, from the blob, in @blobdata; returns their number. */
static int load_blob(void)
{
	struct incrfs_blob blob;
	struct incrfs_chunk_info ci;
	uint64_t c;
	int fd, ret = -1;

	fd = open(BLOB, O_RDONLY);
	if (fd < 0)
		return -1;
	if (incrfs_blob_open(&blob, fd))
		goto out;
	if (blob.nr_blocks > sizeof(blobdata) / BS)
		goto out_blob;
	for (c = 0; c < blob.nr_chunks; c++) {
		if (incrfs_blob_chunk(&blob, c, &ci) ||
		    incrfs_blob_read_chunk(&blob, c,
					   blobdata + ci.first_block * BS,
					   sizeof(blobdata) -
					   ci.first_block * BS))
			goto out_blob;
	}
	ret = blob.nr_blocks;
out_blob:
	incrfs_blob_close(&blob);
out:
	close(fd);
	return ret;
}

/* A fresh copy of the lazy image (nothing present), mounted, and its
 * control fd. */
static int mount_lazy(int *cfd, const char *opts)
{
	int fd;

	if (iu_sparse_copy(LAZY, COPY) || iu_mount(COPY, MNT, opts))
		return -1;
	fd = open(MNT, O_RDONLY);
	if (fd < 0)
		return -1;
	*cfd = ioctl(fd, INCRFS_IOC_OPEN_CONTROL);
	close(fd);
	return *cfd < 0 ? -1 : 0;
}

static int present_blocks(int cfd, uint64_t *present)
{
	struct incrfs_stats st;

	if (ioctl(cfd, INCRFS_IOC_GET_STATS, &st))
		return -1;
	*present = st.blocks_present;
	return 0;
}

/* Is data block @b present?  (GET_FILLED on the control fd.) */
static int block_present(int cfd, uint64_t b)
{
	struct incrfs_block_range r[1];
	struct incrfs_filled_ranges fr = {
		.ranges = (uintptr_t)r, .capacity = 1, .start = b,
	};

	if (ioctl(cfd, INCRFS_IOC_GET_FILLED, &fr))
		return -1;
	return fr.count == 1 && r[0].begin <= b && b < r[0].end;
}

/*
 * The batch: "big" block by block through its inode number (an iget per
 * entry, the first one reading the inode in), then every data block by number (those already filled by the
 * first part come back as present).  Results start at 1: "not reached".
 */
static int make_batch(uint64_t big_ino, int nr_blocks)
{
	int i, n = 0;

	for (i = 0; i * BS < BIG_SIZE; i++) {
		const struct entry *e = find_entry("/big");
		static unsigned char bigblocks[21][BS];

		if (!e)
			return -1;
		memset(bigblocks[i], 0, BS);
		memcpy(bigblocks[i], e->data + (size_t)i * BS,
		       BIG_SIZE - i * BS < BS ? BIG_SIZE - i * BS : BS);
		fbs[n++] = (struct incrfs_fill_block){ .ino = big_ino,
			.block = i, .data = (uintptr_t)bigblocks[i],
			.len = BS, .result = 1 };
	}
	for (i = 0; i < nr_blocks; i++)
		fbs[n++] = (struct incrfs_fill_block){ .block = i,
			.data = (uintptr_t)(blobdata + (size_t)i * BS),
			.len = BS, .result = 1 };
	return n;
}

static void fill_loop(struct th_test *_metadata, int *nthp, int *cfdp,
		      unsigned int flags)
{
	struct incrfs_fill fill = { .flags = flags };
	uint64_t before = 0, after = 0, present = 0;
	int nr_blocks, count, ret, err, used, i, first_data, partial = 0;
	struct stat st;
	unsigned int n;

	nr_blocks = load_blob();
	ASSERT_GT(nr_blocks, 0);
	ASSERT_EQ(0, stat(SRC "/big", &st));
	for (n = 1; n < MAX_NTH; n++) {
		ASSERT_EQ(0, mount_lazy(cfdp, "timeout=2000")) TH_LOG("%m");
		ASSERT_EQ(0, stat(MNT "/big", &st));
		count = make_batch(st.st_ino, nr_blocks);
		ASSERT_GT(count, nr_blocks);
		first_data = count - nr_blocks;
		ASSERT_EQ(0, present_blocks(*cfdp, &before));
		ASSERT_EQ(0, before);

		fill.blocks = (uintptr_t)fbs;
		fill.count = count;
		fill.filled = 0;
		/* "big" not cached: FILL by inode number reads it in */
		ASSERT_EQ(0, write_str("/proc/sys/vm/drop_caches", "2"));
		ASSERT_EQ(0, nth_arm(*nthp, n));
		ret = ioctl(*cfdp, INCRFS_IOC_FILL, &fill);
		err = errno;
		used = nth_used(*nthp);
		ASSERT_GE(used, 0);

		ASSERT_TRUE(used || ret == 0)
			TH_LOG("FILL failed with no fault injected: %s",
			       strerror(err));
		if (ret)
			ASSERT_NE(0, err);
		for (i = 0; i < count; i++) {
			/* right data: only "out of memory" may refuse it */
			ASSERT_TRUE(fbs[i].result == 1 || fbs[i].result == 0 ||
				    fbs[i].result == -ENOMEM)
				TH_LOG("allocation %u failed: entry %d: result "
				       "%d", n, i, fbs[i].result);
			ASSERT_TRUE(used || fbs[i].result == 0);
			if (i < first_data || fbs[i].result == 1)
				continue;
			/* by data block: the answer says whether it is there */
			ASSERT_EQ(fbs[i].result == 0,
				  block_present(*cfdp, fbs[i].block))
				TH_LOG("allocation %u failed: data block %llu "
				       "result %d", n,
				       (unsigned long long)fbs[i].block,
				       fbs[i].result);
		}
		ASSERT_EQ(0, present_blocks(*cfdp, &after));
		EXPECT_EQ(after - before, fill.filled)
			TH_LOG("allocation %u failed: FILL said %u filled",
			       n, fill.filled);
		partial += after < (uint64_t)nr_blocks;

		/* no fault: the rest goes in, and the tree reads back */
		for (i = 0; i < count; i++)
			fbs[i].result = 1;
		fill.filled = 0;
		ASSERT_EQ(0, ioctl(*cfdp, INCRFS_IOC_FILL, &fill))
			TH_LOG("FILL after a failed one: %m");
		for (i = 0; i < count; i++)
			ASSERT_EQ(0, fbs[i].result) TH_LOG("entry %d", i);
		ASSERT_EQ(0, present_blocks(*cfdp, &present));
		ASSERT_EQ(nr_blocks, present);
		ASSERT_EQ(0, iu_cmp_tree(SRC, MNT))
			TH_LOG("after allocation %u failed: %s", n, iu_diff);
		close(*cfdp);
		*cfdp = -1;
		ASSERT_EQ(0, umount(MNT)) TH_LOG("umount: %m");
		if (!used)
			break;
	}
	ASSERT_LT(n, MAX_NTH) TH_LOG("the fault was always used");
	TH_LOG("FILL%s: %u allocations, %d left blocks missing", flags &
	       INCRFS_FILL_SYNC ? " (sync)" : "", n - 1, partial);
	ASSERT_GT(partial, 0);
}

TEST_F_TIMEOUT(fs, fill_fails_cleanly, 900)
{
	fill_loop(_metadata, &self->nth, &self->cfd, 0);
}

TEST_F_TIMEOUT(fs, sync_fill_fails_cleanly, 900)
{
	fill_loop(_metadata, &self->nth, &self->cfd, INCRFS_FILL_SYNC);
}

/*
 * A read of a missing block (a feeder's control fd open, nobody filling)
 * with the N-th allocation failing: it fails (timeout or no memory), in
 * time; then the block is filled and the same read succeeds.
 */
TEST_F_TIMEOUT(fs, missing_block_read_fails_cleanly, 900)
{
	static unsigned char buf[BS];
	const struct entry *big = find_entry("/big");
	struct incrfs_fill_block fb;
	struct incrfs_fill fill = { .blocks = (uintptr_t)&fb, .count = 1 };
	struct timespec t0, t1;
	int fd, ret, err, used, nomem = 0;
	struct stat st;
	unsigned int n;
	long ms;

	ASSERT_NOT_NULL(big);
	for (n = 1; n < MAX_NTH; n++) {
		ASSERT_EQ(0, mount_lazy(&self->cfd, "timeout=300"))
			TH_LOG("%m");
		fd = open(MNT "/big", O_RDONLY);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, fstat(fd, &st));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_EQ(0, nth_arm(self->nth, n));
		ret = pread(fd, buf, BS, 5 * BS);
		err = errno;
		used = nth_used(self->nth);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ASSERT_GE(used, 0);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
		ASSERT_EQ(-1, ret) TH_LOG("allocation %u failed: a read of a "
					  "missing block succeeded", n);
		ASSERT_TRUE(err == ETIMEDOUT || err == ENOMEM || err == EIO)
			TH_LOG("allocation %u failed: read: %s", n,
			       strerror(err));
		ASSERT_LT(ms, 30000) TH_LOG("the read took %ld ms", ms);
		nomem += err != ETIMEDOUT;

		fb = (struct incrfs_fill_block){ .ino = st.st_ino, .block = 5,
			.data = (uintptr_t)(big->data + 5 * BS), .len = BS,
			.result = 1 };
		fill.filled = 0;
		ASSERT_EQ(0, ioctl(self->cfd, INCRFS_IOC_FILL, &fill));
		ASSERT_EQ(0, fb.result);
		ASSERT_EQ(BS, pread(fd, buf, BS, 5 * BS));
		ASSERT_EQ(0, memcmp(buf, big->data + 5 * BS, BS));
		close(fd);
		close(self->cfd);
		self->cfd = -1;
		ASSERT_EQ(0, umount(MNT)) TH_LOG("umount: %m");
		if (!used)
			break;
	}
	ASSERT_LT(n, MAX_NTH) TH_LOG("the fault was always used");
	TH_LOG("missing-block read: %u allocations, %d failed it early",
	       n - 1, nomem);
}

/* ---- kmemleak: nothing the tests above did stays allocated ---- */

/*
 * kmemleak reports an object only once it is 5 s old, and a second scan
 * drops false positives from pointers that were in transit.
 */
TEST_TIMEOUT(kmemleak_finds_nothing_new, 300)
{
	static char before[sizeof(leaks)];
	char *p, *q, addr[32];
	int fd, fresh = 0, lines = 0;
	ssize_t n;
	size_t len = 0;

	if (!have_failslab() || access(KMEMLEAK, R_OK))
		SKIP(return, "no failslab or no kmemleak in this kernel: run "
		     "make test-debug");
	fd = open(BASELINE, O_RDONLY);
	ASSERT_GE(fd, 0) TH_LOG("%s: %m (did the tests above run?)",
				BASELINE);
	while (len < sizeof(before) - 1 &&
	       (n = read(fd, before + len, sizeof(before) - 1 - len)) > 0)
		len += n;
	close(fd);
	sleep_ms(6000);
	ASSERT_GE(kmemleak_scan(), 0) TH_LOG("%s: %m", KMEMLEAK);
	sleep_ms(1000);
	ASSERT_GE(kmemleak_scan(), 0) TH_LOG("%s: %m", KMEMLEAK);
	for (p = leaks; (p = strstr(p, "unreferenced object 0x")); p = q) {
		q = p + strlen("unreferenced object ");
		snprintf(addr, sizeof(addr), "%.18s", q);
		if (!strstr(before, addr))
			fresh++;
	}
	EXPECT_EQ(0, fresh);
	for (p = leaks; fresh && *p && lines++ < 300; p = q) {
		q = strchrnul(p, '\n');
		TH_LOG("kmemleak: %.*s", (int)(q - p), p);
		if (*q)
			q++;
	}
}

TEST_HARNESS_MAIN
