// SPDX-License-Identifier: GPL-2.0-only
/*
 * registry_auth.c - the token dance of the OCI distribution spec (see
 * registry_auth.h): parse the challenge, ask the realm for a token with
 * the user's credentials if any, keep it for every connection of the
 * source.  Tokens and passwords never reach a log line.
 */
#include "registry_auth.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry_creds.h"

/* A token service answer larger than this is not one. */
#define TOKEN_REPLY_MAX		(1U << 20)
/* Nor is a longer token (they are a few KiB). */
#define TOKEN_MAX		(64U << 10)
#define TOKEN_TIMEOUT_S		30L

enum auth_kind { AUTH_NONE, AUTH_BEARER, AUTH_BASIC };
enum creds_state { CREDS_UNKNOWN, CREDS_FOUND, CREDS_NONE, CREDS_BAD };

struct registry_auth {
	const struct curl_lib *cu;
	char host[256];
	bool tls;
	pthread_mutex_t lock;
	unsigned int gen;	/* bumped for each new credential */
	enum auth_kind kind;
	char *token;
	enum creds_state cstate;
	struct registry_creds creds;
	char cerr[512];		/* why the auth file could not be used */
	void (*note)(const char *msg);
};

struct registry_auth *registry_auth_new(const struct curl_lib *cu,
					const char *host, bool tls,
					void (*note)(const char *msg))
{
	struct registry_auth *ra = calloc(1, sizeof(*ra));

	if (!ra)
		return NULL;
	ra->cu = cu;
	ra->tls = tls;
	ra->note = note;
	snprintf(ra->host, sizeof(ra->host), "%s", host);
	pthread_mutex_init(&ra->lock, NULL);
	return ra;
}

static void drop_token(struct registry_auth *ra)
{
	if (ra->token) {
		OPENSSL_cleanse(ra->token, strlen(ra->token));
		free(ra->token);
		ra->token = NULL;
	}
}

void registry_auth_free(struct registry_auth *ra)
{
	if (!ra)
		return;
	drop_token(ra);
	registry_creds_clear(&ra->creds);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
}

unsigned int registry_auth_apply(struct registry_auth *ra, CURL *curl,
				 unsigned int have)
{
	const struct curl_lib *cu = ra->cu;
	unsigned int gen;

	pthread_mutex_lock(&ra->lock);
	gen = ra->gen;
	if (gen != have) {
		/* libcurl copies the strings */
		if (ra->kind == AUTH_BEARER) {
			cu->easy_setopt(curl, CURLOPT_HTTPAUTH,
					(long)CURLAUTH_BEARER);
			cu->easy_setopt(curl, CURLOPT_XOAUTH2_BEARER,
					ra->token);
		} else if (ra->kind == AUTH_BASIC) {
			cu->easy_setopt(curl, CURLOPT_HTTPAUTH,
					(long)CURLAUTH_BASIC);
			cu->easy_setopt(curl, CURLOPT_USERNAME,
					ra->creds.user);
			cu->easy_setopt(curl, CURLOPT_PASSWORD,
					ra->creds.password);
		}
	}
	pthread_mutex_unlock(&ra->lock);
	return gen;
}

/* The challenge's parameters incrfs uses. */
struct challenge {
	char scheme[16];
	char realm[1024], service[256], scope[512];
};

/*
 * Parse 'Bearer realm="...",service="...",scope="..."' (RFC 7235
 * auth-params, values quoted or not).  false if it is not that shape.
 */
static bool parse_challenge(const char *s, struct challenge *ch)
{
	size_t n;

	memset(ch, 0, sizeof(*ch));
	n = strcspn(s, " \t");
	if (!n || n >= sizeof(ch->scheme))
		return false;
	memcpy(ch->scheme, s, n);
	s += n;
	while (*s) {
		char name[32], *dst = NULL;
		size_t cap = 0, len = 0;

		s += strspn(s, " \t,");
		n = strcspn(s, "= \t,");
		if (!n)
			break;
		if (s[n] != '=' || n >= sizeof(name))
			return false;
		memcpy(name, s, n);
		name[n] = 0;
		s += n + 1;
		if (!strcasecmp(name, "realm"))
			dst = ch->realm, cap = sizeof(ch->realm);
		else if (!strcasecmp(name, "service"))
			dst = ch->service, cap = sizeof(ch->service);
		else if (!strcasecmp(name, "scope"))
			dst = ch->scope, cap = sizeof(ch->scope);
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (dst && len + 1 < cap)
					dst[len++] = *s;
				else if (dst)
					return false;	/* too long */
			}
			if (*s != '"')
				return false;
			s++;
		} else {
			for (; *s && *s != ',' && *s != ' ' && *s != '\t'; s++) {
				if (dst && len + 1 < cap)
					dst[len++] = *s;
				else if (dst)
					return false;
			}
		}
	}
	return true;
}

