// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuse_loader.c - incrfs-fuse-loader: a FUSE lazy loader of an incrfs
 * image and blob, the baseline incrfs is measured against (figures 3, 4).
 *
 * Why this exists: the designs incrfs replaces (stargz-snapshotter, Nydus
 * in FUSE mode, SOCI) serve a lazily pulled layer from a FUSE daemon.  To
 * compare like with like, this loader has their architecture and incrfs's
 * inputs: the tree's metadata comes from the incrfs image (read with
 * tools/lib/image.h, all in memory), data from the same blob with the same
 * zstd chunk decoding (tools/lib/blob.h).  A read of a chunk not yet
 * fetched reads and decodes the chunk and writes it into a local cache
 * file (one sparse file, data block N at N * 4096); every read, fetched or
 * not, is answered from that cache file.  libfuse3's low-level API,
 * single-threaded session loop, kernel page cache kept between opens.
 *
 * usage: incrfs-fuse-loader IMAGE BLOB CACHE MOUNTPOINT
 *   Runs in the foreground until unmounted or SIGTERM.  On SIGUSR1 it
 *   prints "chunks fetched N bytes M" to stderr.
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "image.h"

static const char *prog = "incrfs-fuse-loader";

static struct {
	struct incrfs_image img;
	struct incrfs_blob blob;
	int cache_fd;
	uint8_t *have;		/* one bit per blob chunk: in the cache file */
	void *chunk_buf;	/* one decoded chunk */
	size_t chunk_size;
	uint64_t fetched, fetched_bytes;
} L;

static volatile sig_atomic_t report_now;

static void on_usr1(int sig)
{
	(void)sig;
	report_now = 1;
}

