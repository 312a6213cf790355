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
 *   1. INCRFS_MT_IMAGE: the incrfs image up to its data region (super
 *      block, metadata, hash table, all-zero bitmap): what a node fetches
 *      before it mounts the layer.  The data region is a hole; pull
 *      extends the file to INCRFS_AN_IMAGE_SIZE.
 *   2. INCRFS_MT_BLOB: the layer's blob, from which incrfsd fills the
 *      image's blocks on demand.
 * The image's annotations tie it to its blob and to the layer it came
 * from; the manifest's to the source manifest.
 */
#ifndef INCRFS_CONVERTED_H
#define INCRFS_CONVERTED_H

#define INCRFS_MT_IMAGE		"application/vnd.incrfs.image.v1"
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

#endif
