/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_mutate.h - turn a valid incrfs image into a corrupted one, in one
 * of many ways, deterministically from a random stream.
 *
 * Why this exists: random bit flips mostly hit data blocks or break the
 * super block checksum, so they rarely reach the code that parses inodes,
 * directories, extents, xattrs and symlinks.  This mutator knows where
 * every on-disk struct of the base image lies (learned once with the
 * userspace reader, tools/lib/image.h) and changes one field of one of
 * them to a value chosen to hit boundaries: 0, all ones, off by one, a
 * power of two, the size of a table, another record's offset, ...  Super
 * block mutations recompute s_checksum (incrfs_crc32c) so they get past
 * it.  Each mutation describes itself in a line of text, so a failure
 * report says what was changed.
 *
 * Kinds (enum fz_kind): bit flips anywhere or in the metadata only,
 * truncation and extension, super block fields (some kept consistent so
 * the mount gets further), inode fields, directory entries and names,
 * extents, xattr entries, symlink targets, the bitmap, the hash table,
 * records "redirected" to another inode's record (type confusion), several
 * of these at once, the image truncated while it is mounted, mutations
 * read through an overlayfs stacked on the image, and metadata bytes
 * flipped by another process while the walk reads them (so a value
 * checked and then read again would show).
 */
#ifndef INCRFS_FUZZ_MUTATE_H
#define INCRFS_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "uapi/incrfs.h"
#include "image.h"
#include "crc32c.h"
#include "tests/kselftest/fuzz_util.h"

#define FZ_DESC_LEN	200
#define FZ_MAX_XATTRS	16

enum fz_kind {
	FZ_BITFLIP,		/* 1-8 bits anywhere */
	FZ_BITFLIP_META,	/* 1-8 bits before the data region */
	FZ_TRUNCATE,		/* shorter (often at a table boundary) or longer */
	FZ_SUPER,		/* one super block field, checksum fixed */
	FZ_SUPER_CONSISTENT,	/* sizes changed together: mount succeeds */
	FZ_INODE,		/* one inode field */
	FZ_DIRENT,		/* a directory entry or its name */
	FZ_EXTENT,		/* an extent, or two swapped */
	FZ_XATTR,		/* an xattr entry, its name or its length */
	FZ_SYMLINK,		/* a symlink target or its length */
	FZ_BITMAP,		/* bitmap bits, padding bits included */
	FZ_HASH,		/* the per-block SHA-256 table */
	FZ_REDIRECT,		/* an inode pointed at another's record */
	FZ_MULTI,		/* 2-5 structured mutations */
	FZ_TRUNC_MOUNTED,	/* intact image, truncated under the mount */
	FZ_OVERLAY,		/* 1-2 structured mutations, read via overlayfs */
	FZ_LIVE,		/* metadata bytes flipped while the walk runs */
	FZ_NKINDS
};

static const char *const fz_kind_name[FZ_NKINDS] = {
	"bitflip", "bitflip_meta", "truncate", "super", "super_consistent",
	"inode", "dirent", "extent", "xattr", "symlink", "bitmap", "hash",
	"redirect", "multi", "trunc_mounted", "overlay", "live",
};

struct fz_inode {
	uint64_t off;			/* of its struct incrfs_inode */
	struct incrfs_inode_info ii;	/* decoded */
	unsigned int nxattrs;
	uint64_t xattr_entry[FZ_MAX_XATTRS];	/* absolute offsets */
};

/* Where everything of the base image is. */
struct fz_layout {
	struct incrfs_super_info sb;
	uint64_t size;			/* file size */
	uint32_t ninodes;
	struct fz_inode *inodes;	/* [0] is inode 1 */
	uint32_t *dirs, ndirs;		/* indexes into inodes */
	uint32_t *files, nfiles;	/* regular files with extents */
	uint32_t *links, nlinks;
	uint32_t *xattrs, nxattrs;	/* inodes with xattrs */
	uint64_t *recs;			/* every record offset (meta-relative) */
	uint32_t nrecs;
};

/* ---- little-endian fields in a byte buffer ---- */

static inline uint64_t fz_get(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;

	while (size--)
		v = (v << 8) | p[size];
	return v;
}

