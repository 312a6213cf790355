/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * registry_push.h - push a blob to a registry on 127.0.0.1 through the
 * registry HTTP API v2, as a guest test's fixture: POST
 * /v2/REPO/blobs/uploads/ (202, Location), then one monolithic PUT of the
 * whole blob to LOCATION&digest=sha256:HEX (201).
 *
 * Why this exists: the guest has no curl and busybox wget cannot PUT; the
 * test programs are static and Debian has no usable static libcurl.  Two
 * HTTP/1.1 requests over a plain socket are enough for a loopback registry.
 *
 * Header-only (static inline) because each *_test.c is built alone.
 */
#ifndef INCRFS_REGISTRY_PUSH_H
#define INCRFS_REGISTRY_PUSH_H

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sha256.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"

#define RP_REGISTRY "/usr/bin/docker-registry"

/* Send all of @buf; 0 or -1. */
static inline int rp_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One request to 127.0.0.1:@port with "Connection: close" and a body of
 * type @ctype; the response head (up to @cap - 1 bytes) lands
 * NUL-terminated in @resp.  Returns the HTTP status, or -1 (connect, I/O,
 * 10 s timeout, no status line).
 */
static inline int rp_request_ct(int port, const char *method,
				const char *path, const char *ctype,
				const void *body, size_t len, char *resp,
				size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	size_t got = 0;
	char head[1024];
	int fd, status = -1;
	ssize_t n;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out;
	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Content-Type: %s\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		 method, path, port, ctype, len);
	if (rp_send(fd, head, strlen(head)) || (len && rp_send(fd, body, len)))
		goto out;
	while (got + 1 < cap &&
	       (n = recv(fd, resp + got, cap - 1 - got, 0)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
out:
	close(fd);
	return status;
}

/* rp_request_ct() of an application/octet-stream body. */
static inline int rp_request(int port, const char *method, const char *path,
			     const void *body, size_t len, char *resp,
			     size_t cap)
{
	return rp_request_ct(port, method, path, "application/octet-stream",
			     body, len, resp, cap);
}

/* The value of response header @name (case-insensitive) into @out. */
static inline int rp_header(const char *resp, const char *name, char *out,
			    size_t cap)
{
	size_t nl = strlen(name), len;
	const char *l;

	for (l = strstr(resp, "\r\n"); l && l[2] != '\r';
	     l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, name, nl) || l[2 + nl] != ':')
			continue;
		l += 2 + nl + 1;
		while (*l == ' ')
			l++;
		len = strcspn(l, "\r\n");
		if (len >= cap)
			return -1;
		memcpy(out, l, len);
		out[len] = '\0';
		return 0;
	}
	return -1;
}

/*
 * Push @len bytes at @blob to repository @repo of the registry on
 * 127.0.0.1:@port.  @digest gets "sha256:HEX".  0, or -1 with @why set.
 */
