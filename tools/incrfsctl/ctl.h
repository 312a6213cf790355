/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl.h - what incrfsctl's commands share: their entry points and help,
 * opening a path, issuing an ioctl and reporting its failure, parsing
 * the command line.
 *
 * Why this exists: every command opens a path on a mount, issues one
 * ioctl and must say the same clear thing when the path is not on incrfs.
 */
#ifndef INCRFSCTL_CTL_H
#define INCRFSCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct json_object;
struct incrfs_stats;

#define CTL_EXIT_OK	0
#define CTL_EXIT_ERROR	1
#define CTL_EXIT_USAGE	2

struct ctl_command {
	const char *name;
	const char *summary;		/* one line for the command list */
	int (*run)(int argc, char *argv[]);	/* argv[0] is the name */
	void (*help)(FILE *f);
};

extern const struct ctl_command ctl_list, ctl_status, ctl_info, ctl_filled,
	ctl_timeout, ctl_profile, ctl_attach, ctl_detach, ctl_feeders;

/* "incrfsctl: " + message on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error of command @cmd; returns CTL_EXIT_USAGE. */
int ctl_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* open(2) @path read-only; on failure print why and return -1. */
int ctl_open(const char *path);
/*
 * Report a failed ioctl @what on @path (errno): ENOTTY becomes "not on an
 * incrfs mount".  Returns CTL_EXIT_ERROR.
 */
int ctl_ioctl_failed(const char *path, const char *what);
/*
 * ctl_open() @path and issue ioctl @req (named @what in messages) with
 * @arg.  Returns the open fd, or -1 after saying why (the fd closed).
 */
int ctl_open_ioctl(const char *path, unsigned long req, const char *what,
		   void *arg);

/*
 * Parse the options before a command's arguments: -h/--help, and --json
 * if @json is not NULL (set to whether it was given).  Returns -1 with
 * optind at the first argument to go on, or the exit status to return
 * (after printing help or a usage error).
 */
int ctl_help_option(int argc, char *argv[], const struct ctl_command *cmd,
		    bool *json);
/*
 * The same, and --socket PATH if @sock is not NULL (left as the caller
 * set it when not given): the commands that talk to incrfsd --node.
 */
int ctl_options(int argc, char *argv[], const struct ctl_command *cmd,
		bool *json, const char **sock);
/*
 * "COMMAND [--help] [--json] PATH": as ctl_one_path(), and @json says
 * whether --json was given (NULL: --json is an unknown option).
 */
int ctl_path_json(int argc, char *argv[], const struct ctl_command *cmd,
		  const char **path, bool *json);
/*
 * Print @o (NULL: out of memory) as one line of JSON and put it; the exit
 * status.
 */
int ctl_print_json(struct json_object *o);
/*
 * Parse the common "COMMAND [--help] PATH" command line of a command
 * without options.  Returns -1 with *path set to go on, or the exit
 * status to return (after printing help or a usage error).
 */
int ctl_one_path(int argc, char *argv[], const struct ctl_command *cmd,
		 const char **path);

/* The mount's counters directory, /sys/fs/incrfs/MAJOR:MINOR, of @dev. */
void ctl_sysfs_dir(dev_t dev, char *buf, size_t len);
/*
 * "NN.N%" of the data blocks present, rounded down so that 100.0% means
 * every block (and an image without data blocks is complete).
 */
void ctl_percent_present(const struct incrfs_stats *st, char *buf,
			 size_t len);

#endif /* INCRFSCTL_CTL_H */
