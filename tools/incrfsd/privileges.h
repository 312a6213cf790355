/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * privileges.h - incrfsd gives up every capability once it holds what it
 * needs them for (the control fd, the open blob), so that a bug in what
 * parses a network's answers cannot be turned into root's powers.
 */
#ifndef INCRFSD_PRIVILEGES_H
#define INCRFSD_PRIVILEGES_H

#include <stddef.h>

/*
 * Drop every capability of the calling thread (effective, permitted,
 * inheritable, ambient, and the bounding set where CAP_SETPCAP allows) and
 * set no_new_privs.  Capabilities are per thread: threads created
 * afterwards inherit the empty sets, threads created before must call it
 * themselves.  0, or -1 with @why set.
 */
int incrfsd_drop_privileges(char *why, size_t why_len);

#endif /* INCRFSD_PRIVILEGES_H */
