/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * feeder_priv.h - the state of incrfsd's main thread, shared by setup.c
 * (mount, blob, control fd) and feeder.c (the event loop).
 */
#ifndef INCRFSD_FEEDER_PRIV_H
#define INCRFSD_FEEDER_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "blobmeta.h"
#include "fetcher.h"
#include "node_share.h"
#include "options.h"
#include "plan.h"
#include "prefetch.h"
#include "source.h"
#include "stats.h"
#include "tails.h"
#include "uapi/incrfs.h"

struct feeder {
	const struct incrfsd_options *opt;
	int root_fd;			/* the mount point */
	int control_fd;
	int signal_fd;			/* the stop signals (one mount) */
	int stop_fd;			/* node: readable once detached */
	struct node_share *node;	/* NULL when serving one mount */
	bool waiting_published;		/* what node->waiting knows of us */
	bool throttled;			/* background work held for others */
	uint64_t memory_taken;		/* of node's budget */
	unsigned int max_tails;		/* 0 until feeder_take_memory() */
	int epoll_fd;
	struct incrfs_info info;
	struct incrfsd_source src;	/* until the fetcher takes it */
	struct blob_meta meta;
	uint32_t chunk_blocks;
	struct plan plan;
	bool whole_mapped;		/* --mapped whole */
	struct fetcher fetch;
	bool fetch_ok;
	struct tails tails;		/* chunks the kernel yielded in */
	uint64_t last_wait_ns;		/* incrfsd_now_ns() of the last wait */
	struct prefetch pf;
	int pf_event_fd;
	/* counters for the log */
	uint64_t waits, hints, chunks, blocks, hash_failures, failed_chunks;
	uint64_t yields, evicted;
	/* where the time goes (stats.h, --stats-file) */
	/* incrfsd_now_ns(): setup began, the source answered, the blob's
	 * index was read, the loop began to serve */
	uint64_t start_ns, opened_ns, meta_ns, ready_ns;
	struct stat_series st_notify;	/* a reader waits -> record read */
	struct stat_series st_io;	/* a miss's read: start -> bytes in */
	struct stat_series st_fill;	/* bytes in -> decoded and filled */
	bool complete_seen;
	bool prefetch_ran;
	bool prefetch_reported;
};

/*
 * Open the mount and the blob, check they belong together, open the
 * control fd and learn which chunks are present.  Returns
 * INCRFSD_EXIT_OK or the exit status to fail with (after logging why).
 */
int feeder_setup(struct feeder *f, const struct incrfsd_options *o);
/*
 * The same for a mount whose control fd @control_fd the caller opened (a
 * node's, handed over by incrfsctl attach; owned by @f from here on,
 * also on failure).
 */
int feeder_setup_control(struct feeder *f, const struct incrfsd_options *o,
			 int control_fd);
void feeder_teardown(struct feeder *f);

/*
 * Take the memory the loop's buffers need, in a node out of its budget
 * (@f->node set), and decide how many unfinished chunks to keep: they
 * take what they can of the rest, one chunk at least.  0, or -1 (logged)
 * if the node's budget cannot give the buffers.  Idempotent.
 */
int feeder_take_memory(struct feeder *f);

/*
 * Serve the mount set up until it goes away, is complete (with
 * --exit-when-complete), a stop signal comes or, if @f->stop_fd >= 0, that
 * fd becomes readable; then tear @f down.  The exit status.
 */
int feeder_serve(struct feeder *f);

/*
 * profile_queue.c: --prefetch-profile @path: check the profile is the
 * mounted image's and queue its chunks.  INCRFSD_EXIT_OK or the exit
 * status to fail with (after logging why).
 */
int feeder_queue_profile(struct feeder *f, const char *path);

/* stats_file.c: write --stats-file, if given (errors are logged). */
void feeder_write_stats(struct feeder *f);

#endif /* INCRFSD_FEEDER_PRIV_H */
