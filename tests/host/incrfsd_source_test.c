// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_source_test.c - the blob side of incrfsd, without a kernel:
 * the io_uring file source (ranges in flight, depth limit, eventfd,
 * end-of-file and open errors), fetching a blob's header and index
 * through it, and the fetcher decoding a chunk (its FILL then fails with
 * ENOTTY on a non-incrfs fd, which shows the decode went through) or
 * rejecting a corrupt one.
 *
 * Built alone by tests/run-host.sh, so it compiles the units under test
 * itself; the blobs come from the tools/lib writer.
 */
#include "tests/kselftest/harness.h"

#include <poll.h>
#include <sys/stat.h>

#include "tools/incrfsd/blobmeta.c"
#include "tools/incrfsd/fetcher.c"
#include "tools/incrfsd/fill.c"
#include "tools/incrfsd/source.c"
#include "tools/incrfsd/source_file.c"
#include "tools/lib/curl_lib.c"
#include "tools/lib/registry_creds.c"
#include "tools/lib/registry_auth.c"
#include "tools/incrfsd/privileges.c"
#include "tools/incrfsd/source_http.c"	/* source.c lists it */
#include "tools/incrfsd/log.c"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "writer.h"
#include "image.h"

#define FILE_BYTES (1 << 20)

/* A temporary directory holding "data" (FILE_BYTES of pattern). */
FIXTURE(tmp) {
	char dir[64];
	char data[96];
	unsigned char *bytes;
};

static void pattern(unsigned char *b, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)(x | 1);	/* no all-zero block */
	}
}

static int write_all(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, buf, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

FIXTURE_SETUP(tmp)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/incrfsd-src.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(self->dir));
	snprintf(self->data, sizeof(self->data), "%s/data", self->dir);
	self->bytes = malloc(FILE_BYTES);
	ASSERT_NOT_NULL(self->bytes);
	pattern(self->bytes, FILE_BYTES, 1);
	ASSERT_EQ(0, write_all(self->data, self->bytes, FILE_BYTES));
}

FIXTURE_TEARDOWN(tmp)
{
	char cmd[128];

	free(self->bytes);
	if (self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			TH_LOG("cleanup of %s failed", self->dir);
	}
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

TEST_F(tmp, reads_ranges_in_flight)
{
	struct incrfsd_read_done done[8];
	struct incrfsd_source src;
	static unsigned char buf[4][65536];
	static const uint64_t offs[4] = { 0, 4096 * 3 + 17, 500000,
					  FILE_BYTES - 65536 };
	int cookies[4] = { 0, 1, 2, 3 }, seen[4] = { 0 };
	int i, n, got = 0;

	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 4)) TH_LOG("%s", src.err);
	ASSERT_STREQ("file", src.ops->name);
	ASSERT_EQ(FILE_BYTES, src.size);
	ASSERT_GE(src.event_fd, 0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, src.ops->read(&src, offs[i], sizeof(buf[i]), buf[i],
					   i & 1 ? INCRFSD_READ_IDLE : 0,
					   &cookies[i]));
	ASSERT_EQ(4, src.inflight);
	/* the depth is full */
	ASSERT_EQ(-EBUSY, src.ops->read(&src, 0, 1, buf[0], 0, NULL));
	while (got < 4) {
		ASSERT_TRUE(readable(src.event_fd, 5000));
		n = src.ops->reap(&src, done, 8, false);
		ASSERT_GE(n, 0);
		for (i = 0; i < n; i++) {
			int k = *(int *)done[i].cookie;

			ASSERT_EQ(0, done[i].err);
			ASSERT_EQ(0, seen[k]);
			seen[k] = 1;
			ASSERT_EQ(0, memcmp(buf[k], self->bytes + offs[k],
					    sizeof(buf[k])));
		}
		got += n;
	}
	ASSERT_EQ(0, src.inflight);
	/* nothing left: reap does not block even with wait */
	ASSERT_EQ(0, src.ops->reap(&src, done, 8, true));
	incrfsd_source_close(&src);
}

