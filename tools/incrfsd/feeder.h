/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * feeder.h - incrfsd's main thread: set up, then serve the control fd.
 *
 * Why this exists: main.c only parses the command line; this is where the
 * mount and the blob are checked against each other and the event loop
 * runs (epoll over the control fd, a signalfd, the source's completion
 * eventfd and the prefetch threads' eventfd).
 */
#ifndef INCRFSD_FEEDER_H
#define INCRFSD_FEEDER_H

#include "options.h"

/* Run the feeder; returns the process exit status (INCRFSD_EXIT_*). */
int feeder_main(const struct incrfsd_options *o);

#endif /* INCRFSD_FEEDER_H */