static inline void fz_put(uint8_t *p, unsigned int size, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < size; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ---- learning the layout ---- */

static inline int fz_layout_load(struct fz_layout *L, const char *path, char *err,
				 size_t errlen)
{
	struct incrfs_image img;
	struct incrfs_xattr_info x;
	uint32_t i, pos;
	int fd, ret;

	memset(L, 0, sizeof(*L));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = incrfs_image_open(&img, fd);
	if (ret) {
		snprintf(err, errlen, "%.40s: %.200s", path, img.err);
		close(fd);
		return -1;
	}
	L->sb = img.sb;
	L->size = img.file_size;
	L->ninodes = (uint32_t)img.sb.inode_count;
	L->inodes = calloc(L->ninodes, sizeof(*L->inodes));
	L->dirs = calloc(L->ninodes, sizeof(uint32_t));
	L->files = calloc(L->ninodes, sizeof(uint32_t));
	L->links = calloc(L->ninodes, sizeof(uint32_t));
	L->xattrs = calloc(L->ninodes, sizeof(uint32_t));
	L->recs = calloc(2 * (size_t)L->ninodes + 2, sizeof(uint64_t));
	if (!L->inodes || !L->dirs || !L->files || !L->links || !L->xattrs ||
	    !L->recs) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
		goto out;
	}
	for (i = 0; i < L->ninodes; i++) {
		struct fz_inode *in = &L->inodes[i];

		in->off = img.sb.inode_off + (uint64_t)i * sizeof(struct incrfs_inode);
		ret = incrfs_image_read_inode(&img, i + 1, &in->ii);
		if (ret) {
			snprintf(err, errlen, "inode %u: %.200s", i + 1, img.err);
			goto out;
		}
		if (S_ISDIR(in->ii.mode))
			L->dirs[L->ndirs++] = i;
		if (S_ISREG(in->ii.mode) && in->ii.meta_count)
			L->files[L->nfiles++] = i;
		if (S_ISLNK(in->ii.mode))
			L->links[L->nlinks++] = i;
		if (in->ii.meta_len)
			L->recs[L->nrecs++] = in->ii.meta_off;
		if (in->ii.xattr_len)
			L->recs[L->nrecs++] = in->ii.xattr_off;
		pos = 0;
		while (in->nxattrs < FZ_MAX_XATTRS &&
		       incrfs_image_xattr_next(&img, &in->ii, &pos, &x) > 0)
			in->xattr_entry[in->nxattrs++] = img.sb.meta_off +
				(uint64_t)((const uint8_t *)x.name - img.meta) -
				sizeof(struct incrfs_xattr_entry);
		if (in->nxattrs)
			L->xattrs[L->nxattrs++] = i;
	}
	ret = 0;
out:
	incrfs_image_close(&img);
	close(fd);
	return ret ? -1 : 0;
}

/* ---- values worth trying ---- */

static inline uint64_t fz_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* A number the image gives meaning to. */
static inline uint64_t fz_layout_number(struct fz_rng *r, const struct fz_layout *L)
{
	const struct incrfs_super_info *s = &L->sb;
	const uint64_t v[] = {
		s->inode_count, s->inode_count + 1, s->meta_size,
		s->meta_size - 1, s->meta_size + 1, s->nr_blocks,
		s->nr_blocks + 1, s->nr_blocks - 1, L->size, L->size + 1,
		s->image_size, s->inode_off, s->meta_off, s->hash_off,
		s->bitmap_off, s->data_off, s->bitmap_size, 4096, 4095, 4097,
		255, 256, 128, 16, 24, 0x7fffffffffffffffULL,
		0x7ffffffffffff000ULL, 1ULL << 32, 1ULL << 31,
	};

	if (L->nrecs && fz_one_in(r, 3))
		return L->recs[fz_below(r, L->nrecs)] + fz_below(r, 3) - 1;
	return v[fz_below(r, sizeof(v) / sizeof(v[0]))];
}

static inline uint64_t fz_interesting(struct fz_rng *r, const struct fz_layout *L,
				      uint64_t orig, unsigned int size)
{
	unsigned int bits = size * 8;
	uint64_t v;

	switch (fz_below(r, 12)) {
	case 0: v = 0; break;
	case 1: v = ~0ULL; break;
	case 2: v = orig + 1; break;
	case 3: v = orig - 1; break;
	case 4: v = orig ^ (1ULL << fz_below(r, bits)); break;
	case 5: v = 1ULL << fz_below(r, bits); break;
	case 6: v = (1ULL << (bits - 1)) - 1 + fz_below(r, 3); break;
	case 7: case 8: v = fz_layout_number(r, L); break;
	case 9: v = orig + fz_below(r, 33) - 16; break;
	case 10: v = orig * 2 + fz_below(r, 2); break;
	default: v = fz_next(r); break;
	}
	return v & fz_mask(size);
}