/* The ring reads and nothing else: a write or an open is refused. */
TEST_F(tmp, the_ring_only_reads)
{
	struct incrfsd_source src;
	struct file_source *fs;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	static char buf[16] = "overwritten?";
	int fd;

	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 4)) TH_LOG("%s", src.err);
	fs = src.priv;
	if (!fs->ring_ok)
		SKIP(incrfsd_source_close(&src); return,
		     "io_uring is not allowed on this host");
	ASSERT_TRUE(fs->ring_disabled) TH_LOG("no IORING_SETUP_R_DISABLED");
	fd = open(self->data, O_WRONLY);
	ASSERT_GE(fd, 0);
	sqe = io_uring_get_sqe(&fs->ring);
	ASSERT_NOT_NULL(sqe);
	io_uring_prep_write(sqe, fd, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&fs->ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&fs->ring, &cqe));
	EXPECT_EQ(-EACCES, cqe->res);
	io_uring_cqe_seen(&fs->ring, cqe);
	/* nothing was written, and registering more is refused */
	EXPECT_EQ(-1, syscall(__NR_io_uring_register, fs->ring.ring_fd,
			      IORING_REGISTER_FILES, &fd, 1));
	EXPECT_EQ(EACCES, errno);
	close(fd);
	incrfsd_source_close(&src);
	fd = open(self->data, O_RDONLY);
	ASSERT_EQ(sizeof(buf), read(fd, buf, sizeof(buf)));
	close(fd);
	EXPECT_EQ(0, memcmp(buf, self->bytes, sizeof(buf)));
}

TEST_F(tmp, reap_leaves_the_eventfd_set_for_the_rest)
{
	struct incrfsd_read_done done[4];
	struct incrfsd_source src;
	static unsigned char buf[3][4096];
	int i;

	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 3));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, src.ops->read(&src, 4096 * i, 4096, buf[i], 0, NULL));
	/* wait for all three to finish, then take only one */
	ASSERT_EQ(1, src.ops->reap(&src, done, 1, true));
	while (io_uring_cq_ready(&((struct file_source *)src.priv)->ring) < 2)
		usleep(1000);
	ASSERT_EQ(1, src.ops->reap(&src, done, 1, false));
	/* one is still there: epoll must hear of it */
	ASSERT_TRUE(readable(src.event_fd, 0));
	ASSERT_EQ(1, src.ops->reap(&src, done, 4, false));
	ASSERT_EQ(0, done[0].err);
	ASSERT_EQ(0, memcmp(buf[2], self->bytes + 8192, 4096));
	incrfsd_source_close(&src);
}

TEST_F(tmp, end_of_file_and_empty_reads)
{
	struct incrfsd_source src;
	unsigned char buf[8192];

	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 2));
	/* a range running past the end fails, not short */
	ASSERT_EQ(-EIO, incrfsd_source_read_sync(&src, FILE_BYTES - 4096,
						  8192, buf));
	ASSERT_EQ(-EIO, incrfsd_source_read_sync(&src, FILE_BYTES, 1, buf));
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, FILE_BYTES - 1, 1, buf));
	ASSERT_EQ(self->bytes[FILE_BYTES - 1], buf[0]);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 5, 0, buf));
	ASSERT_EQ(-EINVAL, src.ops->read(&src, UINT64_MAX, 2, buf, 0, NULL));
	ASSERT_EQ(0, src.inflight);
	incrfsd_source_close(&src);
}

/* An epoll loop must not wake for results already taken (it would spin). */
TEST_F(tmp, eventfd_clear_after_synchronous_reads)
{
	struct incrfsd_read_done done[2];
	struct incrfsd_source src;
	unsigned char buf[4096];
	int i;

	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 2));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, incrfsd_source_read_sync(&src, i * 4096, 4096, buf));
	ASSERT_FALSE(readable(src.event_fd, 0));
	/* and a reap with nothing in flight clears a stale signal */
	ASSERT_EQ(0, eventfd_write(src.event_fd, 1));
	ASSERT_TRUE(readable(src.event_fd, 0));
	ASSERT_EQ(0, src.ops->reap(&src, done, 2, false));
	ASSERT_FALSE(readable(src.event_fd, 0));
	ASSERT_EQ(0, src.ops->reap(&src, done, 2, true));	/* no block */
	incrfsd_source_close(&src);
}

