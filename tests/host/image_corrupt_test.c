// SPDX-License-Identifier: GPL-2.0-only
/*
 * image_corrupt_test.c - the image and blob readers refuse corrupted input
 * with an error, never a crash.
 *
 * Why this exists: the reader is what incrfsctl, incrfsd and the fuzzers
 * trust to look at images and blobs from elsewhere.  Each test damages one
 * thing in a valid image (bad magic, bad checksum, truncation, offsets out
 * of range, a directory entry pointing outside the inode table, broken
 * extents, symlinks, xattrs, link counts, cycles, hashes) or blob, and
 * checks that the damage is reported as -EUCLEAN.  A last test flips
 * random bytes and only asks that nothing crashes (ASan/UBSan watch).
 */
#include "tests/kselftest/harness.h"

#include <dirent.h>
#include <stddef.h>
#include <zstd.h>

#include "incrfs_test_util.h"
#include "sha256.h"

#define BS 4096

struct bytes {
	uint8_t *buf;
	size_t len;
};

/* root: d/ (f: 3 blocks + xattrs, s -> "target"), g (1 block), h = link to g */
static void make_base(struct th_test *_metadata, struct bytes *img,
		      struct bytes *blob)
{
	struct incrfs_wattr a = { .mode = S_IFDIR | 0755, .mtime = 1000 };
	struct incrfs_writer *w = incrfs_writer_new(&a);
	struct incrfs_write_opts o = { .image_fd = tu_memfd("img"),
				       .blob_fd = tu_memfd("blob"), .full = true,
				       .chunk_blocks = 2, .level = 1, .mkfs_time = 0 };
	struct incrfs_wnode *d, *f, *g, *s;
	uint8_t data[3 * BS];
	struct stat st;

	ASSERT_NOT_NULL(w);
	d = incrfs_writer_add(w, incrfs_writer_root(w), "d", &a);
	ASSERT_NOT_NULL(d);
	a.mode = S_IFREG | 0644;
	f = incrfs_writer_add(w, d, "f", &a);
	g = incrfs_writer_add(w, incrfs_writer_root(w), "g", &a);
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(g);
	tu_pattern(data, sizeof(data), 3);
	ASSERT_EQ(0, incrfs_writer_set_data(w, f, data, sizeof(data)));
	ASSERT_EQ(0, incrfs_writer_set_data(w, g, data, 10));
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, f, INCRFS_XATTR_USER, "one", "1", 1));
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, f, INCRFS_XATTR_USER, "two", "22", 2));
	ASSERT_EQ(0, incrfs_writer_link(w, incrfs_writer_root(w), "h", g));
	a.mode = S_IFLNK | 0777;
	s = incrfs_writer_add(w, d, "s", &a);
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(0, incrfs_writer_set_symlink(w, s, "target", 6));
	ASSERT_EQ(0, incrfs_writer_write(w, &o)) TH_LOG("%s", incrfs_writer_error(w));
	incrfs_writer_free(w);

	ASSERT_EQ(0, fstat(o.image_fd, &st));
	img->len = (size_t)st.st_size;
	img->buf = malloc(img->len);
	ASSERT_EQ(0, tu_pread_all(o.image_fd, img->buf, img->len, 0));
	ASSERT_EQ(0, fstat(o.blob_fd, &st));
	blob->len = (size_t)st.st_size;
	blob->buf = malloc(blob->len);
	ASSERT_EQ(0, tu_pread_all(o.blob_fd, blob->buf, blob->len, 0));
	close(o.image_fd);
	close(o.blob_fd);
}

/* Opens @len bytes of @buf as an image; the fd stays in *fd. */
static int open_image(const uint8_t *buf, size_t len, struct incrfs_image *img,
		      int *fd)
{
	*fd = tu_memfd("bad");
	if (*fd < 0 || write(*fd, buf, len) != (ssize_t)len)
		return -EIO;
	return incrfs_image_open(img, *fd);
}

static int open_blob(const uint8_t *buf, size_t len, struct incrfs_blob *b,
		     int *fd)
{
	*fd = tu_memfd("badblob");
	if (*fd < 0 || write(*fd, buf, len) != (ssize_t)len)
		return -EIO;
	return incrfs_blob_open(b, *fd);
}

