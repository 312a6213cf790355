// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - incrfs-image: look at and check incrfs images and blobs at
 * rest, as dump.erofs and fsck.erofs do for EROFS.
 *
 * Why this exists: before an image is mounted, shipped or blamed, a user
 * wants to know what it holds and whether it and its blob are sound,
 * without root, a kernel module or a mount.  The checks are tools/lib's,
 * the same reader incrfs-pack verifies its output with.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "image_cmd.h"
#include "version.h"

const char *img_prog = "incrfs-image";

static const struct img_cmd *const cmds[] = { &img_check, &img_inspect };
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
"    incrfs-image - inspect and check incrfs images and their blobs\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image COMMAND [OPTION]... ARG...\n"
"    incrfs-image COMMAND --help\n"
"\n"
"DESCRIPTION\n"
"    Works on image and blob files as incrfs-pack wrote them (or as a\n"
"    mount left them: filled blocks and their bitmap included), with\n"
"    nothing mounted and no privilege.  Commands:\n"
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
"    1   check found the image or the blob damaged\n"
"    2   a bad command line\n"
"    3   a file cannot be opened or read\n"
"\n"
"SEE ALSO\n"
"    incrfs-pack(1), incrfsd(8), incrfsctl(8)\n", f);
}

int main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		img_err("a command is needed: check or inspect (--help)");
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
	img_err("unknown command '%s': check or inspect (--help)", argv[1]);
	return IMG_EXIT_USAGE;
}
