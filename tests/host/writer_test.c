// SPDX-License-Identifier: GPL-2.0-only
/*
 * writer_test.c - the image writer (tools/lib/writer.h) read back with
 * the image and blob readers, in memory, without the packer.
 *
 * Why this exists: it pins the layout decisions the format leaves to the
 * writer (holes, extents as runs of data blocks in file order, inode
 * numbering, link counts, xattr order, chunking of the blob) and checks
 * that the writer refuses what the format cannot hold.
 */
#include "tests/kselftest/harness.h"

#include <dirent.h>
#include <sys/mman.h>

#include "incrfs_test_util.h"
#include "devnum.h"
#include "sha256.h"

#define BS 4096

static struct incrfs_wattr attr(uint32_t mode)
{
	return (struct incrfs_wattr){
		.mode = mode, .uid = 1000, .gid = 100,
		.mtime = 1700000000, .mtime_nsec = 123456789,
		.ctime = 1700000001, .ctime_nsec = 5,
	};
}

struct built {
	int img_fd, blob_fd;
	struct incrfs_image img;
	struct incrfs_blob blob;
};

/* Writes @w into memfds and opens them with the readers. */
static void build(struct th_test *_metadata, struct incrfs_writer *w,
		  bool full, uint32_t chunk_blocks, struct built *b)
{
	struct incrfs_write_opts o = {
		.image_fd = tu_memfd("img"), .blob_fd = tu_memfd("blob"),
		.full = full, .chunk_blocks = chunk_blocks, .level = 3,
		.mkfs_time = 42,
	};

	memset(b, 0, sizeof(*b));
	b->img_fd = o.image_fd;
	b->blob_fd = o.blob_fd;
	ASSERT_GE(o.image_fd, 0);
	ASSERT_GE(o.blob_fd, 0);
	ASSERT_EQ(0, incrfs_writer_write(w, &o)) TH_LOG("%s", incrfs_writer_error(w));
	ASSERT_EQ(0, incrfs_image_open(&b->img, b->img_fd)) TH_LOG("%s", b->img.err);
	ASSERT_EQ(0, incrfs_image_check(&b->img, true)) TH_LOG("%s", b->img.err);
	ASSERT_EQ(0, incrfs_blob_open(&b->blob, b->blob_fd)) TH_LOG("%s", b->blob.err);
	ASSERT_EQ(0, memcmp(b->blob.root_hash, b->img.sb.root_hash, INCRFS_HASH_SIZE));
	ASSERT_EQ(b->blob.nr_blocks, b->img.sb.nr_blocks);
}

static void unbuild(struct built *b)
{
	incrfs_image_close(&b->img);
	incrfs_blob_close(&b->blob);
	close(b->img_fd);
	close(b->blob_fd);
}

TEST(empty_root)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	struct incrfs_inode_info root;
	uint8_t h[INCRFS_HASH_SIZE];
	struct built b;

	ASSERT_NOT_NULL(w);
	build(_metadata, w, false, 0, &b);
	ASSERT_EQ(1, b.img.sb.inode_count);
	ASSERT_EQ(0, b.img.sb.nr_blocks);
	ASSERT_EQ(0, b.img.sb.bitmap_size);
	ASSERT_EQ(42, b.img.sb.mkfs_time);
	ASSERT_EQ(0, incrfs_sha256("", 0, h));
	ASSERT_EQ(0, memcmp(h, b.img.sb.root_hash, sizeof(h)));
	ASSERT_EQ(0, incrfs_image_read_inode(&b.img, 1, &root));
	ASSERT_EQ(S_IFDIR | 0755, root.mode);
	ASSERT_EQ(2, root.nlink);
	ASSERT_EQ(1, root.parent);
	ASSERT_EQ(0, root.meta_count);
	ASSERT_EQ(0, b.blob.nr_chunks);
	ASSERT_EQ(0, incrfs_image_read_inode(&b.img, 2, &root) == -ENOENT ? 0 : 1);
	unbuild(&b);
	incrfs_writer_free(w);
}

