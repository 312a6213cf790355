// SPDX-License-Identifier: GPL-2.0-only
/*
 * feeder.c - incrfsd's event loop.
 *
 * Why this exists: readers wait while this loop is asleep, so it does
 * little per turn: read every queued pending-read record, turn them into
 * queued chunks (plan.c), start as many chunk reads as the depth allows,
 * decode and fill the ones that arrived.  One epoll set watches the
 * control fd, a signalfd (SIGTERM, SIGINT, SIGHUP; in a node, the
 * mount's stop eventfd instead), the blob source's completion eventfd and
 * the prefetch threads' eventfd.
 *
 * In a node (node.c) every mount runs this loop in a thread of its own:
 * while another mount's readers wait, this one starts no background read
 * (node_share.h), and its buffers come out of the node's memory budget.
 *
 * A FILL stops early when another reader starts to wait, leaving the end
 * of the chunk: such tails (tails.h) go before any other work, but not
 * while a chunk a reader waits for is on its way, and first when a reader
 * waits in one of them.  Of a random access only the blocks readers wait
 * for are filled at once; the rest of its chunk is a lazy tail, filled
 * only once readers have been quiet for a moment, since the reader just
 * woken is likely to come back at once with its next miss.
 */
#include "feeder.h"
#include "feeder_priv.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "seccomp.h"
#include "stop_signals.h"

enum { EV_SIGNAL, EV_CONTROL, EV_SOURCE, EV_PREFETCH };

/* Unfinished chunks kept, at most: by count, and by their decoded bytes. */
#define TAILS_MAX		256
#define TAILS_MEMORY_MAX	(16U << 20)
/* Readers are quiet when none started to wait for this long. */
#define TAILS_QUIET_NS		1000000ULL
/* A node mount holding background work for others looks again after (ms). */
#define THROTTLE_POLL_MS	20

/* What a turn of the loop decided. */
enum { GO_ON, STOP_OK, STOP_ERROR };

