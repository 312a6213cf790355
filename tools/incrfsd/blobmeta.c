// SPDX-License-Identifier: GPL-2.0-only
/*
 * blobmeta.c - fetch a blob's header and index through a source and parse
 * them with tools/lib (see blobmeta.h).
 *
 * Why this exists: incrfs_blob_open() wants a file descriptor; a source
 * may be anything, so the feeder fetches the two byte ranges itself.
 */
#include "blobmeta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

int blob_meta_fetch(struct blob_meta *m, struct incrfsd_source *src,
		    const struct blob_want *want, char *err, size_t err_len)
{
	struct incrfs_blob b;
	int ret;

	memset(m, 0, sizeof(*m));
	m->size = src->size;
	if (m->size < sizeof(m->header)) {
		snprintf(err, err_len, "not a blob: only %llu bytes",
			 (unsigned long long)m->size);
		return -EUCLEAN;
	}
	ret = incrfsd_source_read_sync(src, 0, sizeof(m->header), m->header);
	if (ret) {
		snprintf(err, err_len, "reading the blob header: %s",
			 strerror(-ret));
		return ret;
	}
	ret = incrfs_blob_parse_header(&b, m->header, sizeof(m->header),
				       m->size);
	if (ret) {
		snprintf(err, err_len, "not a valid blob: %s", b.err);
		incrfs_blob_close(&b);
		return ret;
	}
	if (want && (memcmp(b.root_hash, want->root_hash, INCRFS_HASH_SIZE) ||
		     b.nr_blocks != want->nr_blocks)) {
		char have[INCRFS_HASH_HEX];

		incrfs_hex(b.root_hash, INCRFS_HASH_SIZE, have);
		snprintf(err, err_len, "root hash %s, %llu data blocks", have,
			 (unsigned long long)b.nr_blocks);
		incrfs_blob_close(&b);
		return -EXDEV;
	}
	/* parse_header checked that the index lies within the blob */
	m->index_len = b.nr_chunks * sizeof(struct incrfs_blob_chunk);
	m->index = malloc(m->index_len ? m->index_len : 1);
	if (!m->index) {
		incrfs_blob_close(&b);
		snprintf(err, err_len, "out of memory for the blob index");
		return -ENOMEM;
	}
	ret = m->index_len ? incrfsd_source_read_sync(src, b.index_off,
						       m->index_len, m->index) : 0;
	if (ret)
		snprintf(err, err_len, "reading the blob index: %s",
			 strerror(-ret));
	incrfs_blob_close(&b);
	if (!ret) {
		ret = blob_meta_parse(m, &b);
		if (ret)
			snprintf(err, err_len, "not a valid blob: %s", b.err);
		incrfs_blob_close(&b);
	}
	if (ret)
		blob_meta_free(m);
	return ret;
}

int blob_meta_parse(const struct blob_meta *m, struct incrfs_blob *b)
{
	int ret = incrfs_blob_parse_header(b, m->header, sizeof(m->header),
					   m->size);

	if (!ret)
		ret = incrfs_blob_parse_index(b, m->index, m->index_len);
	return ret;
}

void blob_meta_free(struct blob_meta *m)
{
	free(m->index);
	memset(m, 0, sizeof(*m));
}
