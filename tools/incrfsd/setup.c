// SPDX-License-Identifier: GPL-2.0-only
/*
 * setup.c - incrfsd start-up: the mount, the blob, the control fd.
 *
 * Why this exists: a feeder must never fill a mount from the wrong blob,
 * and must say clearly why it cannot start.  Checks, in order: the mount
 * point is incrfs (GET_INFO), the blob opens and is well formed, its root
 * hash and block count are the image's, the control fd is granted (or,
 * for a node, the fd handed over is a control fd).  Then
 * the chunks already present are marked done so they are never fetched.
 */
#include "feeder_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"

static int open_mount(struct feeder *f, const char *mnt)
{
	f->root_fd = open(mnt, O_RDONLY | O_CLOEXEC);
	if (f->root_fd < 0) {
		log_err("%s: %s", mnt, strerror(errno));
		return INCRFSD_EXIT_ERROR;
	}
	if (ioctl(f->root_fd, INCRFS_IOC_GET_INFO, &f->info) < 0) {
		if (errno == ENOTTY || errno == EINVAL)
			log_err("%s: not an incrfs mount", mnt);
		else
			log_err("%s: INCRFS_IOC_GET_INFO: %s", mnt,
				strerror(errno));
		return INCRFSD_EXIT_ERROR;
	}
	return INCRFSD_EXIT_OK;
}

/* Open the blob and check that it is the mounted image's. */
static int open_blob(struct feeder *f, const struct incrfsd_options *o)
{
	char err[INCRFS_ERR_MAX + 64], want[INCRFS_HASH_HEX];
	struct blob_want image = { .nr_blocks = f->info.nr_blocks };
	struct incrfs_blob b;
	int ret;

	ret = incrfsd_source_open(&f->src, o->source, o->depth);
	if (ret) {
		log_err("%s", f->src.err);
		return INCRFSD_EXIT_ERROR;
	}
	f->opened_ns = incrfsd_now_ns();
	memcpy(image.root_hash, f->info.root_hash, INCRFS_HASH_SIZE);
	ret = blob_meta_fetch(&f->meta, &f->src, &image, err, sizeof(err));
	if (ret == -EXDEV) {
		incrfs_hex(f->info.root_hash, INCRFS_HASH_SIZE, want);
		log_err("%s does not belong to the image mounted at %s: %s; the image's: root hash %s, %llu data blocks",
			o->source, o->mountpoint, err, want,
			(unsigned long long)f->info.nr_blocks);
		return INCRFSD_EXIT_MISMATCH;
	}
	if (ret) {
		log_err("%s: %s", o->source, err);
		return INCRFSD_EXIT_ERROR;
	}
	f->meta_ns = incrfsd_now_ns();
	ret = blob_meta_parse(&f->meta, &b);
	if (ret) {	/* cannot happen: fetch parsed it already */
		log_err("%s: %s", o->source, b.err);
		incrfs_blob_close(&b);
		return INCRFSD_EXIT_ERROR;
	}
	f->chunk_blocks = b.chunk_blocks;
	incrfs_blob_close(&b);
	return INCRFSD_EXIT_OK;
}

static int open_control(struct feeder *f, const char *mnt)
{
	f->control_fd = ioctl(f->root_fd, INCRFS_IOC_OPEN_CONTROL);
	if (f->control_fd < 0) {
		if (errno == EPERM)
			log_err("%s: the control channel needs CAP_SYS_ADMIN in the mount's user namespace",
				mnt);
		else if (errno == EBUSY)
			log_err("%s: another feeder is already serving this mount",
				mnt);
		else
			log_err("%s: INCRFS_IOC_OPEN_CONTROL: %s", mnt,
				strerror(errno));
		return INCRFSD_EXIT_ERROR;
	}
	/* holding the mount point open would make umount fail (EBUSY) */
	close(f->root_fd);
	f->root_fd = -1;
	return INCRFSD_EXIT_OK;
}

/* --amplify: the plan needs every chunk's compressed size. */
static int set_amplify(struct feeder *f)
{
	uint64_t bytes = f->opt->amplify, c;
	struct incrfs_chunk_info ci;
	struct incrfs_blob b;
	uint32_t *clen;
	int ret;

	if (bytes == INCRFSD_AMPLIFY_DEFAULT)
		bytes = f->src.ops->default_amplify;
	if (!bytes)
		return 0;
	ret = blob_meta_parse(&f->meta, &b);
	if (ret) {
		incrfs_blob_close(&b);
		return ret;
	}
	clen = calloc(b.nr_chunks ? b.nr_chunks : 1, sizeof(*clen));
	ret = clen ? 0 : -ENOMEM;
	for (c = 0; !ret && c < b.nr_chunks; c++) {
		ret = incrfs_blob_chunk(&b, c, &ci);
		if (!ret)
			clen[c] = ci.len;
	}
	if (!ret && b.nr_chunks == f->plan.nr_chunks)
		ret = plan_set_amplify(&f->plan, bytes, clen);
	free(clen);
	incrfs_blob_close(&b);
	return ret;
}

