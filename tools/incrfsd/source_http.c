// SPDX-License-Identifier: GPL-2.0-only
/*
 * source_http.c - blob sources over HTTP: a plain URL (http://, https://)
 * read with Range requests, and an OCI registry blob (registry://), which
 * is the same thing at the registry HTTP API v2 address of the blob.
 *
 * Why this exists: in real deployments a layer's blob lives on a web
 * server or in a registry, not on a local disk.  libcurl does the HTTP; a
 * source runs up to HTTP_CONNS_MAX worker threads (no more than the read
 * depth), each owning one curl handle and so one connection, kept alive
 * where the server allows it.  They take the reads the feeder queues in
 * order, so a read a reader waits for never waits behind another
 * transfer while a worker is free: on a link with a round trip of tens of
 * milliseconds, one connection would serve the misses of a cold start
 * one round trip after another.  A worker takes the most urgent read
 * queued and every queued read that extends it without a gap in the blob,
 * wherever it is in the queue, as one request: a registry answers a GET
 * in about the same time whatever its size, so round trips, not bytes,
 * decide how long a cold start waits.  Each read of such a request is
 * finished as soon as its own bytes have arrived, so a read at the front
 * of a long request waits for its bytes only.  A finished read goes on a
 * done list and the source's eventfd is signalled, which joins the
 * feeder's epoll loop like the file source's io_uring does.
 *
 * Urgency: reads flagged INCRFSD_READ_URGENT (a reader waits for them)
 * are queued ahead of the others, and one connection is kept for them:
 * background reads (a profile, read-ahead) never occupy every
 * connection, so a new miss never waits behind a long transfer.  An
 * urgent read goes to the idle connection used last (its_turn()), whose
 * TCP window is still open.
 *
 * Errors: a server that is down, a timeout, a 5xx or a short body are
 * passing troubles: the worker retries with exponential backoff (100 ms
 * up to 5 s) for as long as the read is wanted, logging once when the
 * server stops answering and once when it is back, so readers waiting for
 * the blocks keep waiting (up to their mount timeout) instead of failing
 * at the first error.  A 4xx (404: no such blob) or a 200/206 that does
 * not carry exactly the asked range fails the read at once with -EIO.
 * open() learns the blob's size from the Content-Range of a read of its
 * first 128 bytes; it tries a few times and then fails with the server's
 * error.
 *
 * Locations:
 *   http://HOST[:PORT]/PATH            the blob at that URL
 *   registry://HOST[:PORT]/REPO@sha256:HEX
 *       GET https://HOST[:PORT]/v2/REPO/blobs/sha256:HEX, following
 *       redirects (registries often send blob reads to a storage URL,
 *       signed for some minutes: later reads go there directly, a
 *       request to the registry fewer per miss, until it fails or is a
 *       minute old);
 *       http:// only for a HOST[:PORT] named insecure (--insecure-registry),
 *       as docker's insecure-registries.
 * TLS peers are verified against the system's CAs or --ca-file's; a
 * failed verification, a TLS handshake that fails (e.g. a plain http
 * server), a refused protocol or too many redirects fail at once, with a
 * hint at the option that helps: no retry would mend them.
 *
 * A registry that answers 401 is given a token or credentials
 * (registry_auth.h) and the request is sent again, once; a 401 after that,
 * or a 403, fails the read.  Redirects go to http(s) only, and from https
 * to https only.
 */
#include "source.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "curl_lib.h"
#include "log.h"
#include "privileges.h"
#include "registry_auth.h"
#include "stop_signals.h"

#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define OPEN_ATTEMPTS		4
#define CONNECT_TIMEOUT_S	5L
/*
 * A transfer slower than STALL_BYTES_S for STALL_TIMEOUT_S is retried: a
 * server that trickles a few bytes a second would otherwise hold the
 * readers of its chunks for as long as it cares to (1 KiB/s is 64 s for a
 * whole 64 KiB chunk, still far slower than any link incrfs serves from).
 */
#define STALL_TIMEOUT_S		30L
#define STALL_BYTES_S		1024L
/*
 * A redirect's target is used directly for this long at most, then learnt
 * again through the registry: shorter than the validity of the signed
 * URLs registries send (minutes), so that few reads ever meet an expired
 * one; one that fails sooner is dropped at once.
 */
#define DIRECT_MAX_AGE_S	60
/* Largest coalesced request. */
#define COALESCE_MAX		(8U << 20)
/* Reads coalesced into one request, at most. */
#define BATCH_MAX		64
/*
 * Connections (worker threads) per source, at most: what browsers open
 * to one host, so that a registry or CDN sees nothing unusual.
 */
#define HTTP_CONNS_MAX		6
/*
 * Reads in flight by default: several per connection, so that the reads
 * of a profile or a read-ahead window queued together find their
 * neighbours and go out as few requests.
 */
#define HTTP_DEFAULT_DEPTH	32
/*
 * Compressed bytes fetched after a chunk a reader waits for, in the same
 * request, by default: about what a 100 Mbit/s link carries in one 20 ms
 * round trip, so that a miss costs at most about two round trips and
 * saves one for every later miss those bytes hold.
 */
#define HTTP_DEFAULT_AMPLIFY	(256U << 10)

struct http_req {
	uint64_t off;
	size_t len;
	char *buf;
	void *cookie;
	int err;
	bool urgent;		/* INCRFSD_READ_URGENT */
	struct http_req *next;
};

struct http_source;

/* One connection: a worker thread, its curl handle, its transfer. */
struct http_conn {
	struct http_source *hs;
	CURL *curl;
	pthread_t thread;
	bool thread_ok;
	/* the transfer in progress (this worker only) */
	struct http_req *batch[BATCH_MAX];	/* in blob order, no gaps */
	unsigned int nbatch;
	unsigned int first;	/* batch[0..first) are finished already */
	bool bg;		/* no read of the batch is urgent */
	bool idle;		/* waiting in take_batch(); hs->lock */
	uint64_t used;		/* hs->uses when its last batch ended; lock */
	bool early;		/* finish reads as their bytes arrive */
	bool bad_range;		/* the 206's Content-Range is not the asked */
	uint64_t boff;		/* first byte of the transfer */
	uint64_t blen;
	uint64_t got;
	char range_hdr[96];	/* the Content-Range seen */
	char www_auth[1024];	/* the WWW-Authenticate seen */
	unsigned int auth_gen;	/* credentials the handle carries */
	unsigned int auth_ep;	/* ...for this endpoint */
	unsigned int ep_used;	/* the endpoint of the last transfer */
	/* a redirect of this transfer is to be kept for this endpoint */
	struct http_endpoint *note_ep;
	char err[CURL_ERROR_SIZE];
};

