/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blockdev_util.h - disks for the tests that put an image on a real block
 * device stack (loop, device-mapper, ext4): attach a file to a loop device
 * and write a file without holes.
 *
 * Why this exists: wb_error_test (dm-flakey) and logwrites_test
 * (dm-log-writes) build the same kind of disk; busybox has no losetup
 * that would let a test keep the loop device's lifetime in its hands.
 */
#ifndef INCRFS_TEST_BLOCKDEV_UTIL_H
#define INCRFS_TEST_BLOCKDEV_UTIL_H

#include <linux/loop.h>
#include "tests/kselftest/incrfs_util.h"

/*
 * e2fsprogs' mke2fs, by its path: a static busybox's sh runs its own
 * mke2fs applet (which knows no -t or -O) for the bare name, whatever
 * PATH says.
 */
#define BD_MKE2FS "/usr/sbin/mke2fs"

/*
 * Attach @path to a free loop device (its name in @dev), which goes away
 * with its last user.  Returns an fd of the device: the caller closes it
 * once something else (a dm table, a mount) holds the device.
 */
static inline int bd_loop_attach(const char *path, char *dev, size_t len)
{
	struct loop_info64 info = { .lo_flags = LO_FLAGS_AUTOCLEAR };
	int ctl, nr, fd, lfd;

	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		return -1;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -1;
	snprintf(dev, len, "/dev/loop%d", nr);
	fd = open(path, O_RDWR);
	lfd = open(dev, O_RDWR);
	if (fd < 0 || lfd < 0 || ioctl(lfd, LOOP_SET_FD, fd) ||
	    ioctl(lfd, LOOP_SET_STATUS64, &info)) {
		if (fd >= 0)
			close(fd);
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	close(fd);
	return lfd;
}

/* Write every byte of @from to @to: a fully allocated file, no holes. */
static inline int bd_dense_copy(const char *from, const char *to)
{
	size_t len;
	unsigned char *buf = iu_slurp(from, &len);
	int fd, ret = -1;

	if (!buf)
		return -1;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && write(fd, buf, len) == (ssize_t)len && !fsync(fd))
		ret = 0;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

#endif /* INCRFS_TEST_BLOCKDEV_UTIL_H */
