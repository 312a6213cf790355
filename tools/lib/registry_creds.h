/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * registry_creds.h - the credentials a user already keeps for a registry,
 * from the files container tools write.
 *
 * Why this exists: every public registry asks for a token even for
 * anonymous pulls, and private ones for credentials; users log in with
 * `docker login` or `podman login`, which write them to a JSON auth file.
 * incrfsd and incrfs-image read the same files, so no secret ever appears on its command
 * line.  Files, first match wins:
 *   $CREDENTIALS_DIRECTORY/registry-auth.json   (systemd LoadCredential=)
 *   $REGISTRY_AUTH_FILE
 *   $XDG_RUNTIME_DIR/containers/auth.json        (podman)
 *   $HOME/.docker/config.json                    (docker)
 * An entry of "auths" is matched by host[:port]; a key may carry a scheme
 * and a path ("https://index.docker.io/v1/").  "auth" is base64 of
 * "user:password"; "identitytoken" is an OAuth2 refresh token.
 */
#ifndef INCRFS_REGISTRY_CREDS_H
#define INCRFS_REGISTRY_CREDS_H

#include <stddef.h>

struct registry_creds {
	char *user, *password;	/* from "auth", or NULL */
	char *identity_token;	/* "identitytoken", or NULL */
	char file[512];		/* where they came from */
};

/*
 * Look up @host ("host[:port]").  1 with @c filled, 0 if no file has an
 * entry for it (@c->file then lists the files looked at, for messages),
 * -1 with @err set if a file exists but cannot be read or parsed.
 */
int registry_creds_find(const char *host, struct registry_creds *c,
			char *err, size_t err_len);

/* Wipe and free the secrets. */
void registry_creds_clear(struct registry_creds *c);

#endif