static void put_le(uint8_t *p, uint64_t v, size_t size)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t size)
{
	uint64_t v = 0;

	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void fix_super(uint8_t *buf)
{
	struct incrfs_super_block sb;

	memcpy(&sb, buf, sizeof(sb));
	put_le(buf + offsetof(struct incrfs_super_block, s_checksum),
	       incrfs_super_checksum(&sb), 4);
}

static void fix_blob(uint8_t *buf)
{
	struct incrfs_blob_header h;

	memcpy(&h, buf, sizeof(h));
	put_le(buf + offsetof(struct incrfs_blob_header, b_checksum),
	       incrfs_blob_header_checksum(&h), 4);
}

#define SB_FIELD(buf, field) \
	((buf) + offsetof(struct incrfs_super_block, field))
#define SB_GET(buf, field) \
	get_le(SB_FIELD(buf, field), sizeof(((struct incrfs_super_block *)0)->field))

FIXTURE(image) {
	struct bytes base, blob;
	uint8_t *buf;			/* a copy of base to damage */
	int fd;
	struct incrfs_image img;
	struct incrfs_blob b;
	/* where things are in base */
	uint64_t inode_off, meta_off;
	uint64_t ino_d, ino_f, ino_g, ino_s;
};

FIXTURE_SETUP(image)
{
	struct incrfs_image img;
	struct incrfs_inode_info ii;
	int fd;

	self->fd = -1;
	make_base(_metadata, &self->base, &self->blob);
	self->buf = malloc(self->base.len);
	ASSERT_NOT_NULL(self->buf);
	memcpy(self->buf, self->base.buf, self->base.len);
	ASSERT_EQ(0, open_image(self->base.buf, self->base.len, &img, &fd)) TH_LOG("%s", img.err);
	ASSERT_EQ(0, incrfs_image_check(&img, true)) TH_LOG("%s", img.err);
	self->inode_off = img.sb.inode_off;
	self->meta_off = img.sb.meta_off;
	ASSERT_EQ(0, tu_image_path(&img, "d", &ii));
	self->ino_d = ii.ino;
	ASSERT_EQ(0, tu_image_path(&img, "d/f", &ii));
	self->ino_f = ii.ino;
	ASSERT_EQ(0, tu_image_path(&img, "g", &ii));
	self->ino_g = ii.ino;
	ASSERT_EQ(0, tu_image_path(&img, "d/s", &ii));
	self->ino_s = ii.ino;
	incrfs_image_close(&img);
	close(fd);
}

FIXTURE_TEARDOWN(image)
{
	incrfs_image_close(&self->img);
	incrfs_blob_close(&self->b);
	if (self->fd >= 0)
		close(self->fd);
	free(self->buf);
	free(self->base.buf);
	free(self->blob.buf);
}

/* Byte address of field @off of inode @ino in the damaged copy. */
static uint8_t *inode_at(FIXTURE_DATA(image) *self, uint64_t ino, size_t off)
{
	return self->buf + self->inode_off + (ino - 1) * 128 + off;
}

#define INODE_FIELD(ino, field) \
	inode_at(self, ino, offsetof(struct incrfs_inode, field))
#define INODE_GET(ino, field) \
	get_le(INODE_FIELD(ino, field), sizeof(((struct incrfs_inode *)0)->field))

/* The record of inode @ino in the metadata area. */
static uint8_t *record_of(FIXTURE_DATA(image) *self, uint64_t ino)
{
	return self->buf + self->meta_off + INODE_GET(ino, i_meta_off);
}

static int reopen(FIXTURE_DATA(image) *self, size_t len)
{
	incrfs_image_close(&self->img);
	if (self->fd >= 0)
		close(self->fd);
	return open_image(self->buf, len, &self->img, &self->fd);
}

#define EXPECT_REFUSED(self, len, what) do {				\
	int _e = reopen(self, len);					\
	EXPECT_EQ(-EUCLEAN, _e) TH_LOG("%s: accepted", what);		\
	if (_e)								\
		TH_LOG("%s: %s", what, (self)->img.err);		\
} while (0)

TEST_F(image, bad_magic)
{
	self->buf[0] ^= 0xff;
	fix_super(self->buf);
	EXPECT_REFUSED(self, self->base.len, "magic");
	ASSERT_NOT_NULL(strstr(self->img.err, "magic"));
}

TEST_F(image, bad_checksum)
{
	self->buf[offsetof(struct incrfs_super_block, s_reserved) + 7] ^= 1;
	EXPECT_REFUSED(self, self->base.len, "checksum");
	ASSERT_NOT_NULL(strstr(self->img.err, "checksum"));
}

