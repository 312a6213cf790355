// SPDX-License-Identifier: GPL-2.0-only
/*
 * remote.c - an image in a registry: its reference parsed, its manifest
 * (through an index), config and blobs fetched and checked.
 *
 * Why this exists: see remote.h.
 */
#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hex.h"
#include "sha256.h"

#define ACCEPT_MANIFESTS OCI_MT_MANIFEST ", " OCI_MT_INDEX ", " \
			 DOCKER_MT_MANIFEST ", " DOCKER_MT_LIST

static bool repo_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr("._-/", *s)))
			return false;
	return true;
}

int remote_open(struct remote *r, const char *arg,
		const char *const *insecure, int n_insecure,
		void (*note)(const char *msg), char *err, size_t err_len)
{
	const char *s = arg, *slash, *at, *colon;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!strncmp(s, "docker://", 9))
		s += 9;
	slash = strchr(s, '/');
	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(r->host) ||
	    !(memchr(s, '.', slash - s) || memchr(s, ':', slash - s) ||
	      !strncmp(s, "localhost/", 10))) {
		snprintf(err, err_len,
			 "%s: name the registry: HOST[:PORT]/REPO[:TAG]", arg);
		return -EINVAL;
	}
	memcpy(r->host, s, slash - s);
	s = slash + 1;
	at = strchr(s, '@');
	colon = strrchr(s, ':');
	if (at) {
		snprintf(r->ref, sizeof(r->ref), "%s", at + 1);
		if (!oci_digest_valid(r->ref)) {
			snprintf(err, err_len,
				 "%s: the digest is not sha256:<64 hex digits>",
				 arg);
			return -EINVAL;
		}
		i = (size_t)(at - s);
	} else if (colon && !strchr(colon, '/')) {
		snprintf(r->ref, sizeof(r->ref), "%s", colon + 1);
		i = (size_t)(colon - s);
	} else {
		snprintf(r->ref, sizeof(r->ref), "latest");
		i = strlen(s);
	}
	if (!i || i >= sizeof(r->repo)) {
		snprintf(err, err_len, "%s: no repository", arg);
		return -EINVAL;
	}
	memcpy(r->repo, s, i);
	if (!repo_chars_ok(r->repo) || !r->ref[0] || strspn(r->ref,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:")
		!= strlen(r->ref)) {
		snprintf(err, err_len,
			 "%s: a repository is lower-case letters, digits and ._-/; a tag letters, digits and ._-",
			 arg);
		return -EINVAL;
	}
	r->tls = true;
	for (i = 0; i < (size_t)n_insecure; i++)
		if (!strcmp(insecure[i], r->host))
			r->tls = false;
	snprintf(r->where, sizeof(r->where), "%s/%s%s%s", r->host, r->repo,
		 at ? "@" : ":", r->ref);
	r->rc = registry_client_new(r->host, r->tls, note, err, err_len);
	return r->rc ? 0 : -EIO;
}

void remote_close(struct remote *r)
{
	registry_client_free(r->rc);
	r->rc = NULL;
}

/* Does @buf (@len bytes) hash to @digest? */
static bool digest_matches(const void *buf, size_t len, const char *digest)
{
	uint8_t md[INCRFS_SHA256_SIZE];
	char got[OCI_DIGEST_LEN] = "sha256:";

	if (incrfs_sha256(buf, len, md))
		return false;
	incrfs_hex(md, sizeof(md), got + 7);
	return !strcmp(got, digest);
}

int remote_parse_object(const char *buf, size_t len, const char *what,
			struct json_object **out, char *err, size_t err_len)
{
	struct json_tokener *tok = json_tokener_new();

	*out = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL;
	if (*out && (json_tokener_get_error(tok) != json_tokener_success ||
		     !json_object_is_type(*out, json_type_object))) {
		json_object_put(*out);
		*out = NULL;
	}
	if (tok)
		json_tokener_free(tok);
	if (!*out) {
		snprintf(err, err_len, "%s is not a JSON object", what);
		return -EBADMSG;
	}
	return 0;
}

