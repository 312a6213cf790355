// SPDX-License-Identifier: GPL-2.0-only
/*
 * module_test.c - incrfs.ko loads, registers "incrfs", unloads cleanly.
 *
 * Why this exists: everything else stands on the module loading and
 * unloading without leaks or warnings.  Runs in the QEMU guest as root;
 * the module is $INCRFS_KO.  Being named module_*, the guest does not load
 * the module before it; it leaves the module loaded for the tests after it.
 */
#include "tests/kselftest/harness.h"
#include "tests/kselftest/proc_util.h"

#include <fcntl.h>

#define LOOPS 20

/* Kernel log words that mean something went wrong. */
static const char *const bad_words[] = {
	"BUG", "WARNING", "Oops", "KASAN", "UBSAN", "circular locking",
	"blocked for more than", "Call Trace",
};

static const char *module_path(void)
{
	return getenv("INCRFS_KO");
}

/* Run a shell command; its exit status, or -1 if it did not exit. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Is "incrfs" a line of /proc/filesystems ("nodev\tincrfs")? */
static int fs_registered(void)
{
	char line[256];
	FILE *f = fopen("/proc/filesystems", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *name = strrchr(line, '\t');

		name = name ? name + 1 : line;
		name[strcspn(name, "\n")] = '\0';
		if (!strcmp(name, "incrfs"))
			found = 1;
	}
	fclose(f);
	return found;
}

static int module_in_sysfs(void)
{
	return access("/sys/module/incrfs", F_OK) == 0;
}

/* Count kernel log records since pu_kmsg_open_at_end() holding a bad word. */
static int kmsg_count_bad(int fd)
{
	char rec[8192];
	int bad = 0;
	size_t i;

	while (pu_kmsg_next(fd, rec, sizeof(rec))) {
		for (i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++) {
			if (strstr(rec, bad_words[i])) {
				TH_LOG("kernel log: %s", rec);
				bad++;
				break;
			}
		}
	}
	return bad;
}

/* Start from "not loaded", whatever the tests before left. */
static void ensure_unloaded(struct th_test *_metadata)
{
	int i;

	/*
	 * Processes of earlier test programs (a feeder on its way out) may
	 * hold the module for a moment: give them 10 s, and show what holds
	 * it if that is not enough.
	 */
	for (i = 0; i < 100 && fs_registered() == 1; i++) {
		if (run("rmmod incrfs 2>/dev/null") == 0)
			break;
		usleep(100 * 1000);
	}
	if (fs_registered() == 1) {
		run("grep -E 'incrfs|overlay' /proc/mounts | sed 's/^/# held by mount: /'");
		run("ps -o pid,stat,args | sed 's/^/# ps: /'");
		ASSERT_EQ(0, run("rmmod incrfs"));
	}
	ASSERT_EQ(0, fs_registered());
}

/* Skip the calling test where modules cannot be loaded. */
#define NEED_MODULE() do {						\
	if (!module_path())						\
		SKIP(return, "INCRFS_KO is not set (not in the guest?)"); \
	if (geteuid() != 0)						\
		SKIP(return, "needs root to load modules");		\
} while (0)

TEST(insmod_succeeds)
{
	NEED_MODULE();
	ensure_unloaded(_metadata);
	ASSERT_EQ(0, run("insmod %s", module_path()));
	ASSERT_TRUE(module_in_sysfs());
}

TEST(registers_filesystem)
{
	NEED_MODULE();
	if (fs_registered() != 1)
		ASSERT_EQ(0, run("insmod %s", module_path()));
	ASSERT_EQ(1, fs_registered());
}

TEST(refcount_zero_when_unused)
{
	char buf[32] = "";
	FILE *f;

	NEED_MODULE();
	if (fs_registered() != 1)
		ASSERT_EQ(0, run("insmod %s", module_path()));
	f = fopen("/sys/module/incrfs/refcnt", "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT_STREQ("0\n", buf);
}

TEST(rmmod_unregisters)
{
	NEED_MODULE();
	if (fs_registered() != 1)
		ASSERT_EQ(0, run("insmod %s", module_path()));
	ASSERT_EQ(0, run("rmmod incrfs"));
	ASSERT_EQ(0, fs_registered());
	ASSERT_FALSE(module_in_sysfs());
}

TEST(load_unload_loop_no_warnings)
{
	int fd, i;

	NEED_MODULE();
	ensure_unloaded(_metadata);
	fd = pu_kmsg_open_at_end();
	ASSERT_GE(fd, 0) TH_LOG("/dev/kmsg: %s", strerror(errno));
	for (i = 0; i < LOOPS; i++) {
		ASSERT_EQ(0, run("insmod %s", module_path()))
			TH_LOG("insmod, round %d", i);
		ASSERT_EQ(1, fs_registered()) TH_LOG("round %d", i);
		ASSERT_EQ(0, run("rmmod incrfs")) TH_LOG("rmmod, round %d", i);
		ASSERT_EQ(0, fs_registered()) TH_LOG("round %d", i);
	}
	EXPECT_EQ(0, kmsg_count_bad(fd));
	close(fd);
}

TEST(insmod_twice_fails)
{
	NEED_MODULE();
	if (fs_registered() != 1)
		ASSERT_EQ(0, run("insmod %s", module_path()));
	EXPECT_NE(0, run("insmod %s 2>/dev/null", module_path()));
	ASSERT_EQ(1, fs_registered());
}

/* Last: the tests after this file expect the module loaded. */
TEST(loaded_at_end)
{
	NEED_MODULE();
	if (fs_registered() != 1)
		ASSERT_EQ(0, run("insmod %s", module_path()));
	ASSERT_EQ(1, fs_registered());
}

TEST_HARNESS_MAIN
