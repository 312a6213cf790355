// SPDX-License-Identifier: GPL-2.0-only
/*
 * logwrites_test.c - crash consistency by write-log replay, the method of
 * xfstests' log-writes tests: the disk holding an image (ext4 with its
 * journal) sits under device-mapper's log-writes target, which records
 * every write in the order it reached stable storage.  While fills and
 * commits run, the log grows; afterwards the test replays it, write by
 * write, onto a copy of the disk as it was, and checks each state a power
 * cut could have left:
 *
 * - after every write: each block the image's bitmap marks present holds
 *   the data its SHA-256 names (read through the image file's block map
 *   taken at the end, so no mount is needed per write);
 * - at flush and FUA points (at most FULL_CHECKS of them, spread over the
 *   log), and where a FILL_SYNC had returned: the disk mounts (ext4
 *   replays its journal), tools/lib's fsck of the image with data
 *   verification passes, incrfs mounts the image and counts the same
 *   present blocks, and no block a FILL_SYNC returned for is missing.
 *
 * A commit that wrote the bitmap before the data it covers was on disk
 * leaves a state where a bit is set over a block that is not there: the
 * first check finds it at the write that put the bitmap page down.
 */
#include <endian.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/blockdev_util.h"
#include "image.h"
#include "sha256.h"

#define TOP	"/tmp/logw"
#define SRC	TOP "/src"
#define DATAF	TOP "/data"
#define LOGF	TOP "/log"
#define SCRATCH	TOP "/scratch"
#define EXT4	TOP "/ext4"
#define IMG	EXT4 "/img"
#define MNT	TOP "/mnt"
#define CHK	TOP "/chk"
#define CHKMNT	TOP "/chkmnt"
#define DM	"incrfs-logw"
#define DMDEV	"/dev/mapper/" DM
#define DISK_MB	32
#define LOG_MB	128
#define NBLK	256	/* blocks of the file "f" */
#define BATCH	16	/* blocks per FILL */
#define FULL_CHECKS 64	/* mounts of a replayed disk, spread over the log */

/* The on-disk log of dm-log-writes (drivers/md/dm-log-writes.c). */
#define LW_MAGIC	0x6a736677736872ULL
#define LW_FLUSH	(1 << 0)
#define LW_FUA		(1 << 1)
#define LW_DISCARD	(1 << 2)
#define LW_MARK		(1 << 3)

struct lw_super {
	uint64_t magic, version, nr_entries;
	uint32_t sectorsize;
};

struct lw_entry {
	uint64_t sector, nr_sectors, flags, data_len;
};

static unsigned char content[NBLK * 4096];

/* What the checks need to know of the image and where it lies on disk. */
struct layout {
	uint64_t bitmap_off, data_off, nr_blocks;
	uint8_t (*hash)[INCRFS_HASH_SIZE];
	int64_t *phys;		/* [image file block] disk block, or -1 */
	uint64_t file_blocks;
};

/* Fill @n blocks of "f", in the order of @order from @first. */
static int fill(const int *order, int first, int n, unsigned int flags)
{
	struct incrfs_fill_block fb[BATCH];
	struct incrfs_fill arg = { 0 };
	struct stat st;
	int ctl, i, ret;

	if (stat(MNT "/f", &st))
		return -1;
	ctl = iu_open_control(MNT);
	if (ctl < 0)
		return -1;
	for (i = 0; i < n; i++) {
		int b = order[first + i];

		fb[i] = (struct incrfs_fill_block){
			.ino = st.st_ino, .block = b,
			.data = (uintptr_t)(content + (size_t)b * 4096),
			.len = 4096,
		};
	}
	arg.blocks = (uintptr_t)fb;
	arg.count = n;
	arg.flags = flags;
	ret = ioctl(ctl, INCRFS_IOC_FILL, &arg);
	close(ctl);
	return ret || arg.filled != (uint32_t)n ? -1 : 0;
}

