/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * converted.h - how an incrfs image is stored in an OCI image: the media
 * types and annotations incrfs-image convert writes and pull reads.
 *
 * Why this exists: it is the contract between the two commands (and
 * anything else that reads a converted image); Documentation/oci-images.rst
 * describes it for users.
 *
 * A converted image is an OCI image manifest whose config is the source
 * image's config, unchanged (entrypoint, environment, ...), and whose
 * layers come in pairs, one pair per source layer, in the source's order:
 *   1. INCRFS_MT_IMAGE_ZSTD: the incrfs image up to its data region
 *      (super block, metadata, hash table, all-zero bitmap), compressed
 *      with zstd (head_zstd.h): what a node fetches before it mounts the
 *      layer.  The data region is a hole; pull extends the file to
 *      INCRFS_AN_IMAGE_SIZE.  INCRFS_MT_IMAGE is the same head
 *      uncompressed, as earlier converts wrote it: pull reads both.
 *   2. INCRFS_MT_BLOB: the layer's blob, from which incrfsd fills the
 *      image's blocks on demand.
 * The image's annotations tie it to its blob and to the layer it came
 * from; the manifest's to the source manifest.
 */
#ifndef INCRFS_CONVERTED_H
#define INCRFS_CONVERTED_H

#define INCRFS_MT_IMAGE		"application/vnd.incrfs.image.v1"
#define INCRFS_MT_IMAGE_ZSTD	"application/vnd.incrfs.image.v1+zstd"
#define INCRFS_MT_BLOB		"application/vnd.incrfs.blob.v1"

/* On an image descriptor: */
#define INCRFS_AN_BLOB		"io.incrfs.blob.digest"
#define INCRFS_AN_IMAGE_SIZE	"io.incrfs.image.size"
#define INCRFS_AN_ROOT_HASH	"io.incrfs.root-hash"
#define INCRFS_AN_PACK_OPTIONS	"io.incrfs.pack.options"
/* On image and blob descriptors: the source layer's digest, media type. */
#define INCRFS_AN_SOURCE	"io.incrfs.source.digest"
#define INCRFS_AN_SOURCE_MT	"io.incrfs.source.mediaType"
/* On the manifest: the source manifest's digest. */
#define INCRFS_AN_SOURCE_MANIFEST "io.incrfs.source.manifest"

/*
 * An access profile of the image (incrfs-image profile): an OCI artifact
 * whose "subject" is the converted image's manifest, tagged
 * INCRFS_PROFILE_TAG with that manifest's hex digest (the fallback tag
 * scheme of OCI distribution 1.1, which registries without the referrers
 * API serve too); a config blob "{}" of INCRFS_MT_PROFILE_CONFIG and one
 * INCRFS_MT_PROFILE layer per image layer that was read, annotated with
 * that layer's image digest (INCRFS_AN_IMAGE_DIGEST): the text
 * profile.h describes, which incrfsd --prefetch-profile reads.
 */
#define INCRFS_MT_PROFILE	"application/vnd.incrfs.profile.v1"
#define INCRFS_MT_PROFILE_CONFIG "application/vnd.incrfs.profile.config.v1+json"
#define INCRFS_AN_IMAGE_DIGEST	"io.incrfs.image.digest"
#define INCRFS_PROFILE_TAG	"sha256-%s.incrfs-profile"
/* A profile blob larger than this is refused (the log holds 65536 ranges). */
#define INCRFS_PROFILE_MAX	(64u << 20)

#endif
