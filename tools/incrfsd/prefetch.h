/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * prefetch.h - --prefetch all: a background thread that fills every chunk
 * nobody asked for, at idle CPU and I/O priority.
 *
 * Why this exists: a layer only becomes complete (and daemonless) once
 * every block is present, but readers must never wait behind that bulk
 * work.  The thread runs under SCHED_IDLE with the idle I/O class, has its
 * own source and zstd context, pauses while the main thread has any chunk
 * queued or in flight, and claims chunks through the shared plan.
 */
#ifndef INCRFSD_PREFETCH_H
#define INCRFSD_PREFETCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "blobmeta.h"
#include "plan.h"

/* Chunk reads the prefetch thread keeps in flight. */
#define PREFETCH_DEPTH	2

struct prefetch {
	pthread_t thread;
	bool started;
	/* inputs, set before prefetch_start() */
	struct plan *plan;
	const char *location;
	const struct blob_meta *meta;
	int control_fd;
	unsigned int fill_flags;
	/* the thread writes it when it ends */
	int event_fd;
	atomic_bool stop;
	atomic_bool finished;
	/* results, valid once finished */
	int err;			/* 0, or why it gave up */
	uint64_t chunks;		/* chunks it filled */
	uint64_t blocks;		/* blocks newly written by it */
	uint64_t failed;		/* chunks it could not fill */
	char why[256];
};

/* Start the thread.  -errno if it could not be started. */
int prefetch_start(struct prefetch *pf);
/* Ask it to stop (if running) and wait for it. */
void prefetch_stop(struct prefetch *pf);

#endif /* INCRFSD_PREFETCH_H */
