// SPDX-License-Identifier: GPL-2.0-only
/*
 * pack_tar_test.c - incrfs-pack --from-tar: pack tar layers made here by
 * GNU tar (PAX with xattrs, GNU format, gzip and zstd) and bsdtar, read
 * the image back with the library's reader and compare it with what
 * extracting the same archive with tar gives.
 *
 * Why this exists: an OCI layer packed into an image must be exactly the
 * tree the runtime would have extracted, with OCI whiteouts turned into
 * overlayfs whiteouts and opaque directories; later entries replace
 * earlier ones; unsafe paths and broken archives fail cleanly and leave
 * nothing behind.  Runs the packer as pack_test.c does ($INCRFS_PACK,
 * tools/out-asan or tools/out); needs root (owners, devices, trusted.*),
 * GNU tar, gzip, zstd and python3 (to write archives tar will not).
 */
#include "tests/kselftest/harness.h"

#include <dirent.h>
#include <stdarg.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "incrfs_test_util.h"
#include "devnum.h"

#define BS 4096

FIXTURE(layer) {
	char *tmp;
	char src[PATH_MAX], ext[PATH_MAX], log[PATH_MAX];
};

/* Runs a shell command built from @fmt; returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void at(char *out, const char *dir, const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, rel);
}

static int pack(FIXTURE_DATA(layer) *self, const char *const *args)
{
	return tu_run_pack(self->log, args);
}

static void show_log(struct th_test *_metadata, FIXTURE_DATA(layer) *self)
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

static void log_has(struct th_test *_metadata, FIXTURE_DATA(layer) *self,
		    const char *what)
{
	size_t len;
	char *s = tu_read_file(self->log, &len);

	ASSERT_NOT_NULL(s);
	s[len] = '\0';
	EXPECT_NOT_NULL(strstr(s, what)) TH_LOG("'%s' not in:\n%s", what, s);
	free(s);
}

static void set_mtime(struct th_test *_metadata, const char *path,
		      time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };

	ASSERT_EQ(0, utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW));
}

/* Every kind of entry tar can carry. */
static void build_tree(struct th_test *_metadata, FIXTURE_DATA(layer) *self)
{
	char p[PATH_MAX], q[PATH_MAX + 320], name[300];
	int fd;

	ASSERT_EQ(0, mkdir(self->src, 0755));
	at(p, self->src, "empty");
	ASSERT_EQ(0, tu_write_file(p, "", 0, 0644));
	at(p, self->src, "one");
	ASSERT_EQ(0, tu_write_file(p, "hello\n", 6, 0640));
	ASSERT_EQ(0, setxattr(p, "user.comment", "a file", 6, 0));
	ASSERT_EQ(0, setxattr(p, "trusted.secret", "t", 1, 0));
	at(p, self->src, "exact");
	ASSERT_EQ(0, tu_pattern_file(p, 3 * BS, 1));
	at(p, self->src, "exact_plus_one");
	ASSERT_EQ(0, tu_pattern_file(p, 3 * BS + 1, 2));
	at(p, self->src, "big");
	ASSERT_EQ(0, tu_pattern_file(p, 700 * 1024 + 77, 3));
	at(p, self->src, "sparse");	/* data at 0 and 40 KiB, 1 MiB long */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(5, pwrite(fd, "start", 5, 0));
	ASSERT_EQ(3, pwrite(fd, "mid", 3, 40960));
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	close(fd);
	at(p, self->src, "setuid");
	ASSERT_EQ(0, tu_write_file(p, "#!/bin/sh\n", 10, 0755));
	ASSERT_EQ(0, chmod(p, 04755));
	ASSERT_EQ(0, lchown(p, 1234, 5678));
	at(p, self->src, "sl");
	ASSERT_EQ(0, symlink("one", p));
	at(p, self->src, "dangling");
	ASSERT_EQ(0, symlink("/nonexistent/x", p));
	at(p, self->src, "hl");
	at(q, self->src, "one");
	ASSERT_EQ(0, link(q, p));
	at(p, self->src, "fifo");
	ASSERT_EQ(0, mkfifo(p, 0620));
	at(p, self->src, "null");
	ASSERT_EQ(0, mknod(p, S_IFCHR | 0666, makedev(1, 3)));
	at(p, self->src, "blk");
	ASSERT_EQ(0, mknod(p, S_IFBLK | 0600, makedev(259, 70000)));
	at(p, self->src, "d");
	ASSERT_EQ(0, mkdir(p, 0750));
	ASSERT_EQ(0, setxattr(p, "user.dir", "yes", 3, 0));
	at(p, self->src, "d/sub");
	ASSERT_EQ(0, mkdir(p, 01777));
	ASSERT_EQ(0, chmod(p, 01777));
	at(p, self->src, "d/sub/deep");
	ASSERT_EQ(0, tu_write_file(p, "deep\n", 5, 0600));
	at(q, self->src, "d/sub/hl2");	/* a second link, elsewhere */
	ASSERT_EQ(0, link(p, q));
	memset(name, 'n', 200);
	name[200] = '\0';
	at(p, self->src, "d/sub");
	snprintf(q, sizeof(q), "%s/%s", p, name);	/* a long name */
	ASSERT_EQ(0, tu_write_file(q, "long\n", 5, 0644));
	at(p, self->src, "one");
	set_mtime(_metadata, p, 1600000000, 123456789);
	at(p, self->src, "d/sub");
	set_mtime(_metadata, p, 1500000000, 5);
	at(p, self->src, "d");
	set_mtime(_metadata, p, 1400000000, 0);
}

FIXTURE_SETUP(layer)
{
	if (geteuid() != 0)
		SKIP(return, "needs root: owners, device nodes and trusted.* xattrs");
	ASSERT_NOT_NULL(tu_pack_bin())
		TH_LOG("no incrfs-pack: build it (make -C tools O=out-asan SANITIZE=1) or set INCRFS_PACK");
	ASSERT_EQ(0, sh("command -v tar gzip zstd python3 >/dev/null"))
		TH_LOG("needs tar, gzip, zstd and python3");
	self->tmp = tu_mkdtemp("packtar");
	ASSERT_NOT_NULL(self->tmp);
	at(self->src, self->tmp, "src");
	at(self->ext, self->tmp, "ext");
	at(self->log, self->tmp, "pack.log");
	unsetenv("SOURCE_DATE_EPOCH");
}

