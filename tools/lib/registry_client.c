// SPDX-License-Identifier: GPL-2.0-only
/*
 * registry_client.c - whole-object GETs from an OCI registry, with token
 * or Basic authentication and retries while the registry is down.
 *
 * Why this exists: see registry_client.h.
 */
#include "registry_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "curl_lib.h"
#include "registry_auth.h"

#define ATTEMPTS		4
#define CONNECT_TIMEOUT_S	10L
#define STALL_TIMEOUT_S		30L

struct registry_client {
	const struct curl_lib *cu;
	CURL *curl;
	struct registry_auth *auth;
	unsigned int auth_gen;
	char host[256];
	bool tls;
};

/* One transfer's state, for the callbacks. */
struct xfer {
	int fd;
	char *buf;
	size_t len, cap;
	uint64_t max;
	bool too_big, write_failed;
	char www_auth[2048];
	char ctype[128];
};

struct registry_client *registry_client_new(const char *host, bool tls,
					    void (*note)(const char *msg),
					    char *err, size_t err_len)
{
	struct registry_client *rc = calloc(1, sizeof(*rc));

	if (!rc) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	rc->cu = curl_lib_get(err, err_len);
	if (!rc->cu)
		goto fail;
	snprintf(rc->host, sizeof(rc->host), "%s", host);
	rc->tls = tls;
	rc->curl = rc->cu->easy_init();
	rc->auth = registry_auth_new(rc->cu, host, tls, note);
	if (!rc->curl || !rc->auth) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	return rc;
fail:
	registry_client_free(rc);
	return NULL;
}

void registry_client_free(struct registry_client *rc)
{
	if (!rc)
		return;
	if (rc->curl)
		rc->cu->easy_cleanup(rc->curl);
	registry_auth_free(rc->auth);
	free(rc);
}

/* Copy header @name's value from the line @p (@len bytes) into @out. */
static bool header_value(const char *p, size_t len, const char *name,
			 char *out, size_t out_len)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(p, name, n))
		return false;
	p += n;
	len -= n;
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	if (len >= out_len)
		len = 0;	/* nothing we could use */
	memcpy(out, p, len);
	out[len] = 0;
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	char tmp[sizeof(x->www_auth)];

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		x->www_auth[0] = 0;	/* a new response (after a redirect) */
		x->ctype[0] = 0;
		x->len = 0;
	} else if (header_value(p, len, "WWW-Authenticate:", tmp,
				sizeof(tmp))) {
		if (!x->www_auth[0])
			strcpy(x->www_auth, tmp);	/* the first one */
	} else {
		header_value(p, len, "Content-Type:", x->ctype,
			     sizeof(x->ctype));
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, off = 0;
	ssize_t w;

	if (x->len + len > x->max) {
		x->too_big = true;
		return 0;
	}
	if (x->fd >= 0) {
		while (off < len) {
			w = write(x->fd, p + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				x->write_failed = true;
				return 0;
			}
			off += (size_t)w;
		}
	} else {
		if (x->len + len + 1 > x->cap) {
			size_t cap = x->cap ? x->cap * 2 : 16384;
			char *nb;

			while (cap < x->len + len + 1)
				cap *= 2;
			nb = realloc(x->buf, cap);
			if (!nb) {
				x->write_failed = true;
				return 0;
			}
			x->buf = nb;
			x->cap = cap;
		}
		memcpy(x->buf + x->len, p, len);
		x->buf[x->len + len] = 0;
	}
	x->len += len;
	return len;
}

/* A curl error no retry mends: trust, protocols, redirects. */
static bool permanent(CURLcode cc)
{
	return cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ||
	       cc == CURLE_TOO_MANY_REDIRECTS ||
	       cc == CURLE_SSL_CONNECT_ERROR ||
	       cc == CURLE_PEER_FAILED_VERIFICATION ||
	       cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CACERT_BADFILE;
}

