// SPDX-License-Identifier: GPL-2.0-only
/*
 * from_tar.c - read a tar layer with libarchive into a tar_tree.
 *
 * Why this exists: this is where tar entries become inodes.  libarchive
 * does the decompression and the tar dialects (ustar, GNU, PAX with
 * SCHILY.xattr / LIBARCHIVE.xattr headers, sparse files); this file
 * checks paths (no absolute paths, no ".."), maps OCI whiteouts -- a file
 * ".wh.NAME" becomes the overlayfs whiteout NAME (char device 0/0), a file
 * ".wh..wh..opq" makes its directory opaque (trusted.overlay.opaque = "y")
 * -- and copies every regular file's content into the spool.  The limits
 * of struct pack_limits are checked here, entry by entry, before an
 * entry's data is read.
 */
#include "from_tar.h"
#include "devnum.h"
#include "xattr_ns.h"
#include "tar_tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WH_PREFIX	".wh."
#define WH_OPAQUE	".wh..wh..opq"

struct reader {
	const char *prog, *tar;
	struct archive *a;
	struct tar_tree *t;
	struct spool *sp;
	const struct pack_limits *lim;
	struct walk_stats *st;
	char *buf;			/* copy buffer */
};

static int entry_err(struct reader *r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int entry_err(struct reader *r, const char *path, const char *fmt, ...)
{
	size_t len = strlen(path);
	va_list ap;

	/* a path may be megabytes long: its start says which one */
	fprintf(stderr, "%s: %s: '%.*s%s': ", r->prog, r->tar,
		len > PATH_MAX ? PATH_MAX : (int)len, path,
		len > PATH_MAX ? "..." : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int tree_err(struct reader *r)
{
	fprintf(stderr, "%s: %s: %s\n", r->prog, r->tar, tar_tree_error(r->t));
	return -1;
}

/*
 * Normalizes @in into @out: "./a//b/" -> "a/b", "." -> "" (the root).
 * Absolute paths and ".." components are refused: a layer must not
 * reach outside its root.
 */
static int normalize(struct reader *r, const char *in, char **out)
{
	size_t len = strlen(in), o = 0;
	const char *p = in;
	char *s;

	if (*in == '/')
		return entry_err(r, in, "absolute path refused: a layer's paths are relative to its root");
	s = malloc(len + 1);
	if (!s)
		return entry_err(r, in, "out of memory");
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n == 2 && !memcmp(p, "..", 2)) {
			free(s);
			return entry_err(r, in, "path with a '..' component refused: it could point outside the layer");
		}
		if (n && !(n == 1 && *p == '.')) {
			if (o)
				s[o++] = '/';
			memcpy(s + o, p, n);
			o += n;
		}
		p = *end ? end + 1 : end;
	}
	s[o] = '\0';
	*out = s;
	return 0;
}

static int attr_of(struct reader *r, const char *path,
		   struct archive_entry *e, struct incrfs_wattr *a)
{
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

	memset(a, 0, sizeof(*a));
	if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
		return entry_err(r, path, "owner %lld:%lld out of range",
				 (long long)uid, (long long)gid);
	a->mode = archive_entry_filetype(e) | (archive_entry_perm(e) & 07777);
	a->uid = (uint32_t)uid;
	a->gid = (uint32_t)gid;
	a->mtime = archive_entry_mtime(e);
	a->mtime_nsec = (uint32_t)archive_entry_mtime_nsec(e);
	if (archive_entry_ctime_is_set(e)) {
		a->ctime = archive_entry_ctime(e);
		a->ctime_nsec = (uint32_t)archive_entry_ctime_nsec(e);
	} else {
		a->ctime = a->mtime;
		a->ctime_nsec = a->mtime_nsec;
	}
	if (a->mtime_nsec >= 1000000000u || a->ctime_nsec >= 1000000000u)
		return entry_err(r, path, "invalid nanoseconds in a time");
	return 0;
}

static int add_xattrs(struct reader *r, const char *path,
		      struct archive_entry *e, struct tar_node *n)
{
	const char *name, *rest;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		int index = incrfs_xattr_index(name, &rest);

		if (!index) {
			fprintf(stderr, "%s: warning: %s: '%s': skipping xattr %s (namespace not supported)\n",
				r->prog, r->tar, path, name);
			r->st->skipped_xattrs++;
			continue;
		}
		if (size > UINT16_MAX)
			return entry_err(r, path, "xattr %s: value of %zu bytes is too large",
					 name, size);
		if (tar_node_add_xattr(r->t, n, (uint8_t)index, rest, value, size))
			return tree_err(r);
		r->st->xattrs++;
	}
	return 0;
}

