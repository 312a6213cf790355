// SPDX-License-Identifier: GPL-2.0-only
/*
 * pack_test.c - incrfs-pack end to end: pack a tree made here, read it
 * back with the library's reader and compare everything with the source.
 *
 * Why this exists: the packer must preserve all that stat, getfattr and
 * readlink show, for every kind of file (empty, 4096*N and 4096*N+1
 * bytes, holes, symlinks, hard links, fifos, sockets, devices and
 * whiteouts, xattrs, a 10 000-entry directory, nested directories), write
 * a blob whose chunks decode to the hashed blocks, write byte-identical
 * output for the same input, and fail cleanly without leaving files.
 * Runs the packer binary: $INCRFS_PACK, or tools/out-asan/incrfs-pack, or
 * tools/out/incrfs-pack.
 */
#include "tests/kselftest/harness.h"

#include <dirent.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include "incrfs_test_util.h"
#include "devnum.h"
#include "sha256.h"

#define BS 4096
#define MANY 10000

FIXTURE(tree) {
	char *tmp;			/* everything lives below */
	char src[PATH_MAX];
	char img[PATH_MAX], blob[PATH_MAX], full[PATH_MAX], log[PATH_MAX];
	bool root;
	bool have_security;
};

static void path_of(char *out, const char *dir, const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, rel);
}

static void set_times(struct th_test *_metadata, const char *path,
		      time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };

	ASSERT_EQ(0, utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW));
}

static void make_socket(struct th_test *_metadata, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ASSERT_GE(fd, 0);
	ASSERT_LT(strlen(path), sizeof(sa.sun_path)) TH_LOG("socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
}

/* A file of @blocks blocks where only the blocks in @data are non-zero. */
static void sparse_file(struct th_test *_metadata, const char *path,
			uint64_t size, const uint64_t *data, size_t nr)
{
	uint8_t blk[BS];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, (off_t)size));
	for (size_t i = 0; i < nr; i++) {
		size_t len = size - data[i] * BS < BS ? size - data[i] * BS : BS;

		tu_pattern(blk, len, (unsigned int)data[i] + 100);
		ASSERT_EQ((ssize_t)len, pwrite(fd, blk, len, (off_t)(data[i] * BS)));
	}
	close(fd);
}

static void build_tree(struct th_test *_metadata, FIXTURE_DATA(tree) *self)
{
	static const uint64_t holes_data[] = { 0, 5, 9 };
	char p[PATH_MAX + 64], q[PATH_MAX], target[1001];
	struct {
		uint32_t version;
		struct { uint16_t tag, perm; uint32_t id; } e[5];
	} __attribute__((packed)) acl = { 2, {
		{ 0x01, 6, ~0u }, { 0x02, 4, 1000 }, { 0x04, 4, ~0u },
		{ 0x10, 4, ~0u }, { 0x20, 4, ~0u } } };

	path_of(p, self->src, "empty");
	ASSERT_EQ(0, tu_write_file(p, "", 0, 0644));
	path_of(p, self->src, "one");
	ASSERT_EQ(0, tu_write_file(p, "hello\n", 6, 0640));
	ASSERT_EQ(0, setxattr(p, "user.comment", "a file", 6, 0));
	ASSERT_EQ(0, setxattr(p, "user.empty", "", 0, 0));
	path_of(p, self->src, "exact");
	ASSERT_EQ(0, tu_pattern_file(p, 3 * BS, 1));
	path_of(p, self->src, "exact_plus_one");
	ASSERT_EQ(0, tu_pattern_file(p, 3 * BS + 1, 2));
	path_of(p, self->src, "big");
	ASSERT_EQ(0, tu_pattern_file(p, 300 * 1024 + 77, 3));
	path_of(p, self->src, "holes");	/* blocks 0, 5 and a partial 9 */
	sparse_file(_metadata, p, 9 * BS + 100, holes_data, 3);
	path_of(p, self->src, "all_holes");
	sparse_file(_metadata, p, 1 << 20, NULL, 0);
	path_of(p, self->src, "setuid");
	ASSERT_EQ(0, tu_write_file(p, "#!/bin/sh\n", 10, 0755));
	ASSERT_EQ(0, chmod(p, 04755));
	path_of(p, self->src, "old");
	ASSERT_EQ(0, tu_write_file(p, "1969\n", 5, 0644));
	set_times(_metadata, p, -1000, 999999999);

	path_of(p, self->src, "sl");
	ASSERT_EQ(0, symlink("one", p));
	path_of(p, self->src, "dangling");
	ASSERT_EQ(0, symlink("/nonexistent/x", p));
	memset(target, 'x', 1000);
	target[1000] = '\0';
	path_of(p, self->src, "long_link");
	ASSERT_EQ(0, symlink(target, p));

	path_of(p, self->src, "a");
	ASSERT_EQ(0, mkdir(p, 0755));
	path_of(p, self->src, "a/b");
	ASSERT_EQ(0, mkdir(p, 01777));
	path_of(p, self->src, "a/b/c");
	ASSERT_EQ(0, mkdir(p, 0700));
	path_of(p, self->src, "a/b/c/deep");
	ASSERT_EQ(0, tu_pattern_file(p, 5000, 4));
	path_of(p, self->src, "a/empty_dir");
	ASSERT_EQ(0, mkdir(p, 0555));
	/* hard links: "one" three times, "exact" twice */
	path_of(p, self->src, "one");
	path_of(q, self->src, "a/one_link");
	ASSERT_EQ(0, link(p, q));
	path_of(q, self->src, "a/b/c/one_link2");
	ASSERT_EQ(0, link(p, q));
	path_of(p, self->src, "exact");
	path_of(q, self->src, "a/exact_link");
	ASSERT_EQ(0, link(p, q));
	path_of(p, self->src, "fifo");
	ASSERT_EQ(0, mkfifo(p, 0620));
	path_of(p, self->src, "sock");
	make_socket(_metadata, p);

	/* xattrs: an unsupported namespace is skipped with a warning */
	path_of(p, self->src, "exact");
	if (setxattr(p, "system.posix_acl_access", &acl, sizeof(acl), 0))
		TH_LOG("no POSIX ACL on this filesystem: %s", strerror(errno));

	if (self->root) {
		path_of(p, self->src, "whiteout");
		ASSERT_EQ(0, mknod(p, S_IFCHR | 0, makedev(0, 0)));
		path_of(p, self->src, "null");
		ASSERT_EQ(0, mknod(p, S_IFCHR | 0666, makedev(1, 3)));
		path_of(p, self->src, "disk");
		ASSERT_EQ(0, mknod(p, S_IFBLK | 0660, makedev(259, 0x12345)));
		path_of(p, self->src, "owned");
		ASSERT_EQ(0, tu_write_file(p, "mine\n", 5, 0600));
		ASSERT_EQ(0, lchown(p, 1234, 5678));
		path_of(p, self->src, "sl");
		ASSERT_EQ(0, lchown(p, 4321, 8765));
		path_of(p, self->src, "a");
		ASSERT_EQ(0, setxattr(p, "trusted.overlay.opaque", "y", 1, 0));
		path_of(p, self->src, "one");
		self->have_security = !setxattr(p, "security.incrfs_test", "sec", 3, 0);
		if (!self->have_security)
			TH_LOG("cannot set security.* here: %s", strerror(errno));
	} else {
		TH_LOG("not root: no device nodes, whiteouts, chown or trusted.*");
	}

	path_of(p, self->src, "many");
	ASSERT_EQ(0, mkdir(p, 0755));
	for (int i = 0; i < MANY; i++) {
		snprintf(p, sizeof(p), "%s/many/n%d", self->src, i);
		ASSERT_EQ(0, tu_write_file(p, "", 0, 0644));
	}
	snprintf(p, sizeof(p), "%s/many/n7", self->src);
	ASSERT_EQ(0, tu_write_file(p, "seven", 5, 0644));

	/* fixed times, so the newest mtime is known */
	path_of(p, self->src, "big");
	set_times(_metadata, p, 1600000000, 123456789);
	path_of(p, self->src, "a/b/c");
	set_times(_metadata, p, 1700000000, 1);
}