/* Set the @size-byte field at @off to something interesting. */
static inline void fz_mutate_field(struct fz_rng *r, const struct fz_layout *L,
				   uint8_t *buf, uint64_t off, unsigned int size,
				   const char *what, char *desc)
{
	uint64_t old = fz_get(buf + off, size);
	uint64_t v = fz_interesting(r, L, old, size);

	fz_put(buf + off, size, v);
	snprintf(desc + strlen(desc), FZ_DESC_LEN - strlen(desc),
		 "%s 0x%llx->0x%llx; ", what, (unsigned long long)old,
		 (unsigned long long)v);
}

static inline void fz_fix_crc(uint8_t *buf)
{
	struct incrfs_super_block *sb = (void *)buf;

	sb->s_checksum = 0;
	sb->s_checksum = htole32(incrfs_crc32c(0, sb, sizeof(*sb)));
}

#define FZ_FIELD(type, f) { #f, offsetof(type, f), sizeof(((type *)0)->f) }
struct fz_field {
	const char *name;
	unsigned int off, size;
};

static const struct fz_field fz_super_fields[] = {
	FZ_FIELD(struct incrfs_super_block, s_magic),
	FZ_FIELD(struct incrfs_super_block, s_checksum),
	FZ_FIELD(struct incrfs_super_block, s_major),
	FZ_FIELD(struct incrfs_super_block, s_minor),
	FZ_FIELD(struct incrfs_super_block, s_feature_compat),
	FZ_FIELD(struct incrfs_super_block, s_feature_incompat),
	FZ_FIELD(struct incrfs_super_block, s_feature_ro_compat),
	FZ_FIELD(struct incrfs_super_block, s_blkszbits),
	{ "s_reserved0", offsetof(struct incrfs_super_block, s_reserved0), 1 },
	FZ_FIELD(struct incrfs_super_block, s_inode_size),
	FZ_FIELD(struct incrfs_super_block, s_inode_count),
	FZ_FIELD(struct incrfs_super_block, s_root_ino),
	FZ_FIELD(struct incrfs_super_block, s_image_size),
	FZ_FIELD(struct incrfs_super_block, s_inode_off),
	FZ_FIELD(struct incrfs_super_block, s_meta_off),
	FZ_FIELD(struct incrfs_super_block, s_meta_size),
	FZ_FIELD(struct incrfs_super_block, s_hash_off),
	FZ_FIELD(struct incrfs_super_block, s_bitmap_off),
	FZ_FIELD(struct incrfs_super_block, s_bitmap_size),
	FZ_FIELD(struct incrfs_super_block, s_data_off),
	FZ_FIELD(struct incrfs_super_block, s_nr_blocks),
	FZ_FIELD(struct incrfs_super_block, s_mkfs_time),
	{ "s_uuid", offsetof(struct incrfs_super_block, s_uuid), 8 },
	{ "s_root_hash", offsetof(struct incrfs_super_block, s_root_hash), 8 },
	{ "s_reserved", offsetof(struct incrfs_super_block, s_reserved), 8 },
};

static const struct fz_field fz_inode_fields[] = {
	FZ_FIELD(struct incrfs_inode, i_mode),
	FZ_FIELD(struct incrfs_inode, i_flags),
	FZ_FIELD(struct incrfs_inode, i_nlink),
	FZ_FIELD(struct incrfs_inode, i_uid),
	FZ_FIELD(struct incrfs_inode, i_gid),
	FZ_FIELD(struct incrfs_inode, i_size),
	FZ_FIELD(struct incrfs_inode, i_mtime),
	FZ_FIELD(struct incrfs_inode, i_mtime_nsec),
	FZ_FIELD(struct incrfs_inode, i_ctime_nsec),
	FZ_FIELD(struct incrfs_inode, i_ctime),
	FZ_FIELD(struct incrfs_inode, i_rdev),
	FZ_FIELD(struct incrfs_inode, i_xattr_len),
	FZ_FIELD(struct incrfs_inode, i_xattr_off),
	FZ_FIELD(struct incrfs_inode, i_meta_off),
	FZ_FIELD(struct incrfs_inode, i_meta_len),
	FZ_FIELD(struct incrfs_inode, i_meta_count),
	FZ_FIELD(struct incrfs_inode, i_first_block),
	FZ_FIELD(struct incrfs_inode, i_nr_blocks),
	FZ_FIELD(struct incrfs_inode, i_parent),
	{ "i_reserved", offsetof(struct incrfs_inode, i_reserved), 8 },
};