TEST(holes_become_extent_gaps)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), fa = attr(S_IFREG | 0644);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	size_t size = 6 * BS + 100;
	uint8_t *data = calloc(1, size), *blk = malloc(BS);
	struct incrfs_inode_info f, z;
	struct incrfs_extent_info e;
	struct incrfs_wnode *n;
	uint64_t pb;
	struct built b;

	ASSERT_NOT_NULL(w);
	/* blocks: D 0 0 D D 0 d(100 bytes) */
	tu_pattern(data, BS, 1);
	tu_pattern(data + 3 * BS, 2 * BS, 2);
	tu_pattern(data + 6 * BS, 100, 3);
	n = incrfs_writer_add(w, incrfs_writer_root(w), "f", &fa);
	ASSERT_NOT_NULL(n);
	ASSERT_EQ(0, incrfs_writer_set_data(w, n, data, size));
	/* all zero, and a zero tail: no data blocks at all */
	n = incrfs_writer_add(w, incrfs_writer_root(w), "z", &fa);
	ASSERT_NOT_NULL(n);
	memset(blk, 0, BS);
	ASSERT_EQ(0, incrfs_writer_set_data(w, n, blk, 3000));
	build(_metadata, w, true, 0, &b);

	ASSERT_EQ(0, tu_image_path(&b.img, "f", &f));
	ASSERT_EQ(size, f.size);
	ASSERT_EQ(4, f.nr_blocks);
	ASSERT_EQ(3, f.meta_count);
	ASSERT_EQ(0, incrfs_image_extent(&b.img, &f, 0, &e));
	ASSERT_EQ(0, e.lblk);
	ASSERT_EQ(f.first_block, e.pblk);
	ASSERT_EQ(1, e.len);
	ASSERT_EQ(0, incrfs_image_extent(&b.img, &f, 1, &e));
	ASSERT_EQ(3, e.lblk);
	ASSERT_EQ(f.first_block + 1, e.pblk);
	ASSERT_EQ(2, e.len);
	ASSERT_EQ(0, incrfs_image_extent(&b.img, &f, 2, &e));
	ASSERT_EQ(6, e.lblk);
	ASSERT_EQ(1, e.len);
	for (uint64_t l = 0; l < 8; l++) {
		int mapped = incrfs_image_map_block(&b.img, &f, l, &pb);
		int want = l == 0 || l == 3 || l == 4 || l == 6;

		ASSERT_EQ(want, mapped) TH_LOG("block %llu", (unsigned long long)l);
		if (!mapped)
			continue;
		ASSERT_EQ(0, incrfs_image_read_block(&b.img, pb, blk));
		if (l == 6) {
			ASSERT_EQ(0, memcmp(blk, data + l * BS, 100));
			for (size_t i = 100; i < BS; i++)
				ASSERT_EQ(0, blk[i]);
		} else {
			ASSERT_EQ(0, memcmp(blk, data + l * BS, BS));
		}
	}
	ASSERT_EQ(0, tu_image_path(&b.img, "z", &z));
	ASSERT_EQ(3000, z.size);
	ASSERT_EQ(0, z.nr_blocks);
	ASSERT_EQ(0, z.meta_count);
	ASSERT_EQ(0, incrfs_image_map_block(&b.img, &z, 0, &pb));
	ASSERT_EQ(4, b.img.sb.nr_blocks);
	unbuild(&b);
	incrfs_writer_free(w);
	free(data);
	free(blk);
}