static int pack(FIXTURE_DATA(tree) *self, const char *const *args)
{
	return tu_run_pack(self->log, args);
}

static void show_log(struct th_test *_metadata, FIXTURE_DATA(tree) *self)
{
	size_t len;
	char *s = tu_read_file(self->log, &len);

	(void)_metadata;
	if (s) {
		s[len] = '\0';
		if (len)
			TH_LOG("incrfs-pack said:\n%s", s);
		free(s);
	}
}

FIXTURE_SETUP(tree)
{
	const char *blob_args[] = { self->src, self->img, "--blob", self->blob, NULL };
	const char *full_args[] = { "--full", self->src, self->full, NULL };

	ASSERT_NOT_NULL(tu_pack_bin())
		TH_LOG("no incrfs-pack: build it (make -C tools O=out-asan SANITIZE=1) or set INCRFS_PACK");
	self->root = geteuid() == 0;
	self->tmp = tu_mkdtemp("pack");
	ASSERT_NOT_NULL(self->tmp);
	path_of(self->src, self->tmp, "src");
	path_of(self->img, self->tmp, "out.img");
	path_of(self->blob, self->tmp, "out.blob");
	path_of(self->full, self->tmp, "full.img");
	path_of(self->log, self->tmp, "pack.log");
	ASSERT_EQ(0, mkdir(self->src, 0755));
	build_tree(_metadata, self);
	unsetenv("SOURCE_DATE_EPOCH");
	ASSERT_EQ(0, pack(self, blob_args)) show_log(_metadata, self);
	ASSERT_EQ(0, pack(self, full_args)) show_log(_metadata, self);
}

FIXTURE_TEARDOWN(tree)
{
	tu_rm_rf(self->tmp);
	free(self->tmp);
}

/* ---- comparing an image with its source tree ---- */

struct cmp {
	struct incrfs_image *img;
	struct incrfs_blob *blob;	/* content from here, else the image */
	bool with_content;
	uint8_t *chunk;			/* decoded chunk cache */
	uint64_t chunk_nr;
	/* source (dev, ino) -> image ino, for hard links */
	struct { dev_t dev; ino_t ino; uint64_t img_ino; } links[64];
	size_t nr_links;
	unsigned long long checked;
};