/* Reserved super block bytes are zero, or the image is refused. */
TEST_F(image, reserved_super_block_bytes)
{
	self->buf[offsetof(struct incrfs_super_block, s_reserved) + 7] ^= 1;
	fix_super(self->buf);
	EXPECT_REFUSED(self, self->base.len, "reserved");
	ASSERT_NOT_NULL(strstr(self->img.err, "reserved"));

	memcpy(self->buf, self->base.buf, BS);
	self->buf[offsetof(struct incrfs_super_block, s_reserved0) + 2] = 1;
	fix_super(self->buf);
	EXPECT_REFUSED(self, self->base.len, "reserved0");
}

TEST_F(image, unknown_versions_and_features)
{
	put_le(SB_FIELD(self->buf, s_major), INCRFS_MAJOR + 1, 2);
	fix_super(self->buf);
	EXPECT_REFUSED(self, self->base.len, "major");

	memcpy(self->buf, self->base.buf, BS);
	put_le(SB_FIELD(self->buf, s_feature_incompat), 0x80, 4);
	fix_super(self->buf);
	EXPECT_REFUSED(self, self->base.len, "incompat feature");

	/* compat, ro_compat and the minor version do not stop a reader */
	memcpy(self->buf, self->base.buf, BS);
	put_le(SB_FIELD(self->buf, s_feature_compat), 0x80, 4);
	put_le(SB_FIELD(self->buf, s_feature_ro_compat), 0x80, 4);
	put_le(SB_FIELD(self->buf, s_minor), 77, 2);
	fix_super(self->buf);
	ASSERT_EQ(0, reopen(self, self->base.len)) TH_LOG("%s", self->img.err);
}

TEST_F(image, truncated)
{
	EXPECT_REFUSED(self, self->base.len - 1, "one byte short");
	ASSERT_NOT_NULL(strstr(self->img.err, "truncated"));
	EXPECT_REFUSED(self, 4096, "super block only");
	EXPECT_REFUSED(self, 511, "short super block");
	EXPECT_REFUSED(self, 0, "empty file");
}

TEST_F(image, offsets_out_of_range)
{
	const uint64_t nr = SB_GET(self->base.buf, s_nr_blocks);
	const uint64_t count = SB_GET(self->base.buf, s_inode_count);
	const uint64_t meta_off = SB_GET(self->base.buf, s_meta_off);
	const uint64_t hash_off = SB_GET(self->base.buf, s_hash_off);
	const uint64_t bitmap_off = SB_GET(self->base.buf, s_bitmap_off);
	const uint64_t data_off = SB_GET(self->base.buf, s_data_off);
	const uint64_t image_size = SB_GET(self->base.buf, s_image_size);
	const struct {
		const char *what;
		size_t off, size;
		uint64_t value;
	} cases[] = {
#define C(what, field, v) { what, offsetof(struct incrfs_super_block, field), \
	sizeof(((struct incrfs_super_block *)0)->field), v }
		C("inode table overlaps the super block", s_inode_off, 0),
		C("inode table not aligned", s_inode_off, 4096 + 8),
		C("inode table past the image", s_inode_off, image_size),
		C("inode count 0", s_inode_count, 0),
		C("inode count over 2^32", s_inode_count, 1ULL << 32),
		C("inode count overflows", s_inode_count, 1ULL << 60),
		C("inode table overlaps the metadata", s_inode_count, count + 1),
		C("root inode not 1", s_root_ino, 2),
		C("metadata overlaps the inode table", s_meta_off, meta_off - 8),
		C("metadata overlaps the hash table", s_meta_size, hash_off - meta_off + 1),
		C("metadata size overflows", s_meta_size, UINT64_MAX - 100),
		C("hash table overlaps the bitmap", s_hash_off, bitmap_off - nr * 32 + 1),
		C("bitmap not aligned", s_bitmap_off, bitmap_off + 1),
		C("bitmap size wrong", s_bitmap_size, (nr + 7) / 8 + 1),
		C("data not aligned", s_data_off, data_off + 512),
		C("data region past the image size", s_data_off, data_off + 4096),
		C("image size below the data", s_image_size, image_size - 4096),
		C("image size past the file", s_image_size, image_size + 4096),
		C("block count overflows", s_nr_blocks, 1ULL << 61),
		C("block count too large", s_nr_blocks, nr + 1),
		C("block size", s_blkszbits, 13),
		C("inode size", s_inode_size, 64),
#undef C
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(self->buf, self->base.buf, BS);
		put_le(self->buf + cases[i].off, cases[i].value, cases[i].size);
		fix_super(self->buf);
		EXPECT_REFUSED(self, self->base.len, cases[i].what);
	}
}

