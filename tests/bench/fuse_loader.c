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
 * not, is answered from that cache file.  libfuse3's low-level API, kernel
 * page cache kept between opens (keep_cache), attributes and entries
 * cached for an hour.
 *
 * By default it does the work incrfs does, so that it is a fair peer:
 *  - Verifies.  The image's hash table (s_nr_blocks SHA-256s, read into
 *    memory at start) is trusted as incrfs trusts the mounted image; the
 *    blob is not (its header's root hash is not even looked at, only its
 *    block count must equal the image's).  After a chunk is decoded, the
 *    SHA-256 of each of its 4 KiB blocks is computed (tools/lib/sha256.h)
 *    and compared with the hash table before anything is written to the
 *    cache file; one mismatch fails the whole chunk: nothing of it is
 *    cached, the read answers EIO (as eStargz checks each chunk's digest
 *    before serving it), and a later read fetches and checks it again.
 *  - Runs libfuse's multi-threaded session loop, --threads N workers
 *    (default 4; the guest has 2 CPUs).  Each blob chunk has a state
 *    (missing, being fetched, cached) under one mutex and condition
 *    variable: a chunk is fetched by one thread at a time, and readers of
 *    a chunk being fetched wait for it instead of fetching it again.  Each
 *    worker thread decodes into its own zstd context and buffers.
 *  - Reads ahead as incrfsd does by default (--readahead 4): a read that
 *    had to fetch a chunk continues a stream when the blob chunk before
 *    the first chunk it fetched is cached or being fetched; then, after
 *    the read is answered, the same worker also fetches the next N blob
 *    chunks after the last chunk the read needed, in blob order (the
 *    packing order: a file's blocks are consecutive, files follow in tree
 *    walk order), one after another, skipping chunks cached or being
 *    fetched by another thread.  A read that fetched nothing, or whose
 *    preceding chunk is missing (a random access), reads nothing ahead.
 *    incrfsd decides the same way (tools/incrfsd/plan.c, continues_stream)
 *    and fetches its window in the background at its --depth; the kernel's
 *    FUSE read-ahead (128 KiB) comes on top, as the kernel's own does for
 *    incrfs.
 *  - Answers a read with one pread() of the cache file per run of the
 *    request's blocks that are consecutive in the data region (a file's
 *    extent: normally the whole request), holes zero-filled.
 *
 * --plain is the loader as it was before (the info rows of the benchmark):
 * no verification, the single-threaded session loop, no read-ahead, and
 * one pread() per 4 KiB block of a request.
 *
 * usage: incrfs-fuse-loader [OPTIONS] IMAGE BLOB CACHE MOUNTPOINT
 *   --threads N     worker threads of the session loop (1: single-threaded
 *                   loop), default 4
 *   --single-thread --threads 1
 *   --readahead N   chunks read ahead after a miss in a stream (0..4096),
 *                   default 4
 *   --unverified    do not check blocks against the image's hashes
 *   --plain         --unverified --threads 1 --readahead 0, one pread()
 *                   per 4 KiB block
 *   Runs in the foreground until unmounted or SIGTERM.  On SIGUSR1 (at the
 *   next read) and at exit it prints "chunks fetched N bytes M
 *   verify-failed K" to stderr (M: compressed bytes read from the blob).
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "image.h"
#include "sha256.h"

static const char *prog = "incrfs-fuse-loader";

enum chunk_state { C_MISSING, C_FETCHING, C_CACHED };

static struct {
	struct incrfs_image img;
	struct incrfs_blob blob;	/* header and index: read-only */
	int cache_fd;
	uint8_t *hashes;		/* s_nr_blocks SHA-256s, or NULL */
	_Atomic uint8_t *state;		/* enum chunk_state, per blob chunk */
	size_t chunk_size;
	pthread_mutex_t lock;		/* state changes, counters */
	pthread_cond_t cond;		/* a fetch ended */
	pthread_key_t key;		/* struct worker of the thread */
	uint64_t fetched, fetched_bytes, verify_failed;
	/* options */
	unsigned int threads, readahead;
	bool verify, block_reads;
} L = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.threads = 4,
	.readahead = 4,
	.verify = true,
};