/* The disk blocks of @path's 4 KiB file blocks, from FIEMAP. */
static int map_file(const char *path, struct layout *l)
{
	size_t sz = sizeof(struct fiemap) + 512 * sizeof(struct fiemap_extent);
	struct fiemap *fm = calloc(1, sz);
	struct stat st;
	uint64_t i, b;
	int fd, ret = -1;

	fd = open(path, O_RDONLY);
	if (!fm || fd < 0 || fstat(fd, &st))
		goto out;
	l->file_blocks = (st.st_size + 4095) / 4096;
	l->phys = malloc(l->file_blocks * sizeof(*l->phys));
	if (!l->phys)
		goto out;
	for (b = 0; b < l->file_blocks; b++)
		l->phys[b] = -1;
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = 512;
	if (ioctl(fd, FS_IOC_FIEMAP, fm) || fm->fm_mapped_extents == 512)
		goto out;
	for (i = 0; i < fm->fm_mapped_extents; i++) {
		struct fiemap_extent *e = &fm->fm_extents[i];

		if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN |
				   FIEMAP_EXTENT_ENCODED))
			goto out;
		for (b = 0; b < e->fe_length / 4096; b++)
			if (e->fe_logical / 4096 + b < l->file_blocks)
				l->phys[e->fe_logical / 4096 + b] =
					e->fe_physical / 4096 + b;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(fm);
	return ret;
}

