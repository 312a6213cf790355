// SPDX-License-Identifier: GPL-2.0-only
/*
 * fill.c - INCRFS_IOC_FILL in batches (see fill.h).
 *
 * Why this exists: the one place that speaks the FILL ioctl, so both
 * feeder threads and the tests agree on how results are counted.
 */
#include "fill.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

/* Count @r, the result of one settled block, in @res. */
static void count_result(struct fill_result *res, int r)
{
	res->done++;
	if (r == 0) {
		res->present++;
	} else if (r == -EBADMSG) {
		res->bad_hash++;
	} else {
		res->failed++;
		if (!res->first_err)
			res->first_err = r;
	}
}

int fill_data_blocks(int control_fd, uint64_t first, uint32_t nr,
		     const void *data, unsigned int flags, bool stop_early,
		     struct incrfs_fill_block *scratch,
		     struct fill_result *res)
{
	const unsigned char *p = data;
	uint32_t done = 0;

	memset(res, 0, sizeof(*res));
	while (done < nr) {
		uint32_t n = nr - done, i;
		struct incrfs_fill arg;

		if (n > INCRFS_FILL_MAX)
			n = INCRFS_FILL_MAX;
		for (i = 0; i < n; i++) {
			scratch[i] = (struct incrfs_fill_block){
				.ino = 0,
				.block = first + done + i,
				.data = (uintptr_t)(p + (size_t)(done + i) *
						    INCRFS_BLOCK_SIZE),
				.len = INCRFS_BLOCK_SIZE,
			};
		}
		memset(&arg, 0, sizeof(arg));
		arg.blocks = (uintptr_t)scratch;
		arg.count = n;
		arg.flags = flags;
		while (ioctl(control_fd, INCRFS_IOC_FILL, &arg) < 0) {
			if (errno != EINTR)
				return -errno;
			arg.filled = 0;
			arg.left = 0;
		}
		res->filled += arg.filled;
		/*
		 * Settled up to the first block not reached; the kernel
		 * settles at least that one in a call that stops early, so
		 * each call moves @done on.
		 */
		for (i = 0; i < n && scratch[i].result != -EAGAIN; i++)
			count_result(res, scratch[i].result);
		if (i == 0)
			return -EPROTO;	/* no progress: never from incrfs */
		done += i;
		if (i < n && stop_early) {
			res->deferred = nr - done;
			break;
		}
	}
	return 0;
}

void fill_result_add(struct fill_result *to, const struct fill_result *r)
{
	to->filled += r->filled;
	to->done += r->done;
	to->present += r->present;
	to->bad_hash += r->bad_hash;
	to->failed += r->failed;
	to->deferred = r->deferred;
	if (!to->first_err)
		to->first_err = r->first_err;
}

int fill_result_err(const struct fill_result *res)
{
	if (res->bad_hash)
		return -EBADMSG;
	return res->failed ? res->first_err : 0;
}

int fail_data_blocks(int control_fd, uint64_t first, uint64_t nr)
{
	struct incrfs_fail_reads arg = {
		.data_block = first, .count = nr, .error = EIO,
	};

	if (ioctl(control_fd, INCRFS_IOC_FAIL_READS, &arg) < 0)
		return -errno;
	return (int)arg.failed;
}