/*
 * Where the blob is read: its URL, or for registry:// each mirror and
 * then the reference's registry.
 */
struct http_endpoint {
	char *url;
	char host[256];		/* HOST[:PORT], for messages */
	struct registry_auth *auth;	/* registry:// only */
	bool tls;
	/*
	 * Where the last read of @url was redirected to (registries send
	 * blob reads to a storage URL, signed for some minutes), and when:
	 * reads go there directly, one request instead of two, until it
	 * fails or is DIRECT_MAX_AGE_S old.  If a target answers wrongly
	 * (a 4xx) before any target of this endpoint served a read, it is
	 * no storage URL (single-use, or it wants the registry's
	 * credentials): redirects are then followed every time, as before
	 * (@direct_off).  All under hs->lock.
	 */
	char *direct;
	uint64_t direct_ns;
	bool direct_worked;
	bool direct_off;
};

#define HTTP_ENDPOINTS_MAX	(INCRFSD_MAX_MIRRORS + 1)

struct http_source {
	const struct curl_lib *cu;	/* libcurl (curl_lib.c) */
	char *display;		/* the location, for messages */
	/* mirrors first, the location's own server last */
	struct http_endpoint ep[HTTP_ENDPOINTS_MAX];
	unsigned int nep;
	/* the endpoint in use; only ever moves on, towards the last */
	atomic_uint cur;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* queue grew, done grew, or stopping */
	struct http_req *queue, **queue_tail;
	struct http_req *done, **done_tail;
	atomic_bool stop;
	/*
	 * src->event_fd, for the workers: the struct incrfsd_source itself
	 * may be copied elsewhere after open() (fetcher_init() does), priv
	 * not.
	 */
	int event_fd;
	bool down;		/* logged "not answering", not yet "back"; lock */
	unsigned int bg_busy;	/* workers on a background batch; lock */
	bool plugged;		/* reads are being queued: wait; lock */
	unsigned int nconns;
	struct http_conn conns[HTTP_CONNS_MAX];
	uint64_t uses;		/* batches ended, on any connection; lock */
	/*
	 * The blob's size as opening it found; 0 during that probe.  Every
	 * later answer must name the same size: a blob is content-addressed,
	 * one that changes size is another blob.
	 */
	uint64_t size;
};


/* registry_auth's word on where credentials came from, for the log. */
static void note_creds(const char *msg)
{
	log_info("%s", msg);
}

static bool http_match(const char *location)
{
	return !strncmp(location, "http://", 7) ||
	       !strncmp(location, "https://", 8);
}

static bool registry_match(const char *location)
{
	return !strncmp(location, "registry://", 11);
}

static struct incrfsd_net_opts net;

void incrfsd_source_set_net(const struct incrfsd_net_opts *o)
{
	net = *o;
	curl_lib_set_ca_file(o->ca_file);
}

/* Is @host (@len bytes, HOST[:PORT]) named by --insecure-registry? */
static bool insecure_host(const char *host, size_t len)
{
	unsigned int i;

	for (i = 0; i < net.n_insecure; i++)
		if (strlen(net.insecure[i]) == len &&
		    !strncasecmp(net.insecure[i], host, len))
			return true;
	return false;
}

/*
 * registry://HOST[:PORT]/REPO@sha256:HEX -> https://HOST[:PORT]/v2/REPO/
 * blobs/sha256:HEX (http:// for an insecure HOST[:PORT]).  NULL with @why
 * set if it is not one.
 */
static char *registry_url(const char *location, const char *mirror,
			  const char **why)
{
	const char *host = location + 11;
	const char *slash = strchr(host, '/');
	const char *at = strrchr(host, '@');
	const char *hexd;
	bool tls;
	size_t i;
	char *url;

	if (!slash || slash == host) {
		*why = "no HOST[:PORT]/ in the registry reference";
		return NULL;
	}
	if (!at || at < slash + 2) {
		*why = "no REPO@sha256:DIGEST in the registry reference";
		return NULL;
	}
	if (strncmp(at + 1, "sha256:", 7)) {
		*why = "the digest is not sha256:HEX";
		return NULL;
	}
	hexd = at + 8;
	for (i = 0; hexd[i]; i++) {
		if (!strchr("0123456789abcdef", hexd[i]))
			break;
	}
	if (i != 64 || hexd[i]) {
		*why = "the digest is not sha256: and 64 lowercase hex digits";
		return NULL;
	}
	if (mirror) {	/* the same REPO and digest on another registry */
		tls = !insecure_host(mirror, strlen(mirror));
		if (asprintf(&url, "%s://%s/v2/%.*s/blobs/%s",
			     tls ? "https" : "http", mirror,
			     (int)(at - slash - 1), slash + 1, at + 1) < 0) {
			*why = "out of memory";
			return NULL;
		}
		return url;
	}
	tls = !insecure_host(host, slash - host);
	if (asprintf(&url, "%s://%.*s/v2/%.*s/blobs/%s", tls ? "https" : "http",
		     (int)(slash - host), host, (int)(at - slash - 1),
		     slash + 1, at + 1) < 0) {
		*why = "out of memory";
		return NULL;
	}
	return url;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_conn *hc = arg;
	size_t len = size * n;

	if (len > 14 && !strncasecmp(p, "Content-Range:", 14)) {
		const char *v = p + 14;
		size_t l = len - 14;

		while (l && (*v == ' ' || *v == '\t'))
			v++, l--;
		while (l && (v[l - 1] == '\r' || v[l - 1] == '\n'))
			l--;
		if (l >= sizeof(hc->range_hdr))
			l = sizeof(hc->range_hdr) - 1;
		memcpy(hc->range_hdr, v, l);
		hc->range_hdr[l] = 0;
	} else if (len > 17 && !strncasecmp(p, "WWW-Authenticate:", 17)) {
		const char *v = p + 17;
		size_t l = len - 17;

		if (hc->www_auth[0])
			return len;	/* the first challenge */
		while (l && (*v == ' ' || *v == '\t'))
			v++, l--;
		while (l && (v[l - 1] == '\r' || v[l - 1] == '\n'))
			l--;
		if (l >= sizeof(hc->www_auth))
			l = 0;	/* not one incrfsd could answer */
		memcpy(hc->www_auth, v, l);
		hc->www_auth[l] = 0;
	} else if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		hc->range_hdr[0] = 0;	/* a new response (after a redirect) */
		hc->www_auth[0] = 0;
		hc->got = 0;
	}
	return len;
}

