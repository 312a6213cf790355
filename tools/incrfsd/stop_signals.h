/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stop_signals.h - the signals that stop incrfsd (SIGTERM, SIGINT,
 * SIGHUP), in one place: the feeder's event loop takes them through a
 * signalfd, so every other thread must block them.
 */
#ifndef INCRFSD_STOP_SIGNALS_H
#define INCRFSD_STOP_SIGNALS_H

#include <signal.h>

static inline void incrfsd_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

#endif /* INCRFSD_STOP_SIGNALS_H */