static const char *const prio_name[] = {
	[PRIO_MISS] = "wait", [PRIO_AMPLIFY] = "after a wait",
	[PRIO_PROFILE] = "profile",
	[PRIO_WINDOW] = "read-ahead",
	[PRIO_HINT] = "hint",
};

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int watch(struct feeder *f, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_err("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int feeder_take_memory(struct feeder *f)
{
	uint64_t chunk = (uint64_t)f->chunk_blocks * INCRFS_BLOCK_SIZE;
	unsigned int depth = f->src.depth ? f->src.depth : 1;
	uint64_t buffers, extra;

	if (f->max_tails)
		return 0;
	if (!chunk)
		chunk = INCRFS_BLOCK_SIZE;
	f->max_tails = TAILS_MEMORY_MAX / chunk < TAILS_MAX ?
		       (unsigned int)(TAILS_MEMORY_MAX / chunk) : TAILS_MAX;
	if (!f->max_tails)
		f->max_tails = 1;
	if (!f->node)
		return 0;
	/* a compressed and a decoded chunk per read in flight, one decoding */
	buffers = (uint64_t)(2 * depth + 1) * chunk;
	if (f->opt->prefetch == PREFETCH_ALL)
		buffers += (uint64_t)PREFETCH_THREADS *
			   (2 * PREFETCH_DEPTH + 1) * chunk;
	if (node_share_take(f->node, buffers, 0, &extra)) {
		log_err("the node's memory budget is spent: this mount's read buffers need %llu KiB, %llu KiB of --memory-max %llu KiB are taken",
			(unsigned long long)(buffers >> 10),
			(unsigned long long)(node_share_used(f->node) >> 10),
			(unsigned long long)(f->node->memory_max >> 10));
		return -1;
	}
	f->memory_taken = buffers;
	return 0;
}

/* Free the decoded blocks of a tail, and give their memory back. */
static void free_tail_data(struct feeder *f, void *data, uint32_t nr)
{
	uint64_t bytes = (uint64_t)nr * INCRFS_BLOCK_SIZE;

	free(data);
	if (f->node && data) {
		node_share_give(f->node, bytes);
		f->memory_taken -= bytes;
	}
}

static int start_loop(struct feeder *f)
{
	int ret;

	/*
	 * From here on a stop signal is an event of the loop, in every
	 * thread: the prefetch threads, started later, inherit the mask; the
	 * HTTP workers, started during set-up, block them themselves.  (A
	 * node blocks them before any thread, and stops a mount by stop_fd.)
	 */
	if (f->stop_fd < 0)
		f->signal_fd = incrfsd_stop_signalfd();
	f->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	f->pf_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if ((f->stop_fd < 0 && f->signal_fd < 0) || f->epoll_fd < 0 ||
	    f->pf_event_fd < 0) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	ret = fetcher_init(&f->fetch, &f->src, &f->meta, f->src.depth,
			   f->control_fd,
			   f->opt->sync ? INCRFS_FILL_SYNC : 0, 0);
	if (ret) {
		log_err("%s: %s", f->opt->source, f->fetch.err);
		return -1;
	}
	f->fetch_ok = true;
	if (feeder_take_memory(f))
		return -1;
	if (tails_init(&f->tails, f->max_tails)) {
		log_err("out of memory");
		return -1;
	}
	if (watch(f, f->stop_fd >= 0 ? f->stop_fd : f->signal_fd, EV_SIGNAL) ||
	    watch(f, f->control_fd, EV_CONTROL) ||
	    watch(f, f->fetch.src.event_fd, EV_SOURCE) ||
	    watch(f, f->pf_event_fd, EV_PREFETCH))
		return -1;
	return 0;
}

/*
 * A reader waits for data blocks [@block, @block + @count), a range
 * plan_record() has accepted (within the image, @count > 0).
 */
static void mark_urgent(struct feeder *f, uint64_t block, uint32_t count)
{
	uint64_t c;

	for (c = plan_chunk_of(&f->plan, block);
	     c <= plan_chunk_of(&f->plan, block + count - 1); c++) {
		if (f->tails.nr)
			tails_mark_urgent(&f->tails, c);
		/* a profile's or a window's read not sent yet goes first */
		if (plan_state_of(&f->plan, c) == CHUNK_MAIN)
			fetcher_hurry(&f->fetch, c);
	}
}

static void handle_record(struct feeder *f, const struct incrfs_pending_read *r)
{
	bool hint = r->flags & INCRFS_PENDING_READAHEAD;
	uint64_t now;
	int ret;

	if ((r->flags & INCRFS_PENDING_MAPPED) && !f->whole_mapped) {
		f->hints++;	/* --mapped faulted: the faults say what */
		return;
	}
	ret = plan_record(&f->plan, r->data_block, r->count, hint);

	if (ret == -ERANGE) {
		log_warn("record for data blocks %llu+%u is beyond the image (%llu blocks): ignored",
			 (unsigned long long)r->data_block, r->count,
			 (unsigned long long)f->plan.nr_blocks);
		return;
	}
	if (ret < 0)
		log_err("cannot queue data block %llu: %s",
			(unsigned long long)r->data_block, strerror(-ret));
	if (hint) {
		f->hints++;
		log_debug("hint%s: inode %llu block %llu+%u (data block %llu, chunk %llu)",
			  r->flags & INCRFS_PENDING_MAPPED ? " (mapped file)" : "",
			  (unsigned long long)r->ino,
			  (unsigned long long)r->block, r->count,
			  (unsigned long long)r->data_block,
			  (unsigned long long)plan_chunk_of(&f->plan,
							     r->data_block));
		return;
	}
	f->waits++;
	f->last_wait_ns = incrfsd_now_ns();
	now = boottime_ns();
	if (now > r->time_ns)
		stat_add(&f->st_notify, now - r->time_ns);
	mark_urgent(f, r->data_block, r->count);
	log_verbose("wait: inode %llu block %llu+%u (data block %llu, chunk %llu), pid %u uid %u, waiting %.1f ms",
		    (unsigned long long)r->ino, (unsigned long long)r->block,
		    r->count, (unsigned long long)r->data_block,
		    (unsigned long long)plan_chunk_of(&f->plan, r->data_block),
		    r->pid, r->uid, (now - r->time_ns) / 1e6);
}

/* Read every queued record.  STOP_OK once the mount is gone. */
static int read_records(struct feeder *f)
{
	struct incrfs_pending_read recs[64];
	ssize_t n, i;

	for (;;) {
		n = read(f->control_fd, recs, sizeof(recs));
		if (n == 0) {
			log_info("%s was unmounted; exiting", f->opt->mountpoint);
			return STOP_OK;
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return GO_ON;
			if (errno == EINTR)
				continue;
			log_err("reading the control fd: %s", strerror(errno));
			return STOP_ERROR;
		}
		for (i = 0; i < n / (ssize_t)sizeof(recs[0]); i++)
			handle_record(f, &recs[i]);
	}
}

/*
 * The least urgent work that may take a free slot: while a profile is
 * queued, the last free slot stays for a reader that waits, so a reader
 * never waits behind a long profile for more than one chunk read.
 */
static enum plan_prio slot_limit(struct feeder *f)
{
	f->throttled = false;
	if (f->fetch.nslots > 1 && f->fetch.busy + 1 == f->fetch.nslots &&
	    plan_queued_at(&f->plan, PRIO_PROFILE))
		return PRIO_MISS;
	/* in a node, another mount's waiting readers go before our bulk */
	if (f->node && node_share_others_wait(f->node, f->waiting_published)) {
		f->throttled = plan_queued_at(&f->plan, PRIO_PROFILE) ||
			       plan_queued_at(&f->plan, PRIO_WINDOW) ||
			       plan_queued_at(&f->plan, PRIO_HINT);
		return PRIO_AMPLIFY;
	}
	return PRIO_NR - 1;
}

/* Tell the node whether readers of this mount wait (node_share.h). */
static void publish_waiting(struct feeder *f)
{
	if (!f->node)
		return;
	node_share_set_waiting(f->node, &f->waiting_published,
			       plan_queued_at(&f->plan, PRIO_MISS) ||
			       fetcher_in_flight(&f->fetch, PRIO_MISS));
}

/*
 * How much of chunk @c its first FILL writes.  A profile's chunk whole: the
 * profile is the app's known working set, in its order, not handed back
 * to every reader.  For a random access only the blocks readers wait for:
 * the next reader, likely to come at once, finds the loop idle; the rest
 * is a lazy tail.  Anything else until a reader waits elsewhere.
 */
static enum fetch_fill fill_mode(const struct feeder *f, uint64_t c,
				 enum plan_prio prio)
{
	if (prio == PRIO_PROFILE)
		return FETCH_FILL_ALL;
	if (prio == PRIO_MISS && plan_lone(&f->plan, c))
		return FETCH_FILL_NONE;	/* chunk_done() picks the blocks */
	return FETCH_FILL_STOP;
}

/*
 * Chunk @c cannot be supplied now: its waiting readers get EIO at once
 * (a read of it later waits, and is fetched, anew).
 */
static void fail_chunk(struct feeder *f, uint64_t c)
{
	int n = fail_data_blocks(f->control_fd, c * f->plan.chunk_blocks,
				 plan_chunk_nr_blocks(&f->plan, c));

	if (n > 0)
		log_warn("chunk %llu: %d waiting reads failed with EIO",
			 (unsigned long long)c, n);
	else if (n < 0 && n != -ENODEV)
		log_err("chunk %llu: cannot fail its waiting reads: %s",
			(unsigned long long)c, strerror(-n));
}

/* Start chunk reads, most urgent first, while the depth allows. */
static void start_fetches(struct feeder *f)
{
	enum plan_prio prio;
	uint64_t c;
	int ret;

	/* reads started together may go out together (source.h plug) */
	fetcher_plug(&f->fetch, true);
	while (fetcher_has_room(&f->fetch) &&
	       plan_next_upto(&f->plan, slot_limit(f), &c, &prio)) {
		ret = fetcher_start(&f->fetch, c, prio, fill_mode(f, c, prio),
				    prio == PRIO_MISS);
		if (ret) {
			log_err("chunk %llu: cannot start reading the blob: %s",
				(unsigned long long)c, strerror(-ret));
			plan_finish(&f->plan, c, false);
			f->failed_chunks++;
			fail_chunk(f, c);
		}
	}
	fetcher_plug(&f->fetch, false);
}

static int chunk_done(struct feeder *f, struct fetch_done *d);

/*
 * Hand the kernel the rest of @t; with @stop_early it may stop early
 * again.  1 while blocks are left, 0 when @t is finished (reported in @d).
 */
static int fill_tail(struct feeder *f, struct tail *t, bool stop_early,
		     struct fetch_done *d)
{
	uint32_t from = t->fill.done, n = t->nr - from;
	struct fill_result r;

	memset(d, 0, sizeof(*d));
	d->chunk = t->chunk;
	d->tag = t->tag;
	d->err = fill_data_blocks(f->control_fd, t->first_block + from, n,
				  (char *)t->data + (size_t)from *
				  INCRFS_BLOCK_SIZE, f->fetch.fill_flags,
				  stop_early, f->fetch.scratch, &r);
	if (!d->err) {
		fill_result_add(&t->fill, &r);
		if (t->fill.done < t->nr)
			return 1;	/* not yet */
	}
	d->fill = t->fill;
	if (!d->err)
		d->err = fill_result_err(&d->fill);
	d->elapsed_ns = incrfsd_now_ns() - t->start_ns;
	return 0;
}

/*
 * A new tail.  If the store was full, the evicted one is given up (it goes
 * back to missing in the plan), unless somebody waits in it: then it is
 * filled now.  GO_ON or how to stop (that fill found the mount gone).
 */
static int keep_tail(struct feeder *f, const struct fetch_done *d)
{
	struct tail t = {
		.chunk = d->chunk, .first_block = d->first_block,
		.nr = d->nr_blocks, .tag = d->tag, .fill = d->fill,
		.start_ns = d->start_ns, .data = d->tail,
		.lazy = plan_lone(&f->plan, d->chunk),
	};
	uint64_t bytes = (uint64_t)t.nr * INCRFS_BLOCK_SIZE, none;
	struct fetch_done done;
	struct tail old;
	int ret = GO_ON;

	f->yields++;
	/* a node short of memory keeps no tail: the chunk is finished now */
	if (f->node && node_share_take(f->node, bytes, 0, &none)) {
		fill_tail(f, &t, false, &done);
		free(t.data);
		return chunk_done(f, &done);
	}
	if (f->node)
		f->memory_taken += bytes;
	if (!tails_add(&f->tails, &t, &old))
		return GO_ON;
	if (old.urgent) {
		fill_tail(f, &old, false, &done);
		ret = chunk_done(f, &done);
	} else {
		log_debug("chunk %llu: tail evicted, %u blocks still missing",
			  (unsigned long long)old.chunk,
			  old.nr - old.fill.done);
		plan_release(&f->plan, old.chunk);
		f->evicted++;
	}
	free_tail_data(f, old.data, old.nr);
	return ret;
}

/* Fill tail @i (tails_next()).  GO_ON or how to stop. */
static int fill_next_tail(struct feeder *f, int i)
{
	struct fetch_done d;
	struct tail t;

	if (fill_tail(f, &f->tails.v[i], true, &d) > 0)
		return GO_ON;
	tails_remove(&f->tails, (unsigned int)i, &t);
	free_tail_data(f, t.data, t.nr);
	return chunk_done(f, &d);
}

/*
 * @d was fetched for a random access and nothing of it is filled yet
 * (FETCH_FILL_NONE): fill the blocks readers waited for now; the rest
 * stays a tail, lazy if the chunk is still wanted for that access alone.
 */
static void fill_waited(struct feeder *f, struct fetch_done *d)
{
	struct plan_span w = plan_waited(&f->plan, d->chunk);
	struct fill_result r;

	d->unfilled = false;
	if (!plan_lone(&f->plan, d->chunk))
		w = (struct plan_span){ 0, d->nr_blocks };	/* a stream now */
	if (w.hi > d->nr_blocks)
		w.hi = d->nr_blocks;
	if (w.lo >= w.hi)
		return;		/* the waits ended meanwhile */
	d->err = fill_data_blocks(f->control_fd, d->first_block + w.lo,
				  w.hi - w.lo, (char *)d->tail +
				  (size_t)w.lo * INCRFS_BLOCK_SIZE,
				  f->fetch.fill_flags, w.hi - w.lo == d->nr_blocks,
				  f->fetch.scratch, &r);
	if (d->err)
		return;
	if (fill_result_err(&r) || (!w.lo && w.hi == d->nr_blocks &&
				    !r.deferred)) {
		/* the chunk's fate is known: no tail */
		d->fill = r;
		d->err = fill_result_err(&r);
		free(d->tail);
		d->tail = NULL;
		return;
	}
	if (w.lo == 0 && w.hi == d->nr_blocks) {
		d->fill = r;		/* stopped early: the rest is a tail */
		return;
	}
	/* the whole chunk again later: the blocks filled now cost nothing */
	d->fill.filled = r.filled;
}

static int chunk_done(struct feeder *f, struct fetch_done *d)
{
	const char *why = prio_name[d->tag < PRIO_NR ? d->tag : PRIO_HINT];

	if (!d->err && d->tail && d->unfilled)
		fill_waited(f, d);
	if (!d->err && d->tail) {
		log_verbose("chunk %llu (%s): %u blocks new, %u left for later: a reader waits",
			    (unsigned long long)d->chunk, why, d->fill.filled,
			    d->fill.deferred);
		return keep_tail(f, d);
	}
	free(d->tail);		/* (with an error there is none) */
	if (!d->err) {
		plan_finish(&f->plan, d->chunk, true);
		f->chunks++;
		f->blocks += d->fill.filled;
		log_verbose("chunk %llu (%s): %u blocks, %u new, %.1f ms",
			    (unsigned long long)d->chunk, why, d->fill.present,
			    d->fill.filled, d->elapsed_ns / 1e6);
		return GO_ON;
	}
	if (d->err == -ENODEV) {
		log_info("%s was unmounted; exiting", f->opt->mountpoint);
		return STOP_OK;
	}
	plan_finish(&f->plan, d->chunk, false);
	f->failed_chunks++;
	f->hash_failures += d->fill.bad_hash;
	if (d->err == -EBADMSG)
		log_err("chunk %llu (%s): the kernel refused %u of its %u blocks (SHA-256 mismatch): the blob is corrupt",
			(unsigned long long)d->chunk, why, d->fill.bad_hash,
			plan_chunk_nr_blocks(&f->plan, d->chunk));
	else
		log_err("chunk %llu (%s): %s", (unsigned long long)d->chunk,
			why, d->why[0] ? d->why : strerror(-d->err));
	fail_chunk(f, d->chunk);
	return GO_ON;
}

static int reap_fetches(struct feeder *f)
{
	struct fetch_done done[16];
	int n, i, ret;

	do {
		n = fetcher_reap(&f->fetch, false, done, 16);
		if (n < 0) {
			log_err("%s: %s", f->opt->source, strerror(-n));
			return STOP_ERROR;
		}
		for (i = 0; i < n; i++) {
			bool urgent = done[i].urgent;
			uint64_t in = done[i].start_ns + done[i].io_ns;

			ret = chunk_done(f, &done[i]);
			if (urgent) {
				stat_add(&f->st_io, done[i].io_ns);
				stat_add(&f->st_fill, incrfsd_now_ns() - in);
			}
			if (ret != GO_ON) {
				while (++i < n)
					free(done[i].tail);
				return ret;
			}
		}
	} while (n == 16);
	return GO_ON;
}

static int handle_signal(struct feeder *f)
{
	struct signalfd_siginfo si;
	uint64_t v;

	if (f->stop_fd >= 0) {
		if (read(f->stop_fd, &v, sizeof(v)) != sizeof(v))
			return GO_ON;
		log_info("detached; no longer serving %s", f->opt->mountpoint);
		return STOP_OK;
	}
	if (read(f->signal_fd, &si, sizeof(si)) != sizeof(si))
		return GO_ON;
	log_info("stopping on %s", strsignal((int)si.ssi_signo));
	return STOP_OK;
}

/* The prefetch threads ended (or are stopped now): say how it went. */
static int prefetch_report(struct feeder *f)
{
	bool stopped;

	if (!f->prefetch_ran || f->prefetch_reported)
		return GO_ON;
	f->prefetch_reported = true;
	/* asked to before the end (or the mount went: err says so) */
	stopped = atomic_load(&f->pf.stop);
	prefetch_stop(&f->pf);
	if (f->pf.err == -ENODEV) {
		log_info("%s was unmounted; exiting", f->opt->mountpoint);
		return STOP_OK;
	}
	if (f->pf.err)
		log_err("prefetch stopped: %s", f->pf.why);
	else if (f->pf.failed)
		log_warn("prefetch: %llu chunks could not be filled; the image is not complete",
			 (unsigned long long)f->pf.failed);
	else if (stopped)
		log_info("prefetch: stopped after %llu chunks",
			 (unsigned long long)f->pf.chunks);
	else
		log_info("prefetch: finished, %llu chunks filled in the background",
			 (unsigned long long)f->pf.chunks);
	return GO_ON;
}

static int prefetch_event(struct feeder *f)
{
	uint64_t v;

	if (read(f->pf_event_fd, &v, sizeof(v)) < 0 ||
	    !atomic_load(&f->pf.finished))
		return GO_ON;
	return prefetch_report(f);
}

/* Is the image complete?  Logged once, confirmed with the kernel. */
static bool complete(struct feeder *f)
{
	struct incrfs_stats st;

	if (f->complete_seen)
		return true;
	if (!plan_complete(&f->plan))
		return false;
	if (ioctl(f->control_fd, INCRFS_IOC_GET_STATS, &st) < 0 || !st.complete)
		return false;
	f->complete_seen = true;
	log_info("the image is complete: all %llu blocks present",
		 (unsigned long long)st.blocks_total);
	return true;
}

/*
 * The tail to fill in this turn of the loop, or -1; and how long epoll may
 * sleep (ms, -1 for ever) before the next turn.
 */
static int pick_tail(struct feeder *f, int *timeout)
{
	uint64_t now = incrfsd_now_ns();
	uint64_t quiet_at = f->last_wait_ns + TAILS_QUIET_NS;
	int tail = tails_next(&f->tails, now >= quiet_at);

	*timeout = -1;
	if (tail < 0 && f->tails.nr) {
		/* lazy tails only, readers not quiet yet: look again then */
		*timeout = (int)((quiet_at - now + 999999) / 1000000);
		return -1;
	}
	/*
	 * But while a chunk a reader waits for is on its way, only a tail a
	 * reader waits in: hashing would take the CPU that chunk's read needs
	 * (its arrival ends the epoll_wait).
	 */
	if (tail >= 0 && !f->tails.v[tail].urgent &&
	    fetcher_in_flight(&f->fetch, PRIO_MISS))
		return -1;
	if (tail >= 0)
		*timeout = 0;
	return tail;
}

static int loop(struct feeder *f)
{
	struct epoll_event ev[8];
	int n, i, ret, tail, timeout;

	for (;;) {
		publish_waiting(f);
		start_fetches(f);
		/*
		 * A tail before the chunks that arrived meanwhile: its bytes
		 * are here and decoded, and the kernel hands it back again
		 * as soon as a reader waits.
		 */
		tail = pick_tail(f, &timeout);
		if (tail >= 0) {
			ret = fill_next_tail(f, tail);
			if (ret != GO_ON)
				return ret;
		}
		/* held for another mount's readers: nobody wakes us for it */
		if (f->throttled && fetcher_has_room(&f->fetch) &&
		    (timeout < 0 || timeout > THROTTLE_POLL_MS))
			timeout = THROTTLE_POLL_MS;
		n = epoll_wait(f->epoll_fd, ev, 8, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return STOP_ERROR;
		}
		ret = GO_ON;
		for (i = 0; i < n && ret == GO_ON; i++) {
			switch (ev[i].data.u32) {
			case EV_SIGNAL:
				ret = handle_signal(f);
				break;
			case EV_CONTROL:
				ret = read_records(f);
				break;
			case EV_SOURCE:
				ret = reap_fetches(f);
				break;
			case EV_PREFETCH:
				ret = prefetch_event(f);
				break;
			}
		}
		if (ret != GO_ON)
			return ret;
		if (complete(f) && f->opt->exit_when_complete)
			return STOP_OK;
	}
}

/* Say that the mount is served: in the log, and to a service manager. */
static void log_start(struct feeder *f)
{
	struct incrfs_stats st = { 0 };
	char state[256];
	int err;

	ioctl(f->control_fd, INCRFS_IOC_GET_STATS, &st);
	log_info("serving %s from %s: %llu of %llu blocks present, %llu of %llu chunks of %u blocks to fetch%s",
		 f->opt->mountpoint, f->opt->source,
		 (unsigned long long)st.blocks_present,
		 (unsigned long long)st.blocks_total,
		 (unsigned long long)(f->plan.nr_chunks - plan_nr_done(&f->plan)),
		 (unsigned long long)f->plan.nr_chunks, f->chunk_blocks,
		 f->opt->prefetch == PREFETCH_ALL ? ", prefetching all" : "");
	if (f->node)
		return;		/* the node speaks for itself (node.c) */
	snprintf(state, sizeof(state),
		 "READY=1\nSTATUS=serving, %llu of %llu blocks present",
		 (unsigned long long)st.blocks_present,
		 (unsigned long long)st.blocks_total);
	err = incrfsd_notify(state);
	if (err)
		log_warn("cannot notify the service manager ($NOTIFY_SOCKET): %s",
			 strerror(-err));
}

static void log_summary(struct feeder *f)
{
	char pf[64] = "";

	if (f->prefetch_ran)
		snprintf(pf, sizeof(pf), ", %llu prefetched",
			 (unsigned long long)f->pf.chunks);
	log_info("served %llu waits and %llu hints: %llu chunks fetched%s, %llu blocks filled, %llu chunks failed; %llu fills yielded to a reader, %llu unfinished chunks given up",
		 (unsigned long long)f->waits, (unsigned long long)f->hints,
		 (unsigned long long)f->chunks, pf,
		 (unsigned long long)(f->blocks + f->pf.blocks),
		 (unsigned long long)(f->failed_chunks + f->pf.failed),
		 (unsigned long long)f->yields,
		 (unsigned long long)f->evicted);
}

int feeder_main(const struct incrfsd_options *o)
{
	struct feeder f;
	int ret;

	ret = feeder_setup(&f, o);
	if (ret) {
		feeder_teardown(&f);
		return ret;
	}
	/* the control fd and the blob are open: no capability is needed now */
	incrfsd_confine();
	return feeder_serve(&f);
}

int feeder_serve(struct feeder *f)
{
	const struct incrfsd_options *o = f->opt;
	int ret;

	log_start(f);
	f->ready_ns = incrfsd_now_ns();
	if (complete(f) && o->exit_when_complete) {
		feeder_teardown(f);
		return INCRFSD_EXIT_OK;
	}
	if (start_loop(f)) {
		feeder_teardown(f);
		return INCRFSD_EXIT_ERROR;
	}
	if (o->prefetch == PREFETCH_ALL && !plan_complete(&f->plan)) {
		f->pf.plan = &f->plan;
		f->pf.location = o->source;
		f->pf.meta = &f->meta;
		f->pf.control_fd = f->control_fd;
		f->pf.fill_flags = o->sync ? INCRFS_FILL_SYNC : 0;
		f->pf.event_fd = f->pf_event_fd;
		f->pf.node_waiting = f->node ? &f->node->waiting : NULL;
		ret = prefetch_start(&f->pf);
		if (ret)
			log_err("cannot start the prefetch threads: %s",
				strerror(-ret));
		f->prefetch_ran = !ret;
	}
	ret = loop(f) == STOP_OK ? INCRFSD_EXIT_OK : INCRFSD_EXIT_ERROR;
	if (!atomic_load(&f->pf.finished))
		atomic_store(&f->pf.stop, true);
	prefetch_report(f);
	log_summary(f);
	feeder_write_stats(f);
	feeder_teardown(f);
	return ret;
}
