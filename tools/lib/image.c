// SPDX-License-Identifier: GPL-2.0-only
/*
 * image.c - open an image: read and validate its super block, load its
 * metadata area, read and validate inodes; read the hash table and bitmap.
 *
 * Why this exists: the one userspace place that turns untrusted image bytes
 * into checked, host-endian values.  The checks mirror the kernel's
 * (kmod/super.c, kmod/inode.c) and are at least as strict, so an image
 * this reader accepts mounts, and a corrupted one is caught here first.
 */
#include "image_priv.h"
#include "crc32c.h"
#include "sha256.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BS INCRFS_BLOCK_SIZE

int incrfs_img_fail(struct incrfs_image *img, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(img->err, sizeof(img->err), fmt, ap);
	va_end(ap);
	return err;
}

int incrfs_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EINVAL;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int incrfs_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

unsigned int incrfs_mode_to_dtype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:	return DT_REG;
	case S_IFDIR:	return DT_DIR;
	case S_IFLNK:	return DT_LNK;
	case S_IFCHR:	return DT_CHR;
	case S_IFBLK:	return DT_BLK;
	case S_IFIFO:	return DT_FIFO;
	case S_IFSOCK:	return DT_SOCK;
	}
	return 0;
}

uint32_t incrfs_super_checksum(const struct incrfs_super_block *sb)
{
	struct incrfs_super_block tmp = *sb;

	tmp.s_checksum = 0;
	return incrfs_crc32c(0, &tmp, sizeof(tmp));
}

/* [off, off + len) ends at or before @limit; *end = off + len. */
static int region_ok(uint64_t off, uint64_t len, uint64_t limit, uint64_t *end)
{
	if (__builtin_add_overflow(off, len, end))
		return 0;
	return *end <= limit;
}