/*
 * io_uring refused as a container's seccomp profile or the
 * kernel.io_uring_disabled sysctl refuse it: the source falls back to
 * pread() with the same results, through the same eventfd.  (Each test
 * runs in its own child: the filter stays there.)
 */
TEST_F(tmp, without_io_uring_reads_with_pread)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = insns };
	struct incrfsd_read_done done[4];
	struct incrfsd_source src;
	static unsigned char buf[3][65536];
	int cookies[3] = { 0, 1, 2 }, i, n;

	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	ASSERT_EQ(0, prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 2)) TH_LOG("%s", src.err);
	ASSERT_FALSE(((struct file_source *)src.priv)->ring_ok);
	ASSERT_EQ(0, src.ops->read(&src, 0, 65536, buf[0], 0, &cookies[0]));
	ASSERT_EQ(0, src.ops->read(&src, FILE_BYTES - 65536, 65536, buf[1],
				   INCRFSD_READ_IDLE, &cookies[1]));
	/* the depth holds as with io_uring */
	ASSERT_EQ(-EBUSY, src.ops->read(&src, 0, 1, buf[2], 0, NULL));
	ASSERT_TRUE(readable(src.event_fd, 0));
	/* one at a time: the eventfd stays set for the other */
	ASSERT_EQ(1, src.ops->reap(&src, done, 1, false));
	ASSERT_TRUE(readable(src.event_fd, 0));
	ASSERT_EQ(1, src.ops->reap(&src, done + 1, 3, true));
	ASSERT_FALSE(readable(src.event_fd, 0));
	for (i = 0; i < 2; i++) {
		int k = *(int *)done[i].cookie;

		ASSERT_EQ(k, i);	/* in the order asked */
		ASSERT_EQ(0, done[i].err);
	}
	ASSERT_EQ(0, memcmp(buf[0], self->bytes, 65536));
	ASSERT_EQ(0, memcmp(buf[1], self->bytes + FILE_BYTES - 65536, 65536));
	/* past the end: -EIO, as with io_uring */
	ASSERT_EQ(0, src.ops->read(&src, FILE_BYTES - 10, 20, buf[2], 0,
				   &cookies[2]));
	n = src.ops->reap(&src, done, 4, true);
	ASSERT_EQ(1, n);
	ASSERT_EQ(-EIO, done[0].err);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 4096, 4096, buf[2]));
	ASSERT_EQ(0, memcmp(buf[2], self->bytes + 4096, 4096));
	ASSERT_EQ(0, src.inflight);
	incrfsd_source_close(&src);
}

TEST_F(tmp, locations)
{
	struct incrfsd_source src;
	char url[128];

	snprintf(url, sizeof(url), "file://%s", self->data);
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 1));
	ASSERT_EQ(FILE_BYTES, src.size);
	incrfsd_source_close(&src);

	snprintf(url, sizeof(url), "%s/none", self->dir);
	ASSERT_EQ(-ENOENT, incrfsd_source_open(&src, url, 1));
	ASSERT_NOT_NULL(strstr(src.err, "none: cannot open: No such file"));
	incrfsd_source_close(&src);

	ASSERT_EQ(-EINVAL, incrfsd_source_open(&src, self->dir, 1));
	ASSERT_NOT_NULL(strstr(src.err, "not a regular file"));
	incrfsd_source_close(&src);

	ASSERT_EQ(-EPROTONOSUPPORT,
		  incrfsd_source_open(&src, "gopher://example.invalid/b", 1));
	ASSERT_NOT_NULL(strstr(src.err, "unsupported source"));
	incrfsd_source_close(&src);

	/* depth 0: the kind's default */
	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 0));
	EXPECT_EQ(incrfsd_file_source.default_depth, src.depth);
	EXPECT_LT(0, src.depth);
	incrfsd_source_close(&src);
}

