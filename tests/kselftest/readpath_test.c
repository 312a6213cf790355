// SPDX-License-Identifier: GPL-2.0-only
/*
 * readpath_test.c - the read path of a mounted image, in the real kernel:
 * a packed tree reads back exactly (metadata, data, xattrs, links), exec
 * and mmap work, overlayfs stacks on it, missing blocks wait with a
 * timeout and can be killed, and corrupted images are refused cleanly.
 *
 * The source tree and its images are built once, in /tmp/readpath, by the
 * first test that needs them; every test runs in its own child process.
 */
#include <grp.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <linux/userfaultfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>
#include <dirent.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"
#include "crc32c.h"
#include "image.h"

#define TOP	"/tmp/readpath"
#define SRC	TOP "/src"
#define FULL	TOP "/full.img"
#define LAZY	TOP "/lazy.img"
#define BLOB	TOP "/lazy.blob"
#define NFILES	10000

static int have_user_xattrs;

static int make_holes(const char *path)
{
	unsigned char buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	iu_fill_pattern(buf, sizeof(buf), 7);
	if (pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf) ||
	    pwrite(fd, buf, sizeof(buf), 65536) != sizeof(buf) ||
	    ftruncate(fd, (1 << 20) + 50)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int build_tree(void)
{
	struct timespec ts[2] = { { 1234567890, 123456789 },
				  { 1234567890, 123456789 } };
	char path[PATH_MAX], longtarget[3001];
	int i, fd;

	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC "/sub/a/b/c "
		  SRC "/dir10k " SRC "/opaque " SRC "/emptydir"))
		return -1;
	if (iu_write_file(SRC "/empty", "", 0, 0644) ||
	    iu_pattern_file(SRC "/exact", 3 * 4096, 1) ||
	    iu_pattern_file(SRC "/plus1", 3 * 4096 + 1, 2) ||
	    iu_pattern_file(SRC "/small", 100, 3) ||
	    iu_pattern_file(SRC "/big", (1 << 20) + 123, 4) ||
	    iu_pattern_file(SRC "/sub/a/b/c/deep", 5000, 5) ||
	    iu_pattern_file(SRC "/opaque/inner", 10, 6) ||
	    iu_pattern_file(SRC "/hard1", 9000, 8) ||
	    make_holes(SRC "/holes"))
		return -1;
	if (link(SRC "/hard1", SRC "/hard2") ||
	    symlink("exact", SRC "/link") ||
	    symlink("nowhere/at/all", SRC "/dangling"))
		return -1;
	memset(longtarget, 'a', 3000);
	longtarget[3000] = '\0';
	if (symlink(longtarget, SRC "/longlink") ||
	    mkfifo(SRC "/fifo", 0600) ||
	    mknod(SRC "/null", S_IFCHR | 0666, makedev(1, 3)) ||
	    mknod(SRC "/whiteout", S_IFCHR, makedev(0, 0)) ||
	    mknod(SRC "/blockdev", S_IFBLK | 0600, makedev(7, 200)))
		return -1;
	if (iu_pattern_file(SRC "/owned", 4097, 9) ||
	    chown(SRC "/owned", 1234, 5678) || chmod(SRC "/owned", 0640) ||
	    utimensat(AT_FDCWD, SRC "/owned", ts, AT_SYMLINK_NOFOLLOW))
		return -1;
	if (setxattr(SRC "/opaque", "trusted.overlay.opaque", "y", 1, 0) ||
	    setxattr(SRC "/small", "trusted.t1", "value-one", 9, 0) ||
	    setxattr(SRC "/small", "trusted.empty", "", 0, 0) ||
	    setxattr(SRC "/small", "security.s1", "sec", 3, 0))
		return -1;
	/* tmpfs has user.* xattrs only from 6.6 on */
	have_user_xattrs = !setxattr(SRC "/small", "user.color", "blue", 4, 0);
	if (have_user_xattrs &&
	    setxattr(SRC "/exact", "user.big", longtarget, 2000, 0))
		return -1;
	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), SRC "/dir10k/f%05d", i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0 || close(fd))
			return -1;
	}
	if (iu_sh("cp /bin/busybox " SRC "/busybox"))
		return -1;
	return 0;
}