static void cmp_xattrs(struct th_test *_metadata, struct cmp *c, const char *path,
		       const struct incrfs_inode_info *ii)
{
	char names[4096], value[4096], full[300];
	ssize_t len = llistxattr(path, names, sizeof(names));
	struct incrfs_xattr_info x;
	uint32_t pos = 0;
	int want = 0, got = 0, r;

	ASSERT_GE(len, 0);
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		if (strncmp(n, "user.", 5) && strncmp(n, "trusted.", 8) &&
		    strncmp(n, "security.", 9))
			continue;
		want++;
	}
	while ((r = incrfs_image_xattr_next(c->img, ii, &pos, &x)) > 0) {
		ssize_t vlen;

		snprintf(full, sizeof(full), "%s%.*s", incrfs_xattr_prefix(x.index),
			 x.name_len, x.name);
		vlen = lgetxattr(path, full, value, sizeof(value));
		ASSERT_EQ(x.value_len, vlen) TH_LOG("%s: xattr %s", path, full);
		ASSERT_EQ(0, memcmp(value, x.value, x.value_len));
		got++;
	}
	ASSERT_EQ(0, r);
	ASSERT_EQ(want, got) TH_LOG("%s: xattr count", path);
}

/* Data block @pb's content, from the image or the blob. */
static void data_block(struct th_test *_metadata, struct cmp *c, uint64_t pb,
		       uint8_t *out)
{
	uint64_t chunk;

	if (!c->blob) {
		ASSERT_EQ(1, incrfs_image_block_present(c->img, pb));
		ASSERT_EQ(0, incrfs_image_read_block(c->img, pb, out));
		return;
	}
	ASSERT_EQ(0, incrfs_blob_chunk_of(c->blob, pb, &chunk));
	if (chunk != c->chunk_nr) {
		ASSERT_EQ(0, incrfs_blob_read_chunk(c->blob, chunk, c->chunk,
						    (size_t)c->blob->chunk_blocks * BS))
			TH_LOG("%s", c->blob->err);
		c->chunk_nr = chunk;
	}
	memcpy(out, c->chunk + (pb - chunk * c->blob->chunk_blocks) * BS, BS);
}

static void cmp_content(struct th_test *_metadata, struct cmp *c, const char *path,
			const struct incrfs_inode_info *ii)
{
	size_t len;
	uint8_t *src = tu_read_file(path, &len), want[BS], got[BS];
	uint64_t blocks = (len + BS - 1) / BS, mapped = 0, pb;

	ASSERT_NOT_NULL(src);
	for (uint64_t l = 0; l < blocks; l++) {
		size_t n = len - l * BS < BS ? len - l * BS : BS;
		int r = incrfs_image_map_block(c->img, ii, l, &pb);

		memset(want, 0, BS);
		memcpy(want, src + l * BS, n);
		ASSERT_GE(r, 0);
		if (r == 0) {
			memset(got, 0, BS);
			ASSERT_EQ(0, memcmp(want, got, BS))
				TH_LOG("%s: block %llu is a hole but not zero", path,
				       (unsigned long long)l);
			continue;
		}
		mapped++;
		data_block(_metadata, c, pb, got);
		ASSERT_EQ(0, memcmp(want, got, BS))
			TH_LOG("%s: block %llu differs", path, (unsigned long long)l);
	}
	ASSERT_EQ(mapped, ii->nr_blocks);
	free(src);
}

static void cmp_tree(struct th_test *_metadata, struct cmp *c, const char *dir,
		     const char *rel);

