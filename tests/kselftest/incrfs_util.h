/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * incrfs_util.h - helpers shared by the guest tests: run a program, mount
 * an image with mount(2) (busybox mount would put a loop device under it),
 * issue an ioctl on a path (the mount's counters), build the reference
 * source tree, and compare a mounted tree with it.
 *
 * Header-only (static inline) because each *_test.c is built alone.
 */
#ifndef INCRFS_TEST_UTIL_H
#define INCRFS_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "uapi/incrfs.h"

/* Run argv; return its exit status, or -1 if it did not exit normally. */
static inline int iu_run(const char *const argv[])
{
	pid_t pid;
	int st;

	fflush(NULL);	/* the child must not repeat buffered output */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Run a shell command line; return its exit status. */
static inline int iu_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	const char *argv[] = { "sh", "-c", cmd, NULL };
	return iu_run(argv);
}

/*
 * Write back and drop the page cache (every clean page, dentries and
 * inodes): what a test reads next comes from the disk.  0, or -1.
 */
static inline int iu_drop_caches(void)
{
	int fd, ret;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, "3", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * Mount @image read-only on @dir.  With INCRFS_TEST_COLD=1 in the
 * environment (guest-init's on-disk pass) the page cache is dropped
 * first, so reads meet the image as a freshly booted machine would.
 */
static inline int iu_mount(const char *image, const char *dir,
			   const char *opts)
{
	const char *cold = getenv("INCRFS_TEST_COLD");

	mkdir(dir, 0755);
	if (cold && !strcmp(cold, "1") && iu_drop_caches())
		return -1;
	return mount(image, dir, "incrfs", MS_RDONLY, opts);
}

/* open(2) @path and issue ioctl @req on it: the ioctl's result, or -1. */
static inline int iu_ioctl_path(const char *path, unsigned long req,
				void *arg)
{
	int fd = open(path, O_RDONLY), ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, req, arg);
	close(fd);
	return ret;
}

/* The control fd of the incrfs mount at @mnt, or -1 (errno set). */
static inline int iu_open_control(const char *mnt)
{
	return iu_ioctl_path(mnt, INCRFS_IOC_OPEN_CONTROL, NULL);
}

/* The counters of the incrfs mount @path is on (INCRFS_IOC_GET_STATS). */
static inline int iu_get_stats(const char *path, struct incrfs_stats *st)
{
	return iu_ioctl_path(path, INCRFS_IOC_GET_STATS, st);
}

/*
 * Wait until the mount @mnt counts @misses waiting episodes: 0, or -1
 * after @ms or if its counters cannot be read.
 */
static inline int iu_wait_misses(const char *mnt, uint64_t misses, int ms)
{
	struct incrfs_stats st;

	for (; ms > 0; ms -= 20) {
		if (iu_get_stats(mnt, &st))
			return -1;
		if (st.misses >= misses)
			return 0;
		usleep(20 * 1000);
	}
	return -1;
}

static inline int iu_write_file(const char *path, const void *buf,
				size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Deterministic, incompressible-ish content. */
static inline void iu_fill_pattern(unsigned char *buf, size_t len,
				   unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

/*
 * Copy an image without writing its holes (the data region of a lazy image
 * is one), so a FILL allocates the copy's blocks and page cache as it
 * would on a disk, and each test gets its own image to fill.
 */
static inline int iu_sparse_copy(const char *from, const char *to)
{
	static const unsigned char zero[4096];
	unsigned char buf[4096];
	int in = open(from, O_RDONLY), out = -1, ret = -1;
	struct stat st;
	off_t off;

	if (in < 0 || fstat(in, &st))
		goto out;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || ftruncate(out, st.st_size))
		goto out;
	for (off = 0; off < st.st_size; off += sizeof(buf)) {
		ssize_t n = pread(in, buf, sizeof(buf), off);

		if (n <= 0)
			goto out;
		if (memcmp(buf, zero, n) && pwrite(out, buf, n, off) != n)
			goto out;
	}
	ret = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		ret = -1;
	return ret;
}

static inline int iu_pattern_file(const char *path, size_t len,
				  unsigned int seed)
{
	unsigned char *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -1;
	iu_fill_pattern(buf, len, seed);
	ret = iu_write_file(path, buf, len, 0644);
	free(buf);
	return ret;
}

/* Read a whole file into a malloc'd buffer. */
static inline unsigned char *iu_slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	size_t cap = 65536, n = 0;
	unsigned char *buf;
	ssize_t r;

	*len = 0;
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			free(buf);
			buf = NULL;
		} else if (r == 0) {
			break;
		} else {
			n += r;
		}
	}
	close(fd);
	*len = n;
	return buf;
}

