// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_log_test.c - incrfsd's log lines: "incrfsd: " and a level tag,
 * one line per message, and a syslog priority prefix only when stderr is
 * the stream $JOURNAL_STREAM names (as systemd sets it for a unit).
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test.
 * Each test runs in its own process (the harness forks), so the cached
 * journal decision starts afresh.
 */
#include "tests/kselftest/harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tools/incrfsd/log.c"

/* stderr into a fresh file; its path into @path. */
static int capture(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/incrfsd-log-%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		return -1;
	close(fd);
	return 0;
}

static void expect_text(struct th_test *_metadata, const char *path,
			const char *want)
{
	char buf[512] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ASSERT_GE(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_GE(n, 0);
	buf[n] = '\0';
	EXPECT_STREQ(want, buf);
	unlink(path);
}

TEST(plain_lines_without_a_journal)
{
	char path[64];

	unsetenv("JOURNAL_STREAM");
	ASSERT_EQ(0, capture(path, sizeof(path)));
	incrfsd_verbosity = 0;
	log_err("e %d", 1);
	log_warn("w");
	log_info("i");
	log_verbose("not shown without -v");
	expect_text(_metadata, path,
		    "incrfsd: error: e 1\nincrfsd: warning: w\nincrfsd: i\n");
}

TEST(priorities_for_the_journal)
{
	char path[64], js[64];
	struct stat st;

	ASSERT_EQ(0, capture(path, sizeof(path)));
	ASSERT_EQ(0, fstat(STDERR_FILENO, &st));
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	incrfsd_verbosity = 2;
	log_err("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	expect_text(_metadata, path,
		    "<3>incrfsd: error: e\n<4>incrfsd: warning: w\n"
		    "<6>incrfsd: i\n<7>incrfsd: d\n");
}

/* A JOURNAL_STREAM inherited by a process whose stderr went elsewhere. */
TEST(another_stream_is_not_the_journal)
{
	char path[64];

	setenv("JOURNAL_STREAM", "1:1", 1);
	ASSERT_EQ(0, capture(path, sizeof(path)));
	log_err("e");
	expect_text(_metadata, path, "incrfsd: error: e\n");
}

TEST(a_node_thread_names_its_mount_and_keeps_its_last_error)
{
	char path[64], last[64];

	unsetenv("JOURNAL_STREAM");
	ASSERT_EQ(0, capture(path, sizeof(path)));
	incrfsd_verbosity = 0;
	incrfsd_log_thread("/mnt/a", last, sizeof(last));
	EXPECT_STREQ("", last);
	log_info("serving");
	log_err("first");
	log_warn("not an error");
	log_err("the blob %s is gone", "b");
	EXPECT_STREQ("the blob b is gone", last);
	incrfsd_log_thread(NULL, NULL, 0);
	log_err("untagged");
	EXPECT_STREQ("the blob b is gone", last);
	expect_text(_metadata, path,
		    "incrfsd: /mnt/a: serving\n"
		    "incrfsd: /mnt/a: error: first\n"
		    "incrfsd: /mnt/a: warning: not an error\n"
		    "incrfsd: /mnt/a: error: the blob b is gone\n"
		    "incrfsd: error: untagged\n");
}

TEST_HARNESS_MAIN
