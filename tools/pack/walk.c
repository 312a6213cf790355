// SPDX-License-Identifier: GPL-2.0-only
/*
 * walk.c - read a source directory tree into the image writer.
 *
 * Why this exists: everything stat(1), getfattr(1) and readlink(1) show
 * must survive packing: type, mode, owner, times (mtime and ctime with
 * nanoseconds), device numbers, symlink targets, hard links (same
 * st_dev/st_ino, counted inside the tree) and xattrs in the user.,
 * trusted. and security. namespaces.  Directories are read whole and
 * sorted by name so the output does not depend on readdir order.
 *
 * Each entry is looked up relative to its directory's open fd, and a
 * directory is opened with O_NOFOLLOW and must be the one looked up:
 * a directory swapped for a symlink (or another directory) while the tree
 * is walked is an error, never a way out of the tree.  xattrs and file
 * contents are read again by path (the latter with O_NOFOLLOW), so the
 * source should still be a tree nobody changes meanwhile (for a running
 * container's root, a snapshot of it).
 */
#include "walk.h"
#include "devnum.h"
#include "xattr_ns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct walker {
	const char *prog;
	struct incrfs_writer *w;
	const struct pack_limits *lim;
	struct walk_stats *st;
	void *links;			/* tsearch tree of struct link */
	uint64_t file_bytes;		/* regular files so far, each once */
	/* here, not in add_entry()'s frame: one per directory level */
	char target[INCRFS_SYMLINK_MAX + 1];
};

struct link {
	dev_t dev;
	ino_t ino;
	struct incrfs_wnode *node;
};

static int link_cmp(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

static int err_path(struct walker *k, const char *path, const char *what, int e)
{
	fprintf(stderr, "%s: %s: %s%s%s\n", k->prog, path, what ? what : "",
		what ? ": " : "", strerror(e));
	return -e;
}

static int writer_err(struct walker *k, const char *path)
{
	fprintf(stderr, "%s: %s: %s\n", k->prog, path, incrfs_writer_error(k->w));
	return -EINVAL;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int attr_from_stat(struct walker *k, const char *path,
			  const struct stat *s, struct incrfs_wattr *a)
{
	memset(a, 0, sizeof(*a));
	a->mode = s->st_mode;
	a->uid = s->st_uid;
	a->gid = s->st_gid;
	a->mtime = s->st_mtim.tv_sec;
	a->mtime_nsec = (uint32_t)s->st_mtim.tv_nsec;
	a->ctime = s->st_ctim.tv_sec;
	a->ctime_nsec = (uint32_t)s->st_ctim.tv_nsec;
	if (S_ISCHR(s->st_mode) || S_ISBLK(s->st_mode)) {
		unsigned int ma = major(s->st_rdev), mi = minor(s->st_rdev);

		if (ma > 0xfff || mi > 0xfffff) {
			fprintf(stderr, "%s: %s: device %u:%u cannot be stored\n",
				k->prog, path, ma, mi);
			return -EINVAL;
		}
		a->rdev = incrfs_encode_dev(ma, mi);
	}
	return 0;
}

static int add_xattrs(struct walker *k, const char *path,
		      struct incrfs_wnode *node, int follow)
{
	char *names = NULL, *value = NULL;
	ssize_t len;
	int err = 0;

	for (;;) {
		len = follow ? listxattr(path, NULL, 0) : llistxattr(path, NULL, 0);
		if (len < 0) {
			if (errno == ENOTSUP || errno == ENODATA)
				return 0;
			return err_path(k, path, "listxattr", errno);
		}
		if (len == 0)
			return 0;
		free(names);
		names = malloc((size_t)len);
		if (!names)
			return err_path(k, path, NULL, ENOMEM);
		len = follow ? listxattr(path, names, (size_t)len) :
			llistxattr(path, names, (size_t)len);
		if (len >= 0)
			break;
		if (errno != ERANGE) {
			free(names);
			return err_path(k, path, "listxattr", errno);
		}
	}
	value = malloc(65536);
	if (!value) {
		free(names);
		return err_path(k, path, NULL, ENOMEM);
	}
	for (char *n = names; !err && n < names + len; n += strlen(n) + 1) {
		const char *rest;
		int index = incrfs_xattr_index(n, &rest);
		ssize_t vlen;

		if (!index) {
			fprintf(stderr, "%s: warning: %s: skipping xattr %s (namespace not supported)\n",
				k->prog, path, n);
			k->st->skipped_xattrs++;
			continue;
		}
		vlen = follow ? getxattr(path, n, value, 65536) :
			lgetxattr(path, n, value, 65536);
		if (vlen < 0) {
			if (errno == ENODATA)
				continue;	/* removed meanwhile */
			err = err_path(k, path, n, errno);
			break;
		}
		if (incrfs_writer_add_xattr(k->w, node, (uint8_t)index, rest,
					    value, (size_t)vlen))
			err = writer_err(k, path);
		k->st->xattrs++;
	}
	free(value);
	free(names);
	return err;
}

static int walk_dir(struct walker *k, int fd, const char *path,
		    struct incrfs_wnode *dir, uint32_t depth);

/* Open directory @name in @dirfd, which fstatat() found as @s: its fd. */
static int open_subdir(struct walker *k, int dirfd, const char *path,
		       const char *name, const struct stat *s)
{
	struct stat o;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0 && errno != ELOOP && errno != ENOTDIR)
		return err_path(k, path, "open", errno);
	if (fd < 0 || fstat(fd, &o) < 0 || o.st_dev != s->st_dev ||
	    o.st_ino != s->st_ino) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "%s: %s: changed while the tree was packed (no longer the directory it was)\n",
			k->prog, path);
		return -ESTALE;
	}
	return fd;
}

