// SPDX-License-Identifier: GPL-2.0-only
/*
 * blob.c - validate a blob's header and chunk index; decode chunks.
 *
 * Why this exists: a blob may come from anywhere, so nothing in it is used
 * before it is checked: the header checksum and counts, every index entry
 * against the blob size, and every chunk must decode (as exactly one zstd
 * frame) to exactly the number of bytes the index promises.
 */
#include "blob.h"
#include "crc32c.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd.h>

#define BS INCRFS_BLOCK_SIZE

/* Largest chunk we accept: 1 GiB decoded, and its frame at most that. */
#define CHUNK_MAX_BYTES (1ULL << 30)

static int blob_fail(struct incrfs_blob *b, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int blob_fail(struct incrfs_blob *b, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return err;
}

uint32_t incrfs_blob_header_checksum(const struct incrfs_blob_header *h)
{
	struct incrfs_blob_header tmp = *h;

	tmp.b_checksum = 0;
	return incrfs_crc32c(0, &tmp, sizeof(tmp));
}

static int parse_header(struct incrfs_blob *b, const void *buf, size_t len,
			uint64_t blob_size)
{
	struct incrfs_blob_header h;
	uint64_t index_bytes, want;
	uint32_t crc;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->size = blob_size;
	if (len < sizeof(h) || blob_size < sizeof(h))
		return blob_fail(b, -EUCLEAN, "blob is truncated (no header)");
	memcpy(&h, buf, sizeof(h));
	if (le32toh(h.b_magic) != INCRFS_BLOB_MAGIC)
		return blob_fail(b, -EUCLEAN, "bad blob magic 0x%08x",
				 le32toh(h.b_magic));
	crc = incrfs_blob_header_checksum(&h);
	if (crc != le32toh(h.b_checksum))
		return blob_fail(b, -EUCLEAN,
				 "blob header checksum mismatch (stored 0x%08x, computed 0x%08x)",
				 le32toh(h.b_checksum), crc);
	b->major = le16toh(h.b_major);
	b->minor = le16toh(h.b_minor);
	if (b->major != INCRFS_MAJOR)
		return blob_fail(b, -EUCLEAN, "unsupported blob version %u.%u",
				 b->major, b->minor);
	b->chunk_blocks = le32toh(h.b_chunk_blocks);
	b->nr_blocks = le64toh(h.b_nr_blocks);
	b->nr_chunks = le64toh(h.b_nr_chunks);
	b->index_off = le64toh(h.b_index_off);
	memcpy(b->root_hash, h.b_root_hash, sizeof(b->root_hash));
	if (b->chunk_blocks == 0 ||
	    (uint64_t)b->chunk_blocks * BS > CHUNK_MAX_BYTES)
		return blob_fail(b, -EUCLEAN, "bad chunk size of %u blocks",
				 b->chunk_blocks);
	want = b->nr_blocks / b->chunk_blocks + !!(b->nr_blocks % b->chunk_blocks);
	if (b->nr_chunks != want)
		return blob_fail(b, -EUCLEAN,
				 "%llu chunks for %llu blocks of %u (expected %llu)",
				 (unsigned long long)b->nr_chunks,
				 (unsigned long long)b->nr_blocks, b->chunk_blocks,
				 (unsigned long long)want);
	index_bytes = b->nr_chunks * sizeof(struct incrfs_blob_chunk);
	if (b->nr_chunks > blob_size / sizeof(struct incrfs_blob_chunk) ||
	    b->index_off < sizeof(h) || b->index_off > blob_size ||
	    index_bytes > blob_size - b->index_off)
		return blob_fail(b, -EUCLEAN, "blob index out of range");
	return 0;
}

int incrfs_blob_parse_header(struct incrfs_blob *b, const void *buf,
			     size_t len, uint64_t blob_size)
{
	char err[INCRFS_ERR_MAX];
	int ret = parse_header(b, buf, len, blob_size);

	if (ret) {
		/* Leave no half-parsed counts behind for parse_index. */
		memcpy(err, b->err, sizeof(err));
		memset(b, 0, sizeof(*b));
		b->fd = -1;
		memcpy(b->err, err, sizeof(err));
	}
	return ret;
}

int incrfs_blob_parse_index(struct incrfs_blob *b, const void *buf,
			    size_t len)
{
	const uint64_t index_end = b->index_off +
		b->nr_chunks * sizeof(struct incrfs_blob_chunk);
	struct incrfs_blob_chunk *idx;

	if (!b->chunk_blocks)
		return blob_fail(b, -EINVAL, "blob header not parsed");
	if (len != b->nr_chunks * sizeof(*idx))
		return blob_fail(b, -EINVAL, "index of %zu bytes, expected %llu",
				 len, (unsigned long long)(b->nr_chunks * sizeof(*idx)));
	idx = malloc(len ? len : 1);
	if (!idx)
		return blob_fail(b, -ENOMEM, "out of memory");
	memcpy(idx, buf, len);
	for (uint64_t i = 0; i < b->nr_chunks; i++) {
		uint64_t off = le64toh(idx[i].c_off);
		uint32_t clen = le32toh(idx[i].c_len);
		uint32_t nr = le32toh(idx[i].c_nr_blocks);
		uint64_t want = i + 1 < b->nr_chunks ? b->chunk_blocks :
			b->nr_blocks - i * b->chunk_blocks;

		/*
		 * One zstd frame of @nr blocks is never longer than zstd's
		 * bound for them: a longer c_len would only make a reader
		 * allocate and fetch bytes that cannot be a valid chunk.
		 */
		if (nr != want || clen == 0 ||
		    clen > ZSTD_COMPRESSBOUND((uint64_t)nr * BS) ||
		    off < sizeof(struct incrfs_blob_header) ||
		    off > b->size || clen > b->size - off ||
		    (off < index_end && off + clen > b->index_off)) {
			free(idx);
			return blob_fail(b, -EUCLEAN,
					 "blob index entry %llu is corrupted",
					 (unsigned long long)i);
		}
	}
	free(b->index);
	b->index = idx;
	return 0;
}

int incrfs_blob_open(struct incrfs_blob *b, int fd)
{
	struct incrfs_blob_header h;
	struct stat st;
	size_t len;
	void *buf;
	int err;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (fstat(fd, &st) < 0)
		return blob_fail(b, -errno, "stat: %s", strerror(errno));
	if (st.st_size < (off_t)sizeof(h))
		return blob_fail(b, -EUCLEAN, "blob is truncated (no header)");
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return blob_fail(b, -EIO, "cannot read the blob header");
	err = incrfs_blob_parse_header(b, &h, sizeof(h), (uint64_t)st.st_size);
	if (err)
		return err;
	len = b->nr_chunks * sizeof(struct incrfs_blob_chunk);
	buf = malloc(len ? len : 1);
	if (!buf)
		return blob_fail(b, -ENOMEM, "out of memory");
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(b->index_off + done));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			free(buf);
			return blob_fail(b, n < 0 ? -errno : -EIO,
					 "cannot read the blob index");
		}
		done += (size_t)n;
	}
	err = incrfs_blob_parse_index(b, buf, len);
	free(buf);
	if (err)
		return err;
	b->fd = fd;
	return 0;
}

