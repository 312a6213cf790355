// SPDX-License-Identifier: GPL-2.0-only
/*
 * writer_image.c - incrfs_writer_write(): number the inodes, lay out the
 * image, serialise the inode table, metadata area and super block, and
 * write them.
 *
 * Why this exists: this file is the writer's side of uapi/incrfs.h; every
 * on-disk struct is filled here, little-endian, in the layout order the
 * header gives: super block, inode table, metadata area, hash table,
 * bitmap, data region.
 */
#include "writer_priv.h"
#include "crc32c.h"
#include "image.h"
#include "sha256.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BS INCRFS_BLOCK_SIZE
#define META_ALIGN 8

static uint64_t round_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct incrfs_wentry *x = a, *y = b;

	return name_cmp(x->name, x->name_len, y->name, y->name_len);
}

static int xattr_cmp(const void *a, const void *b)
{
	const struct incrfs_wxattr *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return name_cmp(x->name, x->name_len, y->name, y->name_len);
}

/* Breadth-first from the root, each directory's entries in name order. */
static int number_inodes(struct incrfs_writer *w)
{
	size_t cap = 0;

	w->nr_inodes = 0;
	if (incrfs_w_grow((void **)&w->by_ino, &cap, 1, sizeof(*w->by_ino)))
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	w->root->ino = INCRFS_ROOT_INO;
	w->root->parent = INCRFS_ROOT_INO;
	w->by_ino[w->nr_inodes++] = w->root;
	for (uint64_t i = 0; i < w->nr_inodes; i++) {
		struct incrfs_wnode *dir = w->by_ino[i];

		if (!S_ISDIR(dir->attr.mode))
			continue;
		if (dir->nr_ents > 1)
			qsort(dir->ents, dir->nr_ents, sizeof(*dir->ents), entry_cmp);
		for (size_t k = 0; k < dir->nr_ents; k++) {
			struct incrfs_wnode *n = dir->ents[k].node;

			if (k && !entry_cmp(&dir->ents[k - 1], &dir->ents[k]))
				return incrfs_w_fail(w, -EEXIST, "duplicate name '%s'",
						     dir->ents[k].name);
			if (n->ino)
				continue;	/* another link to it */
			if (w->nr_inodes >= UINT32_MAX)
				return incrfs_w_fail(w, -EFBIG, "too many inodes");
			if (incrfs_w_grow((void **)&w->by_ino, &cap, w->nr_inodes + 1,
					  sizeof(*w->by_ino)))
				return incrfs_w_fail(w, -ENOMEM, "out of memory");
			n->ino = ++w->nr_inodes;
			n->parent = S_ISDIR(n->attr.mode) ? dir->ino : 0;
			w->by_ino[n->ino - 1] = n;
		}
	}
	return 0;
}

struct meta {
	uint8_t *buf;
	size_t len, cap;
};

/* Reserves @len bytes at the next aligned offset; NULL if out of memory. */
static uint8_t *meta_add(struct meta *m, size_t len, uint64_t *off)
{
	size_t start = (size_t)round_up(m->len, META_ALIGN);

	if (incrfs_w_grow((void **)&m->buf, &m->cap, start + len + META_ALIGN, 1))
		return NULL;
	memset(m->buf + m->len, 0, start + len - m->len);
	m->len = start + len;
	*off = start;
	return m->buf + start;
}

