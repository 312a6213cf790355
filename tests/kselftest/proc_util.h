/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proc_util.h - helpers for guest tests that run daemons (incrfsd, a
 * server) beside the test: start one with its output in a log file, wait
 * for a line in that log, wait for an exit with a time limit, stop it,
 * show the log when a test failed.
 *
 * Header-only (static inline) because each *_test.c is built alone.
 */
#ifndef INCRFS_PROC_UTIL_H
#define INCRFS_PROC_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tests/kselftest/harness.h"

static inline void pu_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Run argv (NULL-ended) in the background, stdout and stderr appended to
 * @log (a NULL @log: where the test's own go); @in_child, if not NULL,
 * runs in the child just before the exec (e.g. to drop privileges).
 */
static inline pid_t pu_spawn_with(const char *log, const char *const argv[],
				  void (*in_child)(void))
{
	pid_t pid;
	int fd;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (log) {
			fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
			if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
				_exit(98);
		}
		if (in_child)
			in_child();
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static inline pid_t pu_spawn(const char *log, const char *const argv[])
{
	return pu_spawn_with(log, argv, NULL);
}

/* Exit status of @pid (128 + signal if killed), -1 after @ms. */
static inline int pu_wait_exit(pid_t pid, int ms)
{
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
				128 + WTERMSIG(st);
		if (r < 0 || ms <= 0)
			return -1;
		pu_msleep(10);
		ms -= 10;
	}
}

/* SIGKILL @pid if it runs, reap it, forget it. */
static inline void pu_kill(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

/*
 * Send @sig to @pid and wait up to @ms for it to exit; SIGKILL it if it
 * did not.  Forgets it; returns its exit status as pu_wait_exit() does
 * (-1 also when there was none).
 */
static inline int pu_stop(pid_t *pid, int sig, int ms)
{
	int st;

	if (*pid <= 0)
		return -1;
	kill(*pid, sig);
	st = pu_wait_exit(*pid, ms);
	if (st < 0)
		pu_kill(pid);
	*pid = -1;
	return st;
}

/* The whole file as a NUL-terminated string, or NULL. */
static inline char *pu_read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, n;
	char tmp[4096];

	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		char *b = realloc(buf, len + n + 1);

		if (!b) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = b;
		memcpy(buf + len, tmp, n);
		len += n;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
}

/*
 * The threads of @pid that still hold a capability (CapEff, CapPrm or
 * CapAmb not zero) or may gain some (NoNewPrivs 0): their count, -1 if
 * /proc cannot tell; @seen gets how many threads were looked at and @what
 * (if not NULL) the status lines of the first offender.  io_uring's
 * worker threads ("iou-"), which the kernel creates for a ring and runs
 * only its requests, are not counted.
 */
static inline int pu_privileged_threads(pid_t pid, int *seen, char *what,
					size_t what_len)
{
	char dir[64], path[128], *st, *l;
	struct dirent *de;
	int bad = 0;
	DIR *d;

	*seen = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		bool priv = false;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/status", dir, de->d_name);
		st = pu_read_text(path);
		if (!st)
			continue;	/* ended meanwhile */
		if (!strncmp(st, "Name:\tiou-", 10)) {
			free(st);
			continue;
		}
		(*seen)++;
		for (l = st; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if ((!strncmp(l, "CapEff:", 7) || !strncmp(l, "CapPrm:", 7) ||
			     !strncmp(l, "CapAmb:", 7)) &&
			    strtoull(l + 7, NULL, 16))
				priv = true;
			if (!strncmp(l, "NoNewPrivs:", 11) && !strtol(l + 11, NULL, 10))
				priv = true;
		}
		if (priv && !bad++ && what) {
			/* as much of the status as fits after the name */
			int room = what_len > 40 ? (int)(what_len - 40) : 0;

			snprintf(what, what_len, "thread %.20s: %.*s",
				 de->d_name, room, st);
		}
		free(st);
	}
	closedir(d);
	return bad;
}

/*
 * The threads of @pid (io_uring's workers aside) not under a seccomp
 * filter ("Seccomp: 2" in their status): their count; -1 if /proc cannot
 * tell, or this kernel has no seccomp ("Seccomp:" missing).  @seen gets
 * how many threads were looked at.
 */
static inline int pu_unfiltered_threads(pid_t pid, int *seen)
{
	char dir[64], path[128], *st, *l;
	struct dirent *de;
	int bad = 0;
	DIR *d;

	*seen = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/status", dir, de->d_name);
		st = pu_read_text(path);
		if (!st)
			continue;	/* ended meanwhile */
		l = strstr(st, "\nSeccomp:");
		if (!strncmp(st, "Name:\tiou-", 10)) {
			free(st);
			continue;
		}
		if (!l) {
			free(st);
			closedir(d);
			return -1;
		}
		(*seen)++;
		if (strtol(l + 10, NULL, 10) != 2)
			bad++;
		free(st);
	}
	closedir(d);
	return bad;
}

static inline bool pu_file_has(const char *path, const char *needle)
{
	char *text = pu_read_text(path);
	bool found = text && strstr(text, needle);

	free(text);
	return found;
}

static inline bool pu_wait_file_has(const char *path, const char *needle,
				    int ms)
{
	for (; ms > 0; ms -= 20) {
		if (pu_file_has(path, needle))
			return true;
		pu_msleep(20);
	}
	return pu_file_has(path, needle);
}

/* Each line of the file @path as a diagnostic: a log, for a failed test. */
static inline void pu_show_log(const char *path)
{
	char *text = pu_read_text(path);

	for (char *l = text ? strtok(text, "\n") : NULL; l;
	     l = strtok(NULL, "\n"))
		TH_LOG("| %s", l);
	free(text);
}

/* Open the kernel log at its end: later reads return only new records. */
static inline int pu_kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * The next kernel log record since pu_kmsg_open_at_end() into @rec
 * (NUL-terminated): its length, or 0 when there is none yet.
 */
static inline ssize_t pu_kmsg_next(int fd, char *rec, size_t len)
{
	ssize_t n;

	do
		n = read(fd, rec, len - 1);
	while (n < 0 && errno == EPIPE);	/* overwritten: read on */
	if (n <= 0)
		return 0;
	rec[n] = '\0';
	return n;
}

#endif /* INCRFS_PROC_UTIL_H */