/* Put @n reads on the done list with @err and tell the feeder. */
static void post_done(struct http_source *hs, struct http_req **reqs,
		      unsigned int n, int err)
{
	uint64_t one = 1;
	unsigned int i;

	if (!n)
		return;
	pthread_mutex_lock(&hs->lock);
	for (i = 0; i < n; i++) {
		reqs[i]->err = err;
		reqs[i]->next = NULL;
		*hs->done_tail = reqs[i];
		hs->done_tail = &reqs[i]->next;
	}
	pthread_cond_broadcast(&hs->cond);
	/* under the lock: reap() clears it when it empties the list */
	if (write(hs->event_fd, &one, sizeof(one)) < 0)
		log_err("%s: eventfd: %s", hs->display, strerror(errno));
	pthread_mutex_unlock(&hs->lock);
}

/*
 * Is the 206 answer the range asked for?  Checked before the first body
 * byte is used, since reads are finished while the body still arrives.
 */
static bool range_is_asked(const struct http_conn *hc)
{
	unsigned long long first, last, size;

	return sscanf(hc->range_hdr, "bytes %llu-%llu/%llu", &first, &last,
		      &size) == 3 && first == hc->boff &&
	       last == hc->boff + hc->blen - 1 && size > last &&
	       (!hc->hs->size || size == hc->hs->size);
}

static void direct_note(struct http_conn *hc, struct http_endpoint *ep);

/* Copy body bytes into the batch's buffers. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_conn *hc = arg;
	size_t len = size * n, take, i;
	unsigned int from = hc->first;
	long code = 0;
	uint64_t pos;

	hc->hs->cu->easy_getinfo(hc->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 206 && code != 200)
		return len;	/* an error page: the status says it all */
	if (code == 200)
		return 0;	/* the whole blob is coming: stop it */
	if (hc->got + len > hc->blen)
		return 0;	/* more than asked for: abort (CURLE_WRITE_ERROR) */
	if (hc->early && !hc->got && !range_is_asked(hc)) {
		hc->bad_range = true;
		return 0;
	}
	/*
	 * Where a redirect led is kept before the first read finishes: the
	 * next one, started as soon as this one's bytes are in, goes there.
	 */
	if (hc->early && !hc->got && hc->note_ep) {
		direct_note(hc, hc->note_ep);
		hc->note_ep = NULL;
	}
	while (len) {
		pos = hc->boff + hc->got;
		for (i = hc->first; i < hc->nbatch; i++) {
			struct http_req *r = hc->batch[i];

			if (pos >= r->off && pos < r->off + r->len)
				break;
		}
		if (i == hc->nbatch)
			return 0;
		take = hc->batch[i]->off + hc->batch[i]->len - pos;
		if (take > len)
			take = len;
		memcpy(hc->batch[i]->buf + (pos - hc->batch[i]->off), p, take);
		p += take;
		len -= take;
		hc->got += take;
	}
	/* reads whose bytes are all in are finished now */
	pos = hc->boff + hc->got;
	while (hc->early && hc->first < hc->nbatch &&
	       hc->batch[hc->first]->off + hc->batch[hc->first]->len <= pos)
		hc->first++;
	post_done(hc->hs, hc->batch + from, hc->first - from, 0);
	return size * n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct http_conn *c = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&c->hs->stop);	/* non-zero aborts the transfer */
}

static void setup_handle(struct http_conn *hc)
{
	const struct curl_lib *cu = hc->hs->cu;
	CURL *c = hc->curl;

	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	cu->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_lib_setup(cu, c);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	cu->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, STALL_BYTES_S);
	cu->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT_S);
	cu->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(c, CURLOPT_HEADERDATA, hc);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, hc);
	cu->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	cu->easy_setopt(c, CURLOPT_XFERINFODATA, hc);
	cu->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, hc->err);
	/* The blob is zstd chunks: never let a server re-encode the range. */
	cu->easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
}

/* A curl error that no retry mends: trust, protocols, redirects. */
static bool permanent(CURLcode cc)
{
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return true;
	default:
		return false;
	}
}

/* What the user can do about a TLS error @cc, or "". */
static const char *permanent_hint(const struct http_endpoint *ep,
				  CURLcode cc)
{
	if (!ep->tls)
		return "";
	if (cc == CURLE_PEER_FAILED_VERIFICATION)
		return ep->auth ?
		       " (a registry with its own CA: --ca-file FILE)" :
		       " (a server with its own CA: --ca-file FILE)";
	if (cc == CURLE_SSL_CACERT_BADFILE)
		return " (no readable CA store: install ca-certificates, or --ca-file FILE)";
	if (cc == CURLE_SSL_CONNECT_ERROR && ep->auth)
		return " (a registry that speaks plain http: --insecure-registry HOST[:PORT])";
	return "";
}

/* What one transfer amounted to. */
enum { XFER_OK, XFER_RETRY, XFER_FAIL };