/* GET a manifest by tag or digest: parsed, its digest, its bytes. */
static int get_manifest(struct remote *r, const char *ref,
			struct json_object **m, char *digest, char **raw,
			size_t *raw_len, char *err, size_t err_len)
{
	uint8_t md[INCRFS_SHA256_SIZE];
	char *body = NULL;
	size_t len = 0;
	int ret;

	ret = registry_client_get(r->rc, r->repo, "manifests", ref,
				  ACCEPT_MANIFESTS, -1, OCI_JSON_MAX, &body,
				  &len, NULL, 0, err, err_len);
	if (ret)
		return ret;
	incrfs_sha256(body, len, md);
	strcpy(digest, "sha256:");
	incrfs_hex(md, sizeof(md), digest + 7);
	if (!strncmp(ref, "sha256:", 7) && strcmp(ref, digest)) {
		snprintf(err, err_len,
			 "%s: the registry's manifest %s does not match its digest",
			 r->where, ref);
		free(body);
		return -EBADMSG;
	}
	ret = remote_parse_object(body, len, "the manifest", m, err, err_len);
	if (!ret && raw) {
		*raw = body;
		*raw_len = len;
		body = NULL;
	}
	free(body);
	return ret;
}

int remote_manifest(struct remote *r, const char *platform,
		    struct json_object **m, char digest[OCI_DIGEST_LEN],
		    char **raw, size_t *raw_len, char *err, size_t err_len)
{
	struct json_object *top = NULL;
	struct oci_desc d;
	const char *mt;
	char *top_raw = NULL;
	size_t top_len = 0;
	int ret;

	ret = get_manifest(r, r->ref, &top, digest, &top_raw, &top_len, err,
			   err_len);
	if (ret)
		return ret;
	mt = oci_str(top, "mediaType");
	if (mt && oci_is_index(mt)) {
		free(top_raw);
		ret = oci_index_pick(top, platform, r->where, &d, err, err_len);
		json_object_put(top);
		if (ret)
			return ret;
		return get_manifest(r, d.digest, m, digest, raw, raw_len, err,
				    err_len);
	}
	*m = top;
	if (raw) {
		*raw = top_raw;
		*raw_len = top_len;
	} else {
		free(top_raw);
	}
	return 0;
}

int remote_get_manifest(struct remote *r, const char *ref,
			struct json_object **m, struct oci_desc *d,
			char *err, size_t err_len)
{
	char *raw = NULL;
	size_t len = 0;
	const char *mt;
	int ret;

	ret = get_manifest(r, ref, m, d->digest, &raw, &len, err, err_len);
	free(raw);
	if (ret)
		return ret;
	d->size = (int64_t)len;
	mt = oci_str(*m, "mediaType");
	snprintf(d->media_type, sizeof(d->media_type), "%s",
		 mt ? mt : OCI_MT_MANIFEST);
	return 0;
}

int remote_blob(struct remote *r, const struct oci_desc *d, int fd,
		char *err, size_t err_len)
{
	char got[OCI_DIGEST_LEN];
	struct stat st;
	int ret;

	ret = registry_client_get(r->rc, r->repo, "blobs", d->digest, NULL,
				  fd, (uint64_t)d->size, NULL, NULL, NULL, 0,
				  err, err_len);
	if (ret)
		return ret;
	if (fstat(fd, &st) || st.st_size != d->size ||
	    oci_hash_fd(fd, (uint64_t)d->size, got) ||
	    strcmp(got, d->digest)) {
		snprintf(err, err_len,
			 "%s: blob %s does not match its digest or size",
			 r->where, d->digest);
		return -EBADMSG;
	}
	return 0;
}

int remote_json(struct remote *r, const struct oci_desc *d,
		struct json_object **out, char *err, size_t err_len)
{
	char *body = NULL;
	size_t len = 0;
	int ret;

	if (d->size > (int64_t)OCI_JSON_MAX) {
		snprintf(err, err_len, "%s: a config of %lld bytes", r->where,
			 (long long)d->size);
		return -EFBIG;
	}
	ret = registry_client_get(r->rc, r->repo, "blobs", d->digest, NULL,
				  -1, (uint64_t)d->size, &body, &len, NULL, 0,
				  err, err_len);
	if (ret)
		return ret;
	if ((int64_t)len != d->size || !digest_matches(body, len, d->digest)) {
		snprintf(err, err_len,
			 "%s: blob %s does not match its digest or size",
			 r->where, d->digest);
		free(body);
		return -EBADMSG;
	}
	ret = remote_parse_object(body, len, "the image config", out, err,
				  err_len);
	free(body);
	return ret;
}