FIXTURE_TEARDOWN(layer)
{
	if (self->tmp)
		tu_rm_rf(self->tmp);
	free(self->tmp);
}

/* ---- comparing an image with an extracted tree ---- */

struct cmp {
	struct incrfs_image *img;
	struct incrfs_blob *blob;	/* content from here, else the image */
	uint8_t *chunk;
	uint64_t chunk_nr;
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
	for (char *n = names; n < names + len; n += strlen(n) + 1)
		if (!strncmp(n, "user.", 5) || !strncmp(n, "trusted.", 8) ||
		    !strncmp(n, "security.", 9))
			want++;
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
	uint64_t pb;

	ASSERT_NOT_NULL(src);
	ASSERT_EQ(len, ii->size);
	for (uint64_t l = 0; l < (len + BS - 1) / BS; l++) {
		size_t n = len - l * BS < BS ? len - l * BS : BS;
		int r = incrfs_image_map_block(c->img, ii, l, &pb);

		memset(want, 0, BS);
		memcpy(want, src + l * BS, n);
		memset(got, 0, BS);
		ASSERT_GE(r, 0);
		if (r > 0)
			data_block(_metadata, c, pb, got);
		ASSERT_EQ(0, memcmp(want, got, BS))
			TH_LOG("%s: block %llu differs", path, (unsigned long long)l);
	}
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
	if (!S_ISLNK(s->st_mode))	/* tar may not restore a symlink's */
		ASSERT_EQ(s->st_mtim.tv_nsec, ii->mtime_nsec) TH_LOG("%s", rel);
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
		cmp_content(_metadata, c, path, ii);
		break;
	case S_IFLNK: {
		char t[INCRFS_SYMLINK_MAX + 1];
		ssize_t n = readlink(path, t, sizeof(t));
		const char *it;
		size_t ilen;

		ASSERT_EQ(0, incrfs_image_symlink(c->img, ii, &it, &ilen));
		ASSERT_EQ(n, ilen);
		ASSERT_EQ(0, memcmp(t, it, ilen));
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
		ASSERT_EQ(incrfs_encode_dev(major(s->st_rdev), minor(s->st_rdev)),
			  ii->rdev) TH_LOG("%s", rel);
		break;
	case S_IFDIR:
		cmp_tree(_metadata, c, path, rel);
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
		cmp_one(_metadata, c, path, sub, &s, &ii);
	}
	closedir(dp);
	ASSERT_EQ(n, di.meta_count) TH_LOG("%s: entry count", rel);
}

/* Packs @tar (blob and --full) and compares both with @dir. */
static void pack_and_compare(struct th_test *_metadata, FIXTURE_DATA(layer) *self,
			     const char *tar, const char *dir)
{
	char img[PATH_MAX], blob[PATH_MAX], full[PATH_MAX];
	const char *blob_args[] = { "--from-tar", tar, img, "--blob", blob, NULL };
	const char *full_args[] = { "--full", "--from-tar", tar, full, NULL };
	struct incrfs_image im;
	struct incrfs_blob bl;
	struct incrfs_inode_info root;
	struct cmp *c;
	struct stat s;
	int fd, bfd;

	at(img, self->tmp, "out.img");
	at(blob, self->tmp, "out.blob");
	at(full, self->tmp, "full.img");
	ASSERT_EQ(0, pack(self, blob_args)) show_log(_metadata, self);
	ASSERT_EQ(0, pack(self, full_args)) show_log(_metadata, self);
	for (int pass = 0; pass < 2; pass++) {
		c = calloc(1, sizeof(*c));
		ASSERT_NOT_NULL(c);
		fd = open(pass ? full : img, O_RDONLY);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, incrfs_image_open(&im, fd)) TH_LOG("%s", im.err);
		ASSERT_EQ(0, incrfs_image_check(&im, pass == 1)) TH_LOG("%s", im.err);
		c->img = &im;
		c->chunk_nr = UINT64_MAX;
		bfd = -1;
		if (!pass) {
			bfd = open(blob, O_RDONLY);
			ASSERT_GE(bfd, 0);
			ASSERT_EQ(0, incrfs_blob_open(&bl, bfd)) TH_LOG("%s", bl.err);
			c->blob = &bl;
			c->chunk = malloc((size_t)bl.chunk_blocks * BS);
			ASSERT_NOT_NULL(c->chunk);
		}
		ASSERT_EQ(0, lstat(dir, &s));
		ASSERT_EQ(0, incrfs_image_read_inode(&im, INCRFS_ROOT_INO, &root));
		cmp_one(_metadata, c, dir, "", &s, &root);
		TH_LOG("%s: %llu inodes match the extraction, content from the %s",
		       strrchr(tar, '/') + 1, c->checked, pass ? "image" : "blob");
		if (c->blob)
			incrfs_blob_close(&bl);
		incrfs_image_close(&im);
		close(fd);
		if (bfd >= 0)
			close(bfd);
		free(c->chunk);
		free(c);
	}
}

/* Extracts @tar with GNU tar as root does (owners, modes, xattrs). */
static void extract(struct th_test *_metadata, FIXTURE_DATA(layer) *self,
		    const char *tar)
{
	tu_rm_rf(self->ext);
	ASSERT_EQ(0, mkdir(self->ext, 0755));
	ASSERT_EQ(0, sh("tar --xattrs --xattrs-include='*' --numeric-owner -xpf '%s' -C '%s'",
			tar, self->ext));
}