/* Each region out of place is named in the message, with its bounds. */
TEST_F(image, region_out_of_range_is_named)
{
	const uint64_t count = SB_GET(self->base.buf, s_inode_count);
	const uint64_t meta_off = SB_GET(self->base.buf, s_meta_off);
	const uint64_t hash_off = SB_GET(self->base.buf, s_hash_off);
	const uint64_t data_off = SB_GET(self->base.buf, s_data_off);
	const struct {
		const char *says;
		size_t off, size;
		uint64_t value;
	} cases[] = {
#define C(says, field, v) { says, offsetof(struct incrfs_super_block, field), \
	sizeof(((struct incrfs_super_block *)0)->field), v }
		C("inode table at", s_inode_count, count + 1),
		C("metadata area at", s_meta_size, hash_off - meta_off + 1),
		C("data region at", s_data_off, data_off + 4096),
		C("overlaps the super block", s_inode_off, 0),
#undef C
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(self->buf, self->base.buf, BS);
		put_le(self->buf + cases[i].off, cases[i].value, cases[i].size);
		fix_super(self->buf);
		EXPECT_NE(0, reopen(self, self->base.len));
		EXPECT_NOT_NULL(strstr(self->img.err, cases[i].says))
			TH_LOG("wanted '%s' in: %s", cases[i].says,
			       self->img.err);
	}
}

TEST_F(image, dirent_outside_the_inode_table)
{
	struct incrfs_inode_info root;
	struct incrfs_dirent_info d;
	uint8_t *rec = record_of(self, 1);
	uint64_t count = SB_GET(self->base.buf, s_inode_count);

	put_le(rec + 16, count + 1, 8);		/* entry 1 ("g") */
	ASSERT_EQ(0, reopen(self, self->base.len)) TH_LOG("%s", self->img.err);
	ASSERT_EQ(0, incrfs_image_read_inode(&self->img, 1, &root));
	ASSERT_EQ(0, incrfs_image_dirent(&self->img, &root, 0, &d));
	ASSERT_EQ(-EUCLEAN, incrfs_image_dirent(&self->img, &root, 1, &d));
	TH_LOG("%s", self->img.err);
	ASSERT_EQ(-EUCLEAN, incrfs_image_lookup(&self->img, &root, "g", 1, &d));
	ASSERT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));

	put_le(rec + 16, 0, 8);
	ASSERT_EQ(0, reopen(self, self->base.len));
	ASSERT_EQ(0, incrfs_image_read_inode(&self->img, 1, &root));
	ASSERT_EQ(-EUCLEAN, incrfs_image_dirent(&self->img, &root, 1, &d));
}

TEST_F(image, dirent_names)
{
	struct incrfs_inode_info root;
	struct incrfs_dirent_info d;
	uint8_t *rec = record_of(self, 1);
	uint32_t len = (uint32_t)INODE_GET(1, i_meta_len);
	uint32_t nameoff = (uint32_t)get_le(rec + 8, 4);
	const struct { uint32_t off; uint16_t len; const char *name; } cases[] = {
		{ len, 1, NULL },		/* past the record */
		{ len - 1, 2, NULL },		/* straddles the end */
		{ 8, 1, NULL },			/* inside the entry table */
		{ nameoff, 0, NULL },		/* empty */
		{ nameoff, 256, NULL },		/* too long */
		{ nameoff, 1, "/" },
		{ nameoff, 1, "." },
		{ nameoff, 2, ".." },
		{ nameoff, 1, "" },		/* NUL */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(self->buf, self->base.buf, self->base.len);
		put_le(rec + 8, cases[i].off, 4);
		put_le(rec + 12, cases[i].len, 2);
		if (cases[i].name)
			memcpy(rec + cases[i].off, cases[i].name, cases[i].len);
		ASSERT_EQ(0, reopen(self, self->base.len));
		ASSERT_EQ(0, incrfs_image_read_inode(&self->img, 1, &root));
		EXPECT_EQ(-EUCLEAN, incrfs_image_dirent(&self->img, &root, 0, &d))
			TH_LOG("case %zu accepted", i);
	}
}

