/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of the incrfs super block
 * and blob header.
 *
 * Why this exists: no library Debian ships offers CRC-32C, and the format
 * needs exactly the standard variant (reflected polynomial 0x82F63B78,
 * initial value ~0, final xor ~0; check value of "123456789" is
 * 0xE3069283), the same the kernel's crc32c() yields when seeded with ~0 and
 * its result inverted.
 */
#ifndef INCRFS_CRC32C_H
#define INCRFS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * incrfs_crc32c - standard CRC-32C of @len bytes at @buf, continuing from
 * @crc, which is 0 for a fresh checksum or the result of an earlier call
 * (the zlib crc32() convention): crc32c(crc32c(0, a), b) == crc32c(0, ab).
 */
uint32_t incrfs_crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* INCRFS_CRC32C_H */
