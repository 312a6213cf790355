// SPDX-License-Identifier: GPL-2.0-only
/*
 * filled.c - incrfsctl filled: which blocks of a file are present
 * (INCRFS_IOC_GET_FILLED on the file).
 *
 * Why this exists: to see what a workload actually read of a file, or
 * whether a file is already fully local.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "uapi/incrfs.h"

static void filled_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl filled - the present blocks of a file on an incrfs mount\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl filled FILE\n"
"\n"
"DESCRIPTION\n"
"    FILE is a regular file on an incrfs mount.  The first line sums up:\n"
"\n"
"        FILE: P of N blocks present (X.Y%) in R ranges\n"
"\n"
"    where N is the file's size in 4 KiB blocks, rounded up.  Each further\n"
"    line is one range of present blocks, FIRST-LAST (inclusive; a single\n"
"    block is printed as FIRST), numbered from 0 in 4 KiB file blocks.\n"
"    Holes (blocks the file never wrote) read as zeroes without being\n"
"    stored and are never listed, so a file with holes never shows 100%.\n"
"\n"
"EXIT STATUS\n"
"    0 printed; 1 FILE cannot be opened, is not a regular file or is not\n"
"    on an incrfs mount; 2 a bad command line.\n",
	      f);
}

struct ranges {
	struct incrfs_block_range *v;
	size_t n, cap;
	uint64_t blocks;
};

static int collect(int fd, struct ranges *rs)
{
	struct incrfs_block_range buf[256];
	struct incrfs_filled_ranges arg = {
		.ranges = (uintptr_t)buf,
		.capacity = sizeof(buf) / sizeof(buf[0]),
	};
	uint32_t i;

	for (;;) {
		arg.count = 0;
		if (ioctl(fd, INCRFS_IOC_GET_FILLED, &arg) < 0)
			return -1;
		if (!arg.count)
			return 0;
		if (rs->n + arg.count > rs->cap) {
			size_t cap = rs->cap * 2 + arg.count;
			void *v = realloc(rs->v, cap * sizeof(*rs->v));

			if (!v) {
				errno = ENOMEM;
				return -1;
			}
			rs->v = v;
			rs->cap = cap;
		}
		for (i = 0; i < arg.count; i++) {
			rs->v[rs->n++] = buf[i];
			rs->blocks += buf[i].end - buf[i].begin;
		}
		if (arg.next <= arg.start)
			return 0;
		arg.start = arg.next;
	}
}

static int filled_run(int argc, char *argv[])
{
	struct ranges rs = { 0 };
	unsigned long long permille;
	const char *path;
	struct stat st;
	uint64_t nblocks;
	int fd, ret;
	size_t i;

	ret = ctl_one_path(argc, argv, &ctl_filled, &path);
	if (ret >= 0)
		return ret;
	fd = ctl_open(path);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	if (fstat(fd, &st) < 0) {
		ctl_err("%s: %s", path, strerror(errno));
		close(fd);
		return CTL_EXIT_ERROR;
	}
	if (!S_ISREG(st.st_mode)) {
		ctl_err("%s: not a regular file", path);
		close(fd);
		return CTL_EXIT_ERROR;
	}
	if (collect(fd, &rs) < 0) {
		ret = ctl_ioctl_failed(path, "INCRFS_IOC_GET_FILLED");
		close(fd);
		free(rs.v);
		return ret;
	}
	close(fd);
	nblocks = ((uint64_t)st.st_size + INCRFS_BLOCK_SIZE - 1) /
		  INCRFS_BLOCK_SIZE;
	permille = nblocks ? (unsigned long long)(rs.blocks * 1000 / nblocks) :
		1000;
	printf("%s: %llu of %llu blocks present (%llu.%llu%%) in %zu ranges\n",
	       path, (unsigned long long)rs.blocks,
	       (unsigned long long)nblocks, permille / 10, permille % 10, rs.n);
	for (i = 0; i < rs.n; i++) {
		if (rs.v[i].end - rs.v[i].begin == 1)
			printf("%llu\n", (unsigned long long)rs.v[i].begin);
		else
			printf("%llu-%llu\n", (unsigned long long)rs.v[i].begin,
			       (unsigned long long)rs.v[i].end - 1);
	}
	free(rs.v);
	return fflush(stdout) ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

const struct ctl_command ctl_filled = {
	.name = "filled",
	.summary = "present block ranges of a file",
	.run = filled_run,
	.help = filled_help,
};