/* Copies the entry's data (sparse where the archive has holes). */
static int spool_data(struct reader *r, const char *path,
		      struct archive_entry *e, struct tar_node *n)
{
	la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	const void *buf;
	size_t len;
	la_int64_t off;
	uint64_t id;
	int fd, ret;

	if (size < 0)
		return entry_err(r, path, "negative size");
	if ((uint64_t)size > r->lim->max_file_size)
		return entry_err(r, path, "a file of %lld bytes, larger than --max-file-size %llu",
				 (long long)size,
				 (unsigned long long)r->lim->max_file_size);
	if ((uint64_t)size > r->lim->max_total_size - tar_tree_file_bytes(r->t))
		return entry_err(r, path, "with its %lld bytes the files total more than --max-total-size %llu",
				 (long long)size,
				 (unsigned long long)r->lim->max_total_size);
	fd = spool_create(r->sp, &id);
	if (fd < 0)
		return entry_err(r, path, "cannot create a spool file in %s: %s",
				 spool_dir(r->sp), strerror(errno));
	tar_node_set_spool(r->t, n, id, 0);
	while ((ret = archive_read_data_block(r->a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;

		if (off < 0 || off + (la_int64_t)len > size) {
			close(fd);
			return entry_err(r, path, "data beyond the entry's size");
		}
		while (len) {
			ssize_t w = pwrite(fd, p, len, off);

			if (w < 0) {
				close(fd);
				return entry_err(r, path, "writing the spool in %s: %s",
						 spool_dir(r->sp), strerror(errno));
			}
			p += w;
			off += w;
			len -= (size_t)w;
		}
	}
	if (ret != ARCHIVE_EOF) {
		close(fd);
		return entry_err(r, path, "%s", archive_error_string(r->a));
	}
	if (ftruncate(fd, size) < 0 || close(fd) < 0)
		return entry_err(r, path, "writing the spool in %s: %s",
				 spool_dir(r->sp), strerror(errno));
	tar_node_set_spool(r->t, n, id, (uint64_t)size);
	return 0;
}

/* ".wh.NAME" and ".wh..wh..opq": the OCI whiteouts.  1: not one. */
static int whiteout(struct reader *r, const char *path, struct archive_entry *e)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t dirlen = slash ? (size_t)(slash - path) : 0;
	struct incrfs_wattr a;
	char *target;
	int err;

	if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)))
		return 1;
	if (!strcmp(name, WH_OPAQUE)) {
		char *dir = strndup(path, dirlen);

		if (!dir)
			return entry_err(r, path, "out of memory");
		err = tar_tree_set_opaque(r->t, dir);
		free(dir);
		return err ? tree_err(r) : 0;
	}
	if (!strncmp(name, WH_PREFIX WH_PREFIX, 2 * strlen(WH_PREFIX))) {
		fprintf(stderr, "%s: warning: %s: '%s': skipping unknown whiteout metadata\n",
			r->prog, r->tar, path);
		return 0;
	}
	if (!name[strlen(WH_PREFIX)])
		return entry_err(r, path, "whiteout without a name");
	/* ".wh.." and ".wh...": a whiteout of the directory or its parent */
	if (!strcmp(name + strlen(WH_PREFIX), ".") ||
	    !strcmp(name + strlen(WH_PREFIX), ".."))
		return entry_err(r, path, "whiteout of '.' or '..' refused");
	if (attr_of(r, path, e, &a))
		return -1;
	/* What overlayfs itself creates: mknod(S_IFCHR | 0000, 0). */
	a.mode = S_IFCHR;
	a.rdev = incrfs_encode_dev(0, 0);
	if (asprintf(&target, "%.*s%s%s", (int)dirlen, path, slash ? "/" : "",
		     name + strlen(WH_PREFIX)) < 0)
		return entry_err(r, path, "out of memory");
	err = tar_tree_put(r->t, target, &a) ? 0 : tree_err(r);
	free(target);
	r->st->specials++;
	return err;
}

/* Levels below the root: "" is 0, "a/b" is 2. */
static size_t depth_of(const char *path)
{
	size_t depth = *path ? 1 : 0;

	for (; (path = strchr(path, '/')); path++)
		depth++;
	return depth;
}