/* The handle sends no credentials until they are applied again. */
static void forget_credentials(struct http_conn *hc, unsigned int auth_ep)
{
	const struct curl_lib *cu = hc->hs->cu;

	cu->easy_setopt(hc->curl, CURLOPT_XOAUTH2_BEARER, NULL);
	cu->easy_setopt(hc->curl, CURLOPT_USERNAME, NULL);
	cu->easy_setopt(hc->curl, CURLOPT_PASSWORD, NULL);
	cu->easy_setopt(hc->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	hc->auth_ep = auth_ep;
	hc->auth_gen = 0;
}

/*
 * GET bytes [@off, @off + @len) of endpoint @e's blob into the batch:
 * from @direct, a URL a read of it was redirected to, if not NULL (with
 * none of the endpoint's credentials), else from its URL.  @total, if not
 * NULL, receives the blob size from Content-Range.  XFER_RETRY for
 * passing troubles, XFER_FAIL with @why for a wrong answer.
 */
static int transfer_from(struct http_conn *hc, unsigned int e,
			 const char *direct, uint64_t off, uint64_t len,
			 uint64_t *total, char *why, size_t why_len)
{
	const struct curl_lib *cu = hc->hs->cu;
	const struct http_endpoint *ep = &hc->hs->ep[e];
	struct registry_auth *auth = direct ? NULL : ep->auth;
	bool probe = total != NULL, answered = false;
	unsigned long long first, last, size;
	char range[64];
	long code = 0;
	CURLcode cc;
	int ret;

	snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off,
		 off + len - 1);
	cu->easy_setopt(hc->curl, CURLOPT_RANGE, range);
	cu->easy_setopt(hc->curl, CURLOPT_URL, direct ? direct : ep->url);
	/* redirects to http(s) only, and never from https down to http */
	cu->easy_setopt(hc->curl, CURLOPT_PROTOCOLS_STR,
			ep->tls ? "https" : "http,https");
	cu->easy_setopt(hc->curl, CURLOPT_REDIR_PROTOCOLS_STR,
			ep->tls ? "https" : "http,https");
	hc->ep_used = e;
	/* the handle's credentials are another host's: never send them */
	if (direct)
		forget_credentials(hc, UINT_MAX);
	else if (hc->auth_ep != e)
		forget_credentials(hc, e);
again:
	hc->boff = off;
	hc->blen = len;
	hc->got = 0;
	hc->bad_range = false;
	hc->early = !probe;
	hc->range_hdr[0] = 0;
	hc->www_auth[0] = 0;
	hc->err[0] = 0;
	if (auth)
		hc->auth_gen = registry_auth_apply(auth, hc->curl,
						   hc->auth_gen);
	cc = cu->easy_perform(hc->curl);
	if (atomic_load(&hc->hs->stop))
		return XFER_FAIL;
	cu->easy_getinfo(hc->curl, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK && code == 401 && auth && !answered) {
		/* a challenge, or the token expired: new credentials, once */
		ret = registry_auth_answer(auth, hc->www_auth, hc->auth_gen,
					   why, why_len);
		if (ret == -EAGAIN)
			return XFER_RETRY;
		if (ret)
			return XFER_FAIL;
		answered = true;
		goto again;
	}
	if (cc == CURLE_OK && (code == 401 || code == 403)) {
		snprintf(why, why_len, code == 401 && auth ?
			 "HTTP 401: the registry refused the credentials (no pull access to this repository?)" :
			 code == 401 ? "HTTP 401: authentication required" :
			 "HTTP 403: access denied");
		return XFER_FAIL;
	}
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR &&
				(code == 200 || hc->bad_range))) {
		snprintf(why, why_len, "%s%s",
			 hc->err[0] ? hc->err : cu->easy_strerror(cc),
			 permanent_hint(ep, cc));
		/* a body longer than asked is the server's error, not luck */
		return cc == CURLE_WRITE_ERROR || permanent(cc) ? XFER_FAIL :
								  XFER_RETRY;
	}
	if (code >= 500 || code == 408 || code == 429) {
		snprintf(why, why_len, "HTTP %ld", code);
		return XFER_RETRY;
	}
	if (code == 416) {
		snprintf(why, why_len, "HTTP 416: bytes %s are beyond the blob",
			 range);
		return XFER_FAIL;
	}
	if (code != 206) {
		snprintf(why, why_len, code == 200 ?
			 "HTTP 200: the server ignores Range requests" :
			 code == 404 ? "HTTP 404: no such blob" : "HTTP %ld",
			 code);
		return XFER_FAIL;
	}
	/* the size probe may be cut at the end of a small blob */
	if (sscanf(hc->range_hdr, "bytes %llu-%llu/%llu", &first, &last,
		   &size) == 3 && probe && first == off && last < off + len - 1 &&
	    last + 1 == size)
		len = last + 1 - off;
	if (sscanf(hc->range_hdr, "bytes %llu-%llu/%llu", &first, &last,
		   &size) != 3 || first != off || last != off + len - 1 ||
	    size <= last) {
		snprintf(why, why_len,
			 "HTTP 206 with Content-Range '%s', asked for bytes %s",
			 hc->range_hdr, range);
		return XFER_FAIL;
	}
	if (hc->hs->size && size != hc->hs->size) {
		snprintf(why, why_len,
			 "the blob changed: Content-Range '%s' gives %llu bytes, %" PRIu64 " when it was opened",
			 hc->range_hdr, size, hc->hs->size);
		return XFER_FAIL;
	}
	if (hc->got != len) {
		snprintf(why, why_len, "short response: %" PRIu64 " of %" PRIu64
			 " bytes", hc->got, len);
		return XFER_RETRY;
	}
	if (total)
		*total = size;
	return XFER_OK;
}

/* A copy of endpoint @ep's redirect target while it is fresh, or NULL. */
static char *direct_get(struct http_source *hs, struct http_endpoint *ep)
{
	char *url = NULL;

	pthread_mutex_lock(&hs->lock);
	if (ep->direct && incrfsd_now_ns() - ep->direct_ns <
	    (uint64_t)DIRECT_MAX_AGE_S * 1000000000)
		url = strdup(ep->direct);	/* NULL: asked anew, no harm */
	pthread_mutex_unlock(&hs->lock);
	return url;
}