static void cmp_one(struct th_test *_metadata, struct cmp *c, const char *path,
		    const char *rel, const struct stat *s,
		    const struct incrfs_inode_info *ii)
{
	c->checked++;
	ASSERT_EQ(s->st_mode, ii->mode) TH_LOG("%s", rel);
	ASSERT_EQ(s->st_uid, ii->uid) TH_LOG("%s", rel);
	ASSERT_EQ(s->st_gid, ii->gid) TH_LOG("%s", rel);
	ASSERT_EQ(s->st_nlink, ii->nlink) TH_LOG("%s", rel);
	ASSERT_EQ(s->st_mtim.tv_sec, ii->mtime) TH_LOG("%s", rel);
	ASSERT_EQ(s->st_mtim.tv_nsec, ii->mtime_nsec) TH_LOG("%s", rel);
	ASSERT_EQ(s->st_ctim.tv_sec, ii->ctime) TH_LOG("%s", rel);
	ASSERT_EQ(s->st_ctim.tv_nsec, ii->ctime_nsec) TH_LOG("%s", rel);
	cmp_xattrs(_metadata, c, path, ii);
	if (!S_ISDIR(s->st_mode) && s->st_nlink > 1) {
		size_t i;

		for (i = 0; i < c->nr_links; i++)
			if (c->links[i].dev == s->st_dev && c->links[i].ino == s->st_ino)
				break;
		if (i < c->nr_links) {
			ASSERT_EQ(c->links[i].img_ino, ii->ino) TH_LOG("%s: hard link", rel);
		} else {
			ASSERT_LT(c->nr_links, 64);
			c->links[c->nr_links].dev = s->st_dev;
			c->links[c->nr_links].ino = s->st_ino;
			c->links[c->nr_links++].img_ino = ii->ino;
		}
	}
	switch (s->st_mode & S_IFMT) {
	case S_IFREG:
		ASSERT_EQ(s->st_size, ii->size) TH_LOG("%s", rel);
		if (c->with_content)
			cmp_content(_metadata, c, path, ii);
		break;
	case S_IFLNK: {
		char t[INCRFS_SYMLINK_MAX + 1];
		ssize_t n = readlink(path, t, sizeof(t));
		const char *it;
		size_t ilen;

		ASSERT_EQ(s->st_size, ii->size);
		ASSERT_EQ(0, incrfs_image_symlink(c->img, ii, &it, &ilen));
		ASSERT_EQ(n, ilen);
		ASSERT_EQ(0, memcmp(t, it, ilen));
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
		ASSERT_EQ(major(s->st_rdev), incrfs_dev_major(ii->rdev)) TH_LOG("%s", rel);
		ASSERT_EQ(minor(s->st_rdev), incrfs_dev_minor(ii->rdev)) TH_LOG("%s", rel);
		ASSERT_EQ(incrfs_encode_dev(major(s->st_rdev), minor(s->st_rdev)), ii->rdev);
		break;
	case S_IFDIR:
		ASSERT_EQ(ii->meta_len, ii->size);
		cmp_tree(_metadata, c, path, rel);
		break;
	default:
		ASSERT_EQ(0, ii->size);
		break;
	}
}

/* Every entry of @dir is in the image, and nothing else. */
static void cmp_tree(struct th_test *_metadata, struct cmp *c, const char *dir,
		     const char *rel)
{
	struct incrfs_inode_info di, ii;
	struct incrfs_dirent_info d;
	struct dirent *de;
	uint32_t n = 0;
	DIR *dp = opendir(dir);

	ASSERT_NOT_NULL(dp);
	ASSERT_EQ(0, tu_image_path(c->img, rel, &di)) TH_LOG("%s: %s", rel, c->img->err);
	while ((de = readdir(dp))) {
		char path[PATH_MAX], sub[PATH_MAX];
		struct stat s;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		ASSERT_EQ(0, lstat(path, &s));
		ASSERT_EQ(0, incrfs_image_lookup(c->img, &di, de->d_name,
						 strlen(de->d_name), &d))
			TH_LOG("%s: not in the image", sub);
		ASSERT_EQ(0, incrfs_image_read_inode(c->img, d.ino, &ii));
		ASSERT_EQ(tu_dtype(s.st_mode), d.type);
		if (S_ISDIR(s.st_mode))
			ASSERT_EQ(di.ino, ii.parent);
		cmp_one(_metadata, c, path, sub, &s, &ii);
	}
	closedir(dp);
	ASSERT_EQ(n, di.meta_count) TH_LOG("%s: entry count", rel);
}

static void compare(struct th_test *_metadata, FIXTURE_DATA(tree) *self,
		    struct incrfs_image *img, struct incrfs_blob *blob,
		    bool with_content)
{
	struct cmp *c = calloc(1, sizeof(*c));
	struct incrfs_inode_info root;
	struct stat s;

	ASSERT_NOT_NULL(c);
	c->img = img;
	c->blob = blob;
	c->with_content = with_content;
	c->chunk_nr = UINT64_MAX;
	if (blob) {
		c->chunk = malloc((size_t)blob->chunk_blocks * BS);
		ASSERT_NOT_NULL(c->chunk);
	}
	ASSERT_EQ(0, lstat(self->src, &s));
	ASSERT_EQ(0, incrfs_image_read_inode(img, 1, &root));
	cmp_one(_metadata, c, self->src, "", &s, &root);
	TH_LOG("compared %llu inodes%s", c->checked,
	       with_content ? (blob ? " with content from the blob" :
			       " with content from the image") : "");
	free(c->chunk);
	free(c);
}

static int open_image(struct th_test *_metadata, const char *path,
		      struct incrfs_image *img)
{
	int fd = open(path, O_RDONLY);

	ASSERT_GE(fd, 0) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, incrfs_image_open(img, fd)) TH_LOG("%s: %s", path, img->err);
	return fd;
}

TEST_F(tree, metadata_matches_the_source)
{
	struct incrfs_image img;
	int fd = open_image(_metadata, self->img, &img);

	ASSERT_EQ(0, incrfs_image_check(&img, false)) TH_LOG("%s", img.err);
	compare(_metadata, self, &img, NULL, false);
	incrfs_image_close(&img);
	close(fd);
	fd = open_image(_metadata, self->full, &img);
	compare(_metadata, self, &img, NULL, false);
	incrfs_image_close(&img);
	close(fd);
}

TEST_F(tree, full_image_has_every_block)
{
	struct incrfs_image img;
	uint64_t present;
	int fd = open_image(_metadata, self->full, &img);

	ASSERT_EQ(0, incrfs_image_check(&img, true)) TH_LOG("%s", img.err);
	ASSERT_EQ(0, incrfs_image_count_present(&img, &present));
	ASSERT_EQ(img.sb.nr_blocks, present);
	ASSERT_GT(present, 90);
	compare(_metadata, self, &img, NULL, true);
	incrfs_image_close(&img);
	close(fd);
}

