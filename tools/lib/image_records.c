// SPDX-License-Identifier: GPL-2.0-only
/*
 * image_records.c - the records an inode points to in the metadata area:
 * directory entries (iteration and binary-search lookup), symlink targets,
 * xattr lists and extent lists (block mapping).
 *
 * Why this exists: every variable-length record of the image is decoded
 * here, each entry bounds-checked against its record and the record
 * against the metadata area, so callers only see validated values.  The
 * inode passed in is re-checked for bounds too, so a caller-built
 * incrfs_inode_info cannot make us read outside the metadata area.
 */
#include "image_priv.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* The inode's main record lies inside the metadata area. */
static int record(struct incrfs_image *img, const struct incrfs_inode_info *ii,
		  uint32_t type, const uint8_t **rec)
{
	if (!img->meta)
		return incrfs_img_fail(img, -EINVAL, "image is not open");
	if ((ii->mode & S_IFMT) != type)
		return incrfs_img_fail(img, -EINVAL, "inode %llu has the wrong type",
				       (unsigned long long)ii->ino);
	if (ii->meta_off > img->sb.meta_size ||
	    ii->meta_len > img->sb.meta_size - ii->meta_off)
		return incrfs_img_fail(img, -EUCLEAN,
				       "inode %llu: record outside the metadata area",
				       (unsigned long long)ii->ino);
	*rec = img->meta + ii->meta_off;
	return 0;
}

int incrfs_image_dirent(struct incrfs_image *img,
			const struct incrfs_inode_info *dir, uint32_t index,
			struct incrfs_dirent_info *out)
{
	const uint64_t table = (uint64_t)dir->meta_count * sizeof(struct incrfs_dirent);
	struct incrfs_dirent de;
	const uint8_t *rec = NULL;
	uint32_t nameoff;
	int err = record(img, dir, S_IFDIR, &rec);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	if (index >= dir->meta_count)
		return incrfs_img_fail(img, -ERANGE, "directory %llu has no entry %u",
				       (unsigned long long)dir->ino, index);
	if (table > dir->meta_len)
		goto corrupt;
	memcpy(&de, rec + (size_t)index * sizeof(de), sizeof(de));
	out->ino = le64toh(de.d_ino);
	out->name_len = le16toh(de.d_namelen);
	out->type = de.d_type;
	nameoff = le32toh(de.d_nameoff);
	if (out->ino == 0 || out->ino > img->sb.inode_count || de.d_reserved ||
	    out->name_len == 0 || out->name_len > INCRFS_NAME_MAX ||
	    nameoff < table || nameoff > dir->meta_len ||
	    out->name_len > dir->meta_len - nameoff)
		goto corrupt;
	out->name = (const char *)rec + nameoff;
	if (memchr(out->name, '\0', out->name_len) ||
	    memchr(out->name, '/', out->name_len) ||
	    (out->name_len <= 2 && !memcmp(out->name, "..", out->name_len)))
		goto corrupt;
	switch (out->type) {
	case DT_REG: case DT_DIR: case DT_LNK: case DT_CHR:
	case DT_BLK: case DT_FIFO: case DT_SOCK:
		return 0;
	}
corrupt:
	memset(out, 0, sizeof(*out));
	return incrfs_img_fail(img, -EUCLEAN, "directory %llu entry %u is corrupted",
			       (unsigned long long)dir->ino, index);
}

int incrfs_image_lookup(struct incrfs_image *img,
			const struct incrfs_inode_info *dir,
			const char *name, size_t name_len,
			struct incrfs_dirent_info *out)
{
	uint32_t lo = 0, hi = dir->meta_count;

	memset(out, 0, sizeof(*out));
	if (name_len > INCRFS_NAME_MAX)
		return incrfs_img_fail(img, -ENAMETOOLONG, "name too long");
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r, err = incrfs_image_dirent(img, dir, mid, out);

		if (err)
			return err;
		r = incrfs_name_cmp(name, name_len, out->name, out->name_len);
		if (r == 0)
			return 0;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	memset(out, 0, sizeof(*out));
	return incrfs_img_fail(img, -ENOENT, "no such entry");
}

int incrfs_image_symlink(struct incrfs_image *img,
			 const struct incrfs_inode_info *inode,
			 const char **target, size_t *len)
{
	const uint8_t *rec = NULL;
	int err = record(img, inode, S_IFLNK, &rec);

	*target = NULL;
	*len = 0;
	if (err)
		return err;
	if (inode->meta_len == 0 || inode->meta_len > INCRFS_SYMLINK_MAX ||
	    memchr(rec, '\0', inode->meta_len))
		return incrfs_img_fail(img, -EUCLEAN, "inode %llu: bad symlink target",
				       (unsigned long long)inode->ino);
	*target = (const char *)rec;
	*len = inode->meta_len;
	return 0;
}

