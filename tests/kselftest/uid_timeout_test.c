// SPDX-License-Identifier: GPL-2.0-only
/*
 * uid_timeout_test.c - per-uid read timeouts name users the way the
 * caller's user namespace does.
 *
 * Container tasks run in user namespaces: root of a container is some
 * high uid of the host.  INCRFS_IOC_SET/GET_UID_TIMEOUT read the uid in
 * the caller's namespace and keep the kernel's uid, so the host's
 * "uid 100000" and the container's "uid 0" are one entry, and a uid the
 * caller's namespace does not map is refused with EINVAL (the kernel once
 * took the number as it came, in whatever namespace).  A timeout above
 * INT_MAX ms is refused with EINVAL too.
 */
#include <sched.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"

#define TOP	"/tmp/uidt"
#define IMG	TOP "/full.img"
#define MNT	TOP "/m"
#define HOST_UID 100000

static int write_str(const char *path, const char *s)
{
	return iu_write_file(path, s, strlen(s), 0644);
}

/*
 * In a child in a new user namespace that maps its uid 0 to HOST_UID:
 * exit 0 if GET of uid 0 returns @want and GET of unmapped uid 5 gives
 * EINVAL, else a code that says which step failed.
 */
static int child_in_userns(unsigned int want)
{
	int go[2], st;
	pid_t pid;
	char path[64], map[64];

	if (pipe(go))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct incrfs_uid_timeout t = { .uid = 0 };
		char c;
		int fd;

		close(go[1]);
		if (unshare(CLONE_NEWUSER))
			_exit(10);
		/* wait until the parent wrote our maps */
		if (read(go[0], &c, 1) != 1)
			_exit(11);
		fd = open(MNT, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			_exit(12);
		if (ioctl(fd, INCRFS_IOC_GET_UID_TIMEOUT, &t))
			_exit(13);
		if (t.timeout_ms != want)
			_exit(14);
		t.uid = 5;
		if (ioctl(fd, INCRFS_IOC_GET_UID_TIMEOUT, &t) != -1 ||
		    errno != EINVAL)
			_exit(15);
		_exit(0);
	}
	close(go[0]);
	/* the child unshares, then we map it: poll until its ns differs */
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	snprintf(map, sizeof(map), "0 %d 1\n", HOST_UID);
	for (int i = 0; i < 500; i++) {
		if (write_str(path, map) == 0)
			break;
		usleep(10000);
	}
	if (write(go[1], "g", 1) != 1)
		return -1;
	close(go[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Pack a small image at IMG, once, and mount it at MNT. */
static int mount_image(void)
{
	if (access(IMG, F_OK)) {
		mkdir(TOP, 0755);
		mkdir(TOP "/src", 0755);
		if (iu_pattern_file(TOP "/src/f", 8192, 3) ||
		    iu_sh("incrfs-pack --full " TOP "/src " IMG " >/dev/null"))
			return -1;
	}
	return iu_mount(IMG, MNT, "timeout=100");
}

TEST(uid_is_read_in_the_callers_namespace)
{
	struct incrfs_uid_timeout t = { .uid = HOST_UID, .timeout_ms = 1234 };
	int fd;

	/* the debug kernel (tinyconfig) has no user namespaces */
	if (access("/proc/self/ns/user", F_OK))
		SKIP(return, "this kernel has no user namespaces (CONFIG_USER_NS)");
	ASSERT_EQ(mount_image(), 0);
	fd = open(MNT, O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ioctl(fd, INCRFS_IOC_SET_UID_TIMEOUT, &t), 0);

	/* the container's root is the host's HOST_UID */
	EXPECT_EQ(child_in_userns(1234), 0);

	/* a uid no namespace maps */
	t.uid = (uint32_t)-1;
	errno = 0;
	EXPECT_EQ(ioctl(fd, INCRFS_IOC_SET_UID_TIMEOUT, &t), -1);
	EXPECT_EQ(errno, EINVAL);
	close(fd);
	EXPECT_EQ(umount(MNT), 0);
}

/*
 * A timeout is at most INT_MAX ms: SET of more is EINVAL and leaves the
 * uid's timeout as it was; ~0U still removes it.
 */
TEST(timeout_above_int_max_is_refused)
{
	static const uint32_t refused[] = { (uint32_t)INT_MAX + 1,
					    UINT32_MAX - 1 };
	struct incrfs_uid_timeout t = { .uid = 4321, .timeout_ms = INT_MAX };
	unsigned int i;
	int fd;

	ASSERT_EQ(mount_image(), 0);
	fd = open(MNT, O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ioctl(fd, INCRFS_IOC_SET_UID_TIMEOUT, &t), 0);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		t.timeout_ms = refused[i];
		errno = 0;
		EXPECT_EQ(ioctl(fd, INCRFS_IOC_SET_UID_TIMEOUT, &t), -1)
			TH_LOG("timeout %u ms", refused[i]);
		EXPECT_EQ(errno, EINVAL) TH_LOG("timeout %u ms", refused[i]);
	}
	t.timeout_ms = 0;
	ASSERT_EQ(ioctl(fd, INCRFS_IOC_GET_UID_TIMEOUT, &t), 0);
	EXPECT_EQ(t.timeout_ms, (uint32_t)INT_MAX);

	t.timeout_ms = UINT32_MAX;
	EXPECT_EQ(ioctl(fd, INCRFS_IOC_SET_UID_TIMEOUT, &t), 0);
	errno = 0;
	EXPECT_EQ(ioctl(fd, INCRFS_IOC_GET_UID_TIMEOUT, &t), -1);
	EXPECT_EQ(errno, ENOENT);
	close(fd);
	EXPECT_EQ(umount(MNT), 0);
}

TEST_HARNESS_MAIN