/* First difference between two trees, as text in a static buffer. */
static char iu_diff[PATH_MAX + 256];
static const char *iu_cmp_root_a, *iu_cmp_root_b;

static inline int iu_fail(const char *what, const char *rel)
{
	snprintf(iu_diff, sizeof(iu_diff), "%s differs: %s", what, rel);
	return 1;
}

static inline int iu_cmp_xattrs(const char *a, const char *b, const char *rel)
{
	char la[8192], lb[8192], va[8192], vb[8192];
	ssize_t na = llistxattr(a, la, sizeof(la));
	ssize_t nb = llistxattr(b, lb, sizeof(lb));
	char *p;

	if (na < 0 || nb < 0 || na != nb)
		return iu_fail("xattr list", rel);
	for (p = la; p < la + na; p += strlen(p) + 1) {
		ssize_t sa = lgetxattr(a, p, va, sizeof(va));
		ssize_t sb = lgetxattr(b, p, vb, sizeof(vb));

		if (sa < 0 || sa != sb || memcmp(va, vb, sa))
			return iu_fail("xattr value", rel);
	}
	return 0;
}

static inline int iu_cmp_one(const char *a, const struct stat *sa, int type,
			     struct FTW *ftw)
{
	char b[PATH_MAX], ta[PATH_MAX], tb[PATH_MAX];
	const char *rel = a + strlen(iu_cmp_root_a);
	struct stat sb;

	(void)type;
	(void)ftw;
	snprintf(b, sizeof(b), "%s%s", iu_cmp_root_b, rel);
	if (lstat(b, &sb))
		return iu_fail("existence", rel);
	if (sa->st_mode != sb.st_mode || sa->st_uid != sb.st_uid ||
	    sa->st_gid != sb.st_gid)
		return iu_fail("mode/owner", rel);
	if (!S_ISDIR(sa->st_mode) && (sa->st_size != sb.st_size ||
				      sa->st_nlink != sb.st_nlink))
		return iu_fail("size/nlink", rel);
	if (!S_ISDIR(sa->st_mode) &&
	    (sa->st_mtim.tv_sec != sb.st_mtim.tv_sec ||
	     sa->st_mtim.tv_nsec != sb.st_mtim.tv_nsec))
		return iu_fail("mtime", rel);
	if ((S_ISCHR(sa->st_mode) || S_ISBLK(sa->st_mode)) &&
	    sa->st_rdev != sb.st_rdev)
		return iu_fail("rdev", rel);
	if (S_ISLNK(sa->st_mode)) {
		ssize_t la = readlink(a, ta, sizeof(ta));
		ssize_t lb = readlink(b, tb, sizeof(tb));

		if (la < 0 || la != lb || memcmp(ta, tb, la))
			return iu_fail("symlink target", rel);
	}
	if (S_ISREG(sa->st_mode)) {
		size_t la, lb;
		unsigned char *da = iu_slurp(a, &la), *db = iu_slurp(b, &lb);
		int same = da && db && la == lb && !memcmp(da, db, la);

		free(da);
		free(db);
		if (!same)
			return iu_fail("content", rel);
	}
	return iu_cmp_xattrs(a, b, rel);
}

/* 0 if every entry of tree @a is in @b with the same metadata and data. */
static inline int iu_cmp_tree(const char *a, const char *b)
{
	iu_cmp_root_a = a;
	iu_cmp_root_b = b;
	iu_diff[0] = '\0';
	return nftw(a, iu_cmp_one, 16, FTW_PHYS);
}

static inline int iu_count_entries(const char *dir)
{
	char cmd[PATH_MAX + 64];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

#endif /* INCRFS_TEST_UTIL_H */
