// SPDX-License-Identifier: GPL-2.0-only
/*
 * prefetch.c - the background fill thread of --prefetch all (see
 * prefetch.h).
 *
 * Why this exists: completing an image is bulk work that must only use
 * what readers leave over.
 */
#include "prefetch.h"

#include <errno.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fetcher.h"
#include "log.h"

/* How long to step aside while the main thread has work. */
#define YIELD_NS	(2 * 1000 * 1000)

/* This thread only: idle CPU class, idle I/O class. */
static void lower_priority(void)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		log_warn("prefetch: SCHED_IDLE: %s", strerror(errno));
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		    IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)))
		log_warn("prefetch: idle I/O priority: %s", strerror(errno));
}

static void nap(void)
{
	struct timespec ts = { 0, YIELD_NS };

	nanosleep(&ts, NULL);
}

/* Account one finished chunk; false if the thread must give up. */
static bool account(struct prefetch *pf, const struct fetch_done *d)
{
	plan_finish_prefetch(pf->plan, d->chunk, d->err == 0);
	if (!d->err) {
		pf->chunks++;
		pf->blocks += d->fill.filled;
		log_debug("prefetch: chunk %llu: %u blocks, %u new, %.1f ms",
			  (unsigned long long)d->chunk, d->fill.present,
			  d->fill.filled, d->elapsed_ns / 1e6);
		return true;
	}
	if (d->err == -ENODEV) {
		pf->err = -ENODEV;
		snprintf(pf->why, sizeof(pf->why), "the mount is gone");
		return false;
	}
	pf->failed++;
	if (d->err == -EBADMSG)
		log_err("prefetch: chunk %llu: the kernel refused %u of its blocks (SHA-256 mismatch): the blob is corrupt",
			(unsigned long long)d->chunk, d->fill.bad_hash);
	else
		log_err("prefetch: chunk %llu: %s", (unsigned long long)d->chunk,
			d->why[0] ? d->why : strerror(-d->err));
	return true;
}

static void *prefetch_main(void *arg)
{
	struct prefetch *pf = arg;
	struct fetch_done done[PREFETCH_DEPTH];
	struct incrfsd_source src;
	struct fetcher f;
	uint64_t cursor = 0, chunk, one = 1;
	bool more = true;
	int ret, i, n;

	lower_priority();
	ret = incrfsd_source_open(&src, pf->location, PREFETCH_DEPTH);
	if (ret) {
		pf->err = ret;
		snprintf(pf->why, sizeof(pf->why), "%s", src.err);
		incrfsd_source_close(&src);
		goto out;
	}
	ret = fetcher_init(&f, &src, pf->meta, PREFETCH_DEPTH, pf->control_fd,
			   pf->fill_flags, INCRFSD_READ_IDLE);
	if (ret) {
		pf->err = ret;
		snprintf(pf->why, sizeof(pf->why), "%s", f.err);
		goto out;
	}
	while (!atomic_load(&pf->stop)) {
		/* start new chunks only while readers need nothing */
		while (more && fetcher_has_room(&f) &&
		       !plan_main_busy(pf->plan)) {
			more = plan_claim_prefetch(pf->plan, &cursor, &chunk);
			if (!more)
				break;
			ret = fetcher_start(&f, chunk, 0, FETCH_FILL_ALL);
			if (ret) {
				struct fetch_done d = { .chunk = chunk,
							.err = ret };

				if (!account(pf, &d))
					break;
			}
		}
		if (pf->err)
			break;
		if (!f.busy) {
			if (!more)
				break;	/* every chunk claimed and finished */
			nap();		/* the main thread is busy */
			continue;
		}
		n = fetcher_reap(&f, true, done, PREFETCH_DEPTH);
		if (n < 0) {
			pf->err = n;
			snprintf(pf->why, sizeof(pf->why), "blob source: %s",
				 strerror(-n));
			break;
		}
		for (i = 0; i < n; i++) {
			if (!account(pf, &done[i]))
				break;
		}
		if (pf->err)
			break;
	}
	fetcher_destroy(&f);
out:
	atomic_store(&pf->finished, true);
	if (write(pf->event_fd, &one, sizeof(one)) < 0)
		log_err("prefetch: eventfd: %s", strerror(errno));
	return NULL;
}

int prefetch_start(struct prefetch *pf)
{
	int ret;

	atomic_init(&pf->stop, false);
	atomic_init(&pf->finished, false);
	pf->err = 0;
	pf->chunks = pf->blocks = pf->failed = 0;
	ret = pthread_create(&pf->thread, NULL, prefetch_main, pf);
	if (ret)
		return -ret;
	pf->started = true;
	return 0;
}

void prefetch_stop(struct prefetch *pf)
{
	if (!pf->started)
		return;
	atomic_store(&pf->stop, true);
	pthread_join(pf->thread, NULL);
	pf->started = false;
}
