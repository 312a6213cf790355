/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image_priv.h - helpers shared by the image reader's source files.
 *
 * Why this exists: the reader is split by job (super block and inodes,
 * directories and other records, the full check); they share the error
 * reporting and the bounds-checked read primitive declared here.  Not part
 * of the public API.
 */
#ifndef INCRFS_IMAGE_PRIV_H
#define INCRFS_IMAGE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "fd_io.h"
#include "image.h"

/* Formats a message into img->err and returns @err. */
int incrfs_img_fail(struct incrfs_image *img, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));


/* memcmp order, shorter first on a common prefix (the dirent order). */
int incrfs_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* DT_* value of an S_IFMT mode, 0 if unknown. */
unsigned int incrfs_mode_to_dtype(uint32_t mode);

#define INCRFS_MAX_EXTENTS	(1U << 24)	/* as the kernel */
#define INCRFS_XATTR_RECORD_MAX	(4U << 20)	/* as the kernel */
#define INCRFS_META_MAX		(1ULL << 30)	/* what we load in memory */

#endif /* INCRFS_IMAGE_PRIV_H */
