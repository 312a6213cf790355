/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - incrfsd's messages on stderr, each prefixed "incrfsd: " (and
 * by its syslog priority when stderr is the journal: log.c).
 *
 * Why this exists: one place decides what is printed at which verbosity
 * (-v: a line per miss and per fetched chunk; -vv: hints and prefetch
 * too), and messages of different threads never interleave mid-line.
 */
#ifndef INCRFSD_LOG_H
#define INCRFSD_LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERR,		/* always, "error: " */
	LOG_WARN,		/* always, "warning: " */
	LOG_INFO,		/* always: start, stop, milestones */
	LOG_VERBOSE,		/* -v: per miss, per chunk */
	LOG_DEBUG,		/* -vv: hints, prefetch, batches */
};

/* Number of -v given. */
extern int incrfsd_verbosity;

/*
 * A node's thread serving one mount names it in every line it logs:
 * "incrfsd: TAG: ..." (NULL: no tag).  And the last error it logged is
 * kept in the buffer given (NULL: none), to answer incrfsctl attach with.
 */
void incrfsd_log_thread(const char *tag, char *last_error, size_t len);

void incrfsd_log(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	incrfsd_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	incrfsd_log(LOG_WARN, __VA_ARGS__)
#define log_info(...)	incrfsd_log(LOG_INFO, __VA_ARGS__)
#define log_verbose(...) incrfsd_log(LOG_VERBOSE, __VA_ARGS__)
#define log_debug(...)	incrfsd_log(LOG_DEBUG, __VA_ARGS__)

#endif /* INCRFSD_LOG_H */
