// SPDX-License-Identifier: GPL-2.0-only
/*
 * writer.c - the image writer's tree-building API (writer.h).
 *
 * Why this exists: it holds the tree the caller describes, checks each
 * name and attribute as it comes in, and frees it all; the layout and the
 * output live in writer_image.c and writer_data.c.
 */
#include "writer_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int incrfs_w_fail(struct incrfs_writer *w, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return err;
}

int incrfs_w_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (n <= *cap)
		return 0;
	while (ncap < n) {
		if (ncap > SIZE_MAX / 2 / size)
			return -ENOMEM;
		ncap *= 2;
	}
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int incrfs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static struct incrfs_wnode *new_node(struct incrfs_writer *w,
				     const struct incrfs_wattr *attr)
{
	struct incrfs_wnode *n;

	switch (attr->mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		incrfs_w_fail(w, -EINVAL, "unknown file type in mode 0%o", attr->mode);
		return NULL;
	}
	if (attr->mode > 0xffff || attr->mtime_nsec >= 1000000000u ||
	    attr->ctime_nsec >= 1000000000u) {
		incrfs_w_fail(w, -EINVAL, "mode or nanoseconds out of range");
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		incrfs_w_fail(w, -ENOMEM, "out of memory");
		return NULL;
	}
	n->attr = *attr;
	if (!S_ISCHR(attr->mode) && !S_ISBLK(attr->mode))
		n->attr.rdev = 0;
	n->all_next = w->all;
	w->all = n;
	return n;
}

struct incrfs_writer *incrfs_writer_new(const struct incrfs_wattr *root)
{
	struct incrfs_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if (!S_ISDIR(root->mode) || !(w->root = new_node(w, root))) {
		free(w->root);
		free(w);
		return NULL;
	}
	return w;
}

static void free_node(struct incrfs_wnode *n)
{
	for (size_t i = 0; i < n->nr_ents; i++)
		free(n->ents[i].name);
	free(n->ents);
	for (size_t i = 0; i < n->nr_xattrs; i++) {
		free(n->xattrs[i].name);
		free(n->xattrs[i].value);
	}
	free(n->xattrs);
	free(n->target);
	free(n->data);
	free(n->source);
	free(n->exts);
	free(n);
}

void incrfs_writer_free(struct incrfs_writer *w)
{
	if (!w)
		return;
	while (w->all) {
		struct incrfs_wnode *n = w->all;

		w->all = n->all_next;
		free_node(n);
	}
	free(w->by_ino);
	free(w->hashes);
	free(w);
}

const char *incrfs_writer_error(const struct incrfs_writer *w)
{
	return w->err;
}

struct incrfs_wnode *incrfs_writer_root(struct incrfs_writer *w)
{
	return w->root;
}

static int add_entry(struct incrfs_writer *w, struct incrfs_wnode *dir,
		     const char *name, struct incrfs_wnode *node)
{
	size_t len = strlen(name);
	char *copy;

	if (!S_ISDIR(dir->attr.mode))
		return incrfs_w_fail(w, -ENOTDIR, "'%s': parent is not a directory", name);
	if (len == 0 || len > INCRFS_NAME_MAX || strchr(name, '/') ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return incrfs_w_fail(w, -EINVAL, "invalid name '%s'", name);
	if (node->links == UINT32_MAX || dir->nr_ents >= UINT32_MAX)
		return incrfs_w_fail(w, -EMLINK, "'%s': too many links", name);
	if (incrfs_w_grow((void **)&dir->ents, &dir->cap_ents, dir->nr_ents + 1,
			  sizeof(*dir->ents)) ||
	    !(copy = strdup(name)))
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	dir->ents[dir->nr_ents++] = (struct incrfs_wentry){ copy, len, node };
	node->links++;
	if (S_ISDIR(node->attr.mode))
		dir->subdirs++;
	return 0;
}

struct incrfs_wnode *incrfs_writer_add(struct incrfs_writer *w,
				       struct incrfs_wnode *dir,
				       const char *name,
				       const struct incrfs_wattr *attr)
{
	struct incrfs_wnode *n = new_node(w, attr);

	if (!n)
		return NULL;
	if (add_entry(w, dir, name, n))
		return NULL;	/* n stays on w->all and is freed with w */
	return n;
}

int incrfs_writer_link(struct incrfs_writer *w, struct incrfs_wnode *dir,
		       const char *name, struct incrfs_wnode *target)
{
	if (S_ISDIR(target->attr.mode))
		return incrfs_w_fail(w, -EPERM, "'%s': cannot hard-link a directory", name);
	return add_entry(w, dir, name, target);
}

int incrfs_writer_set_symlink(struct incrfs_writer *w,
			      struct incrfs_wnode *node,
			      const char *target, size_t len)
{
	if (!S_ISLNK(node->attr.mode))
		return incrfs_w_fail(w, -EINVAL, "not a symlink");
	if (len == 0 || len > INCRFS_SYMLINK_MAX || memchr(target, '\0', len))
		return incrfs_w_fail(w, -EINVAL, "invalid symlink target of %zu bytes", len);
	free(node->target);
	node->target = malloc(len);
	if (!node->target)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	memcpy(node->target, target, len);
	node->size = len;
	return 0;
}

int incrfs_writer_set_data(struct incrfs_writer *w, struct incrfs_wnode *node,
			   const void *data, uint64_t size)
{
	if (!S_ISREG(node->attr.mode))
		return incrfs_w_fail(w, -EINVAL, "not a regular file");
	if (size > SIZE_MAX || size > (uint64_t)INT64_MAX)
		return incrfs_w_fail(w, -EFBIG, "file too large");
	free(node->data);
	free(node->source);
	node->source = NULL;
	node->data = malloc(size ? size : 1);
	if (!node->data)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	if (size)
		memcpy(node->data, data, size);
	node->size = size;
	return 0;
}

int incrfs_writer_set_source(struct incrfs_writer *w, struct incrfs_wnode *node,
			     const char *path, uint64_t size)
{
	if (!S_ISREG(node->attr.mode))
		return incrfs_w_fail(w, -EINVAL, "not a regular file");
	if (size > (uint64_t)INT64_MAX)
		return incrfs_w_fail(w, -EFBIG, "file too large");
	free(node->data);
	node->data = NULL;
	free(node->source);
	node->source = strdup(path);
	if (!node->source)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	node->size = size;
	return 0;
}

int incrfs_writer_add_xattr(struct incrfs_writer *w, struct incrfs_wnode *node,
			    uint8_t index, const char *name,
			    const void *value, size_t len)
{
	size_t name_len = strlen(name);
	struct incrfs_wxattr *x;

	if (index < INCRFS_XATTR_USER || index > INCRFS_XATTR_SECURITY)
		return incrfs_w_fail(w, -EINVAL, "unknown xattr namespace %u", index);
	if (name_len == 0 || name_len > 255)
		return incrfs_w_fail(w, -EINVAL, "xattr name '%s' empty or too long", name);
	if (len > UINT16_MAX)
		return incrfs_w_fail(w, -E2BIG, "xattr '%s': value of %zu bytes too large",
				     name, len);
	if (incrfs_w_grow((void **)&node->xattrs, &node->cap_xattrs,
			  node->nr_xattrs + 1, sizeof(*node->xattrs)))
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	x = &node->xattrs[node->nr_xattrs];
	x->index = index;
	x->name = strdup(name);
	x->value = malloc(len ? len : 1);
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	}
	if (len)
		memcpy(x->value, value, len);
	x->name_len = name_len;
	x->value_len = len;
	node->nr_xattrs++;
	return 0;
}
