// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats_file.c - incrfsd --stats-file: the feeder's counters and the
 * stages of its misses, written as JSON when it exits.
 *
 * Why this exists: a benchmark must say where a lazy start's time went,
 * in the boot that measured it (tests/bench, figure 8); the kernel counts
 * the readers' waits, only the feeder knows how long each stage of a miss
 * took.  The file is replaced atomically, so a reader sees a whole one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "feeder_priv.h"
#include "json_add.h"
#include "log.h"

/* Milliseconds from the start of the setup to @ns; 0 if it never came. */
static struct json_object *since_start(const struct feeder *f, uint64_t ns)
{
	return json_object_new_double(ns ? (ns - f->start_ns) / 1e6 : 0);
}

static struct json_object *stats_json(struct feeder *f)
{
	struct json_object *o = json_object_new_object();
	struct incrfs_stats ks = { 0 };
	bool have_ks;

	if (!o)
		return NULL;
	have_ks = f->control_fd >= 0 &&
		  !ioctl(f->control_fd, INCRFS_IOC_GET_STATS, &ks);
	if (incrfs_json_add(o, "mountpoint",
			    json_object_new_string(f->opt->mountpoint)) ||
	    incrfs_json_add(o, "opened_ms", since_start(f, f->opened_ns)) ||
	    incrfs_json_add(o, "index_ms", since_start(f, f->meta_ns)) ||
	    incrfs_json_add(o, "ready_ms", since_start(f, f->ready_ns)) ||
	    incrfs_json_add_u64(o, "waits", f->waits) ||
	    incrfs_json_add_u64(o, "hints", f->hints) ||
	    incrfs_json_add_u64(o, "chunks", f->chunks + f->pf.chunks) ||
	    incrfs_json_add_u64(o, "blocks_filled", f->blocks + f->pf.blocks) ||
	    incrfs_json_add_u64(o, "failed_chunks",
				f->failed_chunks + f->pf.failed) ||
	    incrfs_json_add(o, "notify", stat_json(&f->st_notify)) ||
	    incrfs_json_add(o, "miss_io", stat_json(&f->st_io)) ||
	    incrfs_json_add(o, "miss_fill", stat_json(&f->st_fill)))
		goto fail;
	if (have_ks &&
	    (incrfs_json_add_u64(o, "kernel_misses", ks.misses) ||
	     incrfs_json_add_u64(o, "kernel_waits", ks.waits) ||
	     incrfs_json_add(o, "kernel_wait_ms",
			     json_object_new_double(ks.wait_ns / 1e6)) ||
	     incrfs_json_add_u64(o, "blocks_present", ks.blocks_present) ||
	     incrfs_json_add_u64(o, "blocks_total", ks.blocks_total)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

void feeder_write_stats(struct feeder *f)
{
	const char *path = f->opt->stats_file;
	struct json_object *o;
	char tmp[4200];
	int err = 0;

	if (!path)
		return;
	o = stats_json(f);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!o)
		err = ENOMEM;
	else if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY |
					 JSON_C_TO_STRING_NOSLASHESCAPE))
		err = errno ? errno : EIO;
	else if (rename(tmp, path))
		err = errno;
	if (err) {
		log_err("--stats-file %s: %s", path, strerror(err));
		remove(tmp);
	}
	json_object_put(o);
}
