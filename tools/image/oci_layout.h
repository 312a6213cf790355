/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * oci_layout.h - an OCI image layout directory (index.json, oci-layout,
 * blobs/sha256/HEX), as skopeo, umoci and buildah write it.
 *
 * Why this exists: it is the form a container image takes on a disk, and
 * what incrfs-image convert reads and writes.  Every blob is read through
 * its digest: its size and SHA-256 are checked before it is used, so a
 * damaged or tampered layout is refused instead of converted.
 */
#ifndef INCRFS_OCI_LAYOUT_H
#define INCRFS_OCI_LAYOUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCI_MT_INDEX	"application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST	"application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG	"application/vnd.oci.image.config.v1+json"
#define DOCKER_MT_LIST	"application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_REF_NAME	"org.opencontainers.image.ref.name"

/* "sha256:" and 64 lower-case hex digits, and the NUL. */
#define OCI_DIGEST_LEN	72
/* A manifest, index or config larger than this is refused. */
#define OCI_JSON_MAX	(4u << 20)

struct oci_layout {
	int dirfd;		/* the layout's directory */
	char path[4096];	/* as given, for messages */
};

/* A blob as a descriptor names it. */
struct oci_desc {
	char media_type[128];
	char digest[OCI_DIGEST_LEN];
	int64_t size;
};

/*
 * Open the layout at @path; with @create, make the directory, blobs/sha256
 * and oci-layout if they are missing.  0, or -errno with @err set.
 */
int oci_open(struct oci_layout *l, const char *path, bool create,
	     char *err, size_t err_len);
void oci_close(struct oci_layout *l);

/* True if @d is "sha256:" followed by 64 lower-case hex digits. */
bool oci_digest_valid(const char *d);

/* Fill @d from the JSON descriptor @o; -EINVAL with @err if it is not one. */
int oci_desc_parse(struct json_object *o, struct oci_desc *d,
		   char *err, size_t err_len);
/* A new JSON descriptor for @d (annotations added by the caller). */
struct json_object *oci_desc_json(const struct oci_desc *d);

/* "blobs/sha256/HEX" of @digest, relative to the layout. */
void oci_blob_relpath(const char *digest, char *buf, size_t len);

/*
 * Open the blob @d read-only after checking that it has @d->size bytes
 * and their SHA-256 is @d->digest.  fd, or -errno with @err (-EBADMSG: it
 * is there but its content is not what the digest says).
 */
int oci_blob_open_verified(const struct oci_layout *l,
			   const struct oci_desc *d, char *err,
			   size_t err_len);

/* The blob @d, verified, parsed as a JSON object (at most OCI_JSON_MAX). */
int oci_read_json(const struct oci_layout *l, const struct oci_desc *d,
		  struct json_object **out, char *err, size_t err_len);

/*
 * Store the first @len bytes of the file open at @fd as a blob, and give
 * its digest and size in @d (media type left alone).  A blob of the same
 * digest already there is kept.  The blob is written to a temporary name,
 * fsynced and renamed, so a crash never leaves a blob whose content does
 * not match its name.
 */
int oci_put_fd(const struct oci_layout *l, int fd, uint64_t len,
	       struct oci_desc *d, char *err, size_t err_len);
/* The same for @len bytes at @buf. */
int oci_put_bytes(const struct oci_layout *l, const void *buf, size_t len,
		  struct oci_desc *d, char *err, size_t err_len);
/*
 * Hash the file @tmp_rel (a name oci_tmp_relpath() gave) and rename it to
 * the blob of its digest: for a blob written in place, without a copy.
 */
int oci_adopt(const struct oci_layout *l, const char *tmp_rel,
	      struct oci_desc *d, char *err, size_t err_len);
/* A temporary name under blobs/sha256 ("what" tells whose), unused. */
void oci_tmp_relpath(const char *what, char *buf, size_t len);
/* The digest and size @len bytes at @buf would have as a blob, in @d. */
void oci_put_bytes_digest(const void *buf, size_t len, struct oci_desc *d);
/* Serialize @o (keys in insertion order: deterministic) and store it. */
int oci_put_json(const struct oci_layout *l, struct json_object *o,
		 struct oci_desc *d, char *err, size_t err_len);

/* index.json, or a new empty index if there is none. */
int oci_index_load(const struct oci_layout *l, struct json_object **idx,
		   char *err, size_t err_len);
/* Write index.json atomically (temporary name, fsync, rename). */
int oci_index_store(const struct oci_layout *l, struct json_object *idx,
		    char *err, size_t err_len);

/*
 * The image manifest of @l for @tag (its ref.name annotation; NULL: the
 * only manifest of the index) and, through an image index or manifest
 * list, for @platform ("os/arch[/variant]").  The manifest's descriptor
 * in @d, the manifest itself in @manifest.
 */
int oci_pick_manifest(const struct oci_layout *l, const char *tag,
		      const char *platform, struct oci_desc *d,
		      struct json_object **manifest, char *err,
		      size_t err_len);

/* SHA-256 of the first @len bytes of @fd as "sha256:HEX" in @out. */
int oci_hash_fd(int fd, uint64_t len, char out[OCI_DIGEST_LEN]);

/*
 * The manifest for @platform of the image index @idx (@where names it in
 * messages): its descriptor in @d.  -ENOENT, naming the platforms there
 * are, if there is none.
 */
int oci_index_pick(struct json_object *idx, const char *platform,
		   const char *where, struct oci_desc *d, char *err,
		   size_t err_len);
/* An image index media type (OCI, or a Docker manifest list)? */
bool oci_is_index(const char *mt);
/* An image manifest media type (OCI or Docker schema 2)? */
bool oci_is_manifest(const char *mt);

/* "os/arch" of the machine this runs on, in OCI's names. */
const char *oci_host_platform(void);

/* json_object_object_get() for a string member; NULL if absent or not one. */
const char *oci_str(struct json_object *o, const char *key);
/* The string annotation @key of descriptor @desc; NULL if it has none. */
const char *oci_annotation(struct json_object *desc, const char *key);

#endif
