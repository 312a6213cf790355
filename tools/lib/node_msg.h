/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * node_msg.h - the messages between incrfsctl and a node's incrfsd
 * (incrfsd --node): one JSON object per SOCK_SEQPACKET message, a mount's
 * control fd passed along with SCM_RIGHTS.
 *
 * Why this exists: a container host runs one incrfsd for all its layers;
 * mounts come and go while it runs.  The caller that attaches a mount
 * (root, or the daemon's own user) opens the mount's control fd itself
 * and hands it over, so the daemon needs no privilege to serve it.
 * SOCK_SEQPACKET keeps message boundaries, so a request is one recvmsg().
 */
#ifndef INCRFS_NODE_MSG_H
#define INCRFS_NODE_MSG_H

#include <stddef.h>
#include <sys/types.h>

/* Where incrfsd --node listens unless told otherwise (--socket). */
#define INCRFS_NODE_SOCKET	"/run/incrfsd/node.sock"
/*
 * The longest message either side sends or takes: below what a unix
 * socket's default send buffer (net.core.wmem_default, 208 KiB) lets one
 * SOCK_SEQPACKET message be.
 */
#define INCRFS_NODE_MSG_MAX	(128U << 10)
/* File descriptors a message carries, at most. */
#define INCRFS_NODE_FDS_MAX	4

/*
 * Send @msg (a NUL-terminated JSON text) with @nfds descriptors.  0, or
 * -errno.
 */
int incrfs_node_send(int sock, const char *msg, const int *fds,
		     unsigned int nfds);
/*
 * Take one message into @buf (@len bytes, NUL-terminated on success) and
 * the descriptors that came with it into @fds (close-on-exec; *@nfds of
 * them; @fds may be NULL to take none: any that came are closed).
 * Returns the message's length, 0 at the end of the connection, or
 * -errno: -EMSGSIZE for a message or descriptor list too long (nothing
 * is kept then).
 */
ssize_t incrfs_node_recv(int sock, char *buf, size_t len, int *fds,
			 unsigned int *nfds);

/*
 * Connect to the node daemon at @path (NULL: INCRFS_NODE_SOCKET).  The
 * socket, or -errno.
 */
int incrfs_node_connect(const char *path);

struct json_object;

/*
 * Send request @req (and @fd if >= 0) to the daemon at @sock and take its
 * answer: the parsed object (the caller puts it), or NULL with the reason
 * in @err.
 */
struct json_object *incrfs_node_ask(const char *sock,
				    struct json_object *req, int fd,
				    char *err, size_t err_len);
/*
 * The daemon's list of mounts: {"ok": true, "memory_used": N,
 * "memory_max": N, "mounts": [...]} (the caller puts it), assembled from
 * the head and the one message per mount the daemon sends; or an answer
 * that is not ok; or NULL with the reason in @err.
 */
struct json_object *incrfs_node_list(const char *sock, char *err,
				     size_t err_len);
/*
 * 0 if answer @ans says ok; else the exit status it gives (incrfsd's: 1,
 * 2 or 3; 1 if none) with its reason in @err.
 */
int incrfs_node_answer_status(struct json_object *ans, char *err,
			      size_t err_len);
/*
 * Have the daemon at @sock serve the mount @mount (an absolute path) with
 * incrfsd's options @args (@nargs of them), handing it @control_fd (which
 * stays the caller's to close).  0 once it serves, else the exit status
 * incrfsd would have had, with the reason in @err.
 */
int incrfs_node_attach(const char *sock, const char *mount,
		       const char *const *args, unsigned int nargs,
		       int control_fd, char *err, size_t err_len);

#endif /* INCRFS_NODE_MSG_H */
