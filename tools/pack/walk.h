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

#include <stdint.h>

#include "writer.h"

/*
 * What incrfs-pack refuses to pack (--max-file-size, --max-total-size,
 * --max-depth): a tar layer from an untrusted source can declare a file
 * of exabytes in a few bytes, or nest directories without end.
 */
struct pack_limits {
	uint64_t max_file_size;		/* bytes of a regular file */
	uint64_t max_total_size;	/* of all regular files, each once */
	uint32_t max_depth;		/* levels below the root: DIR/a/b is 2 */
};

/* No file is too large; nothing deeper than Linux can extract (PATH_MAX). */
#define PACK_LIMITS_DEFAULT { UINT64_MAX, UINT64_MAX, 4096 }

struct walk_stats {
	unsigned long long files, dirs, symlinks, specials, hardlinks, xattrs;
	unsigned long long skipped_xattrs;
};

/*
 * Walks @dir (which must be a directory; a symlink to one is followed)
 * with lstat(2) and adds everything below it to a new writer, whose root
 * gets @dir's attributes and xattrs.  An entry beyond @lim is an error.
 * Prints errors and warnings to stderr prefixed with @prog.  Returns the
 * writer or NULL.
 */
struct incrfs_writer *walk_tree(const char *prog, const char *dir,
				const struct pack_limits *lim,
				struct walk_stats *st);

#endif /* INCRFS_PACK_WALK_H */