TEST(numbering_links_and_parents)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), da = attr(S_IFDIR | 0700),
		fa = attr(S_IFREG | 0600);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	struct incrfs_wnode *root, *b_dir, *a_dir, *f;
	struct incrfs_inode_info ii;
	struct incrfs_dirent_info d;
	struct built b;

	ASSERT_NOT_NULL(w);
	root = incrfs_writer_root(w);
	/* added out of order on purpose */
	b_dir = incrfs_writer_add(w, root, "b", &da);
	ASSERT_NOT_NULL(b_dir);
	ASSERT_NOT_NULL(incrfs_writer_add(w, b_dir, "sub", &da));
	f = incrfs_writer_add(w, b_dir, "file", &fa);
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(0, incrfs_writer_set_data(w, f, "x", 1));
	a_dir = incrfs_writer_add(w, root, "a", &da);
	ASSERT_NOT_NULL(a_dir);
	ASSERT_EQ(0, incrfs_writer_link(w, a_dir, "link1", f));
	ASSERT_EQ(0, incrfs_writer_link(w, root, "link2", f));
	ASSERT_GT(0, incrfs_writer_link(w, root, "dirlink", a_dir));
	build(_metadata, w, false, 0, &b);

	/* breadth-first, names in order: / a b link2(=file) ; a: link1 ; b: file sub */
	ASSERT_EQ(5, b.img.sb.inode_count);
	ASSERT_EQ(0, incrfs_image_read_inode(&b.img, 1, &ii));
	ASSERT_EQ(4, ii.nlink);		/* 2 + a + b */
	ASSERT_EQ(3, ii.meta_count);
	ASSERT_EQ(0, incrfs_image_dirent(&b.img, &ii, 0, &d));
	ASSERT_EQ(2, d.ino);
	ASSERT_EQ(DT_DIR, d.type);
	ASSERT_EQ(0, incrfs_image_dirent(&b.img, &ii, 1, &d));
	ASSERT_EQ(3, d.ino);
	ASSERT_EQ(0, incrfs_image_dirent(&b.img, &ii, 2, &d));
	ASSERT_EQ(4, d.ino);
	ASSERT_EQ(DT_REG, d.type);
	ASSERT_EQ(0, incrfs_image_read_inode(&b.img, 4, &ii));
	ASSERT_EQ(3, ii.nlink);
	ASSERT_EQ(S_IFREG | 0600, ii.mode);
	ASSERT_EQ(0, tu_image_path(&b.img, "b/file", &ii));
	ASSERT_EQ(4, ii.ino);
	ASSERT_EQ(0, tu_image_path(&b.img, "a/link1", &ii));
	ASSERT_EQ(4, ii.ino);
	ASSERT_EQ(0, tu_image_path(&b.img, "b/sub", &ii));
	ASSERT_EQ(5, ii.ino);
	ASSERT_EQ(3, ii.parent);
	ASSERT_EQ(2, ii.nlink);
	ASSERT_EQ(0, tu_image_path(&b.img, "b", &ii));
	ASSERT_EQ(1, ii.parent);
	ASSERT_EQ(3, ii.nlink);
	ASSERT_EQ(1000, ii.uid);
	ASSERT_EQ(100, ii.gid);
	ASSERT_EQ(1700000000, ii.mtime);
	ASSERT_EQ(123456789, ii.mtime_nsec);
	ASSERT_EQ(1700000001, ii.ctime);
	ASSERT_EQ(5, ii.ctime_nsec);
	/* a directory's size is the byte size of its record */
	ASSERT_EQ(ii.meta_len, ii.size);
	ASSERT_EQ(2 * 16 + 4 + 3, ii.size);
	unbuild(&b);
	incrfs_writer_free(w);
}

