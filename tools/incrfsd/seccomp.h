/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * seccomp.h - the system calls incrfsd never makes, refused once it
 * serves.
 *
 * Why this exists: incrfsd parses what a network sends (HTTP, TLS, zstd
 * frames).  Without capabilities (privileges.h) a bug there cannot use
 * root's powers; with this filter it cannot run another program, trace or
 * read other processes, make namespaces, or reach kernel interfaces that
 * unprivileged code may still use (bpf, userfaultfd, keyrings, perf).
 */
#ifndef INCRFSD_SECCOMP_H
#define INCRFSD_SECCOMP_H

#include <stddef.h>

/*
 * Install the filter on every thread of the process (and threads created
 * later): the calls above fail with EPERM (clone3 with ENOSYS, so that
 * the C library creates threads with clone).  Sets no_new_privs.  0; 1
 * with @why set if the kernel has no seccomp at all; -1 with @why set if
 * the filter could not be installed.
 */
int incrfsd_seccomp(char *why, size_t why_len);

/*
 * Once the calling thread holds everything it needs privileges for:
 * incrfsd_drop_privileges() (privileges.h), then this filter.  What fails
 * is logged and the daemon serves anyway, less confined: a kernel without
 * seccomp, or a container that took the capabilities already, must not
 * stop it.  Called before any thread that serves is started.
 */
void incrfsd_confine(void);

#endif /* INCRFSD_SECCOMP_H */
