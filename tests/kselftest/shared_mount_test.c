// SPDX-License-Identifier: GPL-2.0-only
/*
 * shared_mount_test.c - one image mounted several times is one file
 * system, as a block device is.
 *
 * Two super blocks on one image would each keep their own bitmap in
 * memory and write it back over the other's: a block filled through one
 * mount stayed missing in the other, and its bit could be lost on disk.
 * The kernel now finds the super block already serving an image by the
 * image's inode (whatever path or hard link names it), so every mount of
 * it shares one bitmap, one control channel and one set of waiters; a
 * mount asking for other options than the first mount's is refused with
 * EBUSY (a remount since then does not change what "the options" are).
 * An image reached through overlayfs is the same image as its upper file.
 * A mount racing the last umount of its image loses no fill.
 */
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"

#define TOP	"/tmp/shm"
#define IMG	TOP "/lazy.img"
#define LINK	TOP "/link.img"
#define BLOB	TOP "/lazy.blob"
#define FSIZE	(256 * 1024)

static int setup(void)
{
	mkdir(TOP, 0755);
	mkdir(TOP "/src", 0755);
	if (iu_pattern_file(TOP "/src/f", FSIZE, 7))
		return -1;
	if (iu_sh("incrfs-pack " TOP "/src " IMG " --blob " BLOB " >/dev/null"))
		return -1;
	unlink(LINK);
	return link(IMG, LINK);
}

static dev_t dev_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (dev_t)-1 : st.st_dev;
}

TEST(one_super_block_per_image)
{
	unsigned char *a, *b;
	size_t la = 0, lb = 0;
	int fd, cfd, cfd2;

	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(iu_mount(IMG, TOP "/a", "timeout=300"), 0);
	ASSERT_EQ(iu_mount(IMG, TOP "/b", "timeout=300"), 0)
		TH_LOG("second mount: %s", strerror(errno));
	ASSERT_EQ(iu_mount(LINK, TOP "/c", "timeout=300"), 0)
		TH_LOG("mount through a hard link: %s", strerror(errno));
	EXPECT_EQ(dev_of(TOP "/a"), dev_of(TOP "/b"));
	EXPECT_EQ(dev_of(TOP "/a"), dev_of(TOP "/c"));

	/* other options: refused, not silently ignored */
	errno = 0;
	EXPECT_EQ(iu_mount(IMG, TOP "/d", "timeout=301"), -1);
	EXPECT_EQ(errno, EBUSY);
	errno = 0;
	EXPECT_EQ(iu_mount(IMG, TOP "/d", "timeout=300,access_log"), -1);
	EXPECT_EQ(errno, EBUSY);

	/* one control channel for all of them */
	fd = open(TOP "/a", O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fd, 0);
	cfd = ioctl(fd, INCRFS_IOC_OPEN_CONTROL);
	ASSERT_GE(cfd, 0);
	close(fd);
	fd = open(TOP "/b", O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fd, 0);
	errno = 0;
	cfd2 = ioctl(fd, INCRFS_IOC_OPEN_CONTROL);
	EXPECT_EQ(cfd2, -1);
	EXPECT_EQ(errno, EBUSY);
	close(fd);
	close(cfd);

	/* filled through b, present in a: one bitmap */
	ASSERT_EQ(iu_sh("incrfsd --source " BLOB " --prefetch all "
			"--exit-when-complete " TOP "/b 2>/dev/null"), 0);
	a = iu_slurp(TOP "/a/f", &la);
	b = iu_slurp(TOP "/src/f", &lb);
	ASSERT_NOT_NULL(a);
	ASSERT_NOT_NULL(b);
	EXPECT_EQ(la, (size_t)FSIZE);
	EXPECT_EQ(la == lb && !memcmp(a, b, la), 1);
	free(a);
	free(b);

	/* the last umount commits the bitmap; complete without a feeder */
	EXPECT_EQ(umount(TOP "/b"), 0);
	EXPECT_EQ(umount(TOP "/a"), 0);
	EXPECT_EQ(umount(TOP "/c"), 0);
	ASSERT_EQ(iu_mount(IMG, TOP "/a", "timeout=1"), 0);
	a = iu_slurp(TOP "/a/f", &la);
	EXPECT_NOT_NULL(a);
	EXPECT_EQ(la, (size_t)FSIZE);
	free(a);
	EXPECT_EQ(umount(TOP "/a"), 0);
}

TEST(second_mount_after_remount)
{
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(iu_mount(IMG, TOP "/a", "timeout=50"), 0);
	ASSERT_EQ(iu_sh("mount -o remount,timeout=70 " TOP "/a"), 0);
	EXPECT_EQ(iu_sh("grep -q ' " TOP "/a incrfs .*timeout=70' /proc/mounts"), 0);
	/* the options the image was mounted with, not the live ones */
	EXPECT_EQ(iu_mount(IMG, TOP "/b", "timeout=50"), 0)
		TH_LOG("second mount after a remount: %s", strerror(errno));
	EXPECT_EQ(dev_of(TOP "/a"), dev_of(TOP "/b"));
	EXPECT_EQ(iu_sh("grep -q ' " TOP "/b incrfs .*timeout=70' /proc/mounts"), 0);
	umount(TOP "/b");
	EXPECT_EQ(umount(TOP "/a"), 0);
}