/*
 * Where @url's host[:port] begins (*@host), and its length: for messages
 * and credentials, never with userinfo, path or query (signatures).
 */
static int url_host(const char *url, const char **host)
{
	const char *h = strstr(url, "://"), *at;
	int n;

	h = h ? h + 3 : url;
	n = (int)strcspn(h, "/?#");
	at = memrchr(h, '@', (size_t)n);	/* never userinfo either */
	if (at) {
		n -= (int)(at + 1 - h);
		h = at + 1;
	}
	*host = h;
	return n;
}

/*
 * A read from @url, @ep's redirect target, ended with @ret: a failed one
 * is forgotten (if still the target).  A wrong answer (XFER_FAIL: 4xx,
 * not the asked range) from a target of an endpoint whose targets never
 * served a read turns the cache off: that is no storage URL.
 */
static void direct_result(struct http_source *hs, struct http_endpoint *ep,
			  const char *url, int ret)
{
	bool off_now = false;
	const char *host;
	int n;

	pthread_mutex_lock(&hs->lock);
	if (ret == XFER_OK) {
		ep->direct_worked = true;
	} else if (ep->direct && !strcmp(ep->direct, url)) {
		free(ep->direct);
		ep->direct = NULL;
		if (ret == XFER_FAIL && !ep->direct_worked && !ep->direct_off)
			ep->direct_off = off_now = true;
	}
	pthread_mutex_unlock(&hs->lock);
	if (off_now) {
		n = url_host(url, &host);
		log_warn("%s: %s redirects reads to %.*s, which does not serve them when asked directly: following every redirect",
			 hs->display, ep->host, n, host);
	}
}

/* The read of @ep's URL just done on @hc was redirected: keep where to. */
static void direct_note(struct http_conn *hc, struct http_endpoint *ep)
{
	struct http_source *hs = hc->hs;
	const char *url = NULL, *host;
	long redirects = 0;
	bool changed = false;
	char *copy;
	int n;

	if (hs->cu->easy_getinfo(hc->curl, CURLINFO_REDIRECT_COUNT,
				 &redirects) != CURLE_OK || redirects <= 0 ||
	    hs->cu->easy_getinfo(hc->curl, CURLINFO_EFFECTIVE_URL,
				 &url) != CURLE_OK || !url ||
	    !(copy = strdup(url)))
		return;
	pthread_mutex_lock(&hs->lock);
	if (!ep->direct_off) {
		changed = !ep->direct || strcmp(ep->direct, copy);
		free(ep->direct);
		ep->direct = copy;
		ep->direct_ns = incrfsd_now_ns();
		copy = NULL;
	}
	pthread_mutex_unlock(&hs->lock);
	if (changed) {
		n = url_host(url, &host);
		log_verbose("%s: %s sends its reads to %.*s: reading there directly",
			    hs->display, ep->host, n, host);
	}
	free(copy);
}

/*
 * transfer_from() the endpoint in use: where it last redirected to if
 * that is fresh, and through its URL if that fails or there is none.
 */
static int transfer(struct http_conn *hc, uint64_t off, uint64_t len,
		    uint64_t *total, char *why, size_t why_len)
{
	struct http_source *hs = hc->hs;
	unsigned int e = atomic_load(&hs->cur);
	struct http_endpoint *ep = &hs->ep[e];
	char *direct = direct_get(hs, ep);
	const uint64_t end = off + len;
	const char *host;
	int ret, n;

	if (direct) {
		ret = transfer_from(hc, e, direct, off, len, total, why,
				    why_len);
		if (atomic_load(&hs->stop)) {
			free(direct);
			return ret;
		}
		direct_result(hs, ep, direct, ret);
		/* the reads finished as their bytes came need none again */
		if (ret == XFER_OK || (!total && hc->first == hc->nbatch)) {
			free(direct);
			return XFER_OK;
		}
		if (!total) {
			off = hc->batch[hc->first]->off;
			len = end - off;
		}
		/* expired, moved, or down: the registry says where now */
		n = url_host(direct, &host);
		log_verbose("%s: reading directly from %.*s: %s; asking %s again",
			    hs->display, n, host, why, ep->host);
		free(direct);
	}
	hc->note_ep = ep;
	ret = transfer_from(hc, e, NULL, off, len, total, why, why_len);
	if (ret == XFER_OK && hc->note_ep)
		direct_note(hc, ep);	/* the size probe: not early */
	hc->note_ep = NULL;
	return ret;
}

/* Sleep @ms unless asked to stop.  false if stopping. */
static bool backoff(struct http_source *hs, unsigned int ms)
{
	struct timespec ts;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&hs->lock);
	while (!atomic_load(&hs->stop) && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&hs->cond, &hs->lock, &ts);
	pthread_mutex_unlock(&hs->lock);
	return !atomic_load(&hs->stop);
}

/* The reads of the batch not finished yet end with @err. */
static void finish_batch(struct http_conn *hc, int err)
{
	struct http_source *hs = hc->hs;

	post_done(hs, hc->batch + hc->first, hc->nbatch - hc->first, err);
	pthread_mutex_lock(&hs->lock);
	if (hc->bg)
		hs->bg_busy--;
	hc->used = ++hs->uses;
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
	hc->nbatch = hc->first = 0;
	hc->bg = false;
}

/*
 * Is @hc the idle connection to take the head of the queue?  A read a
 * reader waits for goes to the connection used last, whose congestion
 * window is the widest: a server's TCP shrinks the window of a connection
 * idle for longer than its retransmission timeout (RFC 2861, Linux's
 * tcp_slow_start_after_idle), and a cold window costs an answer one more
 * round trip per doubling.  Misses that follow one another then keep one
 * connection warm instead of spreading over all of them.  Background
 * reads take the connection idle longest.  Under hs->lock.
 */
static bool its_turn(const struct http_conn *hc, bool urgent)
{
	const struct http_source *hs = hc->hs;
	unsigned int i;

	for (i = 0; i < hs->nconns; i++) {
		const struct http_conn *o = &hs->conns[i];

		if (o == hc || !o->idle)
			continue;
		if (urgent ? o->used > hc->used : o->used < hc->used)
			return false;
	}
	return true;
}

