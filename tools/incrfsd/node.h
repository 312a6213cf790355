/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * node.h - incrfsd --node: one process feeding every incrfs mount of a
 * node, attached and detached at run time (incrfsctl attach, detach,
 * feeders) through a unix socket.
 *
 * Why this exists: a container host has hundreds of layers; one feeder
 * process per layer costs a process, a set of HTTP connections and a
 * privileged start-up each, and knows nothing of the others' readers.
 * The node's mounts are kept in a state file so that a daemon started
 * again (after a crash, an upgrade, SIGKILL) serves them all again; the
 * kernel hands it every read still waiting.
 */
#ifndef INCRFSD_NODE_H
#define INCRFSD_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "feeder_priv.h"
#include "node_share.h"
#include "options.h"

/* Attached mounts, at most. */
#define NODE_MOUNTS_MAX		4096
/* incrfsd options one mount may be given, at most. */
#define NODE_ARGS_MAX		64

enum node_mount_state { MOUNT_STARTING, MOUNT_SERVING, MOUNT_ENDED };

struct node;

/* One attached mount; its feeder runs in a thread of its own. */
struct node_mount {
	struct node *node;
	unsigned int id;		/* FDNAME=m<id> in systemd's fd store */
	char *mount;			/* absolute path, as attached */
	char **args;			/* its incrfsd options */
	unsigned int nargs;
	char *argv[NODE_ARGS_MAX + 3];	/* "incrfsd", args, mount, NULL */
	struct incrfsd_options opt;	/* points into args */
	struct feeder f;		/* the thread's */
	int control_fd;			/* until the thread takes it */
	int keep_fd;			/* a dup for systemd's fd store, or -1 */
	int stop_fd;			/* eventfd: detach */
	int reply_fd;			/* the attach to answer, or -1 */
	int detach_fd;			/* the detach to answer, or -1 */
	pthread_t thread;
	bool started, announced, stop_sent;
	atomic_int state;		/* enum node_mount_state */
	int exit_status;		/* once ENDED */
	char error[512];		/* the last error its thread logged */
};

/* A mount of the last run, its control fd taken back, to attach again. */
struct node_restored {
	unsigned int id;
	char *mount;
	char **args;
	unsigned int nargs;
	int fd;
	bool kept;			/* from systemd's fd store */
};

struct node {
	const struct incrfsd_options *o;
	int listen_fd, signal_fd, epoll_fd;
	int event_fd;			/* a mount thread changed state */
	struct node_mount **m;
	unsigned int nr;
	unsigned int next_id;
	bool stopping;
	struct node_share share;
	char state_file[4096];
	struct node_restored *restored;	/* until node_state_start() */
	unsigned int nr_restored;
};

/* node.c */
int node_main(const struct incrfsd_options *o);

/* node_state.c: the list of mounts in DIR/mounts.json. */
/* Write it (atomically) from n's mounts that serve.  0 or -errno. */
int node_state_save(struct node *n);
/*
 * Take back the control fds of the mounts the file lists: from systemd's
 * fd store ($LISTEN_FDS) if there, else opened anew (which needs
 * CAP_SYS_ADMIN).  Mounts whose fd cannot be had are logged and left
 * out.  No thread is started yet.
 */
void node_state_restore(struct node *n);
/* Attach the mounts node_state_restore() took back (privileges dropped). */
void node_state_start(struct node *n);
/* Keep @m's control fd in systemd's fd store, or take it out of it. */
void node_fd_store(struct node_mount *m, bool keep);

/* node.c, for node_state.c: attach @mount with @args and @control_fd. */
int node_attach(struct node *n, unsigned int id, const char *mount,
		char *const *args, unsigned int nargs, int control_fd,
		int reply_fd, char *why, size_t why_len);

#endif /* INCRFSD_NODE_H */
