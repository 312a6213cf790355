// SPDX-License-Identifier: GPL-2.0-only
/*
 * tar_tree.c - the file tree of a tar archive, with extraction's rules.
 *
 * Why this exists: see tar_tree.h.  Directories keep their entries in a
 * tsearch(3) tree by name, so a layer with a huge directory is still read
 * in O(n log n); inodes count the names that point at them so that a file
 * replaced by a later entry releases its spooled content only when no
 * hard link keeps it.  Nothing here recurses once per directory level: a
 * layer can nest directories as deep as its path names are long.
 */
#include "tar_tree.h"

#include <errno.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tar_xattr {
	uint8_t index;
	char *name;
	void *value;
	size_t len;
	size_t seq;			/* added after seq others */
};

struct tar_node {
	struct incrfs_wattr attr;
	uint32_t refs;			/* names pointing here */
	void *ents;			/* directory: tsearch tree of tar_ent */
	bool opaque;
	char *symlink;
	bool has_spool;
	uint64_t spool_id, size;
	struct tar_xattr *xattrs;	/* in the order added, names repeated */
	size_t nr_xattrs, cap_xattrs;
	struct incrfs_wnode *w;		/* while building the writer tree */
	struct tar_node *next;		/* on unref()'s list of nodes to free */
};

struct tar_ent {
	char *name;
	struct tar_node *node;
};

struct tar_tree {
	struct tar_node *root;
	tar_drop_fn drop;
	void *ctx;
	uint64_t file_bytes;		/* sizes of the regular files */
	char err[512];
};

const struct incrfs_wattr tar_implied_dir = { .mode = S_IFDIR | 0755 };

static int fail(struct tar_tree *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return err;
}

const char *tar_tree_error(const struct tar_tree *t)
{
	return t->err;
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tar_ent *)a)->name,
		      ((const struct tar_ent *)b)->name);
}

static struct tar_node *node_new(const struct incrfs_wattr *attr)
{
	struct tar_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->attr = *attr;
		n->refs = 1;
	}
	return n;
}

static void clear_xattrs(struct tar_node *n)
{
	for (size_t i = 0; i < n->nr_xattrs; i++) {
		free(n->xattrs[i].name);
		free(n->xattrs[i].value);
	}
	free(n->xattrs);
	n->xattrs = NULL;
	n->nr_xattrs = 0;
	n->cap_xattrs = 0;
}

/* A directory's entries in name order (twalk_r visits in order). */
struct collect {
	struct tar_ent **v;
	size_t nr, cap;
	bool oom;
};

static void collect_one(const void *nodep, VISIT which, void *arg)
{
	struct collect *c = arg;

	if (which != postorder && which != leaf)
		return;
	if (c->nr == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct tar_ent **v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->nr++] = *(struct tar_ent *const *)nodep;
}

static int collect(struct tar_node *dir, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	twalk_r(dir->ents, collect_one, c);
	if (c->oom) {
		free(c->v);
		return -ENOMEM;
	}
	return 0;
}

static void noop_free(void *p)
{
	(void)p;
}

/* twalk_r() callback: drop an entry, listing its inode if unreferenced. */
static void release_ent(const void *nodep, VISIT which, void *arg)
{
	struct tar_node **list = arg;
	struct tar_ent *e;

	if (which != postorder && which != leaf)
		return;
	e = *(struct tar_ent *const *)nodep;
	if (!--e->node->refs) {
		e->node->next = *list;
		*list = e->node;
	}
	free(e->name);
	free(e);
}

/*
 * Drops a name of @n.  Dropping the last frees it and, through a list
 * rather than by recursion, all below it that no hard link keeps.
 */
static void unref(struct tar_tree *t, struct tar_node *n)
{
	struct tar_node *list;

	if (--n->refs)
		return;
	n->next = NULL;
	for (list = n; list; ) {
		n = list;
		list = n->next;
		twalk_r(n->ents, release_ent, &list);
		tdestroy(n->ents, noop_free);
		if (n->has_spool) {
			t->file_bytes -= n->size;
			if (t->drop)
				t->drop(t->ctx, n->spool_id);
		}
		clear_xattrs(n);
		free(n->symlink);
		free(n);
	}
}

