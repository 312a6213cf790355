// SPDX-License-Identifier: GPL-2.0-only
/*
 * head_zstd.c - an incrfs image's head compressed with zstd for the
 * registry (convert) and expanded into the image file (pull).
 *
 * Why this exists: see head_zstd.h.  The head is read whole into memory
 * to be compressed (a head is 32 bytes a block plus the metadata: tens of
 * MiB for the largest layers), and expanded as a stream into the image
 * file: no more than the caller's limit is ever written, and a frame
 * that asks for a window larger than convert's is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "fd_io.h"
#include "head_zstd.h"

/*
 * zstd level 9: figure 8's Debian layers' heads come out 1.7x-2.0x
 * smaller (2.95 MB to 1.46 MB for the base layer; its hash table, half of
 * it, does not compress) in 0.12 s; level 19 saves under 1 % more in 9x
 * the time.  Expanding costs the same whatever the level.
 */
#define HEAD_ZSTD_LEVEL	9
/*
 * The largest window a head may ask for: twice level 9's 4 MiB (2^22), so
 * that a frame cannot make the expansion hold more memory than that.
 */
#define HEAD_ZSTD_WINDOW_LOG_MAX	23

int head_compress(int fd, uint64_t len, void **out, size_t *out_len,
		  char *err, size_t err_len)
{
	void *in = NULL, *z = NULL;
	size_t bound, n;
	int ret;

	if (len > SIZE_MAX / 2) {
		snprintf(err, err_len, "an image head of %llu bytes",
			 (unsigned long long)len);
		return -EFBIG;
	}
	bound = ZSTD_compressBound((size_t)len);
	in = malloc(len ? (size_t)len : 1);
	z = malloc(bound);
	if (!in || !z) {
		ret = -ENOMEM;
		snprintf(err, err_len, "compressing the image head: %s",
			 strerror(ENOMEM));
		goto fail;
	}
	ret = incrfs_pread_full(fd, in, (size_t)len, 0);
	if (ret) {
		snprintf(err, err_len, "reading the image head: %s",
			 strerror(-ret));
		goto fail;
	}
	n = ZSTD_compress(z, bound, in, (size_t)len, HEAD_ZSTD_LEVEL);
	if (ZSTD_isError(n)) {
		ret = -EIO;
		snprintf(err, err_len, "compressing the image head: %s",
			 ZSTD_getErrorName(n));
		goto fail;
	}
	free(in);
	*out = z;
	*out_len = n;
	return 0;
fail:
	free(in);
	free(z);
	return ret;
}

/* An expansion under way: where its output goes, and how much of it. */
struct expand {
	ZSTD_DStream *ds;
	void *ob;
	size_t ob_len;
	int out;
	uint64_t max, total;
	size_t left;		/* ZSTD_decompressStream()'s: 0 at a frame's end */
	char *err;
	size_t err_len;
};

/*
 * Expand what @zi holds into the output (at its offset e->total), as much
 * as one output buffer takes.  1 if more output may be pending (that
 * buffer filled inside a frame), 0 if not.
 */
static int expand_step(struct expand *e, ZSTD_inBuffer *zi)
{
	ZSTD_outBuffer zo = { e->ob, e->ob_len, 0 };
	int ret;

	e->left = ZSTD_decompressStream(e->ds, &zo, zi);
	if (ZSTD_isError(e->left)) {
		snprintf(e->err, e->err_len, "the image head is not zstd: %s",
			 ZSTD_getErrorName(e->left));
		return -EBADMSG;
	}
	if (zo.pos > e->max - e->total) {
		snprintf(e->err, e->err_len,
			 "the image head expands past %llu bytes",
			 (unsigned long long)e->max);
		return -EFBIG;
	}
	ret = incrfs_pwrite_full(e->out, e->ob, zo.pos, e->total);
	if (ret) {
		snprintf(e->err, e->err_len, "writing the image head: %s",
			 strerror(-ret));
		return ret;
	}
	e->total += zo.pos;
	/* a frame's end is flushed whole; a call more would begin a frame */
	return zo.pos == zo.size && e->left;
}

int head_expand(int in, uint64_t in_len, int out, uint64_t max,
		uint64_t *out_len, char *err, size_t err_len)
{
	struct expand e = {
		.ds = ZSTD_createDStream(), .ob_len = ZSTD_DStreamOutSize(),
		.out = out, .max = max, .left = 1, .err = err,
		.err_len = err_len,
	};
	size_t ib_len = ZSTD_DStreamInSize();
	void *ib = malloc(ib_len);
	uint64_t off = 0;
	int ret = 0;

	e.ob = malloc(e.ob_len);
	/* convert's frames need 4 MiB (level 9); refuse a bigger window */
	if (e.ds && ZSTD_isError(ZSTD_DCtx_setParameter(e.ds,
			ZSTD_d_windowLogMax, HEAD_ZSTD_WINDOW_LOG_MAX))) {
		ZSTD_freeDStream(e.ds);
		e.ds = NULL;
	}
	if (!e.ds || !ib || !e.ob) {
		ret = -ENOMEM;
		snprintf(err, err_len, "expanding the image head: %s",
			 strerror(ENOMEM));
		goto out;
	}
	while (off < in_len) {
		size_t n = in_len - off < ib_len ? (size_t)(in_len - off) :
						    ib_len;
		ZSTD_inBuffer zi = { ib, n, 0 };

		ret = incrfs_pread_full(in, ib, n, off);
		if (ret) {
			snprintf(err, err_len, "reading the image head: %s",
				 strerror(-ret));
			goto out;
		}
		off += n;
		while (zi.pos < zi.size) {
			ret = expand_step(&e, &zi);
			if (ret < 0)
				goto out;
		}
	}
	/* what the last input left in zstd's buffers */
	while (ret > 0) {
		ZSTD_inBuffer zi = { ib, 0, 0 };

		ret = expand_step(&e, &zi);
		if (ret < 0)
			goto out;
	}
	ret = 0;
	if (e.left) {
		ret = -EBADMSG;
		snprintf(err, err_len,
			 "the image head's zstd data ends inside a frame");
		goto out;
	}
	*out_len = e.total;
out:
	ZSTD_freeDStream(e.ds);
	free(ib);
	free(e.ob);
	return ret;
}
