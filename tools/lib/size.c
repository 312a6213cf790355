// SPDX-License-Identifier: GPL-2.0-only
/*
 * size.c - a size on the command line (see size.h).
 */
#include "size.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int incrfs_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	static const char suffixes[] = "KMGTPE";
	unsigned long long v;
	const char *sfx;
	char *end;
	int shift;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		sfx = strchr(suffixes, toupper((unsigned char)*end));
		if (!sfx || end[1])
			return -EINVAL;
		for (shift = 10 * (int)(sfx - suffixes + 1); shift; shift -= 10) {
			if (v > max >> 10)
				return -EINVAL;
			v <<= 10;
		}
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
