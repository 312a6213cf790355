// SPDX-License-Identifier: GPL-2.0-only
/*
 * log.c - incrfsd's messages on stderr (see log.h).
 *
 * Why this exists: every message, from any thread, leaves in one
 * write(2) so lines stay whole, and carries the program name.  When
 * stderr is the journal's stream (systemd sets $JOURNAL_STREAM to its
 * device:inode), each line starts with its syslog priority, "<3>" for an
 * error to "<7>" for debug, which journald takes as the entry's priority
 * (journalctl -p warning then finds incrfsd's warnings).
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int incrfsd_verbosity;

static _Thread_local const char *thread_tag;
static _Thread_local char *thread_error;
static _Thread_local size_t thread_error_len;

void incrfsd_log_thread(const char *tag, char *last_error, size_t len)
{
	thread_tag = tag;
	thread_error = last_error;
	thread_error_len = len;
	if (last_error && len)
		last_error[0] = '\0';
}

/* Is stderr the stream $JOURNAL_STREAM names?  Looked at once. */
static bool to_journal(void)
{
	static int known = -1;
	unsigned long long dev, ino;
	const char *js;
	struct stat st;

	if (known >= 0)
		return known;
	js = getenv("JOURNAL_STREAM");
	known = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		!fstat(STDERR_FILENO, &st) && st.st_dev == dev &&
		st.st_ino == ino;
	return known;
}

void incrfsd_log(enum log_level level, const char *fmt, ...)
{
	/* syslog priorities: LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, DEBUG 7 */
	static const char prio[] = { '3', '4', '6', '7', '7' };
	char line[1024];
	const char *tag = "";
	va_list ap;
	int n = 0, m;

	if (level == LOG_ERR)
		tag = "error: ";
	else if (level == LOG_WARN)
		tag = "warning: ";
	else if ((int)level > LOG_INFO + incrfsd_verbosity)
		return;
	if (to_journal())
		n = snprintf(line, sizeof(line), "<%c>", prio[level]);
	n += snprintf(line + n, sizeof(line) - n, "incrfsd: %s%s%s",
		      thread_tag ? thread_tag : "", thread_tag ? ": " : "",
		      tag);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	if (level == LOG_ERR && thread_error && thread_error_len)
		snprintf(thread_error, thread_error_len, "%s", line + n);
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* one write per line: lines of two threads never mix */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
