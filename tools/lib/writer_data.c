// SPDX-License-Identifier: GPL-2.0-only
/*
 * writer_data.c - the image writer's data passes: read every regular file
 * block by block, find the holes, give the other blocks data block numbers
 * (extents), hash them, compress them into the blob's chunks, and (for a
 * full image) write them into the image's data region.
 *
 * Why this exists: this is the only part of the writer that touches file
 * content.  Files are read in inode order, so data blocks, hashes and
 * chunks come out in one deterministic sequence.  A full image reads the
 * files a second time, once the layout is known, and checks that every
 * block still has the hash the first pass recorded.
 */
#include "writer_priv.h"
#include "blob.h"
#include "sha256.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define BS INCRFS_BLOCK_SIZE
#define READ_BUF (256 * BS)

static const uint8_t zero_block[BS];

typedef int (*block_fn)(struct incrfs_writer *w, struct incrfs_wnode *n,
			void *ctx, uint64_t lblk, const uint8_t *block);

/* Calls @fn for every non-zero block of @n (the tail zero-padded). */
static int scan_file(struct incrfs_writer *w, struct incrfs_wnode *n,
		     block_fn fn, void *ctx)
{
	uint8_t *buf = NULL, tail[BS];
	uint64_t done = 0, lblk = 0;
	int fd = -1, err = 0;

	if (!n->source) {
		const uint8_t *p = n->data;

		for (; !err && done < n->size; done += BS, lblk++) {
			const uint8_t *b = p + done;

			if (n->size - done < BS) {
				memset(tail, 0, BS);
				memcpy(tail, b, n->size - done);
				b = tail;
			}
			if (memcmp(b, zero_block, BS))
				err = fn(w, n, ctx, lblk, b);
		}
		return err;
	}

	fd = open(n->source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return incrfs_w_fail(w, -errno, "%s: %s", n->source, strerror(errno));
	buf = malloc(READ_BUF);
	if (!buf) {
		err = incrfs_w_fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	while (!err) {
		ssize_t got = 0, r;
		off_t data;

		/*
		 * Skip a hole: its blocks are zeros, which are no data blocks
		 * anyway.  A sparse file (a tiny layer tar may declare
		 * terabytes) then costs its extents, not its size.  Where the
		 * file system cannot tell (EINVAL), everything is read.
		 */
		data = lseek(fd, (off_t)done, SEEK_DATA);
		if ((data < 0 && errno == ENXIO) ||
		    (data >= 0 && (uint64_t)data >= n->size)) {
			struct stat st;

			/* nothing but a hole up to the end: as long as it was? */
			if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != n->size) {
				err = incrfs_w_fail(w, -ESTALE,
						    "%s: file changed size while packing",
						    n->source);
				goto out;
			}
			done = n->size;
			break;
		}
		if (data > (off_t)done) {
			uint64_t skip = ((uint64_t)data - done) / BS * BS;

			done += skip;
			lblk += skip / BS;
			if (lseek(fd, (off_t)done, SEEK_SET) < 0) {
				err = incrfs_w_fail(w, -errno, "%s: lseek: %s",
						    n->source, strerror(errno));
				goto out;
			}
		}
		/* Fill the buffer, up to the size we expect plus one byte. */
		while ((size_t)got < READ_BUF) {
			r = read(fd, buf + got, READ_BUF - (size_t)got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				err = incrfs_w_fail(w, -errno, "%s: read: %s",
						    n->source, strerror(errno));
				goto out;
			}
			if (r == 0)
				break;
			got += r;
		}
		if ((uint64_t)got > n->size - done) {
			err = incrfs_w_fail(w, -ESTALE, "%s: file grew while packing",
					    n->source);
			goto out;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; !err && off < got; off += BS, lblk++) {
			const uint8_t *b = buf + off;

			if (got - off < BS) {
				memset(tail, 0, BS);
				memcpy(tail, b, (size_t)(got - off));
				b = tail;
			}
			if (memcmp(b, zero_block, BS))
				err = fn(w, n, ctx, lblk, b);
		}
		done += (uint64_t)got;
		if ((size_t)got < READ_BUF)
			break;
	}
	if (!err && done != n->size)
		err = incrfs_w_fail(w, -ESTALE, "%s: file shrank while packing",
				    n->source);
out:
	free(buf);
	close(fd);
	return err;
}

struct blob_out {
	int fd;
	uint32_t chunk_blocks;
	ZSTD_CCtx *cctx;
	uint8_t *buf;			/* chunk_blocks blocks being gathered */
	uint32_t nr;			/* blocks in buf */
	uint8_t *cbuf;
	size_t cbuf_size;
	uint64_t off;			/* where the next chunk goes */
	struct incrfs_blob_chunk *index;
	size_t nr_chunks, cap_chunks;
};

static int blob_flush(struct incrfs_writer *w, struct blob_out *b)
{
	size_t n;
	int err;

	if (!b->nr)
		return 0;
	n = ZSTD_compress2(b->cctx, b->cbuf, b->cbuf_size, b->buf,
			   (size_t)b->nr * BS);
	if (ZSTD_isError(n))
		return incrfs_w_fail(w, -EIO, "zstd: %s", ZSTD_getErrorName(n));
	err = incrfs_pwrite_full(b->fd, b->cbuf, n, b->off);
	if (err)
		return incrfs_w_fail(w, err, "writing the blob: %s", strerror(-err));
	if (incrfs_w_grow((void **)&b->index, &b->cap_chunks, b->nr_chunks + 1,
			  sizeof(*b->index)))
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	b->index[b->nr_chunks++] = (struct incrfs_blob_chunk){
		.c_off = htole64(b->off),
		.c_len = htole32((uint32_t)n),
		.c_nr_blocks = htole32(b->nr),
	};
	b->off += n;
	b->nr = 0;
	return 0;
}

/* Pass 1, per non-zero block. */
static int assign_block(struct incrfs_writer *w, struct incrfs_wnode *n,
			void *ctx, uint64_t lblk, const uint8_t *block)
{
	struct blob_out *b = ctx;
	struct incrfs_wextent *e = n->nr_exts ? &n->exts[n->nr_exts - 1] : NULL;
	uint64_t pblk = w->nr_blocks;
	int err;

	if (incrfs_w_grow((void **)&w->hashes, &w->cap_blocks, w->nr_blocks + 1,
			  INCRFS_HASH_SIZE))
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	err = incrfs_sha256(block, BS, w->hashes + pblk * INCRFS_HASH_SIZE);
	if (err)
		return incrfs_w_fail(w, err, "sha256 failed");
	w->nr_blocks++;
	if (!n->nr_blocks)
		n->first_block = pblk;
	n->nr_blocks++;
	if (e && e->lblk + e->len == lblk && e->len < UINT32_MAX) {
		e->len++;
	} else {
		if (incrfs_w_grow((void **)&n->exts, &n->cap_exts, n->nr_exts + 1,
				  sizeof(*n->exts)))
			return incrfs_w_fail(w, -ENOMEM, "out of memory");
		n->exts[n->nr_exts++] = (struct incrfs_wextent){ lblk, pblk, 1 };
	}
	if (b) {
		memcpy(b->buf + (size_t)b->nr * BS, block, BS);
		if (++b->nr == b->chunk_blocks)
			return blob_flush(w, b);
	}
	return 0;
}

static int blob_init(struct incrfs_writer *w, struct blob_out *b,
		     const struct incrfs_write_opts *o)
{
	size_t raw;

	b->fd = o->blob_fd;
	b->chunk_blocks = o->chunk_blocks ? o->chunk_blocks : 16;
	if (b->chunk_blocks > (1U << 18))
		return incrfs_w_fail(w, -EINVAL, "chunks of %u blocks are too large",
				     b->chunk_blocks);
	raw = (size_t)b->chunk_blocks * BS;
	b->cbuf_size = ZSTD_compressBound(raw);
	b->buf = malloc(raw);
	b->cbuf = malloc(b->cbuf_size);
	b->cctx = ZSTD_createCCtx();
	if (!b->buf || !b->cbuf || !b->cctx)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	if (ZSTD_isError(ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_compressionLevel,
						o->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_contentSizeFlag, 1)))
		return incrfs_w_fail(w, -EINVAL, "bad zstd level %d", o->level);
	if (ftruncate(b->fd, 0) < 0)
		return incrfs_w_fail(w, -errno, "truncating the blob: %s",
				     strerror(errno));
	b->off = sizeof(struct incrfs_blob_header);
	return 0;
}

