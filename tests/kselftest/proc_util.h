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

/*
 * How many of the @n children @pids exit with status 0 within @ms each;
 * each other status is printed, and a child still running is killed.
 */
static inline int pu_count_ok(const pid_t *pids, int n, int ms)
{
	int i, ok = 0;

	for (i = 0; i < n; i++) {
		int st = pu_wait_exit(pids[i], ms);

		if (st == 0)
			ok++;
		else
			fprintf(stderr, "# child %d (pid %d): status %d\n", i,
				pids[i], st);
		if (st < 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	}
	return ok;
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
 * Call @fn with the /proc status text of every thread of @pid but
 * io_uring's workers ("iou-": the kernel creates them for a ring and runs
 * only its requests there); a non-zero return stops the walk.  The number
 * of threads looked at, or -1 if /proc cannot tell or @fn returned < 0.
 */
static inline int pu_each_thread(pid_t pid,
				 int (*fn)(const char *tid, const char *st,
					   void *arg), void *arg)
{
	char dir[64], path[128], *st;
	struct dirent *de;
	int seen = 0, ret = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/status", dir, de->d_name);
		st = pu_read_text(path);
		if (!st)
			continue;	/* ended meanwhile */
		if (strncmp(st, "Name:\tiou-", 10)) {
			seen++;
			ret = fn(de->d_name, st, arg);
		}
		free(st);
	}
	closedir(d);
	return ret < 0 ? -1 : seen;
}

/* The number after "\n@key" in the status text @st, or @none. */
static inline unsigned long long pu_status_field(const char *st,
						 const char *key, int base,
						 unsigned long long none)
{
	char pat[32];
	const char *l;

	snprintf(pat, sizeof(pat), "\n%s", key);
	l = strstr(st, pat);
	return l ? strtoull(l + strlen(pat), NULL, base) : none;
}

struct pu_priv {
	int bad;
	char *what;
	size_t what_len;
};

static inline int pu_priv_one(const char *tid, const char *st, void *arg)
{
	struct pu_priv *p = arg;

	if (!pu_status_field(st, "CapEff:", 16, 0) &&
	    !pu_status_field(st, "CapPrm:", 16, 0) &&
	    !pu_status_field(st, "CapAmb:", 16, 0) &&
	    pu_status_field(st, "NoNewPrivs:", 10, 1))
		return 0;
	if (!p->bad++ && p->what) {
		/* as much of the status as fits after the name */
		int room = p->what_len > 40 ? (int)(p->what_len - 40) : 0;

		snprintf(p->what, p->what_len, "thread %.20s: %.*s", tid, room,
			 st);
	}
	return 0;
}

/*
 * The threads of @pid that still hold a capability (CapEff, CapPrm or
 * CapAmb not zero) or may gain some (NoNewPrivs 0): their count, -1 if
 * /proc cannot tell; @seen gets how many threads were looked at and @what
 * (if not NULL) the status lines of the first offender.  io_uring's
 * workers are not counted.
 */
static inline int pu_privileged_threads(pid_t pid, int *seen, char *what,
					size_t what_len)
{
	struct pu_priv p = { 0, what, what_len };

	*seen = pu_each_thread(pid, pu_priv_one, &p);
	if (*seen < 0) {
		*seen = 0;
		return -1;
	}
	return p.bad;
}

static inline int pu_seccomp_one(const char *tid, const char *st, void *arg)
{
	unsigned long long mode = pu_status_field(st, "Seccomp:", 10, ~0ULL);

	(void)tid;
	if (mode == ~0ULL)
		return -1;	/* no seccomp in this kernel */
	if (mode != 2)
		(*(int *)arg)++;
	return 0;
}

/*
 * The threads of @pid (io_uring's workers aside) not under a seccomp
 * filter ("Seccomp: 2" in their status): their count; -1 if /proc cannot
 * tell, or this kernel has no seccomp ("Seccomp:" missing).  @seen gets
 * how many threads were looked at.
 */
static inline int pu_unfiltered_threads(pid_t pid, int *seen)
{
	int bad = 0;

	*seen = pu_each_thread(pid, pu_seccomp_one, &bad);
	if (*seen < 0) {
		*seen = 0;
		return -1;
	}
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