/*
 * May worker @hc take the head of the queue?  An urgent read always; a
 * background one only while another connection stays free for the next
 * urgent read; either only on its turn.  Under hs->lock.
 */
static bool may_take(const struct http_conn *hc)
{
	const struct http_source *hs = hc->hs;

	if (!hs->queue || hs->plugged)
		return false;
	if (!hs->queue->urgent && hs->nconns > 1 &&
	    hs->bg_busy + 1 >= hs->nconns)
		return false;
	return its_turn(hc, hs->queue->urgent);
}

/*
 * Move the queued read that continues the batch without a gap (right
 * after its end, or, for a background batch, right before its start)
 * into the batch.  false when there is none.  Under hs->lock.
 */
static bool grow_batch(struct http_conn *hc)
{
	struct http_source *hs = hc->hs;
	struct http_req *first = hc->batch[0];
	struct http_req *last = hc->batch[hc->nbatch - 1];
	uint64_t start = first->off, end = last->off + last->len;
	struct http_req **pp, *r;

	if (hc->nbatch == BATCH_MAX)
		return false;
	for (pp = &hs->queue; (r = *pp); pp = &r->next) {
		bool after = r->off == end;
		bool before = !first->urgent && r->off + r->len == start;

		if (!after && !before)
			continue;
		if ((after ? r->off + r->len - start : end - r->off) >
		    COALESCE_MAX)
			continue;
		*pp = r->next;
		if (!r->next)
			hs->queue_tail = pp;
		if (after) {
			hc->batch[hc->nbatch++] = r;
		} else {
			memmove(hc->batch + 1, hc->batch,
				hc->nbatch * sizeof(*hc->batch));
			hc->batch[0] = r;
			hc->nbatch++;
		}
		return true;
	}
	return false;
}

/*
 * Take the head of the queue, the most urgent read, and every queued read
 * that extends it without a gap in the blob.
 */
static bool take_batch(struct http_conn *hc)
{
	struct http_source *hs = hc->hs;
	struct http_req *r;
	unsigned int i;

	pthread_mutex_lock(&hs->lock);
	hc->idle = true;
	while (!may_take(hc) && !atomic_load(&hs->stop))
		pthread_cond_wait(&hs->cond, &hs->lock);
	hc->idle = false;
	if (atomic_load(&hs->stop)) {
		pthread_mutex_unlock(&hs->lock);
		return false;
	}
	r = hs->queue;
	hs->queue = r->next;
	if (!hs->queue)
		hs->queue_tail = &hs->queue;
	hc->batch[0] = r;
	hc->nbatch = 1;
	hc->first = 0;
	while (grow_batch(hc))
		;
	hc->bg = true;
	for (i = 0; i < hc->nbatch; i++)
		if (hc->batch[i]->urgent)
			hc->bg = false;
	if (hc->bg)
		hs->bg_busy++;
	/* the next read's turn may now be another idle connection's */
	if (hs->queue)
		pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
	return true;
}

/*
 * The server stopped answering (@down) or answers again: said once for
 * the source, whichever of its connections notices first.
 */
static void set_down(struct http_source *hs, bool down, const char *why)
{
	bool was;

	pthread_mutex_lock(&hs->lock);
	was = hs->down;
	hs->down = down;
	pthread_mutex_unlock(&hs->lock);
	if (down && !was)
		log_warn("%s: %s; retrying until it answers", hs->display, why);
	else if (!down && was)
		log_info("%s: answering again", hs->display);
}

/*
 * A transfer from endpoint @used failed (@why): move on to the next one,
 * unless that was the last (the location's own server) or another
 * connection moved on already.  true if there is another to try now.
 */
static bool fall_over(struct http_source *hs, unsigned int used,
		      const char *why)
{
	unsigned int want = used;

	if (used + 1 >= hs->nep)
		return false;
	if (atomic_compare_exchange_strong(&hs->cur, &want, used + 1))
		log_warn("%s: mirror %s: %s; reading from %s now", hs->display,
			 hs->ep[used].host, why, hs->ep[used + 1].host);
	return true;
}

static void *worker(void *arg)
{
	struct http_conn *hc = arg;
	struct http_source *hs = hc->hs;
	char why[CURL_ERROR_SIZE + 128];
	uint64_t off = 0, end;
	unsigned int ms;
	sigset_t stop;
	int ret;

	/* the feeder's loop takes the stop signals, never a worker */
	incrfsd_stop_signals(&stop);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	/*
	 * Created before the feeder drops its capabilities, which are per
	 * thread: a worker only speaks HTTP, it needs none of them.  Where
	 * the drop is refused the feeder says so, once; a worker is silent.
	 */
	incrfsd_drop_privileges(why, sizeof(why));
	while (take_batch(hc)) {
		end = hc->batch[hc->nbatch - 1]->off +
		      hc->batch[hc->nbatch - 1]->len;
		if (end == hc->batch[0]->off) {
			finish_batch(hc, 0);
			continue;
		}
		if (hc->nbatch > 1)
			log_debug("%s: one request for %u neighbouring reads, %" PRIu64 " bytes",
				  hs->display, hc->nbatch,
				  end - hc->batch[0]->off);
		ms = BACKOFF_MIN_MS;
		for (;;) {
			/* a retry asks only for what has not arrived */
			off = hc->batch[hc->first]->off;
			ret = transfer(hc, off, end - off, NULL, why,
				       sizeof(why));
			if (hc->first == hc->nbatch)
				ret = XFER_OK;	/* every byte is in */
			if (atomic_load(&hs->stop))
				break;
			/* a mirror that is down or lacks the blob gives way */
			if (ret != XFER_OK && fall_over(hs, hc->ep_used, why))
				continue;
			if (ret != XFER_RETRY)
				break;
			set_down(hs, true, why);
			if (!backoff(hs, ms))
				break;
			ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
		}
		if (atomic_load(&hs->stop))
			break;
		if (ret == XFER_OK)
			set_down(hs, false, NULL);
		else
			log_err("%s: bytes %" PRIu64 "-%" PRIu64 ": %s",
				hs->display, off, end - 1, why);
		finish_batch(hc, ret == XFER_OK ? 0 : -EIO);
	}
	return NULL;
}

