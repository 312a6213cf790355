// SPDX-License-Identifier: GPL-2.0-only
/*
 * prefetch.c - the background fill threads of --prefetch all (see
 * prefetch.h).
 *
 * Why this exists: completing an image is bulk work that must only use
 * what readers leave over.
 */
#include "prefetch.h"

#include <errno.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdarg.h>
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

/*
 * A thread gives up: the first reason is the one reported.  Only a mount
 * that is gone stops the other thread too; a failure of this thread's
 * own source leaves the rest of the image to the other one.
 */
static void give_up(struct prefetch *pf, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void give_up(struct prefetch *pf, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&pf->lock);
	if (!pf->err) {
		pf->err = err;
		va_start(ap, fmt);
		vsnprintf(pf->why, sizeof(pf->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&pf->lock);
	if (err == -ENODEV)
		atomic_store(&pf->stop, true);
}

/* Account one finished chunk; false if the threads must give up. */
static bool account(struct prefetch *pf, const struct fetch_done *d)
{
	plan_finish_prefetch(pf->plan, d->chunk, d->err == 0);
	if (!d->err) {
		atomic_fetch_add(&pf->chunks, 1);
		atomic_fetch_add(&pf->blocks, d->fill.filled);
		log_debug("prefetch: chunk %llu: %u blocks, %u new, %.1f ms",
			  (unsigned long long)d->chunk, d->fill.present,
			  d->fill.filled, d->elapsed_ns / 1e6);
		return true;
	}
	if (d->err == -ENODEV) {
		give_up(pf, -ENODEV, "the mount is gone");
		return false;
	}
	atomic_fetch_add(&pf->failed, 1);
	if (d->err == -EBADMSG)
		log_err("prefetch: chunk %llu: the kernel refused %u of its blocks (SHA-256 mismatch): the blob is corrupt",
			(unsigned long long)d->chunk, d->fill.bad_hash);
	else
		log_err("prefetch: chunk %llu: %s", (unsigned long long)d->chunk,
			d->why[0] ? d->why : strerror(-d->err));
	return true;
}

/* The last thread to end says so. */
static void thread_ends(struct prefetch *pf)
{
	uint64_t one = 1;

	if (atomic_fetch_sub(&pf->running, 1) != 1)
		return;
	atomic_store(&pf->finished, true);
	if (write(pf->event_fd, &one, sizeof(one)) < 0)
		log_err("prefetch: eventfd: %s", strerror(errno));
}

static void *prefetch_main(void *arg)
{
	struct prefetch *pf = arg;
	struct fetch_done done[PREFETCH_DEPTH];
	struct incrfsd_source src;
	struct fetcher f;
	uint64_t cursor = 0, chunk;
	bool more = true, ok = true;
	int ret, i, n;

	lower_priority();
	ret = incrfsd_source_open(&src, pf->location, PREFETCH_DEPTH);
	if (ret) {
		give_up(pf, ret, "%s", src.err);
		incrfsd_source_close(&src);
		goto out;
	}
	ret = fetcher_init(&f, &src, pf->meta, PREFETCH_DEPTH, pf->control_fd,
			   pf->fill_flags, INCRFSD_READ_IDLE);
	if (ret) {
		give_up(pf, ret, "%s", f.err);
		goto out;
	}
	/* chunks another thread claimed first are skipped: no shared cursor */
	while (ok && !atomic_load(&pf->stop)) {
		/* start new chunks only while readers need nothing */
		while (more && fetcher_has_room(&f) &&
		       !plan_main_busy(pf->plan) &&
		       !(pf->node_waiting && atomic_load(pf->node_waiting))) {
			more = plan_claim_prefetch(pf->plan, &cursor, &chunk);
			if (!more)
				break;
			ret = fetcher_start(&f, chunk, 0, FETCH_FILL_ALL,
					    false);
			if (ret) {
				struct fetch_done d = { .chunk = chunk,
							.err = ret };

				ok = account(pf, &d);
				if (!ok)
					break;
			}
		}
		if (!ok)
			break;
		if (!f.busy) {
			if (!more)
				break;	/* every chunk claimed and finished */
			nap();		/* the main thread is busy */
			continue;
		}
		n = fetcher_reap(&f, true, done, PREFETCH_DEPTH);
		if (n < 0) {
			give_up(pf, n, "blob source: %s", strerror(-n));
			break;
		}
		for (i = 0; i < n && ok; i++)
			ok = account(pf, &done[i]);
	}
	/* chunks still in flight (it stopped early): missing again, not lost */
	for (i = 0; i < (int)f.nslots; i++)
		if (f.slots[i].busy)
			plan_abandon_prefetch(pf->plan, f.slots[i].chunk);
	fetcher_destroy(&f);
out:
	thread_ends(pf);
	return NULL;
}

int prefetch_start(struct prefetch *pf)
{
	unsigned int i;
	int ret = 0;

	atomic_init(&pf->stop, false);
	atomic_init(&pf->finished, false);
	atomic_init(&pf->running, PREFETCH_THREADS);
	atomic_init(&pf->chunks, 0);
	atomic_init(&pf->blocks, 0);
	atomic_init(&pf->failed, 0);
	pthread_mutex_init(&pf->lock, NULL);
	pf->err = 0;
	pf->why[0] = '\0';
	pf->started = 0;
	for (i = 0; i < PREFETCH_THREADS; i++) {
		ret = pthread_create(&pf->thread[i], NULL, prefetch_main, pf);
		if (ret)
			break;
		pf->started++;
	}
	/* the ones that did not start have ended */
	for (; i < PREFETCH_THREADS; i++)
		thread_ends(pf);
	if (!pf->started) {
		pthread_mutex_destroy(&pf->lock);
		return -ret;
	}
	if (ret)
		log_warn("prefetch: only %u of %u threads started: %s",
			 pf->started, PREFETCH_THREADS, strerror(ret));
	return 0;
}

void prefetch_stop(struct prefetch *pf)
{
	unsigned int i;

	if (!pf->started)
		return;
	atomic_store(&pf->stop, true);
	for (i = 0; i < pf->started; i++)
		pthread_join(pf->thread[i], NULL);
	pf->started = 0;
	pthread_mutex_destroy(&pf->lock);
}