TEST(image_through_overlayfs)
{
	/* the image's upper file is a hard link of IMG: one inode */
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(iu_sh("rm -rf " TOP "/ov && mkdir -p " TOP "/ov/lower "
			TOP "/ov/upper " TOP "/ov/work " TOP "/ov/m && ln "
			IMG " " TOP "/ov/upper/lazy.img"), 0);
	ASSERT_EQ(mount("overlay", TOP "/ov/m", "overlay", 0,
			"lowerdir=" TOP "/ov/lower,upperdir=" TOP
			"/ov/upper,workdir=" TOP "/ov/work"), 0)
		TH_LOG("overlayfs: %s", strerror(errno));
	ASSERT_EQ(iu_mount(TOP "/ov/m/lazy.img", TOP "/a", "timeout=50"), 0)
		TH_LOG("mount through overlayfs: %s", strerror(errno));
	EXPECT_EQ(iu_mount(IMG, TOP "/b", "timeout=50"), 0);
	EXPECT_EQ(dev_of(TOP "/a"), dev_of(TOP "/b"));
	umount(TOP "/b");
	EXPECT_EQ(umount(TOP "/a"), 0);
	EXPECT_EQ(umount(TOP "/ov/m"), 0);
	iu_sh("rm -rf " TOP "/ov");
}

TEST(remount_after_umount_gets_a_fresh_super_block)
{
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(iu_mount(IMG, TOP "/a", "timeout=50"), 0);
	EXPECT_EQ(umount(TOP "/a"), 0);
	/* options of a gone mount do not matter */
	ASSERT_EQ(iu_mount(IMG, TOP "/a", "timeout=60"), 0);
	EXPECT_EQ(iu_sh("grep -q ' " TOP "/a incrfs .*timeout=60' /proc/mounts"), 0);
	EXPECT_EQ(umount(TOP "/a"), 0);
}

/*
 * FILL file blocks [0, @n) of f on @mnt from the source, without
 * INCRFS_FILL_SYNC: the bits stay in memory until a commit.  0 or -1.
 */
static int fill_unsynced(const char *mnt, unsigned int n)
{
	static unsigned char data[8][4096];
	struct incrfs_fill_block fb[8];
	struct incrfs_fill arg;
	unsigned int i, at;
	struct stat st;
	char p[128];
	int src, ctl, ret = 0;

	snprintf(p, sizeof(p), "%s/f", mnt);
	if (stat(p, &st))
		return -1;
	src = open(TOP "/src/f", O_RDONLY);
	ctl = iu_open_control(mnt);
	if (src < 0 || ctl < 0)
		ret = -1;
	for (at = 0; !ret && at < n; at += 8) {
		unsigned int cnt = n - at < 8 ? n - at : 8;

		for (i = 0; i < cnt; i++) {
			if (pread(src, data[i], 4096, (at + i) * 4096) != 4096)
				ret = -1;
			fb[i] = (struct incrfs_fill_block){
				.ino = st.st_ino, .block = at + i,
				.data = (uintptr_t)data[i], .len = 4096,
			};
		}
		arg = (struct incrfs_fill){ .blocks = (uintptr_t)fb,
					    .count = cnt };
		if (ret || ioctl(ctl, INCRFS_IOC_FILL, &arg) ||
		    arg.filled != cnt)
			ret = -1;
	}
	if (src >= 0)
		close(src);
	if (ctl >= 0)
		close(ctl);
	return ret;
}

/*
 * A mount of an image while its last mount goes away: the new mount
 * either shares the dying super block before it dies, or gets a fresh one
 * that loads the bitmap only after the old one's last commit.  Either
 * way every block filled through the old mount is present in the new
 * one, and stays present after that one is unmounted in turn.  The
 * umount and the mount run in two processes, started a little apart in
 * every round so that the mount lands at a different point of the
 * teardown.
 */
TEST(mount_racing_the_last_umount_keeps_every_fill)
{
	struct incrfs_stats st;
	unsigned int round, n, shared = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(setup(), 0);
	for (round = 0; round < 24; round++) {
		n = 8 + 4 * (round % 8);	/* 8..36 of 64 blocks */
		ASSERT_EQ(iu_sparse_copy(IMG, TOP "/race.img"), 0);
		ASSERT_EQ(iu_mount(TOP "/race.img", TOP "/a", "timeout=300"), 0);
		ASSERT_EQ(fill_unsynced(TOP "/a", n), 0);

		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			usleep((round % 6) * 300);
			_exit(umount(TOP "/a") ? 1 : 0);
		}
		usleep((round % 8) * 400);
		ASSERT_EQ(iu_mount(TOP "/race.img", TOP "/b", "timeout=300"), 0)
			TH_LOG("round %u: mount during the umount: %s", round,
			       strerror(errno));
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		EXPECT_EQ(status, 0) TH_LOG("round %u: umount failed", round);
		ASSERT_EQ(iu_get_stats(TOP "/b", &st), 0);
		/* the fills counter lives and dies with the super block */
		shared += st.fills == n;
		EXPECT_EQ(st.blocks_present, n)
			TH_LOG("round %u: %llu of %u filled blocks present",
			       round, (unsigned long long)st.blocks_present, n);
		ASSERT_EQ(umount(TOP "/b"), 0);
		/* and on disk: a later mount finds them too */
		ASSERT_EQ(iu_mount(TOP "/race.img", TOP "/b", "timeout=300"), 0);
		ASSERT_EQ(iu_get_stats(TOP "/b", &st), 0);
		EXPECT_EQ(st.blocks_present, n) TH_LOG("round %u, remounted",
						       round);
		ASSERT_EQ(umount(TOP "/b"), 0);
	}
	TH_LOG("%u of 24 mounts shared the dying super block, %u got a new one",
	       shared, 24 - shared);
}

TEST_HARNESS_MAIN