/* Build the tree and both images once for all tests of this program. */
static int setup_images(void)
{
	if (access(TOP "/ready", F_OK) == 0) {
		have_user_xattrs = access(TOP "/user-xattrs", F_OK) == 0;
		return 0;
	}
	if (build_tree())
		return -1;
	if (iu_sh("incrfs-pack --full " SRC " " FULL " >/dev/null") ||
	    iu_sh("incrfs-pack " SRC " " LAZY " --blob " BLOB " >/dev/null"))
		return -1;
	if (have_user_xattrs && iu_write_file(TOP "/user-xattrs", "", 0, 0644))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

FIXTURE(full) {
	char mnt[64];
};

FIXTURE_SETUP(full)
{
	ASSERT_EQ(setup_images(), 0);
	snprintf(self->mnt, sizeof(self->mnt), TOP "/m%d", getpid());
	ASSERT_EQ(iu_mount(FULL, self->mnt, "timeout=2000"), 0);
}

FIXTURE_TEARDOWN(full)
{
	umount2(self->mnt, MNT_DETACH);
	rmdir(self->mnt);
}

/* The first test builds the tree and both images: minutes on a debug kernel. */
TEST_F_TIMEOUT(full, tree_matches_source, 360)
{
	int ret = iu_cmp_tree(SRC, self->mnt);

	if (ret)
		TH_LOG("%s", iu_diff);
	ASSERT_EQ(ret, 0);
	if (!have_user_xattrs)
		TH_LOG("source tmpfs has no user.* xattrs on this kernel");
}

TEST_F(full, no_extra_entries)
{
	char a[256], b[256];
	int na, nb;

	snprintf(a, sizeof(a), "find %s | wc -l > " TOP "/na%d", SRC, getpid());
	snprintf(b, sizeof(b), "find %s | wc -l > " TOP "/nb%d", self->mnt,
		 getpid());
	ASSERT_EQ(iu_sh("%s", a), 0);
	ASSERT_EQ(iu_sh("%s", b), 0);
	snprintf(a, sizeof(a), TOP "/na%d", getpid());
	snprintf(b, sizeof(b), TOP "/nb%d", getpid());
	{
		FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");

		ASSERT_NOT_NULL(fa);
		ASSERT_NOT_NULL(fb);
		ASSERT_EQ(fscanf(fa, "%d", &na), 1);
		ASSERT_EQ(fscanf(fb, "%d", &nb), 1);
		fclose(fa);
		fclose(fb);
	}
	ASSERT_EQ(na, nb);
}

TEST_F(full, hard_links_share_an_inode)
{
	char p1[128], p2[128];
	struct stat s1, s2;

	snprintf(p1, sizeof(p1), "%s/hard1", self->mnt);
	snprintf(p2, sizeof(p2), "%s/hard2", self->mnt);
	ASSERT_EQ(lstat(p1, &s1), 0);
	ASSERT_EQ(lstat(p2, &s2), 0);
	ASSERT_EQ(s1.st_ino, s2.st_ino);
	ASSERT_EQ(s1.st_nlink, 2);
}

TEST_F(full, large_directory)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/dir10k", self->mnt);
	ASSERT_EQ(iu_count_entries(p), NFILES);
	snprintf(p, sizeof(p), "%s/dir10k/f05000", self->mnt);
	ASSERT_EQ(lstat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/dir10k/f09999", self->mnt);
	ASSERT_EQ(lstat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/dir10k/f10000", self->mnt);
	ASSERT_EQ(lstat(p, &st), -1);
	ASSERT_EQ(errno, ENOENT);
	snprintf(p, sizeof(p), "%s/dir10k/f0500", self->mnt);
	ASSERT_EQ(lstat(p, &st), -1);
	ASSERT_EQ(errno, ENOENT);
}

TEST_F(full, exec_from_mount)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/busybox", self->mnt);
	const char *argv[] = { p, "true", NULL };
	ASSERT_EQ(iu_run(argv), 0);
	ASSERT_EQ(iu_sh("%s/busybox sh -c 'exit 7'", self->mnt), 7);
}

TEST_F(full, exec_dynamic_binary)
{
	/* a dynamically linked program and its libraries, from the mount */
	char p[128];

	if (access("/usr/bin/python3", X_OK))
		SKIP(return, "no dynamically linked program in this guest");
	ASSERT_EQ(iu_sh("mkdir -p " TOP "/dyn && cp /usr/bin/python3 " TOP
			"/dyn/ && incrfs-pack --full " TOP "/dyn " TOP
			"/dyn.img >/dev/null"), 0);
	snprintf(p, sizeof(p), TOP "/dm%d", getpid());
	ASSERT_EQ(iu_mount(TOP "/dyn.img", p, ""), 0);
	EXPECT_EQ(iu_sh("%s/python3 -S -c 'print(6*7)' | grep -qx 42", p), 0);
	umount(p);
}

TEST_F(full, mmap_matches_read)
{
	char p[128];
	size_t len;
	unsigned char *want = iu_slurp(SRC "/big", &len);
	unsigned char *map;
	int fd;

	ASSERT_NOT_NULL(want);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(map, MAP_FAILED);
	ASSERT_EQ(memcmp(map, want, len), 0);
	munmap(map, len);
	/* a writable shared mapping of a read-only file system is refused */
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_EQ(map, MAP_FAILED);
	close(fd);
	free(want);
}

TEST_F(full, sendfile_and_splice)
{
	char p[128];
	size_t len, got_len;
	unsigned char *want = iu_slurp(SRC "/plus1", &len), *got;
	int in, out;
	off_t off = 0;

	ASSERT_NOT_NULL(want);
	snprintf(p, sizeof(p), "%s/plus1", self->mnt);
	in = open(p, O_RDONLY);
	ASSERT_GE(in, 0);
	out = open(TOP "/sendfile.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(out, 0);
	ASSERT_EQ(sendfile(out, in, &off, len + 100), (ssize_t)len);
	close(in);
	close(out);
	got = iu_slurp(TOP "/sendfile.out", &got_len);
	ASSERT_EQ(got_len, len);
	ASSERT_EQ(memcmp(got, want, len), 0);
	free(got);
	free(want);
}

/*
 * Read @rel of the mount @mnt whole with read() (the page cache reads
 * ahead), compare it with the source; the mount's counters in @st.
 */
static int read_and_count(const char *mnt, const char *rel,
			  struct incrfs_stats *st)
{
	char p[128];
	size_t len, got_len;
	unsigned char *want, *got;
	int ret = -1;

	snprintf(p, sizeof(p), SRC "/%s", rel);
	want = iu_slurp(p, &len);
	snprintf(p, sizeof(p), "%s/%s", mnt, rel);
	got = iu_slurp(p, &got_len);
	if (want && got && got_len == len && !memcmp(want, got, len))
		ret = iu_get_stats(mnt, st);
	free(want);
	free(got);
	return ret;
}

/* Read all of @path into the page cache (buffered reads). */
static int cache_file(const char *path)
{
	size_t len;
	unsigned char *buf = iu_slurp(path, &len);

	free(buf);
	return buf ? 0 : -1;
}

/*
 * Readahead reads the image directly where its page cache holds none of
 * the range and the backing file system can (not tmpfs, whose data is
 * its page cache), and buffered otherwise; both give the file's bytes.
 * The on-disk pass (guest-init, ext4) is where the direct branch runs.
 */
TEST_F(full, image_reads_go_direct_where_the_disk_allows)
{
	struct incrfs_stats st;
	struct statfs sf;
	int fd, direct_ok;

	ASSERT_EQ(statfs(TOP, &sf), 0);
	fd = open(FULL, O_RDONLY | O_DIRECT);
	direct_ok = fd >= 0 && (unsigned long)sf.f_type != 0x01021994UL;
	if (fd >= 0)
		close(fd);

	/* cold: nothing of the image in the page cache */
	ASSERT_EQ(umount(self->mnt), 0);
	ASSERT_EQ(iu_drop_caches(), 0);
	ASSERT_EQ(mount(FULL, self->mnt, "incrfs", MS_RDONLY, NULL), 0);
	ASSERT_EQ(read_and_count(self->mnt, "big", &st), 0);
	TH_LOG("cold, %s: %llu direct, %llu buffered reads of the image",
	       direct_ok ? "a disk" : "tmpfs or no O_DIRECT",
	       (unsigned long long)st.image_reads_direct,
	       (unsigned long long)st.image_reads_buffered);
	if (direct_ok)
		EXPECT_GT(st.image_reads_direct, 0);
	else
		EXPECT_EQ(st.image_reads_direct, 0);
	EXPECT_GT(st.image_reads_direct + st.image_reads_buffered, 0);

	/* warm: the whole image in its page cache, every read buffered */
	ASSERT_EQ(umount(self->mnt), 0);
	ASSERT_EQ(cache_file(FULL), 0);
	ASSERT_EQ(mount(FULL, self->mnt, "incrfs", MS_RDONLY, NULL), 0);
	ASSERT_EQ(read_and_count(self->mnt, "big", &st), 0);
	TH_LOG("image cached: %llu direct, %llu buffered",
	       (unsigned long long)st.image_reads_direct,
	       (unsigned long long)st.image_reads_buffered);
	EXPECT_EQ(st.image_reads_direct, 0);
	EXPECT_GT(st.image_reads_buffered, 0);
}

TEST_F(full, holes_read_as_zeroes)
{
	char p[128];
	unsigned char buf[4096], zero[4096] = { 0 }, pat[4096];
	int fd;

	snprintf(p, sizeof(p), "%s/holes", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	iu_fill_pattern(pat, sizeof(pat), 7);
	ASSERT_EQ(pread(fd, buf, 4096, 8192), 4096);
	ASSERT_EQ(memcmp(buf, zero, 4096), 0);
	ASSERT_EQ(pread(fd, buf, 4096, 65536), 4096);
	ASSERT_EQ(memcmp(buf, pat, 4096), 0);
	ASSERT_EQ(pread(fd, buf, 4096, 1 << 20), 50);
	close(fd);
}

TEST_F(full, proc_mounts_and_statfs)
{
	char line[512];
	struct statfs sf;
	FILE *f = fopen("/proc/mounts", "r");
	int found = 0;

	ASSERT_NOT_NULL(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, self->mnt) && strstr(line, " incrfs ro,") &&
		    strstr(line, "timeout=2000") && strstr(line, FULL))
			found = 1;
	fclose(f);
	ASSERT_TRUE(found);
	ASSERT_EQ(statfs(self->mnt, &sf), 0);
	ASSERT_EQ((unsigned long)sf.f_type, INCRFS_SUPER_MAGIC);
	ASSERT_EQ(sf.f_bsize, 4096);
	ASSERT_GT(sf.f_blocks, 256);
	ASSERT_GT(sf.f_files, NFILES);
	ASSERT_EQ(sf.f_namelen, 255);
}

TEST_F(full, read_only)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/newfile", self->mnt);
	ASSERT_EQ(open(p, O_WRONLY | O_CREAT, 0644), -1);
	ASSERT_EQ(errno, EROFS);
	snprintf(p, sizeof(p), "%s/small", self->mnt);
	ASSERT_EQ(setxattr(p, "trusted.x", "1", 1, 0), -1);
	ASSERT_EQ(errno, EROFS);
}

TEST_F(full, overlay_copy_up_and_whiteout)
{
	char opts[512], p[256];
	size_t len;
	unsigned char *data;
	struct stat st;

	ASSERT_EQ(iu_sh("rm -rf " TOP "/ov && mkdir -p " TOP "/ov/u " TOP
			"/ov/w " TOP "/ov/m"), 0);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=" TOP
		 "/ov/u,workdir=" TOP "/ov/w", self->mnt);
	ASSERT_EQ(mount("overlay", TOP "/ov/m", "overlay", 0, opts), 0);
	/* read through the overlay */
	ASSERT_EQ(iu_sh("cmp " SRC "/big " TOP "/ov/m/big"), 0);
	/* copy-up on write; the image is unchanged */
	ASSERT_EQ(iu_sh("echo appended >> " TOP "/ov/m/small"), 0);
	data = iu_slurp(TOP "/ov/m/small", &len);
	ASSERT_NOT_NULL(data);
	ASSERT_EQ(len, 109);
	free(data);
	snprintf(p, sizeof(p), "%s/small", self->mnt);
	ASSERT_EQ(lstat(p, &st), 0);
	ASSERT_EQ(st.st_size, 100);
	ASSERT_EQ(lstat(TOP "/ov/u/small", &st), 0);
	/* delete: a whiteout in the upper layer hides the image's file */
	ASSERT_EQ(unlink(TOP "/ov/m/exact"), 0);
	ASSERT_EQ(lstat(TOP "/ov/m/exact", &st), -1);
	ASSERT_EQ(lstat(TOP "/ov/u/exact", &st), 0);
	ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	ASSERT_EQ(lstat(p, &st), 0);
	/* the image's own whiteout hides nothing it has, and is not shown */
	ASSERT_EQ(lstat(TOP "/ov/m/whiteout", &st), -1);
	ASSERT_EQ(umount(TOP "/ov/m"), 0);
}

