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

/* One request: what to send, and where the answer goes. */
struct req {
	const char *method;		/* GET, HEAD, POST or PUT */
	char url[2048];
	const char *header;		/* one extra header line, or NULL */
	int in_fd;			/* PUT: the body from this file... */
	const char *in_buf;		/* ...or these bytes */
	uint64_t in_len, in_off;
	struct xfer x;
	long code;			/* the answer's HTTP status */
	char location[1024];		/* its Location header */
};

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t want = size * n;
	ssize_t got;

	if (want > r->in_len - r->in_off)
		want = (size_t)(r->in_len - r->in_off);
	if (!want)
		return 0;
	if (r->in_buf) {
		memcpy(p, r->in_buf + r->in_off, want);
		got = (ssize_t)want;
	} else {
		do {
			got = pread(r->in_fd, p, want, (off_t)r->in_off);
		} while (got < 0 && errno == EINTR);
		if (got <= 0)
			return CURL_READFUNC_ABORT;
	}
	r->in_off += (uint64_t)got;
	return (size_t)got;
}

static size_t on_header_req(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n;

	if (len >= 5 && !strncmp(p, "HTTP/", 5))
		r->location[0] = 0;
	header_value(p, len, "Location:", r->location, sizeof(r->location));
	return on_header(p, size, n, &r->x);
}

/*
 * Send @r, answering authentication challenges and retrying while the
 * registry is down; the status in r->code.  0 once an answer that is not
 * 401, 5xx, 408 or 429 came; -EACCES or -EIO with @err otherwise.
 */