/* The same with bsdtar, which reads its own LIBARCHIVE.xattr headers. */
static void bsd_extract(struct th_test *_metadata, FIXTURE_DATA(layer) *self,
			const char *tar)
{
	tu_rm_rf(self->ext);
	ASSERT_EQ(0, mkdir(self->ext, 0755));
	ASSERT_EQ(0, sh("bsdtar --xattrs --numeric-owner -xpf '%s' -C '%s'",
			tar, self->ext));
	/* bsdtar leaves the times of "." alone; the archive has them */
	ASSERT_EQ(0, sh("touch -h -r '%s' '%s'", self->src, self->ext));
}

static int count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

TEST_F(layer, gnu_tar_pax_with_xattrs_matches_extraction)
{
	char tar[PATH_MAX];

	build_tree(_metadata, self);
	at(tar, self->tmp, "layer.tar");
	ASSERT_EQ(0, sh("tar --xattrs --xattrs-include='*' --format=pax -S -C '%s' -cf '%s' .",
			self->src, tar));
	extract(_metadata, self, tar);
	pack_and_compare(_metadata, self, tar, self->ext);
}

TEST_F(layer, gnu_format_without_dot_prefix_matches_extraction)
{
	char tar[PATH_MAX];

	build_tree(_metadata, self);
	at(tar, self->tmp, "layer.tar");
	/* "one", "d/sub/..." instead of "./one": no root entry at all */
	ASSERT_EQ(0, sh("cd '%s' && tar --format=gnu -cf '%s' $(ls -A)", self->src, tar));
	extract(_metadata, self, tar);
	ASSERT_EQ(0, chmod(self->ext, 0755));
	ASSERT_EQ(0, chown(self->ext, 0, 0));
	set_mtime(_metadata, self->ext, 0, 0);	/* the implied root */
	pack_and_compare(_metadata, self, tar, self->ext);
}

TEST_F(layer, bsdtar_pax_matches_extraction)
{
	char tar[PATH_MAX];

	if (sh("command -v bsdtar >/dev/null"))
		SKIP(return, "no bsdtar (libarchive-tools)");
	build_tree(_metadata, self);
	at(tar, self->tmp, "layer.tar");
	ASSERT_EQ(0, sh("bsdtar --xattrs --format=pax -C '%s' -cf '%s' .", self->src, tar));
	bsd_extract(_metadata, self, tar);
	pack_and_compare(_metadata, self, tar, self->ext);
}

TEST_F(layer, compressed_layers_give_identical_output)
{
	char tar[PATH_MAX], a[PATH_MAX], b[PATH_MAX], z[PATH_MAX + 8];
	const char *exts[] = { "gz", "zst" };

	build_tree(_metadata, self);
	at(tar, self->tmp, "layer.tar");
	at(a, self->tmp, "plain.img");
	at(b, self->tmp, "plain.blob");
	ASSERT_EQ(0, sh("tar --xattrs --xattrs-include='*' --format=pax -C '%s' -cf '%s' .",
			self->src, tar));
	{
		const char *args[] = { "--from-tar", tar, a, "--blob", b, NULL };

		ASSERT_EQ(0, pack(self, args)) show_log(_metadata, self);
	}
	ASSERT_EQ(0, sh("gzip -k '%s' && zstd -q -k '%s'", tar, tar));
	for (int i = 0; i < 2; i++) {
		char img[PATH_MAX + 16], blob[PATH_MAX + 16];
		const char *args[] = { "--from-tar", z, img, "--blob", blob, NULL };

		snprintf(z, sizeof(z), "%s.%s", tar, exts[i]);
		snprintf(img, sizeof(img), "%s/%s.img", self->tmp, exts[i]);
		snprintf(blob, sizeof(blob), "%s/%s.blob", self->tmp, exts[i]);
		ASSERT_EQ(0, pack(self, args)) show_log(_metadata, self);
		ASSERT_EQ(0, sh("cmp -s '%s' '%s' && cmp -s '%s' '%s'", a, img, b, blob))
			TH_LOG(".%s: output differs from the plain tar's", exts[i]);
	}
	/* and from standard input */
	ASSERT_EQ(0, sh("'%s' --from-tar - '%s/stdin.img' --blob '%s/stdin.blob' <'%s.zst' &&"
			"cmp -s '%s' '%s/stdin.img'", tu_pack_bin(), self->tmp,
			self->tmp, tar, a, self->tmp));
	extract(_metadata, self, tar);
	pack_and_compare(_metadata, self, z, self->ext);
}

/* Writes a tar with python's tarfile; @script adds members to "t". */
static void pytar(struct th_test *_metadata, const char *tar, const char *script)
{
	ASSERT_EQ(0, sh("python3 - '%s' <<'EOF'\n"
			"import io, sys, tarfile\n"
			"t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)\n"
			"def add(name, type=tarfile.REGTYPE, data=b'', mode=0o644, uid=0,\n"
			"        mtime=1000, link='', pax=None):\n"
			"    i = tarfile.TarInfo(name)\n"
			"    i.type, i.mode, i.uid, i.gid, i.mtime = type, mode, uid, uid, mtime\n"
			"    i.linkname = link\n"
			"    i.size = len(data) if type == tarfile.REGTYPE else 0\n"
			"    if pax: i.pax_headers = pax\n"
			"    t.addfile(i, io.BytesIO(data) if i.size else None)\n"
			"%s\nt.close()\nEOF", tar, script));
}

static void lookup(struct th_test *_metadata, struct incrfs_image *img,
		   const char *path, struct incrfs_inode_info *ii)
{
	ASSERT_EQ(0, tu_image_path(img, path, ii)) TH_LOG("%s: %s", path, img->err);
}

static void no_entry(struct th_test *_metadata, struct incrfs_image *img,
		     const char *path)
{
	struct incrfs_inode_info ii;

	ASSERT_NE(0, tu_image_path(img, path, &ii)) TH_LOG("%s is in the image", path);
}

static void file_is(struct th_test *_metadata, struct incrfs_image *img,
		    const char *path, const char *content)
{
	struct incrfs_inode_info ii;
	uint8_t block[BS];
	uint64_t pb;

	lookup(_metadata, img, path, &ii);
	ASSERT_TRUE(S_ISREG(ii.mode)) TH_LOG("%s", path);
	ASSERT_EQ(strlen(content), ii.size) TH_LOG("%s", path);
	ASSERT_EQ(1, incrfs_image_map_block(img, &ii, 0, &pb));
	ASSERT_EQ(0, incrfs_image_read_block(img, pb, block));
	ASSERT_EQ(0, memcmp(block, content, strlen(content))) TH_LOG("%s", path);
}

