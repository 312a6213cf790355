// SPDX-License-Identifier: GPL-2.0-only
/*
 * source.c - pick the source kind for a --source location, and a blocking
 * read built on the asynchronous interface.
 *
 * Why this exists: the feeder and the tests open "a source" without
 * knowing which kinds exist; a new kind is one more entry of the table
 * below.
 */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* First match wins: specific schemes first, the plain-path file last. */
static const struct incrfsd_source_ops *const source_kinds[] = {
	&incrfsd_http_source,
	&incrfsd_registry_source,
	&incrfsd_file_source,
};

int incrfsd_source_open(struct incrfsd_source *src, const char *location,
			unsigned int depth)
{
	size_t i;

	memset(src, 0, sizeof(*src));
	src->event_fd = -1;
	for (i = 0; i < sizeof(source_kinds) / sizeof(source_kinds[0]); i++) {
		if (!source_kinds[i]->match(location))
			continue;
		src->ops = source_kinds[i];
		if (!depth)
			depth = src->ops->default_depth;
		src->depth = depth;
		return src->ops->open(src, location, depth);
	}
	snprintf(src->err, sizeof(src->err), "%s: unsupported source", location);
	return -EPROTONOSUPPORT;
}

void incrfsd_source_close(struct incrfsd_source *src)
{
	if (src->ops)
		src->ops->close(src);
	src->ops = NULL;
	src->event_fd = -1;
}

int incrfsd_source_read_sync(struct incrfsd_source *src, uint64_t off,
			     size_t len, void *buf)
{
	struct incrfsd_read_done done;
	int cookie, ret;

	if (src->inflight)
		return -EBUSY;
	if (off < src->head_len && len <= src->head_len - off) {
		memcpy(buf, src->head + off, len);
		return 0;
	}
	ret = src->ops->read(src, off, len, buf, 0, &cookie);
	if (ret)
		return ret;
	do {
		ret = src->ops->reap(src, &done, 1, true);
	} while (ret == 0 || ret == -EINTR);
	if (ret < 0)
		return ret;
	return done.err;
}