TEST_F(image, dirent_type_order_and_cycles)
{
	uint8_t *rec = record_of(self, 1), *drec = record_of(self, self->ino_d);
	uint8_t tmp[16];

	rec[16 + 14] = DT_DIR;			/* "g" is a file */
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);

	memcpy(self->buf, self->base.buf, self->base.len);
	memcpy(tmp, rec, 16);			/* swap entries 0 and 1 */
	memcpy(rec, rec + 16, 16);
	memcpy(rec + 16, tmp, 16);
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);

	memcpy(self->buf, self->base.buf, self->base.len);
	put_le(drec, 1, 8);			/* d/f -> the root */
	drec[14] = DT_DIR;
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);

	memcpy(self->buf, self->base.buf, self->base.len);
	put_le(drec, self->ino_d, 8);		/* d/f -> d itself */
	drec[14] = DT_DIR;
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);

	memcpy(self->buf, self->base.buf, self->base.len);
	put_le(INODE_FIELD(self->ino_d, i_parent), self->ino_g, 8);
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);
}

TEST_F(image, link_counts)
{
	put_le(INODE_FIELD(self->ino_g, i_nlink), 1, 4);	/* has 2 links */
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);

	memcpy(self->buf, self->base.buf, self->base.len);
	put_le(INODE_FIELD(self->ino_d, i_nlink), 3, 4);	/* has no subdirs */
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);
}

TEST_F(image, bad_inodes)
{
	struct incrfs_inode_info ii;
	const uint64_t nr = SB_GET(self->base.buf, s_nr_blocks);
	const uint64_t meta_size = SB_GET(self->base.buf, s_meta_size);
	const uint64_t f = self->ino_f;
	const struct {
		const char *what;
		uint64_t ino;
		size_t off, size;
		uint64_t value;
	} cases[] = {
#define C(what, ino, field, v) { what, ino, offsetof(struct incrfs_inode, field), \
	sizeof(((struct incrfs_inode *)0)->field), v }
		C("unknown file type", f, i_mode, 0170000 | 0644),
		C("unknown flags", f, i_flags, 1),
		C("link count 0", f, i_nlink, 0),
		C("mtime nsec", f, i_mtime_nsec, 1000000000),
		C("ctime nsec", f, i_ctime_nsec, 4000000000u),
		C("size over 2^63", f, i_size, 1ULL << 63),
		C("record past the metadata", f, i_meta_off, meta_size),
		C("record length past the metadata", f, i_meta_len, meta_size + 1),
		C("xattrs past the metadata", f, i_xattr_off, meta_size - 1),
		C("xattr offset overflows", f, i_xattr_off, UINT64_MAX - 2),
		C("data blocks past the end", f, i_first_block, nr),
		C("more data blocks than extents cover", f, i_nr_blocks, 4),
		C("extent count not matching the record", f, i_meta_count, 2),
		C("file smaller than its extents", f, i_size, 4096),
		C("directory parent 0", self->ino_d, i_parent, 0),
		C("directory parent out of range", self->ino_d, i_parent, 1000),
		C("directory entries past its record", self->ino_d, i_meta_count, 1000),
		C("data blocks on a directory", self->ino_d, i_nr_blocks, 1),
		C("symlink size differs", self->ino_s, i_size, 5),
		C("symlink empty", self->ino_s, i_meta_len, 0),
#undef C
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(self->buf, self->base.buf, self->base.len);
		put_le(inode_at(self, cases[i].ino, cases[i].off), cases[i].value,
		       cases[i].size);
		ASSERT_EQ(0, reopen(self, self->base.len));
		EXPECT_EQ(-EUCLEAN, incrfs_image_read_inode(&self->img, cases[i].ino, &ii))
			TH_LOG("%s: accepted", cases[i].what);
		EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false))
			TH_LOG("%s: check accepted", cases[i].what);
	}
	/* an inode number out of range */
	ASSERT_EQ(0, reopen(self, self->base.len));
	ASSERT_EQ(-ENOENT, incrfs_image_read_inode(&self->img, 0, &ii));
	ASSERT_EQ(-ENOENT, incrfs_image_read_inode(&self->img,
						  self->img.sb.inode_count + 1, &ii));
}