TEST(special_files_and_symlinks)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), a;
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	struct incrfs_wnode *root, *n;
	struct incrfs_inode_info ii;
	const char *t;
	size_t len;
	struct built b;

	ASSERT_NOT_NULL(w);
	root = incrfs_writer_root(w);
	a = attr(S_IFCHR | 0);
	a.rdev = incrfs_encode_dev(0, 0);
	ASSERT_NOT_NULL(incrfs_writer_add(w, root, "whiteout", &a));
	a = attr(S_IFBLK | 0660);
	a.rdev = incrfs_encode_dev(259, 0x12345);
	ASSERT_NOT_NULL(incrfs_writer_add(w, root, "blk", &a));
	a = attr(S_IFIFO | 0644);
	ASSERT_NOT_NULL(incrfs_writer_add(w, root, "fifo", &a));
	a = attr(S_IFSOCK | 0755);
	ASSERT_NOT_NULL(incrfs_writer_add(w, root, "sock", &a));
	a = attr(S_IFLNK | 0777);
	n = incrfs_writer_add(w, root, "link", &a);
	ASSERT_NOT_NULL(n);
	ASSERT_GT(0, incrfs_writer_set_symlink(w, n, "", 0));
	ASSERT_GT(0, incrfs_writer_set_symlink(w, n, "a\0b", 3));
	ASSERT_EQ(0, incrfs_writer_set_symlink(w, n, "../some/where", 13));
	build(_metadata, w, false, 0, &b);

	ASSERT_EQ(0, tu_image_path(&b.img, "whiteout", &ii));
	ASSERT_EQ(S_IFCHR, ii.mode);
	ASSERT_EQ(0, ii.rdev);
	ASSERT_EQ(0, tu_image_path(&b.img, "blk", &ii));
	ASSERT_EQ(259, incrfs_dev_major(ii.rdev));
	ASSERT_EQ(0x12345, incrfs_dev_minor(ii.rdev));
	/* new_encode_dev layout */
	ASSERT_EQ((0x45u) | (259u << 8) | (0x12300u << 12), ii.rdev);
	ASSERT_EQ(0, tu_image_path(&b.img, "fifo", &ii));
	ASSERT_TRUE(S_ISFIFO(ii.mode));
	ASSERT_EQ(0, ii.size);
	ASSERT_EQ(0, tu_image_path(&b.img, "sock", &ii));
	ASSERT_TRUE(S_ISSOCK(ii.mode));
	ASSERT_EQ(0, tu_image_path(&b.img, "link", &ii));
	ASSERT_EQ(13, ii.size);
	ASSERT_EQ(0, incrfs_image_symlink(&b.img, &ii, &t, &len));
	ASSERT_EQ(13, len);
	ASSERT_EQ(0, memcmp(t, "../some/where", 13));
	unbuild(&b);
	incrfs_writer_free(w);
}

TEST(xattrs_sorted_by_namespace_and_name)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), fa = attr(S_IFREG | 0644);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	struct incrfs_xattr_info x;
	struct incrfs_inode_info ii;
	struct incrfs_wnode *n;
	static char big[65535];
	static const struct { int index; const char *name; size_t vlen; } want[] = {
		{ INCRFS_XATTR_USER, "a", 5 },
		{ INCRFS_XATTR_USER, "big", 65535 },
		{ INCRFS_XATTR_USER, "zz", 0 },
		{ INCRFS_XATTR_TRUSTED, "overlay.opaque", 1 },
		{ INCRFS_XATTR_SECURITY, "selinux", 3 },
	};
	uint32_t pos = 0;
	int i = 0, r;
	struct built b;

	ASSERT_NOT_NULL(w);
	n = incrfs_writer_add(w, incrfs_writer_root(w), "f", &fa);
	ASSERT_NOT_NULL(n);
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, n, INCRFS_XATTR_SECURITY, "selinux", "ctx", 3));
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, n, INCRFS_XATTR_USER, "zz", "", 0));
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, n, INCRFS_XATTR_USER, "a", "12345", 5));
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, n, INCRFS_XATTR_TRUSTED, "overlay.opaque", "y", 1));
	memset(big, 'v', sizeof(big));
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, n, INCRFS_XATTR_USER, "big", big, sizeof(big)));
	ASSERT_GT(0, incrfs_writer_add_xattr(w, n, 0, "x", "", 0));
	ASSERT_GT(0, incrfs_writer_add_xattr(w, n, INCRFS_XATTR_USER, "", "", 0));
	ASSERT_GT(0, incrfs_writer_add_xattr(w, n, INCRFS_XATTR_USER, "toolong", big, 65536));
	ASSERT_EQ(0, incrfs_writer_add_xattr(w, incrfs_writer_root(w),
					     INCRFS_XATTR_TRUSTED, "overlay.opaque", "y", 1));
	build(_metadata, w, false, 0, &b);

	ASSERT_EQ(0, tu_image_path(&b.img, "f", &ii));
	while ((r = incrfs_image_xattr_next(&b.img, &ii, &pos, &x)) > 0) {
		ASSERT_LT(i, 5);
		ASSERT_EQ(want[i].index, x.index);
		ASSERT_EQ(strlen(want[i].name), x.name_len);
		ASSERT_EQ(0, memcmp(want[i].name, x.name, x.name_len));
		ASSERT_EQ(want[i].vlen, x.value_len);
		i++;
	}
	ASSERT_EQ(0, r);
	ASSERT_EQ(5, i);
	ASSERT_EQ(0, ii.xattr_off % 4);
	ASSERT_STREQ("trusted.", incrfs_xattr_prefix(INCRFS_XATTR_TRUSTED));
	ASSERT_NULL(incrfs_xattr_prefix(9));
	ASSERT_EQ(0, incrfs_image_read_inode(&b.img, 1, &ii));
	pos = 0;
	ASSERT_EQ(1, incrfs_image_xattr_next(&b.img, &ii, &pos, &x));
	ASSERT_EQ(0, incrfs_image_xattr_next(&b.img, &ii, &pos, &x));
	unbuild(&b);
	incrfs_writer_free(w);
}

