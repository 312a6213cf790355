/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * notify.h - tell the service manager how incrfsd is doing (systemd's
 * sd_notify protocol), so that "systemctl start incrfsd@..." returns once
 * the feeder serves its mount, and fails when it cannot.
 */
#ifndef INCRFSD_NOTIFY_H
#define INCRFSD_NOTIFY_H

/*
 * Send @state ("READY=1", "STATUS=...", "STOPPING=1", several separated
 * by newlines) to $NOTIFY_SOCKET.  0 if sent or if no manager listens
 * (the variable is unset), else a negative errno.
 */
int incrfsd_notify(const char *state);
/*
 * The same with the file descriptor @fd attached (SCM_RIGHTS), as
 * "FDSTORE=1" wants; @fd < 0: none.
 */
int incrfsd_notify_fd(const char *state, int fd);

#endif /* INCRFSD_NOTIFY_H */
