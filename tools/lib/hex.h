/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hex.h - root hashes and uuids as text, the one way every tool prints
 * them (incrfsctl info, incrfs-image inspect, incrfs-pack, incrfsd's
 * messages, access profiles), so that they can be compared by eye and
 * by scripts.
 */
#ifndef INCRFS_HEX_H
#define INCRFS_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "uapi/incrfs.h"

/* A root hash's text: 64 lower-case hex digits and a NUL. */
#define INCRFS_HASH_HEX (2 * INCRFS_HASH_SIZE + 1)
/* A uuid's text: 8-4-4-4-12 lower-case hex digits and a NUL. */
#define INCRFS_UUID_TEXT 37

/* @n bytes of @b as 2n lower-case hex digits and a NUL into @out. */
void incrfs_hex(const uint8_t *b, size_t n, char *out);
/* @u as 8-4-4-4-12 hex digits and a NUL into @out. */
void incrfs_uuid_text(const uint8_t u[16], char out[INCRFS_UUID_TEXT]);

#endif /* INCRFS_HEX_H */