static int decode_super(struct incrfs_image *img)
{
	const struct incrfs_super_block *d = &img->raw;
	struct incrfs_super_info *s = &img->sb;
	uint64_t hash_bytes, data_bytes, end;
	uint32_t crc;
	size_t i;

	if (le32toh(d->s_magic) != INCRFS_SUPER_MAGIC)
		return incrfs_img_fail(img, -EUCLEAN, "bad magic 0x%08x",
				       le32toh(d->s_magic));
	crc = incrfs_super_checksum(d);
	if (crc != le32toh(d->s_checksum))
		return incrfs_img_fail(img, -EUCLEAN,
				       "super block checksum mismatch (stored 0x%08x, computed 0x%08x)",
				       le32toh(d->s_checksum), crc);
	s->major = le16toh(d->s_major);
	s->minor = le16toh(d->s_minor);
	if (s->major != INCRFS_MAJOR)
		return incrfs_img_fail(img, -EUCLEAN,
				       "unsupported format version %u.%u",
				       s->major, s->minor);
	s->feature_compat = le32toh(d->s_feature_compat);
	s->feature_incompat = le32toh(d->s_feature_incompat);
	s->feature_ro_compat = le32toh(d->s_feature_ro_compat);
	if (s->feature_incompat & ~(uint32_t)INCRFS_FEATURE_INCOMPAT_SUPP)
		return incrfs_img_fail(img, -EUCLEAN,
				       "unsupported incompatible features 0x%x",
				       s->feature_incompat);
	if (d->s_blkszbits != INCRFS_BLOCK_BITS)
		return incrfs_img_fail(img, -EUCLEAN, "unsupported block size 2^%u",
				       d->s_blkszbits);
	for (size_t i = 0; i < sizeof(d->s_reserved0); i++)
		if (d->s_reserved0[i])
			return incrfs_img_fail(img, -EUCLEAN,
					       "super block: reserved bytes not zero");
	for (size_t i = 0; i < sizeof(d->s_reserved); i++)
		if (d->s_reserved[i])
			return incrfs_img_fail(img, -EUCLEAN,
					       "super block: reserved bytes not zero");
	if (le32toh(d->s_inode_size) != sizeof(struct incrfs_inode))
		return incrfs_img_fail(img, -EUCLEAN, "unsupported inode size %u",
				       le32toh(d->s_inode_size));

	s->inode_count = le64toh(d->s_inode_count);
	s->root_ino = le64toh(d->s_root_ino);
	s->image_size = le64toh(d->s_image_size);
	s->inode_off = le64toh(d->s_inode_off);
	s->meta_off = le64toh(d->s_meta_off);
	s->meta_size = le64toh(d->s_meta_size);
	s->hash_off = le64toh(d->s_hash_off);
	s->bitmap_off = le64toh(d->s_bitmap_off);
	s->bitmap_size = le64toh(d->s_bitmap_size);
	s->data_off = le64toh(d->s_data_off);
	s->nr_blocks = le64toh(d->s_nr_blocks);
	s->mkfs_time = le64toh(d->s_mkfs_time);
	memcpy(s->uuid, d->s_uuid, sizeof(s->uuid));
	memcpy(s->root_hash, d->s_root_hash, sizeof(s->root_hash));

	if (s->inode_count == 0 || s->inode_count > UINT32_MAX)
		return incrfs_img_fail(img, -EUCLEAN, "bad inode count %llu",
				       (unsigned long long)s->inode_count);
	if (s->root_ino != INCRFS_ROOT_INO)
		return incrfs_img_fail(img, -EUCLEAN, "bad root inode %llu",
				       (unsigned long long)s->root_ino);
	if (s->image_size > img->file_size)
		return incrfs_img_fail(img, -EUCLEAN,
				       "image is truncated (%llu of %llu bytes)",
				       (unsigned long long)img->file_size,
				       (unsigned long long)s->image_size);
	if (__builtin_mul_overflow(s->nr_blocks, (uint64_t)INCRFS_HASH_SIZE,
				   &hash_bytes) ||
	    __builtin_mul_overflow(s->nr_blocks, (uint64_t)BS, &data_bytes))
		return incrfs_img_fail(img, -EUCLEAN, "bad block count %llu",
				       (unsigned long long)s->nr_blocks);
	if (s->bitmap_size != s->nr_blocks / 8 + !!(s->nr_blocks % 8))
		return incrfs_img_fail(img, -EUCLEAN,
				       "bitmap size %llu does not match %llu blocks",
				       (unsigned long long)s->bitmap_size,
				       (unsigned long long)s->nr_blocks);
	if (s->inode_off % BS || s->bitmap_off % BS || s->data_off % BS)
		return incrfs_img_fail(img, -EUCLEAN,
				       "inode table, bitmap or data region not block aligned");
	/*
	 * The regions follow each other in this order, without overlap;
	 * each one that does not is named, with its bounds.
	 */
	if (s->inode_off < BS)
		return incrfs_img_fail(img, -EUCLEAN,
				       "inode table at %llu overlaps the super block",
				       (unsigned long long)s->inode_off);
	const struct {
		const char *name, *next;
		uint64_t off, len, limit;
	} r[] = {
		{ "inode table", "metadata area", s->inode_off,
		  s->inode_count * sizeof(struct incrfs_inode), s->meta_off },
		{ "metadata area", "hash table", s->meta_off, s->meta_size,
		  s->hash_off },
		{ "hash table", "bitmap", s->hash_off, hash_bytes,
		  s->bitmap_off },
		{ "bitmap", "data region", s->bitmap_off, s->bitmap_size,
		  s->data_off },
		{ "data region", "end of the image", s->data_off, data_bytes,
		  s->image_size },
	};
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (!region_ok(r[i].off, r[i].len, r[i].limit, &end))
			return incrfs_img_fail(img, -EUCLEAN,
					       "%s at %llu, %llu bytes, runs past the %s at %llu",
					       r[i].name,
					       (unsigned long long)r[i].off,
					       (unsigned long long)r[i].len,
					       r[i].next,
					       (unsigned long long)r[i].limit);
	}
	return 0;
}

