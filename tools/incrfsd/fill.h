/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fill.h - hand decoded blocks to the kernel with INCRFS_IOC_FILL.
 *
 * Why this exists: one chunk may hold more blocks than one FILL call
 * takes; this splits it into batches and sums the per-block results.
 * The other answer a feeder can give, INCRFS_IOC_FAIL_READS, is here too.
 */
#ifndef INCRFSD_FILL_H
#define INCRFSD_FILL_H

#include <stdbool.h>
#include <stdint.h>

#include "uapi/incrfs.h"

/*
 * Counts of one or more FILL calls.  @done blocks from the start settled
 * (present, refused); the @deferred after them are not: a call stopped
 * before the first of them because a reader started to wait (the kernel
 * may have written some of them meanwhile), and they are to be handed in
 * again.
 */
struct fill_result {
	uint32_t filled;	/* newly written by the kernel */
	uint32_t done;		/* settled, from the first block on */
	uint32_t present;	/* of those, accepted: new or already there */
	uint32_t bad_hash;	/* refused: -EBADMSG */
	uint32_t failed;	/* refused for another reason */
	uint32_t deferred;	/* the rest: not settled yet */
	int first_err;		/* first per-block error other than -EBADMSG */
};

/* What became of a whole chunk: 0, -EBADMSG or the first other error. */
int fill_result_err(const struct fill_result *res);
/* Add the counts of a call for the blocks after @to's (@to's deferred). */
void fill_result_add(struct fill_result *to, const struct fill_result *r);

/*
 * Fill data blocks [@first, @first + @nr) from @data (@nr * 4096 bytes)
 * by data block (ino 0), INCRFS_FILL_MAX at a time, using @scratch
 * (INCRFS_FILL_MAX entries), with INCRFS_FILL_* @flags.  Returns 0 when
 * every call went through (the blocks' fate is in @res), or -errno if an
 * ioctl failed as a whole (-ENODEV: the mount is gone).  A call stops
 * early when a reader starts to wait: with @stop_early this returns then,
 * the blocks not reached being @res->deferred, to be filled by calling
 * again with them (the present ones cost the kernel a bitmap test);
 * without, it calls again at once until every block is settled.
 */
int fill_data_blocks(int control_fd, uint64_t first, uint32_t nr,
		     const void *data, unsigned int flags, bool stop_early,
		     struct incrfs_fill_block *scratch,
		     struct fill_result *res);

/*
 * Data blocks [@first, @first + @nr) cannot be supplied: the readers
 * waiting for them get EIO now instead of waiting out their timeout.
 * The number of blocks somebody waited for, or -errno.
 */
int fail_data_blocks(int control_fd, uint64_t first, uint64_t nr);

#endif /* INCRFSD_FILL_H */
