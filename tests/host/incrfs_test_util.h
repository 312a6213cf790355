/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * incrfs_test_util.h - helpers shared by the host tests of tools/lib and
 * incrfs-pack: temporary trees, files with patterns, running the packer,
 * reading whole files and following paths inside an image.
 *
 * Why this exists: several test programs build source trees and look
 * inside images; keeping these helpers in one header keeps each test about
 * what it checks.  Header-only (static functions), included after
 * tests/kselftest/harness.h.
 */
#ifndef INCRFS_TEST_UTIL_H
#define INCRFS_TEST_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image.h"
#include "blob.h"
#include "writer.h"

#define TU_FN static __attribute__((unused))

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the name. */
TU_FN char *tu_mkdtemp(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (asprintf(&path, "%s/incrfs-%s.XXXXXX", base ? base : "/tmp", tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

TU_FN int tu_rm_one(const char *path, const struct stat *s, int flag,
		    struct FTW *ftw)
{
	(void)s;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf @path. */
TU_FN void tu_rm_rf(const char *path)
{
	if (path)
		nftw(path, tu_rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

/* Writes @len bytes at @data to a new file @path with @mode. */
TU_FN int tu_write_file(const char *path, const void *data, size_t len,
			mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* Fills @buf with bytes no 4 KiB block of which is all zero. */
TU_FN void tu_pattern(void *buf, size_t len, unsigned int seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)((x >> 16) | 1);
	}
}

/* A new file of @size pattern bytes. */
TU_FN int tu_pattern_file(const char *path, size_t size, unsigned int seed)
{
	void *buf = malloc(size ? size : 1);
	int ret;

	if (!buf)
		return -1;
	tu_pattern(buf, size, seed);
	ret = tu_write_file(path, buf, size, 0644);
	free(buf);
	return ret;
}

/* pread(2) exactly @len bytes at @off; 0 or -1. */
TU_FN int tu_pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads a whole file; *len gets its size.  NULL on error. */
TU_FN void *tu_read_file(const char *path, size_t *len)
{
	struct stat s;
	void *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &s) < 0 || !(buf = malloc((size_t)s.st_size + 1))) {
		close(fd);
		return NULL;
	}
	*len = (size_t)s.st_size;
	if (tu_pread_all(fd, buf, *len, 0)) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

/* The incrfs-pack to test: $INCRFS_PACK, else the ASan build, else the
 * plain one.  NULL if there is none. */
TU_FN const char *tu_pack_bin(void)
{
	static char path[PATH_MAX];
	const char *repo = getenv("INCRFS_REPO");
	const char *env = getenv("INCRFS_PACK");
	static const char *const builds[] = { "out-asan", "out" };

	if (env && *env)
		return env;
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/tools/%s/incrfs-pack",
			 repo ? repo : ".", builds[i]);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

/*
 * Runs incrfs-pack with the NULL-terminated @args (argv[1] on), stdout and
 * stderr to @log (if not NULL, else /dev/null).  Returns its exit status,
 * 128 + signal if killed, or -1 if it could not run.
 */
TU_FN int tu_run_pack(const char *log, const char *const *args)
{
	const char *bin = tu_pack_bin();
	const char *argv[64];
	size_t n = 0;
	pid_t pid;
	int status;

	if (!bin)
		return -1;
	argv[n++] = bin;
	while (*args && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log ? log : "/dev/null",
			      O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Follows @path ("a/b/c", relative to the root) inside @img. */
TU_FN int tu_image_path(struct incrfs_image *img, const char *path,
			struct incrfs_inode_info *out)
{
	struct incrfs_dirent_info d;
	const char *p = path;
	int err = incrfs_image_read_inode(img, INCRFS_ROOT_INO, out);

	while (!err && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len) {
			err = incrfs_image_lookup(img, out, p, len, &d);
			if (!err)
				err = incrfs_image_read_inode(img, d.ino, out);
		}
		p += len + (slash != NULL);
	}
	return err;
}

/* DT_* of a stat mode. */
TU_FN unsigned int tu_dtype(mode_t mode)
{
	return S_ISREG(mode) ? DT_REG : S_ISDIR(mode) ? DT_DIR :
	       S_ISLNK(mode) ? DT_LNK : S_ISCHR(mode) ? DT_CHR :
	       S_ISBLK(mode) ? DT_BLK : S_ISFIFO(mode) ? DT_FIFO :
	       S_ISSOCK(mode) ? DT_SOCK : DT_UNKNOWN;
}

/* The dirent order: memcmp, shorter first on a common prefix. */
TU_FN int tu_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	return r ? r : alen < blen ? -1 : alen > blen;
}

/* An anonymous file for an image or blob. */
TU_FN int tu_memfd(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

#endif /* INCRFS_TEST_UTIL_H */
