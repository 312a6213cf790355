/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * writer_priv.h - the image writer's in-memory tree and shared helpers.
 *
 * Why this exists: the writer is split by job (building the tree, reading
 * and hashing file data, laying out and writing the image); this is the
 * state they share.  Not part of the public API.
 */
#ifndef INCRFS_WRITER_PRIV_H
#define INCRFS_WRITER_PRIV_H

#include "err_max.h"
#include "fd_io.h"
#include "writer.h"

struct incrfs_wentry {
	char *name;
	size_t name_len;
	struct incrfs_wnode *node;
};

struct incrfs_wxattr {
	uint8_t index;
	char *name;
	size_t name_len;
	void *value;
	size_t value_len;
};

struct incrfs_wextent {
	uint64_t lblk, pblk;
	uint32_t len;
};

struct incrfs_wnode {
	struct incrfs_wattr attr;
	uint64_t ino;			/* 0 until numbered */
	uint32_t links;			/* directory entries naming it */
	uint64_t size;
	/* directory */
	struct incrfs_wentry *ents;
	size_t nr_ents, cap_ents;
	uint32_t subdirs;
	uint64_t parent;
	/* symlink */
	char *target;
	/* regular file: content */
	void *data;
	char *source;
	/* regular file: layout, filled by the data pass */
	uint64_t first_block, nr_blocks;
	struct incrfs_wextent *exts;
	size_t nr_exts, cap_exts;
	/* xattrs */
	struct incrfs_wxattr *xattrs;
	size_t nr_xattrs, cap_xattrs;
	/* where its records landed in the metadata area */
	uint64_t meta_off, xattr_off;
	uint32_t meta_len, xattr_len, meta_count;
	struct incrfs_wnode *all_next;	/* every node, for freeing */
};

struct incrfs_writer {
	struct incrfs_wnode *root;
	struct incrfs_wnode *all;
	struct incrfs_wnode **by_ino;	/* [ino - 1], after numbering */
	uint64_t nr_inodes;
	uint8_t *hashes;		/* nr_blocks * 32 */
	size_t cap_blocks;
	uint64_t nr_blocks;
	uint8_t root_hash[INCRFS_HASH_SIZE];
	char err[INCRFS_ERR_MAX];
};

int incrfs_w_fail(struct incrfs_writer *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Grows *@arr (of *@cap elements of @size) to hold @n; 0 or -ENOMEM. */
int incrfs_w_grow(void **arr, size_t *cap, size_t n, size_t size);

/* Data pass: give every regular file its data blocks, extents and hashes,
 * and write the blob if @o asks for one. */
int incrfs_w_data_pass(struct incrfs_writer *w,
		       const struct incrfs_write_opts *o);
/* For o->full: write every data block into the image at @data_off. */
int incrfs_w_write_data(struct incrfs_writer *w, int image_fd,
			uint64_t data_off);

#endif /* INCRFS_WRITER_PRIV_H */