int incrfs_image_open(struct incrfs_image *img, int fd)
{
	struct incrfs_inode_info root;
	struct stat st;
	int err;

	memset(img, 0, sizeof(*img));
	img->fd = fd;
	if (fstat(fd, &st) < 0)
		return incrfs_img_fail(img, -errno, "stat: %s", strerror(errno));
	img->file_size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	if (img->file_size < sizeof(img->raw))
		return incrfs_img_fail(img, -EUCLEAN,
				       "image is truncated (%llu bytes, no super block)",
				       (unsigned long long)img->file_size);
	err = incrfs_pread_full(fd, &img->raw, sizeof(img->raw), 0);
	if (err)
		return incrfs_img_fail(img, err, "cannot read the super block: %s",
				       strerror(-err));
	err = decode_super(img);
	if (err)
		return err;

	if (img->sb.meta_size > INCRFS_META_MAX)
		return incrfs_img_fail(img, -EFBIG,
				       "metadata area of %llu bytes is too large to load",
				       (unsigned long long)img->sb.meta_size);
	img->meta = malloc(img->sb.meta_size ? img->sb.meta_size : 1);
	if (!img->meta)
		return incrfs_img_fail(img, -ENOMEM, "out of memory");
	err = incrfs_pread_full(fd, img->meta, img->sb.meta_size, img->sb.meta_off);
	if (err)
		goto fail;

	err = incrfs_image_read_inode(img, INCRFS_ROOT_INO, &root);
	if (err)
		goto fail;
	if (!S_ISDIR(root.mode) || root.parent != INCRFS_ROOT_INO) {
		err = incrfs_img_fail(img, -EUCLEAN,
				      "root inode is not a directory that is its own parent");
		goto fail;
	}
	return 0;
fail:
	if (err != -EUCLEAN && err != -ENOMEM)
		incrfs_img_fail(img, err, "cannot read the metadata: %s",
				strerror(-err));
	free(img->meta);
	img->meta = NULL;
	return err;
}

void incrfs_image_close(struct incrfs_image *img)
{
	free(img->meta);
	img->meta = NULL;
}

static int inode_corrupt(struct incrfs_image *img, uint64_t ino, const char *what)
{
	return incrfs_img_fail(img, -EUCLEAN, "inode %llu: %s",
			       (unsigned long long)ino, what);
}

static int check_extents(struct incrfs_image *img,
			 const struct incrfs_inode_info *ii)
{
	uint64_t file_blocks = ii->size / BS + !!(ii->size % BS);
	uint64_t next_lblk = 0, next_pblk = ii->first_block;
	uint32_t n = ii->meta_count;

	if (n == 0)
		return ii->nr_blocks ? inode_corrupt(img, ii->ino,
					"data blocks but no extents") : 0;
	if (n > INCRFS_MAX_EXTENTS || n > ii->nr_blocks ||
	    ii->meta_len != (uint64_t)n * sizeof(struct incrfs_extent))
		return inode_corrupt(img, ii->ino, "bad extent count");
	/* Sorted, disjoint, inside the file, using the file's data blocks in
	 * order, each exactly once. */
	for (uint32_t i = 0; i < n; i++) {
		struct incrfs_extent_info e;
		int err = incrfs_image_extent(img, ii, i, &e);

		if (err)
			return err;
		if (e.len == 0 || e.lblk < next_lblk || e.lblk > file_blocks ||
		    e.len > file_blocks - e.lblk || e.pblk != next_pblk)
			return incrfs_img_fail(img, -EUCLEAN,
					       "inode %llu: extent %u is out of order or out of range",
					       (unsigned long long)ii->ino, i);
		next_lblk = e.lblk + e.len;
		next_pblk += e.len;
	}
	if (next_pblk != ii->first_block + ii->nr_blocks)
		return inode_corrupt(img, ii->ino,
				     "extents do not cover the file's data blocks");
	return 0;
}

