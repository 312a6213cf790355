// SPDX-License-Identifier: GPL-2.0-only
/*
 * crc32c.c - table-driven CRC-32C (Castagnoli).
 *
 * Why this exists: the super block and blob header checksums are CRC-32C
 * and no Debian library provides it; a 1 KiB table computed once is all it
 * takes.  Speed does not matter: only headers are checksummed.
 */
#include "crc32c.h"

#include <pthread.h>

#define CRC32C_POLY 0x82F63B78u	/* reflected 0x1EDC6F41 */

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		table[i] = c;
	}
}

uint32_t incrfs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&table_once, table_init);
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
