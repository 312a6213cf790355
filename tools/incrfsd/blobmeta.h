/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blobmeta.h - a blob's header and chunk index, fetched through a source.
 *
 * Why this exists: tools/lib parses a blob from memory; this fetches the
 * bytes it needs through whatever source the blob lives in (a file, a
 * URL, a registry) and keeps them, so each thread can parse its own
 * struct incrfs_blob (a zstd context is not shared between threads).
 */
#ifndef INCRFSD_BLOBMETA_H
#define INCRFSD_BLOBMETA_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "source.h"

struct blob_meta {
	uint8_t header[sizeof(struct incrfs_blob_header)];
	void *index;		/* b_nr_chunks x struct incrfs_blob_chunk */
	size_t index_len;
	uint64_t size;		/* bytes in the blob */
};

/*
 * What the blob must be to be fetched further: the mounted image's root
 * hash and data block count.
 */
struct blob_want {
	uint8_t root_hash[INCRFS_HASH_SIZE];
	uint64_t nr_blocks;
};

/*
 * Fetch and validate header and index; @err gets why not.  With @want,
 * a header that names another image fails with -EXDEV before the index
 * (whose size the header gives) is allocated or fetched: a blob's server
 * is not trusted with incrfsd's memory.
 */
int blob_meta_fetch(struct blob_meta *m, struct incrfsd_source *src,
		    const struct blob_want *want, char *err, size_t err_len);
/* Parse the fetched bytes into @b (validated again; @b->err on error). */
int blob_meta_parse(const struct blob_meta *m, struct incrfs_blob *b);
void blob_meta_free(struct blob_meta *m);

#endif /* INCRFSD_BLOBMETA_H */
