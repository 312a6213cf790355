/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * walk.h - turn a directory tree into an image writer tree.
 *
 * Why this exists: the packer's only job besides option handling is
 * reading the source tree faithfully (lstat, xattrs, hard links, devices);
 * that lives behind this one call.
 */
#ifndef INCRFS_PACK_WALK_H
#define INCRFS_PACK_WALK_H

#include "writer.h"

struct walk_stats {
	unsigned long long files, dirs, symlinks, specials, hardlinks, xattrs;
	unsigned long long skipped_xattrs;
};

/*
 * Walks @dir (which must be a directory; a symlink to one is followed)
 * with lstat(2) and adds everything below it to a new writer, whose root
 * gets @dir's attributes and xattrs.  Prints errors and warnings to stderr
 * prefixed with @prog.  Returns the writer or NULL.
 */
struct incrfs_writer *walk_tree(const char *prog, const char *dir,
				struct walk_stats *st);

#endif /* INCRFS_PACK_WALK_H */
