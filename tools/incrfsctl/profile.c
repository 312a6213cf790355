// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile.c - incrfsctl profile record: write a mount's access log
 * (INCRFS_IOC_GET_ACCESS_LOG) as an access profile for
 * incrfsd --prefetch-profile.
 *
 * Why this exists: the feeder holds the control fd, so the log is read
 * through any file of the mount; the profile carries the image's root
 * hash so it is never applied to another image.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "profile.h"
#include "uapi/incrfs.h"

#define BATCH	4096

static void profile_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl profile - record the order in which an app first reads its\n"
"    image, for incrfsd --prefetch-profile\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl profile record MOUNTPOINT > FILE\n"
"\n"
"DESCRIPTION\n"
"    An app or container reads its image in much the same order at every\n"
"    cold start.  Mounted with -o access_log, incrfs records each data\n"
"    block the first time it is read through the mount (read, page fault\n"
"    or readahead; present or missing).  After running the app's start-up\n"
"    on a fresh mount, profile record prints that log as a profile on\n"
"    standard output; incrfsd --prefetch-profile FILE then fetches those\n"
"    blocks first, in that order, on later mounts of the same image.\n"
"    The image may be complete or lazy (with incrfsd serving it) while\n"
"    recording; blocks already in the page cache before the mount was made\n"
"    are not seen, so record on a fresh mount.\n"
"\n"
"    MOUNTPOINT is the mount point or any file or directory of the mount.\n"
"    Needs CAP_SYS_ADMIN in the mount's user namespace.\n"
"\n"
"PROFILE FORMAT\n"
"    Text, one item a line.  The first line is\n"
"        incrfs-profile 1 ROOT_HASH\n"
"    with the image's root hash (64 hex digits, as incrfsctl info prints\n"
"    it): a profile is refused for any other image.  Then one line\n"
"        START LEN\n"
"    per range of LEN data blocks from data block START (decimal), in\n"
"    first-read order, consecutive blocks merged.  Lines starting with #\n"
"    are comments; blank lines are ignored.\n"
"\n"
"    On standard error a summary: ranges and blocks recorded.  The kernel\n"
"    keeps at most 65536 ranges; if the log filled up, a warning says how\n"
"    many blocks read later are missing from the profile.\n"
"\n"
"EXIT STATUS\n"
"    0 written; 1 an error: MOUNTPOINT is not on an incrfs mount, the\n"
"    mount was made without -o access_log (ENODATA), not privileged\n"
"    (EPERM), or standard output cannot be written; 2 a bad command line.\n"
"\n"
"EXAMPLES\n"
"    mount -t incrfs -o access_log $PWD/app.img /mnt/app\n"
"    incrfsd --source app.blob /mnt/app &\n"
"    /mnt/app/bin/app --self-test\n"
"    incrfsctl profile record /mnt/app > app.profile\n"
"    umount /mnt/app\n"
"    mount -t incrfs $PWD/fresh-copy.img /mnt/app\n"
"    incrfsd --prefetch-profile app.profile --source app.blob /mnt/app &\n",
	      f);
}

/* INCRFS_IOC_GET_ACCESS_LOG; on failure say why, return -1. */
static int get_log(int fd, const char *path, struct incrfs_access_log *arg)
{
	if (ioctl(fd, INCRFS_IOC_GET_ACCESS_LOG, arg) == 0)
		return 0;
	if (errno == ENODATA)
		ctl_err("%s: the mount does not record first reads: mount it with -o access_log",
			path);
	else
		ctl_ioctl_failed(path, "INCRFS_IOC_GET_ACCESS_LOG");
	return -1;
}

/* Write the log of the mount open at @fd after the header. */
static int write_log(int fd, const char *path, FILE *out)
{
	static struct incrfs_block_range r[BATCH];
	struct incrfs_access_log arg;
	uint64_t start = 0, len = 0, nr = 0;
	uint32_t i;

	memset(&arg, 0, sizeof(arg));
	arg.ranges = (uintptr_t)r;
	arg.capacity = BATCH;
	for (;;) {
		if (get_log(fd, path, &arg))
			return CTL_EXIT_ERROR;
		for (i = 0; i < arg.count; i++) {
			if (len && start + len == r[i].begin) {
				len += r[i].end - r[i].begin;
				continue;
			}
			if (len && incrfs_profile_write_range(out, start, len))
				return CTL_EXIT_ERROR;
			if (len)
				nr++;
			start = r[i].begin;
			len = r[i].end - r[i].begin;
		}
		if (!arg.count)
			break;
		arg.start += arg.count;
	}
	if (len) {
		if (incrfs_profile_write_range(out, start, len))
			return CTL_EXIT_ERROR;
		nr++;
	}
	fprintf(stderr, "incrfsctl: profile of %s: %llu ranges, %llu blocks (%llu KiB)\n",
		path, (unsigned long long)nr, (unsigned long long)arg.blocks,
		(unsigned long long)arg.blocks * (INCRFS_BLOCK_SIZE / 1024));
	if (arg.flags & INCRFS_ACCESS_LOG_FULL)
		ctl_err("warning: the access log was full: %llu blocks read later are not in the profile",
			(unsigned long long)arg.dropped);
	return CTL_EXIT_OK;
}

static int record(const char *path)
{
	struct incrfs_access_log probe = { .capacity = 0 };
	struct incrfs_info info;
	int fd, ret;

	fd = ctl_open_ioctl(path, INCRFS_IOC_GET_INFO, "INCRFS_IOC_GET_INFO",
			    &info);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	/* nothing on standard output unless there is a log to write */
	if (get_log(fd, path, &probe)) {
		close(fd);
		return CTL_EXIT_ERROR;
	}
	if (incrfs_profile_write_header(stdout, info.root_hash)) {
		close(fd);
		ctl_err("standard output: %s", strerror(errno));
		return CTL_EXIT_ERROR;
	}
	ret = write_log(fd, path, stdout);
	close(fd);
	if (fflush(stdout) || ferror(stdout)) {
		ctl_err("standard output: %s", strerror(errno));
		return CTL_EXIT_ERROR;
	}
	return ret;
}

static int profile_run(int argc, char *argv[])
{
	int ret = ctl_help_option(argc, argv, &ctl_profile, NULL);

	if (ret >= 0)
		return ret;
	if (optind == argc)
		return ctl_usage("profile", "missing action (record)");
	if (strcmp(argv[optind], "record"))
		return ctl_usage("profile", "unknown action '%s' (only 'record')",
				 argv[optind]);
	optind++;
	if (optind < argc && (!strcmp(argv[optind], "--help") ||
			      !strcmp(argv[optind], "-h"))) {
		profile_help(stdout);
		return CTL_EXIT_OK;
	}
	if (optind == argc)
		return ctl_usage("profile", "record: missing MOUNTPOINT");
	if (optind + 1 < argc)
		return ctl_usage("profile", "unexpected argument '%s'",
				 argv[optind + 1]);
	return record(argv[optind]);
}

const struct ctl_command ctl_profile = {
	.name = "profile",
	.summary = "record an access profile for incrfsd --prefetch-profile",
	.run = profile_run,
	.help = profile_help,
};