/* Mark every chunk whose blocks are all present as done. */
static int load_present(struct feeder *f)
{
	struct incrfs_block_range r[256];
	struct incrfs_filled_ranges arg = {
		.ranges = (uintptr_t)r,
		.capacity = sizeof(r) / sizeof(r[0]),
	};
	uint32_t i;
	int ret;

	f->whole_mapped = f->opt->mapped == MAPPED_DEFAULT ?
			  f->src.ops->default_whole_mapped :
			  f->opt->mapped == MAPPED_WHOLE;
	ret = plan_init(&f->plan, f->info.nr_blocks, f->chunk_blocks,
			f->opt->readahead);
	if (!ret)
		ret = set_amplify(f);
	if (ret) {
		log_err("cannot plan %llu blocks: %s",
			(unsigned long long)f->info.nr_blocks, strerror(-ret));
		return INCRFSD_EXIT_ERROR;
	}
	for (;;) {
		arg.count = 0;
		if (ioctl(f->control_fd, INCRFS_IOC_GET_FILLED, &arg) < 0) {
			log_err("INCRFS_IOC_GET_FILLED: %s", strerror(errno));
			return INCRFSD_EXIT_ERROR;
		}
		if (!arg.count)
			break;
		for (i = 0; i < arg.count; i++) {
			ret = plan_add_present(&f->plan, r[i].begin, r[i].end);
			if (ret) {
				log_err("INCRFS_IOC_GET_FILLED: bad range %llu-%llu",
					(unsigned long long)r[i].begin,
					(unsigned long long)r[i].end);
				return INCRFSD_EXIT_ERROR;
			}
		}
		if (arg.next <= arg.start)
			break;
		arg.start = arg.next;
	}
	return INCRFSD_EXIT_OK;
}

static void init(struct feeder *f, const struct incrfsd_options *o)
{
	memset(f, 0, sizeof(*f));
	f->start_ns = incrfsd_now_ns();
	f->opt = o;
	f->root_fd = f->control_fd = f->signal_fd = f->epoll_fd = -1;
	f->stop_fd = -1;
	f->pf_event_fd = -1;
	f->src.event_fd = -1;
}

/* What is left once the control fd is open. */
static int setup_rest(struct feeder *f, const struct incrfsd_options *o)
{
	int ret;

	if (fcntl(f->control_fd, F_SETFL, O_NONBLOCK) < 0) {
		log_err("control fd: %s", strerror(errno));
		return INCRFSD_EXIT_ERROR;
	}
	ret = load_present(f);
	if (!ret && o->profile)
		ret = feeder_queue_profile(f, o->profile);
	return ret;
}

int feeder_setup_control(struct feeder *f, const struct incrfsd_options *o,
			 int control_fd)
{
	int ret;

	init(f, o);
	f->control_fd = control_fd;
	if (ioctl(control_fd, INCRFS_IOC_GET_INFO, &f->info) < 0) {
		log_err("%s: the fd handed over is not an incrfs control fd (INCRFS_IOC_GET_INFO: %s)",
			o->mountpoint, strerror(errno));
		return INCRFSD_EXIT_ERROR;
	}
	ret = open_blob(f, o);
	if (!ret)
		ret = setup_rest(f, o);
	return ret;
}

int feeder_setup(struct feeder *f, const struct incrfsd_options *o)
{
	int ret;

	init(f, o);
	ret = open_mount(f, o->mountpoint);
	if (!ret)
		ret = open_blob(f, o);
	if (!ret)
		ret = open_control(f, o->mountpoint);
	if (!ret)
		ret = setup_rest(f, o);
	return ret;
}

void feeder_teardown(struct feeder *f)
{
	stat_free(&f->st_notify);
	stat_free(&f->st_io);
	stat_free(&f->st_fill);
	prefetch_stop(&f->pf);
	if (f->fetch_ok)
		fetcher_destroy(&f->fetch);
	tails_free(&f->tails);
	incrfsd_source_close(&f->src);
	blob_meta_free(&f->meta);
	plan_free(&f->plan);
	if (f->control_fd >= 0)
		close(f->control_fd);
	if (f->root_fd >= 0)
		close(f->root_fd);
	if (f->signal_fd >= 0)
		close(f->signal_fd);
	if (f->node) {
		node_share_set_waiting(f->node, &f->waiting_published, false);
		node_share_give(f->node, f->memory_taken);
		f->memory_taken = 0;
	}
	if (f->epoll_fd >= 0)
		close(f->epoll_fd);
	if (f->pf_event_fd >= 0)
		close(f->pf_event_fd);
}
