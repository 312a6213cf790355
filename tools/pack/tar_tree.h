/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tar_tree.h - a file tree built entry by entry with tar extraction rules.
 *
 * Why this exists: the image writer's tree only grows, but a tar archive
 * (an OCI layer) may name a path twice, and the later entry replaces the
 * earlier one exactly as extraction would: a directory over a directory
 * keeps its content and takes the new attributes, anything else replaces
 * the old entry (and its subtree).  Hard links point at the inode as it is
 * when the link entry is read.  Parents that no entry names are created
 * with default attributes.  When the archive is read, the finished tree is
 * handed to the writer in one deterministic pass.
 */
#ifndef INCRFS_PACK_TAR_TREE_H
#define INCRFS_PACK_TAR_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "writer.h"

struct tar_tree;
struct tar_node;

/* Called when a regular file's content is no longer referenced. */
typedef void (*tar_drop_fn)(void *ctx, uint64_t spool_id);

/* Attributes of a parent directory no entry names: 0755, root, time 0. */
extern const struct incrfs_wattr tar_implied_dir;

struct tar_tree *tar_tree_new(tar_drop_fn drop, void *ctx);
void tar_tree_free(struct tar_tree *t);
/* Why the last call failed (valid after a NULL or negative return). */
const char *tar_tree_error(const struct tar_tree *t);

/*
 * Puts a new inode with @attr at @path ("" is the root, which must stay a
 * directory), creating missing parents.  @path is already normalized:
 * components separated by single '/', none empty, ".", "..".  Returns the
 * node (a directory put over a directory returns the existing one with
 * its attributes and xattrs replaced) or NULL.
 */
struct tar_node *tar_tree_put(struct tar_tree *t, const char *path,
			      const struct incrfs_wattr *attr);
/* Makes @path a new name of the existing non-directory at @target. */
int tar_tree_link(struct tar_tree *t, const char *path, const char *target);
/* Marks the directory @path (created if missing) overlayfs-opaque. */
int tar_tree_set_opaque(struct tar_tree *t, const char *path);

int tar_node_set_symlink(struct tar_tree *t, struct tar_node *n,
			 const char *target);
/* Content of a regular file: spool file @spool_id of @size bytes. */
void tar_node_set_spool(struct tar_tree *t, struct tar_node *n,
			uint64_t spool_id, uint64_t size);
/* The sizes of the regular files in the tree (a hard-linked one once). */
uint64_t tar_tree_file_bytes(const struct tar_tree *t);
/* Adds an xattr; a name given again gets the value added last. */
int tar_node_add_xattr(struct tar_tree *t, struct tar_node *n, uint8_t index,
		       const char *name, const void *value, size_t len);

/*
 * Builds the writer tree.  @spool_path(ctx, id, buf, len) names spool
 * file @id.  Opaque directories get trusted.overlay.opaque = "y".
 */
struct incrfs_writer *tar_tree_to_writer(struct tar_tree *t,
		void (*spool_path)(void *ctx, uint64_t id, char *buf, size_t len),
		void *ctx);

#endif /* INCRFS_PACK_TAR_TREE_H */
