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

TEST_HARNESS_MAIN