/* What each worker thread owns: a zstd context and buffers. */
struct worker {
	struct incrfs_blob blob;	/* shallow copy: own dctx and cbuf */
	void *chunk;			/* one decoded chunk */
	char *reply;			/* a read's answer */
	size_t reply_size;
};

static volatile sig_atomic_t report_now;

static void on_usr1(int sig)
{
	(void)sig;
	report_now = 1;
}

static void worker_free(void *p)
{
	struct worker *w = p;

	w->blob.index = NULL;		/* L.blob's */
	incrfs_blob_close(&w->blob);
	free(w->chunk);
	free(w->reply);
	free(w);
}

static struct worker *worker(void)
{
	struct worker *w = pthread_getspecific(L.key);

	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->blob = L.blob;
	w->blob.dctx = NULL;
	w->blob.cbuf = NULL;
	w->blob.cbuf_size = 0;
	w->chunk = malloc(L.chunk_size);
	if (!w->chunk || pthread_setspecific(L.key, w)) {
		free(w->chunk);
		free(w);
		return NULL;
	}
	return w;
}

static void report(void)
{
	pthread_mutex_lock(&L.lock);
	fprintf(stderr, "chunks fetched %llu bytes %llu verify-failed %llu\n",
		(unsigned long long)L.fetched,
		(unsigned long long)L.fetched_bytes,
		(unsigned long long)L.verify_failed);
	pthread_mutex_unlock(&L.lock);
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

/*
 * Read, decode and (unless --unverified) check chunk @c, then write it to
 * the cache file.  -EBADMSG if a block's SHA-256 is not the image's.
 */
static int fetch_chunk(struct worker *w, uint64_t c, uint32_t *clen)
{
	struct incrfs_chunk_info ci;
	uint8_t h[INCRFS_SHA256_SIZE];
	const uint8_t *data = w->chunk;
	size_t len;
	uint32_t i;
	int ret;

	ret = incrfs_blob_chunk(&L.blob, c, &ci);
	if (ret)
		return ret;
	len = (size_t)ci.nr_blocks * INCRFS_BLOCK_SIZE;
	ret = incrfs_blob_read_chunk(&w->blob, c, w->chunk, L.chunk_size);
	if (ret) {
		fprintf(stderr, "%s: chunk %llu: %s\n", prog,
			(unsigned long long)c, w->blob.err);
		return ret;
	}
	for (i = 0; L.hashes && i < ci.nr_blocks; i++) {
		const uint8_t *b = data + (size_t)i * INCRFS_BLOCK_SIZE;
		uint64_t db = ci.first_block + i;

		ret = incrfs_sha256(b, INCRFS_BLOCK_SIZE, h);
		if (ret)
			return ret;
		if (memcmp(h, L.hashes + db * INCRFS_SHA256_SIZE, sizeof(h))) {
			fprintf(stderr, "%s: chunk %llu: data block %llu does "
				"not match its hash\n", prog,
				(unsigned long long)c, (unsigned long long)db);
			return -EBADMSG;
		}
	}
	if (pwrite(L.cache_fd, data, len,
		   (off_t)(ci.first_block * INCRFS_BLOCK_SIZE)) != (ssize_t)len)
		return -EIO;
	*clen = ci.len;
	return 0;
}

/*
 * Make chunk @c cached: fetch it, or wait while another thread does (when
 * @wait; otherwise leave it to that thread).  Returns 1 if this call
 * fetched it, 0 if it was cached or left to another thread, or a negative
 * errno if it could not be fetched (the chunk stays missing).
 */
static int ensure_chunk(struct worker *w, uint64_t c, bool wait)
{
	uint32_t clen = 0;
	int ret;

	if (atomic_load_explicit(&L.state[c], memory_order_acquire) == C_CACHED)
		return 0;
	pthread_mutex_lock(&L.lock);
	for (;;) {
		uint8_t s = atomic_load_explicit(&L.state[c],
						 memory_order_relaxed);

		if (s == C_CACHED || (s == C_FETCHING && !wait)) {
			pthread_mutex_unlock(&L.lock);
			return 0;
		}
		if (s == C_MISSING)
			break;
		pthread_cond_wait(&L.cond, &L.lock);
	}
	atomic_store_explicit(&L.state[c], C_FETCHING, memory_order_relaxed);
	pthread_mutex_unlock(&L.lock);

	ret = fetch_chunk(w, c, &clen);

	pthread_mutex_lock(&L.lock);
	if (!ret) {
		L.fetched++;
		L.fetched_bytes += clen;
	} else if (ret == -EBADMSG) {
		L.verify_failed++;
	}
	atomic_store_explicit(&L.state[c], ret ? C_MISSING : C_CACHED,
			      memory_order_release);
	pthread_cond_broadcast(&L.cond);
	pthread_mutex_unlock(&L.lock);
	return ret ? ret : 1;
}

/* After a read that fetched chunks @first..@last: the read-ahead window. */
static void read_ahead(struct worker *w, uint64_t first, uint64_t last)
{
	uint64_t c, end;
	uint8_t s;

	if (!L.readahead || !first)
		return;
	s = atomic_load_explicit(&L.state[first - 1], memory_order_acquire);
	if (s == C_MISSING)
		return;		/* no stream: a random access */
	end = last + L.readahead;
	if (end >= L.blob.nr_chunks)
		end = L.blob.nr_chunks - 1;
	for (c = last + 1; c <= end; c++)
		ensure_chunk(w, c, false);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct incrfs_inode_info in;
	struct worker *w = worker();
	uint64_t b, first, last, db, next, c, c0, c1;
	uint64_t fetch_first = UINT64_MAX, fetch_last = 0, need_last = 0;
	bool needed = false;
	int m, ret;

	(void)fi;
	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
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
	if (w->reply_size < size) {
		char *p = realloc(w->reply, size);

		if (!p) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		w->reply = p;
		w->reply_size = size;
	}
	first = off / INCRFS_BLOCK_SIZE;
	last = (off + size - 1) / INCRFS_BLOCK_SIZE;
	for (b = first; b <= last; b = next) {
		uint64_t from, to, k;

		m = incrfs_image_map_block(&L.img, &in, b, &db);
		if (m < 0)
			goto eio;
		/* a run: blocks b..next-1, consecutive in the data region */
		for (next = b + 1, k = 1; next <= last && !L.block_reads;
		     next++, k++) {
			uint64_t d;
			int mm = incrfs_image_map_block(&L.img, &in, next, &d);

			if (mm < 0)
				goto eio;
			if (mm != m || (m && d != db + k))
				break;
		}
		from = b * INCRFS_BLOCK_SIZE;
		if (from < (uint64_t)off)
			from = off;
		to = next * INCRFS_BLOCK_SIZE;
		if (to > off + size)
			to = off + size;
		if (m == 0) {		/* hole */
			memset(w->reply + (from - off), 0, to - from);
			continue;
		}
		if (incrfs_blob_chunk_of(&L.blob, db, &c0) ||
		    incrfs_blob_chunk_of(&L.blob, db + k - 1, &c1))
			goto eio;
		for (c = c0; c <= c1; c++) {
			ret = ensure_chunk(w, c, true);
			if (ret < 0)
				goto eio;
			if (ret && c < fetch_first)
				fetch_first = c;
			if (ret && c > fetch_last)
				fetch_last = c;
		}
		if (!needed || c1 > need_last)
			need_last = c1;
		needed = true;
		if (pread(L.cache_fd, w->reply + (from - off), to - from,
			  db * INCRFS_BLOCK_SIZE + (from - b * INCRFS_BLOCK_SIZE))
		    != (ssize_t)(to - from))
			goto eio;
	}
	fuse_reply_buf(req, w->reply, size);
	if (fetch_first != UINT64_MAX)
		read_ahead(w, fetch_first, need_last);
	if (report_now) {
		report_now = 0;
		report();
	}
	return;
eio:
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

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [--threads N | --single-thread] [--readahead N] "
		"[--unverified] [--plain] IMAGE BLOB CACHE MOUNTPOINT\n", prog);
}