static const struct fz_field fz_dirent_fields[] = {
	FZ_FIELD(struct incrfs_dirent, d_ino),
	FZ_FIELD(struct incrfs_dirent, d_nameoff),
	FZ_FIELD(struct incrfs_dirent, d_namelen),
	FZ_FIELD(struct incrfs_dirent, d_type),
	FZ_FIELD(struct incrfs_dirent, d_reserved),
};

static const struct fz_field fz_extent_fields[] = {
	FZ_FIELD(struct incrfs_extent, e_lblk),
	FZ_FIELD(struct incrfs_extent, e_pblk),
	FZ_FIELD(struct incrfs_extent, e_len),
	FZ_FIELD(struct incrfs_extent, e_reserved),
};

static const struct fz_field fz_xattr_fields[] = {
	FZ_FIELD(struct incrfs_xattr_entry, x_index),
	FZ_FIELD(struct incrfs_xattr_entry, x_name_len),
	FZ_FIELD(struct incrfs_xattr_entry, x_value_len),
};

#define FZ_NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
#define FZ_PICK(r, a) (&(a)[fz_below(r, FZ_NFIELDS(a))])

#define fz_desc(desc, ...)						\
	snprintf((desc) + strlen(desc), FZ_DESC_LEN - strlen(desc),	\
		 __VA_ARGS__)

/* ---- the mutations ---- */

static inline void fz_flip_bits(struct fz_rng *r, uint8_t *buf, uint64_t lo,
				uint64_t hi, char *desc)
{
	unsigned int i, n = 1 + (unsigned int)fz_below(r, 8);

	for (i = 0; i < n && hi > lo; i++) {
		uint64_t off = lo + fz_below(r, hi - lo);
		unsigned int bit = (unsigned int)fz_below(r, 8);

		buf[off] ^= (uint8_t)(1u << bit);
		fz_desc(desc, "flip %llu.%u; ", (unsigned long long)off, bit);
	}
}

static inline void fz_mut_super(struct fz_rng *r, const struct fz_layout *L,
				uint8_t *buf, char *desc)
{
	const struct fz_field *f = FZ_PICK(r, fz_super_fields);

	fz_mutate_field(r, L, buf, f->off, f->size, f->name, desc);
	if (!fz_one_in(r, 16))
		fz_fix_crc(buf);
	else
		fz_desc(desc, "checksum not fixed; ");
}

/*
 * Super block changes that keep the regions in order, so the mount
 * succeeds and the damage is met later: fewer data blocks (files then
 * point past the end), fewer inodes (entries point past the table), a
 * smaller metadata area (records run off it), a larger image size.
 * Returns the new file length.
 */
static inline uint64_t fz_mut_super_consistent(struct fz_rng *r,
					       const struct fz_layout *L,
					       uint8_t *buf, uint64_t len, char *desc)
{
	struct incrfs_super_block *sb = (void *)buf;
	const struct incrfs_super_info *s = &L->sb;
	uint64_t v;

	switch (fz_below(r, 4)) {
	case 0:
		v = fz_below(r, s->nr_blocks + 1);
		sb->s_nr_blocks = htole64(v);
		sb->s_bitmap_size = htole64((v + 7) / 8);
		fz_desc(desc, "nr_blocks %llu->%llu; ",
			(unsigned long long)s->nr_blocks, (unsigned long long)v);
		break;
	case 1:
		v = 1 + fz_below(r, s->inode_count);
		sb->s_inode_count = htole64(v);
		fz_desc(desc, "inode_count %llu->%llu; ",
			(unsigned long long)s->inode_count,
			(unsigned long long)v);
		break;
	case 2:
		v = fz_below(r, s->meta_size + 1);
		sb->s_meta_size = htole64(v);
		fz_desc(desc, "meta_size %llu->%llu; ",
			(unsigned long long)s->meta_size, (unsigned long long)v);
		break;
	default:
		v = 4096 * (1 + fz_below(r, 4));
		sb->s_image_size = htole64(s->image_size + v);
		len += v;
		fz_desc(desc, "image and file %llu bytes longer; ",
			(unsigned long long)v);
		break;
	}
	fz_fix_crc(buf);
	return len;
}

