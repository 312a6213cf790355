/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * writer.h - build an incrfs image (and its blob) from an in-memory tree.
 *
 * Why this exists: incrfs-pack walks a directory, but the tests also want
 * to build images from trees they describe in code.  Both describe the tree
 * through this API; incrfs_writer_write() then lays out and writes the
 * image exactly as uapi/incrfs.h describes it.
 *
 * Output is deterministic: inode numbers are given breadth-first from the
 * root (inode 1), each directory's entries in name order; regular files
 * get their data blocks in inode order; nothing depends on the order of
 * the calls below or on the clock.
 *
 * Functions returning int give 0 or a negative errno; those returning a
 * pointer give NULL on error.  incrfs_writer_error() says why.
 */
#ifndef INCRFS_WRITER_H
#define INCRFS_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/incrfs.h"

struct incrfs_writer;
struct incrfs_wnode;

/* Attributes of a new inode. */
struct incrfs_wattr {
	uint32_t mode;			/* S_IFMT | permission bits */
	uint32_t uid, gid;
	uint32_t rdev;			/* devices: incrfs_encode_dev() */
	int64_t mtime, ctime;
	uint32_t mtime_nsec, ctime_nsec;
};

struct incrfs_write_opts {
	int image_fd;			/* truncated and written */
	int blob_fd;			/* -1: no blob; else truncated and written */
	bool full;			/* every block present, data written */
	uint32_t chunk_blocks;		/* blocks per blob chunk; 0: 16 */
	int level;			/* zstd level; 0: zstd's default */
	int64_t mkfs_time;		/* < 0: the newest mtime in the tree */
};

/* A new tree whose root directory has @root's attributes (S_IFDIR). */
struct incrfs_writer *incrfs_writer_new(const struct incrfs_wattr *root);
void incrfs_writer_free(struct incrfs_writer *w);
const char *incrfs_writer_error(const struct incrfs_writer *w);
struct incrfs_wnode *incrfs_writer_root(struct incrfs_writer *w);

/* A new inode called @name in directory @dir.  Names are 1..255 bytes,
 * without '/' or NUL, not "." or ".."; duplicates are caught at write. */
struct incrfs_wnode *incrfs_writer_add(struct incrfs_writer *w,
				       struct incrfs_wnode *dir,
				       const char *name,
				       const struct incrfs_wattr *attr);
/* A hard link to the existing non-directory @target. */
int incrfs_writer_link(struct incrfs_writer *w, struct incrfs_wnode *dir,
		       const char *name, struct incrfs_wnode *target);
/* Target of a symlink: 1..4095 bytes, no NUL. */
int incrfs_writer_set_symlink(struct incrfs_writer *w,
			      struct incrfs_wnode *node,
			      const char *target, size_t len);
/* Content of a regular file, copied now. */
int incrfs_writer_set_data(struct incrfs_writer *w, struct incrfs_wnode *node,
			   const void *data, uint64_t size);
/* Content of a regular file, read from @path at write time; the file
 * must then be exactly @size bytes. */
int incrfs_writer_set_source(struct incrfs_writer *w, struct incrfs_wnode *node,
			     const char *path, uint64_t size);
/* An xattr @prefix-less @name in namespace @index (INCRFS_XATTR_*). */
int incrfs_writer_add_xattr(struct incrfs_writer *w, struct incrfs_wnode *node,
			    uint8_t index, const char *name,
			    const void *value, size_t len);

/*
 * Writes the image to o->image_fd and, if o->blob_fd >= 0, the blob.
 * Without o->full the bitmap is all zero and the data region is left a
 * hole (the file is ftruncate'd to s_image_size).  A file whose content
 * changes while it is read gives -ESTALE.  On error the output files hold
 * garbage: write to temporary files and rename on success.
 */
int incrfs_writer_write(struct incrfs_writer *w,
			const struct incrfs_write_opts *o);

#endif /* INCRFS_WRITER_H */