TEST_F(full, overlay_lower_whiteout_and_opaque_dir)
{
	char opts[512];
	struct stat st;

	/* a layer below the image, with what the image deletes or hides */
	ASSERT_EQ(iu_sh("rm -rf " TOP "/ov2 && mkdir -p " TOP "/ov2/base/opaque "
			TOP "/ov2/m && echo old > " TOP "/ov2/base/whiteout && "
			"echo hidden > " TOP "/ov2/base/opaque/other && "
			"echo kept > " TOP "/ov2/base/basefile"), 0);
	snprintf(opts, sizeof(opts), "lowerdir=%s:" TOP "/ov2/base", self->mnt);
	ASSERT_EQ(mount("overlay", TOP "/ov2/m", "overlay", MS_RDONLY, opts), 0);
	EXPECT_EQ(lstat(TOP "/ov2/m/whiteout", &st), -1);
	EXPECT_EQ(lstat(TOP "/ov2/m/opaque/other", &st), -1);
	EXPECT_EQ(lstat(TOP "/ov2/m/opaque/inner", &st), 0);
	EXPECT_EQ(lstat(TOP "/ov2/m/basefile", &st), 0);
	EXPECT_EQ(lstat(TOP "/ov2/m/big", &st), 0);
	ASSERT_EQ(umount(TOP "/ov2/m"), 0);
}

/* ---- images whose blocks are missing, with no feeder ---- */

FIXTURE(lazy) {
	char mnt[64];
};

FIXTURE_SETUP(lazy)
{
	ASSERT_EQ(setup_images(), 0);
	snprintf(self->mnt, sizeof(self->mnt), TOP "/l%d", getpid());
	/* a private copy: fills must not leak into other tests */
	ASSERT_EQ(iu_sh("cp " LAZY " %s.img", self->mnt), 0);
}

FIXTURE_TEARDOWN(lazy)
{
	char p[80];

	umount2(self->mnt, MNT_DETACH);
	rmdir(self->mnt);
	snprintf(p, sizeof(p), "%s.img", self->mnt);
	unlink(p);
}