static void fill_stat(const struct incrfs_inode_info *in, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = in->ino;
	st->st_mode = in->mode;
	st->st_nlink = in->nlink;
	st->st_uid = in->uid;
	st->st_gid = in->gid;
	st->st_size = in->size;
	st->st_blocks = in->nr_blocks * 8;
	st->st_blksize = 4096;
	st->st_mtim.tv_sec = in->mtime;
	st->st_mtim.tv_nsec = in->mtime_nsec;
	st->st_ctim.tv_sec = in->ctime;
	st->st_ctim.tv_nsec = in->ctime_nsec;
	st->st_atim = st->st_mtim;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct incrfs_inode_info dir, in;
	struct incrfs_dirent_info de;
	struct fuse_entry_param e;
	int ret;

	ret = incrfs_image_read_inode(&L.img, parent, &dir);
	if (!ret)
		ret = incrfs_image_lookup(&L.img, &dir, name, strlen(name), &de);
	if (!ret)
		ret = incrfs_image_read_inode(&L.img, de.ino, &in);
	if (ret) {
		fuse_reply_err(req, ret == -ENOENT ? ENOENT : EIO);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = in.ino;
	e.attr_timeout = 3600;
	e.entry_timeout = 3600;
	fill_stat(&in, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct incrfs_inode_info in;
	struct stat st;

	(void)fi;
	if (incrfs_image_read_inode(&L.img, ino, &in)) {
		fuse_reply_err(req, EIO);
		return;
	}
	fill_stat(&in, &st);
	fuse_reply_attr(req, &st, 3600);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct incrfs_inode_info in;
	char buf[INCRFS_SYMLINK_MAX + 1];
	const char *t;
	size_t len;

	if (incrfs_image_read_inode(&L.img, ino, &in) ||
	    incrfs_image_symlink(&L.img, &in, &t, &len)) {
		fuse_reply_err(req, EIO);
		return;
	}
	memcpy(buf, t, len);
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	struct incrfs_inode_info dir;
	struct incrfs_dirent_info de;
	char *buf = malloc(size), name[INCRFS_NAME_MAX + 1];
	size_t used = 0;

	(void)fi;
	if (!buf || incrfs_image_read_inode(&L.img, ino, &dir)) {
		free(buf);
		fuse_reply_err(req, EIO);
		return;
	}
	/* offsets: 0 ".", 1 "..", 2 + i entry i */
	for (; off < (off_t)dir.meta_count + 2; off++) {
		struct stat st = { 0 };
		size_t n;

		if (off < 2) {
			strcpy(name, off ? ".." : ".");
			st.st_ino = off ? dir.parent : dir.ino;
			st.st_mode = S_IFDIR;
		} else {
			if (incrfs_image_dirent(&L.img, &dir, off - 2, &de))
				break;
			memcpy(name, de.name, de.name_len);
			name[de.name_len] = '\0';
			st.st_ino = de.ino;
			st.st_mode = (mode_t)de.type << 12;
		}
		n = fuse_add_direntry(req, buf + used, size - used, name, &st,
				      off + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/* Fetch and decode chunk @c into the cache file unless it is there. */
static int ensure_chunk(uint64_t c)
{
	struct incrfs_chunk_info ci;
	size_t len;
	int ret;

	if (L.have[c / 8] & (1u << (c % 8)))
		return 0;
	ret = incrfs_blob_chunk(&L.blob, c, &ci);
	if (ret)
		return ret;
	len = (size_t)ci.nr_blocks * INCRFS_BLOCK_SIZE;
	ret = incrfs_blob_read_chunk(&L.blob, c, L.chunk_buf, L.chunk_size);
	if (ret) {
		fprintf(stderr, "%s: chunk %llu: %s\n", prog,
			(unsigned long long)c, L.blob.err);
		return ret;
	}
	if (pwrite(L.cache_fd, L.chunk_buf, len,
		   (off_t)(ci.first_block * INCRFS_BLOCK_SIZE)) != (ssize_t)len)
		return -EIO;
	L.have[c / 8] |= 1u << (c % 8);
	L.fetched++;
	L.fetched_bytes += ci.len;
	return 0;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct incrfs_inode_info in;
	char *buf;
	uint64_t b, first, last, db, c;
	size_t n;

	(void)fi;
	if (incrfs_image_read_inode(&L.img, ino, &in)) {
		fuse_reply_err(req, EIO);
		return;
	}
	if ((uint64_t)off >= in.size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (off + size > in.size)
		size = in.size - off;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	first = off / INCRFS_BLOCK_SIZE;
	last = (off + size - 1) / INCRFS_BLOCK_SIZE;
	for (b = first; b <= last; b++) {
		uint64_t bstart = b * INCRFS_BLOCK_SIZE;
		uint64_t from = bstart > (uint64_t)off ? bstart : (uint64_t)off;
		uint64_t to = bstart + INCRFS_BLOCK_SIZE;
		int m;

		if (to > off + size)
			to = off + size;
		n = to - from;
		m = incrfs_image_map_block(&L.img, &in, b, &db);
		if (m < 0)
			goto eio;
		if (m == 0) {		/* hole */
			memset(buf + (from - off), 0, n);
			continue;
		}
		if (incrfs_blob_chunk_of(&L.blob, db, &c) || ensure_chunk(c))
			goto eio;
		if (pread(L.cache_fd, buf + (from - off), n,
			  db * INCRFS_BLOCK_SIZE + (from - bstart)) != (ssize_t)n)
			goto eio;
	}
	fuse_reply_buf(req, buf, size);
	free(buf);
	if (report_now) {
		report_now = 0;
		fprintf(stderr, "chunks fetched %llu bytes %llu\n",
			(unsigned long long)L.fetched,
			(unsigned long long)L.fetched_bytes);
	}
	return;
eio:
	free(buf);
	fuse_reply_err(req, EIO);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
};

static int die(const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, why);
	return 1;
}

int main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-o", "ro,default_permissions,allow_other,"
			  "fsname=incrfs-fuse,subtype=incrfs-fuse", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se;
	int fd, ret;

	if (argc != 5) {
		fprintf(stderr, "usage: %s IMAGE BLOB CACHE MOUNTPOINT\n", prog);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return die(argv[1], strerror(errno));
	if (incrfs_image_open(&L.img, fd))
		return die(argv[1], L.img.err);
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return die(argv[2], strerror(errno));
	if (incrfs_blob_open(&L.blob, fd))
		return die(argv[2], L.blob.err);
	L.cache_fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (L.cache_fd < 0)
		return die(argv[3], strerror(errno));
	L.have = calloc(L.blob.nr_chunks / 8 + 1, 1);
	L.chunk_size = (size_t)L.blob.chunk_blocks * INCRFS_BLOCK_SIZE;
	L.chunk_buf = malloc(L.chunk_size);
	if (!L.have || !L.chunk_buf)
		return die("memory", strerror(ENOMEM));
	signal(SIGUSR1, on_usr1);

	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		return die("fuse_session_new", "failed");
	if (fuse_set_signal_handlers(se))
		return die("signal handlers", "failed");
	if (fuse_session_mount(se, argv[4]))
		return die(argv[4], "mount failed");
	ret = fuse_session_loop(se);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	fprintf(stderr, "chunks fetched %llu bytes %llu\n",
		(unsigned long long)L.fetched,
		(unsigned long long)L.fetched_bytes);
	return ret ? 1 : 0;
}