TEST_F(tree, blob_holds_every_block)
{
	struct incrfs_image img, full;
	struct incrfs_blob blob;
	uint8_t *buf, h[INCRFS_HASH_SIZE], want[INCRFS_HASH_SIZE];
	uint64_t present, blocks = 0;
	struct stat s;
	int fd = open_image(_metadata, self->img, &img);
	int ffd = open_image(_metadata, self->full, &full);
	int bfd = open(self->blob, O_RDONLY);

	ASSERT_GE(bfd, 0);
	ASSERT_EQ(0, incrfs_blob_open(&blob, bfd)) TH_LOG("%s", blob.err);
	/* blob and both images agree on what the data is */
	ASSERT_EQ(0, memcmp(blob.root_hash, img.sb.root_hash, INCRFS_HASH_SIZE));
	ASSERT_EQ(0, memcmp(full.sb.root_hash, img.sb.root_hash, INCRFS_HASH_SIZE));
	ASSERT_EQ(0, memcmp(full.sb.uuid, img.sb.uuid, 16));
	ASSERT_EQ(blob.nr_blocks, img.sb.nr_blocks);
	ASSERT_EQ(16, blob.chunk_blocks);
	ASSERT_EQ((img.sb.nr_blocks + 15) / 16, blob.nr_chunks);
	buf = malloc(16 * BS);
	ASSERT_NOT_NULL(buf);
	for (uint64_t c = 0; c < blob.nr_chunks; c++) {
		struct incrfs_chunk_info ci;

		ASSERT_EQ(0, incrfs_blob_chunk(&blob, c, &ci));
		ASSERT_EQ(0, incrfs_blob_read_chunk(&blob, c, buf, 16 * BS)) TH_LOG("%s", blob.err);
		for (uint32_t i = 0; i < ci.nr_blocks; i++, blocks++) {
			ASSERT_EQ(0, incrfs_sha256(buf + (size_t)i * BS, BS, h));
			ASSERT_EQ(0, incrfs_image_block_hash(&img, ci.first_block + i, want));
			ASSERT_EQ(0, memcmp(h, want, sizeof(h)))
				TH_LOG("data block %llu", (unsigned long long)(ci.first_block + i));
		}
	}
	ASSERT_EQ(img.sb.nr_blocks, blocks);
	compare(_metadata, self, &img, &blob, true);

	/* the image itself: nothing present, data region a hole */
	ASSERT_EQ(0, incrfs_image_count_present(&img, &present));
	ASSERT_EQ(0, present);
	ASSERT_EQ(0, stat(self->img, &s));
	ASSERT_EQ(img.sb.image_size, s.st_size);
	ASSERT_LE((uint64_t)s.st_blocks * 512, img.sb.data_off)
		TH_LOG("the data region of a blob-mode image must be sparse");
	incrfs_blob_close(&blob);
	incrfs_image_close(&img);
	incrfs_image_close(&full);
	close(fd);
	close(ffd);
	close(bfd);
	free(buf);
}

TEST_F(tree, holes_are_not_data_blocks)
{
	struct incrfs_image img;
	struct incrfs_inode_info ii;
	struct incrfs_extent_info e;
	uint64_t pb;
	int fd = open_image(_metadata, self->full, &img);

	ASSERT_EQ(0, tu_image_path(&img, "holes", &ii));
	ASSERT_EQ(9 * BS + 100, ii.size);
	ASSERT_EQ(3, ii.nr_blocks);
	ASSERT_EQ(3, ii.meta_count);
	ASSERT_EQ(0, incrfs_image_extent(&img, &ii, 1, &e));
	ASSERT_EQ(5, e.lblk);
	ASSERT_EQ(1, e.len);
	ASSERT_EQ(ii.first_block + 1, e.pblk);
	ASSERT_EQ(0, incrfs_image_map_block(&img, &ii, 1, &pb));
	ASSERT_EQ(1, incrfs_image_map_block(&img, &ii, 9, &pb));
	ASSERT_EQ(ii.first_block + 2, pb);
	ASSERT_EQ(0, tu_image_path(&img, "all_holes", &ii));
	ASSERT_EQ(1 << 20, ii.size);
	ASSERT_EQ(0, ii.nr_blocks);
	ASSERT_EQ(0, ii.meta_count);
	ASSERT_EQ(0, tu_image_path(&img, "empty", &ii));
	ASSERT_EQ(0, ii.size);
	ASSERT_EQ(0, ii.nr_blocks);
	ASSERT_EQ(0, tu_image_path(&img, "exact", &ii));
	ASSERT_EQ(3, ii.nr_blocks);
	ASSERT_EQ(1, ii.meta_count);
	ASSERT_EQ(0, tu_image_path(&img, "exact_plus_one", &ii));
	ASSERT_EQ(4, ii.nr_blocks);
	incrfs_image_close(&img);
	close(fd);
}