static int mount_lazy(const char *mnt, const char *opts)
{
	char img[80];

	snprintf(img, sizeof(img), "%s.img", mnt);
	return iu_mount(img, mnt, opts);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F(lazy, missing_block_times_out)
{
	char p[128], buf[4096];
	double t0, dt;
	int fd;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=1000"), 0);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	t0 = now_s();
	ASSERT_EQ(pread(fd, buf, sizeof(buf), 0), -1);
	ASSERT_EQ(errno, ETIMEDOUT);
	dt = now_s() - t0;
	EXPECT_TRUE(dt >= 0.95) TH_LOG("%.3f s", dt);
	EXPECT_TRUE(dt < 1.9) TH_LOG("%.3f s", dt);	/* one timeout, not two */
	close(fd);
}

/* A remount changes the wait timeout, and /proc/mounts shows it. */
TEST_F(lazy, remount_changes_the_timeout)
{
	char p[128], buf[4096];
	double t0, dt;
	int fd;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=60000"), 0);
	ASSERT_EQ(mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY,
			"timeout=500"), 0) TH_LOG("remount: %s", strerror(errno));
	snprintf(p, sizeof(p), "grep -q ' %s incrfs .*timeout=500' /proc/mounts",
		 self->mnt);
	EXPECT_EQ(iu_sh("%s", p), 0);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	t0 = now_s();
	ASSERT_EQ(pread(fd, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, ETIMEDOUT);
	dt = now_s() - t0;
	EXPECT_TRUE(dt >= 0.45 && dt < 5) TH_LOG("%.3f s, not the 60 s", dt);
	close(fd);
}

TEST_F(lazy, metadata_and_holes_need_no_feeder)
{
	char p[128], buf[4096], zero[4096] = { 0 };
	struct stat st;
	int fd;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=200"), 0);
	/* content needs a feeder; metadata does not */
	snprintf(p, sizeof(p), "%s/owned", self->mnt);
	ASSERT_EQ(lstat(p, &st), 0);
	ASSERT_EQ(st.st_uid, 1234);
	ASSERT_EQ(st.st_size, 4097);
	snprintf(p, sizeof(p), "%s/dir10k", self->mnt);
	ASSERT_EQ(iu_count_entries(p), NFILES);
	snprintf(p, sizeof(p), "%s/empty", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/holes", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pread(fd, buf, 4096, 8192), 4096);
	ASSERT_EQ(memcmp(buf, zero, 4096), 0);
	ASSERT_EQ(pread(fd, buf, 4096, 0), -1);
	ASSERT_EQ(errno, ETIMEDOUT);
	close(fd);
}

/*
 * FILL file blocks @blocks of @name (content from the source tree) on
 * control fd @ctl with @flags; each entry's result to @res.  Returns the
 * count filled, or -1 if the call failed.
 */
static int fill_on(int ctl, const char *mnt, const char *name,
		   const unsigned long *blocks, int n, unsigned int flags,
		   int *res)
{
	struct incrfs_fill_block fb[8];
	struct incrfs_fill arg = { 0 };
	unsigned char data[8][4096];
	char p[256];
	struct stat st;
	int src, i, ret;

	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	if (n > 8 || stat(p, &st))
		return -1;
	snprintf(p, sizeof(p), SRC "/%s", name);
	src = open(p, O_RDONLY);
	if (src < 0)
		return -1;
	for (i = 0; i < n; i++) {
		memset(data[i], 0, 4096);
		if (pread(src, data[i], 4096, blocks[i] * 4096) < 0) {
			close(src);
			return -1;
		}
		fb[i] = (struct incrfs_fill_block){
			.ino = st.st_ino, .block = blocks[i],
			.data = (uintptr_t)data[i], .len = 4096,
			.result = 1,	/* the kernel must overwrite it */
		};
	}
	close(src);
	arg.blocks = (uintptr_t)fb;
	arg.count = n;
	arg.flags = flags;
	ret = ioctl(ctl, INCRFS_IOC_FILL, &arg);
	for (i = 0; i < n; i++)
		res[i] = fb[i].result;
	return ret ? -1 : (int)arg.filled;
}

/* Fill blocks @blocks of @name from the source through a new control fd. */
static int fill_from_source(const char *mnt, const char *name,
			    const unsigned long *blocks, int n, int sync)
{
	int ctl = iu_open_control(mnt), res[8], i, ret;

	if (ctl < 0)
		return -1;
	ret = fill_on(ctl, mnt, name, blocks, n, sync ? INCRFS_FILL_SYNC : 0,
		      res);
	for (i = 0; ret >= 0 && i < n; i++)
		if (res[i])
			ret = -1;
	close(ctl);
	return ret;
}

/* tracefs, mounted if it is not: the directory, or NULL. */
static const char *tracefs(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char p[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/events", dirs[i]);
		if (!access(p, F_OK))
			return dirs[i];
	}
	if (mount("tracefs", dirs[0], "tracefs", 0, NULL))
		return NULL;
	return dirs[0];
}

static int trace_write(const char *dir, const char *file, const char *s)
{
	char p[160];
	int fd, ret;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * The tracepoints (events/incrfs/) tell when a task waited for which
 * block and how it ended, what each FILL did, and how the image was read.
 */
TEST_F(lazy, tracepoints_show_waits_fills_and_image_reads)
{
	unsigned long blocks[] = { 1 };
	unsigned char buf[4096];
	const char *dir = tracefs();
	char p[160], *log;
	size_t len;
	int fd;

	ASSERT_NOT_NULL(dir) TH_LOG("no tracefs: %s", strerror(errno));
	ASSERT_EQ(trace_write(dir, "events/incrfs/enable", "1"), 0)
		TH_LOG("no incrfs events in %s", dir);
	ASSERT_EQ(trace_write(dir, "trace", ""), 0);
	ASSERT_EQ(mount_lazy(self->mnt, "timeout=200"), 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(pread(fd, buf, 4096, 0), -1);		/* waits, times out */
	ASSERT_EQ(fill_from_source(self->mnt, "exact", blocks, 1, 0), 1);
	EXPECT_EQ(pread(fd, buf, 4096, 4096), 4096);	/* reads the image */
	close(fd);
	trace_write(dir, "events/incrfs/enable", "0");
	snprintf(p, sizeof(p), "%s/trace", dir);
	log = (char *)iu_slurp(p, &len);
	ASSERT_NOT_NULL(log);
	log = realloc(log, len + 1);
	ASSERT_NOT_NULL(log);
	log[len] = 0;
	EXPECT_NOT_NULL(strstr(log, "incrfs_wait_start:")) TH_LOG("%s", log);
	EXPECT_NOT_NULL(strstr(log, "ret -110 waited"));
	EXPECT_NOT_NULL(strstr(log, "incrfs_fill:"));
	EXPECT_NOT_NULL(strstr(log, "entries 1 filled 1 left 0"));
	EXPECT_NOT_NULL(strstr(log, "incrfs_image_read:"));
	free(log);
}

TEST_F(lazy, present_blocks_read_around_missing_ones)
{
	unsigned long blocks[] = { 0, 2 };
	unsigned char buf[4096], want[3 * 4096];
	char p[128];
	int fd;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=300"), 0);
	ASSERT_EQ(fill_from_source(self->mnt, "exact", blocks, 2, 0), 2);
	iu_fill_pattern(want, sizeof(want), 1);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pread(fd, buf, 4096, 0), 4096);
	ASSERT_EQ(memcmp(buf, want, 4096), 0);
	ASSERT_EQ(pread(fd, buf, 4096, 8192), 4096);
	ASSERT_EQ(memcmp(buf, want + 8192, 4096), 0);
	ASSERT_EQ(pread(fd, buf, 4096, 4096), -1);
	ASSERT_EQ(errno, ETIMEDOUT);
	close(fd);
}

TEST_F(lazy, killed_reader_returns_promptly)
{
	char p[128];
	pid_t pid;
	int st, i;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=0"), 0);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char buf[4096];
		int fd = open(p, O_RDONLY);

		pread(fd, buf, sizeof(buf), 4096 * 10);
		_exit(3);	/* must not get here */
	}
	usleep(500 * 1000);
	ASSERT_EQ(waitpid(pid, &st, WNOHANG), 0);	/* still waiting */
	ASSERT_EQ(kill(pid, SIGKILL), 0);
	for (i = 0; i < 50; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(100 * 1000);
	}
	ASSERT_LT(i, 50);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/*
 * A child that maps the first @len bytes of @path and touches page @page:
 * exit 0, or a signal.
 */
static pid_t start_faulter_at(const char *path, size_t len, unsigned long page)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		volatile unsigned char *m;

		m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			_exit(2);
		(void)m[page * 4096];
		_exit(0);
	}
	return pid;
}

/* A child that maps @path and touches its second page. */
static pid_t start_faulter(const char *path)
{
	return start_faulter_at(path, 8192, 1);
}

/*
 * A page fault on a missing block waits for one timeout, then SIGBUS: the
 * retried fault (FAULT_FLAG_TRIED, mmap_lock held) does not wait again.
 */
TEST_F(lazy, page_fault_timeout_is_sigbus)
{
	char p[128];
	double t0, dt;
	pid_t pid;
	int st;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=1000"), 0);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	t0 = now_s();
	pid = start_faulter(p);
	ASSERT_GE(pid, 0);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	dt = now_s() - t0;
	ASSERT_TRUE(WIFSIGNALED(st));
	ASSERT_EQ(WTERMSIG(st), SIGBUS);
	EXPECT_TRUE(dt >= 0.95) TH_LOG("%.3f s", dt);
	EXPECT_TRUE(dt < 1.9) TH_LOG("%.3f s", dt);	/* one timeout, not two */
}

/* A child that reads block 1 of @path as @uid: 0, or the errno. */
static pid_t start_uid_reader(const char *path, uid_t uid)
{
	pid_t pid = fork();

	if (pid == 0) {
		char buf[4096];
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			_exit(98);
		if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(99);
		if (pread(fd, buf, sizeof(buf), 4096) == sizeof(buf))
			_exit(0);
		_exit(errno);
	}
	return pid;
}

/*
 * A second reader of the same page waits with its own timeout, not behind
 * the first one: root waits (the mount's 20 s), then uid 65534, whose
 * timeout is 300 ms, reads the same block and must time out in about that.
 */
TEST_F(lazy, second_reader_of_a_page_waits_with_its_own_timeout)
{
	struct incrfs_uid_timeout t = { .uid = 65534, .timeout_ms = 300 };
	pid_t first, second;
	double t0, dt;
	char p[128];
	int st;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=20000"), 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	ASSERT_EQ(0, iu_ioctl_path(p, INCRFS_IOC_SET_UID_TIMEOUT, &t));
	first = start_uid_reader(p, 0);
	ASSERT_GT(first, 0);
	usleep(300 * 1000);	/* it waits */
	t0 = now_s();
	second = start_uid_reader(p, 65534);
	ASSERT_GT(second, 0);
	ASSERT_EQ(second, waitpid(second, &st, 0));
	dt = now_s() - t0;
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(ETIMEDOUT, WEXITSTATUS(st));
	EXPECT_TRUE(dt < 3.0) TH_LOG("%.3f s", dt);
	kill(first, SIGKILL);
	EXPECT_EQ(first, waitpid(first, &st, 0));
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * Readers waiting for missing blocks, by read() and by a page fault, with
 * no timeout, do not keep the system from freezing for a suspend
 * (/sys/power/pm_test "freezer": freeze every task, wait, thaw).
 */
TEST_F(lazy, waiting_readers_do_not_block_suspend)
{
	char p[128], states[128] = "";
	pid_t by_read, by_fault;
	int fd, ret, st;
	ssize_t n;

	fd = open("/sys/power/state", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, states, sizeof(states) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0 || !strstr(states, "freeze") ||
	    access("/sys/power/pm_test", W_OK))
		SKIP(return, "no suspend-to-idle or pm_test in this kernel");
	ASSERT_EQ(mount_lazy(self->mnt, "timeout=0"), 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	by_read = start_uid_reader(p, 0);
	ASSERT_GT(by_read, 0);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	by_fault = start_faulter(p);
	ASSERT_GE(by_fault, 0);
	usleep(500 * 1000);	/* both wait */
	ASSERT_EQ(0, write_str("/sys/power/pm_freeze_timeout", "3000"));
	ASSERT_EQ(0, write_str("/sys/power/pm_test", "freezer"));
	ret = write_str("/sys/power/state", "freeze");
	write_str("/sys/power/pm_test", "none");
	write_str("/sys/power/pm_freeze_timeout", "20000");
	EXPECT_EQ(0, ret) TH_LOG("freezing failed: %s", strerror(errno));
	/* both still wait, and go on when killed */
	EXPECT_EQ(0, waitpid(by_read, &st, WNOHANG));
	EXPECT_EQ(0, waitpid(by_fault, &st, WNOHANG));
	kill(by_read, SIGKILL);
	kill(by_fault, SIGKILL);
	EXPECT_EQ(by_read, waitpid(by_read, &st, 0));
	EXPECT_EQ(by_fault, waitpid(by_fault, &st, 0));
}

/*
 * A page fault reads around the faulting page by INCRFS_MMAP_RA_KB (128
 * KiB), not by the mount's 512 KiB window for read(): the hints it gives
 * the feeder lie around the fault, within 16 blocks on either side.  And
 * the file's first missing fault hints the whole file, once, flagged
 * INCRFS_PENDING_MAPPED.
 */
TEST_F(lazy, page_fault_reads_around_a_small_window)
{
	struct incrfs_pending_read recs[64];
	unsigned long fault = 128, lo = ~0UL, hi = 0, whole = 0, mapped = 0;
	struct stat st;
	char p[128];
	ssize_t n, i;
	pid_t pid;
	int ctl;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=30000"), 0);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	ASSERT_EQ(0, stat(p, &st));
	/* hints go only to a feeder that is there */
	ctl = iu_open_control(self->mnt);
	ASSERT_GE(ctl, 0);
	pid = start_faulter_at(p, st.st_size, fault);
	ASSERT_GE(pid, 0);
	usleep(300 * 1000);	/* it waits for block 128 */
	ASSERT_EQ(0, fcntl(ctl, F_SETFL, O_NONBLOCK));
	n = read(ctl, recs, sizeof(recs));
	ASSERT_GT(n, 0);
	for (i = 0; i < n / (ssize_t)sizeof(recs[0]); i++) {
		if (!(recs[i].flags & INCRFS_PENDING_READAHEAD) ||
		    recs[i].ino != st.st_ino)
			continue;
		if (recs[i].flags & INCRFS_PENDING_MAPPED) {
			mapped++;
			whole += recs[i].count;
			EXPECT_EQ(0, recs[i].block);	/* one extent */
			continue;
		}
		if (recs[i].block < lo)
			lo = recs[i].block;
		if (recs[i].block + recs[i].count > hi)
			hi = recs[i].block + recs[i].count;
	}
	EXPECT_LT(lo, hi) TH_LOG("no readahead hint for the fault");
	EXPECT_GE(lo, fault - 16) TH_LOG("hints %lu..%lu", lo, hi);
	EXPECT_LE(hi, fault + 16) TH_LOG("hints %lu..%lu", lo, hi);
	EXPECT_EQ(1, mapped);
	EXPECT_EQ((unsigned long)(st.st_size + 4095) / 4096, whole);
	kill(pid, SIGKILL);
	EXPECT_EQ(pid, waitpid(pid, NULL, 0));
	/* another fault of the file: no second whole-file hint */
	pid = start_faulter_at(p, st.st_size, fault + 100);
	ASSERT_GE(pid, 0);
	usleep(300 * 1000);
	n = read(ctl, recs, sizeof(recs));
	for (i = 0; n > 0 && i < n / (ssize_t)sizeof(recs[0]); i++)
		EXPECT_FALSE(recs[i].flags & INCRFS_PENDING_MAPPED);
	close(ctl);
	kill(pid, SIGKILL);
	EXPECT_EQ(pid, waitpid(pid, NULL, 0));
}

TEST_F(lazy, waiter_wakes_when_block_is_filled)
{
	unsigned long blocks[] = { 1 };
	unsigned char want[3 * 4096];
	char p[128];
	pid_t pid;
	int st;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=0"), 0);
	iu_fill_pattern(want, sizeof(want), 1);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		unsigned char buf[4096];
		int fd = open(p, O_RDONLY);

		if (pread(fd, buf, 4096, 4096) != 4096)
			_exit(1);
		_exit(memcmp(buf, want + 4096, 4096) ? 2 : 0);
	}
	usleep(300 * 1000);
	ASSERT_EQ(waitpid(pid, &st, WNOHANG), 0);
	ASSERT_EQ(fill_from_source(self->mnt, "exact", blocks, 1, 0), 1);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(WEXITSTATUS(st), 0);
}

/* A child that reads block @blk of @name and checks it; exits 0 if right. */
static pid_t start_reader(const char *mnt, const char *name, unsigned long blk,
			  int seed)
{
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char buf[4096], want[4096];
		unsigned char *all;
		char p[128];
		int fd;

		snprintf(p, sizeof(p), "%s/%s", mnt, name);
		fd = open(p, O_RDONLY);
		all = malloc((blk + 1) * 4096);
		if (fd < 0 || !all)
			_exit(3);
		iu_fill_pattern(all, (blk + 1) * 4096, seed);
		memcpy(want, all + blk * 4096, 4096);
		if (pread(fd, buf, 4096, blk * 4096) != 4096)
			_exit(1);
		_exit(memcmp(buf, want, 4096) ? 2 : 0);
	}
	return pid;
}

static int exit_code(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * The next record on control fd @ctl for file block @blk of @ino, within
 * 10 s: 0 with it in @rec, or -1.
 */
static int next_record_for(int ctl, ino_t ino, unsigned long blk,
			   struct incrfs_pending_read *rec)
{
	struct pollfd pfd = { .fd = ctl, .events = POLLIN };
	double end = now_s() + 10;

	while (now_s() < end) {
		if (poll(&pfd, 1, 100) < 0)
			return -1;
		if (!(pfd.revents & POLLIN))
			continue;
		if (read(ctl, rec, sizeof(*rec)) != sizeof(*rec))
			return -1;
		if (rec->ino == ino && rec->block == blk &&
		    !(rec->flags & INCRFS_PENDING_READAHEAD))
			return 0;
	}
	return -1;
}

/*
 * INCRFS_IOC_FAIL_READS: a feeder that cannot supply a block ends the
 * waits for it with EIO at once, even with timeout=0 (wait forever); the
 * block stays missing, and the next read waits anew, is reported again
 * and can be filled.  Bad arguments are refused.
 */
TEST_F(lazy, fail_reads_ends_the_waits_with_eio)
{
	struct incrfs_fail_reads fr = { .count = 1, .error = EIO };
	struct incrfs_pending_read rec;
	struct incrfs_info info;
	unsigned long blocks[] = { 1 };
	char p[128];
	struct stat st;
	pid_t pid;
	int ctl, res[1];
	uint64_t seq;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=0"), 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	ASSERT_EQ(stat(p, &st), 0);
	ctl = iu_open_control(self->mnt);
	ASSERT_GE(ctl, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		unsigned char buf[4096];
		int fd = open(p, O_RDONLY);

		if (pread(fd, buf, 4096, 4096) >= 0)
			_exit(1);
		_exit(errno == EIO ? 0 : 2);
	}
	ASSERT_EQ(next_record_for(ctl, st.st_ino, 1, &rec), 0);
	seq = rec.seq;
	/* arguments the kernel refuses */
	fr.data_block = rec.data_block;
	fr.error = EAGAIN;
	EXPECT_EQ(ioctl(ctl, INCRFS_IOC_FAIL_READS, &fr), -1);
	EXPECT_EQ(errno, EINVAL);
	fr.error = EIO;
	fr.flags = 1;
	EXPECT_EQ(ioctl(ctl, INCRFS_IOC_FAIL_READS, &fr), -1);
	fr.flags = 0;
	fr.reserved = 1;
	EXPECT_EQ(ioctl(ctl, INCRFS_IOC_FAIL_READS, &fr), -1);
	fr.reserved = 0;
	fr.count = 0;
	EXPECT_EQ(ioctl(ctl, INCRFS_IOC_FAIL_READS, &fr), -1);
	ASSERT_EQ(iu_ioctl_path(self->mnt, INCRFS_IOC_GET_INFO, &info), 0);
	fr.count = info.nr_blocks - rec.data_block + 1;
	EXPECT_EQ(ioctl(ctl, INCRFS_IOC_FAIL_READS, &fr), -1);
	EXPECT_EQ(errno, EINVAL);
	/* not on the mount's own fds: only the feeder answers */
	fr.count = 1;
	EXPECT_EQ(iu_ioctl_path(self->mnt, INCRFS_IOC_FAIL_READS, &fr), -1);
	EXPECT_EQ(errno, ENOTTY);
	/* none of those ended the wait */
	usleep(200 * 1000);
	ASSERT_EQ(waitpid(pid, NULL, WNOHANG), 0);
	/* a range around the block: one wait failed */
	fr.data_block = rec.data_block ? rec.data_block - 1 : 0;
	fr.count = 3;
	ASSERT_EQ(ioctl(ctl, INCRFS_IOC_FAIL_READS, &fr), 0)
		TH_LOG("FAIL_READS: %s", strerror(errno));
	EXPECT_EQ(fr.failed, 1);
	EXPECT_EQ(exit_code(pid), 0);	/* EIO, and promptly: timeout=0 */
	/* nobody waits now */
	fr.failed = 0;
	ASSERT_EQ(ioctl(ctl, INCRFS_IOC_FAIL_READS, &fr), 0);
	EXPECT_EQ(fr.failed, 0);
	/* the block is still missing: a new reader waits, reported anew */
	pid = start_reader(self->mnt, "exact", 1, 1);
	ASSERT_GE(pid, 0);
	ASSERT_EQ(next_record_for(ctl, st.st_ino, 1, &rec), 0);
	EXPECT_GT(rec.seq, seq);
	ASSERT_EQ(fill_on(ctl, self->mnt, "exact", blocks, 1, 0, res), 1);
	EXPECT_EQ(res[0], 0);
	EXPECT_EQ(exit_code(pid), 0);
	close(ctl);
}

/*
 * A userfaultfd page: the kernel's first copy from it blocks until the
 * test hands the page in (uffd_resolve), so a FILL can be held at a known
 * point.  -1 where the kernel has no userfaultfd.
 */
static int uffd_page(void **page)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (uffd < 0)
		return -1;
	*page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)*page;
	reg.range.len = 4096;
	if (*page == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

/* Wait (at most 10 s) for the fault on the page; 0 once it came. */
static int uffd_wait_fault(int uffd)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 10000) != 1 ||
	    read(uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -1;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -1;
}

/* Hand in @data as the content of @page: the blocked copy goes on. */
static int uffd_resolve(int uffd, void *page, const void *data)
{
	struct uffdio_copy copy = {
		.dst = (uintptr_t)page, .src = (uintptr_t)data, .len = 4096,
	};

	return ioctl(uffd, UFFDIO_COPY, &copy);
}

struct fill_call {
	int ctl;
	struct incrfs_fill arg;
	int ret;
};

static void *fill_thread(void *p)
{
	struct fill_call *c = p;

	c->ret = ioctl(c->ctl, INCRFS_IOC_FILL, &c->arg);
	return NULL;
}

/* Wait (at most 10 s) until a wait for a missing block began after @old. */
static int wait_for_misses(const char *mnt, uint64_t old)
{
	struct incrfs_stats st;
	int i;

	for (i = 0; i < 1000; i++) {
		if (iu_get_stats(mnt, &st))
			return -1;
		if (st.misses > old)
			return 0;
		usleep(10 * 1000);
	}
	return -1;
}

/*
 * The FILL contract (uapi/incrfs.h): the block a reader waits for is
 * written before any other entry is looked at; the others follow in
 * order; once another reader starts to wait during the call, the call
 * stops before its next entry (-EAGAIN, counted in @left).  The batch is
 * big blocks P (present already), X, W (a reader waits), Y.  X's data is
 * a userfaultfd page, which holds the call inside X: there the test
 * checks that W's reader was served, starts a new reader, and lets the
 * call go on.  Without a new reader nothing stops a call.
 */
TEST_F(lazy, fill_writes_waited_first_and_stops_for_a_new_reader)
{
	const unsigned long first[] = { 0 }, rest[] = { 3 }, one[] = { 1 };
	struct incrfs_fill bad = { .flags = INCRFS_FILL_FLAGS + 1 };
	struct incrfs_fill_block fb[4];
	unsigned char *all, xdata[4096];
	struct fill_call call = { 0 };
	struct incrfs_stats st;
	size_t len;
	pthread_t th;
	pid_t in_big, in_exact;
	struct stat sst;
	char p[128];
	int res[8], uffd, i;
	void *page;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=30000"), 0);
	uffd = uffd_page(&page);
	if (uffd < 0)
		SKIP(return, "no userfaultfd in this kernel");
	call.ctl = iu_open_control(self->mnt);
	ASSERT_GE(call.ctl, 0);

	/* unknown flags and a non-zero @left or @filled are refused */
	EXPECT_EQ(-1, ioctl(call.ctl, INCRFS_IOC_FILL, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = (struct incrfs_fill){ .left = 1 };
	EXPECT_EQ(-1, ioctl(call.ctl, INCRFS_IOC_FILL, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = (struct incrfs_fill){ .filled = 1 };
	EXPECT_EQ(-1, ioctl(call.ctl, INCRFS_IOC_FILL, &bad));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(1, fill_on(call.ctl, self->mnt, "big", first, 1, 0, res));
	in_big = start_reader(self->mnt, "big", 2, 4);
	ASSERT_GT(in_big, 0);
	usleep(300 * 1000);	/* it waits for block 2 */

	all = iu_slurp(SRC "/big", &len);
	ASSERT_NE(NULL, all);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	ASSERT_EQ(0, stat(p, &sst));
	for (i = 0; i < 4; i++)
		fb[i] = (struct incrfs_fill_block){
			.ino = sst.st_ino, .block = i, .len = 4096,
			.data = (uintptr_t)(all + i * 4096), .result = 1,
		};
	memcpy(xdata, all + 4096, 4096);
	fb[1].data = (uintptr_t)page;
	call.arg = (struct incrfs_fill){ .blocks = (uintptr_t)fb, .count = 4 };
	ASSERT_EQ(0, pthread_create(&th, NULL, fill_thread, &call));

	ASSERT_EQ(0, uffd_wait_fault(uffd));
	/* the call is inside X: W is written, its reader done */
	EXPECT_EQ(0, exit_code(in_big));
	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	in_exact = start_reader(self->mnt, "exact", 1, 1);
	ASSERT_GT(in_exact, 0);
	ASSERT_EQ(0, wait_for_misses(self->mnt, st.misses));
	ASSERT_EQ(0, uffd_resolve(uffd, page, xdata));
	ASSERT_EQ(0, pthread_join(th, NULL));

	EXPECT_EQ(0, call.ret);
	EXPECT_EQ(2, call.arg.filled);	/* W, then X */
	EXPECT_EQ(1, call.arg.left);
	EXPECT_EQ(0, fb[0].result);
	EXPECT_EQ(0, fb[1].result);
	EXPECT_EQ(0, fb[2].result);
	EXPECT_EQ(-EAGAIN, fb[3].result);

	/* Y in a later call; exact's reader is served by its own */
	ASSERT_EQ(1, fill_on(call.ctl, self->mnt, "big", rest, 1, 0, res));
	EXPECT_EQ(0, res[0]);
	ASSERT_EQ(1, fill_on(call.ctl, self->mnt, "exact", one, 1, 0, res));
	EXPECT_EQ(0, exit_code(in_exact));
	free(all);
	close(uffd);
	close(call.ctl);
}

/*
 * A feeder whose buffer maps a missing block of the mount it fills would
 * wait for its own call: it gets -EFAULT for that entry, at once, and a
 * umount afterwards does not hang.
 */
TEST_F(lazy, fill_from_a_missing_block_of_the_same_mount_fails)
{
	struct incrfs_fill_block fb;
	struct incrfs_fill arg = { 0 };
	struct stat st;
	double t0;
	char p[128];
	void *map;
	int ctl, fd;

	ASSERT_EQ(mount_lazy(self->mnt, "timeout=30000"), 0);
	ctl = iu_open_control(self->mnt);
	ASSERT_GE(ctl, 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	map = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	snprintf(p, sizeof(p), "%s/big", self->mnt);
	ASSERT_EQ(0, stat(p, &st));
	fb = (struct incrfs_fill_block){
		.ino = st.st_ino, .block = 0, .len = 4096,
		.data = (uintptr_t)map + 4096, .result = 1,
	};
	arg.blocks = (uintptr_t)&fb;
	arg.count = 1;
	t0 = now_s();
	EXPECT_EQ(0, ioctl(ctl, INCRFS_IOC_FILL, &arg));
	EXPECT_TRUE(now_s() - t0 < 5.0);
	EXPECT_EQ(-EFAULT, fb.result);
	EXPECT_EQ(0, arg.filled);
	munmap(map, 3 * 4096);
	close(fd);
	close(ctl);
	EXPECT_EQ(0, umount(self->mnt));
}

/*
 * Which blocks of a file are present tells what others read: GET_FILLED on
 * a file, like the access log, needs CAP_SYS_ADMIN; the mount's counters
 * do not.
 */
TEST_F(lazy, get_filled_needs_cap_sys_admin)
{
	struct incrfs_block_range r[4];
	struct incrfs_filled_ranges fr = {
		.ranges = (uintptr_t)r, .capacity = 4,
	};
	char p[128];
	pid_t pid;
	int fd;

	ASSERT_EQ(mount_lazy(self->mnt, NULL), 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, ioctl(fd, INCRFS_IOC_GET_FILLED, &fr));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct incrfs_access_log log = { 0 };
		struct incrfs_stats st;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		if (ioctl(fd, INCRFS_IOC_GET_FILLED, &fr) != -1 ||
		    errno != EPERM)
			_exit(1);
		if (ioctl(fd, INCRFS_IOC_GET_ACCESS_LOG, &log) != -1 ||
		    errno != EPERM)
			_exit(2);
		if (ioctl(fd, INCRFS_IOC_GET_STATS, &st))
			_exit(3);
		_exit(0);
	}
	EXPECT_EQ(0, exit_code(pid));
	close(fd);
}

/*
 * GET_STATS grows at its end: a caller built against the first version of
 * the struct (72 bytes) gets that prefix, one built against a bigger
 * future struct gets ours and zeroes after it, and a size below the first
 * version is refused.
 */
TEST_F(lazy, get_stats_accepts_older_and_newer_struct_sizes)
{
	unsigned char big[sizeof(struct incrfs_stats) + 16];
	unsigned char old[INCRFS_STATS_SIZE_VER0 + 8];
	struct incrfs_stats st;
	unsigned int i;
	char p[128];
	int fd;

	ASSERT_EQ(mount_lazy(self->mnt, NULL), 0);
	snprintf(p, sizeof(p), "%s/exact", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ioctl(fd, INCRFS_IOC_GET_STATS, &st));
	EXPECT_GT(st.blocks_total, 0);

	memset(old, 0xa5, sizeof(old));
	ASSERT_EQ(0, ioctl(fd, _IOR(INCRFS_IOC_MAGIC, 4,
				   unsigned char[INCRFS_STATS_SIZE_VER0]), old));
	EXPECT_EQ(0, memcmp(old, &st, INCRFS_STATS_SIZE_VER0));
	for (i = INCRFS_STATS_SIZE_VER0; i < sizeof(old); i++)
		EXPECT_EQ(0xa5, old[i]) TH_LOG("byte %u written", i);

	memset(big, 0xa5, sizeof(big));
	ASSERT_EQ(0, ioctl(fd, _IOR(INCRFS_IOC_MAGIC, 4,
				   unsigned char[sizeof(big)]), big));
	EXPECT_EQ(0, memcmp(big, &st, sizeof(st)));
	for (i = sizeof(st); i < sizeof(big); i++)
		EXPECT_EQ(0, big[i]) TH_LOG("byte %u not zeroed", i);

	EXPECT_EQ(-1, ioctl(fd, _IOR(INCRFS_IOC_MAGIC, 4,
				    unsigned char[INCRFS_STATS_SIZE_VER0 - 8]),
			    big));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Copy FULL to @path and open the copy with tools/lib's reader, with the
 * root directory and "big" read: for tests that patch big's records or
 * data.  Returns the fd (read-write), or -1 (img->err may say why).
 */
static int open_copy_at_big(const char *path, struct incrfs_image *img,
			    struct incrfs_inode_info *root,
			    struct incrfs_inode_info *big)
{
	struct incrfs_dirent_info de;
	int fd;

	if (setup_images() || iu_sh("cp " FULL " %s", path))
		return -1;
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	if (incrfs_image_open(img, fd) ||
	    incrfs_image_read_inode(img, INCRFS_ROOT_INO, root) ||
	    incrfs_image_lookup(img, root, "big", 3, &de) ||
	    incrfs_image_read_inode(img, de.ino, big)) {
		incrfs_image_close(img);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The bytes of the last page past the end of a file read as zero in a
 * mapping, whatever the image holds there: here the padding of big's last
 * block (its hash is not checked again once present) is garbage.
 */
TEST(bytes_past_eof_map_as_zeroes)
{
	const char *img_path = TOP "/eof.img", *mnt = TOP "/eof";
	struct incrfs_inode_info root, big;
	struct incrfs_image img = { 0 };
	unsigned char junk[4096], *m;
	uint64_t size, last, pblk;
	size_t tail, i, bad = 0;
	int fd;

	fd = open_copy_at_big(img_path, &img, &root, &big);
	ASSERT_GE(fd, 0) TH_LOG("%s", img.err);
	size = big.size;
	last = (size - 1) / 4096;
	tail = size % 4096;
	ASSERT_NE(0, tail);
	ASSERT_EQ(1, incrfs_image_map_block(&img, &big, last, &pblk));
	memset(junk, 0xa5, sizeof(junk));
	ASSERT_EQ((ssize_t)(4096 - tail),
		  pwrite(fd, junk, 4096 - tail,
			 img.sb.data_off + pblk * 4096 + tail));
	incrfs_image_close(&img);
	close(fd);

	ASSERT_EQ(0, iu_mount(img_path, mnt, NULL));
	fd = open(TOP "/eof/big", O_RDONLY);
	ASSERT_GE(fd, 0);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, last * 4096);
	ASSERT_NE(MAP_FAILED, m);
	for (i = tail; i < 4096; i++)
		bad += m[i] != 0;
	EXPECT_EQ(0, bad);
	munmap(m, 4096);
	close(fd);
	EXPECT_EQ(0, umount(mnt));
	rmdir(mnt);
	unlink(img_path);
}

/* ---- the image is read with the mounter's credentials ---- */

#define AA_DIR		"/sys/kernel/security/apparmor"
#define CREDS_IMG	TOP "/creds.img"
#define CREDS_MNT	TOP "/creds"
#define CREDS_AA	TOP "/creds.aa"

/* Put current under AppArmor profile @name at once; 0 or -1. */
static int aa_change_profile(const char *name)
{
	char cmd[128];
	int fd, n;

	fd = open("/proc/self/attr/apparmor/current", O_WRONLY);
	if (fd < 0)
		fd = open("/proc/self/attr/current", O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(cmd, sizeof(cmd), "changeprofile %s", name);
	if (write(fd, cmd, n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Every access to the image runs with the credentials it was opened with,
 * the mounter's, never the reader's.  With AppArmor: the mount is made
 * under a profile that may read the image; the reader's profile may read
 * the mounted files but not the image file.  Image I/O with the reader's
 * credentials makes AppArmor check the image file against the reader's
 * profile and refuse it (EACCES): the case of a confined container that
 * reads (or faults in) files of its overlay lower layer.
 */
TEST(image_io_runs_with_the_mounters_credentials)
{
	static const char profiles[] =
		"profile incrfs_test_mounter {\n"
		"  capability,\n  file,\n  mount,\n  umount,\n}\n"
		"profile incrfs_test_reader {\n"
		"  file,\n  deny " CREDS_IMG " rwlk,\n}\n";
	size_t len, mlen;
	unsigned char *want, *map;
	char p[128];
	pid_t pid;
	int fd, st;

	mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	if (access(AA_DIR "/.replace", W_OK) ||
	    iu_sh("command -v apparmor_parser >/dev/null"))
		SKIP(return, "no AppArmor in this kernel, or no apparmor_parser");
	ASSERT_EQ(setup_images(), 0);
	ASSERT_EQ(0, iu_sh("cp " FULL " " CREDS_IMG));
	ASSERT_EQ(0, iu_write_file(CREDS_AA, profiles, sizeof(profiles) - 1,
				   0644));
	ASSERT_EQ(0, iu_sh("apparmor_parser -r -K " CREDS_AA));
	mkdir(CREDS_MNT, 0755);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (aa_change_profile("incrfs_test_mounter"))
			_exit(10);
		_exit(mount(CREDS_IMG, CREDS_MNT, "incrfs", MS_RDONLY,
			    "timeout=2000") ? 11 : 0);
	}
	ASSERT_EQ(0, exit_code(pid));

	want = iu_slurp(SRC "/big", &len);
	ASSERT_NE(NULL, want);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		unsigned char *got = malloc(len + 1);
		ssize_t n;

		if (!got || aa_change_profile("incrfs_test_reader"))
			_exit(10);
		/* the image itself is out of reach now */
		if (open(CREDS_IMG, O_RDONLY) >= 0)
			_exit(11);
		/* a lookup, a read and a page fault of the mounted tree */
		snprintf(p, sizeof(p), CREDS_MNT "/big");
		fd = open(p, O_RDONLY);
		if (fd < 0)
			_exit(12);
		n = pread(fd, got, len + 1, 0);
		if (n != (ssize_t)len)
			_exit(13);
		if (memcmp(got, want, len))
			_exit(14);
		close(fd);
		fd = open(CREDS_MNT "/exact", O_RDONLY);
		map = fd < 0 ? MAP_FAILED :
		      mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			_exit(15);
		mlen = 0;
		for (n = 0; n < 3 * 4096; n++)
			mlen += map[n];
		_exit(mlen ? 0 : 16);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("reader exit %d (12-13: refused)",
					     WEXITSTATUS(st));
	free(want);
	EXPECT_EQ(0, umount(CREDS_MNT));
	iu_sh("apparmor_parser -R " CREDS_AA);
	unlink(CREDS_IMG);
}

/* ---- corrupted images are refused ---- */

static int patch_image(const char *out, long off, const void *bytes,
		       size_t len, int fix_crc, long truncate_to)
{
	struct incrfs_super_block sb;
	int fd;

	if (iu_sh("cp " FULL " %s", out))
		return -1;
	fd = open(out, O_RDWR);
	if (fd < 0)
		return -1;
	if (bytes && pwrite(fd, bytes, len, off) != (ssize_t)len)
		return -1;
	if (fix_crc) {
		if (pread(fd, &sb, sizeof(sb), 0) != sizeof(sb))
			return -1;
		sb.s_checksum = 0;
		sb.s_checksum = htole32(incrfs_crc32c(0, &sb, sizeof(sb)));
		if (pwrite(fd, &sb, sizeof(sb), 0) != sizeof(sb))
			return -1;
	}
	if (truncate_to >= 0 && ftruncate(fd, truncate_to))
		return -1;
	return close(fd);
}

static int mount_errno(const char *img, const char *mnt)
{
	int ret = iu_mount(img, mnt, "");

	if (ret == 0) {
		umount(mnt);
		return 0;
	}
	return errno;
}

#define SB_OFF(field) ((long)offsetof(struct incrfs_super_block, field))

TEST(corrupted_images_are_refused)
{
	const char *img = TOP "/bad.img", *mnt = TOP "/badmnt";
	uint32_t bad32 = 0xdeadbeef;
	uint64_t huge = 1ULL << 60;
	uint16_t ver = 9;
	int e;

	ASSERT_EQ(setup_images(), 0);
	/* the unmodified copy mounts */
	ASSERT_EQ(patch_image(img, 0, NULL, 0, 0, -1), 0);
	ASSERT_EQ(mount_errno(img, mnt), 0);

	ASSERT_EQ(patch_image(img, SB_OFF(s_magic), &bad32, 4, 1, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EINVAL);
	/* any changed byte without a new checksum */
	ASSERT_EQ(patch_image(img, SB_OFF(s_reserved), &bad32, 4, 0, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EUCLEAN);
	/* a reserved byte, with its checksum: kept for a later version */
	ASSERT_EQ(patch_image(img, SB_OFF(s_reserved) + 100, &bad32, 1, 1, -1),
		  0);
	EXPECT_EQ(mount_errno(img, mnt), EINVAL);
	ASSERT_EQ(patch_image(img, SB_OFF(s_major), &ver, 2, 1, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EINVAL);
	ASSERT_EQ(patch_image(img, SB_OFF(s_feature_incompat), &bad32, 4, 1,
			      -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EINVAL);
	ASSERT_EQ(patch_image(img, SB_OFF(s_inode_off), &huge, 8, 1, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EUCLEAN);
	ASSERT_EQ(patch_image(img, SB_OFF(s_meta_size), &huge, 8, 1, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EUCLEAN);
	ASSERT_EQ(patch_image(img, SB_OFF(s_nr_blocks), &huge, 8, 1, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EUCLEAN);
	ASSERT_EQ(patch_image(img, SB_OFF(s_inode_count), &huge, 8, 1, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EUCLEAN);
	ASSERT_EQ(patch_image(img, SB_OFF(s_root_ino), &huge, 8, 1, -1), 0);
	EXPECT_EQ(mount_errno(img, mnt), EUCLEAN);
	/* truncated: inside the super block, and inside the data region */
	ASSERT_EQ(patch_image(img, 0, NULL, 0, 0, 100), 0);
	e = mount_errno(img, mnt);
	EXPECT_TRUE(e == EINVAL || e == EUCLEAN);
	ASSERT_EQ(patch_image(img, 0, NULL, 0, 0, 3 * 4096), 0);
	EXPECT_EQ(mount_errno(img, mnt), EUCLEAN);
	/* not an image at all */
	ASSERT_EQ(iu_sh("head -c 65536 /dev/zero > %s", img), 0);
	EXPECT_EQ(mount_errno(img, mnt), EINVAL);
	/* a directory is not an image */
	EXPECT_EQ(mount_errno(TOP, mnt), EISDIR);
	EXPECT_EQ(mount_errno(TOP "/does-not-exist", mnt), ENOENT);
}

/* 1 if a kernel log record since pu_kmsg_open_at_end() holds @text. */
static int kmsg_has(int fd, const char *text)
{
	char rec[8192];

	while (pu_kmsg_next(fd, rec, sizeof(rec)))
		if (strstr(rec, text))
			return 1;
	return 0;
}

/*
 * A super block that fails one check of its table offsets and sizes (with
 * a valid checksum) is refused as corrupt, and the kernel log names the
 * check that failed.
 */
TEST(super_block_check_failed_is_named_in_the_log)
{
	const char *img = TOP "/badsb.img", *mnt = TOP "/badsbmnt";
	struct incrfs_super_block sb;
	uint64_t val[3];
	char want[3][160];
	int c, fd;

	ASSERT_EQ(setup_images(), 0);
	fd = open(FULL, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)sizeof(sb), pread(fd, &sb, sizeof(sb), 0));
	close(fd);

	val[0] = le64toh(sb.s_bitmap_size) + 1;
	snprintf(want[0], sizeof(want[0]),
		 "bitmap size %llu does not fit %llu data blocks",
		 (unsigned long long)val[0],
		 (unsigned long long)le64toh(sb.s_nr_blocks));
	val[1] = le64toh(sb.s_data_off) + 1;
	snprintf(want[1], sizeof(want[1]),
		 "data region offset %llu is not block-aligned",
		 (unsigned long long)val[1]);
	val[2] = 1ULL << 60;
	snprintf(want[2], sizeof(want[2]),
		 "metadata area (%llu bytes at %llu) overruns hash table at %llu",
		 (unsigned long long)val[2],
		 (unsigned long long)le64toh(sb.s_meta_off),
		 (unsigned long long)le64toh(sb.s_hash_off));

	for (c = 0; c < 3; c++) {
		static const long field[3] = { SB_OFF(s_bitmap_size),
					       SB_OFF(s_data_off),
					       SB_OFF(s_meta_size) };
		uint64_t le = htole64(val[c]);

		ASSERT_EQ(0, patch_image(img, field[c], &le, 8, 1, -1));
		fd = pu_kmsg_open_at_end();
		ASSERT_GE(fd, 0) TH_LOG("/dev/kmsg: %s", strerror(errno));
		EXPECT_EQ(EUCLEAN, mount_errno(img, mnt)) TH_LOG("%s", want[c]);
		EXPECT_TRUE(kmsg_has(fd, want[c])) TH_LOG("not logged: %s",
							   want[c]);
		close(fd);
	}
	rmdir(mnt);
	unlink(img);
}

/*
 * Reserved bytes of an inode, a directory entry or an extent are zero, or
 * that file is refused as corrupt (EUCLEAN): a later version may give them
 * a meaning.  The image is patched through the userspace reader's view.
 */
TEST(reserved_bytes_of_records_are_refused)
{
	const char *img_path = TOP "/rsv.img", *mnt = TOP "/rsvmnt";
	static const struct {
		const char *what;
		size_t off;	/* in the record found below */
	} cases[] = {
		{ "inode", offsetof(struct incrfs_inode, i_reserved) + 3 },
		{ "dirent", offsetof(struct incrfs_dirent, d_reserved) },
		{ "extent", offsetof(struct incrfs_extent, e_reserved) + 1 },
	};
	struct incrfs_inode_info root, big;
	struct incrfs_image img = { 0 };
	struct stat st;
	uint64_t rec[3];
	unsigned int c;
	uint8_t one = 1;
	int fd;

	fd = open_copy_at_big(img_path, &img, &root, &big);
	ASSERT_GE(fd, 0) TH_LOG("%s", img.err);
	rec[0] = img.sb.inode_off + (big.ino - 1) * sizeof(struct incrfs_inode);
	rec[2] = img.sb.meta_off + big.meta_off;
	/* the entry of "big" in the root directory's table */
	for (c = 0; c < root.meta_count; c++) {
		struct incrfs_dirent_info d;

		ASSERT_EQ(0, incrfs_image_dirent(&img, &root, c, &d));
		if (d.ino == big.ino)
			break;
	}
	ASSERT_LT(c, root.meta_count);
	rec[1] = img.sb.meta_off + root.meta_off +
		 c * sizeof(struct incrfs_dirent);
	incrfs_image_close(&img);
	close(fd);

	for (c = 0; c < 3; c++) {
		ASSERT_EQ(0, iu_sh("cp " FULL " %s", img_path));
		fd = open(img_path, O_RDWR);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(1, pwrite(fd, &one, 1, rec[c] + cases[c].off));
		close(fd);
		ASSERT_EQ(0, iu_mount(img_path, mnt, NULL)) TH_LOG("%s",
								 cases[c].what);
		errno = 0;
		EXPECT_EQ(-1, stat(TOP "/rsvmnt/big", &st)) TH_LOG("%s",
							      cases[c].what);
		EXPECT_EQ(EUCLEAN, errno) TH_LOG("%s", cases[c].what);
		/* the other files stay readable (a lookup may meet the entry) */
		if (c != 1)
			EXPECT_EQ(0, stat(TOP "/rsvmnt/exact", &st));
		EXPECT_EQ(0, umount(mnt));
	}
	rmdir(mnt);
	unlink(img_path);
}

/* A root directory entry whose inode number is past the inode table. */
TEST(corrupted_dirent_is_refused_at_lookup)
{
	const char *img = TOP "/baddir.img", *mnt = TOP "/baddirmnt";
	struct incrfs_super_block sb;
	struct incrfs_inode root;
	struct incrfs_dirent de;
	uint64_t bad_ino;
	char p[128];
	struct stat st;
	DIR *d;
	int fd, errors = 0;

	ASSERT_EQ(setup_images(), 0);
	ASSERT_EQ(iu_sh("cp " FULL " %s", img), 0);
	fd = open(img, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pread(fd, &sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	ASSERT_EQ(pread(fd, &root, sizeof(root), le64toh(sb.s_inode_off)),
		  (ssize_t)sizeof(root));
	ASSERT_GT(le32toh(root.i_meta_count), 0);
	/* first entry of the root directory */
	ASSERT_EQ(pread(fd, &de, sizeof(de), le64toh(sb.s_meta_off) +
			le64toh(root.i_meta_off)), (ssize_t)sizeof(de));
	bad_ino = htole64(le64toh(sb.s_inode_count) + 5);
	de.d_ino = bad_ino;
	ASSERT_EQ(pwrite(fd, &de, sizeof(de), le64toh(sb.s_meta_off) +
			 le64toh(root.i_meta_off)), (ssize_t)sizeof(de));
	close(fd);

	ASSERT_EQ(iu_mount(img, mnt, ""), 0);
	d = opendir(mnt);
	ASSERT_NOT_NULL(d);
	errno = 0;
	while (readdir(d))
		;
	if (errno == EUCLEAN)
		errors++;
	closedir(d);
	EXPECT_EQ(errors, 1);
	/* other entries still resolve */
	snprintf(p, sizeof(p), "%s/small", mnt);
	EXPECT_EQ(lstat(p, &st), 0);
	umount(mnt);
}

TEST_HARNESS_MAIN