TEST(refuses_what_the_format_cannot_hold)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), fa = attr(S_IFREG | 0644);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	struct incrfs_write_opts o = { .image_fd = tu_memfd("img"), .blob_fd = -1,
				       .mkfs_time = -1 };
	struct incrfs_wnode *root, *n;
	char longname[300];

	ASSERT_NOT_NULL(w);
	ASSERT_NULL(incrfs_writer_new(&fa));	/* root must be a directory */
	root = incrfs_writer_root(w);
	memset(longname, 'n', sizeof(longname));
	longname[256] = '\0';
	ASSERT_NULL(incrfs_writer_add(w, root, longname, &fa));
	longname[255] = '\0';
	ASSERT_NOT_NULL(incrfs_writer_add(w, root, longname, &fa));
	ASSERT_NULL(incrfs_writer_add(w, root, "", &fa));
	ASSERT_NULL(incrfs_writer_add(w, root, ".", &fa));
	ASSERT_NULL(incrfs_writer_add(w, root, "..", &fa));
	ASSERT_NULL(incrfs_writer_add(w, root, "a/b", &fa));
	n = incrfs_writer_add(w, root, "file", &fa);
	ASSERT_NOT_NULL(n);
	ASSERT_NULL(incrfs_writer_add(w, n, "child", &fa));	/* not a dir */
	ra.mode = 0170000 | 0644;
	ASSERT_NULL(incrfs_writer_add(w, root, "weird", &ra));
	fa.mtime_nsec = 1000000000;
	ASSERT_NULL(incrfs_writer_add(w, root, "badtime", &fa));
	fa.mtime_nsec = 0;
	ASSERT_NOT_NULL(incrfs_writer_add(w, root, "file", &fa));	/* duplicate */
	ASSERT_EQ(-EEXIST, incrfs_writer_write(w, &o));
	TH_LOG("writer says: %s", incrfs_writer_error(w));
	ASSERT_NOT_NULL(strstr(incrfs_writer_error(w), "duplicate"));
	close(o.image_fd);
	incrfs_writer_free(w);
}

TEST(source_file_that_changes_is_refused)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), fa = attr(S_IFREG | 0644);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	char *dir = tu_mkdtemp("writer"), *path = NULL;
	struct incrfs_image img;
	struct incrfs_write_opts o = { .image_fd = tu_memfd("img"), .blob_fd = -1,
				       .full = true, .mkfs_time = -1 };
	struct incrfs_wnode *n;

	ASSERT_NOT_NULL(w);
	ASSERT_NOT_NULL(dir);
	ASSERT_LT(0, asprintf(&path, "%s/f", dir));
	ASSERT_EQ(0, tu_pattern_file(path, 10000, 7));
	n = incrfs_writer_add(w, incrfs_writer_root(w), "f", &fa);
	ASSERT_NOT_NULL(n);
	ASSERT_EQ(0, incrfs_writer_set_source(w, n, path, 9999));
	ASSERT_EQ(-ESTALE, incrfs_writer_write(w, &o));
	TH_LOG("writer says: %s", incrfs_writer_error(w));
	incrfs_writer_free(w);

	/* and the right size works, with the data from the file */
	w = incrfs_writer_new(&ra);
	ASSERT_NOT_NULL(w);
	n = incrfs_writer_add(w, incrfs_writer_root(w), "f", &fa);
	ASSERT_EQ(0, incrfs_writer_set_source(w, n, path, 10000));
	ASSERT_EQ(0, incrfs_writer_write(w, &o)) TH_LOG("%s", incrfs_writer_error(w));
	ASSERT_EQ(0, incrfs_image_open(&img, o.image_fd)) TH_LOG("%s", img.err);
	ASSERT_EQ(0, incrfs_image_check(&img, true)) TH_LOG("%s", img.err);
	ASSERT_EQ(3, img.sb.nr_blocks);
	/* mkfs_time -1: the newest mtime of the tree */
	ASSERT_EQ(1700000000, img.sb.mkfs_time);
	incrfs_image_close(&img);
	incrfs_writer_free(w);
	close(o.image_fd);
	tu_rm_rf(dir);
	free(dir);
	free(path);
}