void incrfs_blob_close(struct incrfs_blob *b)
{
	free(b->index);
	b->index = NULL;
	ZSTD_freeDCtx(b->dctx);
	b->dctx = NULL;
	free(b->cbuf);
	b->cbuf = NULL;
	b->cbuf_size = 0;
}

int incrfs_blob_chunk_of(const struct incrfs_blob *b, uint64_t data_block,
			 uint64_t *chunk)
{
	if (data_block >= b->nr_blocks || !b->chunk_blocks)
		return -ERANGE;
	*chunk = data_block / b->chunk_blocks;
	return 0;
}

int incrfs_blob_chunk(const struct incrfs_blob *b, uint64_t chunk,
		      struct incrfs_chunk_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!b->index || chunk >= b->nr_chunks)
		return -ERANGE;
	out->off = le64toh(b->index[chunk].c_off);
	out->len = le32toh(b->index[chunk].c_len);
	out->nr_blocks = le32toh(b->index[chunk].c_nr_blocks);
	out->first_block = chunk * b->chunk_blocks;
	return 0;
}

int incrfs_blob_decode_chunk(struct incrfs_blob *b, uint64_t chunk,
			     const void *src, size_t src_len,
			     void *dst, size_t dst_size)
{
	struct incrfs_chunk_info ci;
	size_t want, n;

	if (incrfs_blob_chunk(b, chunk, &ci))
		return blob_fail(b, -ERANGE, "chunk %llu out of range",
				 (unsigned long long)chunk);
	want = (size_t)ci.nr_blocks * BS;
	if (src_len != ci.len)
		return blob_fail(b, -EINVAL, "chunk %llu: %zu bytes given, index says %u",
				 (unsigned long long)chunk, src_len, ci.len);
	if (dst_size < want)
		return blob_fail(b, -ENOBUFS, "chunk %llu needs a %zu-byte buffer",
				 (unsigned long long)chunk, want);
	if (ZSTD_findFrameCompressedSize(src, src_len) != src_len)
		return blob_fail(b, -EUCLEAN, "chunk %llu is not exactly one zstd frame",
				 (unsigned long long)chunk);
	if (!b->dctx) {
		b->dctx = ZSTD_createDCtx();
		if (!b->dctx)
			return blob_fail(b, -ENOMEM, "out of memory");
	}
	/* Decode into exactly @want bytes: a longer frame fails here. */
	n = ZSTD_decompressDCtx(b->dctx, dst, want, src, src_len);
	if (ZSTD_isError(n))
		return blob_fail(b, -EUCLEAN, "chunk %llu: zstd: %s",
				 (unsigned long long)chunk, ZSTD_getErrorName(n));
	if (n != want)
		return blob_fail(b, -EUCLEAN, "chunk %llu decodes to %zu bytes, not %zu",
				 (unsigned long long)chunk, n, want);
	return 0;
}

int incrfs_blob_read_chunk(struct incrfs_blob *b, uint64_t chunk,
			   void *dst, size_t dst_size)
{
	struct incrfs_chunk_info ci;

	if (b->fd < 0)
		return blob_fail(b, -EBADF, "blob has no file");
	if (incrfs_blob_chunk(b, chunk, &ci))
		return blob_fail(b, -ERANGE, "chunk %llu out of range",
				 (unsigned long long)chunk);
	if (b->cbuf_size < ci.len) {
		void *p = realloc(b->cbuf, ci.len);

		if (!p)
			return blob_fail(b, -ENOMEM, "out of memory");
		b->cbuf = p;
		b->cbuf_size = ci.len;
	}
	for (size_t done = 0; done < ci.len;) {
		ssize_t n = pread(b->fd, (char *)b->cbuf + done, ci.len - done,
				  (off_t)(ci.off + done));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return blob_fail(b, n < 0 ? -errno : -EIO,
					 "chunk %llu: cannot read the blob",
					 (unsigned long long)chunk);
		}
		done += (size_t)n;
	}
	return incrfs_blob_decode_chunk(b, chunk, b->cbuf, ci.len, dst, dst_size);
}
