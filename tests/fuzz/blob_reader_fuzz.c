// SPDX-License-Identifier: GPL-2.0-only
/*
 * blob_reader_fuzz.c - libFuzzer target: the blob reader (tools/lib/blob.h)
 * on arbitrary bytes.
 *
 * Why this exists: incrfsd fetches blobs from servers it does not control;
 * the header, the chunk index and every zstd chunk are parsed by this
 * reader before anything reaches the kernel.  The input is a whole blob.
 * It is parsed as incrfsd does with ranged fetches (parse_header on the
 * first 128 bytes, parse_index on the index bytes, decode_chunk on each
 * chunk's bytes) and as a file (incrfs_blob_open and read_chunk on a
 * memfd).  A decoded chunk must be exactly its promised size.
 *
 * Each input also runs a second time with the header's CRC-32C
 * recomputed, so the fuzzer gets past it to the fields it guards.
 *
 * Built and run by tests/fuzz/run-host-fuzz.sh (clang -fsanitize=fuzzer,
 * address,undefined).
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blob.h"

#define MAX_CHUNKS	16
#define MAX_DECODED	(8u << 20)	/* bytes of one decoded chunk */

static void check_err(int err)
{
	switch (err) {
	case 0: case -EUCLEAN: case -EINVAL: case -ERANGE: case -ENOBUFS:
	case -ENOMEM: case -EIO: case -EBADF:
		return;
	}
	abort();
}

/* Decode up to MAX_CHUNKS chunks, their bytes taken from @data. */
static void decode_chunks(struct incrfs_blob *b, const uint8_t *data,
			  size_t size, int from_file)
{
	struct incrfs_chunk_info ci;
	uint64_t i;
	uint8_t *dst;
	size_t want;
	int ret;

	for (i = 0; i < b->nr_chunks && i < MAX_CHUNKS; i++) {
		if (incrfs_blob_chunk(b, i, &ci))
			abort();	/* validated index, in range */
		if (ci.off > size || ci.len > size - ci.off)
			abort();	/* parse_index promised it fits */
		want = (size_t)ci.nr_blocks * INCRFS_BLOCK_SIZE;
		if (want > MAX_DECODED)
			continue;
		dst = malloc(want ? want : 1);
		if (!dst)
			abort();
		ret = from_file ? incrfs_blob_read_chunk(b, i, dst, want) :
			incrfs_blob_decode_chunk(b, i, data + ci.off, ci.len,
						 dst, want);
		check_err(ret);
		/* too small a buffer is refused, not overrun */
		if (want)
			check_err(incrfs_blob_decode_chunk(b, i, data + ci.off,
							   ci.len, dst,
							   want - 1));
		free(dst);
	}
	ret = incrfs_blob_chunk(b, b->nr_chunks, &ci);
	if (ret != -ERANGE)
		abort();
}

static void run(int fd, const uint8_t *data, size_t size)
{
	struct incrfs_blob b;
	uint64_t chunk;
	int ret;

	/* as fetched in pieces */
	ret = incrfs_blob_parse_header(&b, data, size, size);
	check_err(ret);
	if (!ret) {
		size_t len = b.nr_chunks * sizeof(struct incrfs_blob_chunk);

		if (b.index_off > size || len > size - b.index_off)
			abort();	/* parse_header promised it fits */
		ret = incrfs_blob_parse_index(&b, data + b.index_off, len);
		check_err(ret);
		if (!ret) {
			decode_chunks(&b, data, size, 0);
			if (b.nr_blocks &&
			    incrfs_blob_chunk_of(&b, b.nr_blocks - 1, &chunk))
				abort();
		}
	}
	incrfs_blob_close(&b);

	/* as a file */
	if (ftruncate(fd, 0) ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	ret = incrfs_blob_open(&b, fd);
	check_err(ret);
	if (!ret)
		decode_chunks(&b, data, size, 1);
	incrfs_blob_close(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct incrfs_blob_header *h;
	uint8_t *copy;

	if (fd < 0) {
		fd = memfd_create("blob", 0);
		if (fd < 0)
			abort();
	}
	run(fd, data, size);
	if (size < sizeof(*h))
		return 0;
	/* again with a valid checksum, if it was not */
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	h = (struct incrfs_blob_header *)copy;
	if (h->b_checksum != htole32(incrfs_blob_header_checksum(h))) {
		h->b_checksum = htole32(incrfs_blob_header_checksum(h));
		run(fd, copy, size);
	}
	free(copy);
	return 0;
}