static inline void fz_mut_mode(struct fz_rng *r, uint8_t *p, char *desc)
{
	static const uint16_t types[] = {
		0, S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO,
		S_IFSOCK, 0xf000, 0x3000, 0x5000, 0x7000, 0x9000, 0xb000,
		0xd000, 0xe000,
	};
	uint16_t old = (uint16_t)fz_get(p, 2), v;

	if (fz_one_in(r, 4))
		v = (old & S_IFMT) | (uint16_t)fz_below(r, 07777 + 1);
	else
		v = (old & 07777) | types[fz_below(r, 16)];
	fz_put(p, 2, v);
	fz_desc(desc, "i_mode 0%o->0%o; ", old, v);
}

static inline const struct fz_inode *fz_pick_inode(struct fz_rng *r,
						   const struct fz_layout *L)
{
	return &L->inodes[fz_below(r, L->ninodes)];
}

static inline void fz_mut_inode(struct fz_rng *r, const struct fz_layout *L,
				uint8_t *buf, char *desc)
{
	const struct fz_inode *in = fz_pick_inode(r, L);
	const struct fz_field *f = FZ_PICK(r, fz_inode_fields);
	char what[40];

	fz_desc(desc, "inode %llu: ", (unsigned long long)in->ii.ino);
	if (f->off == offsetof(struct incrfs_inode, i_mode)) {
		fz_mut_mode(r, buf + in->off, desc);
		return;
	}
	if (f->off == offsetof(struct incrfs_inode, i_parent) &&
	    fz_one_in(r, 2)) {
		uint64_t v = fz_below(r, L->ninodes + 2);

		fz_desc(desc, "i_parent->%llu; ", (unsigned long long)v);
		fz_put(buf + in->off + f->off, 8, v);
		return;
	}
	snprintf(what, sizeof(what), "%s", f->name);
	fz_mutate_field(r, L, buf, in->off + f->off, f->size, what, desc);
}

static inline const struct fz_inode *fz_pick(struct fz_rng *r,
					     const struct fz_layout *L,
					     const uint32_t *set, uint32_t n)
{
	return n ? &L->inodes[set[fz_below(r, n)]] : fz_pick_inode(r, L);
}

static inline void fz_mut_dirent(struct fz_rng *r, const struct fz_layout *L,
				 uint8_t *buf, char *desc)
{
	const struct fz_inode *d = fz_pick(r, L, L->dirs, L->ndirs);
	uint64_t rec = L->sb.meta_off + d->ii.meta_off;
	uint32_t n = d->ii.meta_count, i, j;
	uint8_t *de, tmp[sizeof(struct incrfs_dirent)];
	uint16_t namelen;
	uint32_t nameoff;

	if (!n) {
		fz_mut_inode(r, L, buf, desc);
		return;
	}
	i = (uint32_t)fz_below(r, n);
	de = buf + rec + (uint64_t)i * sizeof(struct incrfs_dirent);
	nameoff = (uint32_t)fz_get(de + offsetof(struct incrfs_dirent, d_nameoff), 4);
	namelen = (uint16_t)fz_get(de + offsetof(struct incrfs_dirent, d_namelen), 2);
	fz_desc(desc, "dir %llu entry %u: ", (unsigned long long)d->ii.ino, i);
	switch (fz_below(r, 8)) {
	case 0: case 1: {
		const struct fz_field *f = FZ_PICK(r, fz_dirent_fields);

		fz_mutate_field(r, L, buf, (uint64_t)(de - buf) + f->off,
				f->size, f->name, desc);
		break;
	}
	case 2: {
		/* another inode: same type (aliases), a directory, or any */
		const struct fz_inode *t = fz_one_in(r, 2) ?
			fz_pick(r, L, L->dirs, L->ndirs) : fz_pick_inode(r, L);

		fz_put(de, 8, t->ii.ino);
		if (fz_one_in(r, 2))
			de[offsetof(struct incrfs_dirent, d_type)] =
				(uint8_t)(((t->ii.mode) >> 12) & 15);
		fz_desc(desc, "d_ino->%llu; ", (unsigned long long)t->ii.ino);
		break;
	}
	case 3: case 4: {
		/* a byte of the name */
		static const uint8_t bytes[] = { '/', 0, '.', 0xff, 'A', 0x7f };
		uint64_t off = rec + nameoff + fz_below(r, namelen ? namelen : 1);
		uint8_t v = fz_one_in(r, 3) ? (uint8_t)fz_next(r) :
			bytes[fz_below(r, sizeof(bytes))];

		if (off < L->size) {
			fz_desc(desc, "name byte %llu 0x%x->0x%x; ",
				(unsigned long long)(off - rec - nameoff),
				buf[off], v);
			buf[off] = v;
		}
		break;
	}
	case 5:
		/* "." or ".." */
		if (rec + nameoff + 2 <= L->size) {
			uint16_t l = (uint16_t)(1 + fz_below(r, 2));

			buf[rec + nameoff] = '.';
			buf[rec + nameoff + 1] = '.';
			fz_put(de + offsetof(struct incrfs_dirent, d_namelen), 2, l);
			fz_desc(desc, "name->%.*s; ", l, "..");
		}
		break;
	case 6:
		/* out of order: swap with another entry */
		j = (uint32_t)fz_below(r, n);
		memcpy(tmp, de, sizeof(tmp));
		memcpy(de, buf + rec + (uint64_t)j * sizeof(tmp), sizeof(tmp));
		memcpy(buf + rec + (uint64_t)j * sizeof(tmp), tmp, sizeof(tmp));
		fz_desc(desc, "swapped with entry %u; ", j);
		break;
	default:
		/* duplicated: another entry copied over this one */
		j = (uint32_t)fz_below(r, n);
		memcpy(de, buf + rec + (uint64_t)j * sizeof(tmp), sizeof(tmp));
		fz_desc(desc, "copy of entry %u; ", j);
		break;
	}
}

