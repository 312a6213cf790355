// SPDX-License-Identifier: GPL-2.0-only
/*
 * scale_test.c - incrfs at scale and under stress: a 1 TiB file, 100 000
 * files, 1 000 concurrent waiters, umount while readers wait and while a
 * feeder holds the control fd.
 *
 * Why this exists: the functional tests use small images; a file system is
 * trusted only once it behaves at the sizes and concurrency it will meet.
 * The 1 TiB image cannot come from the packer (its source would be 1 TiB
 * of data and its hash table 8 GiB), so it is written here by hand from
 * the uapi structs as a sparse file: only the super block, two inodes, the
 * metadata and the hash entries of the few blocks the test fills are
 * written.  The other images come from tools/lib/writer.h.  Numbers
 * (mount time, memory) are printed, never asserted beyond sanity bounds.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/statfs.h>
#include <time.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"
#include "sha256.h"
#include "writer.h"
#include "image.h"

#define TOP	"/tmp/scale"
#define BS	4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A /proc/meminfo field in KiB, or -1. */
static long meminfo(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = atol(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

/* Memory in use (KiB) with the caches that reclaim freely set aside. */
static long used_kib(void)
{
	iu_sh("sync; echo 3 > /proc/sys/vm/drop_caches");
	return meminfo("MemTotal") - meminfo("MemAvailable");
}

static int fill_blocks(int cfd, const uint64_t *blocks, unsigned char *data,
		       uint32_t n, uint32_t flags)
{
	struct incrfs_fill_block fb[64];
	struct incrfs_fill f = { 0 };
	uint32_t i;

	if (n > 64)
		return -1;
	for (i = 0; i < n; i++)
		fb[i] = (struct incrfs_fill_block){
			.ino = 0, .block = blocks[i],
			.data = (uintptr_t)(data + (size_t)i * BS), .len = BS,
		};
	f.blocks = (uintptr_t)fb;
	f.count = n;
	f.flags = flags;
	if (ioctl(cfd, INCRFS_IOC_FILL, &f))
		return -1;
	for (i = 0; i < n; i++)
		if (fb[i].result)
			return fb[i].result;
	return 0;
}

/* ---- a file of 1 TiB: 2^28 data blocks, four of them filled ---- */

#define TIB_IMG		TOP "/tib.img"
#define TIB_MNT		TOP "/tib"
#define TIB_SIZE	(1ULL << 40)
#define TIB_BLOCKS	(TIB_SIZE / BS)
#define TIB_BITMAP_KIB	((long)(TIB_BLOCKS / 8 / 1024))	/* one bit a block */
static const uint64_t tib_filled[] = { 0, 1000, TIB_BLOCKS / 2,
				       TIB_BLOCKS - 1 };

static void tib_content(uint64_t block, unsigned char *buf)
{
	iu_fill_pattern(buf, BS, (unsigned int)(block * 7 + 3));
}

/* Writes the image by hand: super, root + one file, a directory record
 * and an extent, and hash entries only for the blocks in tib_filled. */
static int write_tib_image(void)
{
	struct incrfs_super_block sb = { 0 };
	struct incrfs_inode ino[2] = { 0 };
	unsigned char meta[48] = { 0 }, buf[BS], hash[INCRFS_HASH_SIZE];
	struct incrfs_dirent de = { 0 };
	struct incrfs_extent ext = { 0 };
	uint64_t hash_off = 3 * BS, bitmap_off, data_off, i;
	int fd, ret = -1;

	bitmap_off = hash_off + TIB_BLOCKS * INCRFS_HASH_SIZE;
	data_off = bitmap_off + TIB_BLOCKS / 8;

	de.d_ino = htole64(2);
	de.d_nameoff = htole32(sizeof(de));
	de.d_namelen = htole16(3);
	de.d_type = DT_REG;
	memcpy(meta, &de, sizeof(de));
	memcpy(meta + sizeof(de), "big", 3);
	ext.e_lblk = 0;
	ext.e_pblk = 0;
	ext.e_len = htole32(TIB_BLOCKS);
	memcpy(meta + 24, &ext, sizeof(ext));

	ino[0].i_mode = htole16(S_IFDIR | 0755);
	ino[0].i_nlink = htole32(2);
	ino[0].i_size = htole64(19);
	ino[0].i_meta_off = 0;
	ino[0].i_meta_len = htole32(19);
	ino[0].i_meta_count = htole32(1);
	ino[0].i_parent = htole64(1);
	ino[1].i_mode = htole16(S_IFREG | 0644);
	ino[1].i_nlink = htole32(1);
	ino[1].i_size = htole64(TIB_SIZE);
	ino[1].i_meta_off = htole64(24);
	ino[1].i_meta_len = htole32(sizeof(ext));
	ino[1].i_meta_count = htole32(1);
	ino[1].i_first_block = 0;
	ino[1].i_nr_blocks = htole64(TIB_BLOCKS);

	sb.s_magic = htole32(INCRFS_SUPER_MAGIC);
	sb.s_major = htole16(INCRFS_MAJOR);
	sb.s_minor = htole16(INCRFS_MINOR);
	sb.s_blkszbits = INCRFS_BLOCK_BITS;
	sb.s_inode_size = htole32(sizeof(struct incrfs_inode));
	sb.s_inode_count = htole64(2);
	sb.s_root_ino = htole64(INCRFS_ROOT_INO);
	sb.s_image_size = htole64(data_off + TIB_SIZE);
	sb.s_inode_off = htole64(BS);
	sb.s_meta_off = htole64(2 * BS);
	sb.s_meta_size = htole64(sizeof(meta));
	sb.s_hash_off = htole64(hash_off);
	sb.s_bitmap_off = htole64(bitmap_off);
	sb.s_bitmap_size = htole64(TIB_BLOCKS / 8);
	sb.s_data_off = htole64(data_off);
	sb.s_nr_blocks = htole64(TIB_BLOCKS);
	/* s_root_hash would be the SHA-256 of 8 GiB: only a feeder checks
	 * it, and this test has its own feeder */
	sb.s_checksum = htole32(incrfs_super_checksum(&sb));

	fd = open(TIB_IMG, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, data_off + TIB_SIZE) ||
	    pwrite(fd, &sb, sizeof(sb), 0) != sizeof(sb) ||
	    pwrite(fd, ino, sizeof(ino), BS) != sizeof(ino) ||
	    pwrite(fd, meta, sizeof(meta), 2 * BS) != sizeof(meta))
		goto out;
	for (i = 0; i < sizeof(tib_filled) / sizeof(tib_filled[0]); i++) {
		tib_content(tib_filled[i], buf);
		if (incrfs_sha256(buf, BS, hash) ||
		    pwrite(fd, hash, sizeof(hash),
			   hash_off + tib_filled[i] * INCRFS_HASH_SIZE) !=
		    sizeof(hash))
			goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

TEST_TIMEOUT(tib_file, 180)
{
	unsigned char buf[BS], want[BS], two[2 * BS];
	long before, mounted, after;
	struct statfs sfs;
	struct stat st;
	uint64_t i;
	int fd, cfd;

	ASSERT_EQ(0, iu_sh("mkdir -p " TOP));
	ASSERT_EQ(0, write_tib_image());
	before = used_kib();
	ASSERT_EQ(0, iu_mount(TIB_IMG, TIB_MNT, "timeout=300"))
		TH_LOG("mount: %s", strerror(errno));
	mounted = used_kib();
	TH_LOG("1 TiB file: memory in use %ld KiB more after mount "
	       "(the bitmap is %llu KiB)", mounted - before,
	       (unsigned long long)TIB_BLOCKS / 8 / 1024);
	/* one copy of the bitmap: no second per-block array for commits */
	EXPECT_LT(mounted - before, TIB_BITMAP_KIB * 5 / 4);

	ASSERT_EQ(0, stat(TIB_MNT "/big", &st));
	EXPECT_EQ(TIB_SIZE, (uint64_t)st.st_size);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(0, statfs(TIB_MNT, &sfs));
	EXPECT_EQ(TIB_BLOCKS, (uint64_t)sfs.f_blocks);

	cfd = iu_open_control(TIB_MNT);
	ASSERT_GE(cfd, 0);
	for (i = 0; i < sizeof(tib_filled) / sizeof(tib_filled[0]); i++) {
		tib_content(tib_filled[i], buf);
		ASSERT_EQ(0, fill_blocks(cfd, &tib_filled[i], buf, 1, 0))
			TH_LOG("fill of block %llu: %s",
			       (unsigned long long)tib_filled[i],
			       strerror(errno));
	}
	/* a wrong block is refused, and the block stays missing */
	memset(buf, 0x5a, BS);
	i = 12345;
	EXPECT_EQ(-EBADMSG, fill_blocks(cfd, &i, buf, 1, 0));
	close(cfd);

	fd = open(TIB_MNT "/big", O_RDONLY);
	ASSERT_GE(fd, 0);
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	for (i = 0; i < sizeof(tib_filled) / sizeof(tib_filled[0]); i++) {
		tib_content(tib_filled[i], want);
		EXPECT_EQ(BS, pread(fd, buf, BS, tib_filled[i] * BS));
		EXPECT_EQ(0, memcmp(buf, want, BS))
			TH_LOG("block %llu: wrong content",
			       (unsigned long long)tib_filled[i]);
	}
	/* missing blocks, in the middle and next to present ones: the
	 * timeout, ETIMEDOUT */
	errno = 0;
	EXPECT_EQ(-1, pread(fd, buf, BS, 12345ULL * BS));
	EXPECT_EQ(ETIMEDOUT, errno);
	errno = 0;
	EXPECT_EQ(-1, pread(fd, buf, BS, (TIB_BLOCKS - 2) * BS));
	EXPECT_EQ(ETIMEDOUT, errno);
	/* a read across the end stops at the end; past it: 0 */
	EXPECT_EQ(BS, pread(fd, two, sizeof(two), TIB_SIZE - BS));
	EXPECT_EQ(0, pread(fd, buf, BS, TIB_SIZE));
	EXPECT_EQ(0, pread(fd, buf, BS, TIB_SIZE + 12345 * BS));
	close(fd);

	after = used_kib();
	TH_LOG("1 TiB file: memory in use %ld KiB more after the reads",
	       after - before);
	/* bounded: the 32 MiB bitmap and a little, never per-block state */
	EXPECT_LT(after - before, TIB_BITMAP_KIB * 5 / 4);
	EXPECT_EQ(0, umount(TIB_MNT));
	unlink(TIB_IMG);
}

/* ---- 100 000 files ---- */

#define MANY_IMG	TOP "/many.img"
#define MANY_MNT	TOP "/many"
#define MANY_DIRS	100
#define MANY_PER_DIR	1000

TEST_TIMEOUT(hundred_thousand_files, 300)
{
	struct incrfs_wattr dattr = { .mode = S_IFDIR | 0755, .mtime = 1 };
	struct incrfs_wattr fattr = { .mode = S_IFREG | 0644, .mtime = 1 };
	struct incrfs_write_opts o = { .blob_fd = -1, .mkfs_time = 1 };
	struct incrfs_writer *w;
	long slab0, slab1, used0, used1;
	double t0, t_mount, t_find;
	char name[32];
	int d, i, n = -1;
	struct stat st;
	FILE *p;

	ASSERT_EQ(0, iu_sh("mkdir -p " TOP));
	w = incrfs_writer_new(&dattr);
	ASSERT_NOT_NULL(w);
	for (d = 0; d < MANY_DIRS; d++) {
		struct incrfs_wnode *dir;

		snprintf(name, sizeof(name), "d%03d", d);
		dir = incrfs_writer_add(w, incrfs_writer_root(w), name, &dattr);
		ASSERT_NOT_NULL(dir);
		for (i = 0; i < MANY_PER_DIR; i++) {
			snprintf(name, sizeof(name), "file-%05d", i);
			ASSERT_NOT_NULL(incrfs_writer_add(w, dir, name, &fattr));
		}
	}
	o.image_fd = open(MANY_IMG, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(o.image_fd, 0);
	ASSERT_EQ(0, incrfs_writer_write(w, &o))
		TH_LOG("writer: %s", incrfs_writer_error(w));
	incrfs_writer_free(w);
	ASSERT_EQ(0, fstat(o.image_fd, &st));
	close(o.image_fd);

	used0 = used_kib();
	slab0 = meminfo("Slab");
	t0 = now_s();
	ASSERT_EQ(0, iu_mount(MANY_IMG, MANY_MNT, NULL));
	t_mount = now_s() - t0;
	slab1 = meminfo("Slab");
	used1 = used_kib();
	TH_LOG("100 000 files (image %lld KiB): mount took %.3f s, slab +%ld "
	       "KiB, memory in use +%ld KiB", (long long)st.st_size / 1024,
	       t_mount, slab1 - slab0, used1 - used0);
	/* Not reading every inode up front: far less than one slab object
	 * per inode (an inode costs ~1 KiB: 100 000 would be ~100 MiB). */
	EXPECT_LT(slab1 - slab0, 8L * 1024);

	t0 = now_s();
	p = popen("find " MANY_MNT " | wc -l", "r");
	ASSERT_NOT_NULL(p);
	EXPECT_EQ(1, fscanf(p, "%d", &n));
	pclose(p);
	t_find = now_s() - t0;
	TH_LOG("find | wc -l: %d entries in %.2f s, slab +%ld KiB after",
	       n, t_find, meminfo("Slab") - slab0);
	EXPECT_EQ(1 + MANY_DIRS + MANY_DIRS * MANY_PER_DIR, n);
	EXPECT_EQ(0, stat(MANY_MNT "/d099/file-00999", &st));
	EXPECT_EQ(-1, stat(MANY_MNT "/d099/file-01000", &st));
	EXPECT_EQ(0, umount(MANY_MNT));
	unlink(MANY_IMG);
}

/* ---- images of NFILES files of FBLOCKS blocks: lazy and full ---- */

#define NFILES	100
#define FBLOCKS	10
#define LAZY	TOP "/w.img"
#define FULL	TOP "/w-full.img"

static void file_content(int f, unsigned char *buf, size_t len)
{
	iu_fill_pattern(buf, len, 1000 + f);
}

static int build_waiter_images(void)
{
	struct incrfs_wattr dattr = { .mode = S_IFDIR | 0755, .mtime = 1 };
	struct incrfs_wattr fattr = { .mode = S_IFREG | 0644, .mtime = 1 };
	struct incrfs_write_opts o = { .blob_fd = -1, .mkfs_time = 1 };
	unsigned char *buf = malloc(FBLOCKS * BS);
	struct incrfs_writer *w;
	int f, ret = -1, pass;
	char name[32];

	if (access(TOP "/w-ready", F_OK) == 0) {
		free(buf);
		return 0;
	}
	if (!buf || iu_sh("mkdir -p " TOP))
		goto out;
	for (pass = 0; pass < 2; pass++) {
		w = incrfs_writer_new(&dattr);
		if (!w)
			goto out;
		for (f = 0; f < NFILES; f++) {
			struct incrfs_wnode *n;

			snprintf(name, sizeof(name), "f%03d", f);
			n = incrfs_writer_add(w, incrfs_writer_root(w), name,
					      &fattr);
			file_content(f, buf, FBLOCKS * BS);
			if (!n || incrfs_writer_set_data(w, n, buf,
							 FBLOCKS * BS)) {
				incrfs_writer_free(w);
				goto out;
			}
		}
		o.full = pass == 1;
		o.image_fd = open(pass ? FULL : LAZY,
				  O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (o.image_fd < 0 || incrfs_writer_write(w, &o)) {
			incrfs_writer_free(w);
			goto out;
		}
		close(o.image_fd);
		incrfs_writer_free(w);
	}
	ret = iu_write_file(TOP "/w-ready", "", 0, 0644);
out:
	free(buf);
	return ret;
}

/* A private copy of the lazy image (it is all hole but the metadata). */
static int lazy_copy(const char *to)
{
	return iu_sh("cp " LAZY " %s", to);
}

struct waiter {
	pthread_t th;
	const char *mnt;
	int file, block;
	int result;		/* 0 ok, 1 wrong data, errno otherwise */
};

static void *waiter_main(void *arg)
{
	struct waiter *wt = arg;
	unsigned char got[BS], *want = malloc(FBLOCKS * BS);
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/f%03d", wt->mnt, wt->file);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !want) {
		wt->result = errno ? errno : ENOMEM;
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	n = pread(fd, got, BS, (off_t)wt->block * BS);
	if (n < 0) {
		wt->result = errno;
	} else {
		file_content(wt->file, want, FBLOCKS * BS);
		wt->result = n != BS ||
			memcmp(got, want + (size_t)wt->block * BS, BS);
	}
	close(fd);
out:
	free(want);
	return NULL;
}

/* Data block of file @f, block @b: files get their blocks in inode
 * order, and f000 is inode 2. */
static int data_block_of(struct incrfs_image *img, int f, int b,
			 uint64_t *out)
{
	struct incrfs_inode_info ii;
	int ret = incrfs_image_read_inode(img, 2 + f, &ii);

	if (ret)
		return ret;
	return incrfs_image_map_block(img, &ii, b, out) == 1 ? 0 : -1;
}

#define NWAITERS	(NFILES * FBLOCKS)

TEST_TIMEOUT(thousand_waiters, 240)
{
	static struct waiter wt[NWAITERS];
	static uint64_t order[NWAITERS];
	struct incrfs_image full = { 0 };
	unsigned char *data = malloc(64 * BS);
	const char *mnt = TOP "/wm";
	struct incrfs_stats st;
	pthread_attr_t attr;
	int i, ok = 0, ffd, cfd, waited;
	double t0;

	ASSERT_NOT_NULL(data);
	ASSERT_EQ(0, build_waiter_images());
	ASSERT_EQ(0, lazy_copy(TOP "/w1.img"));
	ASSERT_EQ(0, iu_mount(TOP "/w1.img", mnt, "timeout=120000"));
	ffd = open(FULL, O_RDONLY);
	ASSERT_GE(ffd, 0);
	ASSERT_EQ(0, incrfs_image_open(&full, ffd));

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* every block of every file: 1 000 waiters on 1 000 blocks in 100
	 * files, all at once */
	for (i = 0; i < NWAITERS; i++) {
		wt[i] = (struct waiter){ .mnt = mnt, .file = i % NFILES,
					 .block = i / NFILES, .result = -1 };
		ASSERT_EQ(0, pthread_create(&wt[i].th, &attr, waiter_main,
					    &wt[i]));
		ASSERT_EQ(0, data_block_of(&full, wt[i].file, wt[i].block,
					   &order[i]));
	}
	/* wait until they all wait: one miss per block */
	for (waited = 0; waited < 60000; waited += 50) {
		ASSERT_EQ(0, iu_get_stats(mnt, &st));
		if (st.waits >= NWAITERS)
			break;
		pu_msleep(50);
	}
	TH_LOG("%llu tasks waiting on %llu missing blocks",
	       (unsigned long long)st.waits, (unsigned long long)st.misses);
	EXPECT_GE(st.waits, NWAITERS);

	/* the feeder: random order, random batches */
	srand(12345);
	for (i = NWAITERS - 1; i > 0; i--) {
		int k = rand() % (i + 1);
		uint64_t t = order[i];

		order[i] = order[k];
		order[k] = t;
	}
	cfd = iu_open_control(mnt);
	ASSERT_GE(cfd, 0);
	t0 = now_s();
	for (i = 0; i < NWAITERS;) {
		int cnt = 1 + rand() % 64, k;

		if (cnt > NWAITERS - i)
			cnt = NWAITERS - i;
		for (k = 0; k < cnt; k++)
			ASSERT_EQ(0, incrfs_image_read_block(&full,
					order[i + k], data + (size_t)k * BS));
		ASSERT_EQ(0, fill_blocks(cfd, &order[i], data, cnt, 0));
		i += cnt;
	}
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(wt[i].th, NULL);
		if (wt[i].result == 0)
			ok++;
		else if (ok + 10 > i)
			TH_LOG("waiter %d (f%03d block %d): %d", i,
			       wt[i].file, wt[i].block, wt[i].result);
	}
	TH_LOG("%d of %d waiters done with the right data %.2f s after "
	       "the first fill", ok, NWAITERS, now_s() - t0);
	EXPECT_EQ(NWAITERS, ok);
	ASSERT_EQ(0, iu_get_stats(mnt, &st));
	EXPECT_EQ(1U, st.complete);
	EXPECT_EQ(0U, st.timeouts);
	close(cfd);
	incrfs_image_close(&full);
	close(ffd);
	free(data);
	EXPECT_EQ(0, umount(mnt));
	unlink(TOP "/w1.img");
}

/* ---- umount while readers wait, and while a feeder holds the fd ---- */

/* Reader processes of block @b of f000..f(n-1); each exits 0 (right
 * data), 1 (wrong), 2 (ETIMEDOUT) or 3 (other error). */
static pid_t start_reader(const char *mnt, int f, int b, int ready)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct waiter w = { .mnt = mnt, .file = f, .block = b };
		char path[128];
		int fd;

		/* opened before the detach: the reader holds the mount */
		snprintf(path, sizeof(path), "%s/f%03d", mnt, f);
		fd = open(path, O_RDONLY);
		if (fd < 0 || write(ready, "r", 1) != 1)
			_exit(3);
		waiter_main(&w);
		close(fd);
		_exit(w.result == 0 ? 0 : w.result == 1 ? 1 :
		      w.result == ETIMEDOUT ? 2 : 3);
	}
	return pid;
}

#define NREADERS 20

static int start_readers(struct th_test *_metadata, const char *mnt,
			 pid_t *pids)
{
	int pfd[2], i;
	char c;

	ASSERT_EQ(0, pipe(pfd));
	for (i = 0; i < NREADERS; i++) {
		pids[i] = start_reader(mnt, i, 3, pfd[1]);
		ASSERT_GT(pids[i], 0);
	}
	close(pfd[1]);
	for (i = 0; i < NREADERS; i++)
		ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	return 0;
}

static int wait_waits(const char *mnt, uint64_t n)
{
	struct incrfs_stats st;
	int ms;

	for (ms = 0; ms < 30000; ms += 20) {
		if (iu_get_stats(mnt, &st))
			return -1;
		if (st.waits >= n)
			return 0;
		pu_msleep(20);
	}
	return -1;
}

TEST_TIMEOUT(lazy_umount_with_waiters_then_fill, 120)
{
	struct incrfs_image full = { 0 };
	const char *mnt = TOP "/um1";
	pid_t pids[NREADERS];
	uint64_t blocks[NREADERS];
	unsigned char *data = malloc(NREADERS * BS);
	int i, cfd, ffd;
	double t0;

	ASSERT_NOT_NULL(data);
	ASSERT_EQ(0, build_waiter_images());
	ASSERT_EQ(0, lazy_copy(TOP "/um1.img"));
	ASSERT_EQ(0, iu_mount(TOP "/um1.img", mnt, "timeout=60000"));
	cfd = iu_open_control(mnt);
	ASSERT_GE(cfd, 0);
	start_readers(_metadata, mnt, pids);
	ASSERT_EQ(0, wait_waits(mnt, NREADERS));

	/* the mount point goes away at once; the readers keep waiting */
	t0 = now_s();
	ASSERT_EQ(0, umount2(mnt, MNT_DETACH)) TH_LOG("%s", strerror(errno));
	TH_LOG("umount -l with %d waiting readers: %.3f s", NREADERS,
	       now_s() - t0);
	pu_msleep(200);
	for (i = 0; i < NREADERS; i++)
		EXPECT_EQ(-1, pu_wait_exit(pids[i], 0));

	/* the feeder fills: they wake with the right data */
	ffd = open(FULL, O_RDONLY);
	ASSERT_GE(ffd, 0);
	ASSERT_EQ(0, incrfs_image_open(&full, ffd));
	for (i = 0; i < NREADERS; i++) {
		ASSERT_EQ(0, data_block_of(&full, i, 3, &blocks[i]));
		ASSERT_EQ(0, incrfs_image_read_block(&full, blocks[i],
						     data + (size_t)i * BS));
	}
	EXPECT_EQ(0, fill_blocks(cfd, blocks, data, NREADERS, 0));
	for (i = 0; i < NREADERS; i++)
		EXPECT_EQ(0, pu_wait_exit(pids[i], 20000));
	/* the last reader gone, the super block goes: the feeder hears */
	for (i = 0; i < 100; i++) {
		struct pollfd p = { .fd = cfd, .events = POLLIN };

		if (poll(&p, 1, 100) == 1 && (p.revents & POLLHUP))
			break;
	}
	EXPECT_LT(i, 100) TH_LOG("no POLLHUP after the last reader left");
	errno = 0;
	EXPECT_EQ(-1, fill_blocks(cfd, blocks, data, 1, 0));
	EXPECT_EQ(ENODEV, errno);
	close(cfd);
	incrfs_image_close(&full);
	close(ffd);
	free(data);
	unlink(TOP "/um1.img");
}

TEST_TIMEOUT(lazy_umount_with_waiters_then_timeout, 120)
{
	const char *mnt = TOP "/um2";
	pid_t pids[NREADERS];
	int i;

	ASSERT_EQ(0, build_waiter_images());
	ASSERT_EQ(0, lazy_copy(TOP "/um2.img"));
	ASSERT_EQ(0, iu_mount(TOP "/um2.img", mnt, "timeout=1500"));
	start_readers(_metadata, mnt, pids);
	ASSERT_EQ(0, wait_waits(mnt, NREADERS));
	ASSERT_EQ(0, umount2(mnt, MNT_DETACH));
	/* no feeder: every reader times out, and nothing hangs */
	for (i = 0; i < NREADERS; i++)
		EXPECT_EQ(2, pu_wait_exit(pids[i], 20000));
	unlink(TOP "/um2.img");
}

TEST_TIMEOUT(umount_while_feeder_holds_control_fd, 60)
{
	const char *mnt = TOP "/um3";
	struct pollfd p;
	unsigned char buf[BS] = { 0 };
	uint64_t block = 0;
	char rec[sizeof(struct incrfs_pending_read)];
	double t0;
	int cfd;

	ASSERT_EQ(0, build_waiter_images());
	ASSERT_EQ(0, lazy_copy(TOP "/um3.img"));
	ASSERT_EQ(0, iu_mount(TOP "/um3.img", mnt, NULL));
	cfd = iu_open_control(mnt);
	ASSERT_GE(cfd, 0);
	p = (struct pollfd){ .fd = cfd, .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, 0));
	/* a plain umount: the control fd does not pin the super block */
	t0 = now_s();
	ASSERT_EQ(0, umount(mnt)) TH_LOG("umount: %s", strerror(errno));
	TH_LOG("umount with the control fd open: %.3f s", now_s() - t0);
	p = (struct pollfd){ .fd = cfd, .events = POLLIN };
	EXPECT_EQ(1, poll(&p, 1, 5000));
	EXPECT_TRUE(p.revents & POLLHUP);
	EXPECT_EQ(0, read(cfd, rec, sizeof(rec)));
	errno = 0;
	EXPECT_EQ(-1, fill_blocks(cfd, &block, buf, 1, INCRFS_FILL_SYNC));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, close(cfd));
	/* and the image mounts again */
	EXPECT_EQ(0, iu_mount(TOP "/um3.img", mnt, NULL));
	EXPECT_EQ(0, umount(mnt));
	unlink(TOP "/um3.img");
}

TEST_HARNESS_MAIN
