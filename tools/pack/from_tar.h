/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * from_tar.h - turn a tar archive (an OCI image layer) into a writer tree.
 *
 * Why this exists: container images ship as tar layers; packing one
 * directly, with the OCI whiteout conventions turned into what overlayfs
 * reads, makes the mounted image usable as a lower layer exactly where the
 * runtime would have extracted the tar.
 */
#ifndef INCRFS_PACK_FROM_TAR_H
#define INCRFS_PACK_FROM_TAR_H

#include "spool.h"
#include "walk.h"
#include "writer.h"

/*
 * Reads @tar_path ("-": stdin), plain or compressed (gzip, zstd, xz,
 * bzip2, ...), spooling file content into @sp, which must outlive the
 * writer's incrfs_writer_write().  An entry beyond @lim is an error.
 * Prints errors and warnings to stderr prefixed with @prog.  Returns the
 * writer or NULL.
 */
struct incrfs_writer *from_tar(const char *prog, const char *tar_path,
			       struct spool *sp, const struct pack_limits *lim,
			       struct walk_stats *st);

#endif /* INCRFS_PACK_FROM_TAR_H */
