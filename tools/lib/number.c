// SPDX-License-Identifier: GPL-2.0-only
/*
 * number.c - numbers on the command line (see number.h).
 */
#include "number.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Leading decimal digits of @s into *@v; *@end after them. */
static int digits(const char *s, unsigned long long *v, char **end)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -EINVAL : 0;
}

int incrfs_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (digits(s, &v, &end) || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int incrfs_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	static const char suffixes[] = "KMGTPE";
	unsigned long long v;
	const char *sfx;
	char *end;
	int shift;

	if (digits(s, &v, &end))
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
