/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * prefetch.h - --prefetch all: background threads that fill every chunk
 * nobody asked for, at idle CPU and I/O priority.
 *
 * Why this exists: a layer only becomes complete (and daemonless) once
 * every block is present, but readers must never wait behind that bulk
 * work.  Each thread runs under SCHED_IDLE with the idle I/O class, has its
 * own source and zstd context, pauses while the main thread has any chunk
 * queued or in flight, and claims chunks through the shared plan.  There
 * are PREFETCH_THREADS of them so that one decodes while the kernel
 * verifies and writes what another handed in: one thread alone leaves a
 * CPU idle for every step but the hashing (which FILL shares with a
 * kernel worker).
 */
#ifndef INCRFSD_PREFETCH_H
#define INCRFSD_PREFETCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "blobmeta.h"
#include "plan.h"

/* Chunk reads each prefetch thread keeps in flight. */
#define PREFETCH_DEPTH	2
/* Prefetch threads. */
#define PREFETCH_THREADS	2

struct prefetch {
	pthread_t thread[PREFETCH_THREADS];
	unsigned int started;		/* threads running or to join */
	/* inputs, set before prefetch_start() */
	struct plan *plan;
	const char *location;
	const struct blob_meta *meta;
	int control_fd;
	unsigned int fill_flags;
	/* in a node: mounts whose readers wait (node_share.h); else NULL */
	const atomic_uint *node_waiting;
	/* the last thread to end writes it */
	int event_fd;
	atomic_bool stop;
	atomic_bool finished;		/* every thread has ended */
	atomic_uint running;
	/* results, valid once finished */
	pthread_mutex_t lock;		/* err and why */
	int err;			/* 0, or why it gave up */
	atomic_uint_fast64_t chunks;	/* chunks they filled */
	atomic_uint_fast64_t blocks;	/* blocks newly written by them */
	atomic_uint_fast64_t failed;	/* chunks they could not fill */
	char why[256];
};

/* Start the threads.  -errno if none could be started. */
int prefetch_start(struct prefetch *pf);
/* Ask them to stop (if running) and wait for them. */
void prefetch_stop(struct prefetch *pf);

#endif /* INCRFSD_PREFETCH_H */
