/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compat.h - the only place where incrfs deals with the differences
 * between the kernels it supports (Debian's 6.1 and 6.12).
 */
#ifndef _INCRFS_COMPAT_H
#define _INCRFS_COMPAT_H

#include <linux/version.h>

#endif /* _INCRFS_COMPAT_H */
