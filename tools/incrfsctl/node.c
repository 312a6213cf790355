// SPDX-License-Identifier: GPL-2.0-only
/*
 * node.c - incrfsctl attach, detach and feeders: the mounts a node's
 * incrfsd (incrfsd --node) serves.
 *
 * Why this exists: on a container host one incrfsd serves every layer;
 * the runtime attaches a layer's mount when it mounts it.  incrfsctl
 * opens the mount's control channel itself (the privileged step) and
 * hands the fd over the daemon's socket (tools/lib/node_msg.h), so the
 * daemon never needs a capability.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "json_add.h"
#include "node_msg.h"
#include "uapi/incrfs.h"

#define SOCKET_HELP							\
"    --socket PATH\n"							\
"        The node daemon's socket (default " INCRFS_NODE_SOCKET ").\n"	\
"\n"

static void attach_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl attach - have the node's incrfsd serve a mount\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl attach [--socket PATH] MOUNT [--] --source BLOB [OPTION...]\n"
"\n"
"DESCRIPTION\n"
"    Opens the control channel of the incrfs mount MOUNT (this needs\n"
"    CAP_SYS_ADMIN) and hands it to the node's incrfsd (incrfsd --node),\n"
"    which serves the mount from BLOB from then on, as incrfsd --source\n"
"    BLOB MOUNT would, until it is detached or unmounted.  OPTION is any\n"
"    of incrfsd's options of one mount (readahead, prefetch, profile,\n"
"    amplify, mapped, depth, sync, stats-file, exit-when-complete: see\n"
"    incrfsd(8)); give files as absolute paths, since relative ones are\n"
"    taken from the daemon's directory.  Returns once the daemon\n"
"    serves the mount (the blob opened and checked against the image),\n"
"    or with the daemon's reason why it cannot.  The daemon serves the\n"
"    mount again after it is restarted.\n"
"\n"
"OPTIONS\n"
SOCKET_HELP
"EXIT STATUS\n"
"    0 served; 1 the mount, its control channel or the daemon cannot be\n"
"    reached, or the daemon cannot serve it (e.g. the blob cannot be\n"
"    opened, the node's memory budget is spent); 2 a bad command line, or\n"
"    options the daemon refuses; 3 BLOB does not belong to the mounted\n"
"    image.\n"
"\n"
"EXAMPLES\n"
"    incrfsctl attach /var/lib/layers/3f2a \\\n"
"        --source registry://registry.example/app@sha256:HEX\n"
"    incrfsctl attach /mnt/app -- --source /srv/app.blob --prefetch all\n",
	      f);
}

static void detach_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl detach - stop the node's incrfsd serving a mount\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl detach [--socket PATH] MOUNT\n"
"\n"
"DESCRIPTION\n"
"    Tells the node's incrfsd to stop serving MOUNT and to forget it\n"
"    (a restart no longer serves it).  Returns once its feeder has\n"
"    stopped.  Readers still waiting keep waiting, up to the mount's\n"
"    timeout, for a feeder attached next.\n"
"\n"
"OPTIONS\n"
SOCKET_HELP
"EXIT STATUS\n"
"    0 detached; 1 the daemon cannot be reached, or does not serve MOUNT;\n"
"    2 a bad command line.\n",
	      f);
}

static void feeders_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl feeders - the mounts the node's incrfsd serves\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl feeders [--socket PATH] [--json]\n"
"\n"
"DESCRIPTION\n"
"    Lists the mounts attached to the node's incrfsd, one line each under\n"
"    a header:\n"
"\n"
"    MOUNT    the mount point\n"
"    STATE    starting (its blob is being opened), serving, or\n"
"             detaching (a detach waits for its feeder to stop)\n"
"    PRESENT  data blocks present, in percent (rounded down)\n"
"    WAITS    reads that waited for a block, since the mount was made\n"
"    OPTIONS  its incrfsd options\n"
"\n"
"    and then the memory the mounts' buffers take of the node's budget.\n"
"\n"
"OPTIONS\n"
SOCKET_HELP
"    --json\n"
"        The daemon's answer instead, for scripts: one JSON object with\n"
"        memory_used, memory_max and mounts, an array of objects with\n"
"        mount, state, args, blocks_present, blocks_total, waits and\n"
"        complete.\n"
"\n"
"EXIT STATUS\n"
"    0 listed; 1 the daemon cannot be reached; 2 a bad command line.\n",
	      f);
}

/* Ask the daemon at @sock; NULL after saying why. */
static struct json_object *ask(const char *sock, struct json_object *req,
			       int fd)
{
	char err[512];
	struct json_object *ans = incrfs_node_ask(sock, req, fd, err,
						  sizeof(err));

	if (!ans)
		ctl_err("%s", err);
	return ans;
}