/* Index after the last chunk, then the header at 0. */
static int blob_finish(struct incrfs_writer *w, struct blob_out *b,
		       const uint8_t root_hash[INCRFS_HASH_SIZE])
{
	struct incrfs_blob_header h = { 0 };
	int err = blob_flush(w, b);

	if (err)
		return err;
	h.b_magic = htole32(INCRFS_BLOB_MAGIC);
	h.b_major = htole16(INCRFS_MAJOR);
	h.b_minor = htole16(INCRFS_MINOR);
	h.b_chunk_blocks = htole32(b->chunk_blocks);
	h.b_nr_blocks = htole64(w->nr_blocks);
	h.b_nr_chunks = htole64(b->nr_chunks);
	h.b_index_off = htole64(b->off);
	memcpy(h.b_root_hash, root_hash, INCRFS_HASH_SIZE);
	h.b_checksum = htole32(incrfs_blob_header_checksum(&h));
	err = incrfs_pwrite_full(b->fd, b->index, b->nr_chunks * sizeof(*b->index),
				 b->off);
	if (!err)
		err = incrfs_pwrite_full(b->fd, &h, sizeof(h), 0);
	if (!err && ftruncate(b->fd, (off_t)(b->off + b->nr_chunks *
					     sizeof(*b->index))) < 0)
		err = -errno;
	return err ? incrfs_w_fail(w, err, "writing the blob: %s", strerror(-err)) : 0;
}