/* Pack one file of @size pattern bytes into dir/img + dir/blob. */
static int make_blob(const char *dir, const unsigned char *data, size_t size,
		     uint32_t chunk_blocks)
{
	struct incrfs_wattr root = { .mode = 040755 };
	struct incrfs_wattr file = { .mode = 0100644 };
	struct incrfs_write_opts o = { .chunk_blocks = chunk_blocks };
	struct incrfs_writer *w = incrfs_writer_new(&root);
	struct incrfs_wnode *n;
	char path[128];
	int ret = -1;

	if (!w)
		return -1;
	n = incrfs_writer_add(w, incrfs_writer_root(w), "f", &file);
	if (!n || incrfs_writer_set_data(w, n, data, size))
		goto out;
	snprintf(path, sizeof(path), "%s/img", dir);
	o.image_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	snprintf(path, sizeof(path), "%s/blob", dir);
	o.blob_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (o.image_fd >= 0 && o.blob_fd >= 0)
		ret = incrfs_writer_write(w, &o);
	if (ret)
		fprintf(stderr, "# writer: %s\n", incrfs_writer_error(w));
	close(o.image_fd);
	close(o.blob_fd);
out:
	incrfs_writer_free(w);
	return ret;
}

TEST_F(tmp, blob_meta_through_the_source)
{
	struct incrfsd_source src;
	struct incrfs_image img;
	struct blob_meta m;
	struct incrfs_blob b;
	char path[128], err[512];
	int fd;

	/* 100 blocks + 1 byte: 101 blocks, chunks of 8: 13 chunks */
	ASSERT_EQ(0, make_blob(self->dir, self->bytes, 100 * 4096 + 1, 8));
	snprintf(path, sizeof(path), "%s/blob", self->dir);
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 2));
	ASSERT_EQ(0, blob_meta_fetch(&m, &src, NULL, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(13 * 16, m.index_len);
	ASSERT_EQ(0, blob_meta_parse(&m, &b)) TH_LOG("%s", b.err);
	ASSERT_EQ(101, b.nr_blocks);
	ASSERT_EQ(8, b.chunk_blocks);
	ASSERT_EQ(13, b.nr_chunks);
	/* the image it came with has the same root hash */
	snprintf(path, sizeof(path), "%s/img", self->dir);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, incrfs_image_open(&img, fd)) TH_LOG("%s", img.err);
	ASSERT_EQ(0, memcmp(img.sb.root_hash, b.root_hash, INCRFS_HASH_SIZE));
	ASSERT_EQ(img.sb.nr_blocks, b.nr_blocks);
	incrfs_image_close(&img);
	close(fd);
	incrfs_blob_close(&b);
	blob_meta_free(&m);
	incrfsd_source_close(&src);
}

TEST_F(tmp, blob_meta_rejects_what_is_not_a_blob)
{
	struct incrfsd_source src;
	struct blob_meta m;
	char path[128], err[512];

	/* pattern bytes: no magic */
	ASSERT_EQ(0, incrfsd_source_open(&src, self->data, 2));
	ASSERT_EQ(-EUCLEAN, blob_meta_fetch(&m, &src, NULL, err, sizeof(err)));
	ASSERT_NOT_NULL(strstr(err, "not a valid blob: bad blob magic")) TH_LOG("%s", err);
	incrfsd_source_close(&src);

	/* too short for a header */
	snprintf(path, sizeof(path), "%s/short", self->dir);
	ASSERT_EQ(0, write_all(path, "INCB", 4));
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 2));
	ASSERT_EQ(-EUCLEAN, blob_meta_fetch(&m, &src, NULL, err, sizeof(err)));
	ASSERT_NOT_NULL(strstr(err, "not a blob: only 4 bytes")) TH_LOG("%s", err);
	incrfsd_source_close(&src);

	/* a real blob cut short inside its index */
	ASSERT_EQ(0, make_blob(self->dir, self->bytes, 64 * 4096, 4));
	snprintf(path, sizeof(path), "%s/blob", self->dir);
	ASSERT_EQ(0, truncate(path, 128 + 8));
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 2));
	ASSERT_EQ(-EUCLEAN, blob_meta_fetch(&m, &src, NULL, err, sizeof(err)));
	ASSERT_NOT_NULL(strstr(err, "not a valid blob")) TH_LOG("%s", err);
	incrfsd_source_close(&src);
}

