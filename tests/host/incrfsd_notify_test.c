// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_notify_test.c - incrfsd's readiness message reaches a service
 * manager listening where $NOTIFY_SOCKET says (a path or an abstract
 * name), and costs nothing when no manager listens.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test.
 */
#include "tests/kselftest/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sys/stat.h>

#include "tools/incrfsd/notify.c"

/* A datagram socket bound to @name (a path, or "@abstract"). */
static int listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sa,
		 offsetof(struct sockaddr_un, sun_path) + len +
		 (name[0] == '/'))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void expect_message(struct th_test *_metadata, int fd,
			   const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ASSERT_GT(n, 0) TH_LOG("nothing received: %s", strerror(errno));
	buf[n] = '\0';
	EXPECT_STREQ(want, buf);
}

TEST(ready_reaches_a_path_socket)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/incrfsd-notify-%d", getpid());
	unlink(path);
	fd = listener(path);
	ASSERT_GE(fd, 0);
	setenv("NOTIFY_SOCKET", path, 1);
	EXPECT_EQ(0, incrfsd_notify("READY=1\nSTATUS=serving"));
	expect_message(_metadata, fd, "READY=1\nSTATUS=serving");
	close(fd);
	unlink(path);
}

TEST(ready_reaches_an_abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@incrfsd-notify-%d", getpid());
	fd = listener(name);
	ASSERT_GE(fd, 0);
	setenv("NOTIFY_SOCKET", name, 1);
	EXPECT_EQ(0, incrfsd_notify("READY=1"));
	expect_message(_metadata, fd, "READY=1");
	close(fd);
}

TEST(no_manager_is_not_an_error)
{
	unsetenv("NOTIFY_SOCKET");
	EXPECT_EQ(0, incrfsd_notify("READY=1"));
	setenv("NOTIFY_SOCKET", "", 1);
	EXPECT_EQ(0, incrfsd_notify("READY=1"));
}

TEST(bad_socket_names_are_errors)
{
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	EXPECT_EQ(-EINVAL, incrfsd_notify("READY=1"));
	setenv("NOTIFY_SOCKET", "/nonexistent/incrfsd-notify", 1);
	EXPECT_EQ(-ENOENT, incrfsd_notify("READY=1"));
}

TEST(fdstore_carries_the_fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	char name[64], buf[128];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	struct stat a, b;
	int fd, pfd[2], got;
	ssize_t n;

	snprintf(name, sizeof(name), "@incrfsd-fdstore-%d", getpid());
	fd = listener(name);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pipe(pfd));
	setenv("NOTIFY_SOCKET", name, 1);
	EXPECT_EQ(0, incrfsd_notify_fd("FDSTORE=1\nFDNAME=m7", pfd[0]));
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	ASSERT_GT(n, 0);
	buf[n] = '\0';
	EXPECT_STREQ("FDSTORE=1\nFDNAME=m7", buf);
	c = CMSG_FIRSTHDR(&mh);
	ASSERT_NOT_NULL(c);
	ASSERT_EQ(SCM_RIGHTS, c->cmsg_type);
	memcpy(&got, CMSG_DATA(c), sizeof(got));
	/* the same pipe, another descriptor of it */
	ASSERT_EQ(0, fstat(got, &a));
	ASSERT_EQ(0, fstat(pfd[0], &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	close(got);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}

TEST_HARNESS_MAIN