/* The image's layout and block hashes, from the lazy image as packed. */
static int read_layout(const char *path, struct layout *l)
{
	struct incrfs_image img;
	int fd = open(path, O_RDONLY), ret = -1;
	uint64_t b;

	if (fd < 0 || incrfs_image_open(&img, fd))
		goto out;
	l->bitmap_off = img.sb.bitmap_off;
	l->data_off = img.sb.data_off;
	l->nr_blocks = img.sb.nr_blocks;
	l->hash = malloc(l->nr_blocks * INCRFS_HASH_SIZE);
	if (!l->hash)
		goto close;
	for (b = 0; b < l->nr_blocks; b++)
		if (incrfs_image_block_hash(&img, b, l->hash[b]))
			goto close;
	ret = 0;
close:
	incrfs_image_close(&img);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The disk block holding image byte @off, or NULL if it has none. */
static const unsigned char *at(const struct layout *l,
			       const unsigned char *disk, uint64_t off)
{
	uint64_t fb = off / 4096;

	if (fb >= l->file_blocks || l->phys[fb] < 0 ||
	    (uint64_t)l->phys[fb] >= DISK_MB * 256ULL)
		return NULL;
	return disk + (uint64_t)l->phys[fb] * 4096 + off % 4096;
}

/* Whether disk bytes [@pos, @pos + @len) hold a block of the image. */
static int touches(const struct layout *l, uint64_t pos, uint64_t len)
{
	uint64_t first = pos / 4096, end = (pos + len + 4095) / 4096, b;

	for (b = 0; b < l->file_blocks; b++)
		if (l->phys[b] >= (int64_t)first && l->phys[b] < (int64_t)end)
			return 1;
	return 0;
}

/*
 * Every block the bitmap on @disk marks present holds its data.  Returns
 * the number of present blocks, or -1 with the first bad block in *bad.
 */
static long check_present(const struct layout *l, const unsigned char *disk,
			  uint64_t *bad)
{
	uint8_t md[INCRFS_HASH_SIZE];
	const unsigned char *p, *d;
	long present = 0;
	uint64_t b;

	for (b = 0; b < l->nr_blocks; b++) {
		p = at(l, disk, l->bitmap_off + b / 8);
		if (!p || !(*p & (1u << (b % 8))))
			continue;	/* a hole in the bitmap reads as zero */
		d = at(l, disk, l->data_off + b * 4096);
		*bad = b;
		if (!d || incrfs_sha256(d, 4096, md) ||
		    memcmp(md, l->hash[b], sizeof(md)))
			return -1;
		present++;
	}
	return present;
}

/*
 * Mount @disk as it would be found after a power cut: ext4 replays its
 * journal, the image passes tools/lib's fsck with every present block
 * verified, and incrfs mounts it.  Returns the present blocks the
 * kernel counts, or -1 (@why says what failed).
 */
static long check_mounted(const unsigned char *disk, char *why, size_t len)
{
	struct incrfs_image img;
	struct incrfs_stats st;
	uint64_t present = 0;
	char loop[32];
	long ret = -1;
	int lfd, fd;

	fd = open(SCRATCH, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, disk, DISK_MB << 20) != DISK_MB << 20) {
		snprintf(why, len, "write scratch disk: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	lfd = bd_loop_attach(SCRATCH, loop, sizeof(loop));
	if (lfd < 0) {
		snprintf(why, len, "loop: %s", strerror(errno));
		return -1;
	}
	if (mount(loop, CHK, "ext4", 0, NULL)) {
		snprintf(why, len, "mount ext4: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	close(lfd);	/* the mount holds the loop device */
	fd = open(CHK "/img", O_RDONLY);
	if (fd < 0) {
		snprintf(why, len, "open image: %s", strerror(errno));
		goto umount;
	}
	if (incrfs_image_open(&img, fd)) {
		snprintf(why, len, "image: %.200s", img.err);
		close(fd);
		goto umount;
	}
	if (incrfs_image_check(&img, true) ||
	    incrfs_image_count_present(&img, &present))
		snprintf(why, len, "fsck: %.200s", img.err);
	else
		ret = 0;
	incrfs_image_close(&img);
	close(fd);
	if (ret)
		goto umount;
	ret = -1;
	if (iu_mount(CHK "/img", CHKMNT, "timeout=100")) {
		snprintf(why, len, "mount incrfs: %s", strerror(errno));
		goto umount;
	}
	if (iu_get_stats(CHKMNT, &st) || st.blocks_present != present)
		snprintf(why, len, "incrfs counts %llu present, fsck %llu",
			 (unsigned long long)st.blocks_present,
			 (unsigned long long)present);
	else
		ret = (long)present;
	umount2(CHKMNT, 0);
umount:
	umount2(CHK, 0);
	return ret;
}

FIXTURE(log) {
	int dm;
};

FIXTURE_SETUP(log)
{
	if (iu_sh("dmsetup targets 2>/dev/null | grep -q '^log-writes'"))
		SKIP(return, "no dm-log-writes in this kernel (or no dmsetup)");
	ASSERT_EQ(iu_sh("rm -rf " TOP " && mkdir -p " SRC " " EXT4 " " MNT
			" " CHK " " CHKMNT), 0);
	iu_fill_pattern(content, sizeof(content), 17);
	ASSERT_EQ(iu_write_file(SRC "/f", content, sizeof(content), 0644), 0);
	ASSERT_EQ(iu_sh("incrfs-pack " SRC " " TOP "/lazy.img --blob "
			TOP "/lazy.blob >/dev/null"), 0);
	ASSERT_EQ(iu_sh("truncate -s %dM " DATAF " && truncate -s %dM " LOGF,
			DISK_MB, LOG_MB), 0);
	/* ext4 as a distribution makes it: journal, data=ordered */
	ASSERT_EQ(iu_sh(BD_MKE2FS " -q -F -t ext4 -b 4096 " DATAF), 0);
}

FIXTURE_TEARDOWN(log)
{
	umount2(CHKMNT, MNT_DETACH);
	umount2(CHK, MNT_DETACH);
	umount2(MNT, MNT_DETACH);
	umount2(EXT4, MNT_DETACH);
	if (self->dm)
		iu_sh("dmsetup remove " DM " >/dev/null 2>&1");
	iu_sh("rm -rf " TOP);
}

/* Record: copy the image, fill it in batches, commit now and then. */
static int record(int *dm, struct layout *l, char *why, size_t len)
{
	char dloop[32], lloop[32];
	int order[NBLK], dfd, lfd, i, j;
	struct incrfs_stats st;

	dfd = bd_loop_attach(DATAF, dloop, sizeof(dloop));
	lfd = bd_loop_attach(LOGF, lloop, sizeof(lloop));
	if (dfd < 0 || lfd < 0) {
		snprintf(why, len, "loop: %s", strerror(errno));
		return -1;
	}
	if (iu_sh("dmsetup create " DM " --noudevsync --table "
		  "'0 %d log-writes %s %s' && dmsetup mknodes " DM,
		  DISK_MB * 2048, dloop, lloop)) {
		snprintf(why, len, "dmsetup create log-writes");
		return -1;
	}
	*dm = 1;
	close(dfd);
	close(lfd);
	if (mount(DMDEV, EXT4, "ext4", 0, NULL)) {
		snprintf(why, len, "mount ext4: %s", strerror(errno));
		return -1;
	}
	/* a lazy image as a runtime would write it: its data region a hole */
	if (iu_sparse_copy(TOP "/lazy.img", IMG) ||
	    iu_sh("sync && dmsetup message " DM " 0 mark start")) {
		snprintf(why, len, "copy the image or mark the log");
		return -1;
	}
	if (iu_mount(IMG, MNT, "timeout=500")) {
		snprintf(why, len, "mount incrfs: %s", strerror(errno));
		return -1;
	}
	/* blocks in a scattered order: commits cover pages far apart */
	for (i = 0; i < NBLK; i++)
		order[i] = (i * 37) % NBLK;
	for (i = 0, j = 0; i < NBLK; i += BATCH, j++) {
		/* two of three batches committed at once, one by umount */
		int sync = j % 3 != 2;

		if (fill(order, i, BATCH, sync ? INCRFS_FILL_SYNC : 0)) {
			snprintf(why, len, "fill batch %d: %s", j,
				 strerror(errno));
			return -1;
		}
		/* what the replay must find present from here on */
		if (sync && iu_sh("dmsetup message " DM " 0 mark synced-%d",
				  i + BATCH)) {
			snprintf(why, len, "mark the log");
			return -1;
		}
	}
	if (iu_get_stats(MNT, &st) || st.blocks_present != NBLK ||
	    umount2(MNT, 0)) {
		snprintf(why, len, "stats or umount incrfs");
		return -1;
	}
	/* the image's blocks are all allocated now: where are they? */
	if (map_file(IMG, l)) {
		snprintf(why, len, "FIEMAP of the image");
		return -1;
	}
	if (umount2(EXT4, 0) ||
	    iu_sh("dmsetup message " DM " 0 mark end && "
		  "dmsetup remove " DM)) {
		snprintf(why, len, "umount ext4 or end the log");
		return -1;
	}
	*dm = 0;
	return 0;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Decode the entry at @off of the log; 0, or -1 if it runs past @len. */
static int lw_entry(const unsigned char *log, size_t len, size_t off,
		    struct lw_entry *e)
{
	if (off + 32 > len)
		return -1;
	e->sector = le64(log + off);
	e->nr_sectors = le64(log + off + 8);
	e->flags = le64(log + off + 16);
	e->data_len = le64(log + off + 24);
	return 0;
}

TEST_F_TIMEOUT(log, every_replayed_state_marks_present_only_blocks_on_disk,
	       900)
{
	struct layout l = { 0 };
	struct lw_super sb;
	struct lw_entry e = { 0 };
	unsigned char *disk, *log;
	size_t log_len, disk_len, off;
	uint64_t n, started = 0, points = 0, point = 0, every, bad = 0;
	long present, last = -1, mounted, partial = 0, writes = 0, full = 0;
	long durable = 0;
	char why[256] = "";

	ASSERT_EQ(read_layout(TOP "/lazy.img", &l), 0);
	ASSERT_TRUE(l.nr_blocks == NBLK);
	disk = iu_slurp(DATAF, &disk_len);	/* the disk before the log */
	ASSERT_NE(disk, NULL);
	ASSERT_TRUE(disk_len == (size_t)DISK_MB << 20);
	ASSERT_EQ(record(&self->dm, &l, why, sizeof(why)), 0)
		TH_LOG("%s", why);

	log = iu_slurp(LOGF, &log_len);
	ASSERT_NE(log, NULL);
	sb.magic = le64(log);
	sb.version = le64(log + 8);
	sb.nr_entries = le64(log + 16);
	memcpy(&sb.sectorsize, log + 24, 4);
	sb.sectorsize = le32toh(sb.sectorsize);
	ASSERT_TRUE(sb.magic == LW_MAGIC);
	ASSERT_TRUE(sb.version == 1);
	ASSERT_TRUE(sb.sectorsize >= 512 && sb.sectorsize <= 4096 &&
		    !(sb.sectorsize & (sb.sectorsize - 1)));

	/* first pass: the flush and FUA points after "start", to spread */
	for (n = 0, off = sb.sectorsize; n < sb.nr_entries; n++) {
		ASSERT_EQ(lw_entry(log, log_len, off, &e), 0);
		if (e.flags & LW_MARK)
			started |= e.data_len == 5 && !memcmp(log + off + 32,
							      "start", 5);
		else if (started && (e.flags & (LW_FLUSH | LW_FUA)))
			points++;
		off += sb.sectorsize;
		if (!(e.flags & (LW_DISCARD | LW_MARK)))
			off += e.nr_sectors * sb.sectorsize;
	}
	ASSERT_TRUE(started) TH_LOG("no start mark in the log");
	every = points > FULL_CHECKS ? (points + FULL_CHECKS - 1) / FULL_CHECKS
				     : 1;

	/* second pass: replay, checking each state after "start" */
	started = 0;
	for (n = 0, off = sb.sectorsize; n < sb.nr_entries; n++) {
		const unsigned char *data = log + off + sb.sectorsize;
		uint64_t bytes, pos;

		ASSERT_EQ(lw_entry(log, log_len, off, &e), 0);
		bytes = e.nr_sectors * sb.sectorsize;
		pos = e.sector * sb.sectorsize;
		if (e.flags & LW_MARK) {
			char mark[32] = "";
			unsigned int synced;

			memcpy(mark, log + off + 32,
			       e.data_len < sizeof(mark) - 1 ? e.data_len
							     : sizeof(mark) - 1);
			off += sb.sectorsize;
			started |= !strcmp(mark, "start");
			if (sscanf(mark, "synced-%u", &synced) != 1)
				continue;
			/* FILL_SYNC returned: these blocks survive any cut */
			durable = synced;
			mounted = check_mounted(disk, why, sizeof(why));
			ASSERT_GE(mounted, durable)
				TH_LOG("FILL_SYNC returned with %ld blocks "
				       "present; replayed to that point: %ld "
				       "(%s)", durable, mounted, why);
			full++;
			continue;
		}
		/* no inline data: only marks carry bytes in the entry */
		ASSERT_TRUE(e.data_len == 0 || e.data_len == bytes);
		ASSERT_TRUE(pos + bytes <= disk_len);
		off += sb.sectorsize;
		if (e.flags & LW_DISCARD) {
			memset(disk + pos, 0, bytes);
		} else {
			ASSERT_TRUE(off + bytes <= log_len);
			memcpy(disk + pos, data, bytes);
			off += bytes;
		}
		if (!started)
			continue;
		if (bytes)
			writes++;
		/* a write elsewhere changes nothing the image holds */
		if (bytes && !touches(&l, pos, bytes) && last >= 0)
			present = last;
		else
			present = check_present(&l, disk, &bad);
		ASSERT_GE(present, 0)
			TH_LOG("after log entry %llu (sector %llu, %llu sectors):"
			       " block %llu is marked present, its data is not"
			       " on disk", (unsigned long long)n,
			       (unsigned long long)e.sector,
			       (unsigned long long)e.nr_sectors,
			       (unsigned long long)bad);
		if (present > 0 && present < NBLK && present != last)
			partial++;
		last = present;
		if (!(e.flags & (LW_FLUSH | LW_FUA)) || point++ % every)
			continue;
		mounted = check_mounted(disk, why, sizeof(why));
		ASSERT_GE(mounted, 0)
			TH_LOG("replayed to log entry %llu: %s",
			       (unsigned long long)n, why);
		/*
		 * Fewer than the raw disk shows is fine (the extent of a bitmap
		 * page written in place may not be in the journal yet), fewer
		 * than FILL_SYNC promised is not.
		 */
		EXPECT_GE(mounted, durable);
		full++;
	}
	/* the end: every fill is on disk and the disk mounts */
	mounted = check_mounted(disk, why, sizeof(why));
	ASSERT_EQ(mounted, NBLK) TH_LOG("end of the log: %s", why);
	/* the log did show fills landing in steps, and mounts checked them */
	EXPECT_GE(partial, 4);
	EXPECT_GE(full, 4);
	printf("# %llu log entries, %ld writes after the start, %llu flush/FUA "
	       "points, %ld mounted, %ld distinct partial states\n",
	       (unsigned long long)sb.nr_entries, writes,
	       (unsigned long long)points, full, partial);
	free(disk);
	free(log);
	free(l.hash);
	free(l.phys);
}

TEST_HARNESS_MAIN
