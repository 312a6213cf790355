/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * registry_auth.h - answer a registry's authentication challenge, as the
 * OCI distribution spec's token authentication says.
 *
 * Why this exists: Docker Hub, GHCR, Quay, ECR and Harbor answer a blob
 * read with 401 and "WWW-Authenticate: Bearer realm=...,service=...,
 * scope=..." even for anonymous pulls.  The client fetches a token from
 * the realm (anonymously, with Basic credentials, or with an OAuth2
 * refresh token) and sends it as "Authorization: Bearer".  A registry
 * that asks for Basic authentication gets the user's credentials.
 * Credentials come from registry_creds.h; a token is fetched again when a
 * 401 comes back (it expired or was revoked).
 *
 * One struct registry_auth per source, shared by its connections: each
 * connection applies the current credentials before a request and, on a
 * 401, asks for new ones; a generation number makes N connections that
 * see the same 401 fetch one token.  libcurl sends the credentials to the
 * registry's host only, never to a host a redirect leads to (blob storage
 * URLs are signed and must not see them).
 */
#ifndef INCRFS_REGISTRY_AUTH_H
#define INCRFS_REGISTRY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "curl_lib.h"

struct registry_auth;

/*
 * For the registry at @host ("host[:port]"), @tls if it is https.  @note
 * (may be NULL) is told where credentials were found, for the log.
 */
struct registry_auth *registry_auth_new(const struct curl_lib *cu,
					const char *host, bool tls,
					void (*note)(const char *msg));
void registry_auth_free(struct registry_auth *ra);

/*
 * Put the current credentials on @curl if they are newer than @have (the
 * generation the handle carries).  Returns the generation it now carries.
 */
unsigned int registry_auth_apply(struct registry_auth *ra, CURL *curl,
				 unsigned int have);

/*
 * A request sent with generation @seen was answered 401 with the
 * WWW-Authenticate value @challenge.  0: new credentials are ready (apply
 * and retry); -EAGAIN: the token service is not answering (retry later);
 * -EACCES with @why: authentication cannot succeed (no or wrong
 * credentials, a challenge incrfs cannot answer).
 */
int registry_auth_answer(struct registry_auth *ra, const char *challenge,
			 unsigned int seen, char *why, size_t why_len);

#endif