/* 37 blocks in chunks of 8: 4 full chunks and one of 5. */
TEST(blob_chunks_decode_to_the_hashed_blocks)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), fa = attr(S_IFREG | 0644);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	size_t size = 30 * BS + 1;
	uint8_t *data = malloc(size), *buf = malloc(8 * BS);
	uint8_t h[INCRFS_HASH_SIZE], want[INCRFS_HASH_SIZE];
	struct incrfs_chunk_info ci;
	struct incrfs_wnode *n;
	uint64_t chunk, present;
	struct built b;

	ASSERT_NOT_NULL(w);
	tu_pattern(data, size, 11);
	n = incrfs_writer_add(w, incrfs_writer_root(w), "big", &fa);
	ASSERT_EQ(0, incrfs_writer_set_data(w, n, data, size));
	n = incrfs_writer_add(w, incrfs_writer_root(w), "small", &fa);
	ASSERT_EQ(0, incrfs_writer_set_data(w, n, data, 6 * BS));
	build(_metadata, w, false, 8, &b);

	ASSERT_EQ(37, b.img.sb.nr_blocks);
	ASSERT_EQ(8, b.blob.chunk_blocks);
	ASSERT_EQ(5, b.blob.nr_chunks);
	ASSERT_EQ(0, incrfs_image_count_present(&b.img, &present));
	ASSERT_EQ(0, present);
	for (uint64_t c = 0; c < 5; c++) {
		ASSERT_EQ(0, incrfs_blob_chunk(&b.blob, c, &ci));
		ASSERT_EQ(c * 8, ci.first_block);
		ASSERT_EQ(c < 4 ? 8 : 5, ci.nr_blocks);
		ASSERT_EQ(0, incrfs_blob_read_chunk(&b.blob, c, buf, 8 * BS)) TH_LOG("%s", b.blob.err);
		for (uint32_t i = 0; i < ci.nr_blocks; i++) {
			ASSERT_EQ(0, incrfs_sha256(buf + i * BS, BS, h));
			ASSERT_EQ(0, incrfs_image_block_hash(&b.img, ci.first_block + i, want));
			ASSERT_EQ(0, memcmp(h, want, sizeof(h)));
		}
	}
	ASSERT_EQ(0, incrfs_blob_chunk_of(&b.blob, 36, &chunk));
	ASSERT_EQ(4, chunk);
	ASSERT_EQ(-ERANGE, incrfs_blob_chunk_of(&b.blob, 37, &chunk));
	ASSERT_EQ(-ERANGE, incrfs_blob_chunk(&b.blob, 5, &ci));
	ASSERT_EQ(-ENOBUFS, incrfs_blob_read_chunk(&b.blob, 0, buf, 8 * BS - 1));
	unbuild(&b);
	incrfs_writer_free(w);
	free(data);
	free(buf);
}

