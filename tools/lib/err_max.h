/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * err_max.h - the size of the error text tools/lib's readers and writer
 * keep for their caller.
 *
 * Why this exists: struct incrfs_image, incrfs_blob, incrfs_profile and
 * the writer each say in words why their last call failed; the tools copy
 * those texts into messages of their own, sized by this one constant.
 */
#ifndef INCRFS_ERR_MAX_H
#define INCRFS_ERR_MAX_H

#define INCRFS_ERR_MAX 256

#endif /* INCRFS_ERR_MAX_H */