static int check_inode(struct incrfs_image *img, struct incrfs_inode_info *ii)
{
	const struct incrfs_super_info *s = &img->sb;
	uint64_t end;

	if (!incrfs_mode_to_dtype(ii->mode))
		return inode_corrupt(img, ii->ino, "unknown file type");
	if (ii->flags & ~(uint32_t)INCRFS_INODE_FLAGS_SUPP)
		return inode_corrupt(img, ii->ino, "unknown flags");
	if (ii->nlink == 0)
		return inode_corrupt(img, ii->ino, "link count 0");
	if (ii->mtime_nsec >= 1000000000u || ii->ctime_nsec >= 1000000000u)
		return inode_corrupt(img, ii->ino, "nanoseconds out of range");
	if (ii->size > (uint64_t)INT64_MAX)
		return inode_corrupt(img, ii->ino, "size out of range");
	if (!region_ok(ii->meta_off, ii->meta_len, s->meta_size, &end))
		return inode_corrupt(img, ii->ino, "record outside the metadata area");
	if (!region_ok(ii->xattr_off, ii->xattr_len, s->meta_size, &end) ||
	    ii->xattr_len > INCRFS_XATTR_RECORD_MAX)
		return inode_corrupt(img, ii->ino, "xattrs outside the metadata area");
	if (!S_ISREG(ii->mode) && (ii->first_block || ii->nr_blocks))
		return inode_corrupt(img, ii->ino, "data blocks on a non-regular file");

	switch (ii->mode & S_IFMT) {
	case S_IFREG:
		if (!region_ok(ii->first_block, ii->nr_blocks, s->nr_blocks, &end))
			return inode_corrupt(img, ii->ino, "data blocks out of range");
		return check_extents(img, ii);
	case S_IFDIR:
		if (ii->parent == 0 || ii->parent > s->inode_count)
			return inode_corrupt(img, ii->ino, "parent out of range");
		if ((uint64_t)ii->meta_count * sizeof(struct incrfs_dirent) >
		    ii->meta_len)
			return inode_corrupt(img, ii->ino, "entries outside the record");
		return 0;
	case S_IFLNK:
		if (ii->meta_len == 0 || ii->meta_len > INCRFS_SYMLINK_MAX ||
		    ii->size != ii->meta_len || ii->meta_count)
			return inode_corrupt(img, ii->ino, "bad symlink length");
		if (memchr(img->meta + ii->meta_off, '\0', ii->meta_len))
			return inode_corrupt(img, ii->ino, "NUL in symlink target");
		return 0;
	default:
		if (ii->meta_len || ii->meta_count)
			return inode_corrupt(img, ii->ino, "record on a special file");
		return 0;
	}
}

int incrfs_image_read_inode(struct incrfs_image *img, uint64_t ino,
			    struct incrfs_inode_info *out)
{
	struct incrfs_inode di;
	int err;

	memset(out, 0, sizeof(*out));
	if (!img->meta)
		return incrfs_img_fail(img, -EINVAL, "image is not open");
	if (ino == 0 || ino > img->sb.inode_count)
		return incrfs_img_fail(img, -ENOENT, "inode %llu out of range",
				       (unsigned long long)ino);
	err = incrfs_pread_full(img->fd, &di, sizeof(di),
				img->sb.inode_off + (ino - 1) * sizeof(di));
	if (err)
		return incrfs_img_fail(img, err, "inode %llu: read: %s",
				       (unsigned long long)ino, strerror(-err));
	out->ino = ino;
	out->mode = le16toh(di.i_mode);
	out->flags = le16toh(di.i_flags);
	out->nlink = le32toh(di.i_nlink);
	out->uid = le32toh(di.i_uid);
	out->gid = le32toh(di.i_gid);
	out->size = le64toh(di.i_size);
	out->mtime = (int64_t)le64toh(di.i_mtime);
	out->mtime_nsec = le32toh(di.i_mtime_nsec);
	out->ctime = (int64_t)le64toh(di.i_ctime);
	out->ctime_nsec = le32toh(di.i_ctime_nsec);
	out->rdev = le32toh(di.i_rdev);
	out->xattr_len = le32toh(di.i_xattr_len);
	out->xattr_off = le64toh(di.i_xattr_off);
	out->meta_off = le64toh(di.i_meta_off);
	out->meta_len = le32toh(di.i_meta_len);
	out->meta_count = le32toh(di.i_meta_count);
	out->first_block = le64toh(di.i_first_block);
	out->nr_blocks = le64toh(di.i_nr_blocks);
	out->parent = le64toh(di.i_parent);
	for (size_t i = 0; i < sizeof(di.i_reserved); i++)
		if (di.i_reserved[i])
			return inode_corrupt(img, ino, "reserved bytes not zero");
	return check_inode(img, out);
}