TEST(full_image_bitmap_and_data)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), fa = attr(S_IFREG | 0644);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	size_t size = 11 * BS;
	uint8_t *data = malloc(size), *blk = malloc(BS), last;
	uint64_t present;
	struct incrfs_wnode *n;
	struct built b;

	ASSERT_NOT_NULL(w);
	tu_pattern(data, size, 5);
	n = incrfs_writer_add(w, incrfs_writer_root(w), "f", &fa);
	ASSERT_EQ(0, incrfs_writer_set_data(w, n, data, size));
	build(_metadata, w, true, 4, &b);
	ASSERT_EQ(11, b.img.sb.nr_blocks);
	ASSERT_EQ(2, b.img.sb.bitmap_size);
	ASSERT_EQ(0, incrfs_image_count_present(&b.img, &present));
	ASSERT_EQ(11, present);
	/* bits past s_nr_blocks stay clear */
	ASSERT_EQ(1, pread(b.img_fd, &last, 1, (off_t)b.img.sb.bitmap_off + 1));
	ASSERT_EQ(0x07, last);
	for (uint64_t i = 0; i < 11; i++) {
		ASSERT_EQ(1, incrfs_image_block_present(&b.img, i));
		ASSERT_EQ(0, incrfs_image_read_block(&b.img, i, blk));
		ASSERT_EQ(0, memcmp(blk, data + i * BS, BS));
	}
	ASSERT_EQ(-ERANGE, incrfs_image_block_present(&b.img, 11));
	ASSERT_EQ(b.img.sb.image_size, b.img.file_size);
	ASSERT_EQ(0, b.img.sb.inode_off % BS);
	ASSERT_EQ(0, b.img.sb.bitmap_off % BS);
	ASSERT_EQ(0, b.img.sb.data_off % BS);
	unbuild(&b);
	incrfs_writer_free(w);
	free(data);
	free(blk);
}

/* The same tree described in another order gives the same bytes. */
static void same_tree(struct th_test *_metadata, int reverse, int fd)
{
	struct incrfs_wattr ra = attr(S_IFDIR | 0755), fa = attr(S_IFREG | 0644),
		da = attr(S_IFDIR | 0755);
	struct incrfs_writer *w = incrfs_writer_new(&ra);
	struct incrfs_write_opts o = { .image_fd = fd, .blob_fd = -1, .full = true,
				       .mkfs_time = -1 };
	static const char *const names[] = { "d1", "d2", "d3" };
	char data[100];

	ASSERT_NOT_NULL(w);
	for (int k = 0; k < 3; k++) {
		int i = reverse ? 2 - k : k;
		struct incrfs_wnode *d = incrfs_writer_add(w, incrfs_writer_root(w),
							  names[i], &da);
		struct incrfs_wnode *f;

		ASSERT_NOT_NULL(d);
		f = incrfs_writer_add(w, d, "f", &fa);
		ASSERT_NOT_NULL(f);
		memset(data, 'a' + i, sizeof(data));
		ASSERT_EQ(0, incrfs_writer_set_data(w, f, data, sizeof(data)));
		ASSERT_EQ(0, incrfs_writer_add_xattr(w, f, INCRFS_XATTR_USER,
						     reverse ? "b" : "a", "1", 1));
		ASSERT_EQ(0, incrfs_writer_add_xattr(w, f, INCRFS_XATTR_USER,
						     reverse ? "a" : "b", "1", 1));
	}
	ASSERT_EQ(0, incrfs_writer_write(w, &o)) TH_LOG("%s", incrfs_writer_error(w));
	incrfs_writer_free(w);
}

TEST(call_order_does_not_matter)
{
	int a = tu_memfd("a"), b = tu_memfd("b");
	struct stat sa, sb;
	char *ba, *bb;

	same_tree(_metadata, 0, a);
	same_tree(_metadata, 1, b);
	ASSERT_EQ(0, fstat(a, &sa));
	ASSERT_EQ(0, fstat(b, &sb));
	ASSERT_EQ(sa.st_size, sb.st_size);
	ba = malloc((size_t)sa.st_size);
	bb = malloc((size_t)sb.st_size);
	ASSERT_EQ(0, tu_pread_all(a, ba, (size_t)sa.st_size, 0));
	ASSERT_EQ(0, tu_pread_all(b, bb, (size_t)sb.st_size, 0));
	ASSERT_EQ(0, memcmp(ba, bb, (size_t)sa.st_size));
	free(ba);
	free(bb);
	close(a);
	close(b);
}

TEST_HARNESS_MAIN