TEST_F(image, bad_extents_and_symlinks)
{
	struct incrfs_inode_info ii;
	uint8_t *ext = record_of(self, self->ino_f);
	uint8_t *target = record_of(self, self->ino_s);
	const uint64_t first = INODE_GET(self->ino_f, i_first_block);
	const struct { const char *what; size_t off, size; uint64_t value; } cases[] = {
		{ "pblk not the file's first block", 8, 8, first + 1 },
		{ "pblk far out", 8, 8, UINT64_MAX - 1 },
		{ "len 0", 16, 4, 0 },
		{ "len past the file", 16, 4, 4 },
		{ "lblk past the file", 0, 8, 3 },
		{ "lblk overflows", 0, 8, UINT64_MAX },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(self->buf, self->base.buf, self->base.len);
		put_le(ext + cases[i].off, cases[i].value, cases[i].size);
		ASSERT_EQ(0, reopen(self, self->base.len));
		EXPECT_EQ(-EUCLEAN, incrfs_image_read_inode(&self->img, self->ino_f, &ii))
			TH_LOG("%s: accepted", cases[i].what);
	}
	memcpy(self->buf, self->base.buf, self->base.len);
	target[2] = '\0';
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_read_inode(&self->img, self->ino_s, &ii));
}

TEST_F(image, bad_xattrs)
{
	struct incrfs_inode_info ii;
	struct incrfs_xattr_info x;
	uint8_t *rec = self->buf + self->meta_off + INODE_GET(self->ino_f, i_xattr_off);
	const struct { const char *what; size_t off, size; uint64_t value; } cases[] = {
		{ "index 0", 0, 1, 0 },
		{ "index 9", 0, 1, 9 },
		{ "empty name", 1, 1, 0 },
		{ "name past the record", 1, 1, 255 },
		{ "value past the record", 2, 2, 60000 },
		{ "NUL in the name", 4, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t pos = 0;

		memcpy(self->buf, self->base.buf, self->base.len);
		put_le(rec + cases[i].off, cases[i].value, cases[i].size);
		ASSERT_EQ(0, reopen(self, self->base.len));
		ASSERT_EQ(0, incrfs_image_read_inode(&self->img, self->ino_f, &ii));
		EXPECT_EQ(-EUCLEAN, incrfs_image_xattr_next(&self->img, &ii, &pos, &x))
			TH_LOG("%s: accepted", cases[i].what);
	}
	/* two xattrs out of order: the entries are fine, the check is not */
	memcpy(self->buf, self->base.buf, self->base.len);
	memcpy(rec + 4, "zzz", 3);
	ASSERT_EQ(0, reopen(self, self->base.len));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	TH_LOG("%s", self->img.err);
}

TEST_F(image, hashes_and_data)
{
	uint8_t h[INCRFS_HASH_SIZE];
	const uint64_t hash_off = SB_GET(self->base.buf, s_hash_off);
	const uint64_t data_off = SB_GET(self->base.buf, s_data_off);

	self->buf[hash_off + 5] ^= 1;
	ASSERT_EQ(0, reopen(self, self->base.len));
	ASSERT_EQ(0, incrfs_image_compute_root_hash(&self->img, h));
	ASSERT_NE(0, memcmp(h, self->img.sb.root_hash, sizeof(h)));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, false));
	ASSERT_NOT_NULL(strstr(self->img.err, "root hash"));

	memcpy(self->buf, self->base.buf, self->base.len);
	self->buf[data_off + 4096 + 100] ^= 1;
	ASSERT_EQ(0, reopen(self, self->base.len));
	ASSERT_EQ(0, incrfs_image_check(&self->img, false));
	EXPECT_EQ(-EUCLEAN, incrfs_image_check(&self->img, true));
	TH_LOG("%s", self->img.err);
	ASSERT_EQ(-ERANGE, incrfs_image_block_hash(&self->img, self->img.sb.nr_blocks, h));
}

#define BH_FIELD(buf, field) ((buf) + offsetof(struct incrfs_blob_header, field))