/*
 * A header of another image is refused before its index is allocated or
 * read: with the index cut off, the answer is still "another image".
 */
TEST_F(tmp, blob_meta_refuses_another_image_before_its_index)
{
	struct blob_want want = { .nr_blocks = 101 };
	struct incrfsd_source src;
	struct incrfs_blob b;
	struct blob_meta m;
	char path[128], err[512], junk[16];
	struct stat st;
	int fd;

	ASSERT_EQ(0, make_blob(self->dir, self->bytes, 100 * 4096 + 1, 8));
	snprintf(path, sizeof(path), "%s/blob", self->dir);
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 2));
	ASSERT_EQ(0, blob_meta_fetch(&m, &src, NULL, err, sizeof(err)));
	ASSERT_EQ(0, blob_meta_parse(&m, &b));
	memcpy(want.root_hash, b.root_hash, INCRFS_HASH_SIZE);
	incrfs_blob_close(&b);
	blob_meta_free(&m);
	/* the right image: fetched */
	ASSERT_EQ(0, blob_meta_fetch(&m, &src, &want, err, sizeof(err)))
		TH_LOG("%s", err);
	blob_meta_free(&m);
	/* another block count, another root hash: refused, nothing kept */
	want.nr_blocks = 100;
	ASSERT_EQ(-EXDEV, blob_meta_fetch(&m, &src, &want, err, sizeof(err)));
	EXPECT_NOT_NULL(strstr(err, "101 data blocks")) TH_LOG("%s", err);
	EXPECT_NULL(m.index);
	want.nr_blocks = 101;
	want.root_hash[0] ^= 1;
	ASSERT_EQ(-EXDEV, blob_meta_fetch(&m, &src, &want, err, sizeof(err)));
	incrfsd_source_close(&src);
	/* a damaged index (its last entry, at the blob's end): judged by
	 * the header alone, before the index is looked at */
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fstat(fd, &st));
	memset(junk, 0xff, sizeof(junk));
	ASSERT_EQ(16, pwrite(fd, junk, 16, st.st_size - 16));
	close(fd);
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 2));
	ASSERT_EQ(-EUCLEAN, blob_meta_fetch(&m, &src, NULL, err, sizeof(err)));
	ASSERT_EQ(-EXDEV, blob_meta_fetch(&m, &src, &want, err, sizeof(err)));
	EXPECT_NULL(m.index);
	incrfsd_source_close(&src);
}

/* Fetch chunk @c with a fetcher whose "control fd" is /dev/null. */
static int fetch_one(const char *blob, uint64_t c, struct fetcher *f,
		     struct fetch_done *d, struct blob_meta *m, int nullfd)
{
	struct incrfsd_source src;
	char err[512];
	int n;

	if (incrfsd_source_open(&src, blob, 4) ||
	    blob_meta_fetch(m, &src, NULL, err, sizeof(err)) ||
	    fetcher_init(f, &src, m, 4, nullfd, 0, 0))
		return -1;
	if (fetcher_start(f, c, 7, FETCH_FILL_ALL, false))
		return -1;
	n = fetcher_reap(f, true, d, 1);
	return n == 1 ? 0 : -1;
}

/* A source opened again that is not the blob first fetched is refused. */
TEST_F(tmp, fetcher_refuses_a_blob_that_changed)
{
	struct incrfsd_source src;
	struct blob_meta m;
	struct fetcher f;
	char path[128], err[512];
	int fd;

	ASSERT_EQ(0, make_blob(self->dir, self->bytes, 100 * 4096 + 1, 8));
	snprintf(path, sizeof(path), "%s/blob", self->dir);
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 2));
	ASSERT_EQ(0, blob_meta_fetch(&m, &src, NULL, err, sizeof(err)));
	incrfsd_source_close(&src);
	fd = open(path, O_WRONLY | O_APPEND);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4, write(fd, "more", 4));
	close(fd);
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 2));
	EXPECT_EQ(-ESTALE, fetcher_init(&f, &src, &m, 2, -1, 0, 0));
	EXPECT_NOT_NULL(strstr(f.err, "the blob changed")) TH_LOG("%s", f.err);
	blob_meta_free(&m);
}