struct tar_tree *tar_tree_new(tar_drop_fn drop, void *ctx)
{
	struct tar_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->root = node_new(&tar_implied_dir);
	if (!t->root) {
		free(t);
		return NULL;
	}
	t->drop = drop;
	t->ctx = ctx;
	return t;
}

void tar_tree_free(struct tar_tree *t)
{
	if (!t)
		return;
	t->drop = NULL;		/* the spool goes as a whole */
	unref(t, t->root);
	free(t);
}

static struct tar_ent *find(struct tar_node *dir, const char *name)
{
	struct tar_ent key = { (char *)name, NULL }, **e;

	e = tfind(&key, &dir->ents, ent_cmp);
	return e ? *e : NULL;
}

/*
 * The directory that holds @path's last component, creating missing ones;
 * *@name points into @path at that component.
 */
static struct tar_node *parent_of(struct tar_tree *t, const char *path,
				  const char **name)
{
	struct tar_node *dir = t->root;
	const char *p = path, *slash;
	char comp[INCRFS_NAME_MAX + 1];

	while ((slash = strchr(p, '/'))) {
		size_t len = (size_t)(slash - p);
		struct tar_ent *e;

		if (len > INCRFS_NAME_MAX) {
			fail(t, -ENAMETOOLONG, "%s: a name is longer than %d bytes",
			     path, INCRFS_NAME_MAX);
			return NULL;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		e = find(dir, comp);
		if (!e) {
			e = calloc(1, sizeof(*e));
			if (!e || !(e->name = strdup(comp)) ||
			    !(e->node = node_new(&tar_implied_dir)) ||
			    !tsearch(e, &dir->ents, ent_cmp)) {
				fail(t, -ENOMEM, "out of memory");
				return NULL;
			}
		} else if (!S_ISDIR(e->node->attr.mode)) {
			fail(t, -ENOTDIR, "%s: %.*s is not a directory", path,
			     (int)(slash - path), path);
			return NULL;
		}
		dir = e->node;
		p = slash + 1;
	}
	if (strlen(p) > INCRFS_NAME_MAX) {
		fail(t, -ENAMETOOLONG, "%s: a name is longer than %d bytes",
		     path, INCRFS_NAME_MAX);
		return NULL;
	}
	*name = p;
	return dir;
}

/* Points @dir's entry @name at @node (a new reference), replacing. */
static int set_entry(struct tar_tree *t, struct tar_node *dir,
		     const char *name, struct tar_node *node)
{
	struct tar_ent *e = find(dir, name);

	if (e) {
		struct tar_node *old = e->node;

		e->node = node;
		unref(t, old);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name)) || !tsearch(e, &dir->ents, ent_cmp)) {
		if (e)
			free(e->name);
		free(e);
		return fail(t, -ENOMEM, "out of memory");
	}
	e->node = node;
	return 0;
}

struct tar_node *tar_tree_put(struct tar_tree *t, const char *path,
			      const struct incrfs_wattr *attr)
{
	struct tar_node *dir, *n;
	struct tar_ent *e;
	const char *name;

	if (!*path) {
		if (!S_ISDIR(attr->mode)) {
			fail(t, -ENOTDIR, "the root (\".\") must be a directory");
			return NULL;
		}
		t->root->attr = *attr;
		clear_xattrs(t->root);
		return t->root;
	}
	dir = parent_of(t, path, &name);
	if (!dir)
		return NULL;
	e = find(dir, name);
	if (e && S_ISDIR(e->node->attr.mode) && S_ISDIR(attr->mode)) {
		e->node->attr = *attr;
		clear_xattrs(e->node);
		return e->node;
	}
	n = node_new(attr);
	if (!n) {
		fail(t, -ENOMEM, "out of memory");
		return NULL;
	}
	if (set_entry(t, dir, name, n)) {
		free(n);
		return NULL;
	}
	return n;
}

/* The inode at @path, or NULL. */
static struct tar_node *lookup(struct tar_tree *t, const char *path)
{
	struct tar_node *n = t->root;
	char comp[INCRFS_NAME_MAX + 1];
	const char *p = path;

	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		struct tar_ent *e;

		if (len > INCRFS_NAME_MAX || !S_ISDIR(n->attr.mode))
			return NULL;
		memcpy(comp, p, len);
		comp[len] = '\0';
		e = find(n, comp);
		if (!e)
			return NULL;
		n = e->node;
		p = *end ? end + 1 : end;
	}
	return n;
}