struct reply {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t on_reply(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;
	char *b;

	if (r->len + len > TOKEN_REPLY_MAX) {
		r->too_big = true;
		return 0;
	}
	b = realloc(r->buf, r->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, p, len);
	r->len += len;
	b[r->len] = 0;
	r->buf = b;
	return len;
}

/* "k=v&..." with the values escaped; NULL on allocation failure. */
static char *form(const struct curl_lib *cu, CURL *c, const char *const *kv,
		  size_t n)
{
	char *out = NULL, *esc;
	size_t i, len = 0;

	for (i = 0; i + 1 < n; i += 2) {
		char *next;

		if (!kv[i + 1] || !*kv[i + 1])
			continue;
		esc = cu->easy_escape(c, kv[i + 1], 0);
		if (!esc)
			goto fail;
		next = realloc(out, len + strlen(kv[i]) + strlen(esc) + 3);
		if (!next) {
			cu->free(esc);
			goto fail;
		}
		out = next;
		len += sprintf(out + len, "%s%s=%s", len ? "&" : "", kv[i],
			       esc);
		cu->free(esc);
	}
	return out ? out : strdup("");
fail:
	free(out);
	return NULL;
}

/* The token of a 200 answer, checked to be a header value; or NULL. */
static char *token_of(const char *body)
{
	struct json_object *root, *v;
	const char *t = NULL;
	char *ret = NULL;
	size_t i, n;

	root = json_tokener_parse(body);
	if (!root)
		return NULL;
	if ((json_object_object_get_ex(root, "token", &v) ||
	     json_object_object_get_ex(root, "access_token", &v)) &&
	    json_object_is_type(v, json_type_string))
		t = json_object_get_string(v);
	n = t ? strlen(t) : 0;
	for (i = 0; i < n; i++)
		if (t[i] <= ' ' || t[i] > '~')
			break;
	if (n && n <= TOKEN_MAX && i == n)
		ret = strdup(t);
	json_object_put(root);
	return ret;
}

/*
 * Ask @ch's realm for a token, under ra->lock.  0 with ra->token set;
 * -EAGAIN (try later) or -EACCES with @why.
 */
static int fetch_token(struct registry_auth *ra, const struct challenge *ch,
		       char *why, size_t why_len)
{
	const struct curl_lib *cu = ra->cu;
	const char *protos = ra->tls ? "https" : "http,https";
	struct reply r = { 0 };
	char err[CURL_ERROR_SIZE] = "", *url = NULL, *q = NULL, *token;
	bool refresh = ra->cstate == CREDS_FOUND && ra->creds.identity_token;
	long code = 0;
	CURLcode cc;
	CURL *c;
	int ret = -EACCES;

	if (strncmp(ch->realm, "https://", 8) &&
	    (ra->tls || strncmp(ch->realm, "http://", 7))) {
		snprintf(why, why_len,
			 "%s: the token realm '%.300s' is not %s: refused",
			 ra->host, ch->realm,
			 ra->tls ? "https" : "an http(s) URL");
		return -EACCES;
	}
	c = cu->easy_init();
	if (!c) {
		snprintf(why, why_len, "curl_easy_init failed");
		return -EAGAIN;
	}
	if (refresh) {
		/* OAuth2: POST the refresh token (docker's identity token) */
		const char *kv[] = { "grant_type", "refresh_token",
				     "service", ch->service,
				     "scope", ch->scope,
				     "client_id", "incrfsd",
				     "refresh_token",
				     ra->creds.identity_token };

		q = form(cu, c, kv, sizeof(kv) / sizeof(kv[0]));
		url = strdup(ch->realm);
		if (q)
			cu->easy_setopt(c, CURLOPT_POSTFIELDS, q);
	} else {
		const char *kv[] = { "service", ch->service,
				     "scope", ch->scope };

		q = form(cu, c, kv, sizeof(kv) / sizeof(kv[0]));
		if (q && asprintf(&url, "%s%s%s", ch->realm,
				  *q ? strchr(ch->realm, '?') ? "&" : "?" : "",
				  q) < 0)
			url = NULL;
		if (ra->cstate == CREDS_FOUND) {
			cu->easy_setopt(c, CURLOPT_HTTPAUTH,
					(long)CURLAUTH_BASIC);
			cu->easy_setopt(c, CURLOPT_USERNAME, ra->creds.user);
			cu->easy_setopt(c, CURLOPT_PASSWORD,
					ra->creds.password);
		}
	}
	if (!q || !url) {
		snprintf(why, why_len, "out of memory");
		ret = -EAGAIN;
		goto out;
	}
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos);
	cu->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	cu->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_lib_setup(cu, c);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT, TOKEN_TIMEOUT_S);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &r);
	cc = cu->easy_perform(c);
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cc != CURLE_OK && !r.too_big) {
		snprintf(why, why_len, "%s: token service %.300s: %s",
			 ra->host, ch->realm, err[0] ? err :
			 cu->easy_strerror(cc));
		ret = -EAGAIN;
	} else if (code == 401 || code == 403) {
		if (ra->cstate == CREDS_FOUND)
			snprintf(why, why_len,
				 "%s: the token service %.300s refused the credentials from %s (HTTP %ld)",
				 ra->host, ch->realm, ra->creds.file, code);
		else
			snprintf(why, why_len,
				 "%s: authentication required; no credentials for this host in %s",
				 ra->host, ra->creds.file);
	} else if (code >= 500 || code == 408 || code == 429) {
		snprintf(why, why_len, "%s: token service %.300s: HTTP %ld",
			 ra->host, ch->realm, code);
		ret = -EAGAIN;
	} else if (code != 200 || r.too_big || !r.buf ||
		   !(token = token_of(r.buf))) {
		snprintf(why, why_len,
			 "%s: token service %.300s: HTTP %ld without a token",
			 ra->host, ch->realm, code);
	} else {
		drop_token(ra);
		ra->token = token;
		ret = 0;
	}
