/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * internal.h - in-memory types shared by the incrfs module's files.
 */
#ifndef _INCRFS_INTERNAL_H
#define _INCRFS_INTERNAL_H

#include <linux/fs.h>
#include "incrfs.h"
#include "compat.h"

#undef pr_fmt
#define pr_fmt(fmt) "incrfs: " fmt

#endif /* _INCRFS_INTERNAL_H */