/* CTL_EXIT_OK if @ans says ok, else print its error: its exit status. */
static int answer_status(struct json_object *ans, const char *what)
{
	char err[512];
	int status = incrfs_node_answer_status(ans, err, sizeof(err));

	if (status)
		ctl_err("%s: %s", what, err);
	return status;
}

/* The control fd of the incrfs mount at @path, or -1 after saying why. */
static int open_control(const char *path)
{
	struct incrfs_info info;
	int root = ctl_open(path), fd;

	if (root < 0)
		return -1;
	if (ioctl(root, INCRFS_IOC_GET_INFO, &info) < 0) {
		ctl_ioctl_failed(path, "INCRFS_IOC_GET_INFO");
		close(root);
		return -1;
	}
	fd = ioctl(root, INCRFS_IOC_OPEN_CONTROL);
	if (fd < 0) {
		if (errno == EPERM)
			ctl_err("%s: the control channel needs CAP_SYS_ADMIN in the mount's user namespace",
				path);
		else if (errno == EBUSY)
			ctl_err("%s: a feeder is already serving this mount",
				path);
		else
			ctl_ioctl_failed(path, "INCRFS_IOC_OPEN_CONTROL");
	}
	close(root);
	return fd;
}

static int attach_run(int argc, char *argv[])
{
	char mount[PATH_MAX], err[512];
	const char *sock = INCRFS_NODE_SOCKET;
	int ret = ctl_options(argc, argv, &ctl_attach, NULL, &sock), fd, i;

	if (ret >= 0)
		return ret;
	if (optind == argc)
		return ctl_usage(ctl_attach.name, "missing MOUNT");
	if (!realpath(argv[optind], mount)) {
		ctl_err("%s: %s", argv[optind], strerror(errno));
		return CTL_EXIT_ERROR;
	}
	i = optind + 1;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i == argc)
		return ctl_usage(ctl_attach.name,
				 "missing the mount's incrfsd options (--source BLOB at least)");
	fd = open_control(mount);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	ret = incrfs_node_attach(sock, mount, (const char *const *)argv + i,
				 (unsigned int)(argc - i), fd, err,
				 sizeof(err));
	close(fd);
	if (ret)
		ctl_err("%s: %s", mount, err);
	return ret;
}

static int detach_run(int argc, char *argv[])
{
	struct json_object *req, *ans;
	char mount[PATH_MAX];
	const char *sock = INCRFS_NODE_SOCKET;
	int ret = ctl_options(argc, argv, &ctl_detach, NULL, &sock);

	if (ret >= 0)
		return ret;
	if (optind == argc)
		return ctl_usage(ctl_detach.name, "missing MOUNT");
	if (optind + 1 < argc)
		return ctl_usage(ctl_detach.name, "unexpected argument '%s'",
				 argv[optind + 1]);
	/* a mount that is gone is detached by the path it was attached as */
	if (!realpath(argv[optind], mount))
		snprintf(mount, sizeof(mount), "%s", argv[optind]);
	req = json_object_new_object();
	if (!req || incrfs_json_add(req, "op", json_object_new_string("detach")) ||
	    incrfs_json_add(req, "mount", json_object_new_string(mount))) {
		json_object_put(req);
		ctl_err("out of memory");
		return CTL_EXIT_ERROR;
	}
	ans = ask(sock, req, -1);
	json_object_put(req);
	if (!ans)
		return CTL_EXIT_ERROR;
	ret = answer_status(ans, mount);
	json_object_put(ans);
	return ret;
}