TEST_F(tree, ten_thousand_entries)
{
	struct incrfs_image img;
	struct incrfs_inode_info dir, ii;
	struct incrfs_dirent_info d, prev = { 0 };
	char name[32];
	int fd = open_image(_metadata, self->img, &img);

	ASSERT_EQ(0, tu_image_path(&img, "many", &dir));
	ASSERT_EQ(MANY, dir.meta_count);
	ASSERT_EQ(dir.meta_len, dir.size);
	for (uint32_t i = 0; i < MANY; i++) {
		ASSERT_EQ(0, incrfs_image_dirent(&img, &dir, i, &d));
		if (i)
			ASSERT_GT(0, tu_name_cmp(prev.name, prev.name_len,
						     d.name, d.name_len));
		prev = d;
	}
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ASSERT_EQ(0, incrfs_image_lookup(&img, &dir, name, strlen(name), &d))
			TH_LOG("%s", name);
		ASSERT_EQ(strlen(name), d.name_len);
		ASSERT_EQ(0, memcmp(name, d.name, d.name_len));
	}
	ASSERT_EQ(-ENOENT, incrfs_image_lookup(&img, &dir, "n10000", 6, &d));
	ASSERT_EQ(-ENOENT, incrfs_image_lookup(&img, &dir, "m", 1, &d));
	ASSERT_EQ(-ENOENT, incrfs_image_lookup(&img, &dir, "o", 1, &d));
	ASSERT_EQ(-ENOENT, incrfs_image_lookup(&img, &dir, "n", 1, &d));
	ASSERT_EQ(0, incrfs_image_lookup(&img, &dir, "n7", 2, &d));
	ASSERT_EQ(0, incrfs_image_read_inode(&img, d.ino, &ii));
	ASSERT_EQ(5, ii.size);
	incrfs_image_close(&img);
	close(fd);
}

static void same_bytes(struct th_test *_metadata, const char *a, const char *b)
{
	size_t la, lb;
	uint8_t *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);

	ASSERT_NOT_NULL(x);
	ASSERT_NOT_NULL(y);
	ASSERT_EQ(la, lb) TH_LOG("%s and %s differ in size", a, b);
	ASSERT_EQ(0, memcmp(x, y, la)) TH_LOG("%s and %s differ", a, b);
	free(x);
	free(y);
}

static int64_t newest;

static int newest_mtime(const char *path, const struct stat *s, int flag,
			struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	if (s->st_mtim.tv_sec > newest)
		newest = s->st_mtim.tv_sec;
	return 0;
}

TEST_F(tree, output_is_deterministic)
{
	char img2[PATH_MAX], blob2[PATH_MAX], full2[PATH_MAX], p[PATH_MAX];
	const char *blob_args[] = { self->src, img2, "--blob", blob2, NULL };
	const char *full_args[] = { "-f", self->src, full2, NULL };
	struct incrfs_image img;
	uint8_t uuid[16];
	int fd;

	path_of(img2, self->tmp, "again.img");
	path_of(blob2, self->tmp, "again.blob");
	path_of(full2, self->tmp, "again_full.img");
	ASSERT_EQ(0, pack(self, blob_args)) show_log(_metadata, self);
	ASSERT_EQ(0, pack(self, full_args)) show_log(_metadata, self);
	same_bytes(_metadata, self->img, img2);
	same_bytes(_metadata, self->blob, blob2);
	same_bytes(_metadata, self->full, full2);

	/* no SOURCE_DATE_EPOCH: the newest mtime of the tree */
	newest = 0;
	ASSERT_EQ(0, nftw(self->src, newest_mtime, 64, FTW_PHYS));
	fd = open_image(_metadata, self->img, &img);
	ASSERT_EQ(newest, img.sb.mkfs_time);
	memcpy(uuid, img.sb.uuid, 16);
	ASSERT_EQ(0x80, uuid[6] & 0xf0);
	incrfs_image_close(&img);
	close(fd);

	ASSERT_EQ(0, setenv("SOURCE_DATE_EPOCH", "12345", 1));
	ASSERT_EQ(0, pack(self, blob_args)) show_log(_metadata, self);
	ASSERT_EQ(0, unsetenv("SOURCE_DATE_EPOCH"));
	fd = open_image(_metadata, img2, &img);
	ASSERT_EQ(12345, img.sb.mkfs_time);
	ASSERT_EQ(0, memcmp(uuid, img.sb.uuid, 16));	/* content did not change */
	incrfs_image_close(&img);
	close(fd);

	/* other content, other identity */
	path_of(p, self->src, "one");
	ASSERT_EQ(0, tu_write_file(p, "HELLO\n", 6, 0640));
	ASSERT_EQ(0, pack(self, blob_args)) show_log(_metadata, self);
	fd = open_image(_metadata, img2, &img);
	ASSERT_NE(0, memcmp(uuid, img.sb.uuid, 16));
	incrfs_image_close(&img);
	close(fd);
}

TEST_F(tree, chunk_size_and_level)
{
	char img2[PATH_MAX], blob2[PATH_MAX];
	const char *args[] = { "--chunk-blocks", "1", "--level", "19", self->src,
			       img2, "--blob", blob2, NULL };
	const char *args2[] = { "-c", "1000", "-l", "-5", self->src, img2, "-b",
				blob2, NULL };
	struct incrfs_image img;
	struct incrfs_blob blob;
	int fd, bfd;

	path_of(img2, self->tmp, "c1.img");
	path_of(blob2, self->tmp, "c1.blob");
	ASSERT_EQ(0, pack(self, args)) show_log(_metadata, self);
	same_bytes(_metadata, self->img, img2);	/* the image does not change */
	fd = open_image(_metadata, img2, &img);
	bfd = open(blob2, O_RDONLY);
	ASSERT_EQ(0, incrfs_blob_open(&blob, bfd)) TH_LOG("%s", blob.err);
	ASSERT_EQ(1, blob.chunk_blocks);
	ASSERT_EQ(img.sb.nr_blocks, blob.nr_chunks);
	compare(_metadata, self, &img, &blob, true);
	incrfs_blob_close(&blob);
	close(bfd);

	ASSERT_EQ(0, pack(self, args2)) show_log(_metadata, self);
	bfd = open(blob2, O_RDONLY);
	ASSERT_EQ(0, incrfs_blob_open(&blob, bfd)) TH_LOG("%s", blob.err);
	ASSERT_EQ(1000, blob.chunk_blocks);
	compare(_metadata, self, &img, &blob, true);
	incrfs_blob_close(&blob);
	close(bfd);
	incrfs_image_close(&img);
	close(fd);
}

