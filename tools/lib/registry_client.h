/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * registry_client.h - whole-object GETs from an OCI registry (manifests,
 * configs, small blobs) through the registry HTTP API v2, with the
 * authentication registry_auth.h answers.
 *
 * Why this exists: incrfs-image pull reads an image's manifest, config and
 * incrfs images from the registry before anything is mounted, and convert
 * reads images from and pushes them to registries; incrfsd's HTTP source
 * is built for ranges of one blob, on many connections, and is not the
 * tool for that.  Requests are sequential, on one connection,
 * retried with backoff (4 attempts) while the registry is down or answers
 * 5xx; a 4xx is final.
 */
#ifndef INCRFS_REGISTRY_CLIENT_H
#define INCRFS_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct registry_client;

/*
 * A client for the registry at @host ("host[:port]"): https unless @tls is
 * false (--insecure-registry).  @note as registry_auth_new()'s.  NULL with
 * @err (libcurl cannot be loaded, or out of memory).
 */
struct registry_client *registry_client_new(const char *host, bool tls,
					    void (*note)(const char *msg),
					    char *err, size_t err_len);
void registry_client_free(struct registry_client *rc);

/*
 * GET /v2/@repo/@kind/@ref (@kind "manifests" or "blobs"), asking for
 * @accept (a comma-separated list of media types, or NULL).  The body goes
 * to the file open at @fd if @fd >= 0, else into a malloc()ed buffer at
 * @body, NUL-terminated, of *@len bytes; more than @max bytes is an error
 * (-EFBIG).  @ctype (may be NULL) receives the Content-Type.
 * 0, or -ENOENT (404), -EACCES (401/403, with why), -EFBIG, -EIO.
 */
int registry_client_get(struct registry_client *rc, const char *repo,
			const char *kind, const char *ref, const char *accept,
			int fd, uint64_t max, char **body, size_t *len,
			char *ctype, size_t ctype_len, char *err,
			size_t err_len);

/*
 * Upload the blob @digest of @size bytes, read from the file @fd (from
 * offset 0) or, if @fd < 0, from @buf, into @repo: POST
 * /v2/REPO/blobs/uploads/, then one PUT of the whole blob to the Location
 * it gives.  A blob the repository has (HEAD 200) is not sent: *@sent
 * says whether it was.  0, or -EACCES / -EIO with @err.
 */
int registry_client_put_blob(struct registry_client *rc, const char *repo,
			     const char *digest, int fd, const void *buf,
			     uint64_t size, bool *sent, char *err,
			     size_t err_len);

/* PUT the manifest @body (@len bytes, @media_type) as @repo:@tag. */
int registry_client_put_manifest(struct registry_client *rc,
				 const char *repo, const char *tag,
				 const char *media_type, const void *body,
				 size_t len, char *err, size_t err_len);

#endif