TEST_F(image, blob_header_and_index)
{
	uint8_t *bb = malloc(self->blob.len);
	const uint64_t index_off = get_le(BH_FIELD(self->blob.buf, b_index_off), 8);
	const uint64_t nr_chunks = get_le(BH_FIELD(self->blob.buf, b_nr_chunks), 8);
	const struct {
		const char *what;
		size_t off, size;
		uint64_t value;
		int fix;
	} cases[] = {
#define H(what, field, v) { what, offsetof(struct incrfs_blob_header, field), \
	sizeof(((struct incrfs_blob_header *)0)->field), v, 1 }
		H("magic", b_magic, INCRFS_SUPER_MAGIC),
		{ "checksum", offsetof(struct incrfs_blob_header, b_reserved), 1, 1, 0 },
		H("major", b_major, 2),
		H("chunk blocks 0", b_chunk_blocks, 0),
		H("chunk count", b_nr_chunks, nr_chunks + 1),
		H("block count", b_nr_blocks, 1000),
		H("index past the end", b_index_off, self->blob.len),
		H("index inside the header", b_index_off, 8),
		H("huge chunks", b_chunk_blocks, 1U << 30),
#undef H
		{ "chunk offset past the end", index_off, 8, self->blob.len, 0 },
		{ "chunk offset in the header", index_off, 8, 10, 0 },
		{ "chunk over the index", index_off + 8, 4, index_off, 0 },
		{ "chunk length 0", index_off + 8, 4, 0, 0 },
		{ "chunk block count", index_off + 12, 4, 1, 0 },
		/* chunk 0 (at 128) spanning the data region: more bytes
		 * than its blocks can compress to */
		{ "chunk longer than its blocks compress to", index_off + 8, 4,
		  index_off - 128, 0 },
	};

	ASSERT_NOT_NULL(bb);
	ASSERT_EQ(0, open_blob(self->blob.buf, self->blob.len, &self->b, &self->fd))
		TH_LOG("%s", self->b.err);
	close(self->fd);
	self->fd = -1;
	incrfs_blob_close(&self->b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bb, self->blob.buf, self->blob.len);
		put_le(bb + cases[i].off, cases[i].value, cases[i].size);
		if (cases[i].fix)
			fix_blob(bb);
		EXPECT_EQ(-EUCLEAN, open_blob(bb, self->blob.len, &self->b, &self->fd))
			TH_LOG("%s: accepted", cases[i].what);
		TH_LOG("%s: %s", cases[i].what, self->b.err);
		incrfs_blob_close(&self->b);
		close(self->fd);
		self->fd = -1;
	}
	EXPECT_EQ(-EUCLEAN, open_blob(self->blob.buf, index_off + 8, &self->b, &self->fd));
	TH_LOG("truncated: %s", self->b.err);
	free(bb);
}

TEST_F(image, blob_chunks)
{
	uint8_t *bb = malloc(self->blob.len + 1024), *out = malloc(2 * BS);
	const uint64_t index_off = get_le(BH_FIELD(self->blob.buf, b_index_off), 8);
	struct incrfs_chunk_info ci;
	uint8_t small[BS], frame[1024];
	size_t n;
	int fd;

	ASSERT_NOT_NULL(bb);
	ASSERT_NOT_NULL(out);
	ASSERT_EQ(0, open_blob(self->blob.buf, self->blob.len, &self->b, &fd));
	ASSERT_EQ(0, incrfs_blob_chunk(&self->b, 0, &ci));
	ASSERT_EQ(0, incrfs_blob_read_chunk(&self->b, 0, out, 2 * BS));
	/* bytes of the wrong length, or a damaged frame */
	ASSERT_EQ(-EINVAL, incrfs_blob_decode_chunk(&self->b, 0, self->blob.buf + ci.off,
						    ci.len - 1, out, 2 * BS));
	memcpy(bb, self->blob.buf + ci.off, ci.len);
	bb[ci.len / 2] ^= 0x55;
	bb[ci.len - 1] ^= 0x55;
	EXPECT_EQ(-EUCLEAN, incrfs_blob_decode_chunk(&self->b, 0, bb, ci.len, out, 2 * BS));
	TH_LOG("damaged frame: %s", self->b.err);
	incrfs_blob_close(&self->b);
	close(fd);

	/* a valid frame of the wrong size: one block where the index says 2 */
	memset(small, 7, sizeof(small));
	n = ZSTD_compress(frame, sizeof(frame), small, sizeof(small), 1);
	ASSERT_FALSE(ZSTD_isError(n));
	memcpy(bb, self->blob.buf, self->blob.len);
	memcpy(bb + self->blob.len, frame, n);
	put_le(bb + index_off, self->blob.len, 8);
	put_le(bb + index_off + 8, n, 4);
	ASSERT_EQ(0, open_blob(bb, self->blob.len + n, &self->b, &fd)) TH_LOG("%s", self->b.err);
	EXPECT_EQ(-EUCLEAN, incrfs_blob_read_chunk(&self->b, 0, out, 2 * BS));
	TH_LOG("short frame: %s", self->b.err);
	incrfs_blob_close(&self->b);
	close(fd);

	/* two frames where one is expected */
	memcpy(bb, self->blob.buf, self->blob.len);
	memcpy(bb + self->blob.len, frame, n);
	memcpy(bb + self->blob.len + n, frame, n);
	put_le(bb + index_off, self->blob.len, 8);
	put_le(bb + index_off + 8, 2 * n, 4);
	ASSERT_EQ(0, open_blob(bb, self->blob.len + 2 * n, &self->b, &fd));
	EXPECT_EQ(-EUCLEAN, incrfs_blob_read_chunk(&self->b, 0, out, 2 * BS));
	TH_LOG("two frames: %s", self->b.err);
	incrfs_blob_close(&self->b);
	close(fd);
	free(bb);
	free(out);
}

