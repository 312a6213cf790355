/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * source.h - where incrfsd gets blob bytes from: a small, pluggable,
 * asynchronous "read a byte range" interface.
 *
 * Why this exists: a blob is a local file (read with io_uring, or pread
 * where io_uring is refused), a URL (HTTP range requests) or a blob in
 * an OCI registry (the same, behind token authentication).  The feeder
 * only ever asks a source to start reading a byte range into a buffer and
 * later collects the finished reads, so a new kind of source is one more
 * struct incrfsd_source_ops and one line in source.c, nothing else.
 *
 * A source reports finished reads through @event_fd: when it is readable
 * (epoll), reap() has something to return.  A source may run its own
 * threads or use io_uring, as long as that holds.  One source instance is
 * used by one thread; a second thread opens its own instance.
 */
#ifndef INCRFSD_SOURCE_H
#define INCRFSD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INCRFSD_SOURCE_ERR_MAX 256
/* registry:// mirrors at most (incrfsd --registry-mirror) */
#define INCRFSD_MAX_MIRRORS 8
/* Bytes at the blob's start a source may keep from opening: its header */
#define INCRFSD_SOURCE_HEAD 128

/* read() flags */
#define INCRFSD_READ_IDLE	0x1	/* background work: lowest I/O priority */
#define INCRFSD_READ_URGENT	0x2	/* a reader waits: before other reads */

struct incrfsd_source;

/* One finished read, as reap() returns it. */
struct incrfsd_read_done {
	void *cookie;		/* as given to read() */
	int err;		/* 0: all @len bytes are in the buffer; -errno */
};

struct incrfsd_source_ops {
	const char *name;	/* for messages: "file", later "http", ... */
	/*
	 * Reads in flight by default: enough to keep the device or the
	 * link busy and, over a network, to let neighbouring reads merge.
	 */
	unsigned int default_depth;
	/* --amplify by default: bytes fetched with a miss (plan.h) */
	uint64_t default_amplify;
	/* --mapped whole by default: a round trip costs more than bytes */
	bool default_whole_mapped;
	/* Is @location one of ours?  (A scheme prefix, or a plain path.) */
	bool (*match)(const char *location);
	/*
	 * Open @location for reads, at most @depth of them in flight.
	 * Sets src->size and src->event_fd.  Returns 0 or -errno with
	 * src->err saying why.
	 */
	int (*open)(struct incrfsd_source *src, const char *location,
		    unsigned int depth);
	/*
	 * Start reading @len bytes at @off into @buf.  -EBUSY when @depth
	 * reads are in flight already.  A range past the end fails later,
	 * in reap(), with -EIO.
	 */
	int (*read)(struct incrfsd_source *src, uint64_t off, size_t len,
		    void *buf, unsigned int flags, void *cookie);
	/*
	 * Collect up to @max finished reads into @done; if @wait and none
	 * has finished, block until one does.  Returns how many, or -errno.
	 * Afterwards @event_fd is readable only if more results wait: a
	 * call with nothing in flight clears it too.
	 */
	int (*reap)(struct incrfsd_source *src, struct incrfsd_read_done *done,
		    unsigned int max, bool wait);
	/*
	 * Optional: while plugged, reads are queued but none is sent; a
	 * caller about to start several reads plugs first, so that reads
	 * which neighbour each other in the blob go out as one request.
	 */
	void (*plug)(struct incrfsd_source *src, bool plugged);
	/*
	 * Optional: a reader now waits for the read started with @cookie;
	 * serve it as if it had been INCRFSD_READ_URGENT, if it has not
	 * started yet.
	 */
	void (*hurry)(struct incrfsd_source *src, void *cookie);
	/* Abandon reads in flight and free everything. */
	void (*close)(struct incrfsd_source *src);
};

struct incrfsd_source {
	const struct incrfsd_source_ops *ops;
	uint64_t size;		/* bytes in the blob */
	int event_fd;		/* readable when reap() has results */
	unsigned int depth;	/* reads allowed in flight */
	unsigned int inflight;	/* reads in flight now */
	void *priv;		/* the implementation's state */
	char err[INCRFSD_SOURCE_ERR_MAX];
	/*
	 * The blob's first @head_len bytes, when opening the source read
	 * them anyway (an HTTP source learns the blob's size so): the blob
	 * header is then read without another round trip to the server.
	 */
	unsigned char head[INCRFSD_SOURCE_HEAD];
	size_t head_len;
};

/* The local-file source (io_uring). */
extern const struct incrfsd_source_ops incrfsd_file_source;
/* http:// and https:// URLs, Range requests (libcurl, source_http.c). */
extern const struct incrfsd_source_ops incrfsd_http_source;
/* registry://HOST[:PORT]/REPO@sha256:HEX, an OCI registry blob. */
extern const struct incrfsd_source_ops incrfsd_registry_source;

/*
 * How the process's network sources reach their servers, set once before
 * the first one opens (incrfsd --ca-file, --insecure-registry).  The
 * strings must outlive the sources.
 */
struct incrfsd_net_opts {
	/* trust the CAs of this PEM file instead of the system's; or NULL */
	const char *ca_file;
	/* registry:// HOST[:PORT]s spoken to in plain http, not https */
	const char *const *insecure;
	unsigned int n_insecure;
	/* registry:// HOST[:PORT]s to read blobs from first, in order */
	const char *const *mirrors;
	unsigned int n_mirrors;
};
void incrfsd_source_set_net(const struct incrfsd_net_opts *o);

/*
 * Open @location with the first source kind that matches it, @depth reads
 * in flight at most (0: the kind's default_depth).
 */
int incrfsd_source_open(struct incrfsd_source *src, const char *location,
			unsigned int depth);
void incrfsd_source_close(struct incrfsd_source *src);
/*
 * Read @len bytes at @off into @buf and wait for them (from src->head if
 * it holds them).  Only when no other read is in flight on @src
 * (start-up, or a single-read user).
 */
int incrfsd_source_read_sync(struct incrfsd_source *src, uint64_t off,
			     size_t len, void *buf);

#endif /* INCRFSD_SOURCE_H */