TEST_F(tmp, fetcher_decodes_a_chunk)
{
	struct fetch_done d;
	struct blob_meta m;
	struct fetcher f;
	char path[128];
	int nullfd = open("/dev/null", O_RDWR);

	ASSERT_GE(nullfd, 0);
	ASSERT_EQ(0, make_blob(self->dir, self->bytes, 50 * 4096, 16));
	snprintf(path, sizeof(path), "%s/blob", self->dir);
	/* chunk 3 is the short last one: blocks 48, 49 */
	ASSERT_EQ(0, fetch_one(path, 3, &f, &d, &m, nullfd));
	ASSERT_EQ(3, d.chunk);
	ASSERT_EQ(7, d.tag);
	/* decoded fine; the FILL ioctl is what failed */
	ASSERT_EQ(-ENOTTY, d.err);
	ASSERT_STREQ("", d.why);
	ASSERT_EQ(0, memcmp(f.dbuf, self->bytes + 48 * 4096, 2 * 4096));
	ASSERT_EQ(0, f.busy);
	/* a chunk beyond the blob cannot even start */
	ASSERT_EQ(-ERANGE, fetcher_start(&f, 4, 0, FETCH_FILL_ALL, false));
	fetcher_destroy(&f);
	blob_meta_free(&m);
	close(nullfd);
}

TEST_F(tmp, fetcher_rejects_a_corrupt_chunk)
{
	struct incrfs_chunk_info ci;
	struct fetch_done d;
	struct blob_meta m;
	struct fetcher f;
	char path[128];
	int nullfd = open("/dev/null", O_RDWR), fd;

	ASSERT_GE(nullfd, 0);
	ASSERT_EQ(0, make_blob(self->dir, self->bytes, 50 * 4096, 16));
	snprintf(path, sizeof(path), "%s/blob", self->dir);
	ASSERT_EQ(0, fetch_one(path, 1, &f, &d, &m, nullfd));
	ASSERT_EQ(0, incrfs_blob_chunk(&f.blob, 1, &ci));
	fetcher_destroy(&f);
	blob_meta_free(&m);
	/* break the zstd frame magic of chunk 1 */
	fd = open(path, O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4, pwrite(fd, "XXXX", 4, (off_t)ci.off));
	close(fd);
	ASSERT_EQ(0, fetch_one(path, 1, &f, &d, &m, nullfd));
	ASSERT_EQ(-EUCLEAN, d.err);
	ASSERT_NOT_NULL(strstr(d.why, "chunk 1")) TH_LOG("%s", d.why);
	fetcher_destroy(&f);
	blob_meta_free(&m);
	close(nullfd);
}

TEST_F(tmp, fetcher_depth_bounded_by_memory)
{
	struct incrfsd_source src;
	struct blob_meta m;
	struct fetcher f;
	char path[128], err[512];

	/* 64 MiB chunks: only 4 fit in FETCHER_MEMORY_MAX */
	ASSERT_EQ(0, make_blob(self->dir, self->bytes, 4096, 16384));
	snprintf(path, sizeof(path), "%s/blob", self->dir);
	ASSERT_EQ(0, incrfsd_source_open(&src, path, 64));
	ASSERT_EQ(0, blob_meta_fetch(&m, &src, NULL, err, sizeof(err)));
	ASSERT_EQ(0, fetcher_init(&f, &src, &m, 64, -1, 0, 0)) TH_LOG("%s", f.err);
	ASSERT_EQ(4, f.nslots);
	ASSERT_EQ(NULL, src.ops);	/* the fetcher owns the source now */
	/* nothing in flight: reaping reports nothing and leaves the
	 * eventfd quiet, whatever the header and index reads left */
	ASSERT_EQ(0, eventfd_write(f.src.event_fd, 1));
	ASSERT_EQ(0, fetcher_reap(&f, false, NULL, 0));
	ASSERT_FALSE(readable(f.src.event_fd, 0));
	ASSERT_EQ(0, fetcher_reap(&f, true, NULL, 0));
	fetcher_destroy(&f);
	blob_meta_free(&m);
}

TEST_HARNESS_MAIN
