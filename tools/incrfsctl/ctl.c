// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl.c - helpers shared by incrfsctl's commands (see ctl.h).
 *
 * Why this exists: uniform messages and argument handling across the
 * commands.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <json-c/json.h>

#include "uapi/incrfs.h"

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("incrfsctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "incrfsctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'incrfsctl %s --help' for more information.\n",
		cmd);
	return CTL_EXIT_USAGE;
}

int ctl_open(const char *path)
{
	char self[64];
	struct stat st;
	int pfd, fd;

	/*
	 * Look before opening: a path inside an image may be a symlink to a
	 * device, whose open alone can do something.  Only regular files and
	 * directories are opened, through the O_PATH fd (no second lookup).
	 */
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(pfd, &st) < 0) {
		ctl_err("%s: %s", path, strerror(errno));
		close(pfd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		ctl_err("%s: not a regular file or directory", path);
		close(pfd);
		return -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)	/* no /proc: the path once more */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)
		ctl_err("%s: %s", path, strerror(errno));
	close(pfd);
	return fd;
}

int ctl_ioctl_failed(const char *path, const char *what)
{
	if (errno == ENOTTY)
		ctl_err("%s: not on an incrfs mount", path);
	else
		ctl_err("%s: %s: %s", path, what, strerror(errno));
	return CTL_EXIT_ERROR;
}

int ctl_open_ioctl(const char *path, unsigned long req, const char *what,
		   void *arg)
{
	int fd = ctl_open(path);

	if (fd < 0)
		return -1;
	if (ioctl(fd, req, arg) < 0) {
		ctl_ioctl_failed(path, what);
		close(fd);
		return -1;
	}
	return fd;
}

int ctl_options(int argc, char *argv[], const struct ctl_command *cmd,
		bool *json, const char **sock)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	/* without @sock, --socket is unknown (and --so no abbreviation) */
	static const struct option no_socket[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	optind = 0;
	opterr = 0;
	if (json)
		*json = false;
	while ((c = getopt_long(argc, argv, "+h", sock ? longopts : no_socket,
				NULL)) != -1) {
		if (c == 'h') {
			cmd->help(stdout);
			return CTL_EXIT_OK;
		}
		if (c == 'j' && json) {
			*json = true;
			continue;
		}
		if (c == 'k' && sock) {
			*sock = optarg;
			continue;
		}
		if (c == '?' && optopt == 'k' && sock)
			return ctl_usage(cmd->name, "--socket needs a path");
		return ctl_usage(cmd->name, "unknown option '%s'",
				 argv[optind - 1]);
	}
	return -1;
}

int ctl_help_option(int argc, char *argv[], const struct ctl_command *cmd,
		    bool *json)
{
	return ctl_options(argc, argv, cmd, json, NULL);
}

int ctl_print_json(struct json_object *o)
{
	const char *s = o ? json_object_to_json_string_ext(o,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	int ret = CTL_EXIT_ERROR;

	if (!s)
		ctl_err("out of memory");
	else if (printf("%s\n", s) >= 0 && !fflush(stdout))
		ret = CTL_EXIT_OK;
	json_object_put(o);
	return ret;
}

int ctl_path_json(int argc, char *argv[], const struct ctl_command *cmd,
		  const char **path, bool *json)
{
	int ret = ctl_help_option(argc, argv, cmd, json);

	if (ret >= 0)
		return ret;
	if (optind == argc)
		return ctl_usage(cmd->name, "missing path");
	if (optind + 1 < argc)
		return ctl_usage(cmd->name, "unexpected argument '%s'",
				 argv[optind + 1]);
	*path = argv[optind];
	return -1;
}

int ctl_one_path(int argc, char *argv[], const struct ctl_command *cmd,
		 const char **path)
{
	return ctl_path_json(argc, argv, cmd, path, NULL);
}

void ctl_sysfs_dir(dev_t dev, char *buf, size_t len)
{
	snprintf(buf, len, "/sys/fs/incrfs/%u:%u", major(dev), minor(dev));
}

void ctl_percent_present(const struct incrfs_stats *st, char *buf,
			 size_t len)
{
	unsigned long long permille = st->blocks_total ?
		(unsigned long long)(st->blocks_present * 1000 /
				     st->blocks_total) : 1000;

	snprintf(buf, len, "%llu.%llu%%", permille / 10, permille % 10);
}
