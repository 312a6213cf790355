/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * devnum.h - the on-disk device number encoding (i_rdev).
 *
 * Why this exists: i_rdev holds the kernel's new_encode_dev() format, and
 * the packer (encoding st_rdev) and the readers (decoding for display and
 * comparison) must agree on it bit for bit.
 */
#ifndef INCRFS_DEVNUM_H
#define INCRFS_DEVNUM_H

#include <stdint.h>

/* (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12), as the kernel. */
static inline uint32_t incrfs_encode_dev(uint32_t major, uint32_t minor)
{
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static inline uint32_t incrfs_dev_major(uint32_t rdev)
{
	return (rdev & 0xfff00) >> 8;
}

static inline uint32_t incrfs_dev_minor(uint32_t rdev)
{
	return (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
}

#endif /* INCRFS_DEVNUM_H */