TEST_F(tree, unsupported_xattrs_are_skipped_with_a_warning)
{
	char p[PATH_MAX];
	size_t len;
	char *log;

	path_of(p, self->src, "exact");
	if (lgetxattr(p, "system.posix_acl_access", NULL, 0) < 0)
		SKIP(return, "no POSIX ACLs on this filesystem");
	log = tu_read_file(self->log, &len);	/* of the --full pack */
	ASSERT_NOT_NULL(log);
	log[len] = '\0';
	ASSERT_NOT_NULL(strstr(log, "warning"));
	ASSERT_NOT_NULL(strstr(log, "system.posix_acl_access"));
	free(log);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void log_has(struct th_test *_metadata, FIXTURE_DATA(tree) *self,
		    const char *what)
{
	size_t len;
	char *log = tu_read_file(self->log, &len);

	ASSERT_NOT_NULL(log);
	log[len] = '\0';
	ASSERT_NOT_NULL(strstr(log, what)) TH_LOG("expected '%s' in:\n%s", what, log);
	free(log);
}

#define PACK_EXIT(code, ...) do {					\
	const char *_a[] = { __VA_ARGS__, NULL };			\
	ASSERT_EQ(code, pack(self, _a)) show_log(_metadata, self);	\
} while (0)

TEST_F(tree, bad_input_fails_cleanly)
{
	char out[PATH_MAX], o_img[PATH_MAX], o_blob[PATH_MAX], nodir[PATH_MAX];
	char file[PATH_MAX];
	const char *none[] = { NULL };

	path_of(out, self->tmp, "out");
	ASSERT_EQ(0, mkdir(out, 0777));
	path_of(o_img, out, "x.img");
	path_of(o_blob, out, "x.blob");
	path_of(nodir, self->tmp, "nonexistent/x.blob");
	path_of(file, self->src, "one");

	PACK_EXIT(0, "--help");
	log_has(_metadata, self, "--blob");
	log_has(_metadata, self, "--full");
	log_has(_metadata, self, "--chunk-blocks");
	log_has(_metadata, self, "--level");
	log_has(_metadata, self, "SOURCE_DATE_EPOCH");
	log_has(_metadata, self, "EXIT STATUS");

	ASSERT_EQ(2, pack(self, none));
	PACK_EXIT(2, self->src, o_img);		/* no --blob */
	log_has(_metadata, self, "incrfs-pack: ");
	PACK_EXIT(2, "--level", "99", self->src, o_img, "--blob", o_blob);
	log_has(_metadata, self, "--level");
	PACK_EXIT(2, "--chunk-blocks", "0", self->src, o_img, "--blob", o_blob);
	PACK_EXIT(2, "--chunk-blocks", "1x", self->src, o_img, "--blob", o_blob);
	PACK_EXIT(2, "--bogus", self->src, o_img);
	PACK_EXIT(2, "--full", self->src, o_img, "extra");
	PACK_EXIT(2, self->src, o_img, "--blob", o_img);
	PACK_EXIT(1, "--full", "/nonexistent/dir", o_img);
	log_has(_metadata, self, "incrfs-pack: /nonexistent/dir: No such file or directory");
	PACK_EXIT(1, "--full", file, o_img);
	log_has(_metadata, self, "not a directory");

	ASSERT_EQ(0, setenv("SOURCE_DATE_EPOCH", "yesterday", 1));
	PACK_EXIT(2, "--full", self->src, o_img);
	log_has(_metadata, self, "SOURCE_DATE_EPOCH");
	ASSERT_EQ(0, unsetenv("SOURCE_DATE_EPOCH"));

	/* the image's temporary file exists when the blob's fails */
	PACK_EXIT(1, self->src, o_img, "--blob", nodir);
	ASSERT_EQ(0, count_entries(out)) TH_LOG("a failed pack left files in %s", out);
}

/* What --max-* must allow for the tree: sizes and depth as packed. */
static struct {
	uint64_t largest, total;
	int depth;
	char largest_name[PATH_MAX], deepest_name[PATH_MAX];
	struct { dev_t dev; ino_t ino; } seen[64];
	size_t nr_seen;
} need;

static int measure(const char *path, const struct stat *s, int flag,
		   struct FTW *ftw)
{
	(void)flag;
	if (ftw->level > need.depth) {
		need.depth = ftw->level;
		snprintf(need.deepest_name, PATH_MAX, "%s", path);
	}
	if (!S_ISREG(s->st_mode))
		return 0;
	for (size_t i = 0; i < need.nr_seen; i++)
		if (need.seen[i].dev == s->st_dev && need.seen[i].ino == s->st_ino)
			return 0;	/* another link: counted once */
	if (s->st_nlink > 1) {
		if (need.nr_seen == 64)
			return -1;
		need.seen[need.nr_seen].dev = s->st_dev;
		need.seen[need.nr_seen++].ino = s->st_ino;
	}
	need.total += (uint64_t)s->st_size;
	if ((uint64_t)s->st_size > need.largest) {
		need.largest = (uint64_t)s->st_size;
		snprintf(need.largest_name, PATH_MAX, "%s", path);
	}
	return 0;
}

