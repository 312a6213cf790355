// SPDX-License-Identifier: GPL-2.0-only
/*
 * registry_creds.c - read registry credentials from the auth files of
 * docker and podman (see registry_creds.h).  json-c parses the file;
 * OpenSSL decodes the base64 of "auth".  Secrets are wiped when freed and
 * never copied into a message.
 */
#include "registry_creds.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An auth file larger than this is not one. */
#define AUTH_FILE_MAX	(1U << 20)

static void free_secret(char **p)
{
	if (*p) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

void registry_creds_clear(struct registry_creds *c)
{
	free_secret(&c->user);
	free_secret(&c->password);
	free_secret(&c->identity_token);
}

/* "https://host:port/v1/" -> does it name @host? */
static bool key_matches(const char *key, const char *host)
{
	const char *p = strstr(key, "://");
	size_t n = strlen(host);

	p = p ? p + 3 : key;
	return !strncmp(p, host, n) && (p[n] == 0 || p[n] == '/');
}

/* "user:password" from the base64 @b64; false if it is not that. */
static bool decode_auth(const char *b64, struct registry_creds *c)
{
	size_t len = strlen(b64);
	unsigned char *raw;
	char *colon;
	int n;

	if (!len || len % 4 || len > 16384)
		return false;
	raw = calloc(1, len / 4 * 3 + 1);
	if (!raw)
		return false;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n > 0) {	/* EVP_DecodeBlock counts the padding as zeros */
		while (len && b64[--len] == '=')
			n--;
		raw[n] = 0;
	}
	colon = n > 0 && strlen((char *)raw) == (size_t)n ?
		strchr((char *)raw, ':') : NULL;
	if (colon) {
		*colon = 0;
		c->user = strdup((char *)raw);
		c->password = strdup(colon + 1);
	}
	OPENSSL_cleanse(raw, len / 4 * 3 + 1);
	free(raw);
	if (colon && (!c->user || !c->password)) {
		registry_creds_clear(c);
		return false;
	}
	return colon != NULL;
}

/* 1 found, 0 not in this file (or no file), -1 bad file. */
static int look_in(const char *path, const char *host,
		   struct registry_creds *c, char *err, size_t err_len)
{
	struct json_object *root, *auths, *e, *v;
	struct stat st;
	int ret = 0;

	if (stat(path, &st))
		return 0;
	if (!S_ISREG(st.st_mode) || st.st_size > AUTH_FILE_MAX) {
		snprintf(err, err_len, "%s: not an auth file", path);
		return -1;
	}
	if (access(path, R_OK)) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	root = json_object_from_file(path);
	if (!root) {
		snprintf(err, err_len, "%s: not valid JSON: %s", path,
			 json_util_get_last_err() ?: "?");
		return -1;
	}
	if (!json_object_object_get_ex(root, "auths", &auths) ||
	    !json_object_is_type(auths, json_type_object))
		goto out;
	json_object_object_foreach(auths, key, entry) {
		if (!key_matches(key, host) ||
		    !json_object_is_type(entry, json_type_object))
			continue;
		e = entry;
		if (json_object_object_get_ex(e, "identitytoken", &v) &&
		    json_object_get_string_len(v)) {
			c->identity_token = strdup(json_object_get_string(v));
			ret = c->identity_token ? 1 : -1;
		} else if (json_object_object_get_ex(e, "auth", &v) &&
			   json_object_get_string_len(v)) {
			ret = decode_auth(json_object_get_string(v), c) ? 1 : -1;
		} else {
			continue;	/* e.g. only a credential helper's name */
		}
		if (ret < 0)
			snprintf(err, err_len,
				 "%s: the entry for %s is not base64 of user:password",
				 path, key);
		break;
	}
out:
	json_object_put(root);
	if (ret > 0)
		snprintf(c->file, sizeof(c->file), "%s", path);
	return ret;
}

int registry_creds_find(const char *host, struct registry_creds *c,
			char *err, size_t err_len)
{
	const char *env;
	char path[4][512];
	size_t n = 0, i, used = 0;
	int ret;

	memset(c, 0, sizeof(*c));
	env = getenv("CREDENTIALS_DIRECTORY");
	if (env && *env)
		snprintf(path[n++], sizeof(path[0]), "%s/registry-auth.json",
			 env);
	env = getenv("REGISTRY_AUTH_FILE");
	if (env && *env)
		snprintf(path[n++], sizeof(path[0]), "%s", env);
	env = getenv("XDG_RUNTIME_DIR");
	if (env && *env)
		snprintf(path[n++], sizeof(path[0]),
			 "%s/containers/auth.json", env);
	env = getenv("HOME");
	if (env && *env)
		snprintf(path[n++], sizeof(path[0]), "%s/.docker/config.json",
			 env);
	for (i = 0; i < n; i++) {
		ret = look_in(path[i], host, c, err, err_len);
		if (ret)
			return ret;
	}
	/* not found: name the files, for the message a user acts on */
	for (i = 0; i < n && used < sizeof(c->file); i++)
		used += snprintf(c->file + used, sizeof(c->file) - used,
				 "%s%s", i ? ", " : "", path[i]);
	return 0;
}