static int block_ok(struct incrfs_image *img, uint64_t data_block)
{
	if (!img->meta)
		return incrfs_img_fail(img, -EINVAL, "image is not open");
	if (data_block >= img->sb.nr_blocks)
		return incrfs_img_fail(img, -ERANGE,
				       "data block %llu out of range (%llu blocks)",
				       (unsigned long long)data_block,
				       (unsigned long long)img->sb.nr_blocks);
	return 0;
}

static int read_fail(struct incrfs_image *img, int err, const char *what)
{
	return incrfs_img_fail(img, err, "cannot read the %s: %s", what,
			       strerror(-err));
}

int incrfs_image_block_hash(struct incrfs_image *img, uint64_t data_block,
			    uint8_t out[INCRFS_HASH_SIZE])
{
	int err = block_ok(img, data_block);

	if (!err)
		err = incrfs_pread_full(img->fd, out, INCRFS_HASH_SIZE,
					img->sb.hash_off + data_block * INCRFS_HASH_SIZE);
	return err && err != -ERANGE && err != -EINVAL ?
		read_fail(img, err, "hash table") : err;
}

int incrfs_image_block_present(struct incrfs_image *img, uint64_t data_block)
{
	uint8_t byte;
	int err = block_ok(img, data_block);

	if (err)
		return err;
	err = incrfs_pread_full(img->fd, &byte, 1,
				img->sb.bitmap_off + data_block / 8);
	if (err)
		return read_fail(img, err, "bitmap");
	return (byte >> (data_block % 8)) & 1;
}

int incrfs_image_count_present(struct incrfs_image *img, uint64_t *present)
{
	uint8_t buf[65536];
	uint64_t done = 0, count = 0, size = img->sb.bitmap_size;

	*present = 0;
	if (!img->meta)
		return incrfs_img_fail(img, -EINVAL, "image is not open");
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
		int err = incrfs_pread_full(img->fd, buf, n,
					    img->sb.bitmap_off + done);

		if (err)
			return read_fail(img, err, "bitmap");
		if (done + n == size && img->sb.nr_blocks % 8)
			buf[n - 1] &= (uint8_t)((1u << (img->sb.nr_blocks % 8)) - 1);
		for (size_t i = 0; i < n; i++)
			count += (uint64_t)__builtin_popcount(buf[i]);
		done += n;
	}
	*present = count;
	return 0;
}

int incrfs_image_read_block(struct incrfs_image *img, uint64_t data_block,
			    void *buf)
{
	int err = block_ok(img, data_block);

	if (err)
		return err;
	err = incrfs_pread_full(img->fd, buf, BS,
				img->sb.data_off + data_block * BS);
	return err ? read_fail(img, err, "data region") : 0;
}

int incrfs_image_compute_root_hash(struct incrfs_image *img,
				   uint8_t out[INCRFS_HASH_SIZE])
{
	struct incrfs_sha256_ctx c;
	uint8_t buf[65536];
	uint64_t done = 0, size;
	int err;

	if (!img->meta)
		return incrfs_img_fail(img, -EINVAL, "image is not open");
	size = img->sb.nr_blocks * INCRFS_HASH_SIZE;
	err = incrfs_sha256_init(&c);
	if (err)
		return incrfs_img_fail(img, err, "sha256: %s", strerror(-err));
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);

		err = incrfs_pread_full(img->fd, buf, n, img->sb.hash_off + done);
		if (err) {
			incrfs_sha256_free(&c);
			return read_fail(img, err, "hash table");
		}
		err = incrfs_sha256_update(&c, buf, n);
		if (err) {
			incrfs_sha256_free(&c);
			return incrfs_img_fail(img, err, "sha256: %s", strerror(-err));
		}
		done += n;
	}
	err = incrfs_sha256_final(&c, out);
	return err ? incrfs_img_fail(img, err, "sha256: %s", strerror(-err)) : 0;
}