static int xattr_is(struct incrfs_image *img, const struct incrfs_inode_info *ii,
		    uint8_t index, const char *name, const char *value)
{
	struct incrfs_xattr_info x;
	uint32_t pos = 0;

	while (incrfs_image_xattr_next(img, ii, &pos, &x) > 0)
		if (x.index == index && x.name_len == strlen(name) &&
		    !memcmp(x.name, name, x.name_len))
			return x.value_len == strlen(value) &&
				!memcmp(x.value, value, x.value_len);
	return 0;
}

/* Packs @tar with --full and opens the image. */
static int pack_full(struct th_test *_metadata, FIXTURE_DATA(layer) *self,
		     const char *tar, struct incrfs_image *img)
{
	char out[PATH_MAX];
	const char *args[] = { "--full", "--from-tar", tar, out, NULL };
	int fd;

	at(out, self->tmp, "full.img");
	ASSERT_EQ(0, pack(self, args)) show_log(_metadata, self);
	fd = open(out, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, incrfs_image_open(img, fd)) TH_LOG("%s", img->err);
	return fd;
}

TEST_F(layer, oci_whiteouts_become_overlayfs_whiteouts)
{
	struct incrfs_inode_info ii;
	struct incrfs_image img;
	char tar[PATH_MAX];
	int fd;

	at(tar, self->tmp, "wh.tar");
	pytar(_metadata, tar,
	      "add('etc', tarfile.DIRTYPE, mode=0o755)\n"
	      "add('etc/.wh.passwd', uid=7, mtime=4242)\n"
	      "add('etc/keep', data=b'kept\\n')\n"
	      "add('opq', tarfile.DIRTYPE, mode=0o700)\n"
	      "add('opq/.wh..wh..opq')\n"
	      "add('opq/new', data=b'new\\n')\n"
	      "add('a/b/.wh..wh..opq')\n"		/* implied dirs */
	      "add('a/.wh.gone-dir', tarfile.DIRTYPE)\n"
	      "add('.wh..wh.plnk', tarfile.DIRTYPE)\n"	/* aufs metadata */
	      "add('.wh.top')\n");
	fd = pack_full(_metadata, self, tar, &img);
	ASSERT_EQ(0, incrfs_image_check(&img, true)) TH_LOG("%s", img.err);

	lookup(_metadata, &img, "etc/passwd", &ii);
	EXPECT_EQ(S_IFCHR, ii.mode);
	EXPECT_EQ(0, ii.rdev);
	EXPECT_EQ(7, ii.uid);
	EXPECT_EQ(4242, ii.mtime);
	no_entry(_metadata, &img, "etc/.wh.passwd");
	file_is(_metadata, &img, "etc/keep", "kept\n");
	lookup(_metadata, &img, "top", &ii);
	EXPECT_EQ(S_IFCHR, ii.mode);
	lookup(_metadata, &img, "a/gone-dir", &ii);
	EXPECT_EQ(S_IFCHR, ii.mode);
	no_entry(_metadata, &img, ".wh..wh.plnk");
	no_entry(_metadata, &img, "plnk");

	lookup(_metadata, &img, "opq", &ii);
	EXPECT_EQ(S_IFDIR | 0700, ii.mode);
	EXPECT_TRUE(xattr_is(&img, &ii, INCRFS_XATTR_TRUSTED, "overlay.opaque", "y"));
	no_entry(_metadata, &img, "opq/.wh..wh..opq");
	file_is(_metadata, &img, "opq/new", "new\n");
	lookup(_metadata, &img, "etc", &ii);
	EXPECT_FALSE(xattr_is(&img, &ii, INCRFS_XATTR_TRUSTED, "overlay.opaque", "y"));
	EXPECT_EQ(2, ii.meta_count);	/* passwd, keep */
	lookup(_metadata, &img, "a/b", &ii);
	EXPECT_TRUE(xattr_is(&img, &ii, INCRFS_XATTR_TRUSTED, "overlay.opaque", "y"));
	EXPECT_EQ(0, ii.meta_count);
	/* implied directories: 0755 root, time 0 */
	lookup(_metadata, &img, "a", &ii);
	EXPECT_EQ(S_IFDIR | 0755, ii.mode);
	EXPECT_EQ(0, ii.uid);
	EXPECT_EQ(0, ii.gid);
	EXPECT_EQ(0, ii.mtime);
	lookup(_metadata, &img, "", &ii);
	EXPECT_EQ(S_IFDIR | 0755, ii.mode);
	incrfs_image_close(&img);
	close(fd);
}

/*
 * A layer may declare a file of any size in a few bytes (a sparse
 * entry): packing it costs the data it holds, not its size.  Reading
 * every zero of its 256 GiB instead runs past the time limit.
 */
TEST_F_TIMEOUT(layer, a_huge_sparse_file_costs_its_data_not_its_size, 120)
{
	const uint64_t size = 256ULL << 30, at1 = 1ULL << 30, at2 = 200ULL << 30;
	struct incrfs_inode_info ii;
	struct incrfs_image img;
	char tar[PATH_MAX], sp[PATH_MAX];
	uint8_t block[4096];
	uint64_t pb;
	int fd;

	at(tar, self->tmp, "sparse.tar");
	at(sp, self->tmp, "sparse");
	ASSERT_EQ(0, sh("mkdir '%s' && truncate -s %llu '%s/huge' && "
			"printf ab | dd of='%s/huge' bs=1 seek=%llu conv=notrunc 2>/dev/null && "
			"printf cd | dd of='%s/huge' bs=1 seek=%llu conv=notrunc 2>/dev/null && "
			"tar -C '%s' -S --format=pax -cf '%s' huge",
			sp, (unsigned long long)size, sp, sp,
			(unsigned long long)at1, sp, (unsigned long long)at2,
			sp, tar));
	ASSERT_EQ(0, sh("rm -rf '%s'", sp));
	fd = pack_full(_metadata, self, tar, &img);
	lookup(_metadata, &img, "huge", &ii);
	EXPECT_EQ(size, ii.size);
	EXPECT_EQ(2, img.sb.nr_blocks);
	ASSERT_EQ(1, incrfs_image_map_block(&img, &ii, at2 / 4096, &pb));
	ASSERT_EQ(0, incrfs_image_read_block(&img, pb, block));
	EXPECT_EQ(0, memcmp(block, "cd", 2));
	ASSERT_EQ(0, incrfs_image_map_block(&img, &ii, at2 / 4096 - 1, &pb));
	incrfs_image_close(&img);
	close(fd);
}