const char *incrfs_xattr_prefix(uint8_t index)
{
	switch (index) {
	case INCRFS_XATTR_USER:		return "user.";
	case INCRFS_XATTR_TRUSTED:	return "trusted.";
	case INCRFS_XATTR_SECURITY:	return "security.";
	}
	return NULL;
}

int incrfs_image_xattr_next(struct incrfs_image *img,
			    const struct incrfs_inode_info *inode,
			    uint32_t *pos, struct incrfs_xattr_info *out)
{
	const uint32_t len = inode->xattr_len;
	struct incrfs_xattr_entry e;
	const uint8_t *rec = NULL;
	uint32_t p = *pos;
	uint64_t body;

	memset(out, 0, sizeof(*out));
	if (!img->meta)
		return incrfs_img_fail(img, -EINVAL, "image is not open");
	if (p >= len)
		return 0;
	if (inode->xattr_off > img->sb.meta_size ||
	    len > img->sb.meta_size - inode->xattr_off)
		goto corrupt;
	rec = img->meta + inode->xattr_off;
	if (len - p < sizeof(e))
		goto corrupt;
	memcpy(&e, rec + p, sizeof(e));
	out->index = e.x_index;
	out->name_len = e.x_name_len;
	out->value_len = le16toh(e.x_value_len);
	body = sizeof(e) + (uint64_t)out->name_len + out->value_len;
	if (!incrfs_xattr_prefix(out->index) || out->name_len == 0 ||
	    body > len - p)
		goto corrupt;
	out->name = (const char *)rec + p + sizeof(e);
	out->value = out->name + out->name_len;
	if (memchr(out->name, '\0', out->name_len))
		goto corrupt;
	body = (body + INCRFS_XATTR_ALIGN - 1) & ~(uint64_t)(INCRFS_XATTR_ALIGN - 1);
	*pos = p + body > len ? len : p + (uint32_t)body;
	return 1;
corrupt:
	memset(out, 0, sizeof(*out));
	return incrfs_img_fail(img, -EUCLEAN, "inode %llu: corrupted xattrs",
			       (unsigned long long)inode->ino);
}

int incrfs_image_extent(struct incrfs_image *img,
			const struct incrfs_inode_info *inode, uint32_t index,
			struct incrfs_extent_info *out)
{
	struct incrfs_extent e;
	const uint8_t *rec = NULL;
	int err = record(img, inode, S_IFREG, &rec);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	if (index >= inode->meta_count)
		return incrfs_img_fail(img, -ERANGE, "inode %llu has no extent %u",
				       (unsigned long long)inode->ino, index);
	if ((uint64_t)inode->meta_count * sizeof(e) > inode->meta_len)
		return incrfs_img_fail(img, -EUCLEAN,
				       "inode %llu: extents outside the record",
				       (unsigned long long)inode->ino);
	memcpy(&e, rec + (size_t)index * sizeof(e), sizeof(e));
	out->lblk = le64toh(e.e_lblk);
	out->pblk = le64toh(e.e_pblk);
	out->len = le32toh(e.e_len);
	if (e.e_reserved)
		return incrfs_img_fail(img, -EUCLEAN,
				       "inode %llu: extent %u: reserved bytes not zero",
				       (unsigned long long)inode->ino, index);
	return 0;
}

int incrfs_image_map_block(struct incrfs_image *img,
			   const struct incrfs_inode_info *inode,
			   uint64_t lblk, uint64_t *data_block)
{
	uint32_t lo = 0, hi = inode->meta_count;
	struct incrfs_extent_info e;

	*data_block = 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int err = incrfs_image_extent(img, inode, mid, &e);

		if (err)
			return err;
		if (lblk < e.lblk) {
			hi = mid;
		} else if (lblk - e.lblk >= e.len) {
			lo = mid + 1;
		} else {
			uint64_t b = e.pblk + (lblk - e.lblk);

			if (b < e.pblk || b < inode->first_block ||
			    b - inode->first_block >= inode->nr_blocks ||
			    b >= img->sb.nr_blocks)
				return incrfs_img_fail(img, -EUCLEAN,
						       "inode %llu: extent out of range",
						       (unsigned long long)inode->ino);
			*data_block = b;
			return 1;
		}
	}
	return 0;
}