static inline void fz_mut_extent(struct fz_rng *r, const struct fz_layout *L,
				 uint8_t *buf, char *desc)
{
	const struct fz_inode *f = fz_pick(r, L, L->files, L->nfiles);
	uint64_t rec = L->sb.meta_off + f->ii.meta_off;
	uint32_t n = f->ii.meta_count, i, j;
	const size_t es = sizeof(struct incrfs_extent);
	uint8_t tmp[sizeof(struct incrfs_extent)];

	if (!n || !S_ISREG(f->ii.mode)) {
		fz_mut_inode(r, L, buf, desc);
		return;
	}
	i = (uint32_t)fz_below(r, n);
	fz_desc(desc, "file %llu extent %u: ", (unsigned long long)f->ii.ino, i);
	if (n > 1 && fz_one_in(r, 5)) {
		j = (uint32_t)fz_below(r, n);
		memcpy(tmp, buf + rec + i * es, es);
		memcpy(buf + rec + i * es, buf + rec + j * es, es);
		memcpy(buf + rec + j * es, tmp, es);
		fz_desc(desc, "swapped with %u; ", j);
		return;
	}
	{
		const struct fz_field *fl = FZ_PICK(r, fz_extent_fields);

		fz_mutate_field(r, L, buf, rec + i * es + fl->off, fl->size,
				fl->name, desc);
	}
}

static inline void fz_mut_xattr(struct fz_rng *r, const struct fz_layout *L,
				uint8_t *buf, char *desc)
{
	const struct fz_inode *in = fz_pick(r, L, L->xattrs, L->nxattrs);
	uint64_t e;
	unsigned int i;

	if (!in->nxattrs) {
		fz_mut_inode(r, L, buf, desc);
		return;
	}
	i = (unsigned int)fz_below(r, in->nxattrs);
	e = in->xattr_entry[i];
	fz_desc(desc, "inode %llu xattr %u: ", (unsigned long long)in->ii.ino, i);
	switch (fz_below(r, 5)) {
	case 0: case 1: {
		const struct fz_field *f = FZ_PICK(r, fz_xattr_fields);

		fz_mutate_field(r, L, buf, e + f->off, f->size, f->name, desc);
		break;
	}
	case 2: {
		/* a byte of the name or value */
		uint64_t off = e + 4 + fz_below(r, 4 + buf[e + 1] +
						  fz_get(buf + e + 2, 2));
		uint8_t v = fz_one_in(r, 2) ? 0 : (uint8_t)fz_next(r);

		if (off < L->size) {
			fz_desc(desc, "byte %llu->0x%x; ",
				(unsigned long long)(off - e), v);
			buf[off] = v;
		}
		break;
	}
	default:
		/* the record's length */
		fz_mutate_field(r, L, buf,
				in->off + offsetof(struct incrfs_inode, i_xattr_len),
				4, "i_xattr_len", desc);
		break;
	}
}

