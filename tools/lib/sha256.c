// SPDX-License-Identifier: GPL-2.0-only
/*
 * sha256.c - SHA-256 through libcrypto's EVP interface.
 *
 * Why this exists: one place for the EVP context handling, so callers get
 * a digest or an errno and never touch OpenSSL types.
 */
#include "sha256.h"

#include <errno.h>
#include <openssl/evp.h>

int incrfs_sha256(const void *buf, size_t len, uint8_t out[INCRFS_SHA256_SIZE])
{
	unsigned int n = 0;

	if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) ||
	    n != INCRFS_SHA256_SIZE)
		return -EIO;
	return 0;
}

int incrfs_sha256_init(struct incrfs_sha256_ctx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	c->md = NULL;
	if (!md)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return -EIO;
	}
	c->md = md;
	return 0;
}

int incrfs_sha256_update(struct incrfs_sha256_ctx *c, const void *buf, size_t len)
{
	if (!c->md)
		return -EINVAL;
	return EVP_DigestUpdate(c->md, buf, len) ? 0 : -EIO;
}

int incrfs_sha256_final(struct incrfs_sha256_ctx *c, uint8_t out[INCRFS_SHA256_SIZE])
{
	unsigned int n = 0;
	int ret = -EINVAL;

	if (c->md)
		ret = EVP_DigestFinal_ex(c->md, out, &n) &&
		      n == INCRFS_SHA256_SIZE ? 0 : -EIO;
	incrfs_sha256_free(c);
	return ret;
}

void incrfs_sha256_free(struct incrfs_sha256_ctx *c)
{
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}