static int perform(struct registry_client *rc, struct req *r, char *err,
		   size_t err_len)
{
	const struct curl_lib *cu = rc->cu;
	struct curl_slist *hdrs = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	bool answered = false;
	int attempt = 0, ret;
	CURLcode cc;

	if (r->header)
		hdrs = cu->slist_append(NULL, r->header);
	/* what an earlier request of the handle set goes */
	cu->easy_setopt(rc->curl, CURLOPT_HTTPGET, 1L);
	cu->easy_setopt(rc->curl, CURLOPT_CUSTOMREQUEST, NULL);
	if (!strcmp(r->method, "HEAD")) {
		cu->easy_setopt(rc->curl, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "POST")) {
		cu->easy_setopt(rc->curl, CURLOPT_POSTFIELDS, "");
		cu->easy_setopt(rc->curl, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (!strcmp(r->method, "PUT")) {
		cu->easy_setopt(rc->curl, CURLOPT_UPLOAD, 1L);
		cu->easy_setopt(rc->curl, CURLOPT_READFUNCTION, on_read);
		cu->easy_setopt(rc->curl, CURLOPT_READDATA, r);
		cu->easy_setopt(rc->curl, CURLOPT_INFILESIZE_LARGE,
				(curl_off_t)r->in_len);
	}
	cu->easy_setopt(rc->curl, CURLOPT_URL, r->url);
	cu->easy_setopt(rc->curl, CURLOPT_HTTPHEADER, hdrs);
	/* an upload's Location is read, not followed */
	cu->easy_setopt(rc->curl, CURLOPT_FOLLOWLOCATION,
			!strcmp(r->method, "GET") ? 1L : 0L);
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
	cu->easy_setopt(rc->curl, CURLOPT_HEADERFUNCTION, on_header_req);
	cu->easy_setopt(rc->curl, CURLOPT_HEADERDATA, r);
	cu->easy_setopt(rc->curl, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(rc->curl, CURLOPT_WRITEDATA, &r->x);
	cu->easy_setopt(rc->curl, CURLOPT_ERRORBUFFER, cerr);
again:
	r->x.len = 0;
	r->x.too_big = r->x.write_failed = false;
	r->x.www_auth[0] = r->x.ctype[0] = 0;
	r->in_off = 0;
	r->location[0] = 0;
	cerr[0] = 0;
	if (r->x.fd >= 0 && (ftruncate(r->x.fd, 0) ||
			     lseek(r->x.fd, 0, SEEK_SET))) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", r->url, strerror(errno));
		goto out;
	}
	rc->auth_gen = registry_auth_apply(rc->auth, rc->curl, rc->auth_gen);
	cc = cu->easy_perform(rc->curl);
	r->code = 0;
	cu->easy_getinfo(rc->curl, CURLINFO_RESPONSE_CODE, &r->code);
	if (cc == CURLE_OK && r->code == 401 && !answered) {
		/* a challenge, or an expired token: new credentials, once */
		ret = registry_auth_answer(rc->auth, r->x.www_auth,
					   rc->auth_gen, err, err_len);
		if (ret == -EAGAIN && ++attempt < ATTEMPTS) {
			pause_ms(200L << attempt);
			goto again;
		}
		if (ret)
			goto out;
		answered = true;
		goto again;
	}
	if (r->x.too_big || r->x.write_failed) {
		ret = 0;	/* the caller says what */
		goto out;
	}
	if (cc != CURLE_OK || r->code >= 500 || r->code == 408 ||
	    r->code == 429) {
		if (cc != CURLE_OK)
			snprintf(err, err_len, "%s: %s%s", r->url,
				 cerr[0] ? cerr : cu->easy_strerror(cc),
				 hint(rc, cc));
		else
			snprintf(err, err_len, "%s: HTTP %ld", r->url, r->code);
		if ((cc == CURLE_OK || !permanent(cc)) &&
		    ++attempt < ATTEMPTS) {
			pause_ms(200L << attempt);
			goto again;
		}
		ret = -EIO;
		goto out;
	}
	if (r->code == 401 || r->code == 403) {
		snprintf(err, err_len, r->code == 401 ?
			 "%s: HTTP 401: the registry refused the credentials (no %s access to this repository?)" :
			 "%s: HTTP 403: access denied", r->url,
			 !strcmp(r->method, "GET") ||
			 !strcmp(r->method, "HEAD") ? "pull" : "push");
		ret = -EACCES;
		goto out;
	}
	ret = 0;
out:
	cu->easy_setopt(rc->curl, CURLOPT_HTTPHEADER, NULL);
	cu->easy_setopt(rc->curl, CURLOPT_NOBODY, 0L);
	cu->easy_setopt(rc->curl, CURLOPT_UPLOAD, 0L);
	if (hdrs)
		cu->slist_free_all(hdrs);
	return ret;
}

static void url_of(const struct registry_client *rc, char *buf, size_t len,
		   const char *repo, const char *kind, const char *ref)
{
	snprintf(buf, len, "%s://%s/v2/%s/%s/%s", rc->tls ? "https" : "http",
		 rc->host, repo, kind, ref);
}

/*
 * A request for @method on @repo's @kind/@ref; the answer's body goes to
 * x.buf (up to x.max) unless the caller sets x.fd.  NULL with @err.
 */
static struct req *req_new(const struct registry_client *rc,
			   const char *method, const char *repo,
			   const char *kind, const char *ref, char *err,
			   size_t err_len)
{
	struct req *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	r->method = method;
	url_of(rc, r->url, sizeof(r->url), repo, kind, ref);
	r->in_fd = -1;
	r->x.fd = -1;
	r->x.max = 1 << 20;
	return r;
}

static void req_free(struct req *r)
{
	free(r->x.buf);
	free(r);
}

int registry_client_get(struct registry_client *rc, const char *repo,
			const char *kind, const char *ref, const char *accept,
			int fd, uint64_t max, char **body, size_t *len,
			char *ctype, size_t ctype_len, char *err,
			size_t err_len)
{
	struct req *r = req_new(rc, "GET", repo, kind, ref, err, err_len);
	char acc[1024];
	int ret;

	if (body)
		*body = NULL;
	if (!r)
		return -ENOMEM;
	if (accept) {
		snprintf(acc, sizeof(acc), "Accept: %s", accept);
		r->header = acc;
	}
	r->x.fd = fd;
	r->x.max = max;
	ret = perform(rc, r, err, err_len);
	if (ret)
		goto out;
	if (r->x.too_big) {
		snprintf(err, err_len, "%s: more than %llu bytes", r->url,
			 (unsigned long long)max);
		ret = -EFBIG;
		goto out;
	}
	if (r->x.write_failed) {
		snprintf(err, err_len, "%s: cannot store the answer: %s",
			 r->url, fd >= 0 ? strerror(errno) : "out of memory");
		ret = -EIO;
		goto out;
	}
	if (r->code == 404) {
		snprintf(err, err_len, "%s: HTTP 404: not found", r->url);
		ret = -ENOENT;
		goto out;
	}
	if (r->code != 200) {
		snprintf(err, err_len, "%s: HTTP %ld", r->url, r->code);
		ret = -EIO;
		goto out;
	}
	if (ctype)
		snprintf(ctype, ctype_len, "%s", r->x.ctype);
	if (body) {
		if (!r->x.buf)
			r->x.buf = calloc(1, 1);
		if (!r->x.buf) {
			snprintf(err, err_len, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		*body = r->x.buf;
		r->x.buf = NULL;
	}
	if (len)
		*len = r->x.len;
out:
	req_free(r);
	return ret;
}

/* The upload URL of a Location header: absolute, or relative to the host. */
static void upload_url(const struct registry_client *rc, const char *loc,
		       const char *digest, char *buf, size_t len)
{
	const char *sep = strchr(loc, '?') ? "&" : "?";

	if (!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8))
		snprintf(buf, len, "%.1500s%sdigest=%s", loc, sep, digest);
	else
		snprintf(buf, len, "%s://%s%.1200s%sdigest=%s",
			 rc->tls ? "https" : "http", rc->host, loc, sep,
			 digest);
}

int registry_client_put_blob(struct registry_client *rc, const char *repo,
			     const char *digest, int fd, const void *buf,
			     uint64_t size, bool *sent, char *err,
			     size_t err_len)
{
	/* a blob the repository has is not sent again */
	struct req *r = req_new(rc, "HEAD", repo, "blobs", digest, err,
				err_len);
	char loc[1024];
	int ret;

	*sent = false;
	if (!r)
		return -ENOMEM;
	ret = perform(rc, r, err, err_len);
	if (ret || r->code == 200)
		goto out;
	r->method = "POST";
	url_of(rc, r->url, sizeof(r->url), repo, "blobs", "uploads/");
	ret = perform(rc, r, err, err_len);
	if (ret)
		goto out;
	if (r->code != 202 || !r->location[0]) {
		snprintf(err, err_len, "%s: HTTP %ld%s", r->url, r->code,
			 r->code == 202 ? " without a Location" : "");
		ret = -EIO;
		goto out;
	}
	snprintf(loc, sizeof(loc), "%s", r->location);
	r->method = "PUT";
	upload_url(rc, loc, digest, r->url, sizeof(r->url));
	r->header = "Content-Type: application/octet-stream";
	r->in_fd = fd;
	r->in_buf = buf;
	r->in_len = size;
	ret = perform(rc, r, err, err_len);
	if (!ret && r->code != 201) {
		snprintf(err, err_len, "uploading %s: HTTP %ld", digest,
			 r->code);
		ret = -EIO;
	}
	*sent = !ret;
out:
	req_free(r);
	return ret;
}

int registry_client_put_manifest(struct registry_client *rc,
				 const char *repo, const char *tag,
				 const char *media_type, const void *body,
				 size_t len, char *err, size_t err_len)
{
	struct req *r = req_new(rc, "PUT", repo, "manifests", tag, err,
				err_len);
	char ct[256];
	int ret;

	if (!r)
		return -ENOMEM;
	snprintf(ct, sizeof(ct), "Content-Type: %s", media_type);
	r->header = ct;
	r->in_buf = body;
	r->in_len = len;
	ret = perform(rc, r, err, err_len);
	if (!ret && r->code != 201) {
		snprintf(err, err_len, "%s: HTTP %ld: %.200s", r->url, r->code,
			 r->x.buf ? r->x.buf : "");
		ret = -EIO;
	}
	req_free(r);
	return ret;
}
