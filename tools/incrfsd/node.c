// SPDX-License-Identifier: GPL-2.0-only
/*
 * node.c - incrfsd --node: the socket, the requests and the table of
 * attached mounts (see node.h).
 *
 * Why this exists: the main thread only listens and keeps the table; each
 * mount's feeder (setup.c, feeder.c) runs in a thread of its own, so a
 * slow registry or a long fill of one mount never holds another's
 * readers or an incrfsctl request.  The threads tell the main thread
 * through an eventfd when they serve or end; the table, the state file
 * and systemd's fd store are only touched here.
 *
 * Requests (node_msg.h), one per connection, answered with
 * {"ok": true, ...} or {"ok": false, "error": "...", "exit": N}:
 *	{"op": "attach", "mount": PATH, "args": [OPTION, ...]} + control fd
 *		answered once the mount is served (or its set-up failed)
 *	{"op": "detach", "mount": PATH}	answered once its feeder stopped
 *	{"op": "list"}	{"ok": true, "memory_used": N, "memory_max": N,
 *			 "mounts_follow": N}, then N messages, one mount each
 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "json_add.h"
#include "log.h"
#include "node_msg.h"
#include "notify.h"
#include "seccomp.h"
#include "stop_signals.h"

enum { EV_SIGNAL, EV_LISTEN, EV_MOUNTS };

/* An incrfsctl request must arrive this soon after it connects (s). */
#define REQUEST_TIMEOUT_S	5

/* ---- answers ---- */

static void reply(int fd, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = s ? incrfs_node_send(fd, s, NULL, 0) : -ENOMEM;

	if (ret && ret != -EPIPE && ret != -ECONNRESET)
		log_warn("cannot answer incrfsctl: %s", strerror(-ret));
	json_object_put(o);
}

static void reply_ok(int fd)
{
	struct json_object *o = json_object_new_object();

	if (o && !incrfs_json_add(o, "ok", json_object_new_boolean(true)))
		reply(fd, o);
	else
		json_object_put(o);
}

static void reply_error(int fd, const char *why, int exit_status)
{
	struct json_object *o = json_object_new_object();

	if (o && !incrfs_json_add(o, "ok", json_object_new_boolean(false)) &&
	    !incrfs_json_add(o, "error", json_object_new_string(why)) &&
	    !incrfs_json_add(o, "exit", json_object_new_int(exit_status)))
		reply(fd, o);
	else
		json_object_put(o);
}

/* ---- the mount threads ---- */

static void poke(struct node *n)
{
	uint64_t one = 1;

	if (write(n->event_fd, &one, sizeof(one)) < 0)
		log_err("cannot wake the main thread: %s", strerror(errno));
}

static void *mount_thread(void *arg)
{
	struct node_mount *m = arg;
	int ret;

	incrfsd_log_thread(m->mount, m->error, sizeof(m->error));
	ret = feeder_setup_control(&m->f, &m->opt, m->control_fd);
	m->control_fd = -1;	/* the feeder's now, also on failure */
	if (!ret) {
		m->f.node = &m->node->share;
		m->f.stop_fd = m->stop_fd;
		if (feeder_take_memory(&m->f))
			ret = INCRFSD_EXIT_ERROR;
	}
	if (ret) {
		/* answered by the main thread, once our fds are closed */
		feeder_teardown(&m->f);
		m->exit_status = ret;
		atomic_store(&m->state, MOUNT_ENDED);
		poke(m->node);
		return NULL;
	}
	/* the main thread answers, once the mount is in the state file */
	atomic_store(&m->state, MOUNT_SERVING);
	poke(m->node);
	m->exit_status = feeder_serve(&m->f);
	atomic_store(&m->state, MOUNT_ENDED);
	poke(m->node);
	return NULL;
}

static void mount_free(struct node_mount *m)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < m->nargs; i++)
		free(m->args[i]);
	free(m->args);
	free(m->mount);
	if (m->control_fd >= 0)
		close(m->control_fd);
	if (m->keep_fd >= 0)
		close(m->keep_fd);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->reply_fd >= 0)
		close(m->reply_fd);
	if (m->detach_fd >= 0)
		close(m->detach_fd);
	free(m);
}

