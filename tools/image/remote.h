/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * remote.h - an image in a registry, for incrfs-image's commands: its
 * reference, and its manifest, config and blobs fetched and checked
 * against their digests.
 *
 * Why this exists: pull reads converted images from registries, convert
 * reads source images from them and writes converted ones to them; the
 * reference syntax, the platform choice through an index and the digest
 * checks must be the same for both.
 */
#ifndef INCRFS_REMOTE_H
#define INCRFS_REMOTE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "oci_layout.h"
#include "registry_client.h"

struct remote {
	char host[256];		/* HOST[:PORT] */
	char repo[256];		/* REPO: lower-case letters, digits, ._-/ */
	char ref[160];		/* TAG, or sha256:HEX */
	bool tls;		/* https, unless --insecure-registry HOST */
	char where[600];	/* HOST/REPO:TAG, for messages */
	struct registry_client *rc;
};

/*
 * Parse "[docker://]HOST[:PORT]/REPO[:TAG|@sha256:HEX]" (TAG defaults to
 * latest; HOST must have a '.' or ':' or be localhost) and connect to it:
 * plain http if HOST[:PORT] is one of @insecure (@n_insecure of them).
 * 0, or -EINVAL (a bad reference) / -EIO (libcurl) with @err.
 */
int remote_open(struct remote *r, const char *arg,
		const char *const *insecure, int n_insecure,
		void (*note)(const char *msg), char *err, size_t err_len);
void remote_close(struct remote *r);

/*
 * The image manifest for @platform (through an image index): parsed in
 * @m, its digest in @digest, its bytes (malloc()ed) in @raw if not NULL.
 */
int remote_manifest(struct remote *r, const char *platform,
		    struct json_object **m, char digest[OCI_DIGEST_LEN],
		    char **raw, size_t *raw_len, char *err, size_t err_len);

/*
 * The manifest @ref (a tag or a digest) as it is, no index followed:
 * parsed in @m, its digest and size in @d.  -ENOENT if there is none.
 */
int remote_get_manifest(struct remote *r, const char *ref,
			struct json_object **m, struct oci_desc *d,
			char *err, size_t err_len);

/* The blob @d into the file @fd, checked against its size and digest. */
int remote_blob(struct remote *r, const struct oci_desc *d, int fd,
		char *err, size_t err_len);

/* The JSON blob @d (a config), checked, parsed. */
int remote_json(struct remote *r, const struct oci_desc *d,
		struct json_object **out, char *err, size_t err_len);

/* Parse @len bytes at @buf as a JSON object (@what names it). */
int remote_parse_object(const char *buf, size_t len, const char *what,
			struct json_object **out, char *err, size_t err_len);

#endif