static int put_dir(struct incrfs_writer *w, struct meta *m, struct incrfs_wnode *n)
{
	uint64_t len = (uint64_t)n->nr_ents * sizeof(struct incrfs_dirent), nameoff;
	uint8_t *rec;

	for (size_t i = 0; i < n->nr_ents; i++)
		len += n->ents[i].name_len;
	if (len > UINT32_MAX)
		return incrfs_w_fail(w, -EFBIG, "directory with %zu entries too large",
				     n->nr_ents);
	n->meta_len = (uint32_t)len;
	n->meta_count = (uint32_t)n->nr_ents;
	n->size = len;
	if (!len)
		return 0;
	rec = meta_add(m, len, &n->meta_off);
	if (!rec)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	nameoff = (uint64_t)n->nr_ents * sizeof(struct incrfs_dirent);
	for (size_t i = 0; i < n->nr_ents; i++) {
		const struct incrfs_wentry *e = &n->ents[i];
		struct incrfs_dirent de = {
			.d_ino = htole64(e->node->ino),
			.d_nameoff = htole32((uint32_t)nameoff),
			.d_namelen = htole16((uint16_t)e->name_len),
			.d_type = (uint8_t)(S_ISREG(e->node->attr.mode) ? DT_REG :
				  S_ISDIR(e->node->attr.mode) ? DT_DIR :
				  S_ISLNK(e->node->attr.mode) ? DT_LNK :
				  S_ISCHR(e->node->attr.mode) ? DT_CHR :
				  S_ISBLK(e->node->attr.mode) ? DT_BLK :
				  S_ISFIFO(e->node->attr.mode) ? DT_FIFO : DT_SOCK),
		};

		memcpy(rec + i * sizeof(de), &de, sizeof(de));
		memcpy(rec + nameoff, e->name, e->name_len);
		nameoff += e->name_len;
	}
	return 0;
}

static int put_extents(struct incrfs_writer *w, struct meta *m,
		       struct incrfs_wnode *n)
{
	uint64_t len = (uint64_t)n->nr_exts * sizeof(struct incrfs_extent);
	uint8_t *rec;

	if (len > UINT32_MAX)
		return incrfs_w_fail(w, -EFBIG, "file with %zu extents", n->nr_exts);
	n->meta_len = (uint32_t)len;
	n->meta_count = (uint32_t)n->nr_exts;
	if (!len)
		return 0;
	rec = meta_add(m, len, &n->meta_off);
	if (!rec)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n->nr_exts; i++) {
		struct incrfs_extent e = {
			.e_lblk = htole64(n->exts[i].lblk),
			.e_pblk = htole64(n->exts[i].pblk),
			.e_len = htole32(n->exts[i].len),
		};

		memcpy(rec + i * sizeof(e), &e, sizeof(e));
	}
	return 0;
}

static int put_symlink(struct incrfs_writer *w, struct meta *m,
		       struct incrfs_wnode *n)
{
	uint8_t *rec;

	if (!n->target)
		return incrfs_w_fail(w, -EINVAL, "symlink inode %llu has no target",
				     (unsigned long long)n->ino);
	n->meta_len = (uint32_t)n->size;
	rec = meta_add(m, n->size, &n->meta_off);
	if (!rec)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	memcpy(rec, n->target, n->size);
	return 0;
}

static int put_xattrs(struct incrfs_writer *w, struct meta *m,
		      struct incrfs_wnode *n)
{
	uint64_t len = 0, pos = 0;
	uint8_t *rec;

	if (!n->nr_xattrs)
		return 0;
	qsort(n->xattrs, n->nr_xattrs, sizeof(*n->xattrs), xattr_cmp);
	for (size_t i = 0; i < n->nr_xattrs; i++) {
		if (i && !xattr_cmp(&n->xattrs[i - 1], &n->xattrs[i]))
			return incrfs_w_fail(w, -EEXIST, "duplicate xattr %s%s",
					     incrfs_xattr_prefix(n->xattrs[i].index),
					     n->xattrs[i].name);
		len += round_up(sizeof(struct incrfs_xattr_entry) +
				n->xattrs[i].name_len + n->xattrs[i].value_len,
				INCRFS_XATTR_ALIGN);
	}
	if (len > (4U << 20))	/* what the kernel accepts */
		return incrfs_w_fail(w, -E2BIG, "inode %llu: %llu bytes of xattrs, at most 4 MiB",
				     (unsigned long long)n->ino,
				     (unsigned long long)len);
	n->xattr_len = (uint32_t)len;
	rec = meta_add(m, len, &n->xattr_off);
	if (!rec)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n->nr_xattrs; i++) {
		const struct incrfs_wxattr *x = &n->xattrs[i];
		struct incrfs_xattr_entry e = {
			.x_index = x->index,
			.x_name_len = (uint8_t)x->name_len,
			.x_value_len = htole16((uint16_t)x->value_len),
		};

		memcpy(rec + pos, &e, sizeof(e));
		memcpy(rec + pos + sizeof(e), x->name, x->name_len);
		memcpy(rec + pos + sizeof(e) + x->name_len, x->value, x->value_len);
		pos += round_up(sizeof(e) + x->name_len + x->value_len,
				INCRFS_XATTR_ALIGN);
	}
	return 0;
}