static inline void fz_mut_symlink(struct fz_rng *r, const struct fz_layout *L,
				  uint8_t *buf, char *desc)
{
	const struct fz_inode *in = fz_pick(r, L, L->links, L->nlinks);
	uint64_t rec = L->sb.meta_off + in->ii.meta_off, off;
	static const uint8_t bytes[] = { 0, '/', '.', 0xff };

	if (!S_ISLNK(in->ii.mode)) {
		fz_mut_inode(r, L, buf, desc);
		return;
	}
	fz_desc(desc, "symlink %llu: ", (unsigned long long)in->ii.ino);
	switch (fz_below(r, 4)) {
	case 0: case 1:
		off = rec + fz_below(r, in->ii.meta_len);
		fz_desc(desc, "target byte %llu->0x%x; ",
			(unsigned long long)(off - rec), bytes[off % 4]);
		buf[off] = bytes[off % 4];
		break;
	case 2:
		fz_mutate_field(r, L, buf,
				in->off + offsetof(struct incrfs_inode, i_meta_len),
				4, "i_meta_len", desc);
		break;
	default: {
		/* length and size changed together */
		uint64_t v = fz_interesting(r, L, in->ii.meta_len, 4);

		fz_put(buf + in->off + offsetof(struct incrfs_inode, i_meta_len), 4, v);
		fz_put(buf + in->off + offsetof(struct incrfs_inode, i_size), 8, v);
		fz_desc(desc, "length and size->%llu; ", (unsigned long long)v);
		break;
	}
	}
}

static inline void fz_mut_bitmap(struct fz_rng *r, const struct fz_layout *L,
				 uint8_t *buf, char *desc)
{
	uint64_t lo = L->sb.bitmap_off, n = L->sb.bitmap_size, b;
	unsigned int i;

	fz_desc(desc, "bitmap: ");
	switch (fz_below(r, 8)) {
	case 0: case 1:
		/* the padding bits after the last block, and beyond */
		buf[lo + n - 1] |= (uint8_t)~((1u << (L->sb.nr_blocks % 8)) - 1);
		if (L->sb.nr_blocks % 8 == 0)
			buf[lo + n - 1] = 0xff;
		buf[lo + n] = 0xff;
		fz_desc(desc, "padding bits set; ");
		break;
	case 2:
		/* every block present (the lazy base has missing ones) */
		memset(buf + lo, 0xff, n);
		fz_desc(desc, "all set; ");
		break;
	case 3: case 4:
		/* a few bits set: blocks present that never were filled */
		for (i = 0; i < 4; i++) {
			b = fz_below(r, n * 8);
			buf[lo + b / 8] |= (uint8_t)(1u << (b % 8));
			fz_desc(desc, "bit %llu set; ", (unsigned long long)b);
		}
		break;
	case 5: case 6:
		/* one block missing: a read of it waits for the timeout */
		b = fz_below(r, L->sb.nr_blocks);
		buf[lo + b / 8] &= (uint8_t)~(1u << (b % 8));
		fz_desc(desc, "block %llu missing; ", (unsigned long long)b);
		break;
	default:
		fz_flip_bits(r, buf, lo, lo + n, desc);
		break;
	}
}

/* Point an inode's record or xattrs at another's: type confusion. */
static inline void fz_mut_redirect(struct fz_rng *r, const struct fz_layout *L,
				   uint8_t *buf, char *desc)
{
	const struct fz_inode *a = fz_pick_inode(r, L), *b = fz_pick_inode(r, L);
	uint8_t *pa = buf + a->off;
	const uint8_t *pb = buf + b->off;

	fz_desc(desc, "inode %llu gets inode %llu's ",
		(unsigned long long)a->ii.ino, (unsigned long long)b->ii.ino);
	switch (fz_below(r, 5)) {
	case 0:
		memcpy(pa + offsetof(struct incrfs_inode, i_meta_off),
		       pb + offsetof(struct incrfs_inode, i_meta_off), 16);
		fz_desc(desc, "record; ");
		break;
	case 1:
		/* its xattr record as the main record */
		memcpy(pa + offsetof(struct incrfs_inode, i_meta_off),
		       pb + offsetof(struct incrfs_inode, i_xattr_off), 8);
		memcpy(pa + offsetof(struct incrfs_inode, i_meta_len),
		       pb + offsetof(struct incrfs_inode, i_xattr_len), 4);
		fz_desc(desc, "xattrs as record; ");
		break;
	case 2:
		memcpy(pa + offsetof(struct incrfs_inode, i_xattr_len),
		       pb + offsetof(struct incrfs_inode, i_xattr_len), 12);
		fz_desc(desc, "xattrs; ");
		break;
	case 3:
		/* its type, keeping the record */
		pa[1] = (uint8_t)((pa[1] & 0x0f) | (pb[1] & 0xf0));
		fz_desc(desc, "type; ");
		break;
	default:
		memcpy(pa, pb, sizeof(struct incrfs_inode));
		fz_desc(desc, "whole inode; ");
		break;
	}
}

