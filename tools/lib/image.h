/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image.h - read and validate an incrfs image from userspace.
 *
 * Why this exists: incrfs-pack (checking what it wrote), incrfs-image,
 * the fuzzers and the tests all need to look inside an image without
 * trusting it.  Every offset and count read
 * from the image is bounds-checked before use; a malformed image yields
 * -EUCLEAN (and a message in img->err), never a crash.  Errors of the
 * underlying file give -EIO (short read) or the errno of pread(2).
 *
 * The super block is read and validated by incrfs_image_open(), which also
 * loads the metadata area into memory; inodes, the hash table and the
 * bitmap are read on demand with pread(2), so the bitmap is seen as it is
 * now in the file.  Names, symlink targets and xattr values returned below
 * point into the in-memory metadata area: they stay valid until
 * incrfs_image_close() and are NOT NUL-terminated.
 *
 * All integers in the structs below are host-endian.
 */
#ifndef INCRFS_IMAGE_H
#define INCRFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err_max.h"
#include "uapi/incrfs.h"

/* The super block, validated and decoded. */
struct incrfs_super_info {
	uint16_t major, minor;
	uint32_t feature_compat, feature_incompat, feature_ro_compat;
	uint64_t inode_count;
	uint64_t root_ino;
	uint64_t image_size;
	uint64_t inode_off;
	uint64_t meta_off, meta_size;
	uint64_t hash_off;
	uint64_t bitmap_off, bitmap_size;
	uint64_t data_off;
	uint64_t nr_blocks;
	uint64_t mkfs_time;
	uint8_t uuid[16];
	uint8_t root_hash[INCRFS_HASH_SIZE];
};

struct incrfs_image {
	int fd;				/* not owned: never closed here */
	uint64_t file_size;		/* st_size at open */
	struct incrfs_super_info sb;
	struct incrfs_super_block raw;	/* the on-disk super block */
	uint8_t *meta;			/* the metadata area, sb.meta_size bytes */
	char err[INCRFS_ERR_MAX];	/* why the last call failed */
};

/* One inode, validated on its own (fields agree with its type and lie in
 * bounds; a regular file's extents are checked completely). */
struct incrfs_inode_info {
	uint64_t ino;
	uint32_t mode;			/* S_IFMT | permissions */
	uint32_t flags;
	uint32_t nlink, uid, gid;
	uint64_t size;
	int64_t mtime, ctime;
	uint32_t mtime_nsec, ctime_nsec;
	uint32_t rdev;			/* new_encode_dev format */
	uint64_t xattr_off;		/* relative to the metadata area */
	uint32_t xattr_len;
	uint64_t meta_off;		/* relative to the metadata area */
	uint32_t meta_len, meta_count;
	uint64_t first_block, nr_blocks;
	uint64_t parent;
};

struct incrfs_dirent_info {
	uint64_t ino;
	const char *name;		/* not NUL-terminated */
	uint16_t name_len;
	uint8_t type;			/* DT_* */
};

struct incrfs_extent_info {
	uint64_t lblk, pblk;
	uint32_t len;
};

struct incrfs_xattr_info {
	uint8_t index;			/* INCRFS_XATTR_* */
	uint8_t name_len;
	uint16_t value_len;
	const char *name;		/* without prefix, not NUL-terminated */
	const void *value;
};

/* Standard CRC-32C of a super block with s_checksum taken as zero. */
uint32_t incrfs_super_checksum(const struct incrfs_super_block *sb);

/*
 * incrfs_image_open - read and validate the super block of the image open
 * at @fd and load its metadata area.  Checks magic, version, features,
 * checksum, block size, inode size, alignment, that every region lies
 * within s_image_size <= file size, that the regions appear in their
 * order without overlapping, and the hash table and bitmap sizes.
 * Returns 0 or a negative errno; @img->err says why.
 */
int incrfs_image_open(struct incrfs_image *img, int fd);
/* Frees what open allocated; does not close the fd.  Safe after a failed
 * open and on a zeroed struct. */