int tar_tree_link(struct tar_tree *t, const char *path, const char *target)
{
	struct tar_node *dir, *n = lookup(t, target);
	struct tar_ent *e;
	const char *name;

	if (!n)
		return fail(t, -ENOENT, "%s: hard link to '%s', which is not in the archive before it",
			    path, target);
	if (S_ISDIR(n->attr.mode))
		return fail(t, -EPERM, "%s: hard link to the directory '%s'",
			    path, target);
	if (!*path)
		return fail(t, -ENOTDIR, "the root (\".\") must be a directory");
	dir = parent_of(t, path, &name);
	if (!dir)
		return -EINVAL;
	e = find(dir, name);
	if (e && e->node == n)
		return 0;
	if (n->refs == UINT32_MAX)
		return fail(t, -EMLINK, "%s: too many links", path);
	n->refs++;
	if (set_entry(t, dir, name, n)) {
		n->refs--;
		return -ENOMEM;
	}
	return 0;
}

int tar_tree_set_opaque(struct tar_tree *t, const char *path)
{
	struct tar_node *n = lookup(t, path);

	if (!n) {
		n = tar_tree_put(t, path, &tar_implied_dir);
		if (!n)
			return -EINVAL;
	}
	if (!S_ISDIR(n->attr.mode))
		return fail(t, -ENOTDIR, "%s: opaque marker in a non-directory", path);
	n->opaque = true;
	return 0;
}

int tar_node_set_symlink(struct tar_tree *t, struct tar_node *n,
			 const char *target)
{
	free(n->symlink);
	n->symlink = strdup(target);
	return n->symlink ? 0 : fail(t, -ENOMEM, "out of memory");
}

void tar_node_set_spool(struct tar_tree *t, struct tar_node *n,
			uint64_t spool_id, uint64_t size)
{
	if (n->has_spool)
		t->file_bytes -= n->size;
	n->has_spool = true;
	n->spool_id = spool_id;
	n->size = size;
	t->file_bytes += size;
}

uint64_t tar_tree_file_bytes(const struct tar_tree *t)
{
	return t->file_bytes;
}

/*
 * Appended, not looked up: an entry may carry tens of thousands of
 * xattrs.  A name given again is resolved when the tree is handed over
 * (dedup_xattrs()).
 */
int tar_node_add_xattr(struct tar_tree *t, struct tar_node *n, uint8_t index,
		       const char *name, const void *value, size_t len)
{
	struct tar_xattr *x;

	if (n->nr_xattrs == n->cap_xattrs) {
		size_t cap = n->cap_xattrs ? 2 * n->cap_xattrs : 4;

		x = reallocarray(n->xattrs, cap, sizeof(*x));
		if (!x)
			return fail(t, -ENOMEM, "out of memory");
		n->xattrs = x;
		n->cap_xattrs = cap;
	}
	x = &n->xattrs[n->nr_xattrs];
	x->index = index;
	x->name = strdup(name);
	x->value = malloc(len ? len : 1);
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return fail(t, -ENOMEM, "out of memory");
	}
	memcpy(x->value, value, len);
	x->len = len;
	x->seq = n->nr_xattrs++;
	return 0;
}

/* ---- handing the tree to the writer ---- */

struct emit {
	struct tar_tree *t;
	struct incrfs_writer *w;
	void (*spool_path)(void *ctx, uint64_t id, char *buf, size_t len);
	void *ctx;
};

static int emit_fail(struct emit *m, const char *name)
{
	return fail(m->t, -EINVAL, "%s: %s", name, incrfs_writer_error(m->w));
}

static int has_opaque_xattr(const struct tar_node *n)
{
	for (size_t i = 0; i < n->nr_xattrs; i++)
		if (n->xattrs[i].index == INCRFS_XATTR_TRUSTED &&
		    !strcmp(n->xattrs[i].name, "overlay.opaque"))
			return 1;
	return 0;
}

