/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * profile.h - access profiles: the data blocks an app reads at start-up,
 * in the order it first reads them.
 *
 * Why this exists: incrfsctl profile record writes one from the kernel's
 * access log and incrfsd --prefetch-profile reads one; both must agree on
 * the format, and a profile read from a file is untrusted input.  Text,
 * one item a line:
 *
 *   incrfs-profile 1 ROOT_HASH      first line: version, the image's root
 *                                   hash (64 hex digits, INCRFS_IOC_GET_INFO)
 *   START LEN                       a range of LEN >= 1 data blocks from
 *                                   START (decimal), in first-read order
 *   # ...                           a comment; blank lines are ignored
 *
 * A profile for another image (another root hash) must be refused.
 */
#ifndef INCRFS_PROFILE_H
#define INCRFS_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err_max.h"
#include "uapi/incrfs.h"

#define INCRFS_PROFILE_MAGIC	"incrfs-profile"
#define INCRFS_PROFILE_VERSION	1
/* Ranges a profile may hold when read (the kernel log holds 65536). */
#define INCRFS_PROFILE_MAX_RANGES	(1U << 22)

struct incrfs_profile_range {
	uint64_t start;
	uint64_t len;
};

struct incrfs_profile {
	uint8_t root_hash[INCRFS_HASH_SIZE];
	struct incrfs_profile_range *ranges;
	size_t nr, cap;
	uint64_t blocks;	/* sum of the lengths */
	char err[INCRFS_ERR_MAX];
};

/*
 * Read a profile from @f (named @name in messages).  0, or -EINVAL with
 * p->err saying which line is wrong and why, -ENOMEM, -EIO.  Free with
 * incrfs_profile_free() either way.
 */
int incrfs_profile_read(struct incrfs_profile *p, FILE *f, const char *name);
void incrfs_profile_free(struct incrfs_profile *p);

/* The first line, for @root_hash.  0 or -EIO. */
int incrfs_profile_write_header(FILE *f,
				const uint8_t root_hash[INCRFS_HASH_SIZE]);
/* One "START LEN" line.  0 or -EIO. */
int incrfs_profile_write_range(FILE *f, uint64_t start, uint64_t len);

/* @hash as 64 lower-case hex digits and a NUL into @out. */
void incrfs_profile_hex(const uint8_t hash[INCRFS_HASH_SIZE],
			char out[2 * INCRFS_HASH_SIZE + 1]);

#endif /* INCRFS_PROFILE_H */
