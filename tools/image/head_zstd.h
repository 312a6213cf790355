/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * head_zstd.h - an incrfs image's head (everything before its data
 * region) compressed with zstd for the registry, and back.
 *
 * Why this exists: a node fetches every layer's head before it mounts the
 * layer, so its size is on the critical path of every lazy start; names,
 * inodes and extents compress about 2x.  convert stores the head as
 * INCRFS_MT_IMAGE_ZSTD, pull expands it.
 */
#ifndef INCRFS_HEAD_ZSTD_H
#define INCRFS_HEAD_ZSTD_H

#include <stddef.h>
#include <stdint.h>

/*
 * The first @len bytes of the file @fd as one zstd frame (its content size
 * in the frame header), into a malloc()ed *@out of *@out_len bytes.
 */
int head_compress(int fd, uint64_t len, void **out, size_t *out_len,
		  char *err, size_t err_len);

/*
 * The @in_len bytes of the file @in (zstd frames, one after another)
 * expanded into @out from its offset 0; refused (-EFBIG) past @max bytes,
 * -EBADMSG if they are not zstd, end inside a frame or ask for a window
 * larger than 8 MiB.  The bytes written into *@out_len.
 */
int head_expand(int in, uint64_t in_len, int out, uint64_t max,
		uint64_t *out_len, char *err, size_t err_len);

#endif