/*
 * --max-file-size, --max-total-size and --max-depth on a directory: what
 * the tree needs fits and packs the same bytes, one less names the entry
 * and leaves nothing behind.
 */
TEST_F(tree, limits_refuse_and_name_the_entry)
{
	char out[PATH_MAX], o_img[PATH_MAX], o_blob[PATH_MAX], msg[PATH_MAX + 160];
	char size[32], total[32], depth[16], less[32];

	need.largest = need.total = 0;
	need.depth = 0;
	need.nr_seen = 0;
	ASSERT_EQ(0, nftw(self->src, measure, 64, FTW_PHYS));
	ASSERT_GT(need.depth, 1);
	path_of(out, self->tmp, "out");
	ASSERT_EQ(0, mkdir(out, 0777));
	path_of(o_img, out, "x.img");
	path_of(o_blob, out, "x.blob");
	snprintf(size, sizeof(size), "%llu", (unsigned long long)need.largest);
	snprintf(total, sizeof(total), "%llu", (unsigned long long)need.total);
	snprintf(depth, sizeof(depth), "%d", need.depth);

	PACK_EXIT(0, "--max-file-size", size, "--max-total-size", total,
		  "--max-depth", depth, self->src, o_img, "--blob", o_blob);
	same_bytes(_metadata, self->img, o_img);
	same_bytes(_metadata, self->blob, o_blob);
	ASSERT_EQ(0, unlink(o_img));
	ASSERT_EQ(0, unlink(o_blob));

	snprintf(less, sizeof(less), "%llu", (unsigned long long)need.largest - 1);
	PACK_EXIT(1, "--max-file-size", less, self->src, o_img, "--blob", o_blob);
	snprintf(msg, sizeof(msg), "%s: a file of %s bytes, larger than --max-file-size %s",
		 need.largest_name, size, less);
	log_has(_metadata, self, msg);
	ASSERT_EQ(0, count_entries(out)) TH_LOG("a failed pack left files in %s", out);

	snprintf(less, sizeof(less), "%llu", (unsigned long long)need.total - 1);
	PACK_EXIT(1, "--max-total-size", less, self->src, o_img, "--blob", o_blob);
	snprintf(msg, sizeof(msg), "the files total more than --max-total-size %s", less);
	log_has(_metadata, self, msg);
	ASSERT_EQ(0, count_entries(out)) TH_LOG("a failed pack left files in %s", out);

	snprintf(less, sizeof(less), "%d", need.depth - 1);
	PACK_EXIT(1, "--max-depth", less, self->src, o_img, "--blob", o_blob);
	snprintf(msg, sizeof(msg), ": more than --max-depth %s levels below the root", less);
	log_has(_metadata, self, msg);
	ASSERT_EQ(0, count_entries(out)) TH_LOG("a failed pack left files in %s", out);

	PACK_EXIT(2, "--max-file-size", "1Q", self->src, o_img, "--blob", o_blob);
	log_has(_metadata, self, "--max-file-size");
	PACK_EXIT(2, "--max-depth", "0", self->src, o_img, "--blob", o_blob);
	log_has(_metadata, self, "--max-depth");
	ASSERT_EQ(0, count_entries(out)) TH_LOG("a failed pack left files in %s", out);
}

static int make_readable(const char *path, const struct stat *s, int flag,
			 struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (S_ISLNK(s->st_mode))
		return 0;
	return chmod(path, (s->st_mode & 07777) | (S_ISDIR(s->st_mode) ? 0555 : 0444));
}

/* Runs the packer as an unprivileged user; 128+sig if killed. */
static int pack_as(FIXTURE_DATA(tree) *self, uid_t uid, const char *const *args)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
			_exit(99);
		_exit(tu_run_pack(self->log, args) & 0xff);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(tree, unreadable_file_leaves_nothing_behind)
{
	char out[PATH_MAX], o_img[PATH_MAX], o_blob[PATH_MAX], p[PATH_MAX];
	const char *a[] = { self->src, o_img, "--blob", o_blob, NULL };

	if (!self->root)
		SKIP(return, "needs root to drop to another user");
	path_of(out, self->tmp, "out");
	ASSERT_EQ(0, mkdir(out, 0777));
	ASSERT_EQ(0, chmod(out, 0777));
	ASSERT_EQ(0, chmod(self->tmp, 0755));
	path_of(o_img, out, "x.img");
	path_of(o_blob, out, "x.blob");
	ASSERT_EQ(0, nftw(self->src, make_readable, 64, FTW_PHYS));
	ASSERT_EQ(0, tu_write_file(self->log, "", 0, 0666));
	ASSERT_EQ(0, chmod(self->log, 0666));
	path_of(p, self->src, "zz_secret");
	ASSERT_EQ(0, tu_write_file(p, "secret", 6, 0000));
	ASSERT_EQ(1, pack_as(self, 65534, a)) show_log(_metadata, self);
	log_has(_metadata, self, "zz_secret: Permission denied");
	ASSERT_EQ(0, count_entries(out)) TH_LOG("a failed pack left files in %s", out);
}

TEST_HARNESS_MAIN