static inline uint64_t fz_mutate(enum fz_kind kind, struct fz_rng *r,
				 const struct fz_layout *L, uint8_t *buf,
				 uint64_t len, char *desc);

/* One structured mutation of the kinds that keep the length. */
static inline void fz_mut_any(struct fz_rng *r, const struct fz_layout *L,
			      uint8_t *buf, char *desc)
{
	static const enum fz_kind k[] = {
		FZ_SUPER, FZ_INODE, FZ_INODE, FZ_DIRENT, FZ_DIRENT, FZ_EXTENT,
		FZ_XATTR, FZ_SYMLINK, FZ_BITMAP, FZ_REDIRECT, FZ_BITFLIP_META,
	};

	fz_mutate(k[fz_below(r, sizeof(k) / sizeof(k[0]))], r, L, buf, L->size,
		  desc);
}

/*
 * Apply one mutation of @kind to @buf (a copy of the base image, @len
 * bytes, with room for 4 more blocks) and describe it in @desc.  Returns
 * the length of the mutated image.
 */
static inline uint64_t fz_mutate(enum fz_kind kind, struct fz_rng *r,
				 const struct fz_layout *L, uint8_t *buf,
				 uint64_t len, char *desc)
{
	const struct incrfs_super_info *s = &L->sb;
	unsigned int i, n;

	switch (kind) {
	case FZ_BITFLIP:
		fz_flip_bits(r, buf, 0, len, desc);
		break;
	case FZ_BITFLIP_META:
		fz_flip_bits(r, buf, s->inode_off, s->data_off, desc);
		break;
	case FZ_TRUNCATE: {
		const uint64_t at[] = {
			0, 511, 512, 4096, s->inode_off + 64, s->meta_off,
			s->meta_off + s->meta_size / 2, s->hash_off,
			s->bitmap_off, s->data_off, len - 4096, len - 1,
		};
		uint64_t v;

		if (fz_one_in(r, 5)) {
			v = 1 + fz_below(r, 4 * 4096);
			memset(buf + len, fz_one_in(r, 2) ? 0 : 0xa5, v);
			fz_desc(desc, "extended by %llu bytes; ",
				(unsigned long long)v);
			return len + v;
		}
		v = fz_one_in(r, 2) ? fz_below(r, len) :
			at[fz_below(r, sizeof(at) / sizeof(at[0]))];
		fz_desc(desc, "truncated to %llu; ", (unsigned long long)v);
		return v;
	}
	case FZ_SUPER:
		fz_mut_super(r, L, buf, desc);
		break;
	case FZ_SUPER_CONSISTENT:
		return fz_mut_super_consistent(r, L, buf, len, desc);
	case FZ_INODE:
		fz_mut_inode(r, L, buf, desc);
		break;
	case FZ_DIRENT:
		fz_mut_dirent(r, L, buf, desc);
		break;
	case FZ_EXTENT:
		fz_mut_extent(r, L, buf, desc);
		break;
	case FZ_XATTR:
		fz_mut_xattr(r, L, buf, desc);
		break;
	case FZ_SYMLINK:
		fz_mut_symlink(r, L, buf, desc);
		break;
	case FZ_BITMAP:
		fz_mut_bitmap(r, L, buf, desc);
		break;
	case FZ_HASH:
		fz_flip_bits(r, buf, s->hash_off,
			     s->hash_off + s->nr_blocks * INCRFS_HASH_SIZE, desc);
		break;
	case FZ_REDIRECT:
		fz_mut_redirect(r, L, buf, desc);
		break;
	case FZ_MULTI:
	case FZ_OVERLAY:
		n = kind == FZ_MULTI ? 2 + (unsigned int)fz_below(r, 4) :
		    1 + (unsigned int)fz_below(r, 2);
		for (i = 0; i < n; i++)
			fz_mut_any(r, L, buf, desc);
		break;
	case FZ_TRUNC_MOUNTED:
	case FZ_LIVE:
	default:
		break;	/* the caller changes the image once it is mounted */
	}
	return len;
}

#endif /* INCRFS_FUZZ_MUTATE_H */
