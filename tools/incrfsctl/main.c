// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - incrfsctl: inspect and tune incrfs mounts (see --help).
 *
 * Why this exists: operators need the kernel's view of a mount (how much
 * is present, whether readers wait or time out, which image it is)
 * without writing ioctl code; each command lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "version.h"

static const struct ctl_command *const commands[] = {
	&ctl_list, &ctl_status, &ctl_info, &ctl_filled, &ctl_timeout,
	&ctl_profile, &ctl_attach, &ctl_detach, &ctl_feeders,
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void help(FILE *f)
{
	size_t i;

	fputs(
"NAME\n"
"    incrfsctl - inspect and tune incrfs mounts\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl COMMAND [ARGS]\n"
"    incrfsctl COMMAND --help\n"
"    incrfsctl help [COMMAND]\n"
"\n"
"DESCRIPTION\n"
"    incrfsctl asks the kernel about a mounted incrfs image through\n"
"    ioctls on any of its files; attach, detach and feeders talk to the\n"
"    node's feeder (incrfsd --node) through its socket.  Commands:\n"
"\n", f);
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "    %-9s %s\n", commands[i]->name,
			commands[i]->summary);
	fputs(
"\n"
"    The same counters as status are in /sys/fs/incrfs/MAJOR:MINOR/, the\n"
"    directory named after the mount's st_dev.\n"
"\n"
"OPTIONS\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"    -V, --version\n"
"        Print the version and exit.\n"
"\n"
"EXIT STATUS\n"
"    0 success; 1 an error, e.g. the path is not on an incrfs mount;\n"
"    2 a bad command line.\n"
"\n"
"EXAMPLES\n"
"    incrfsctl list\n"
"    incrfsctl status /mnt/app\n"
"    incrfsctl info /mnt/app\n"
"    incrfsctl filled /mnt/app/usr/bin/python3\n"
"    incrfsctl timeout /mnt/app --uid 1000 --set 60000\n"
"    incrfsctl profile record /mnt/app > app.profile\n"
"    incrfsctl attach /mnt/app --source https://blobs.example/app.blob\n"
"\n"
"SEE ALSO\n"
"    incrfsd(8), incrfs-pack(1), Documentation/filesystems/incrfs.rst\n",
	      f);
}

static const struct ctl_command *find(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

int main(int argc, char *argv[])
{
	const struct ctl_command *cmd;

	if (argc < 2) {
		ctl_err("missing command");
		fputs("Try 'incrfsctl --help' for more information.\n", stderr);
		return CTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		help(stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		fputs(INCRFS_VERSION_LINE("incrfsctl"), stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc == 2) {
			help(stdout);
			return CTL_EXIT_OK;
		}
		cmd = find(argv[2]);
		if (!cmd || argc > 3) {
			ctl_err("help: no command '%s'", argv[2]);
			return CTL_EXIT_USAGE;
		}
		cmd->help(stdout);
		return CTL_EXIT_OK;
	}
	cmd = find(argv[1]);
	if (!cmd) {
		ctl_err("unknown command '%s'", argv[1]);
		fputs("Try 'incrfsctl --help' for more information.\n", stderr);
		return CTL_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
