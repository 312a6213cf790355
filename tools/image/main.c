// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - incrfs-image: the tool for images, single and whole: look at
 * and check incrfs images and blobs at rest, as dump.erofs and fsck.erofs
 * do for EROFS; convert OCI container images, and pull them as lazily
 * loaded runtime bundles.
 *
 * Why this exists: before an image is mounted, shipped or blamed, a user
 * wants to know what it holds and whether it and its blob are sound,
 * without root, a kernel module or a mount (the checks are tools/lib's,
 * the same reader incrfs-pack verifies its output with); and a container
 * user has OCI images, not single layers.  Each command is a file of its
 * own; this one dispatches and holds what they share.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "image_cmd.h"
#include "version.h"

const char *img_prog = "incrfs-image";

static const struct img_cmd *const cmds[] = {
	&img_check, &img_inspect, &img_convert, &img_pull, &img_umount,
	&img_profile,
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

void img_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", img_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void img_note(const char *msg)
{
	fprintf(stderr, "%s: %s\n", img_prog, msg);
}

char *img_split_ref(const char *arg, const char **tag)
{
	char *dir = strdup(arg), *colon;

	*tag = NULL;
	if (!dir)
		return NULL;
	colon = strrchr(dir, ':');
	if (colon && colon[1] && !strchr(colon + 1, '/')) {
		*colon = 0;
		*tag = colon + 1;
	}
	return dir;
}

void img_tool_path(const char *name, const char *env, char *buf, size_t len)
{
	const char *set = getenv(env);
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (set && *set) {
		snprintf(buf, len, "%s", set);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			snprintf(buf, len, "%.*s/%s", (int)(slash - self), self,
				 name);
			if (!access(buf, X_OK))
				return;
		}
	}
	snprintf(buf, len, "%s", name);
}

int img_exit_for(int err)
{
	/* what tools/lib says of data it does not accept */
	if (err == -EUCLEAN || err == -EFBIG || err == -EBADMSG)
		return IMG_EXIT_CORRUPT;
	return err ? IMG_EXIT_ERROR : IMG_EXIT_OK;
}

static void help(FILE *f)
{
	size_t i;

	fputs(
"NAME\n"
"    incrfs-image - inspect, check, convert and pull incrfs images\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image COMMAND [OPTION]... ARG...\n"
"    incrfs-image COMMAND --help\n"
"\n"
"DESCRIPTION\n"
"    check and inspect work on image and blob files as incrfs-pack wrote\n"
"    them (or as a mount left them: filled blocks and their bitmap\n"
"    included), with nothing mounted and no privilege.  convert turns an\n"
"    OCI container image into one whose layers incrfs mounts lazily; pull\n"
"    mounts such an image from a registry as a bundle crun or runc runs,\n"
"    before its data has arrived.  Commands:\n"
"\n", f);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "    %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fputs(
"\n"
"    incrfs-image COMMAND --help describes each.\n"
"\n"
"OPTIONS\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"    -V, --version\n"
"        Print the version and exit.\n"
"\n"
"EXIT STATUS\n"
"    0   done (check: nothing wrong)\n"
"    1   check found the image or the blob damaged; convert or pull\n"
"        found the image damaged, refused or not what it should be\n"
"    2   a bad command line\n"
"    3   a file cannot be opened or read, or another error\n"
"\n"
"SEE ALSO\n"
"    incrfs-pack(1), incrfsd(8), incrfsctl(8), crun(1), skopeo(1)\n", f);
}

int main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		img_err("a command is needed: check, inspect, convert, pull, umount or profile (--help)");
		return IMG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		help(stdout);
		return IMG_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		fputs(INCRFS_VERSION_LINE("incrfs-image"), stdout);
		return IMG_EXIT_OK;
	}
	for (i = 0; i < NCMDS; i++)
		if (!strcmp(argv[1], cmds[i]->name))
			return cmds[i]->run(argc - 1, argv + 1);
	img_err("unknown command '%s': check, inspect, convert, pull, umount or profile (--help)", argv[1]);
	return IMG_EXIT_USAGE;
}