static int xattr_order(const void *a, const void *b)
{
	const struct tar_xattr *x = a, *y = b;
	int c;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Of the values an xattr was given, the last one added stays. */
static void dedup_xattrs(struct tar_node *n)
{
	size_t o = 0;

	if (n->nr_xattrs < 2)
		return;
	qsort(n->xattrs, n->nr_xattrs, sizeof(*n->xattrs), xattr_order);
	for (size_t i = 0; i < n->nr_xattrs; i++) {
		struct tar_xattr *x = &n->xattrs[i];

		if (i + 1 < n->nr_xattrs && x[1].index == x->index &&
		    !strcmp(x[1].name, x->name)) {
			free(x->name);
			free(x->value);
			continue;
		}
		n->xattrs[o++] = *x;
	}
	n->nr_xattrs = o;
}

static int emit_node(struct emit *m, struct tar_node *n, const char *name)
{
	char path[PATH_MAX];

	dedup_xattrs(n);
	for (size_t i = 0; i < n->nr_xattrs; i++) {
		struct tar_xattr *x = &n->xattrs[i];

		if (incrfs_writer_add_xattr(m->w, n->w, x->index, x->name,
					    x->value, x->len))
			return emit_fail(m, name);
	}
	if (n->opaque && !has_opaque_xattr(n) &&
	    incrfs_writer_add_xattr(m->w, n->w, INCRFS_XATTR_TRUSTED,
				    "overlay.opaque", "y", 1))
		return emit_fail(m, name);
	if (n->symlink && incrfs_writer_set_symlink(m->w, n->w, n->symlink,
						    strlen(n->symlink)))
		return emit_fail(m, name);
	if (n->has_spool) {
		m->spool_path(m->ctx, n->spool_id, path, sizeof(path));
		if (incrfs_writer_set_source(m->w, n->w, path, n->size))
			return emit_fail(m, name);
	}
	return 0;
}

/* A directory being emitted: its entries, and the next one to emit. */
struct emit_frame {
	struct tar_node *dir;
	struct collect c;
	size_t next;
};

/* The directories being emitted, the root first: as deep as the tree. */
struct emit_stack {
	struct emit_frame *v;
	size_t depth, cap;
};

static int emit_push(struct emit *m, struct emit_stack *s, struct tar_node *dir)
{
	struct emit_frame *f;

	if (s->depth == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		f = reallocarray(s->v, cap, sizeof(*f));
		if (!f)
			return fail(m->t, -ENOMEM, "out of memory");
		s->v = f;
		s->cap = cap;
	}
	f = &s->v[s->depth];
	if (collect(dir, &f->c))
		return fail(m->t, -ENOMEM, "out of memory");
	f->dir = dir;
	f->next = 0;
	s->depth++;
	return 0;
}

/*
 * Hands every entry below the root to the writer, depth first, each
 * directory's entries in name order, with a stack on the heap rather
 * than a call per directory level.
 */
static int emit_tree(struct emit *m)
{
	struct emit_stack s = { 0 };
	int err = emit_push(m, &s, m->t->root);

	while (!err && s.depth) {
		struct emit_frame *f = &s.v[s.depth - 1];
		struct tar_ent *e;
		struct tar_node *n;

		if (f->next == f->c.nr) {
			free(f->c.v);
			s.depth--;
			continue;
		}
		e = f->c.v[f->next++];
		n = e->node;
		if (n->w) {
			if (incrfs_writer_link(m->w, f->dir->w, e->name, n->w))
				err = emit_fail(m, e->name);
			continue;
		}
		n->w = incrfs_writer_add(m->w, f->dir->w, e->name, &n->attr);
		err = n->w ? emit_node(m, n, e->name) : emit_fail(m, e->name);
		if (!err && S_ISDIR(n->attr.mode))
			err = emit_push(m, &s, n);
	}
	while (s.depth)
		free(s.v[--s.depth].c.v);
	free(s.v);
	return err;
}

struct incrfs_writer *tar_tree_to_writer(struct tar_tree *t,
		void (*spool_path)(void *ctx, uint64_t id, char *buf, size_t len),
		void *ctx)
{
	struct emit m = { t, NULL, spool_path, ctx };

	m.w = incrfs_writer_new(&t->root->attr);
	if (!m.w) {
		fail(t, -ENOMEM, "out of memory");
		return NULL;
	}
	t->root->w = incrfs_writer_root(m.w);
	if (emit_node(&m, t->root, ".") || emit_tree(&m)) {
		incrfs_writer_free(m.w);
		return NULL;
	}
	return m.w;
}
