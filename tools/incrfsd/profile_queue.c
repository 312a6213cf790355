// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile_queue.c - --prefetch-profile: read an access profile and queue
 * its chunks, in the profile's order, before anything but waiting reads.
 *
 * Why this exists: an app reads its image in much the same order at every
 * cold start; fetching that order up front means its reads find their
 * blocks present.  A profile is checked against the mounted image (root
 * hash, block range) before anything is queued: a profile of another
 * image is refused, never half applied.
 */
#include "feeder_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "profile.h"

int feeder_queue_profile(struct feeder *f, const char *path)
{
	char want[2 * INCRFS_HASH_SIZE + 1], have[2 * INCRFS_HASH_SIZE + 1];
	struct incrfs_profile p;
	uint64_t chunks = 0;
	size_t i;
	FILE *in;
	int ret;

	in = fopen(path, "re");
	if (!in) {
		log_err("--prefetch-profile %s: %s", path, strerror(errno));
		return INCRFSD_EXIT_ERROR;
	}
	ret = incrfs_profile_read(&p, in, path);
	fclose(in);
	if (ret) {
		log_err("--prefetch-profile %s", p.err);
		incrfs_profile_free(&p);
		return INCRFSD_EXIT_ERROR;
	}
	if (memcmp(p.root_hash, f->info.root_hash, INCRFS_HASH_SIZE)) {
		incrfs_profile_hex(p.root_hash, have);
		incrfs_profile_hex(f->info.root_hash, want);
		log_err("profile %s was recorded for another image: root hash %s, the image mounted at %s has %s",
			path, have, f->opt->mountpoint, want);
		incrfs_profile_free(&p);
		return INCRFSD_EXIT_MISMATCH;
	}
	for (i = 0; i < p.nr; i++) {
		if (p.ranges[i].start >= f->info.nr_blocks ||
		    p.ranges[i].len > f->info.nr_blocks - p.ranges[i].start) {
			log_err("profile %s: range %llu+%llu is beyond the image's %llu data blocks",
				path, (unsigned long long)p.ranges[i].start,
				(unsigned long long)p.ranges[i].len,
				(unsigned long long)f->info.nr_blocks);
			incrfs_profile_free(&p);
			return INCRFSD_EXIT_ERROR;
		}
	}
	for (i = 0; i < p.nr; i++) {
		ret = plan_profile(&f->plan, p.ranges[i].start, p.ranges[i].len);
		if (ret < 0) {
			log_err("profile %s: cannot queue it: %s", path,
				strerror(-ret));
			incrfs_profile_free(&p);
			return INCRFSD_EXIT_ERROR;
		}
		chunks += (uint64_t)ret;
	}
	log_info("profile %s: %zu ranges, %llu blocks: %llu chunks to fetch first",
		 path, p.nr, (unsigned long long)p.blocks,
		 (unsigned long long)chunks);
	incrfs_profile_free(&p);
	return INCRFSD_EXIT_OK;
}
