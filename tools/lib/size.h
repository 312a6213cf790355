/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * size.h - a size on the command line: "4096", "64K", "2G".
 *
 * Why this exists: options that take a number of bytes should all read
 * the same suffixes, the powers of 1024 that du(1), truncate(1) and the
 * tools' own --help use.
 */
#ifndef INCRFS_SIZE_H
#define INCRFS_SIZE_H

#include <stdint.h>

/*
 * Parses @s, a decimal number of bytes with an optional suffix K, M, G, T,
 * P or E (either case: KiB to EiB), into *@out.  Returns 0, or -EINVAL if
 * @s is not such a number or is more than @max.
 */
int incrfs_parse_size(const char *s, uint64_t max, uint64_t *out);

#endif /* INCRFS_SIZE_H */