static int add_entry(struct reader *r, struct archive_entry *e, const char *path)
{
	const char *hl = archive_entry_hardlink(e);
	struct incrfs_wattr a;
	struct tar_node *n;
	int err;

	if (depth_of(path) > r->lim->max_depth)
		return entry_err(r, path, "more than --max-depth %u levels below the root",
				 r->lim->max_depth);
	err = whiteout(r, path, e);
	if (err <= 0)
		return err;
	if (hl) {
		char *target;

		if (normalize(r, hl, &target))
			return -1;
		err = tar_tree_link(r->t, path, target);
		free(target);
		r->st->hardlinks++;
		return err ? tree_err(r) : 0;
	}
	if (attr_of(r, path, e, &a))
		return -1;
	switch (a.mode & S_IFMT) {
	case S_IFCHR:
	case S_IFBLK: {
		unsigned long ma = (unsigned long)archive_entry_rdevmajor(e);
		unsigned long mi = (unsigned long)archive_entry_rdevminor(e);

		if (ma > 0xfff || mi > 0xfffff)
			return entry_err(r, path, "device %lu:%lu cannot be stored", ma, mi);
		a.rdev = incrfs_encode_dev((uint32_t)ma, (uint32_t)mi);
		r->st->specials++;
		break;
	}
	case S_IFIFO:
	case S_IFSOCK:
		r->st->specials++;
		break;
	case S_IFDIR:
		r->st->dirs++;
		break;
	case S_IFREG:
		r->st->files++;
		break;
	case S_IFLNK: {
		const char *t = archive_entry_symlink(e);

		if (!t || !*t || strlen(t) > INCRFS_SYMLINK_MAX)
			return entry_err(r, path, "symlink target of %zu bytes cannot be stored",
					 t ? strlen(t) : 0);
		r->st->symlinks++;
		break;
	}
	default:
		return entry_err(r, path, "unsupported file type 0%o", a.mode & S_IFMT);
	}
	n = tar_tree_put(r->t, path, &a);
	if (!n)
		return tree_err(r);
	if (add_xattrs(r, path, e, n))
		return -1;
	if (S_ISLNK(a.mode) && tar_node_set_symlink(r->t, n, archive_entry_symlink(e)))
		return tree_err(r);
	if (S_ISREG(a.mode))
		return spool_data(r, path, e, n);
	return 0;
}

static int read_all(struct reader *r)
{
	struct archive_entry *e;
	int ret;

	for (;;) {
		const char *name;
		char *path;

		ret = archive_read_next_header(r->a, &e);
		if (ret == ARCHIVE_EOF)
			return 0;
		if (ret == ARCHIVE_WARN) {
			fprintf(stderr, "%s: warning: %s: %s\n", r->prog, r->tar,
				archive_error_string(r->a));
		} else if (ret != ARCHIVE_OK) {
			fprintf(stderr, "%s: %s: %s\n", r->prog, r->tar,
				archive_error_string(r->a));
			return -1;
		}
		name = archive_entry_pathname(e);
		if (!name || !*name) {
			fprintf(stderr, "%s: %s: an entry without a name\n",
				r->prog, r->tar);
			return -1;
		}
		if (normalize(r, name, &path))
			return -1;
		ret = add_entry(r, e, path);
		free(path);
		if (ret)
			return -1;
	}
}

struct incrfs_writer *from_tar(const char *prog, const char *tar_path,
			       struct spool *sp, const struct pack_limits *lim,
			       struct walk_stats *st)
{
	struct reader r = { .prog = prog, .tar = tar_path, .sp = sp,
			    .lim = lim, .st = st };
	struct incrfs_writer *w = NULL;

	/*
	 * Names are bytes.  libarchive converts a pax header's UTF-8 names to
	 * the locale's charset, and under the C locale (systemd units, CI)
	 * warns for every non-ASCII name, keeping its bytes.  In a UTF-8
	 * locale nothing needs converting; glibc has C.UTF-8 built in
	 * (2.35, static builds too).  Other headers' names are raw bytes in
	 * any locale.
	 */
	setlocale(LC_CTYPE, "C.UTF-8");
	memset(st, 0, sizeof(*st));
	st->dirs = 1;
	r.t = tar_tree_new(spool_drop, sp);
	r.a = archive_read_new();
	if (!r.t || !r.a) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	/* The compressions OCI layers use (and a static build links). */
	archive_read_support_filter_gzip(r.a);
	archive_read_support_filter_zstd(r.a);
	archive_read_support_filter_xz(r.a);
	archive_read_support_filter_bzip2(r.a);
	archive_read_support_format_tar(r.a);
	if (archive_read_open_filename(r.a, strcmp(tar_path, "-") ? tar_path : NULL,
				       1 << 16) != ARCHIVE_OK) {
		fprintf(stderr, "%s: %s: %s\n", prog, tar_path,
			archive_error_string(r.a));
		goto out;
	}
	if (read_all(&r))
		goto out;
	w = tar_tree_to_writer(r.t, spool_path, sp);
	if (!w)
		tree_err(&r);
out:
	if (r.a)
		archive_read_free(r.a);
	tar_tree_free(r.t);
	return w;
}