static struct node_mount *find(struct node *n, const char *mount)
{
	unsigned int i;

	for (i = 0; i < n->nr; i++)
		if (!strcmp(n->m[i]->mount, mount))
			return n->m[i];
	return NULL;
}

/*
 * Parse @m's options as incrfsd's command line would, refusing the ones
 * that are the node's.  0, or -1 with @why set.
 */
static int parse_mount_options(struct node_mount *m, char *why,
			       size_t why_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	unsigned int i, argc = 0;
	int ret;

	if (!err) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	m->argv[argc++] = "incrfsd";
	for (i = 0; i < m->nargs; i++)
		m->argv[argc++] = m->args[i];
	m->argv[argc++] = m->mount;
	m->argv[argc] = NULL;
	ret = incrfsd_parse_options(&m->opt, (int)argc, m->argv, err, err);
	fclose(err);
	if (ret == 0 && m->opt.node_opt) {
		snprintf(why, why_len,
			 "--%s is the node's option: give it to incrfsd --node",
			 m->opt.node_opt);
		ret = -1;
	} else if (ret > 0) {
		snprintf(why, why_len, "--help and --version are not for a mount");
		ret = -1;
	} else if (ret < 0) {
		/* "incrfsd: MESSAGE\n\nTry 'incrfsd --help'...": the message */
		const char *s = text && !strncmp(text, "incrfsd: ", 9) ?
				text + 9 : text ? text : "bad options";

		snprintf(why, why_len, "%.*s", (int)strcspn(s, "\n"), s);
	}
	free(text);
	return ret ? -1 : 0;
}

int node_attach(struct node *n, unsigned int id, const char *mount,
		char *const *args, unsigned int nargs, int control_fd,
		int reply_fd, char *why, size_t why_len)
{
	struct node_mount *m, **v;
	unsigned int i;
	int ret;

	if (find(n, mount)) {
		snprintf(why, why_len, "%s is attached already", mount);
		return -EEXIST;
	}
	if (n->nr == NODE_MOUNTS_MAX) {
		snprintf(why, why_len, "the node serves %d mounts, its most",
			 NODE_MOUNTS_MAX);
		return -ENOSPC;
	}
	if (nargs > NODE_ARGS_MAX) {
		snprintf(why, why_len, "more than %d options", NODE_ARGS_MAX);
		return -E2BIG;
	}
	m = calloc(1, sizeof(*m));
	v = reallocarray(n->m, n->nr + 1, sizeof(*v));
	if (!m || !v) {
		free(m);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	n->m = v;
	m->node = n;
	m->id = id;
	m->control_fd = m->keep_fd = m->stop_fd = -1;
	m->reply_fd = m->detach_fd = -1;
	atomic_init(&m->state, MOUNT_STARTING);
	m->mount = strdup(mount);
	m->args = calloc(nargs ? nargs : 1, sizeof(*m->args));
	ret = m->mount && m->args ? 0 : -ENOMEM;
	for (i = 0; !ret && i < nargs; i++) {
		m->args[i] = strdup(args[i]);
		if (!m->args[i])
			ret = -ENOMEM;
		else
			m->nargs++;
	}
	if (ret) {
		snprintf(why, why_len, "out of memory");
		goto fail;
	}
	if (parse_mount_options(m, why, why_len)) {
		ret = -EINVAL;
		goto fail;
	}
	m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->keep_fd = fcntl(control_fd, F_DUPFD_CLOEXEC, 3);
	if (m->stop_fd < 0 || m->keep_fd < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
		goto fail;
	}
	m->control_fd = control_fd;
	m->reply_fd = reply_fd;
	ret = -pthread_create(&m->thread, NULL, mount_thread, m);
	if (ret) {
		m->control_fd = -1;	/* the caller's still */
		m->reply_fd = -1;
		snprintf(why, why_len, "cannot start its thread: %s",
			 strerror(-ret));
		goto fail;
	}
	m->started = true;
	n->m[n->nr++] = m;
	if (id >= n->next_id)
		n->next_id = id + 1;
	return 0;
fail:
	mount_free(m);
	return ret;
}

/* ---- requests ---- */

static const char *str_of(struct json_object *req, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void do_attach(struct node *n, int fd, struct json_object *req,
		      int *fds, unsigned int nfds)
{
	const char *mount = str_of(req, "mount");
	char *args[NODE_ARGS_MAX];
	struct json_object *a, *v;
	char why[512];
	size_t i, nargs;
	int ret;

	if (!mount || mount[0] != '/' || nfds != 1 ||
	    !json_object_object_get_ex(req, "args", &a) ||
	    !json_object_is_type(a, json_type_array)) {
		reply_error(fd, "attach needs an absolute mount, its options and its control fd",
			    INCRFSD_EXIT_USAGE);
		goto out;
	}
	nargs = json_object_array_length(a);
	if (nargs > NODE_ARGS_MAX) {
		reply_error(fd, "too many options", INCRFSD_EXIT_USAGE);
		goto out;
	}
	for (i = 0; i < nargs; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string)) {
			reply_error(fd, "an option is not a string",
				    INCRFSD_EXIT_USAGE);
			goto out;
		}
		args[i] = (char *)json_object_get_string(v);
	}
	ret = node_attach(n, n->next_id, mount, args, (unsigned int)nargs,
			  fds[0], fd, why, sizeof(why));
	if (ret) {
		reply_error(fd, why, ret == -EINVAL || ret == -E2BIG ?
			    INCRFSD_EXIT_USAGE : INCRFSD_EXIT_ERROR);
		goto out;
	}
	log_info("%s: attached (%zu options)", mount, nargs);
	return;		/* the mount's thread answers and closes both fds */
out:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	close(fd);
}

