// SPDX-License-Identifier: GPL-2.0-only
/*
 * log.c - incrfsd's messages on stderr (see log.h).
 *
 * Why this exists: every message, from either thread, leaves in one
 * write(2) so lines stay whole, and carries the program name.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int incrfsd_verbosity;

void incrfsd_log(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	const char *tag = "";
	va_list ap;
	int n, m;

	if (level == LOG_ERR)
		tag = "error: ";
	else if (level == LOG_WARN)
		tag = "warning: ";
	else if ((int)level > LOG_INFO + incrfsd_verbosity)
		return;
	n = snprintf(line, sizeof(line), "incrfsd: %s", tag);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* one write per line: lines of two threads never mix */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