static const char *hint(const struct registry_client *rc, CURLcode cc)
{
	if (!rc->tls)
		return "";
	if (cc == CURLE_PEER_FAILED_VERIFICATION)
		return " (a registry with its own CA: --ca-file FILE)";
	if (cc == CURLE_SSL_CACERT_BADFILE)
		return " (no readable CA store: install ca-certificates, or --ca-file FILE)";
	if (cc == CURLE_SSL_CONNECT_ERROR)
		return " (a registry that speaks plain http: --insecure-registry HOST[:PORT])";
	return "";
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int registry_client_get(struct registry_client *rc, const char *repo,
			const char *kind, const char *ref, const char *accept,
			int fd, uint64_t max, char **body, size_t *len,
			char *ctype, size_t ctype_len, char *err,
			size_t err_len)
{
	const struct curl_lib *cu = rc->cu;
	struct curl_slist *hdrs = NULL;
	char url[1024], acc[1024], cerr[CURL_ERROR_SIZE] = "";
	struct xfer x = { .fd = fd, .max = max };
	bool answered = false;
	int attempt = 0, ret;
	long code = 0;
	CURLcode cc;

	if (body)
		*body = NULL;
	snprintf(url, sizeof(url), "%s://%s/v2/%s/%s/%s",
		 rc->tls ? "https" : "http", rc->host, repo, kind, ref);
	if (accept) {
		snprintf(acc, sizeof(acc), "Accept: %s", accept);
		hdrs = cu->slist_append(NULL, acc);
	}
	cu->easy_setopt(rc->curl, CURLOPT_URL, url);
	cu->easy_setopt(rc->curl, CURLOPT_HTTPHEADER, hdrs);
	cu->easy_setopt(rc->curl, CURLOPT_FOLLOWLOCATION, 1L);
	cu->easy_setopt(rc->curl, CURLOPT_MAXREDIRS, 5L);
	/* redirects to http(s) only, and never from https down to http */
	cu->easy_setopt(rc->curl, CURLOPT_PROTOCOLS_STR,
			rc->tls ? "https" : "http,https");
	cu->easy_setopt(rc->curl, CURLOPT_REDIR_PROTOCOLS_STR,
			rc->tls ? "https" : "http,https");
	curl_lib_setup(cu, rc->curl);
	cu->easy_setopt(rc->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	cu->easy_setopt(rc->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	cu->easy_setopt(rc->curl, CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT_S);
	cu->easy_setopt(rc->curl, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(rc->curl, CURLOPT_HEADERDATA, &x);
	cu->easy_setopt(rc->curl, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(rc->curl, CURLOPT_WRITEDATA, &x);
	cu->easy_setopt(rc->curl, CURLOPT_ERRORBUFFER, cerr);
again:
	x.len = 0;
	x.too_big = x.write_failed = false;
	x.www_auth[0] = x.ctype[0] = 0;
	cerr[0] = 0;
	if (fd >= 0 && (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET))) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", url, strerror(errno));
		goto out;
	}
	rc->auth_gen = registry_auth_apply(rc->auth, rc->curl, rc->auth_gen);
	cc = cu->easy_perform(rc->curl);
	code = 0;
	cu->easy_getinfo(rc->curl, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK && code == 401 && !answered) {
		/* a challenge, or an expired token: new credentials, once */
		ret = registry_auth_answer(rc->auth, x.www_auth, rc->auth_gen,
					   err, err_len);
		if (ret == -EAGAIN && ++attempt < ATTEMPTS) {
			pause_ms(200L << attempt);
			goto again;
		}
		if (ret)
			goto out;
		answered = true;
		goto again;
	}
	if (x.too_big) {
		snprintf(err, err_len, "%s: more than %llu bytes", url,
			 (unsigned long long)max);
		ret = -EFBIG;
		goto out;
	}
	if (x.write_failed) {
		snprintf(err, err_len, "%s: cannot store the answer: %s", url,
			 fd >= 0 ? strerror(errno) : "out of memory");
		ret = -EIO;
		goto out;
	}
	if (cc != CURLE_OK || code >= 500 || code == 408 || code == 429) {
		if (cc != CURLE_OK)
			snprintf(err, err_len, "%s: %s%s", url,
				 cerr[0] ? cerr : cu->easy_strerror(cc),
				 hint(rc, cc));
		else
			snprintf(err, err_len, "%s: HTTP %ld", url, code);
		if ((cc == CURLE_OK || !permanent(cc)) &&
		    ++attempt < ATTEMPTS) {
			pause_ms(200L << attempt);
			goto again;
		}
		ret = -EIO;
		goto out;
	}
	if (code == 401 || code == 403) {
		snprintf(err, err_len, code == 401 ?
			 "%s: HTTP 401: the registry refused the credentials (no pull access to this repository?)" :
			 "%s: HTTP 403: access denied", url);
		ret = -EACCES;
		goto out;
	}
	if (code == 404) {
		snprintf(err, err_len, "%s: HTTP 404: not found", url);
		ret = -ENOENT;
		goto out;
	}
	if (code != 200) {
		snprintf(err, err_len, "%s: HTTP %ld", url, code);
		ret = -EIO;
		goto out;
	}
	if (ctype)
		snprintf(ctype, ctype_len, "%s", x.ctype);
	if (body) {
		if (!x.buf)
			x.buf = calloc(1, 1);
		if (!x.buf) {
			snprintf(err, err_len, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		*body = x.buf;
		x.buf = NULL;
	}
	if (len)
		*len = x.len;
	ret = 0;
out:
	free(x.buf);
	cu->easy_setopt(rc->curl, CURLOPT_HTTPHEADER, NULL);
	if (hdrs)
		cu->slist_free_all(hdrs);
	return ret;
}