static inline int rp_push_blob(int port, const char *repo, const void *blob,
			       size_t len, char digest[72], char *why,
			       size_t whylen)
{
	uint8_t h[INCRFS_SHA256_SIZE];
	char resp[4096], loc[2048], path[2300];
	const char *p;
	int st, i;

	if (incrfs_sha256(blob, len, h)) {
		snprintf(why, whylen, "sha256 failed");
		return -1;
	}
	strcpy(digest, "sha256:");
	for (i = 0; i < INCRFS_SHA256_SIZE; i++)
		sprintf(digest + 7 + 2 * i, "%02x", h[i]);
	snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", repo);
	st = rp_request(port, "POST", path, NULL, 0, resp, sizeof(resp));
	if (st != 202 || rp_header(resp, "Location", loc, sizeof(loc))) {
		snprintf(why, whylen, "POST %.100s: HTTP %d: %.200s", path, st,
			 resp);
		return -1;
	}
	/* the Location may be absolute: keep the path */
	p = loc;
	if (!strncmp(p, "http://", 7)) {
		p = strchr(p + 7, '/');
		if (!p) {
			snprintf(why, whylen, "bad Location %.200s", loc);
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s%sdigest=%s", p,
		 strchr(p, '?') ? "&" : "?", digest);
	st = rp_request(port, "PUT", path, blob, len, resp, sizeof(resp));
	if (st != 201) {
		snprintf(why, whylen, "PUT: HTTP %d: %.200s", st, resp);
		return -1;
	}
	return 0;
}

/*
 * PUT the manifest @body (@len bytes, media type @ctype) as @repo:@tag.
 * 0, or -1 with @why set.
 */
static inline int rp_push_manifest(int port, const char *repo,
				   const char *tag, const char *ctype,
				   const void *body, size_t len, char *why,
				   size_t whylen)
{
	char resp[4096], path[512];
	int st;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, tag);
	st = rp_request_ct(port, "PUT", path, ctype, body, len, resp,
			   sizeof(resp));
	if (st != 201) {
		snprintf(why, whylen, "PUT %.100s: HTTP %d: %.300s", path, st,
			 resp);
		return -1;
	}
	return 0;
}

/*
 * Push the OCI layout @dir's image (the manifest its index.json names
 * first) to @repo:@tag: every blob of the layout, then the manifest.
 * 0, or -1 with @why set.
 */
static inline int rp_push_layout(int port, const char *dir, const char *repo,
				 const char *tag, char *why, size_t whylen)
{
	char path[4400], digest[72], got[72], *index, *p;
	unsigned char *buf;
	struct dirent *de;
	size_t len;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%.4000s/index.json", dir);
	index = pu_read_text(path);
	p = index ? strstr(index, "\"digest\":\"") : NULL;
	if (!p || sscanf(p + 10, "%71[^\"]", digest) != 1) {
		free(index);
		snprintf(why, whylen, "%.200s: no manifest in index.json", dir);
		return -1;
	}
	free(index);
	snprintf(path, sizeof(path), "%.4000s/blobs/sha256", dir);
	d = opendir(path);
	if (!d) {
		snprintf(why, whylen, "%.200s: no blobs", dir);
		return -1;
	}
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%.4000s/blobs/sha256/%.100s", dir,
			 de->d_name);
		buf = iu_slurp(path, &len);
		ret = buf ? rp_push_blob(port, repo, buf, len, got, why,
					 whylen) : -1;
		free(buf);
	}
	closedir(d);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%.4000s/blobs/sha256/%s", dir,
		 digest + 7);
	buf = iu_slurp(path, &len);
	ret = buf ? rp_push_manifest(port, repo, tag,
				     "application/vnd.oci.image.manifest.v1+json",
				     buf, len, why, whylen) : -1;
	free(buf);
	return ret;
}

/*
 * Write @config to @cfg and start docker-registry with it, logging to
 * @log; once GET /v2/ on 127.0.0.1:@port answers (200; 401 where the
 * configuration asks for authentication; 400 where it serves https, which
 * answers a plain http request so), its pid, else -1.
 */
static inline pid_t rp_start_registry(const char *cfg, const char *config,
				      int port, const char *log)
{
	const char *argv[] = { RP_REGISTRY, "serve", cfg, NULL };
	char resp[1024];
	pid_t pid;
	int i, st;

	if (iu_write_file(cfg, config, strlen(config), 0644))
		return -1;
	pid = pu_spawn(log, argv);
	for (i = 0; i < 600 && pid > 0; i++) {	/* 30 s: TCG is slow */
		st = rp_request(port, "GET", "/v2/", NULL, 0, resp,
				sizeof(resp));
		if (st == 200 || st == 401 || st == 400)
			return pid;
		if (pu_wait_exit(pid, 50) >= 0)
			return -1;	/* it died */
	}
	pu_kill(&pid);
	return -1;
}

#endif /* INCRFS_REGISTRY_PUSH_H */