static void http_close(struct incrfsd_source *src);

static int http_fail(struct incrfsd_source *src, int err, const char *fmt,
		     const char *what)
{
	char msg[1024];
	size_t n;

	/* cut, not -Wformat-truncation: a URL may be longer than err */
	snprintf(msg, sizeof(msg), fmt, what);
	n = strnlen(msg, sizeof(src->err) - 1);
	memcpy(src->err, msg, n);
	src->err[n] = 0;
	http_close(src);
	return err;
}

/*
 * If @location carries credentials (scheme://USER[:PASSWORD]@HOST...),
 * the length of its scheme and "://"; else 0.
 */
static size_t userinfo_at(const char *location)
{
	const char *auth = strstr(location, "://");
	size_t n;

	if (!auth)
		return 0;
	auth += 3;
	n = strcspn(auth, "/?#");
	return memchr(auth, '@', n) ? (size_t)(auth - location) : 0;
}

static int http_open(struct incrfsd_source *src, const char *location,
		     unsigned int depth)
{
	const struct curl_lib *cu;
	struct http_source *hs;
	char why[CURL_ERROR_SIZE + 128] = "";
	/*
	 * Not bytes=0-0: busybox httpd reads an end of 0 as "to the end".
	 * 128 bytes: a blob header; a smaller blob is answered in full.
	 */
	char probe[INCRFSD_SOURCE_HEAD];
	struct http_req r = { .len = sizeof(probe), .buf = probe };
	const char *bad = NULL;
	unsigned int i, e, ms = BACKOFF_MIN_MS;
	uint64_t size = 0;
	int ret = XFER_FAIL;

	src->event_fd = -1;
	/* a secret on the command line shows in ps, logs and unit files */
	if (userinfo_at(location)) {
		size_t s = userinfo_at(location);
		const char *host = strchr(location + s, '@') + 1;
		int scheme = s < 12 ? (int)s : 12;	/* "registry://" */

		snprintf(src->err, sizeof(src->err),
			 "%.*s***@%.100s: credentials in the location are refused: put them in an auth file (incrfsd --help, ENVIRONMENT)",
			 scheme, location, host);
		return -EINVAL;
	}
	cu = curl_lib_get(src->err, sizeof(src->err));
	if (!cu)
		return -ENOPKG;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	src->priv = hs;
	hs->cu = cu;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->cond, NULL);
	hs->queue_tail = &hs->queue;
	hs->done_tail = &hs->done;
	atomic_init(&hs->stop, false);
	hs->display = strdup(location);
	if (!hs->display)
		return http_fail(src, -ENOMEM, "%s: out of memory", location);
	/* registry://: the mirrors first, in order, the registry last */
	hs->nep = registry_match(location) ? net.n_mirrors + 1 : 1;
	for (e = 0; e < hs->nep; e++) {
		struct http_endpoint *ep = &hs->ep[e];
		const char *host;
		int n;

		ep->url = !registry_match(location) ? strdup(location) :
			  registry_url(location, e + 1 < hs->nep ?
				       net.mirrors[e] : NULL, &bad);
		if (!ep->url)
			return http_fail(src, -EINVAL,
					 bad ? "%s" : "out of memory", bad);
		ep->tls = !strncmp(ep->url, "https://", 8);
		n = url_host(ep->url, &host);
		snprintf(ep->host, sizeof(ep->host), "%.*s", n, host);
		if (registry_match(location)) {
			ep->auth = registry_auth_new(cu, ep->host, ep->tls,
						     note_creds);
			if (!ep->auth)
				return http_fail(src, -ENOMEM,
						 "%s: out of memory", location);
		}
	}
	atomic_init(&hs->cur, 0);
	hs->nconns = depth < HTTP_CONNS_MAX ? depth : HTTP_CONNS_MAX;
	if (!hs->nconns)
		hs->nconns = 1;
	for (i = 0; i < hs->nconns; i++) {
		hs->conns[i].hs = hs;
		hs->conns[i].curl = hs->cu->easy_init();
		if (!hs->conns[i].curl)
			return http_fail(src, -ENOMEM,
					 "%s: curl_easy_init failed", location);
		setup_handle(&hs->conns[i]);
	}
	/*
	 * The size: from the Content-Range of a short read.  A mirror gets
	 * one try; the last endpoint, the location's own server, several.
	 */
	for (e = 0; e < hs->nep; e++) {
		atomic_store(&hs->cur, e);
		for (i = 0; i < OPEN_ATTEMPTS; i++) {
			hs->conns[0].batch[0] = &r;
			hs->conns[0].nbatch = 1;
			ret = transfer(&hs->conns[0], 0, sizeof(probe), &size,
				       why, sizeof(why));
			hs->conns[0].nbatch = 0;
			if (ret != XFER_RETRY || e + 1 < hs->nep)
				break;
			usleep(ms * 1000);
			ms *= 2;
		}
		if (ret == XFER_OK)
			break;
		if (e + 1 < hs->nep)
			log_warn("%s: mirror %s: %s; trying %s", hs->display,
				 hs->ep[e].host, why, hs->ep[e + 1].host);
	}
	if (ret == XFER_OK && hs->nep > 1 && e + 1 < hs->nep)
		log_info("%s: reading from mirror %s", hs->display,
			 hs->ep[e].host);
	if (ret != XFER_OK) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s: %s", hs->display, why);
		if (ret == XFER_RETRY)
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 " (gave up after %d attempts)", OPEN_ATTEMPTS);
		return http_fail(src, ret == XFER_RETRY ? -EHOSTUNREACH : -EIO,
				 "%s", msg);
	}
	src->size = size;
	hs->size = size;
	/* the probe's bytes are the blob header: keep them (source.h) */
	src->head_len = size < sizeof(probe) ? (size_t)size : sizeof(probe);
	memcpy(src->head, probe, src->head_len);
	src->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (src->event_fd < 0)
		return http_fail(src, -errno, "%s: eventfd failed", location);
	hs->event_fd = src->event_fd;
	for (i = 0; i < hs->nconns; i++) {
		ret = pthread_create(&hs->conns[i].thread, NULL, worker,
				     &hs->conns[i]);
		if (ret)
			return http_fail(src, -ret,
					 "%s: cannot start its threads",
					 location);
		hs->conns[i].thread_ok = true;
	}
	return 0;
}