static unsigned long long u64_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		(unsigned long long)json_object_get_uint64(v) : 0;
}

static void feeders_text(struct json_object *ans)
{
	struct json_object *mounts, *m, *v, *args;
	size_t i, j, n = 0;
	int w = (int)strlen("MOUNT");

	if (json_object_object_get_ex(ans, "mounts", &mounts) &&
	    json_object_is_type(mounts, json_type_array))
		n = json_object_array_length(mounts);
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(mounts, i);
		if (json_object_object_get_ex(m, "mount", &v) &&
		    (int)strlen(json_object_get_string(v)) > w)
			w = (int)strlen(json_object_get_string(v));
	}
	printf("%-*s  %-9s  %7s  %6s  %s\n", w, "MOUNT", "STATE", "PRESENT",
	       "WAITS", "OPTIONS");
	for (i = 0; i < n; i++) {
		struct incrfs_stats st = { 0 };
		char pct[32] = "?";

		m = json_object_array_get_idx(mounts, i);
		st.blocks_present = u64_of(m, "blocks_present");
		st.blocks_total = u64_of(m, "blocks_total");
		if (json_object_object_get_ex(m, "blocks_total", &v))
			ctl_percent_present(&st, pct, sizeof(pct));
		printf("%-*s  %-9s  %7s  %6llu ", w,
		       json_object_object_get_ex(m, "mount", &v) ?
		       json_object_get_string(v) : "?",
		       json_object_object_get_ex(m, "state", &v) ?
		       json_object_get_string(v) : "?",
		       pct, u64_of(m, "waits"));
		if (json_object_object_get_ex(m, "args", &args) &&
		    json_object_is_type(args, json_type_array))
			for (j = 0; j < json_object_array_length(args); j++)
				printf(" %s", json_object_get_string(
					json_object_array_get_idx(args, j)));
		printf("\n");
	}
	printf("memory: %llu of %llu MiB\n", u64_of(ans, "memory_used") >> 20,
	       u64_of(ans, "memory_max") >> 20);
}

static int feeders_run(int argc, char *argv[])
{
	struct json_object *ans;
	char err[512];
	const char *sock = INCRFS_NODE_SOCKET;
	bool json;
	int ret = ctl_options(argc, argv, &ctl_feeders, &json, &sock);

	if (ret >= 0)
		return ret;
	if (optind < argc)
		return ctl_usage(ctl_feeders.name, "unexpected argument '%s'",
				 argv[optind]);
	ans = incrfs_node_list(sock, err, sizeof(err));
	if (!ans) {
		ctl_err("%s", err);
		return CTL_EXIT_ERROR;
	}
	ret = answer_status(ans, sock);
	if (ret == CTL_EXIT_OK && json) {
		json_object_object_del(ans, "ok");
		return ctl_print_json(ans);
	}
	if (ret == CTL_EXIT_OK) {
		feeders_text(ans);
		if (fflush(stdout))
			ret = CTL_EXIT_ERROR;
	}
	json_object_put(ans);
	return ret;
}

const struct ctl_command ctl_attach = {
	.name = "attach",
	.summary = "have the node's incrfsd (incrfsd --node) serve a mount",
	.run = attach_run,
	.help = attach_help,
};

const struct ctl_command ctl_detach = {
	.name = "detach",
	.summary = "stop the node's incrfsd serving a mount",
	.run = detach_run,
	.help = detach_help,
};

const struct ctl_command ctl_feeders = {
	.name = "feeders",
	.summary = "the mounts the node's incrfsd serves",
	.run = feeders_run,
	.help = feeders_help,
};