/*
 * A hole is skipped (SEEK_DATA), zeros written out are read: either way
 * an all-zero block is no data block, so a file packs into the same
 * bytes whether the archive keeps its holes (tar -S) or not.
 */
TEST_F(layer, a_sparse_file_packs_like_the_same_file_written_out)
{
	char sp[PATH_MAX], tar[2][PATH_MAX], img[2][PATH_MAX], blob[2][PATH_MAX];
	char full[2][PATH_MAX];
	struct incrfs_inode_info ii;
	struct incrfs_image im;
	struct stat st[2];
	uint8_t block[BS];
	uint64_t pb;
	int fd;

	at(sp, self->tmp, "sp");
	/* 6 MiB + 5: data in block 0, across blocks 511/512, written zeros
	 * at 3 MiB and in the partial last block */
	ASSERT_EQ(0, sh("mkdir '%s' && cd '%s' && truncate -s 6291461 f && {\n"
			"printf ab | dd of=f bs=1 seek=4000 conv=notrunc &&\n"
			"printf 0123456789 | dd of=f bs=1 seek=2097147 conv=notrunc &&\n"
			"dd if=/dev/zero of=f bs=4096 seek=768 count=2 conv=notrunc &&\n"
			"printf tail | dd of=f bs=1 seek=6291457 conv=notrunc\n"
			"} 2>/dev/null", sp, sp));
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "dense" : "sparse";
		const char *blob_args[] = { "--from-tar", tar[i], img[i], "--blob",
					    blob[i], NULL };
		const char *full_args[] = { "--full", "--from-tar", tar[i], full[i],
					    NULL };

		snprintf(tar[i], PATH_MAX, "%s/%s.tar", self->tmp, name);
		snprintf(img[i], PATH_MAX, "%s/%s.img", self->tmp, name);
		snprintf(blob[i], PATH_MAX, "%s/%s.blob", self->tmp, name);
		snprintf(full[i], PATH_MAX, "%s/%s-full.img", self->tmp, name);
		ASSERT_EQ(0, sh("tar -C '%s' %s --format=pax -cf '%s' f", sp,
				i ? "" : "-S", tar[i]));
		ASSERT_EQ(0, stat(tar[i], &st[i]));
		ASSERT_EQ(0, pack(self, blob_args)) show_log(_metadata, self);
		ASSERT_EQ(0, pack(self, full_args)) show_log(_metadata, self);
	}
	/* the one spools holes, the other 6 MiB of bytes */
	ASSERT_LT(st[0].st_size, 1 << 20);
	ASSERT_GT(st[1].st_size, 6 << 20);
	ASSERT_EQ(0, sh("cmp '%s' '%s' && cmp '%s' '%s' && cmp '%s' '%s'",
			img[0], img[1], blob[0], blob[1], full[0], full[1]));

	fd = open(full[0], O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, incrfs_image_open(&im, fd)) TH_LOG("%s", im.err);
	ASSERT_EQ(0, incrfs_image_check(&im, true)) TH_LOG("%s", im.err);
	lookup(_metadata, &im, "f", &ii);
	EXPECT_EQ(6291461, ii.size);
	EXPECT_EQ(4, im.sb.nr_blocks);	/* blocks 0, 511, 512 and 1536 */
	ASSERT_EQ(1, incrfs_image_map_block(&im, &ii, 512, &pb));
	ASSERT_EQ(0, incrfs_image_read_block(&im, pb, block));
	EXPECT_EQ(0, memcmp(block, "56789", 5));
	ASSERT_EQ(1, incrfs_image_map_block(&im, &ii, 1536, &pb));
	ASSERT_EQ(0, incrfs_image_read_block(&im, pb, block));
	EXPECT_EQ(0, memcmp(block, "\0tail", 5));
	EXPECT_EQ(0, incrfs_image_map_block(&im, &ii, 768, &pb));
	incrfs_image_close(&im);
	close(fd);
}

TEST_F(layer, later_entries_replace_earlier_ones)
{
	struct incrfs_inode_info ii, jj;
	struct incrfs_image img;
	char tar[PATH_MAX];
	int fd;

	at(tar, self->tmp, "dup.tar");
	pytar(_metadata, tar,
	      "add('f', data=b'one\\n')\n"
	      "add('f', data=b'two\\n', mode=0o600)\n"
	      "add('h', tarfile.LNKTYPE, link='f')\n"	/* links "two" */
	      "add('f', data=b'three\\n')\n"
	      "add('d', tarfile.DIRTYPE, mode=0o700)\n"
	      "add('d/child', data=b'child\\n')\n"
	      "add('d', tarfile.DIRTYPE, mode=0o751, uid=3,\n"
	      "    pax={'SCHILY.xattr.user.v': '2'})\n"
	      "add('x/y', data=b'y\\n')\n"
	      "add('x', data=b'x is a file now\\n')\n"
	      "add('s', tarfile.SYMTYPE, link='f')\n"
	      "add('s', tarfile.DIRTYPE)\n"
	      "add('./d//./f2', data=b'normalized\\n')\n");
	fd = pack_full(_metadata, self, tar, &img);
	ASSERT_EQ(0, incrfs_image_check(&img, true)) TH_LOG("%s", img.err);

	file_is(_metadata, &img, "f", "three\n");
	file_is(_metadata, &img, "h", "two\n");
	lookup(_metadata, &img, "f", &ii);
	lookup(_metadata, &img, "h", &jj);
	EXPECT_EQ(1, ii.nlink);
	EXPECT_EQ(1, jj.nlink);
	EXPECT_EQ(S_IFREG | 0600, jj.mode);
	lookup(_metadata, &img, "d", &ii);
	EXPECT_EQ(S_IFDIR | 0751, ii.mode);
	EXPECT_EQ(3, ii.uid);
	EXPECT_TRUE(xattr_is(&img, &ii, INCRFS_XATTR_USER, "v", "2"));
	file_is(_metadata, &img, "d/child", "child\n");
	file_is(_metadata, &img, "x", "x is a file now\n");
	lookup(_metadata, &img, "s", &ii);
	EXPECT_TRUE(S_ISDIR(ii.mode));
	file_is(_metadata, &img, "d/f2", "normalized\n");
	incrfs_image_close(&img);
	close(fd);
}