static int number(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* The image's hash table, s_nr_blocks entries, into memory. */
static int load_hashes(void)
{
	size_t len = L.img.sb.nr_blocks * INCRFS_SHA256_SIZE, done;

	L.hashes = malloc(len ? len : 1);
	if (!L.hashes)
		return -ENOMEM;
	for (done = 0; done < len;) {
		ssize_t n = pread(L.img.fd, L.hashes + done, len - done,
				  (off_t)(L.img.sb.hash_off + done));

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "readahead", required_argument, NULL, 'r' },
		{ "single-thread", no_argument, NULL, 's' },
		{ "unverified", no_argument, NULL, 'u' },
		{ "plain", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *fargv[] = { argv[0], "-o", "ro,default_permissions,allow_other,"
			  "fsname=incrfs-fuse,subtype=incrfs-fuse", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_loop_config *cfg;
	struct fuse_session *se;
	int fd, ret, opt;

	while ((opt = getopt_long(argc, argv, "t:r:suph", lopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (number(optarg, 64, &L.threads) || !L.threads)
				return die("--threads", "not a number from 1 to 64");
			break;
		case 'r':
			if (number(optarg, 4096, &L.readahead))
				return die("--readahead", "not a number from 0 to 4096");
			break;
		case 's':
			L.threads = 1;
			break;
		case 'u':
			L.verify = false;
			break;
		case 'p':
			L.verify = false;
			L.threads = 1;
			L.readahead = 0;
			L.block_reads = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 4) {
		usage(stderr);
		return 2;
	}
	argv += optind;
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return die(argv[0], strerror(errno));
	if (incrfs_image_open(&L.img, fd))
		return die(argv[0], L.img.err);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return die(argv[1], strerror(errno));
	if (incrfs_blob_open(&L.blob, fd))
		return die(argv[1], L.blob.err);
	if (L.blob.nr_blocks != L.img.sb.nr_blocks)
		return die(argv[1], "its block count is not the image's");
	if (L.verify && (ret = load_hashes()))
		return die("the image's hash table", strerror(-ret));
	L.cache_fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (L.cache_fd < 0)
		return die(argv[2], strerror(errno));
	L.state = calloc(L.blob.nr_chunks + 1, sizeof(*L.state));
	L.chunk_size = (size_t)L.blob.chunk_blocks * INCRFS_BLOCK_SIZE;
	if (!L.state)
		return die("memory", strerror(ENOMEM));
	if (pthread_key_create(&L.key, worker_free))
		return die("pthread_key_create", "failed");
	signal(SIGUSR1, on_usr1);
	fprintf(stderr, "%s: %s, %u thread%s, read-ahead %u chunks, %s\n",
		prog, L.verify ? "verifying" : "unverified", L.threads,
		L.threads > 1 ? "s" : "", L.readahead,
		L.block_reads ? "one pread per 4 KiB" : "one pread per run");

	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		return die("fuse_session_new", "failed");
	if (fuse_set_signal_handlers(se))
		return die("signal handlers", "failed");
	if (fuse_session_mount(se, argv[3]))
		return die(argv[3], "mount failed");
	if (L.threads == 1) {
		ret = fuse_session_loop(se);
	} else {
		cfg = fuse_loop_cfg_create();
		if (!cfg)
			return die("fuse_loop_cfg_create", "failed");
		fuse_loop_cfg_set_max_threads(cfg, L.threads);
		fuse_loop_cfg_set_idle_threads(cfg, L.threads);
		ret = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	report();
	return ret ? 1 : 0;
}
