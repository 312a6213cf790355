/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stop_signals.h - the signals that stop incrfsd (SIGTERM, SIGINT,
 * SIGHUP), in one place: the feeder's event loop takes them through a
 * signalfd, so every other thread must block them.
 */
#ifndef INCRFSD_STOP_SIGNALS_H
#define INCRFSD_STOP_SIGNALS_H

#include <signal.h>
#include <sys/signalfd.h>

static inline void incrfsd_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/*
 * Block the stop signals in the calling thread (threads it starts later
 * inherit the mask) and return a non-blocking signalfd for them, or -1
 * (errno set).
 */
static inline int incrfsd_stop_signalfd(void)
{
	sigset_t set;

	incrfsd_stop_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

#endif /* INCRFSD_STOP_SIGNALS_H */