void incrfs_image_close(struct incrfs_image *img);

/* Reads and validates inode @ino (1..inode_count).  -EUCLEAN if invalid,
 * -ENOENT if @ino is out of range. */
int incrfs_image_read_inode(struct incrfs_image *img, uint64_t ino,
			    struct incrfs_inode_info *out);

/* Entry @index (0..meta_count-1) of directory @dir, validated on its own
 * (inode number in range, name in bounds, non-empty, no '/' or NUL, not
 * "." or "..", known d_type). */
int incrfs_image_dirent(struct incrfs_image *img,
			const struct incrfs_inode_info *dir, uint32_t index,
			struct incrfs_dirent_info *out);
/* Binary search of @name in @dir.  -ENOENT if absent. */
int incrfs_image_lookup(struct incrfs_image *img,
			const struct incrfs_inode_info *dir,
			const char *name, size_t name_len,
			struct incrfs_dirent_info *out);

/* Target of symlink @inode (not NUL-terminated, *len bytes). */
int incrfs_image_symlink(struct incrfs_image *img,
			 const struct incrfs_inode_info *inode,
			 const char **target, size_t *len);

/*
 * Iterates the xattrs of @inode: start with *pos = 0; each call returns 1
 * and fills @out, 0 at the end, or a negative errno.  Each entry is checked
 * for bounds, a known index and a non-empty name without NUL (their sort
 * order is checked by incrfs_image_check()).
 */
int incrfs_image_xattr_next(struct incrfs_image *img,
			    const struct incrfs_inode_info *inode,
			    uint32_t *pos, struct incrfs_xattr_info *out);
/* "user.", "trusted.", "security." or NULL for an unknown index. */
const char *incrfs_xattr_prefix(uint8_t index);

/* Extent @index (0..meta_count-1) of regular file @inode. */
int incrfs_image_extent(struct incrfs_image *img,
			const struct incrfs_inode_info *inode, uint32_t index,
			struct incrfs_extent_info *out);
/*
 * Maps file block @lblk of regular file @inode (binary search of its
 * extents): returns 1 and sets *data_block, 0 for a hole (also beyond
 * EOF), or a negative errno.
 */
int incrfs_image_map_block(struct incrfs_image *img,
			   const struct incrfs_inode_info *inode,
			   uint64_t lblk, uint64_t *data_block);

/* SHA-256 of data block @data_block from the hash table. */
int incrfs_image_block_hash(struct incrfs_image *img, uint64_t data_block,
			    uint8_t out[INCRFS_HASH_SIZE]);
/* Bitmap bit of @data_block: 1 present, 0 missing, or a negative errno. */
int incrfs_image_block_present(struct incrfs_image *img, uint64_t data_block);
/* Number of present blocks (bits set in the bitmap). */
int incrfs_image_count_present(struct incrfs_image *img, uint64_t *present);
/* Reads the 4096 bytes of data block @data_block (whether or not its
 * bitmap bit is set). */
int incrfs_image_read_block(struct incrfs_image *img, uint64_t data_block,
			    void *buf);
/* SHA-256 over the whole hash table, as s_root_hash should be. */
int incrfs_image_compute_root_hash(struct incrfs_image *img,
				   uint8_t out[INCRFS_HASH_SIZE]);

/*
 * incrfs_image_check - full consistency check (an fsck): the root hash
 * matches the hash table; every inode is valid; every directory is sorted
 * with unique names and d_types that match the inodes; every inode is
 * reachable from the root exactly as often as its nlink says (directories:
 * once, with i_parent pointing at the directory holding it, nlink = 2 +
 * subdirectories); no directory cycles; the regular files' data block
 * ranges are disjoint and within s_nr_blocks.  If @verify_data, every
 * present block's SHA-256 is checked too.  Returns 0 or -EUCLEAN with the
 * first problem in img->err.
 */
int incrfs_image_check(struct incrfs_image *img, bool verify_data);

#endif /* INCRFS_IMAGE_H */
