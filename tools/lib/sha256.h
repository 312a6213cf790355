/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sha256.h - SHA-256 for block hashes and the root hash, via libcrypto.
 *
 * Why this exists: the packer, the reader, the feeder and the tests all
 * hash 4 KiB blocks and the hash table; this keeps libcrypto's EVP
 * boilerplate (context allocation, error paths) in one place.
 * All functions return 0 or -ENOMEM/-EIO.
 */
#ifndef INCRFS_SHA256_H
#define INCRFS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define INCRFS_SHA256_SIZE 32

/* One-shot: @out = SHA-256 of @len bytes at @buf. */
int incrfs_sha256(const void *buf, size_t len, uint8_t out[INCRFS_SHA256_SIZE]);

/* Streaming, for data that does not sit in one buffer. */
struct incrfs_sha256_ctx {
	void *md;	/* EVP_MD_CTX * */
};

int incrfs_sha256_init(struct incrfs_sha256_ctx *c);
int incrfs_sha256_update(struct incrfs_sha256_ctx *c, const void *buf, size_t len);
/* Writes the digest and frees the context (also on error). */
int incrfs_sha256_final(struct incrfs_sha256_ctx *c, uint8_t out[INCRFS_SHA256_SIZE]);
/* Frees a context that will not be finalised; safe on a zeroed one. */
void incrfs_sha256_free(struct incrfs_sha256_ctx *c);

#endif /* INCRFS_SHA256_H */
