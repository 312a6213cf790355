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

TEST_HARNESS_MAIN