/* Walks everything the reader offers; errors are fine, crashes are not. */
static void poke_everything(struct incrfs_image *img)
{
	uint8_t h[INCRFS_HASH_SIZE];
	uint64_t present, pb;

	incrfs_image_check(img, true);
	incrfs_image_compute_root_hash(img, h);
	incrfs_image_count_present(img, &present);
	for (uint64_t ino = 1; ino <= img->sb.inode_count && ino < 64; ino++) {
		struct incrfs_inode_info ii;
		struct incrfs_dirent_info d;
		struct incrfs_xattr_info x;
		const char *t;
		size_t len;
		uint32_t pos = 0;

		if (incrfs_image_read_inode(img, ino, &ii))
			continue;
		while (incrfs_image_xattr_next(img, &ii, &pos, &x) > 0)
			;
		if (S_ISDIR(ii.mode)) {
			for (uint32_t i = 0; i < ii.meta_count && i < 64; i++)
				incrfs_image_dirent(img, &ii, i, &d);
			incrfs_image_lookup(img, &ii, "f", 1, &d);
		} else if (S_ISLNK(ii.mode)) {
			incrfs_image_symlink(img, &ii, &t, &len);
		} else if (S_ISREG(ii.mode)) {
			for (uint64_t l = 0; l < 5; l++)
				if (incrfs_image_map_block(img, &ii, l, &pb) == 1)
					incrfs_image_block_hash(img, pb, h);
		}
	}
}

TEST_F_TIMEOUT(image, random_damage_never_crashes, 300)
{
	/* metadata only: the data region is a few blocks of pattern */
	const size_t span = (size_t)SB_GET(self->base.buf, s_data_off);
	unsigned int seed = 12345;
	int opened = 0;

	for (int iter = 0; iter < 3000; iter++) {
		int flips = 1 + rand_r(&seed) % 4;

		memcpy(self->buf, self->base.buf, self->base.len);
		for (int k = 0; k < flips; k++) {
			size_t at = (size_t)rand_r(&seed) % span;

			/* half of the time, hit the super block's fields */
			if (k == 0 && rand_r(&seed) % 2)
				at = (size_t)rand_r(&seed) % 200;
			self->buf[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		}
		fix_super(self->buf);
		if (reopen(self, self->base.len) == 0) {
			opened++;
			poke_everything(&self->img);
		}
	}
	TH_LOG("%d of 3000 damaged images opened", opened);

	for (int iter = 0; iter < 2000; iter++) {
		uint8_t *bb = malloc(self->blob.len), *out = malloc(2 * BS);
		int fd;

		memcpy(bb, self->blob.buf, self->blob.len);
		bb[(size_t)rand_r(&seed) % self->blob.len] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		if (rand_r(&seed) % 2)
			fix_blob(bb);
		if (open_blob(bb, self->blob.len, &self->b, &fd) == 0) {
			for (uint64_t c = 0; c < self->b.nr_chunks; c++)
				incrfs_blob_read_chunk(&self->b, c, out, 2 * BS);
		}
		incrfs_blob_close(&self->b);
		close(fd);
		free(bb);
		free(out);
	}
}

TEST_HARNESS_MAIN