/* A regular file of @size bytes: within --max-file-size, --max-total-size? */
static int check_size(struct walker *k, const char *path, uint64_t size)
{
	if (size > k->lim->max_file_size) {
		fprintf(stderr, "%s: %s: a file of %llu bytes, larger than --max-file-size %llu\n",
			k->prog, path, (unsigned long long)size,
			(unsigned long long)k->lim->max_file_size);
		return -EFBIG;
	}
	if (size > k->lim->max_total_size - k->file_bytes) {
		fprintf(stderr, "%s: %s: with its %llu bytes the files total more than --max-total-size %llu\n",
			k->prog, path, (unsigned long long)size,
			(unsigned long long)k->lim->max_total_size);
		return -EFBIG;
	}
	k->file_bytes += size;
	return 0;
}

/* Entry @name of @dirfd, found at @path, @depth levels below the root. */
static int add_entry(struct walker *k, int dirfd, struct incrfs_wnode *dir,
		     const char *path, const char *name, uint32_t depth)
{
	struct incrfs_wattr a;
	struct incrfs_wnode *node;
	struct link key, *l, **found;
	struct stat s;
	ssize_t n;
	int err, fd;

	if (depth > k->lim->max_depth) {
		fprintf(stderr, "%s: %s: more than --max-depth %u levels below the root\n",
			k->prog, path, k->lim->max_depth);
		return -ELOOP;
	}
	if (fstatat(dirfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return err_path(k, path, "lstat", errno);
	if (!S_ISDIR(s.st_mode) && s.st_nlink > 1) {
		key = (struct link){ s.st_dev, s.st_ino, NULL };
		found = tfind(&key, &k->links, link_cmp);
		if (found) {
			k->st->hardlinks++;
			if (incrfs_writer_link(k->w, dir, name, (*found)->node))
				return writer_err(k, path);
			return 0;
		}
	}
	err = attr_from_stat(k, path, &s, &a);
	if (err)
		return err;
	node = incrfs_writer_add(k->w, dir, name, &a);
	if (!node)
		return writer_err(k, path);
	if (!S_ISDIR(s.st_mode) && s.st_nlink > 1) {
		l = malloc(sizeof(*l));
		if (!l)
			return err_path(k, path, NULL, ENOMEM);
		*l = (struct link){ s.st_dev, s.st_ino, node };
		if (!tsearch(l, &k->links, link_cmp)) {
			free(l);
			return err_path(k, path, NULL, ENOMEM);
		}
	}
	err = add_xattrs(k, path, node, 0);
	if (err)
		return err;

	switch (s.st_mode & S_IFMT) {
	case S_IFDIR:
		k->st->dirs++;
		fd = open_subdir(k, dirfd, path, name, &s);
		if (fd < 0)
			return fd;
		return walk_dir(k, fd, path, node, depth);
	case S_IFREG:
		k->st->files++;
		err = check_size(k, path, (uint64_t)s.st_size);
		if (err)
			return err;
		if (incrfs_writer_set_source(k->w, node, path, (uint64_t)s.st_size))
			return writer_err(k, path);
		return 0;
	case S_IFLNK:
		k->st->symlinks++;
		n = readlinkat(dirfd, name, k->target, sizeof(k->target));
		if (n < 0)
			return err_path(k, path, "readlink", errno);
		if (n > INCRFS_SYMLINK_MAX || n == 0) {
			fprintf(stderr, "%s: %s: symlink target of %zd bytes cannot be stored\n",
				k->prog, path, n);
			return -EINVAL;
		}
		if (incrfs_writer_set_symlink(k->w, node, k->target, (size_t)n))
			return writer_err(k, path);
		return 0;
	default:
		k->st->specials++;
		return 0;
	}
}

/*
 * Add the entries of directory @fd (closed here), found at @path, @depth
 * levels below the root.
 */
static int walk_dir(struct walker *k, int fd, const char *path,
		    struct incrfs_wnode *dir, uint32_t depth)
{
	char **names = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	DIR *d = fdopendir(fd);
	int err = 0;

	if (!d) {
		err = err_path(k, path, "opendir", errno);
		close(fd);
		return err;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				err = err_path(k, path, "readdir", errno);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (nr == cap) {
			char **p = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!p) {
				err = err_path(k, path, NULL, ENOMEM);
				break;
			}
			names = p;
		}
		names[nr] = strdup(de->d_name);
		if (!names[nr]) {
			err = err_path(k, path, NULL, ENOMEM);
			break;
		}
		nr++;
	}
	if (!err && nr > 1)
		qsort(names, nr, sizeof(*names), str_cmp);
	for (size_t i = 0; !err && i < nr; i++) {
		char *child;

		if (asprintf(&child, "%s/%s", path, names[i]) < 0) {
			err = err_path(k, path, NULL, ENOMEM);
			break;
		}
		err = add_entry(k, dirfd(d), dir, child, names[i], depth + 1);
		free(child);
	}
	closedir(d);
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	return err;
}

struct incrfs_writer *walk_tree(const char *prog, const char *dir,
				const struct pack_limits *lim,
				struct walk_stats *st)
{
	struct walker k = { .prog = prog, .lim = lim, .st = st };
	struct incrfs_wattr a;
	struct stat s;
	int err, fd;

	memset(st, 0, sizeof(*st));
	/* the root as named: a symlink to a directory is followed */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOTDIR) {
		fprintf(stderr, "%s: %s: not a directory\n", prog, dir);
		return NULL;
	}
	if (fd < 0 || fstat(fd, &s) < 0) {
		err_path(&k, dir, NULL, errno);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (attr_from_stat(&k, dir, &s, &a)) {
		close(fd);
		return NULL;
	}
	k.w = incrfs_writer_new(&a);
	if (!k.w) {
		fprintf(stderr, "%s: out of memory\n", prog);
		close(fd);
		return NULL;
	}
	st->dirs = 1;
	err = add_xattrs(&k, dir, incrfs_writer_root(k.w), 1);
	if (!err)
		err = walk_dir(&k, fd, dir, incrfs_writer_root(k.w), 0);
	else
		close(fd);
	tdestroy(k.links, free);
	if (err) {
		incrfs_writer_free(k.w);
		return NULL;
	}
	return k.w;
}
