// SPDX-License-Identifier: GPL-2.0-only
/*
 * hex.c - bytes as lower-case hex text (see hex.h).
 */
#include "hex.h"

void incrfs_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void incrfs_uuid_text(const uint8_t u[16], char out[INCRFS_UUID_TEXT])
{
	/* bytes before each dash: 4, 2, 2, 2, then the last 6 */
	static const int group[] = { 4, 2, 2, 2, 6 };
	int g, at = 0, o = 0;

	for (g = 0; g < 5; g++) {
		if (g)
			out[o++] = '-';
		incrfs_hex(u + at, group[g], out + o);
		o += 2 * group[g];
		at += group[g];
	}
	out[o] = '\0';
}