static int build_meta(struct incrfs_writer *w, struct meta *m)
{
	for (uint64_t i = 0; i < w->nr_inodes; i++) {
		struct incrfs_wnode *n = w->by_ino[i];
		int err = 0;

		switch (n->attr.mode & S_IFMT) {
		case S_IFDIR:
			err = put_dir(w, m, n);
			break;
		case S_IFREG:
			if (!n->data && !n->source && n->size)
				return incrfs_w_fail(w, -EINVAL, "file inode %llu has no content",
						     (unsigned long long)n->ino);
			err = put_extents(w, m, n);
			break;
		case S_IFLNK:
			err = put_symlink(w, m, n);
			break;
		default:
			n->size = 0;
			break;
		}
		if (!err)
			err = put_xattrs(w, m, n);
		if (err)
			return err;
	}
	/* meta_add() left room for this padding; zero it (determinism). */
	if (m->len % META_ALIGN) {
		size_t end = (size_t)round_up(m->len, META_ALIGN);

		memset(m->buf + m->len, 0, end - m->len);
		m->len = end;
	}
	return 0;
}

static void put_inode(const struct incrfs_wnode *n, struct incrfs_inode *di)
{
	const struct incrfs_wattr *a = &n->attr;

	memset(di, 0, sizeof(*di));
	di->i_mode = htole16((uint16_t)a->mode);
	di->i_nlink = htole32(S_ISDIR(a->mode) ? 2 + n->subdirs : n->links);
	di->i_uid = htole32(a->uid);
	di->i_gid = htole32(a->gid);
	di->i_size = htole64(n->size);
	di->i_mtime = htole64((uint64_t)a->mtime);
	di->i_mtime_nsec = htole32(a->mtime_nsec);
	di->i_ctime = htole64((uint64_t)a->ctime);
	di->i_ctime_nsec = htole32(a->ctime_nsec);
	di->i_rdev = htole32(a->rdev);
	di->i_xattr_len = htole32(n->xattr_len);
	di->i_xattr_off = htole64(n->xattr_off);
	di->i_meta_off = htole64(n->meta_off);
	di->i_meta_len = htole32(n->meta_len);
	di->i_meta_count = htole32(n->meta_count);
	di->i_first_block = htole64(n->nr_blocks ? n->first_block : 0);
	di->i_nr_blocks = htole64(n->nr_blocks);
	di->i_parent = htole64(n->parent);
}

/* A name-based UUID of the content (RFC 9562 version 8 bits). */
static int content_uuid(const uint8_t *itab, size_t ilen, const struct meta *m,
			const struct incrfs_writer *w, uint8_t uuid[16])
{
	struct incrfs_sha256_ctx c;
	uint8_t h[INCRFS_HASH_SIZE];
	int err = incrfs_sha256_init(&c);

	if (!err)
		err = incrfs_sha256_update(&c, "incrfs-uuid", 11);
	if (!err)
		err = incrfs_sha256_update(&c, itab, ilen);
	if (!err)
		err = incrfs_sha256_update(&c, m->buf ? (void *)m->buf : (void *)"", m->len);
	if (!err)
		err = incrfs_sha256_update(&c, w->root_hash, sizeof(w->root_hash));
	if (err) {
		incrfs_sha256_free(&c);
		return err;
	}
	err = incrfs_sha256_final(&c, h);
	memcpy(uuid, h, 16);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x80);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return err;
}

static int64_t newest_mtime(const struct incrfs_writer *w)
{
	int64_t t = 0;

	for (uint64_t i = 0; i < w->nr_inodes; i++)
		if (w->by_ino[i]->attr.mtime > t)
			t = w->by_ino[i]->attr.mtime;
	return t;
}

