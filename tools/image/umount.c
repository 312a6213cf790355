// SPDX-License-Identifier: GPL-2.0-only
/*
 * umount.c - incrfs-image umount: undo what pull did in a directory.
 *
 * Why this exists: pull leaves mounts and feeders that outlive it; their
 * record (pull.h) is all that is needed to take them down in the right
 * order: the overlay first (a container may still use it: then nothing is
 * touched), then for each layer its feeder and its mount.  The images stay:
 * the blocks they hold are not fetched again by a later mount of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image_cmd.h"
#include "oci_layout.h"
#include "pull.h"

#define STOP_WAIT_MS	10000

static void umount_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfs-image umount - take down what incrfs-image pull set up\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image umount [--quiet] DIR\n"
"\n"
"DESCRIPTION\n"
"    Unmounts DIR/rootfs, stops the incrfsd of every layer and unmounts\n"
"    the layer, as DIR/incrfs-pull.json records them, then removes that\n"
"    file.  If a container still uses DIR/rootfs nothing is changed.  The\n"
"    files stay (the layers' images keep the blocks read so far, the\n"
"    upper directory the container's changes): remove DIR to drop them.\n"
"\n"
"OPTIONS\n"
"    -q, --quiet\n"
"        No progress lines.\n"
"\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"EXIT STATUS\n"
"    0 done; 2 a bad command line; 3 DIR holds no pull, or something\n"
"    could not be taken down (the message says what).\n", f);
}

/* Is @pid an incrfsd still? (A pid is reused once its process is gone.) */
static bool is_incrfsd(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "incrfsd", 7);
}

static void stop_feeder(pid_t pid)
{
	struct timespec ts = { 0, 20 * 1000000L };
	int waited;

	if (pid <= 0 || !is_incrfsd(pid))
		return;
	kill(pid, SIGTERM);
	for (waited = 0; waited < STOP_WAIT_MS && is_incrfsd(pid);
	     waited += 20) {
		nanosleep(&ts, NULL);
		/* our own child (pull undoing itself) must be reaped */
		while (waitpid(pid, NULL, WNOHANG) > 0)
			;
	}
	if (is_incrfsd(pid))
		kill(pid, SIGKILL);
}

static int do_umount(const char *path, char *err, size_t err_len)
{
	if (!umount2(path, UMOUNT_NOFOLLOW) || errno == EINVAL ||
	    errno == ENOENT)
		return 0;	/* done, or not mounted */
	snprintf(err, err_len, "umount %s: %s%s", path, strerror(errno),
		 errno == EBUSY ? " (a container still uses it?)" : "");
	return -errno;
}

struct json_object *pull_state_load(const char *dir,
				    struct json_object **layers, char *err,
				    size_t err_len)
{
	struct json_object *st;
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, PULL_STATE);
	st = json_object_from_file(path);
	if (!st || !json_object_object_get_ex(st, "layers", layers) ||
	    !json_object_is_type(*layers, json_type_array)) {
		snprintf(err, err_len, "%s: %s", path,
			 st ? "not a pull's record" :
			 "cannot be read (does DIR hold a pull? incrfs-image pull DIR first)");
		json_object_put(st);
		return NULL;
	}
	return st;
}

int pull_undo(int dirfd, const char *dir, bool quiet, char *err,
	      size_t err_len)
{
	struct json_object *st, *layers;
	const char *rootfs;
	size_t i, n;
	int ret = 0;

	st = pull_state_load(dir, &layers, err, err_len);
	if (!st)
		return -ENOENT;
	rootfs = oci_str(st, "rootfs");
	if (rootfs) {
		ret = do_umount(rootfs, err, err_len);
		if (ret)
			goto out;
		if (!quiet)
			fprintf(stderr, "%s: unmounted %s\n", img_prog, rootfs);
	}
	n = json_object_array_length(layers);
	for (i = n; i-- > 0;) {
		struct json_object *l = json_object_array_get_idx(layers, i), *v;
		const char *mnt = oci_str(l, "mount");

		if (json_object_object_get_ex(l, "feeder_pid", &v))
			stop_feeder((pid_t)json_object_get_int(v));
		if (mnt) {
			ret = do_umount(mnt, err, err_len);
			if (ret)
				goto out;
		}
	}
	if (!quiet)
		fprintf(stderr, "%s: stopped %zu feeders, unmounted %zu layers\n",
			img_prog, n, n);
	if (unlinkat(dirfd, PULL_STATE, 0) && errno != ENOENT) {
		ret = -errno;
		snprintf(err, err_len, "%s/%s: %s", dir, PULL_STATE,
			 strerror(errno));
	}
out:
	json_object_put(st);
	return ret;
}

static int umount_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[1024], abs[4096];
	bool quiet = false;
	int c, dirfd, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			umount_help(stdout);
			return IMG_EXIT_OK;
		default:
			return IMG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		img_err("umount: one DIR is needed (--help)");
		return IMG_EXIT_USAGE;
	}
	if (!realpath(argv[optind], abs)) {
		img_err("umount: %s: %s", argv[optind], strerror(errno));
		return IMG_EXIT_ERROR;
	}
	dirfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		img_err("umount: %s: %s", abs, strerror(errno));
		return IMG_EXIT_ERROR;
	}
	ret = pull_undo(dirfd, abs, quiet, err, sizeof(err));
	close(dirfd);
	if (ret) {
		img_err("umount: %s", err);
		return IMG_EXIT_ERROR;
	}
	return IMG_EXIT_OK;
}

const struct img_cmd img_umount = {
	.name = "umount",
	.summary = "take down what pull set up",
	.help = umount_help,
	.run = umount_run,
};
