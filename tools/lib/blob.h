/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blob.h - read and validate an incrfs blob, decode its chunks.
 *
 * Why this exists: the feeder (incrfsd), incrfsctl and the tests read
 * blobs; a blob may come from an untrusted server, so its header and index
 * are validated completely before use and every chunk is decoded into a
 * caller buffer of exactly the size the index promises.
 *
 * A blob can be read from a local file (incrfs_blob_open) or from memory
 * fetched by other means, e.g. HTTP range requests
 * (incrfs_blob_parse_header, then incrfs_blob_parse_index on the
 * b_nr_chunks * 16 bytes at b_index_off, then incrfs_blob_decode_chunk on
 * the c_len bytes at c_off).  Functions return 0 or a negative errno:
 * -EUCLEAN for a malformed blob or chunk, with blob->err saying why.
 */
#ifndef INCRFS_BLOB_H
#define INCRFS_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "err_max.h"
#include "uapi/incrfs.h"

/* A chunk from the index, host-endian. */
struct incrfs_chunk_info {
	uint64_t off;		/* byte offset of its zstd frame in the blob */
	uint32_t len;		/* compressed bytes */
	uint32_t nr_blocks;	/* 4 KiB blocks it decodes to */
	uint64_t first_block;	/* its first data block */
};

struct incrfs_blob {
	int fd;				/* -1 when parsed from memory; not owned */
	uint64_t size;			/* blob size in bytes */
	uint16_t major, minor;
	uint32_t chunk_blocks;
	uint64_t nr_blocks;
	uint64_t nr_chunks;
	uint64_t index_off;
	uint8_t root_hash[INCRFS_HASH_SIZE];
	struct incrfs_blob_chunk *index;	/* on-disk index (LE), validated */
	void *dctx;			/* ZSTD_DCtx * */
	void *cbuf;			/* compressed-chunk buffer for read_chunk */
	size_t cbuf_size;
	char err[INCRFS_ERR_MAX];
};

/* Standard CRC-32C of a blob header with b_checksum taken as zero. */
uint32_t incrfs_blob_header_checksum(const struct incrfs_blob_header *h);

/* Opens the blob at @fd (of size st_size): header + index, validated. */
int incrfs_blob_open(struct incrfs_blob *b, int fd);
/*
 * Parses and validates the header in @buf (@len >= 128 bytes) of a blob of
 * @blob_size bytes: magic, version, checksum, chunk_blocks > 0,
 * nr_chunks == ceil(nr_blocks / chunk_blocks), index within the blob.
 * Initialises all of @b (fd = -1): close a used @b first, or it leaks.
 */
int incrfs_blob_parse_header(struct incrfs_blob *b, const void *buf,
			     size_t len, uint64_t blob_size);
/*
 * Validates and stores the index (@len == nr_chunks * 16 bytes): each chunk
 * non-empty, within the blob, not overlapping the header or index, with
 * c_nr_blocks == chunk_blocks (the last: the remainder).
 */
int incrfs_blob_parse_index(struct incrfs_blob *b, const void *buf,
			    size_t len);
/* Frees everything; does not close the fd.  Safe on a zeroed struct. */
void incrfs_blob_close(struct incrfs_blob *b);

/* The chunk holding data block @data_block (-ERANGE if beyond the blob). */
int incrfs_blob_chunk_of(const struct incrfs_blob *b, uint64_t data_block,
			 uint64_t *chunk);
/* Index entry of chunk @chunk (-ERANGE if out of range). */
int incrfs_blob_chunk(const struct incrfs_blob *b, uint64_t chunk,
		      struct incrfs_chunk_info *out);

/*
 * Decodes chunk @chunk from its compressed bytes @src (@src_len must equal
 * its c_len; exactly one zstd frame) into @dst (@dst_size >= nr_blocks *
 * 4096).  The frame must decode to exactly nr_blocks * 4096 bytes.
 */
int incrfs_blob_decode_chunk(struct incrfs_blob *b, uint64_t chunk,
			     const void *src, size_t src_len,
			     void *dst, size_t dst_size);
/* Reads chunk @chunk from the blob's fd and decodes it as above. */
int incrfs_blob_read_chunk(struct incrfs_blob *b, uint64_t chunk,
			   void *dst, size_t dst_size);

#endif /* INCRFS_BLOB_H */
