// SPDX-License-Identifier: GPL-2.0-only
/*
 * wb_error_test.c - an image on a disk whose writes fail (device-mapper's
 * flakey target over a loop device, ext4 without a journal on top): a fill
 * whose data never reached the disk is never marked present on disk, is
 * missing again in memory at once, and is filled again once the disk
 * works.  Readers get an error or the right data, never what the disk
 * happens to hold.
 *
 * A disk that drops writes silently (flakey's drop_writes) leaves the
 * dropped fills missing once the caches are gone, not present.
 *
 * An fsync reports a writeback error to each open file once; a commit
 * that trusted the next fsync's return value would write the bits of the
 * lost blocks in its retry.  This is what the test would have caught.
 */
#include "tests/kselftest/harness.h"
#include "tests/kselftest/blockdev_util.h"

#define TOP	"/tmp/wberr"
#define SRC	TOP "/src"
#define DISKF	TOP "/disk"
#define EXT4	TOP "/ext4"
#define IMG	EXT4 "/img"
#define MNT	TOP "/mnt"
#define DM	"incrfs-wberr"
#define DMDEV	"/dev/mapper/" DM
#define DISK_MB	64
#define NBLK	32	/* blocks of the file "f" */

static unsigned char content[NBLK * 4096];

/*
 * Load the flakey table: every write fails with EIO (1), every write is
 * dropped while reported done (2: a disk or a cache that lies), or the
 * disk works (0).
 */
static int disk_set(const char *loop, int failing)
{
	const char *feat = failing == 2 ? "0 1 1 drop_writes" :
			   failing ? "0 1 1 error_writes" : "1 0";

	return iu_sh("dmsetup suspend --nolockfs " DM " && "
		     "dmsetup load " DM " --table '0 %d flakey %s 0 %s' && "
		     "dmsetup resume " DM, DISK_MB * 2048, loop, feat);
}

/* Fill blocks [from, to) of "f" through a new control fd; ioctl result. */
static int fill_range(int from, int to, unsigned int flags, int *filled)
{
	struct incrfs_fill_block fb[NBLK];
	struct incrfs_fill arg = { 0 };
	struct stat st;
	int ctl, i, ret, saved;

	if (stat(MNT "/f", &st))
		return -1;
	ctl = iu_open_control(MNT);
	if (ctl < 0)
		return -1;
	for (i = from; i < to; i++)
		fb[i - from] = (struct incrfs_fill_block){
			.ino = st.st_ino, .block = i,
			.data = (uintptr_t)(content + (size_t)i * 4096),
			.len = 4096,
		};
	arg.blocks = (uintptr_t)fb;
	arg.count = to - from;
	arg.flags = flags;
	ret = ioctl(ctl, INCRFS_IOC_FILL, &arg);
	saved = errno;
	close(ctl);
	*filled = arg.filled;
	errno = saved;
	return ret;
}

FIXTURE(disk) {
	char loop[32];
	int loop_fd;
	int dm;		/* the dm device was created */
};

FIXTURE_SETUP(disk)
{
	if (iu_sh("dmsetup targets 2>/dev/null | grep -q '^flakey'"))
		SKIP(return, "no dm-flakey in this kernel (or no dmsetup)");
	ASSERT_EQ(iu_sh("rm -rf " TOP " && mkdir -p " SRC " " EXT4 " " MNT),
		  0);
	iu_fill_pattern(content, sizeof(content), 11);
	ASSERT_EQ(iu_write_file(SRC "/f", content, sizeof(content), 0644), 0);
	ASSERT_EQ(iu_sh("incrfs-pack " SRC " " TOP "/lazy.img --blob "
			TOP "/lazy.blob >/dev/null"), 0);

	ASSERT_EQ(iu_sh("truncate -s %dM " DISKF, DISK_MB), 0);
	self->loop_fd = bd_loop_attach(DISKF, self->loop, sizeof(self->loop));
	ASSERT_GE(self->loop_fd, 0) TH_LOG("loop: %s", strerror(errno));
	ASSERT_EQ(iu_sh("dmsetup create " DM " --noudevsync "
			"--table '0 %d flakey %s 0 1 0' && dmsetup mknodes " DM,
			DISK_MB * 2048, self->loop), 0);
	self->dm = 1;
	/* no journal: a failed journal write would make ext4 read-only */
	ASSERT_EQ(iu_sh(BD_MKE2FS " -q -F -t ext4 -O ^has_journal " DMDEV), 0);
	ASSERT_EQ(mount(DMDEV, EXT4, "ext4", 0, "errors=continue"), 0)
		TH_LOG("mount ext4: %s", strerror(errno));
	/* overwrites only: a fill allocates nothing while the disk fails */
	ASSERT_EQ(bd_dense_copy(TOP "/lazy.img", IMG), 0);
	ASSERT_EQ(iu_mount(IMG, MNT, "timeout=500"), 0)
		TH_LOG("mount incrfs: %s", strerror(errno));
}