TEST_F(layer, output_is_deterministic)
{
	char tar[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	const char *args1[] = { "--from-tar", tar, a, "--blob", b, NULL };

	build_tree(_metadata, self);
	at(tar, self->tmp, "layer.tar");
	at(a, self->tmp, "1.img");
	at(b, self->tmp, "1.blob");
	ASSERT_EQ(0, sh("tar --xattrs --xattrs-include='*' --format=pax -C '%s' -cf '%s' .",
			self->src, tar));
	ASSERT_EQ(0, pack(self, args1)) show_log(_metadata, self);
	at(a, self->tmp, "2.img");
	at(b, self->tmp, "2.blob");
	ASSERT_EQ(0, pack(self, args1)) show_log(_metadata, self);
	ASSERT_EQ(0, sh("cd '%s' && cmp 1.img 2.img && cmp 1.blob 2.blob", self->tmp));
}

/*
 * Names and link targets are bytes, whatever the locale: a pax header's
 * UTF-8 name (ca-certificates ships such files) and a GNU header's raw
 * Latin-1 name both come out byte for byte, with no warning, when
 * incrfs-pack runs in the C locale, as under systemd or in CI.
 */
TEST_F(layer, names_are_kept_byte_for_byte_in_any_locale)
{
	static const char utf8[] = "certs/F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.pem";
	static const char latin1[] = "caf\xe9";
	struct incrfs_inode_info ii;
	struct incrfs_image img;
	char tar[PATH_MAX], gnu[PATH_MAX], out[PATH_MAX];
	const char *args[] = { "--full", "--from-tar", gnu, out, NULL };
	const char *target;
	size_t len;
	int fd;

	setenv("LC_ALL", "C", 1);
	at(tar, self->tmp, "utf8.tar");
	pytar(_metadata, tar,
	      "add('certs', tarfile.DIRTYPE, mode=0o755)\n"
	      "add('certs/F\\u0151tan\\u00fas\\u00edtv\\u00e1ny.pem', data=b'pem\\n')\n"
	      "add('certs/link', tarfile.SYMTYPE,\n"
	      "    link='F\\u0151tan\\u00fas\\u00edtv\\u00e1ny.pem')\n");
	fd = pack_full(_metadata, self, tar, &img);
	unsetenv("LC_ALL");
	ASSERT_EQ(0, incrfs_image_check(&img, true)) TH_LOG("%s", img.err);
	file_is(_metadata, &img, utf8, "pem\n");
	lookup(_metadata, &img, "certs/link", &ii);
	ASSERT_EQ(0, incrfs_image_symlink(&img, &ii, &target, &len));
	EXPECT_EQ(strlen(utf8 + 6), len);
	EXPECT_EQ(0, memcmp(target, utf8 + 6, len)) TH_LOG("%.*s", (int)len, target);
	incrfs_image_close(&img);
	close(fd);
	EXPECT_NE(0, sh("grep -q warning '%s'", self->log)) show_log(_metadata, self);

	at(gnu, self->tmp, "latin1.tar");
	at(out, self->tmp, "latin1.img");
	ASSERT_EQ(0, sh("python3 - '%s' <<'EOF'\n"
			"import io, sys, tarfile\n"
			"t = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT,\n"
			"                 encoding='latin-1')\n"
			"i = tarfile.TarInfo('caf\\u00e9')\n"
			"i.size = 3\n"
			"t.addfile(i, io.BytesIO(b'ok\\n'))\n"
			"t.close()\nEOF", gnu));
	setenv("LC_ALL", "C", 1);
	ASSERT_EQ(0, pack(self, args)) show_log(_metadata, self);
	unsetenv("LC_ALL");
	fd = open(out, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, incrfs_image_open(&img, fd)) TH_LOG("%s", img.err);
	file_is(_metadata, &img, latin1, "ok\n");
	incrfs_image_close(&img);
	close(fd);
	EXPECT_NE(0, sh("grep -q warning '%s'", self->log)) show_log(_metadata, self);
}

/*
 * Packing @tar with the options @opts (NULL-terminated, or NULL) fails
 * with status 1 and @msg, leaving nothing in out/.
 */
static void refused_opts(struct th_test *_metadata, FIXTURE_DATA(layer) *self,
			 const char *tar, const char *const *opts,
			 const char *msg)
{
	char out[PATH_MAX], img[PATH_MAX], blob[PATH_MAX];
	const char *args[16];
	size_t n = 0;

	at(out, self->tmp, "out");
	mkdir(out, 0755);
	at(img, out, "x.img");
	at(blob, out, "x.blob");
	while (opts && *opts && n < 10)
		args[n++] = *opts++;
	args[n++] = "--from-tar";
	args[n++] = tar;
	args[n++] = img;
	args[n++] = "--blob";
	args[n++] = blob;
	args[n] = NULL;
	ASSERT_EQ(1, pack(self, args)) show_log(_metadata, self);
	log_has(_metadata, self, "incrfs-pack: ");
	log_has(_metadata, self, msg);
	ASSERT_EQ(0, count_entries(out)) TH_LOG("a failed pack left files in %s", out);
}

static void refused(struct th_test *_metadata, FIXTURE_DATA(layer) *self,
		    const char *tar, const char *msg)
{
	refused_opts(_metadata, self, tar, NULL, msg);
}

TEST_F(layer, unsafe_paths_are_refused)
{
	char tar[PATH_MAX];

	at(tar, self->tmp, "abs.tar");
	pytar(_metadata, tar, "add('ok', data=b'x')\nadd('/etc/evil', data=b'x')\n");
	refused(_metadata, self, tar, "'/etc/evil': absolute path refused");
	pytar(_metadata, tar, "add('a/../../evil', data=b'x')\n");
	refused(_metadata, self, tar, "'a/../../evil': path with a '..' component refused");
	pytar(_metadata, tar, "add('a/..', tarfile.DIRTYPE)\n");
	refused(_metadata, self, tar, "'..' component refused");
	pytar(_metadata, tar, "add('l', tarfile.LNKTYPE, link='../etc/shadow')\n");
	refused(_metadata, self, tar, "'..' component refused");
	pytar(_metadata, tar, "add('l', tarfile.LNKTYPE, link='missing')\n");
	refused(_metadata, self, tar, "not in the archive before it");
	pytar(_metadata, tar, "add('f', data=b'x')\nadd('f/g', data=b'x')\n");
	refused(_metadata, self, tar, "f is not a directory");
	pytar(_metadata, tar, "add('.', data=b'x')\n");
	refused(_metadata, self, tar, "root");
	pytar(_metadata, tar, "add('d/.wh..', data=b'')\n");
	refused(_metadata, self, tar, "'d/.wh..': whiteout of '.' or '..' refused");
	pytar(_metadata, tar, "add('.wh...', data=b'')\n");
	refused(_metadata, self, tar, "whiteout of '.' or '..' refused");
}

TEST_F(layer, bad_archives_fail_cleanly)
{
	char tar[PATH_MAX], img[PATH_MAX];
	const char *noblob[] = { "--from-tar", tar, img, NULL };
	const char *extra[] = { "--full", "--from-tar", tar, img, "x", NULL };
	const char *help[] = { "--help", NULL };
	const char *version[] = { "--version", NULL };

	build_tree(_metadata, self);
	at(tar, self->tmp, "missing.tar");
	refused(_metadata, self, tar, "missing.tar");
	at(tar, self->tmp, "random.tar");
	ASSERT_EQ(0, sh("head -c 100000 /dev/urandom >'%s'", tar));
	refused(_metadata, self, tar, "random.tar: ");
	at(tar, self->tmp, "cut.tar.gz");
	ASSERT_EQ(0, sh("tar -C '%s' -czf - . 2>/dev/null | head -c 60000 >'%s'", self->src, tar));
	refused(_metadata, self, tar, "cut.tar.gz: ");
	at(tar, self->tmp, "cut.tar");
	ASSERT_EQ(0, sh("tar -C '%s' -cf - . 2>/dev/null | head -c 30000 >'%s'", self->src, tar));
	refused(_metadata, self, tar, "cut.tar: ");

	at(img, self->tmp, "x.img");
	ASSERT_EQ(2, pack(self, noblob));	/* no --blob, no --full */
	ASSERT_EQ(2, pack(self, extra));
	ASSERT_EQ(0, pack(self, help));
	log_has(_metadata, self, "--from-tar");
	log_has(_metadata, self, "-V, --version");
	log_has(_metadata, self, ".wh..wh..opq");
	ASSERT_EQ(0, pack(self, version));
	log_has(_metadata, self, " (incrfs)");
}

/*
 * --max-file-size, --max-total-size and --max-depth: the limit fits
 * exactly, one less refuses the entry that exceeds it, by name.  The
 * total is of the files in the tree: a hard link counts once, a replaced
 * file no longer counts.  A sparse entry is measured by the size it
 * declares, not by the bytes it carries.
 */
TEST_F(layer, limits_name_the_entry_and_leave_nothing_behind)
{
	static const char *const file_4999[] = { "--max-file-size", "4999", NULL };
	static const char *const file_4k[] = { "--max-file-size", "4k", NULL };
	static const char *const total_8999[] = { "--max-total-size", "8999", NULL };
	static const char *const depth_2[] = { "--max-depth", "2", NULL };
	static const char *const file_63g[] = { "--max-file-size", "63G", NULL };
	static const char *const bad[][2] = {
		{ "--max-file-size", "1X" }, { "--max-file-size", "" },
		{ "--max-file-size", "16E" }, { "--max-total-size", "-1" },
		{ "--max-total-size", "1 K" }, { "--max-depth", "0" },
		{ "--max-depth", "1.5" },
	};
	char tar[PATH_MAX], huge[PATH_MAX], sp[PATH_MAX], img[PATH_MAX];
	char blob[PATH_MAX], plain[PATH_MAX], pblob[PATH_MAX];
	const char *fits[] = { "--max-file-size", "5000", "--max-total-size", "9000",
			       "--max-depth", "3", "--from-tar", tar, img,
			       "--blob", blob, NULL };
	const char *none[] = { "--from-tar", tar, plain, "--blob", pblob, NULL };
	const char *huge_fits[] = { "--max-file-size", "64G", "--max-total-size",
				    "64g", "--full", "--from-tar", huge, img, NULL };
	struct incrfs_inode_info ii;
	struct incrfs_image im;
	struct timespec t0, t1;
	uint8_t block[BS];
	uint64_t pb;
	int fd;

	at(tar, self->tmp, "sizes.tar");
	at(img, self->tmp, "fits.img");
	at(blob, self->tmp, "fits.blob");
	at(plain, self->tmp, "plain.img");
	at(pblob, self->tmp, "plain.blob");
	pytar(_metadata, tar,
	      "add('a', data=b'a' * 5000)\n"
	      "add('b', data=b'b' * 3000)\n"
	      "add('h', tarfile.LNKTYPE, link='a')\n"	/* the same 5000 */
	      "add('c', data=b'old')\n"
	      "add('c', data=b'c' * 1000)\n"		/* 'old' is gone */
	      "add('d/e/f', data=b'')\n");
	ASSERT_EQ(0, pack(self, fits)) show_log(_metadata, self);
	ASSERT_EQ(0, pack(self, none)) show_log(_metadata, self);
	ASSERT_EQ(0, sh("cmp '%s' '%s' && cmp '%s' '%s'", img, plain, blob, pblob))
		TH_LOG("limits that fit changed the output");

	refused_opts(_metadata, self, tar, file_4999,
		     "'a': a file of 5000 bytes, larger than --max-file-size 4999");
	refused_opts(_metadata, self, tar, file_4k,
		     "'a': a file of 5000 bytes, larger than --max-file-size 4096");
	refused_opts(_metadata, self, tar, total_8999,
		     "'c': with its 1000 bytes the files total more than --max-total-size 8999");
	refused_opts(_metadata, self, tar, depth_2,
		     "'d/e/f': more than --max-depth 2 levels below the root");

	/* 64 GiB declared in a few KiB: refused at once, or packed at once */
	at(huge, self->tmp, "huge.tar");
	at(sp, self->tmp, "huge");
	ASSERT_EQ(0, sh("mkdir '%s' && truncate -s 64G '%s/huge' && "
			"printf end | dd of='%s/huge' bs=1 seek=%llu conv=notrunc 2>/dev/null && "
			"tar -C '%s' -S --format=pax -cf '%s' huge && rm -r '%s'",
			sp, sp, sp, (64ULL << 30) - 3, sp, huge, sp));
	refused_opts(_metadata, self, huge, file_63g,
		     "'huge': a file of 68719476736 bytes, larger than --max-file-size 67645734912");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, pack(self, huge_fits)) show_log(_metadata, self);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("a 64 GiB sparse file packed in %.2f s",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_LT(t1.tv_sec - t0.tv_sec, 20);
	fd = open(img, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, incrfs_image_open(&im, fd)) TH_LOG("%s", im.err);
	ASSERT_EQ(0, incrfs_image_check(&im, true)) TH_LOG("%s", im.err);
	lookup(_metadata, &im, "huge", &ii);
	EXPECT_EQ(64ULL << 30, ii.size);
	EXPECT_EQ(1, im.sb.nr_blocks);
	ASSERT_EQ(1, incrfs_image_map_block(&im, &ii, (16ULL << 20) - 1, &pb));
	ASSERT_EQ(0, incrfs_image_read_block(&im, pb, block));
	EXPECT_EQ(0, memcmp(block + BS - 3, "end", 3));
	incrfs_image_close(&im);
	close(fd);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { bad[i][0], bad[i][1], "--from-tar", tar,
				       img, "--blob", blob, NULL };

		ASSERT_EQ(2, pack(self, args)) TH_LOG("%s '%s'", bad[i][0], bad[i][1]);
		log_has(_metadata, self, bad[i][0]);
	}
}