static void do_detach(struct node *n, int fd, struct json_object *req)
{
	const char *mount = str_of(req, "mount");
	struct node_mount *m = mount ? find(n, mount) : NULL;
	uint64_t one = 1;

	if (!m) {
		reply_error(fd, "not attached to this node", INCRFSD_EXIT_ERROR);
		close(fd);
		return;
	}
	if (m->detach_fd >= 0) {
		reply_error(fd, "being detached already", INCRFSD_EXIT_ERROR);
		close(fd);
		return;
	}
	m->detach_fd = fd;	/* answered when its thread has ended */
	if (!m->stop_sent && write(m->stop_fd, &one, sizeof(one)) < 0)
		log_err("%s: cannot stop its feeder: %s", m->mount,
			strerror(errno));
	m->stop_sent = true;
}

static struct json_object *mount_json(struct node_mount *m)
{
	static const char *const state[] = {
		[MOUNT_STARTING] = "starting", [MOUNT_SERVING] = "serving",
		[MOUNT_ENDED] = "ended",
	};
	struct json_object *o = json_object_new_object(), *a;
	struct incrfs_stats st;
	unsigned int i;
	int s = atomic_load(&m->state);
	/* a detach is answered once the feeder stopped: say it waits */
	const char *name = m->detach_fd >= 0 ? "detaching" : state[s];