FIXTURE_TEARDOWN(disk)
{
	umount2(MNT, MNT_DETACH);
	umount2(EXT4, 0);
	if (self->dm)
		iu_sh("dmsetup remove " DM " >/dev/null 2>&1");
	if (self->loop_fd > 0)
		close(self->loop_fd);
	iu_sh("rm -rf " TOP);
}

/* pread one block of "f": 0 and the right data, or -1 with errno. */
static int read_block(int blk, int *right)
{
	unsigned char buf[4096];
	int fd = open(MNT "/f", O_RDONLY), saved;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf), (off_t)blk * 4096);
	saved = errno;
	close(fd);
	errno = saved;
	if (n != sizeof(buf))
		return -1;
	*right = !memcmp(buf, content + (size_t)blk * 4096, 4096);
	return 0;
}

TEST_F_TIMEOUT(disk, lost_fills_are_missing_again_never_present_on_disk, 240)
{
	struct incrfs_stats st;
	int filled, right, i;

	/* a good commit first: 8 blocks present on disk */
	ASSERT_EQ(fill_range(0, 8, INCRFS_FILL_SYNC, &filled), 0);
	ASSERT_EQ(filled, 8);

	/* the disk fails every write: the commit's data sync fails */
	ASSERT_EQ(disk_set(self->loop, 1), 0);
	ASSERT_EQ(fill_range(8, 16, INCRFS_FILL_SYNC, &filled), -1);
	EXPECT_EQ(errno, EIO) TH_LOG("FILL_SYNC: %s", strerror(errno));
	EXPECT_EQ(filled, 8);	/* written and woken, then lost */
	ASSERT_EQ(iu_get_stats(MNT, &st), 0);
	EXPECT_EQ(st.blocks_present, 8);
	EXPECT_EQ(st.fills_lost, 8);
	/* missing again: a reader waits for them (and times out) */
	EXPECT_EQ(read_block(9, &right), -1);
	EXPECT_EQ(errno, ETIMEDOUT);
	EXPECT_EQ(read_block(3, &right), 0);
	EXPECT_TRUE(right);

	/*
	 * The disk works again.  The lost pages are clean in the page cache
	 * but not on disk: drop them, and let umount's last commit run.
	 */
	ASSERT_EQ(disk_set(self->loop, 0), 0);
	ASSERT_EQ(umount2(MNT, 0), 0);
	ASSERT_EQ(iu_sh("sync; echo 3 > /proc/sys/vm/drop_caches"), 0);
	ASSERT_EQ(iu_mount(IMG, MNT, "timeout=500"), 0);
	ASSERT_EQ(iu_get_stats(MNT, &st), 0);
	EXPECT_EQ(st.blocks_present, 8);	/* nothing lost marked present */
	for (i = 0; i < 16; i++) {
		right = 0;
		if (read_block(i, &right) == 0)
			EXPECT_TRUE(right) TH_LOG("block %d: wrong data", i);
		else
			EXPECT_EQ(errno, ETIMEDOUT) TH_LOG("block %d", i);
	}

	/* filled again, they stay */
	ASSERT_EQ(fill_range(8, NBLK, INCRFS_FILL_SYNC, &filled), 0);
	EXPECT_EQ(filled, NBLK - 8);
	ASSERT_EQ(umount2(MNT, 0), 0);
	ASSERT_EQ(iu_sh("echo 3 > /proc/sys/vm/drop_caches"), 0);
	ASSERT_EQ(iu_mount(IMG, MNT, "timeout=500"), 0);
	ASSERT_EQ(iu_get_stats(MNT, &st), 0);
	EXPECT_EQ(st.blocks_present, NBLK);
	EXPECT_EQ(st.fills_lost, 0);	/* a new mount counts anew */
	for (i = 0; i < NBLK; i++) {
		ASSERT_EQ(read_block(i, &right), 0) TH_LOG("block %d", i);
		EXPECT_TRUE(right) TH_LOG("block %d: wrong data", i);
	}
}

