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
	int signal_fd;
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
	uint64_t last_wait_ns;		/* fetcher_now_ns() of the last wait */
	struct prefetch pf;
	int pf_event_fd;
	/* counters for the log */
	uint64_t waits, hints, chunks, blocks, hash_failures, failed_chunks;
	uint64_t yields, evicted;
	/* where the time goes (stats.h, --stats-file) */
	uint64_t start_ns, ready_ns;	/* fetcher_now_ns(): start, serving */
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
void feeder_teardown(struct feeder *f);

/*
 * profile_queue.c: --prefetch-profile @path: check the profile is the
 * mounted image's and queue its chunks.  INCRFSD_EXIT_OK or the exit
 * status to fail with (after logging why).
 */
int feeder_queue_profile(struct feeder *f, const char *path);

/* stats_file.c: write --stats-file, if given (errors are logged). */
void feeder_write_stats(struct feeder *f);

#endif /* INCRFSD_FEEDER_PRIV_H */