	if (!o || incrfs_json_add(o, "args", json_object_new_array()) ||
	    incrfs_json_add(o, "mount", json_object_new_string(m->mount)) ||
	    incrfs_json_add(o, "state", json_object_new_string(name)))
		goto fail;
	json_object_object_get_ex(o, "args", &a);
	for (i = 0; i < m->nargs; i++)
		if (json_object_array_add(a, json_object_new_string(m->args[i])))
			goto fail;
	/* the kernel's counters, through our own copy of the control fd */
	if (m->keep_fd >= 0 &&
	    !ioctl(m->keep_fd, INCRFS_IOC_GET_STATS, &st) &&
	    (incrfs_json_add_u64(o, "blocks_present", st.blocks_present) ||
	     incrfs_json_add_u64(o, "blocks_total", st.blocks_total) ||
	     incrfs_json_add_u64(o, "waits", st.waits) ||
	     incrfs_json_add(o, "complete",
			     json_object_new_boolean(st.complete))))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/*
 * The list: a head with the count, then one message per mount (a node's
 * list can outgrow what one SOCK_SEQPACKET message may carry).
 */
static void do_list(struct node *n, int fd)
{
	struct json_object *o = json_object_new_object(), *e;
	unsigned int i;

	if (!o || incrfs_json_add(o, "ok", json_object_new_boolean(true)) ||
	    incrfs_json_add_u64(o, "memory_used", node_share_used(&n->share)) ||
	    incrfs_json_add_u64(o, "memory_max", n->share.memory_max) ||
	    incrfs_json_add_u64(o, "mounts_follow", n->nr)) {
		json_object_put(o);
		reply_error(fd, "out of memory", INCRFSD_EXIT_ERROR);
		close(fd);
		return;
	}
	reply(fd, o);
	for (i = 0; i < n->nr; i++) {
		e = mount_json(n->m[i]);
		if (!e)
			e = json_object_new_object();	/* keeps the count */
		if (e)
			reply(fd, e);
	}
	close(fd);
}

/* Only root and our own user may attach, detach or look. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void handle_client(struct node *n)
{
	struct timeval tv = { .tv_sec = REQUEST_TIMEOUT_S };
	int fds[INCRFS_NODE_FDS_MAX];
	struct json_object *req = NULL;
	unsigned int nfds = 0, i;
	const char *op;
	char *buf;
	ssize_t len;
	int fd;

	fd = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	if (!peer_allowed(fd)) {
		reply_error(fd, "permission denied: only root and incrfsd's user may talk to the node",
			    INCRFSD_EXIT_ERROR);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf = malloc(INCRFS_NODE_MSG_MAX + 1);
	len = buf ? incrfs_node_recv(fd, buf, INCRFS_NODE_MSG_MAX + 1, fds,
				     &nfds) : -ENOMEM;
	if (len > 0)
		req = json_tokener_parse(buf);
	free(buf);
	if (len <= 0 || !req || !json_object_is_type(req, json_type_object)) {
		if (len != 0)
			reply_error(fd, len < 0 ? strerror((int)-len) :
				    "the request is not a JSON object",
				    INCRFSD_EXIT_USAGE);
		goto fail;
	}
	op = str_of(req, "op");
	if (op && !strcmp(op, "attach")) {
		do_attach(n, fd, req, fds, nfds);
		json_object_put(req);
		return;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	nfds = 0;
	if (op && !strcmp(op, "detach"))
		do_detach(n, fd, req);
	else if (op && !strcmp(op, "list"))
		do_list(n, fd);
	else {
		reply_error(fd, "unknown request", INCRFSD_EXIT_USAGE);
		close(fd);
	}
	json_object_put(req);
	return;
fail:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	json_object_put(req);
	close(fd);
}

/* ---- what the threads did ---- */

static void status(struct node *n)
{
	char state[128];
	unsigned int i, serving = 0;

	for (i = 0; i < n->nr; i++)
		serving += atomic_load(&n->m[i]->state) == MOUNT_SERVING;
	snprintf(state, sizeof(state), "STATUS=serving %u mounts", serving);
	incrfsd_notify(state);
}

static void save(struct node *n)
{
	int ret;

	if (n->stopping)
		return;		/* the list stays for the next start */
	ret = node_state_save(n);
	if (ret)
		log_err("cannot write %s: %s; a restart will not serve the mounts attached since",
			n->state_file, strerror(-ret));
}

/*
 * Free @m, whose thread has ended, and then answer who waits for that:
 * the incrfsctl detach, or the attach that did not come to serve.
 */
static void answer(struct node *n, struct node_mount *m)
{
	int detach_fd = m->detach_fd, reply_fd = m->reply_fd;
	int status = m->exit_status;
	char why[sizeof(m->error)];
	/* stopped or detached before it was announced: it never served */
	bool unserved = n->stopping || detach_fd >= 0;

	if (detach_fd >= 0 && !status)
		snprintf(why, sizeof(why),
			 "detached (incrfsctl detach) before the mount was served");
	else if (n->stopping && !status)
		snprintf(why, sizeof(why),
			 "incrfsd --node stopped before the mount was served");
	else
		snprintf(why, sizeof(why), "%s",
			 m->error[0] ? m->error : "cannot serve the mount");
	m->detach_fd = m->reply_fd = -1;
	mount_free(m);
	if (detach_fd >= 0) {
		reply_ok(detach_fd);
		close(detach_fd);
	}
	if (reply_fd >= 0) {
		/* status 0 otherwise: complete, it was to exit then */
		if (status || unserved)
			reply_error(reply_fd, why,
				    status ? status : INCRFSD_EXIT_ERROR);
		else
			reply_ok(reply_fd);
		close(reply_fd);
	}
}

/*
 * Mounts that began to serve: into the state file and the fd store, then
 * their attach is answered.  Mounts being detached: out of both first
 * (once the state file says so, a restart cannot bring them back).
 */
static void announce(struct node *n)
{
	unsigned int i;
	bool changed = false;

	for (i = 0; i < n->nr; i++) {
		struct node_mount *m = n->m[i];

		if (m->detach_fd >= 0 && m->announced) {
			m->announced = false;
			node_fd_store(m, false);
			changed = true;
		}
		if (m->announced || m->detach_fd >= 0 ||
		    atomic_load(&m->state) != MOUNT_SERVING)
			continue;
		m->announced = true;
		node_fd_store(m, true);
		changed = true;
	}
	if (changed)
		save(n);
	for (i = 0; i < n->nr; i++) {
		struct node_mount *m = n->m[i];

		if (m->announced && m->reply_fd >= 0) {
			reply_ok(m->reply_fd);
			close(m->reply_fd);
			m->reply_fd = -1;
		}
	}
}

/* Mounts that began to serve, and mounts whose thread ended. */
static void reap(struct node *n)
{
	struct node_mount **ended;
	unsigned int i = 0, nr_ended = 0;
	uint64_t v;

	if (read(n->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err("mount events: %s", strerror(errno));
	announce(n);
	ended = calloc(n->nr ? n->nr : 1, sizeof(*ended));
	if (!ended) {
		log_err("out of memory reaping the mounts' threads");
		return;		/* the next event tries again */
	}
	while (i < n->nr) {
		struct node_mount *m = n->m[i];

		if (atomic_load(&m->state) != MOUNT_ENDED) {
			i++;
			continue;
		}
		pthread_join(m->thread, NULL);
		if (m->announced)
			log_info("%s: no longer served (%s)", m->mount,
				 m->exit_status ? "an error" :
				 "unmounted or complete");
		else if (m->stop_sent)
			log_info("%s: detached", m->mount);
		/* out of the fd store too if never announced: a kept fd */
		if (!n->stopping)
			node_fd_store(m, false);
		ended[nr_ended++] = m;
		n->m[i] = n->m[--n->nr];
	}
	/* the state file first: an answer means a restart agrees */
	if (nr_ended) {
		save(n);
		status(n);
	}
	for (i = 0; i < nr_ended; i++)
		answer(n, ended[i]);
	free(ended);
}

/* ---- start and stop ---- */

/* Listen on --socket; refuse to take it from a daemon that answers. */
static int listen_on(struct node *n, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("--socket %s: the path is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_err("%s: %s", dir, strerror(errno));
			return -1;
		}
	}
	fd = incrfs_node_connect(path);
	if (fd >= 0) {
		close(fd);
		log_err("another incrfsd --node listens on %s", path);
		return -1;
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);	/* a daemon that died left it */
	}
	n->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
			      SOCK_NONBLOCK, 0);
	if (n->listen_fd < 0 ||
	    bind(n->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(n->listen_fd, 128) < 0) {
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int watch(struct node *n, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(n->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int start(struct node *n)
{
	/* every thread inherits the mask: the stop signals come here */
	n->signal_fd = incrfsd_stop_signalfd();
	n->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	n->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->signal_fd < 0 || n->epoll_fd < 0 || n->event_fd < 0) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	if (mkdir(n->o->state_dir, 0700) < 0 && errno != EEXIST) {
		log_err("--state-dir %s: %s", n->o->state_dir, strerror(errno));
		return -1;
	}
	snprintf(n->state_file, sizeof(n->state_file), "%s/mounts.json",
		 n->o->state_dir);
	if (listen_on(n, n->o->socket))
		return -1;
	if (watch(n, n->signal_fd, EV_SIGNAL) ||
	    watch(n, n->listen_fd, EV_LISTEN) ||
	    watch(n, n->event_fd, EV_MOUNTS)) {
		log_err("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Stop every mount's feeder and wait for them; the state file stays. */
static void stop_all(struct node *n)
{
	uint64_t one = 1;
	unsigned int i;

	/* what serves stays for the next start; what is detached goes */
	announce(n);
	n->stopping = true;
	for (i = 0; i < n->nr; i++)
		if (!n->m[i]->stop_sent &&
		    write(n->m[i]->stop_fd, &one, sizeof(one)) == sizeof(one))
			n->m[i]->stop_sent = true;
	for (i = 0; i < n->nr; i++) {
		pthread_join(n->m[i]->thread, NULL);
		answer(n, n->m[i]);
	}
	n->nr = 0;
	free(n->m);
	n->m = NULL;
}

static int loop(struct node *n)
{
	struct epoll_event ev[16];
	struct signalfd_siginfo si;
	int i, k;

	for (;;) {
		k = epoll_wait(n->epoll_fd, ev, 16, -1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return INCRFSD_EXIT_ERROR;
		}
		for (i = 0; i < k; i++) {
			switch (ev[i].data.u32) {
			case EV_SIGNAL:
				if (read(n->signal_fd, &si, sizeof(si)) !=
				    sizeof(si))
					break;
				log_info("stopping on %s; the %u mounts stay attached for the next start",
					 strsignal((int)si.ssi_signo), n->nr);
				return INCRFSD_EXIT_OK;
			case EV_LISTEN:
				handle_client(n);
				break;
			case EV_MOUNTS:
				reap(n);
				break;
			}
		}
	}
}

int node_main(const struct incrfsd_options *o)
{
	struct node n = { .o = o, .listen_fd = -1, .signal_fd = -1,
			  .epoll_fd = -1, .event_fd = -1, .next_id = 1 };
	int ret = INCRFSD_EXIT_ERROR;

	node_share_init(&n.share, o->memory_max);
	if (start(&n))
		goto out;
	/*
	 * The control fds of the last run first (opened anew they need
	 * CAP_SYS_ADMIN), then every capability dropped, and only then a
	 * thread started: capabilities are per thread.
	 */
	node_state_restore(&n);
	incrfsd_confine();
	node_state_start(&n);
	log_info("node: listening on %s, %u mounts from %s, memory budget %llu MiB",
		 o->socket, n.nr, n.state_file,
		 (unsigned long long)(o->memory_max >> 20));
	ret = incrfsd_notify("READY=1\nSTATUS=listening");
	if (ret)
		log_warn("cannot notify the service manager ($NOTIFY_SOCKET): %s",
			 strerror(-ret));
	ret = loop(&n);
	stop_all(&n);
out:
	if (n.listen_fd >= 0) {
		close(n.listen_fd);
		unlink(o->socket);
	}
	if (n.signal_fd >= 0)
		close(n.signal_fd);
	if (n.epoll_fd >= 0)
		close(n.epoll_fd);
	if (n.event_fd >= 0)
		close(n.event_fd);
	return ret;
}