out:
	if (q) {
		OPENSSL_cleanse(q, strlen(q));
		free(q);
	}
	free(url);
	if (r.buf) {
		OPENSSL_cleanse(r.buf, r.len);
		free(r.buf);
	}
	cu->easy_cleanup(c);
	return ret;
}

/* Look the credentials up once per source.  Under ra->lock. */
static void load_creds(struct registry_auth *ra)
{
	int ret;

	if (ra->cstate != CREDS_UNKNOWN)
		return;
	ret = registry_creds_find(ra->host, &ra->creds, ra->cerr,
				  sizeof(ra->cerr));
	ra->cstate = ret > 0 ? CREDS_FOUND : ret == 0 ? CREDS_NONE :
		     CREDS_BAD;
	if (ret > 0 && ra->note) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s: credentials from %s", ra->host,
			 ra->creds.file);
		ra->note(msg);
	}
}

int registry_auth_answer(struct registry_auth *ra, const char *challenge,
			 unsigned int seen, char *why, size_t why_len)
{
	struct challenge ch;
	int ret = 0;

	pthread_mutex_lock(&ra->lock);
	if (ra->gen != seen)
		goto out;	/* another connection got new ones */
	load_creds(ra);
	if (ra->cstate == CREDS_BAD) {
		snprintf(why, why_len, "%s: %s", ra->host, ra->cerr);
		ret = -EACCES;
		goto out;
	}
	if (!challenge[0] || !parse_challenge(challenge, &ch)) {
		snprintf(why, why_len,
			 "%s: HTTP 401 with no authentication challenge incrfs understands",
			 ra->host);
		ret = -EACCES;
	} else if (!strcasecmp(ch.scheme, "Basic")) {
		if (ra->cstate != CREDS_FOUND || !ra->creds.user) {
			snprintf(why, why_len,
				 "%s: authentication required; no credentials for this host in %s",
				 ra->host, ra->creds.file);
			ret = -EACCES;
		} else if (ra->kind == AUTH_BASIC) {
			snprintf(why, why_len,
				 "%s: the registry refused the credentials from %s (HTTP 401)",
				 ra->host, ra->creds.file);
			ret = -EACCES;
		} else {
			ra->kind = AUTH_BASIC;
		}
	} else if (!strcasecmp(ch.scheme, "Bearer") && ch.realm[0]) {
		ret = fetch_token(ra, &ch, why, why_len);
		if (!ret)
			ra->kind = AUTH_BEARER;
	} else {
		snprintf(why, why_len,
			 "%s: HTTP 401 asking for '%s' authentication, which incrfs does not speak",
			 ra->host, ch.scheme);
		ret = -EACCES;
	}
	if (!ret)
		ra->gen++;
out:
	pthread_mutex_unlock(&ra->lock);
	return ret;
}
