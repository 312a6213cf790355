/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * number.h - a number on the command line or in a file the tools read:
 * "4096", and a size such as "64K" or "2G".
 *
 * Why this exists: strtoull() alone takes leading blanks, a sign and
 * trailing junk, and every tool needs the same strict reading; options
 * that take a number of bytes should all read the same suffixes, the
 * powers of 1024 that du(1), truncate(1) and the tools' --help use.
 */
#ifndef INCRFS_NUMBER_H
#define INCRFS_NUMBER_H

#include <stdint.h>

/*
 * Parses @s, decimal digits and nothing else, into *@out.  Returns 0, or
 * -EINVAL if @s is not such a number or is more than @max.
 */
int incrfs_parse_u64(const char *s, uint64_t max, uint64_t *out);

/*
 * Parses @s, a decimal number of bytes with an optional suffix K, M, G, T,
 * P or E (either case: KiB to EiB), into *@out.  Returns 0, or -EINVAL if
 * @s is not such a number or is more than @max.
 */
int incrfs_parse_size(const char *s, uint64_t max, uint64_t *out);

#endif /* INCRFS_NUMBER_H */