int incrfs_w_data_pass(struct incrfs_writer *w,
		       const struct incrfs_write_opts *o)
{
	struct blob_out blob = { .fd = -1 }, *b = NULL;
	int err = 0;

	if (o->blob_fd >= 0) {
		b = &blob;
		err = blob_init(w, b, o);
	}
	for (uint64_t i = 0; !err && i < w->nr_inodes; i++) {
		struct incrfs_wnode *n = w->by_ino[i];

		if (S_ISREG(n->attr.mode))
			err = scan_file(w, n, assign_block, b);
	}
	if (!err)
		err = incrfs_sha256(w->hashes ? w->hashes : zero_block,
				    w->nr_blocks * INCRFS_HASH_SIZE, w->root_hash);
	if (!err && b)
		err = blob_finish(w, b, w->root_hash);
	free(blob.buf);
	free(blob.cbuf);
	free(blob.index);
	ZSTD_freeCCtx(blob.cctx);
	return err;
}

/* Pass 2 of a full image: batches of consecutive data blocks. */
struct data_out {
	int fd;
	uint64_t data_off;
	uint64_t next;			/* expected data block of the file */
	uint8_t *buf;
	uint64_t first;			/* data block of buf[0] */
	uint32_t nr;
};

static int data_flush(struct incrfs_writer *w, struct data_out *d)
{
	int err;

	if (!d->nr)
		return 0;
	err = incrfs_pwrite_full(d->fd, d->buf, (size_t)d->nr * BS,
				 d->data_off + d->first * BS);
	d->nr = 0;
	return err ? incrfs_w_fail(w, err, "writing the image: %s", strerror(-err)) : 0;
}

static int write_block(struct incrfs_writer *w, struct incrfs_wnode *n,
		       void *ctx, uint64_t lblk, const uint8_t *block)
{
	struct data_out *d = ctx;
	uint8_t hash[INCRFS_HASH_SIZE];
	uint64_t pblk = d->next++;
	int err;

	(void)lblk;
	if (pblk >= n->first_block + n->nr_blocks)
		return incrfs_w_fail(w, -ESTALE, "%s: file changed while packing",
				     n->source ? n->source : "(memory)");
	err = incrfs_sha256(block, BS, hash);
	if (err)
		return incrfs_w_fail(w, err, "sha256 failed");
	if (memcmp(hash, w->hashes + pblk * INCRFS_HASH_SIZE, sizeof(hash)))
		return incrfs_w_fail(w, -ESTALE, "%s: file changed while packing",
				     n->source ? n->source : "(memory)");
	if (d->nr == READ_BUF / BS) {
		err = data_flush(w, d);
		if (err)
			return err;
	}
	if (!d->nr)
		d->first = pblk;
	memcpy(d->buf + (size_t)d->nr++ * BS, block, BS);
	return 0;
}

int incrfs_w_write_data(struct incrfs_writer *w, int image_fd, uint64_t data_off)
{
	struct data_out d = { .fd = image_fd, .data_off = data_off };
	int err = 0;

	d.buf = malloc(READ_BUF);
	if (!d.buf)
		return incrfs_w_fail(w, -ENOMEM, "out of memory");
	for (uint64_t i = 0; !err && i < w->nr_inodes; i++) {
		struct incrfs_wnode *n = w->by_ino[i];

		if (!S_ISREG(n->attr.mode) || !n->nr_blocks)
			continue;
		err = data_flush(w, &d);
		d.next = n->first_block;
		if (!err)
			err = scan_file(w, n, write_block, &d);
		if (!err && d.next != n->first_block + n->nr_blocks)
			err = incrfs_w_fail(w, -ESTALE, "%s: file changed while packing",
					    n->source ? n->source : "(memory)");
	}
	if (!err)
		err = data_flush(w, &d);
	free(d.buf);
	return err;
}