static int write_image(struct incrfs_writer *w, const struct incrfs_write_opts *o,
		       const struct meta *m)
{
	struct incrfs_super_block sb = { 0 };
	uint64_t inode_off = BS, meta_off, hash_off, bitmap_off, bitmap_size;
	uint64_t data_off, image_size, nr = w->nr_blocks;
	size_t ilen = (size_t)w->nr_inodes * sizeof(struct incrfs_inode);
	uint8_t *itab = calloc(1, ilen), *bitmap = NULL;
	int err;

	if (!itab)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	for (uint64_t i = 0; i < w->nr_inodes; i++)
		put_inode(w->by_ino[i], (struct incrfs_inode *)itab + i);

	meta_off = inode_off + ilen;
	hash_off = meta_off + m->len;
	bitmap_off = round_up(hash_off + nr * INCRFS_HASH_SIZE, BS);
	bitmap_size = (nr + 7) / 8;
	data_off = round_up(bitmap_off + bitmap_size, BS);
	image_size = data_off + nr * BS;

	sb.s_magic = htole32(INCRFS_SUPER_MAGIC);
	sb.s_major = htole16(INCRFS_MAJOR);
	sb.s_minor = htole16(INCRFS_MINOR);
	sb.s_blkszbits = INCRFS_BLOCK_BITS;
	sb.s_inode_size = htole32(sizeof(struct incrfs_inode));
	sb.s_inode_count = htole64(w->nr_inodes);
	sb.s_root_ino = htole64(INCRFS_ROOT_INO);
	sb.s_image_size = htole64(image_size);
	sb.s_inode_off = htole64(inode_off);
	sb.s_meta_off = htole64(meta_off);
	sb.s_meta_size = htole64(m->len);
	sb.s_hash_off = htole64(hash_off);
	sb.s_bitmap_off = htole64(bitmap_off);
	sb.s_bitmap_size = htole64(bitmap_size);
	sb.s_data_off = htole64(data_off);
	sb.s_nr_blocks = htole64(nr);
	sb.s_mkfs_time = htole64((uint64_t)(o->mkfs_time >= 0 ? o->mkfs_time :
					    newest_mtime(w)));
	memcpy(sb.s_root_hash, w->root_hash, INCRFS_HASH_SIZE);
	err = content_uuid(itab, ilen, m, w, sb.s_uuid);
	if (err) {
		err = incrfs_w_fail(w, err, "sha256 failed");
		goto out;
	}
	sb.s_checksum = htole32(incrfs_super_checksum(&sb));

	if (ftruncate(o->image_fd, 0) < 0 ||
	    ftruncate(o->image_fd, (off_t)image_size) < 0) {
		err = incrfs_w_fail(w, -errno, "sizing the image: %s", strerror(errno));
		goto out;
	}
	err = incrfs_pwrite_full(o->image_fd, &sb, sizeof(sb), 0);
	if (!err)
		err = incrfs_pwrite_full(o->image_fd, itab, ilen, inode_off);
	if (!err)
		err = incrfs_pwrite_full(o->image_fd, m->buf, m->len, meta_off);
	if (!err)
		err = incrfs_pwrite_full(o->image_fd, w->hashes,
					 nr * INCRFS_HASH_SIZE, hash_off);
	if (!err && o->full && bitmap_size) {
		bitmap = malloc(bitmap_size);
		if (!bitmap) {
			err = incrfs_w_fail(w, -ENOMEM, "out of memory");
			goto out;
		}
		memset(bitmap, 0xff, bitmap_size);
		if (nr % 8)
			bitmap[bitmap_size - 1] = (uint8_t)((1u << (nr % 8)) - 1);
		err = incrfs_pwrite_full(o->image_fd, bitmap, bitmap_size, bitmap_off);
	}
	if (err) {
		err = incrfs_w_fail(w, err, "writing the image: %s", strerror(-err));
		goto out;
	}
	if (o->full)
		err = incrfs_w_write_data(w, o->image_fd, data_off);
out:
	free(itab);
	free(bitmap);
	return err;
}

int incrfs_writer_write(struct incrfs_writer *w,
			const struct incrfs_write_opts *o)
{
	struct meta m = { 0 };
	int err;

	if (w->by_ino)
		return incrfs_w_fail(w, -EALREADY, "the tree was already written");
	err = number_inodes(w);
	if (!err)
		err = incrfs_w_data_pass(w, o);
	if (!err)
		err = build_meta(w, &m);
	if (!err)
		err = write_image(w, o, &m);
	free(m.buf);
	return err;
}