/* "@name/@name/.../@file": @file below @n nested directories @name. */
static char *deep_path(size_t n, char name, const char *file)
{
	char *p = malloc(2 * n + strlen(file) + 1);

	if (p) {
		for (size_t i = 0; i < n; i++) {
			p[2 * i] = name;
			p[2 * i + 1] = '/';
		}
		strcpy(p + 2 * n, file);
	}
	return p;
}

/*
 * A path of a few KiB can nest thousands of directories: deeper than
 * --max-depth (default 4096) is refused, and any depth allowed is packed
 * and freed without a call per level (100 000 levels overflowed the
 * stack).
 */
TEST_F_TIMEOUT(layer, deep_trees_are_refused_or_packed_without_recursion, 300)
{
	static const char *const depth_4999[] = { "--max-depth", "4999", NULL };
	char tar[PATH_MAX], out[PATH_MAX];
	const char *depth_5000[] = { "--max-depth", "5000", "--full", "--from-tar",
				     tar, out, NULL };
	const char *depth_100001[] = { "--max-depth", "100001", "--full",
				       "--from-tar", tar, out, NULL };
	struct incrfs_image im;
	char *p;
	int fd;

	at(tar, self->tmp, "deep.tar");
	at(out, self->tmp, "deep.img");
	pytar(_metadata, tar, "add('d/' * 4999 + 'f', data=b'deep\\n')\n");
	refused(_metadata, self, tar, "more than --max-depth 4096 levels below the root");
	refused_opts(_metadata, self, tar, depth_4999,
		     "more than --max-depth 4999 levels below the root");
	ASSERT_EQ(0, pack(self, depth_5000)) show_log(_metadata, self);
	fd = open(out, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, incrfs_image_open(&im, fd)) TH_LOG("%s", im.err);
	ASSERT_EQ(0, incrfs_image_check(&im, true)) TH_LOG("%s", im.err);
	EXPECT_EQ(5001, im.sb.inode_count);
	p = deep_path(4999, 'd', "f");
	ASSERT_NOT_NULL(p);
	file_is(_metadata, &im, p, "deep\n");
	free(p);
	incrfs_image_close(&im);
	close(fd);

	/* 100 000 levels: one chain replaced (freed), one packed */
	pytar(_metadata, tar,
	      "add('d/' * 100000 + 'f', data=b'gone\\n')\n"
	      "add('e/' * 100000 + 'g', data=b'deepest\\n')\n"
	      "add('d', data=b'flat\\n')\n");
	ASSERT_EQ(0, pack(self, depth_100001)) show_log(_metadata, self);
	fd = open(out, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, incrfs_image_open(&im, fd)) TH_LOG("%s", im.err);
	ASSERT_EQ(0, incrfs_image_check(&im, true)) TH_LOG("%s", im.err);
	EXPECT_EQ(100003, im.sb.inode_count);
	file_is(_metadata, &im, "d", "flat\n");
	p = deep_path(100000, 'e', "g");
	ASSERT_NOT_NULL(p);
	file_is(_metadata, &im, p, "deepest\n");
	free(p);
	incrfs_image_close(&im);
	close(fd);
}

TEST_HARNESS_MAIN
