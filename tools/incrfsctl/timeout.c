// SPDX-License-Identifier: GPL-2.0-only
/*
 * timeout.c - incrfsctl timeout: show, set or clear the read timeout of
 * one uid on a mount (INCRFS_IOC_GET/SET_UID_TIMEOUT).
 *
 * Why this exists: an interactive user may wait longer for a block than a
 * batch job should, or a health checker must fail fast; the mount option
 * gives one timeout for all, this overrides it per uid.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "number.h"
#include "uapi/incrfs.h"

#define TIMEOUT_REMOVE	0xffffffffU	/* SET of this removes the override */
#define TIMEOUT_MAX	INT_MAX		/* the kernel refuses more (EINVAL) */

static void timeout_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl timeout - per-uid read timeout of an incrfs mount\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl timeout PATH --uid UID\n"
"    incrfsctl timeout PATH --uid UID --set MS\n"
"    incrfsctl timeout PATH --uid UID --clear\n"
"\n"
"DESCRIPTION\n"
"    A task that reads a missing block waits at most the mount's timeout\n"
"    (mount option timeout=, see incrfsctl info) for it, then fails with\n"
"    ETIMEDOUT (a page fault: SIGBUS).  A per-uid timeout overrides it for\n"
"    tasks whose file-system uid is UID.  PATH is the mount point or any\n"
"    file or directory of the mount.  Overrides last until umount.\n"
"\n"
"    Without --set or --clear, prints the override of UID:\n"
"        uid UID: MS ms             (or \"0 (wait forever)\")\n"
"        uid UID: no override (mount timeout: MS ms)\n"
"\n"
"OPTIONS\n"
"    -u, --uid UID    the numeric user id (required)\n"
"    -s, --set MS     set its timeout to MS milliseconds; 0 waits forever\n"
"                     (still killable); at most 2147483647 (24.8 days)\n"
"    -c, --clear      remove its override: the mount's timeout applies\n"
"    -h, --help       this help\n"
"\n"
"    Setting and clearing need CAP_SYS_ADMIN in the mount's user namespace.\n"
"\n"
"EXIT STATUS\n"
"    0 done; 1 PATH cannot be opened, is not on an incrfs mount, or the\n"
"    change was refused (EPERM); 2 a bad command line.\n",
	      f);
}

static void print_ms(uint32_t ms)
{
	if (ms)
		printf("%u ms", ms);
	else
		printf("0 (wait forever)");
}

static int show(int fd, const char *path, uint32_t uid)
{
	struct incrfs_uid_timeout t = { .uid = uid };
	struct incrfs_info info;

	if (ioctl(fd, INCRFS_IOC_GET_UID_TIMEOUT, &t) == 0) {
		printf("uid %u: ", uid);
		print_ms(t.timeout_ms);
		printf("\n");
		return CTL_EXIT_OK;
	}
	if (errno != ENOENT)
		return ctl_ioctl_failed(path, "INCRFS_IOC_GET_UID_TIMEOUT");
	if (ioctl(fd, INCRFS_IOC_GET_INFO, &info) < 0)
		return ctl_ioctl_failed(path, "INCRFS_IOC_GET_INFO");
	printf("uid %u: no override (mount timeout: ", uid);
	print_ms(info.timeout_ms);
	printf(")\n");
	return CTL_EXIT_OK;
}

static int change(int fd, const char *path, uint32_t uid, uint32_t ms)
{
	struct incrfs_uid_timeout t = { .uid = uid, .timeout_ms = ms };

	if (ioctl(fd, INCRFS_IOC_SET_UID_TIMEOUT, &t) < 0) {
		if (errno == EPERM) {
			ctl_err("%s: changing a timeout needs CAP_SYS_ADMIN in the mount's user namespace",
				path);
			return CTL_EXIT_ERROR;
		}
		return ctl_ioctl_failed(path, "INCRFS_IOC_SET_UID_TIMEOUT");
	}
	if (ms == TIMEOUT_REMOVE) {
		printf("uid %u: override removed\n", uid);
	} else {
		printf("uid %u: ", uid);
		print_ms(ms);
		printf("\n");
	}
	return CTL_EXIT_OK;
}

static int timeout_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "set", required_argument, NULL, 's' },
		{ "clear", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_uid = false, set = false, clear = false;
	uint64_t uid = 0, ms = 0;
	const char *path;
	int c, fd, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:s:ch", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (incrfs_parse_u64(optarg, 0xfffffffeU, &uid))
				return ctl_usage("timeout",
						 "--uid: '%s' is not a numeric uid",
						 optarg);
			have_uid = true;
			break;
		case 's':
			if (incrfs_parse_u64(optarg, UINT64_MAX, &ms))
				return ctl_usage("timeout",
						 "--set: '%s' is not a number of milliseconds",
						 optarg);
			if (ms > TIMEOUT_MAX)
				return ctl_usage("timeout",
						 "--set: %s ms is more than the longest timeout, %d ms (24.8 days)",
						 optarg, TIMEOUT_MAX);
			set = true;
			break;
		case 'c':
			clear = true;
			break;
		case 'h':
			timeout_help(stdout);
			return CTL_EXIT_OK;
		case ':':
			return ctl_usage("timeout", "option '%s' needs an argument",
					 argv[optind - 1]);
		default:
			return ctl_usage("timeout", "unknown option '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind == argc)
		return ctl_usage("timeout", "missing path");
	if (optind + 1 < argc)
		return ctl_usage("timeout", "unexpected argument '%s'",
				 argv[optind + 1]);
	if (!have_uid)
		return ctl_usage("timeout", "--uid UID is required");
	if (set && clear)
		return ctl_usage("timeout", "--set and --clear exclude each other");
	path = argv[optind];
	fd = ctl_open(path);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	if (set)
		ret = change(fd, path, (uint32_t)uid, (uint32_t)ms);
	else if (clear)
		ret = change(fd, path, (uint32_t)uid, TIMEOUT_REMOVE);
	else
		ret = show(fd, path, (uint32_t)uid);
	close(fd);
	if (fflush(stdout))
		ret = CTL_EXIT_ERROR;
	return ret;
}

const struct ctl_command ctl_timeout = {
	.name = "timeout",
	.summary = "show, set or clear the read timeout of a uid",
	.run = timeout_run,
	.help = timeout_help,
};
