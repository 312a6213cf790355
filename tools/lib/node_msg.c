// SPDX-License-Identifier: GPL-2.0-only
/*
 * node_msg.c - sending and taking incrfsctl <-> incrfsd --node messages
 * (see node_msg.h).
 */
#include "node_msg.h"
#include "json_add.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int incrfs_node_send(int sock, const char *msg, const int *fds,
		     unsigned int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * INCRFS_NODE_FDS_MAX)];
	} ctl;
	size_t len = strlen(msg);
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (len > INCRFS_NODE_MSG_MAX || nfds > INCRFS_NODE_FDS_MAX)
		return -EMSGSIZE;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* Close the descriptors of every SCM_RIGHTS message of @mh. */
static void close_passed(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t i, n;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
}

ssize_t incrfs_node_recv(int sock, char *buf, size_t len, int *fds,
			 unsigned int *nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * INCRFS_NODE_FDS_MAX)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len ? len - 1 : 0 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	unsigned int n = 0;
	ssize_t got;

	if (nfds)
		*nfds = 0;
	if (!len)
		return -EMSGSIZE;
	do {
		got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_passed(&mh);
		return -EMSGSIZE;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t i, k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (fds && n < INCRFS_NODE_FDS_MAX)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	if (nfds)
		*nfds = n;
	buf[got] = '\0';
	return got;
}

int incrfs_node_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path)
		path = INCRFS_NODE_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Take one message of @s as a JSON object; NULL with the reason. */
static struct json_object *take(int s, const char *sock, char *buf,
				char *err, size_t err_len)
{
	struct json_object *o;
	ssize_t len = incrfs_node_recv(s, buf, INCRFS_NODE_MSG_MAX + 1, NULL,
				       NULL);

	if (len <= 0) {
		snprintf(err, err_len, "%s: %s", sock, len ?
			 strerror((int)-len) :
			 "the daemon closed the connection without an answer (did it stop?)");
		return NULL;
	}
	o = json_tokener_parse(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, err_len, "%s: the answer is not a JSON object",
			 sock);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Connect and send @req (and @fd): the socket, or -1 with the reason. */
static int request(const char *sock, struct json_object *req, int fd,
		   char *err, size_t err_len)
{
	const char *text = json_object_to_json_string_ext(req,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE);
	int s, ret;

	s = incrfs_node_connect(sock);
	if (s < 0) {
		snprintf(err, err_len, "%s: %s%s", sock, strerror(-s),
			 s == -ENOENT || s == -ECONNREFUSED ?
			 " (no incrfsd --node listens there)" : "");
		return -1;
	}
	ret = text ? incrfs_node_send(s, text, &fd, fd >= 0) : -ENOMEM;
	if (ret) {
		snprintf(err, err_len, "%s: %s", sock, strerror(-ret));
		close(s);
		return -1;
	}
	return s;
}

struct json_object *incrfs_node_ask(const char *sock,
				    struct json_object *req, int fd,
				    char *err, size_t err_len)
{
	struct json_object *ans = NULL;
	char *buf;
	int s;

	if (!sock)
		sock = INCRFS_NODE_SOCKET;
	s = request(sock, req, fd, err, err_len);
	if (s < 0)
		return NULL;
	buf = malloc(INCRFS_NODE_MSG_MAX + 1);
	if (buf)
		ans = take(s, sock, buf, err, err_len);
	else
		snprintf(err, err_len, "out of memory");
	free(buf);
	close(s);
	return ans;
}

struct json_object *incrfs_node_list(const char *sock, char *err,
				     size_t err_len)
{
	struct json_object *req = json_object_new_object(), *head = NULL;
	struct json_object *mounts, *v, *e;
	char *buf = malloc(INCRFS_NODE_MSG_MAX + 1);
	uint64_t i, nr;
	int s = -1;

	if (!sock)
		sock = INCRFS_NODE_SOCKET;
	if (!req || !buf ||
	    incrfs_json_add(req, "op", json_object_new_string("list"))) {
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	s = request(sock, req, -1, err, err_len);
	if (s < 0)
		goto out;
	head = take(s, sock, buf, err, err_len);
	if (!head || !json_object_object_get_ex(head, "mounts_follow", &v))
		goto out;	/* NULL, or an answer that is not ok */
	nr = json_object_get_uint64(v);
	json_object_object_del(head, "mounts_follow");
	if (incrfs_json_add(head, "mounts", json_object_new_array())) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	json_object_object_get_ex(head, "mounts", &mounts);
	for (i = 0; i < nr; i++) {
		e = take(s, sock, buf, err, err_len);
		if (!e)
			goto fail;
		if (json_object_array_add(mounts, e)) {
			json_object_put(e);
			snprintf(err, err_len, "out of memory");
			goto fail;
		}
	}
	goto out;
fail:
	json_object_put(head);
	head = NULL;
out:
	if (s >= 0)
		close(s);
	free(buf);
	json_object_put(req);
	return head;
}

int incrfs_node_answer_status(struct json_object *ans, char *err,
			      size_t err_len)
{
	struct json_object *v;
	int status = 1;

	if (json_object_object_get_ex(ans, "ok", &v) &&
	    json_object_get_boolean(v))
		return 0;
	if (json_object_object_get_ex(ans, "exit", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int(v) > 0 && json_object_get_int(v) < 126)
		status = json_object_get_int(v);
	snprintf(err, err_len, "%s",
		 json_object_object_get_ex(ans, "error", &v) ?
		 json_object_get_string(v) : "refused");
	return status;
}

int incrfs_node_attach(const char *sock, const char *mount,
		       const char *const *args, unsigned int nargs,
		       int control_fd, char *err, size_t err_len)
{
	struct json_object *req = json_object_new_object(), *a, *ans, *v;
	unsigned int i;
	int ret = 1;

	if (!req || incrfs_json_add(req, "op", json_object_new_string("attach")) ||
	    incrfs_json_add(req, "mount", json_object_new_string(mount)) ||
	    incrfs_json_add(req, "args", json_object_new_array()))
		goto oom;
	json_object_object_get_ex(req, "args", &a);
	for (i = 0; i < nargs; i++) {
		v = json_object_new_string(args[i]);
		if (!v || json_object_array_add(a, v)) {
			json_object_put(v);
			goto oom;
		}
	}
	ans = incrfs_node_ask(sock, req, control_fd, err, err_len);
	if (ans)
		ret = incrfs_node_answer_status(ans, err, err_len);
	json_object_put(ans);
	json_object_put(req);
	return ret;
oom:
	json_object_put(req);
	snprintf(err, err_len, "out of memory");
	return 1;
}