static int http_read(struct incrfsd_source *src, uint64_t off, size_t len,
		     void *buf, unsigned int flags, void *cookie)
{
	struct http_source *hs = src->priv;
	struct http_req *r, **pp;

	if (src->inflight >= src->depth)
		return -EBUSY;
	if (off + len < off)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct http_req){ .off = off, .len = len, .buf = buf,
				.cookie = cookie,
				.urgent = flags & INCRFSD_READ_URGENT };
	src->inflight++;
	pthread_mutex_lock(&hs->lock);
	if (off + len > src->size) {
		/* past the end: fails in reap(), as the interface says */
		uint64_t one = 1;

		r->err = -EIO;
		*hs->done_tail = r;
		hs->done_tail = &r->next;
		pthread_mutex_unlock(&hs->lock);
		if (write(src->event_fd, &one, sizeof(one)) < 0)
			return -errno;
		return 0;
	}
	/* urgent reads after the urgent ones queued, before the others */
	pp = hs->queue_tail;
	if (r->urgent)
		for (pp = &hs->queue; *pp && (*pp)->urgent; pp = &(*pp)->next)
			;
	r->next = *pp;
	*pp = r;
	if (!r->next)
		hs->queue_tail = &r->next;
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
	return 0;
}

static void http_plug(struct incrfsd_source *src, bool plugged)
{
	struct http_source *hs = src->priv;

	pthread_mutex_lock(&hs->lock);
	hs->plugged = plugged;
	if (!plugged)
		pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
}

/* A reader now waits for the read @cookie: move it among the urgent. */
static void http_hurry(struct incrfsd_source *src, void *cookie)
{
	struct http_source *hs = src->priv;
	struct http_req **pp, *r;

	pthread_mutex_lock(&hs->lock);
	for (pp = &hs->queue; (r = *pp); pp = &r->next)
		if (r->cookie == cookie)
			break;
	if (r && !r->urgent) {
		*pp = r->next;
		if (!r->next)
			hs->queue_tail = pp;
		r->urgent = true;
		for (pp = &hs->queue; *pp && (*pp)->urgent; pp = &(*pp)->next)
			;
		r->next = *pp;
		*pp = r;
		if (!r->next)
			hs->queue_tail = &r->next;
		pthread_cond_broadcast(&hs->cond);
	}
	pthread_mutex_unlock(&hs->lock);
}

static int http_reap(struct incrfsd_source *src, struct incrfsd_read_done *done,
		     unsigned int max, bool wait)
{
	struct http_source *hs = src->priv;
	struct http_req *r;
	unsigned int n = 0;
	uint64_t v, one = 1;
	bool more;

	if (read(src->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&hs->lock);
	while (wait && !hs->done && src->inflight)
		pthread_cond_wait(&hs->cond, &hs->lock);
	while (n < max && (r = hs->done)) {
		hs->done = r->next;
		if (!hs->done)
			hs->done_tail = &hs->done;
		done[n].cookie = r->cookie;
		done[n].err = r->err;
		free(r);
		n++;
		src->inflight--;
	}
	more = hs->done != NULL;
	/*
	 * Readable afterwards only if more results wait: a read finished
	 * after the read() above signalled it, and may have been taken.
	 */
	if (!more && read(src->event_fd, &v, sizeof(v)) < 0)
		v = 0;	/* EAGAIN: it was clear */
	pthread_mutex_unlock(&hs->lock);
	if (more && write(src->event_fd, &one, sizeof(one)) < 0)
		return -errno;
	return (int)n;
}

static void free_list(struct http_req *r)
{
	while (r) {
		struct http_req *next = r->next;

		free(r);
		r = next;
	}
}

static void http_close(struct incrfsd_source *src)
{
	struct http_source *hs = src->priv;
	unsigned int i;

	if (!hs)
		return;
	pthread_mutex_lock(&hs->lock);
	atomic_store(&hs->stop, true);
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
	for (i = 0; i < hs->nconns; i++) {
		struct http_conn *hc = &hs->conns[i];

		if (hc->thread_ok)
			pthread_join(hc->thread, NULL);
		/* reads the worker held when it stopped */
		while (hc->nbatch > hc->first)
			free(hc->batch[--hc->nbatch]);
		if (hc->curl)
			hs->cu->easy_cleanup(hc->curl);
	}
	free_list(hs->queue);
	free_list(hs->done);
	if (src->event_fd >= 0)
		close(src->event_fd);
	pthread_mutex_destroy(&hs->lock);
	pthread_cond_destroy(&hs->cond);
	for (i = 0; i < hs->nep; i++) {
		registry_auth_free(hs->ep[i].auth);
		free(hs->ep[i].url);
		free(hs->ep[i].direct);
	}
	free(hs->display);
	free(hs);
	src->priv = NULL;
	src->event_fd = -1;
	src->inflight = 0;
}

const struct incrfsd_source_ops incrfsd_http_source = {
	.name = "http",
	.default_depth = HTTP_DEFAULT_DEPTH,
	.default_amplify = HTTP_DEFAULT_AMPLIFY,
	.default_whole_mapped = true,
	.match = http_match,
	.open = http_open,
	.read = http_read,
	.reap = http_reap,
	.plug = http_plug,
	.hurry = http_hurry,
	.close = http_close,
};

const struct incrfsd_source_ops incrfsd_registry_source = {
	.name = "registry",
	.default_depth = HTTP_DEFAULT_DEPTH,
	.default_amplify = HTTP_DEFAULT_AMPLIFY,
	.default_whole_mapped = true,
	.match = registry_match,
	.open = http_open,
	.read = http_read,
	.reap = http_reap,
	.plug = http_plug,
	.hurry = http_hurry,
	.close = http_close,
};