/*
 * A disk that drops writes and says they were done: the kernel cannot
 * tell, and readers get the right data from the page cache meanwhile.
 * The bitmap's writes are dropped with the data's, so once the disk works
 * again and the caches are gone, the dropped fills are missing (a reader
 * waits), never present with whatever the disk held.  Out of reach, and
 * said in incrfs.rst: a disk that drops the data but keeps a later write
 * of the same bitmap page; only verifying present blocks on every read
 * would catch that.
 */
TEST_F_TIMEOUT(disk, dropped_writes_leave_the_blocks_missing, 240)
{
	struct incrfs_stats st;
	int filled, right, i;

	ASSERT_EQ(fill_range(0, 8, INCRFS_FILL_SYNC, &filled), 0);
	ASSERT_EQ(filled, 8);
	ASSERT_EQ(disk_set(self->loop, 2), 0);
	ASSERT_EQ(fill_range(8, 16, INCRFS_FILL_SYNC, &filled), 0);
	EXPECT_EQ(filled, 8);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(read_block(i, &right), 0) TH_LOG("block %d", i);
		EXPECT_TRUE(right) TH_LOG("block %d: wrong data", i);
	}
	ASSERT_EQ(umount2(MNT, 0), 0);
	ASSERT_EQ(disk_set(self->loop, 0), 0);
	ASSERT_EQ(iu_sh("sync; echo 3 > /proc/sys/vm/drop_caches"), 0);
	ASSERT_EQ(iu_mount(IMG, MNT, "timeout=300"), 0);
	ASSERT_EQ(iu_get_stats(MNT, &st), 0);
	EXPECT_EQ(st.blocks_present, 8);
	for (i = 0; i < 16; i++) {
		right = 0;
		if (read_block(i, &right) == 0)
			EXPECT_TRUE(right) TH_LOG("block %d: wrong data", i);
		else
			EXPECT_EQ(errno, ETIMEDOUT) TH_LOG("block %d", i);
		if (i < 8)
			EXPECT_TRUE(right) TH_LOG("block %d lost", i);
	}
}

/* The periodic commit (no FILL_SYNC) loses nothing silently either. */
TEST_F_TIMEOUT(disk, periodic_commit_forgets_lost_fills, 240)
{
	struct incrfs_stats st;
	int filled, right, i;

	ASSERT_EQ(disk_set(self->loop, 1), 0);
	ASSERT_EQ(fill_range(0, 8, 0, &filled), 0);
	ASSERT_EQ(filled, 8);
	/* the commit runs at most 5 s after a fill */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(iu_get_stats(MNT, &st), 0);
		if (st.fills_lost)
			break;
		usleep(100 * 1000);
	}
	EXPECT_EQ(st.fills_lost, 8);
	EXPECT_EQ(st.blocks_present, 0);
	ASSERT_EQ(disk_set(self->loop, 0), 0);
	/* the same blocks fill again and read right */
	ASSERT_EQ(fill_range(0, 8, INCRFS_FILL_SYNC, &filled), 0);
	EXPECT_EQ(filled, 8);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(read_block(i, &right), 0);
		EXPECT_TRUE(right);
	}
}

TEST_HARNESS_MAIN
